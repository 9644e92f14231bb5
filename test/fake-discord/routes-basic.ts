import type { Core } from './core.js';
import { DiscordErrors } from './http-errors.js';
import type { RestRouter } from './rest-router.js';
import { ChannelType } from './api-types.js';

/** The gateway URL the bot is told to connect to. */
export function gatewayUrl(core: Core): string {
  return `${core.baseUrl.replace(/^http/, 'ws')}/gateway`;
}

/** `GET /gateway[/bot]`, `/users/...`, `/applications/@me` and the guild read routes. */
export function registerBasicRoutes(router: RestRouter, core: Core, ownerId: () => string): void {
  const { store } = core;

  router.add('GET', '/gateway', () => ({ body: { url: gatewayUrl(core) } }), { auth: 'none' });
  router.add('GET', '/gateway/bot', () => ({
    body: {
      url: gatewayUrl(core),
      shards: core.options.recommendedShards,
      session_start_limit: {
        total: core.options.sessionStartLimit,
        remaining: core.sessionStartRemaining,
        reset_after: 14_400_000,
        max_concurrency: core.options.maxConcurrency,
      },
    },
  }));

  const currentUser = (): Record<string, unknown> => ({
    ...core.botUser(),
    verified: true,
    mfa_enabled: false,
    email: null,
    locale: 'en-US',
    premium_type: 0,
  });
  router.add('GET', '/users/@me', () => ({ body: currentUser() }));
  router.add('GET', '/users/@me/guilds', () => ({
    body: [...store.guilds.values()]
      .filter((g) => g.members.has(core.botUserId))
      .map((g) => ({
        id: g.id,
        name: g.name,
        icon: null,
        banner: null,
        owner: g.ownerId === core.botUserId,
        permissions: [...g.roles.values()]
          .filter((r) => r.id === g.id || (g.members.get(core.botUserId)?.roles.includes(r.id) ?? false))
          .reduce((acc, r) => acc | r.permissions, 0n)
          .toString(),
        features: [],
      })),
  }));
  router.add('POST', '/users/@me/channels', (ctx) => {
    const recipientId = (ctx.json as { recipient_id?: unknown } | undefined)?.recipient_id;
    if (typeof recipientId !== 'string' || !store.users.has(recipientId)) {
      throw DiscordErrors.invalidFormBody([{ path: 'recipient_id', code: 'BASE_TYPE_REQUIRED', message: 'This field is required' }]);
    }
    const channel = store.findDmChannel(recipientId) ?? createDm(core, recipientId);
    return { body: store.channelJson(channel.id) };
  });
  router.add('GET', '/users/:userId', (ctx) => {
    if (!store.users.has(ctx.params.userId ?? '')) throw DiscordErrors.unknownUser();
    return { body: store.userJson(ctx.params.userId ?? '') };
  });

  const application = (): Record<string, unknown> => ({
    id: core.applicationId,
    name: core.options.botUsername,
    icon: null,
    description: '',
    summary: '',
    type: null,
    hook: true,
    bot_public: true,
    bot_require_code_grant: false,
    verify_key: 'a'.repeat(64),
    flags: core.applicationFlags(),
    owner: store.userJson(ownerId()),
    team: null,
    bot: core.botUser(),
    redirect_uris: [],
    interactions_endpoint_url: null,
    role_connections_verification_url: null,
    tags: [],
    integration_types_config: { '0': {} },
    approximate_guild_count: store.guilds.size,
    approximate_user_install_count: 0,
    event_webhooks_status: 1,
  });
  router.add('GET', '/applications/@me', () => ({ body: application() }));
  router.add('GET', '/oauth2/applications/@me', () => ({ body: application() }));

  const requireGuild = (guildId: string | undefined): string => {
    const guild = guildId ? store.guilds.get(guildId) : undefined;
    if (!guild || !guild.members.has(core.botUserId)) throw DiscordErrors.unknownGuild();
    return guild.id;
  };
  router.add(
    'GET',
    '/guilds/:guildId',
    (ctx) => {
      const guildId = requireGuild(ctx.params.guildId);
      const guild = store.requireGuild(guildId);
      const counts =
        ctx.query.get('with_counts') === 'true' ? { approximate_member_count: guild.members.size, approximate_presence_count: 0 } : {};
      return { body: { ...core.guildJson(guildId), ...counts } };
    },
    { major: ['guildId'] },
  );
  router.add(
    'GET',
    '/guilds/:guildId/channels',
    (ctx) => {
      const guild = store.requireGuild(requireGuild(ctx.params.guildId));
      return { body: guild.channelIds.map((id) => store.channelJson(id)) };
    },
    { major: ['guildId'] },
  );
  router.add(
    'GET',
    '/guilds/:guildId/roles',
    (ctx) => {
      const guild = store.requireGuild(requireGuild(ctx.params.guildId));
      return { body: [...guild.roles.values()].map((r) => store.roleJson(r)) };
    },
    { major: ['guildId'] },
  );
  router.add(
    'GET',
    '/guilds/:guildId/members/search',
    (ctx) => {
      const guild = store.requireGuild(requireGuild(ctx.params.guildId));
      const query = (ctx.query.get('query') ?? '').toLowerCase();
      const limit = Number(ctx.query.get('limit') ?? '1');
      const ids = [...guild.members.keys()].filter((id) => store.users.get(id)?.username.toLowerCase().startsWith(query)).slice(0, limit);
      return { body: ids.map((id) => store.memberJson(guild.id, id)) };
    },
    { major: ['guildId'] },
  );
  router.add(
    'GET',
    '/guilds/:guildId/members',
    (ctx) => {
      const guild = store.requireGuild(requireGuild(ctx.params.guildId));
      // Listing members needs the GUILD_MEMBERS privileged intent enabled for the application.
      if (!core.options.privilegedIntents.guildMembers) throw DiscordErrors.missingAccess();
      const limit = Number(ctx.query.get('limit') ?? '1');
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw DiscordErrors.invalidFormBody([
          { path: 'limit', code: 'NUMBER_TYPE_MAX', message: 'int value should be less than or equal to 1000.' },
        ]);
      }
      const after = BigInt(ctx.query.get('after') ?? '0');
      const ids = [...guild.members.keys()]
        .filter((id) => BigInt(id) > after)
        .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))
        .slice(0, limit);
      return { body: ids.map((id) => store.memberJson(guild.id, id)) };
    },
    { major: ['guildId'] },
  );
  router.add(
    'GET',
    '/guilds/:guildId/members/:userId',
    (ctx) => {
      const guild = store.requireGuild(requireGuild(ctx.params.guildId));
      if (!guild.members.has(ctx.params.userId ?? '')) throw DiscordErrors.unknownMember();
      return { body: store.memberJson(guild.id, ctx.params.userId ?? '') };
    },
    { major: ['guildId'] },
  );
}

/** Opens the DM channel between the bot and a user. */
export function createDm(core: Core, userId: string): ReturnType<Core['store']['requireChannel']> {
  const id = core.snowflakes.next();
  const channel = {
    id,
    type: ChannelType.DM,
    guildId: null,
    name: null,
    position: 0,
    overwrites: [],
    topic: null,
    nsfw: false,
    parentId: null,
    lastMessageId: null,
    recipientIds: [core.botUserId, userId],
    messages: [],
  };
  core.store.channels.set(id, channel);
  return channel;
}
