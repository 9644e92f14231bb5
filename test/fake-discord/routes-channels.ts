import type { ApiMessage } from './api-types.js';
import { ChannelType, GatewayIntent } from './api-types.js';
import type { Core } from './core.js';
import { DiscordErrors } from './http-errors.js';
import { parseMessageInput } from './message-input.js';
import { PermissionFlags } from './permissions.js';
import type { RestRouter, RouteContext } from './rest-router.js';

/**
 * Channel routes: read channel, list/get messages, send/edit/delete messages (JSON or multipart), typing,
 * and the bot's own reactions — with Discord's permission checks (50001 / 50013) and upload limits.
 */
export function registerChannelRoutes(router: RestRouter, core: Core): void {
  const { store } = core;
  const major = ['channelId'];

  /** The channel, if the bot can see it: 10003 when unknown, 50001 without VIEW_CHANNEL or outside the DM. */
  const visibleChannel = (ctx: RouteContext): string => {
    const channelId = ctx.params.channelId ?? '';
    const channel = store.channels.get(channelId);
    if (!channel) throw DiscordErrors.unknownChannel();
    if (channel.guildId === null) {
      if (!channel.recipientIds.includes(core.botUserId)) throw DiscordErrors.missingAccess();
    } else if ((store.permissionsIn(channelId, core.botUserId) & PermissionFlags.ViewChannel) === 0n) {
      throw DiscordErrors.missingAccess();
    }
    return channelId;
  };
  const readable = (message: ApiMessage): ApiMessage => (core.options.privilegedIntents.messageContent ? message : core.redact(message));
  const canReadHistory = (channelId: string): boolean =>
    (store.permissionsIn(channelId, core.botUserId) & PermissionFlags.ReadMessageHistory) !== 0n;
  const findInChannel = (channelId: string, messageId: string | undefined): ApiMessage => {
    const message = messageId ? store.findMessage(messageId) : undefined;
    if (!message || message.channel_id !== channelId) throw DiscordErrors.unknownMessage();
    return message;
  };

  router.add('GET', '/channels/:channelId', (ctx) => ({ body: store.channelJson(visibleChannel(ctx)) }), { major });

  router.add(
    'GET',
    '/channels/:channelId/messages',
    (ctx) => {
      const channelId = visibleChannel(ctx);
      const limit = Number(ctx.query.get('limit') ?? '50');
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
        throw DiscordErrors.invalidFormBody([
          { path: 'limit', code: 'NUMBER_TYPE_MAX', message: 'int value should be less than or equal to 100.' },
        ]);
      }
      if (!canReadHistory(channelId)) return { body: [] };
      const messages = store.requireChannel(channelId).messages;
      const before = ctx.query.get('before');
      const after = ctx.query.get('after');
      const around = ctx.query.get('around');
      let selected: ApiMessage[];
      if (around) {
        const pivot = BigInt(around);
        const older = messages.filter((m) => BigInt(m.id) <= pivot).slice(-Math.ceil(limit / 2));
        const newer = messages.filter((m) => BigInt(m.id) > pivot).slice(0, limit - older.length);
        selected = [...older, ...newer];
      } else if (after) {
        selected = messages.filter((m) => BigInt(m.id) > BigInt(after)).slice(0, limit);
      } else {
        selected = messages.filter((m) => !before || BigInt(m.id) < BigInt(before)).slice(-limit);
      }
      return { body: [...selected].reverse().map(readable) };
    },
    { major },
  );

  router.add(
    'GET',
    '/channels/:channelId/messages/:messageId',
    (ctx) => {
      const channelId = visibleChannel(ctx);
      if (!canReadHistory(channelId)) throw DiscordErrors.missingAccess();
      return { body: readable(findInChannel(channelId, ctx.params.messageId)) };
    },
    { major },
  );

  router.add(
    'POST',
    '/channels/:channelId/messages',
    (ctx) => {
      const channelId = visibleChannel(ctx);
      core.requireTextChannel(channelId);
      const channel = store.requireChannel(channelId);
      const input = parseMessageInput(
        ctx.json,
        ctx.files,
        { attachmentSizeLimit: core.options.attachmentSizeLimit, maxFiles: core.options.maxFilesPerMessage },
        'create',
      );
      if (channel.type === ChannelType.DM) {
        const recipient = channel.recipientIds.find((id) => id !== core.botUserId);
        if (recipient && store.users.get(recipient)?.acceptsDms === false) throw DiscordErrors.cannotMessageUser();
      } else {
        let needed = PermissionFlags.SendMessages;
        if (ctx.files.length > 0) needed |= PermissionFlags.AttachFiles;
        if (input.messageReference) needed |= PermissionFlags.ReadMessageHistory;
        core.requireBotPermissions(channelId, needed);
      }
      const message = core.composeMessage({ channelId, authorId: core.botUserId, input });
      store.addMessage(message);
      core.dispatchMessage('MESSAGE_CREATE', message);
      return { body: message };
    },
    { major },
  );

  router.add(
    'PATCH',
    '/channels/:channelId/messages/:messageId',
    (ctx) => {
      const channelId = visibleChannel(ctx);
      const message = findInChannel(channelId, ctx.params.messageId);
      if (message.author.id !== core.botUserId) throw DiscordErrors.cannotEditOthersMessage();
      const input = parseMessageInput(
        ctx.json,
        ctx.files,
        { attachmentSizeLimit: core.options.attachmentSizeLimit, maxFiles: core.options.maxFilesPerMessage },
        'edit',
      );
      if (ctx.files.length > 0 && store.requireChannel(channelId).guildId !== null)
        core.requireBotPermissions(channelId, PermissionFlags.AttachFiles);
      const edited = core.composeEdit(message, input, false);
      store.replaceMessage(edited);
      core.dispatchMessage('MESSAGE_UPDATE', edited);
      return { body: edited };
    },
    { major },
  );

  router.add(
    'DELETE',
    '/channels/:channelId/messages/:messageId',
    (ctx) => {
      const channelId = visibleChannel(ctx);
      const message = findInChannel(channelId, ctx.params.messageId);
      if (message.author.id !== core.botUserId) core.requireBotPermissions(channelId, PermissionFlags.ManageMessages);
      store.removeMessage(message.id);
      core.dispatchMessageDelete(message);
      return {};
    },
    { major },
  );

  router.add(
    'POST',
    '/channels/:channelId/typing',
    (ctx) => {
      const channelId = visibleChannel(ctx);
      core.requireTextChannel(channelId);
      core.requireBotPermissions(channelId, PermissionFlags.SendMessages);
      core.typing.push({ channelId, at: Date.now() });
      core.events.emit('typing', { channelId });
      return {};
    },
    { major },
  );

  const reactionRoute = '/channels/:channelId/messages/:messageId/reactions/:emoji/@me';
  router.add(
    'PUT',
    reactionRoute,
    (ctx) => {
      const channelId = visibleChannel(ctx);
      const message = findInChannel(channelId, ctx.params.messageId);
      core.requireBotPermissions(channelId, PermissionFlags.AddReactions | PermissionFlags.ReadMessageHistory);
      const emoji = parseEmoji(ctx.params.emoji ?? '');
      const reactions = (message.reactions as Array<Record<string, unknown>> | undefined) ?? [];
      const existing = reactions.find((r) => sameEmoji(r.emoji, emoji));
      if (existing?.me) return {};
      const updated: ApiMessage = {
        ...message,
        reactions: existing
          ? reactions.map((r) => (r === existing ? { ...r, count: Number(r.count) + 1, me: true } : r))
          : [
              ...reactions,
              {
                emoji,
                count: 1,
                count_details: { burst: 0, normal: 1 },
                burst_colors: [],
                me_burst: false,
                burst_me: false,
                me: true,
                burst_count: 0,
              },
            ],
      };
      store.replaceMessage(updated);
      const channel = store.requireChannel(channelId);
      core.gateway.dispatch(
        'MESSAGE_REACTION_ADD',
        {
          user_id: core.botUserId,
          channel_id: channelId,
          message_id: message.id,
          emoji,
          burst: false,
          type: 0,
          message_author_id: message.author.id,
          ...(channel.guildId ? { guild_id: channel.guildId } : {}),
        },
        { guildId: channel.guildId, intents: channel.guildId ? GatewayIntent.GuildMessageReactions : GatewayIntent.DirectMessageReactions },
      );
      return {};
    },
    { major },
  );
  router.add(
    'DELETE',
    reactionRoute,
    (ctx) => {
      const channelId = visibleChannel(ctx);
      const message = findInChannel(channelId, ctx.params.messageId);
      const emoji = parseEmoji(ctx.params.emoji ?? '');
      const reactions = (message.reactions as Array<Record<string, unknown>> | undefined) ?? [];
      const next = reactions
        .map((r) => (sameEmoji(r.emoji, emoji) && r.me ? { ...r, count: Number(r.count) - 1, me: false } : r))
        .filter((r) => Number(r.count) > 0);
      store.replaceMessage({ ...message, reactions: next });
      return {};
    },
    { major },
  );
}

function parseEmoji(raw: string): { id: string | null; name: string } {
  const custom = /^(?:a:)?([^:]+):(\d{17,20})$/.exec(raw);
  return custom ? { id: custom[2] ?? null, name: custom[1] ?? '' } : { id: null, name: raw };
}

function sameEmoji(a: unknown, b: { id: string | null; name: string }): boolean {
  const e = a as { id?: string | null; name?: string };
  return (e.id ?? null) === b.id && (b.id !== null || e.name === b.name);
}
