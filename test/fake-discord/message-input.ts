import type { ApiComponent, ApiEmbed, ApiMessageReference } from './api-types.js';
import { MessageFlags } from './api-types.js';
import { DiscordErrors, type FormFieldError } from './http-errors.js';
import type { MultipartFile } from './multipart.js';

/** `allowed_mentions` as sent by a bot. */
export interface AllowedMentions {
  parse?: Array<'users' | 'roles' | 'everyone'>;
  users?: string[];
  roles?: string[];
  replied_user?: boolean;
}

/** One entry of a message body's `attachments` array: a new upload (`id` = its files[n] index) or a kept one. */
export interface AttachmentSpec {
  id: string;
  filename?: string;
  description?: string;
  title?: string;
}

/** A validated message body (create or edit), as sent by the bot in JSON or multipart form. */
export interface MessageInput {
  /** Every top-level field the body had (so an edit only touches the fields that were sent). */
  present: ReadonlySet<string>;
  content?: string;
  embeds?: ApiEmbed[];
  components?: ApiComponent[];
  flags?: number;
  tts?: boolean;
  nonce?: string | number;
  allowedMentions?: AllowedMentions;
  messageReference?: ApiMessageReference;
  attachments?: AttachmentSpec[];
  stickerIds?: string[];
  poll?: unknown;
  files: MultipartFile[];
}

/** Limits applied while validating a message body. */
export interface MessageLimits {
  /** Largest accepted file, bytes. */
  attachmentSizeLimit: number;
  /** Most files in one message. */
  maxFiles: number;
}

const EMBED_LIMITS: ReadonlyArray<[string, (e: ApiEmbed) => unknown, number]> = [
  ['title', (e) => e.title, 256],
  ['description', (e) => e.description, 4096],
  ['footer.text', (e) => e.footer?.text, 2048],
  ['author.name', (e) => e.author?.name, 256],
];

function tooLong(path: string, max: number): FormFieldError {
  return { path, code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${max} or fewer in length.` };
}

function required(path: string): FormFieldError {
  return { path, code: 'BASE_TYPE_REQUIRED', message: 'This field is required' };
}

function validateEmbeds(embeds: unknown, errors: FormFieldError[]): ApiEmbed[] | undefined {
  if (embeds === undefined || embeds === null) return undefined;
  if (!Array.isArray(embeds)) {
    errors.push({ path: 'embeds', code: 'BASE_TYPE_ARRAY', message: 'Must be an array.' });
    return undefined;
  }
  if (embeds.length > 10) errors.push(tooLong('embeds', 10));
  let total = 0;
  embeds.forEach((raw: unknown, index) => {
    if (typeof raw !== 'object' || raw === null) {
      errors.push({ path: `embeds.${index}`, code: 'DICT_TYPE_CONVERT', message: 'Only dictionaries may be used in a DictType' });
      return;
    }
    const embed = raw as ApiEmbed;
    for (const [path, get, max] of EMBED_LIMITS) {
      const value = get(embed);
      if (typeof value === 'string') {
        total += value.length;
        if (value.length > max) errors.push(tooLong(`embeds.${index}.${path}`, max));
      }
    }
    const fields = embed.fields ?? [];
    if (fields.length > 25) errors.push(tooLong(`embeds.${index}.fields`, 25));
    fields.forEach((field, f) => {
      if (typeof field.name !== 'string' || field.name.length === 0) errors.push(required(`embeds.${index}.fields.${f}.name`));
      else if (field.name.length > 256) errors.push(tooLong(`embeds.${index}.fields.${f}.name`, 256));
      if (typeof field.value !== 'string' || field.value.length === 0) errors.push(required(`embeds.${index}.fields.${f}.value`));
      else if (field.value.length > 1024) errors.push(tooLong(`embeds.${index}.fields.${f}.value`, 1024));
      total += (field.name?.length ?? 0) + (field.value?.length ?? 0);
    });
  });
  if (total > 6000) errors.push({ path: 'embeds', code: 'MAX_EMBED_SIZE_EXCEEDED', message: 'Embed size exceeds maximum size of 6000' });
  return embeds as ApiEmbed[];
}

const SELECT_TYPES: ReadonlySet<number> = new Set([3, 5, 6, 7, 8]);

/** Validates message components the way Discord does for classic (non-Components-V2) messages. */
export function validateMessageComponents(components: unknown, flags: number, errors: FormFieldError[]): ApiComponent[] | undefined {
  if (components === undefined || components === null) return undefined;
  if (!Array.isArray(components)) {
    errors.push({ path: 'components', code: 'BASE_TYPE_ARRAY', message: 'Must be an array.' });
    return undefined;
  }
  if ((flags & MessageFlags.IsComponentsV2) !== 0) return components as ApiComponent[];
  if (components.length > 5) errors.push(tooLong('components', 5));
  const customIds = new Set<string>();
  components.forEach((raw: unknown, r) => {
    const row = raw as ApiComponent;
    if (typeof row !== 'object' || row === null || row.type !== 1) {
      errors.push({ path: `components.${r}.type`, code: 'UNION_TYPE_CHOICES', message: 'Value of field "type" must be one of (1,).' });
      return;
    }
    const children = Array.isArray(row.components) ? row.components : [];
    if (children.length === 0)
      errors.push({ path: `components.${r}.components`, code: 'BASE_TYPE_MIN_LENGTH', message: 'Must be 1 or more in length.' });
    const hasSelect = children.some((c) => SELECT_TYPES.has(c.type));
    if (children.length > 5 || (hasSelect && children.length > 1)) {
      errors.push({
        path: `components.${r}.components`,
        code: 'COMPONENT_LAYOUT_WIDTH_EXCEEDED',
        message: 'The specified component exceeds the maximum width',
      });
    }
    children.forEach((child, c) => {
      const path = `components.${r}.components.${c}`;
      if (child.type === 2) {
        const style = child.style;
        if (typeof style !== 'number' || style < 1 || style > 6)
          errors.push({ path: `${path}.style`, code: 'BASE_TYPE_CHOICES', message: 'Value must be one of {1, 2, 3, 4, 5, 6}.' });
        if (style === 5) {
          if (typeof child.url !== 'string') errors.push(required(`${path}.url`));
          if (child.custom_id !== undefined)
            errors.push({
              path: `${path}.custom_id`,
              code: 'BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED',
              message: 'A custom id cannot be specified for this button style',
            });
        } else if (style !== 6 && typeof child.custom_id !== 'string') {
          errors.push(required(`${path}.custom_id`));
        }
        if (typeof child.label === 'string' && child.label.length > 80) errors.push(tooLong(`${path}.label`, 80));
        if (child.label === undefined && child.emoji === undefined)
          errors.push({ path, code: 'BUTTON_COMPONENT_INVALID', message: 'A button must have a label or an emoji' });
      } else if (SELECT_TYPES.has(child.type)) {
        if (typeof child.custom_id !== 'string') errors.push(required(`${path}.custom_id`));
        if (child.type === 3) {
          const options = Array.isArray(child.options) ? child.options : [];
          if (options.length === 0)
            errors.push({ path: `${path}.options`, code: 'BASE_TYPE_MIN_LENGTH', message: 'Must be 1 or more in length.' });
          if (options.length > 25) errors.push(tooLong(`${path}.options`, 25));
        }
      } else {
        errors.push({
          path: `${path}.type`,
          code: 'UNION_TYPE_CHOICES',
          message: 'Value of field "type" must be one of (2, 3, 5, 6, 7, 8).',
        });
      }
      if (typeof child.custom_id === 'string') {
        if (child.custom_id.length === 0)
          errors.push({ path: `${path}.custom_id`, code: 'BASE_TYPE_MIN_LENGTH', message: 'Must be 1 or more in length.' });
        if (child.custom_id.length > 100) errors.push(tooLong(`${path}.custom_id`, 100));
        if (customIds.has(child.custom_id))
          errors.push({
            path: `${path}.custom_id`,
            code: 'COMPONENT_CUSTOM_ID_DUPLICATED',
            message: 'Component custom id cannot be duplicated',
          });
        customIds.add(child.custom_id);
      }
    });
  });
  return components as ApiComponent[];
}

/**
 * Validates a message body as Discord does for create (`POST .../messages`, interaction responses,
 * follow-ups) and edit (`PATCH`) requests. Throws the {@link DiscordErrors} answer Discord would give:
 * 413/40005 for a file over the size limit, 400/50035 with field errors, 400/50006 for an empty new message.
 */
export function parseMessageInput(json: unknown, files: MultipartFile[], limits: MessageLimits, mode: 'create' | 'edit'): MessageInput {
  const body = json ?? {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw DiscordErrors.invalidFormBody([{ path: '', code: 'DICT_TYPE_CONVERT', message: 'Only dictionaries may be used in a DictType' }]);
  }
  for (const file of files) if (file.data.length > limits.attachmentSizeLimit) throw DiscordErrors.entityTooLarge();
  const b = body as Record<string, unknown>;
  const errors: FormFieldError[] = [];
  const input: MessageInput = { present: new Set(Object.keys(b).filter((k) => b[k] !== undefined)), files };
  if (b.content !== undefined && b.content !== null) {
    if (typeof b.content !== 'string') errors.push({ path: 'content', code: 'BASE_TYPE_STRING', message: 'Must be a string.' });
    else if ([...b.content].length > 2000) errors.push(tooLong('content', 2000));
    else input.content = b.content;
  }
  if (b.flags !== undefined && b.flags !== null) {
    if (typeof b.flags !== 'number' || !Number.isInteger(b.flags))
      errors.push({ path: 'flags', code: 'NUMBER_TYPE_COERCE', message: 'Value is not int.' });
    else input.flags = b.flags;
  }
  const embeds = validateEmbeds(b.embeds, errors);
  if (embeds) input.embeds = embeds;
  const components = validateMessageComponents(b.components, input.flags ?? 0, errors);
  if (components) input.components = components;
  if (typeof b.tts === 'boolean') input.tts = b.tts;
  if (typeof b.nonce === 'string' || typeof b.nonce === 'number') input.nonce = b.nonce;
  if (b.allowed_mentions !== undefined && b.allowed_mentions !== null) input.allowedMentions = b.allowed_mentions as AllowedMentions;
  if (b.message_reference !== undefined && b.message_reference !== null) {
    const ref = b.message_reference as ApiMessageReference;
    if (typeof ref !== 'object' || (ref.message_id === undefined && (ref.type ?? 0) === 0))
      errors.push(required('message_reference.message_id'));
    else input.messageReference = ref;
  }
  if (Array.isArray(b.sticker_ids)) input.stickerIds = b.sticker_ids.map(String);
  if (b.poll !== undefined && b.poll !== null) input.poll = b.poll;
  if (b.attachments !== undefined && b.attachments !== null) {
    if (!Array.isArray(b.attachments)) errors.push({ path: 'attachments', code: 'BASE_TYPE_ARRAY', message: 'Must be an array.' });
    else {
      input.attachments = [];
      b.attachments.forEach((raw: unknown, index) => {
        const spec = raw as Record<string, unknown>;
        if (typeof spec !== 'object' || spec === null || (typeof spec.id !== 'string' && typeof spec.id !== 'number')) {
          errors.push(required(`attachments.${index}.id`));
          return;
        }
        input.attachments!.push({
          id: String(spec.id),
          ...(typeof spec.filename === 'string' ? { filename: spec.filename } : {}),
          ...(typeof spec.description === 'string' ? { description: spec.description } : {}),
          ...(typeof spec.title === 'string' ? { title: spec.title } : {}),
        });
      });
    }
  }
  const newFiles = files.length;
  if (newFiles > limits.maxFiles || (input.attachments?.length ?? 0) > limits.maxFiles)
    errors.push(tooLong('attachments', limits.maxFiles));
  if (errors.length > 0) throw DiscordErrors.invalidFormBody(errors);
  if (mode === 'create' && isEmptyMessage(input)) throw DiscordErrors.emptyMessage();
  return input;
}

/** True when a new message would have nothing to show (Discord answers 50006). */
export function isEmptyMessage(input: MessageInput): boolean {
  return (
    (input.content ?? '').trim() === '' &&
    (input.embeds?.length ?? 0) === 0 &&
    input.files.length === 0 &&
    (input.components?.length ?? 0) === 0 &&
    (input.stickerIds?.length ?? 0) === 0 &&
    input.poll === undefined
  );
}
