import type { ApiCommand, ApiCommandBody, ApiCommandOption } from './api-types.js';
import { OptionType } from './api-types.js';
import type { Core } from './core.js';
import { DiscordErrors, DiscordHttpError, type FormFieldError } from './http-errors.js';
import type { RestRouter, RouteContext } from './rest-router.js';

const CHAT_INPUT_NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
const DAY_MS = 24 * 3600 * 1000;

function checkName(name: unknown, path: string, chatInput: boolean, errors: FormFieldError[]): void {
  if (typeof name !== 'string' || name.length === 0) {
    errors.push({ path, code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
  } else if (chatInput ? !CHAT_INPUT_NAME.test(name) || name !== name.toLowerCase() : name.length > 32) {
    errors.push({ path, code: 'APPLICATION_COMMAND_INVALID_NAME', message: `Command name is invalid` });
  }
}

function checkDescription(description: unknown, path: string, errors: FormFieldError[]): void {
  if (typeof description !== 'string' || description.length === 0)
    errors.push({ path, code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
  else if (description.length > 100) errors.push({ path, code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 100 or fewer in length.' });
}

function checkOptions(options: unknown, path: string, depth: number, errors: FormFieldError[]): ApiCommandOption[] | undefined {
  if (options === undefined || options === null) return undefined;
  if (!Array.isArray(options)) {
    errors.push({ path, code: 'BASE_TYPE_ARRAY', message: 'Must be an array.' });
    return undefined;
  }
  if (options.length > 25) errors.push({ path, code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' });
  const names = new Set<string>();
  let sawOptional = false;
  options.forEach((raw: unknown, index) => {
    const option = raw as ApiCommandOption;
    const at = `${path}.${index}`;
    if (typeof option !== 'object' || option === null) return;
    if (typeof option.type !== 'number' || option.type < 1 || option.type > 11) {
      errors.push({ path: `${at}.type`, code: 'BASE_TYPE_CHOICES', message: 'Value must be one of {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}.' });
    }
    checkName(option.name, `${at}.name`, true, errors);
    checkDescription(option.description, `${at}.description`, errors);
    if (typeof option.name === 'string') {
      if (names.has(option.name))
        errors.push({ path: `${at}.name`, code: 'APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS', message: 'Option name already exists' });
      names.add(option.name);
    }
    const isSub = option.type === OptionType.Subcommand || option.type === OptionType.SubcommandGroup;
    if (isSub) {
      if (depth >= (option.type === OptionType.SubcommandGroup ? 1 : 2)) {
        errors.push({ path: `${at}.type`, code: 'APPLICATION_COMMAND_OPTION_TYPE_INVALID', message: 'Sub-command nesting is too deep' });
      }
      checkOptions(option.options, `${at}.options`, depth + 1, errors);
    } else {
      if (option.required === true && sawOptional) {
        errors.push({
          path: `${at}.required`,
          code: 'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID',
          message: 'Required options must be placed before non-required options',
        });
      }
      if (option.required !== true) sawOptional = true;
      if (Array.isArray(option.choices) && option.choices.length > 25) {
        errors.push({ path: `${at}.choices`, code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 25 or fewer in length.' });
      }
    }
  });
  return options as ApiCommandOption[];
}

/** Validates a command body as Discord does and returns its stored form (without id/version). */
export function normalizeCommand(body: unknown, applicationId: string, guildId: string | null): ApiCommandBody {
  const errors: FormFieldError[] = [];
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw DiscordErrors.invalidFormBody([{ path: '', code: 'DICT_TYPE_CONVERT', message: 'Only dictionaries may be used in a DictType' }]);
  }
  const b = body as Record<string, unknown>;
  const type = b.type === undefined || b.type === null ? 1 : b.type;
  if (type !== 1 && type !== 2 && type !== 3 && type !== 4)
    errors.push({ path: 'type', code: 'BASE_TYPE_CHOICES', message: 'Value must be one of {1, 2, 3, 4}.' });
  const chatInput = type === 1;
  checkName(b.name, 'name', chatInput, errors);
  if (chatInput) checkDescription(b.description, 'description', errors);
  else if (typeof b.description === 'string' && b.description !== '') {
    errors.push({
      path: 'description',
      code: 'APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION',
      message: 'Context menu commands cannot have description',
    });
  }
  const options = chatInput ? checkOptions(b.options, 'options', 0, errors) : undefined;
  if (
    b.default_member_permissions !== undefined &&
    b.default_member_permissions !== null &&
    !/^\d+$/.test(String(b.default_member_permissions))
  ) {
    errors.push({ path: 'default_member_permissions', code: 'PERMISSIONS_INVALID', message: 'Invalid permissions' });
  }
  if (errors.length > 0) throw DiscordErrors.invalidFormBody(errors);
  return {
    application_id: applicationId,
    type: type as number,
    name: b.name as string,
    name_localizations: (b.name_localizations as Record<string, string> | undefined) ?? null,
    description: chatInput ? (b.description as string) : '',
    description_localizations: (b.description_localizations as Record<string, string> | undefined) ?? null,
    ...(guildId ? { guild_id: guildId } : {}),
    ...(options ? { options } : {}),
    default_member_permissions:
      b.default_member_permissions === undefined || b.default_member_permissions === null ? null : String(b.default_member_permissions),
    ...(guildId ? {} : { dm_permission: b.dm_permission !== false }),
    contexts: (b.contexts as number[] | undefined) ?? null,
    integration_types: (b.integration_types as number[] | undefined) ?? [0],
    nsfw: b.nsfw === true,
  };
}

function sameCommand(a: ApiCommandBody, b: ApiCommandBody): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Application command routes, global and per guild: list, bulk overwrite (PUT), create/upsert (POST),
 * get, edit, delete — with Discord's validation, per-scope limits, and the daily creation limit.
 */
export function registerCommandRoutes(router: RestRouter, core: Core): void {
  const { store } = core;

  const scopeOf = (ctx: RouteContext): string => {
    if (ctx.params.applicationId !== core.applicationId) throw DiscordErrors.missingAccess();
    const guildId = ctx.params.guildId;
    if (guildId === undefined) return 'global';
    const guild = store.guilds.get(guildId);
    if (!guild || !guild.members.has(core.botUserId)) throw DiscordErrors.missingAccess();
    return guildId;
  };
  const list = (scope: string): ApiCommand[] => store.commands.get(scope) ?? [];

  const countCreation = (scope: string): void => {
    const now = Date.now();
    const recent = (store.commandCreations.get(scope) ?? []).filter((t) => now - t < DAY_MS);
    if (recent.length >= core.options.dailyCommandCreateLimit) {
      const retryAfter = ((recent[0] ?? now) + DAY_MS - now) / 1000;
      throw DiscordErrors.dailyCommandCreates(core.options.dailyCommandCreateLimit, retryAfter);
    }
    recent.push(now);
    store.commandCreations.set(scope, recent);
  };
  const checkCounts = (commands: ReadonlyArray<{ type: number }>): void => {
    const byType = (t: number): number => commands.filter((c) => c.type === t).length;
    if (byType(1) > 100 || byType(2) > 15 || byType(3) > 15) throw DiscordErrors.maxCommands();
  };

  for (const prefix of ['/applications/:applicationId', '/applications/:applicationId/guilds/:guildId']) {
    const major = prefix.includes(':guildId') ? ['applicationId', 'guildId'] : ['applicationId'];
    router.add('GET', `${prefix}/commands`, (ctx) => ({ body: list(scopeOf(ctx)) }), { major });

    router.add(
      'PUT',
      `${prefix}/commands`,
      (ctx) => {
        const scope = scopeOf(ctx);
        if (!Array.isArray(ctx.json))
          throw DiscordErrors.invalidFormBody([{ path: '', code: 'BASE_TYPE_ARRAY', message: 'Must be an array.' }]);
        const guildId = scope === 'global' ? null : scope;
        const normalized = ctx.json.map((body: unknown, index) => {
          try {
            return normalizeCommand(body, core.applicationId, guildId);
          } catch (error) {
            if (error instanceof DiscordHttpError && error.code === 50035) {
              // In a bulk body the field paths are prefixed with the command's index.
              throw new DiscordHttpError(400, { ...error.body, errors: { [index]: error.body.errors } });
            }
            throw error;
          }
        });
        const names = new Set<string>();
        normalized.forEach((c, index) => {
          const key = `${c.type}:${c.name}`;
          if (names.has(key))
            throw DiscordErrors.invalidFormBody([
              { path: `${index}.name`, code: 'APPLICATION_COMMANDS_DUPLICATE_NAME', message: `Application command names must be unique` },
            ]);
          names.add(key);
        });
        checkCounts(normalized);
        const previous = list(scope);
        const next: ApiCommand[] = normalized.map((c) => {
          const existing = previous.find((p) => p.type === c.type && p.name === c.name);
          if (existing) {
            const { id: _id, version: _version, ...existingBody } = existing;
            return sameCommand(existingBody, c) ? existing : { ...c, id: existing.id, version: core.snowflakes.next() };
          }
          countCreation(scope);
          return { ...c, id: core.snowflakes.next(), version: core.snowflakes.next() };
        });
        store.commands.set(scope, next);
        return { body: next };
      },
      { major },
    );

    router.add(
      'POST',
      `${prefix}/commands`,
      (ctx) => {
        const scope = scopeOf(ctx);
        const command = normalizeCommand(ctx.json, core.applicationId, scope === 'global' ? null : scope);
        const commands = list(scope);
        const index = commands.findIndex((c) => c.type === command.type && c.name === command.name);
        if (index >= 0) {
          const existing = commands[index]!;
          const updated = { ...command, id: existing.id, version: core.snowflakes.next() };
          commands[index] = updated;
          return { status: 200, body: updated };
        }
        checkCounts([...commands, command]);
        countCreation(scope);
        const created = { ...command, id: core.snowflakes.next(), version: core.snowflakes.next() };
        store.commands.set(scope, [...commands, created]);
        return { status: 201, body: created };
      },
      { major },
    );

    router.add(
      'GET',
      `${prefix}/commands/:commandId`,
      (ctx) => {
        const command = list(scopeOf(ctx)).find((c) => c.id === ctx.params.commandId);
        if (!command) throw DiscordErrors.unknownCommand();
        return { body: command };
      },
      { major },
    );

    router.add(
      'PATCH',
      `${prefix}/commands/:commandId`,
      (ctx) => {
        const scope = scopeOf(ctx);
        const commands = list(scope);
        const index = commands.findIndex((c) => c.id === ctx.params.commandId);
        const existing = commands[index];
        if (!existing) throw DiscordErrors.unknownCommand();
        const { id, version: _version, ...rest } = existing;
        const merged = normalizeCommand({ ...rest, ...(ctx.json as object) }, core.applicationId, scope === 'global' ? null : scope);
        const updated = { ...merged, id, version: core.snowflakes.next() };
        commands[index] = updated;
        return { body: updated };
      },
      { major },
    );

    router.add(
      'DELETE',
      `${prefix}/commands/:commandId`,
      (ctx) => {
        const scope = scopeOf(ctx);
        const commands = list(scope);
        const index = commands.findIndex((c) => c.id === ctx.params.commandId);
        if (index < 0) throw DiscordErrors.unknownCommand();
        commands.splice(index, 1);
        return {};
      },
      { major },
    );
  }
}
