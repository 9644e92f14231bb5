import type { ApiComponent, ApiMessage } from './api-types.js';
import { InteractionResponseType as R, InteractionType as T, MessageFlags, MessageType } from './api-types.js';
import type { Core } from './core.js';
import { DiscordErrors, DiscordHttpError, type FormFieldError } from './http-errors.js';
import { recordStep, type InteractionRecord } from './interaction.js';
import { parseMessageInput, type MessageInput } from './message-input.js';
import type { RestRouter, RouteContext } from './rest-router.js';

/** Callback types Discord accepts per interaction type. */
function allowedCallbackTypes(record: InteractionRecord): number[] {
  switch (record.type) {
    case T.ApplicationCommand:
      return [R.ChannelMessageWithSource, R.DeferredChannelMessageWithSource, R.Modal];
    case T.MessageComponent:
      return [R.ChannelMessageWithSource, R.DeferredChannelMessageWithSource, R.DeferredMessageUpdate, R.UpdateMessage, R.Modal];
    case T.ApplicationCommandAutocomplete:
      return [R.ApplicationCommandAutocompleteResult];
    case T.ModalSubmit:
      return record.sourceMessageId
        ? [R.ChannelMessageWithSource, R.DeferredChannelMessageWithSource, R.DeferredMessageUpdate, R.UpdateMessage]
        : [R.ChannelMessageWithSource, R.DeferredChannelMessageWithSource];
    default:
      return [R.Pong];
  }
}

const TEXT_INPUT = 4;
const LABEL = 18;
const TEXT_DISPLAY = 10;
const FILE_UPLOAD = 19;
const MODAL_FIELD_TYPES: ReadonlySet<number> = new Set([TEXT_INPUT, 3, 5, 6, 7, 8, FILE_UPLOAD, 21, 22, 23]);

/** Validates a modal (callback type 9) as Discord does: custom id, title, 1–5 rows or labels. */
function validateModal(data: unknown): void {
  const errors: FormFieldError[] = [];
  const d = (data ?? {}) as { custom_id?: unknown; title?: unknown; components?: unknown };
  if (typeof d.custom_id !== 'string' || d.custom_id.length === 0)
    errors.push({ path: 'data.custom_id', code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
  else if (d.custom_id.length > 100)
    errors.push({ path: 'data.custom_id', code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 100 or fewer in length.' });
  if (typeof d.title !== 'string' || d.title.length === 0)
    errors.push({ path: 'data.title', code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
  else if (d.title.length > 45)
    errors.push({ path: 'data.title', code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 45 or fewer in length.' });
  const components = Array.isArray(d.components) ? (d.components as ApiComponent[]) : [];
  if (components.length === 0)
    errors.push({ path: 'data.components', code: 'BASE_TYPE_MIN_LENGTH', message: 'Must be 1 or more in length.' });
  if (components.length > 5)
    errors.push({ path: 'data.components', code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 5 or fewer in length.' });
  components.forEach((component, index) => {
    const path = `data.components.${index}`;
    let field: ApiComponent | undefined;
    if (component.type === 1) {
      const children = component.components ?? [];
      if (children.length !== 1 || children[0]?.type !== TEXT_INPUT) {
        errors.push({
          path: `${path}.components`,
          code: 'COMPONENT_LAYOUT_WIDTH_EXCEEDED',
          message: 'An action row in a modal holds exactly one text input',
        });
      }
      field = children[0];
    } else if (component.type === LABEL) {
      if (typeof component.label !== 'string' || component.label.length === 0)
        errors.push({ path: `${path}.label`, code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
      else if (component.label.length > 45)
        errors.push({ path: `${path}.label`, code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 45 or fewer in length.' });
      field = component.component;
      if (!field || !MODAL_FIELD_TYPES.has(field.type))
        errors.push({ path: `${path}.component`, code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
    } else if (component.type !== TEXT_DISPLAY) {
      errors.push({ path: `${path}.type`, code: 'UNION_TYPE_CHOICES', message: 'Value of field "type" must be one of (1, 10, 18).' });
    }
    if (field) {
      const fieldPath = component.type === 1 ? `${path}.components.0` : `${path}.component`;
      if (typeof field.custom_id !== 'string' || field.custom_id.length === 0)
        errors.push({ path: `${fieldPath}.custom_id`, code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
      if (field.type === TEXT_INPUT) {
        if (field.style !== 1 && field.style !== 2)
          errors.push({ path: `${fieldPath}.style`, code: 'BASE_TYPE_CHOICES', message: 'Value must be one of {1, 2}.' });
        if (component.type === 1 && (typeof field.label !== 'string' || field.label.length === 0))
          errors.push({ path: `${fieldPath}.label`, code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
        if (typeof field.max_length === 'number' && (field.max_length < 1 || field.max_length > 4000))
          errors.push({
            path: `${fieldPath}.max_length`,
            code: 'NUMBER_TYPE_MAX',
            message: 'int value should be less than or equal to 4000.',
          });
      }
    }
  });
  if (errors.length > 0) throw DiscordErrors.invalidFormBody(errors);
}

/** The interaction metadata Discord puts on messages created through an interaction. */
function interactionExtras(core: Core, record: InteractionRecord, followUp: boolean): Partial<ApiMessage> {
  const user = core.store.userJson(record.userId);
  const metadata: Record<string, unknown> = {
    id: record.id,
    type: record.type,
    user,
    authorizing_integration_owners: { '0': record.guildId ?? '0' },
    ...(record.commandName !== null ? { name: record.commandName } : {}),
    ...(record.type === T.MessageComponent && record.sourceMessageId ? { interacted_message_id: record.sourceMessageId } : {}),
    ...(followUp && record.originalMessageId ? { original_response_message_id: record.originalMessageId } : {}),
  };
  return {
    webhook_id: record.applicationId,
    application_id: record.applicationId,
    interaction_metadata: metadata,
    ...(record.type === T.ApplicationCommand
      ? { interaction: { id: record.id, type: record.type, name: record.commandName ?? '', user } }
      : {}),
  };
}

/**
 * Interaction routes: `POST /interactions/{id}/{token}/callback` (types 4, 5, 6, 7, 8, 9, with
 * `?with_response`) and the webhook routes of the interaction token (original response, follow-ups) —
 * with Discord's rules: acknowledge within the deadline (10062), once only (40060), token lifetime (50027).
 */
export function registerInteractionRoutes(router: RestRouter, core: Core): void {
  const limitsOf = (record: InteractionRecord): { attachmentSizeLimit: number; maxFiles: number } => ({
    attachmentSizeLimit: record.attachmentSizeLimit,
    maxFiles: core.options.maxFilesPerMessage,
  });

  router.add(
    'POST',
    '/interactions/:interactionId/:token/callback',
    (ctx) => {
      const record = core.interactions.get(ctx.params.interactionId ?? '');
      if (!record || record.token !== ctx.params.token) throw DiscordErrors.unknownInteraction();
      const body = (ctx.json ?? {}) as { type?: unknown; data?: unknown };
      const type = typeof body.type === 'number' ? body.type : null;
      try {
        if (Date.now() > record.ackDeadline) throw DiscordErrors.unknownInteraction();
        if (record.ack) throw DiscordErrors.alreadyAcknowledged();
        const allowed = allowedCallbackTypes(record);
        if (type === null || !allowed.includes(type)) {
          throw DiscordErrors.invalidFormBody([
            { path: 'type', code: 'BASE_TYPE_CHOICES', message: `Value must be one of {${allowed.join(', ')}}.` },
          ]);
        }
        const result = applyCallback(core, record, type, body.data, ctx, limitsOf(record));
        record.ack = { type, at: Date.now(), data: body.data ?? null };
        recordStep(record, { kind: 'callback', type, data: body.data ?? null });
        if (ctx.query.get('with_response') !== 'true') return {};
        const original = record.originalMessageId ? core.findAnyMessage(record.originalMessageId) : undefined;
        return {
          status: 200,
          body: {
            interaction: {
              id: record.id,
              type: record.type,
              ...(original
                ? {
                    response_message_id: original.id,
                    response_message_loading: (original.flags & MessageFlags.Loading) !== 0,
                    response_message_ephemeral: (original.flags & MessageFlags.Ephemeral) !== 0,
                  }
                : {}),
            },
            // The resource carries a message only for types 4 and 7 (Discord: Interaction Callback Resource Object).
            resource: { type, ...(result && (type === R.ChannelMessageWithSource || type === R.UpdateMessage) ? { message: result } : {}) },
          },
        };
      } catch (error) {
        if (error instanceof DiscordHttpError) {
          recordStep(record, { kind: 'callbackRejected', type, status: error.status, code: error.code, message: error.body.message });
        }
        throw error;
      }
    },
    { auth: 'none', global: false },
  );

  /** The interaction of a webhook call, enforcing the token lifetime; records refused calls as steps. */
  const webhookRecord = (ctx: RouteContext, route: string): InteractionRecord => {
    const record = core.interactionsByToken.get(ctx.params.token ?? '');
    if (!record) throw DiscordErrors.invalidWebhookToken();
    const refuse = (error: DiscordHttpError): never => {
      recordStep(record, {
        kind: 'webhookRejected',
        method: ctx.method,
        route,
        status: error.status,
        code: error.code,
        message: error.body.message,
      });
      throw error;
    };
    if (ctx.params.applicationId !== record.applicationId) refuse(DiscordErrors.unknownWebhook());
    if (Date.now() > record.tokenExpiresAt) refuse(DiscordErrors.invalidWebhookToken());
    // Discord invalidates the token of an interaction not acknowledged within the deadline.
    if (!record.ack) refuse(Date.now() > record.ackDeadline ? DiscordErrors.invalidWebhookToken() : DiscordErrors.unknownWebhook());
    return record;
  };
  /** `@original` or a follow-up id of this interaction; 10008 for anything else. */
  const webhookMessage = (record: InteractionRecord, messageId: string): ApiMessage => {
    const id = messageId === '@original' ? record.originalMessageId : messageId;
    const mine = id !== null && (id === record.originalMessageId || record.followUpIds.includes(id));
    const message = mine && id !== null ? core.findAnyMessage(id) : undefined;
    if (!message) throw DiscordErrors.unknownMessage();
    return message;
  };

  const messageRoute = '/webhooks/:applicationId/:token/messages/:messageId';
  const major = ['applicationId', 'token'];

  router.add(
    'GET',
    messageRoute,
    (ctx) => {
      const record = webhookRecord(ctx, `GET ${messageRoute}`);
      return { body: webhookMessage(record, ctx.params.messageId ?? '') };
    },
    { auth: 'none', major, global: false },
  );

  router.add(
    'PATCH',
    messageRoute,
    (ctx) => {
      const record = webhookRecord(ctx, `PATCH ${messageRoute}`);
      const message = webhookMessage(record, ctx.params.messageId ?? '');
      const input = parseMessageInput(ctx.json, ctx.files, limitsOf(record), 'edit');
      const isOriginal = message.id === record.originalMessageId;
      const base = isOriginal && record.loading ? { ...message, flags: message.flags & ~MessageFlags.Loading } : message;
      const edited = core.composeEdit(base, input, (message.flags & MessageFlags.Ephemeral) !== 0);
      if (isOriginal) record.loading = false;
      core.keepEditedMessage(edited);
      recordStep(record, isOriginal ? { kind: 'originalEdited', message: edited } : { kind: 'followUpEdited', message: edited });
      return { body: edited };
    },
    { auth: 'none', major, global: false },
  );

  router.add(
    'DELETE',
    messageRoute,
    (ctx) => {
      const record = webhookRecord(ctx, `DELETE ${messageRoute}`);
      const message = webhookMessage(record, ctx.params.messageId ?? '');
      core.deleteAnyMessage(message);
      recordStep(
        record,
        message.id === record.originalMessageId
          ? { kind: 'originalDeleted', messageId: message.id }
          : { kind: 'followUpDeleted', messageId: message.id },
      );
      return {};
    },
    { auth: 'none', major, global: false },
  );

  router.add(
    'POST',
    '/webhooks/:applicationId/:token',
    (ctx) => {
      const record = webhookRecord(ctx, 'POST /webhooks/:applicationId/:token');
      const input = parseMessageInput(ctx.json, ctx.files, limitsOf(record), 'create');
      const original = record.originalMessageId ? core.findAnyMessage(record.originalMessageId) : undefined;
      let message: ApiMessage;
      let filledOriginal = false;
      if (record.loading && original && record.followUpIds.length === 0) {
        // Documented backwards compatibility: right after a type-5 deferral, "create followup" edits the loading
        // message instead (its ephemeral state is kept, the body's flag ignored).
        const base = { ...original, flags: original.flags & ~MessageFlags.Loading };
        message = core.composeEdit(
          base,
          { ...input, present: new Set([...input.present, 'content', 'embeds', 'components']) },
          (original.flags & MessageFlags.Ephemeral) !== 0,
        );
        record.loading = false;
        filledOriginal = true;
        core.keepEditedMessage(message);
      } else {
        message = core.composeMessage({
          channelId: record.channelId,
          authorId: core.botUserId,
          input,
          type: MessageType.Default,
          extra: interactionExtras(core, record, true),
        });
        core.keepNewMessage(message, record);
        record.followUpIds.push(message.id);
      }
      recordStep(record, { kind: 'followUp', message, filledOriginal });
      // For interaction follow-ups `wait` is always true.
      return { body: message };
    },
    { auth: 'none', major, global: false },
  );
}

/** Carries out an accepted callback; returns the message it created or changed (for `with_response`). */
function applyCallback(
  core: Core,
  record: InteractionRecord,
  type: number,
  data: unknown,
  ctx: RouteContext,
  limits: { attachmentSizeLimit: number; maxFiles: number },
): ApiMessage | null {
  switch (type) {
    case R.ChannelMessageWithSource: {
      const input = parseMessageInput(data, ctx.files, limits, 'create');
      const message = core.composeMessage({
        channelId: record.channelId,
        authorId: core.botUserId,
        input,
        type: record.responseMessageType,
        extra: interactionExtras(core, record, false),
      });
      core.keepNewMessage(message, record);
      record.originalMessageId = message.id;
      return message;
    }
    case R.DeferredChannelMessageWithSource: {
      const flags = ((data as { flags?: unknown } | undefined)?.flags as number | undefined) ?? 0;
      const input: MessageInput = { present: new Set(), files: [] };
      const message = core.composeMessage({
        channelId: record.channelId,
        authorId: core.botUserId,
        input,
        type: record.responseMessageType,
        extra: interactionExtras(core, record, false),
      });
      message.flags = MessageFlags.Loading | (flags & MessageFlags.Ephemeral);
      core.keepNewMessage(message, record);
      record.originalMessageId = message.id;
      record.loading = true;
      return message;
    }
    case R.DeferredMessageUpdate:
      record.originalMessageId = record.sourceMessageId;
      return null;
    case R.UpdateMessage: {
      const source = record.sourceMessageId ? core.findAnyMessage(record.sourceMessageId) : undefined;
      if (!source) throw DiscordErrors.unknownMessage();
      const input = parseMessageInput(data ?? {}, ctx.files, limits, 'edit');
      const edited = core.composeEdit(source, input, (source.flags & MessageFlags.Ephemeral) !== 0);
      core.keepEditedMessage(edited);
      record.originalMessageId = source.id;
      return edited;
    }
    case R.ApplicationCommandAutocompleteResult: {
      const choices = (data as { choices?: unknown } | undefined)?.choices;
      if (choices !== undefined && (!Array.isArray(choices) || choices.length > 25)) {
        throw DiscordErrors.invalidFormBody([
          { path: 'data.choices', code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' },
        ]);
      }
      return null;
    }
    case R.Modal:
      validateModal(data);
      return null;
    default:
      return null;
  }
}
