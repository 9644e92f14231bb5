import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  ApiAttachment,
  ApiChannel,
  ApiCommand,
  ApiCommandOption,
  ApiComponent,
  ApiEmbed,
  ApiMember,
  ApiMessage,
  ApiRole,
  ApiUser,
  Snowflake,
} from './api-types.js';
import { ChannelType, GatewayIntent, InteractionType, MessageFlags, MessageType, OptionType } from './api-types.js';
import { Cdn, isCdnPath } from './cdn.js';
import { Core, type TypingEvent } from './core.js';
import type { DispatchRouting, DropMode, GatewayConnectionInfo, GatewaySessionInfo } from './gateway.js';
import { defaultWaitMs, type InteractionHandle, type WaitOptions } from './interaction.js';
import type { MessageInput } from './message-input.js';
import type { MultipartFile } from './multipart.js';
import { resolveOptions, type FakeDiscordOptions, type ResolvedOptions } from './options.js';
import {
  ALL_PERMISSIONS,
  DEFAULT_BOT_PERMISSIONS,
  DEFAULT_EVERYONE_PERMISSIONS,
  PermissionFlags,
  permissionNames,
  resolvePermissions,
  type PermissionInput,
} from './permissions.js';
import { RateLimiter, type GlobalRateLimit, type RateLimitRule } from './rate-limit.js';
import { RestRouter, sendJson, type DelayRule, type FaultRule, type RequestLogEntry } from './rest-router.js';
import { createDm, gatewayUrl, registerBasicRoutes } from './routes-basic.js';
import { registerChannelRoutes } from './routes-channels.js';
import { registerCommandRoutes } from './routes-commands.js';
import { registerInteractionRoutes } from './routes-interactions.js';
import { discordTimestamp, isTextChannelType, type CdnBehavior, type ChannelRecord } from './store.js';
import { scaled } from '../helpers/time-scale.js';

/** A user, given by id or as any object with an `id` (e.g. the result of {@link FakeDiscord.createUser}). */
export type UserRef = Snowflake | { id: Snowflake };
/** A channel, given by id or as an object with an `id`. */
export type ChannelRef = Snowflake | { id: Snowflake };
/** A guild, given by id or as an object with an `id`. */
export type GuildRef = Snowflake | { id: Snowflake };
/** A message, given by id or as an object with an `id`. */
export type MessageRef = Snowflake | { id: Snowflake };

/** Bytes to upload as an attachment (the fake stores them and serves them from its CDN). */
export interface AttachmentUpload {
  data: Uint8Array;
  filename: string;
  contentType?: string;
  description?: string;
  /** Make the CDN misbehave when serving this file. */
  behavior?: CdnBehavior;
  /** Report this `size` in the attachment object instead of the real byte count. */
  declaredSize?: number;
}

/** An attachment: one already uploaded ({@link FakeDiscord.uploadAttachment}) or bytes to upload. */
export type AttachmentRef = ApiAttachment | AttachmentUpload;

/** A slash command option value: string, number, boolean, an attachment, or a user/channel/role reference. */
export type OptionInput = string | number | boolean | AttachmentRef | { id: Snowflake };

/** A raw option as it appears in an interaction's `data.options`. */
export interface RawOption {
  name: string;
  type: number;
  value?: string | number | boolean;
  options?: RawOption[];
  focused?: boolean;
}

/** Where a user acts: a channel, or the user's DM with the bot. */
export interface Place {
  user: UserRef;
  /** The channel (guild channel or DM); optional with `dm: true`. */
  channelId?: ChannelRef;
  /** Checked against the channel's guild when given. */
  guildId?: GuildRef;
  /** Act in the user's DM with the bot (opened if needed). */
  dm?: boolean;
  /** The user's client locale (`locale` of the interaction, default `en-US`). */
  locale?: string;
  /** Overrides `attachment_size_limit` of the interaction (and the upload limit of its responses). */
  attachmentSizeLimit?: number;
}

/** Arguments of {@link FakeDiscord.sendSlashCommand}. */
export interface SlashCommandArgs extends Place {
  name: string;
  subcommandGroup?: string;
  subcommand?: string;
  /** Option values by name (types taken from the registered command) or raw options. */
  options?: Record<string, OptionInput> | RawOption[];
  /**
   * As if a server admin allowed this member the command in Server Settings › Integrations: the
   * `default_member_permissions` visibility check is skipped (the member's own permissions are unchanged).
   */
  commandPermissionOverride?: boolean;
}

/** Arguments of {@link FakeDiscord.sendAutocomplete}. */
export interface AutocompleteArgs extends SlashCommandArgs {
  /** The option the user is typing in; its value is sent as a string. */
  focused: string;
}

/** The guild handle {@link FakeDiscord.createGuild} returns. */
export interface FakeGuild {
  id: Snowflake;
  name: string;
  ownerId: Snowflake;
  /** The @everyone role (same id as the guild). */
  everyoneRoleId: Snowflake;
  /** The bot's managed role. */
  botRoleId: Snowflake;
}

export type { WaitOptions };

function idOf(ref: { id: Snowflake } | Snowflake): Snowflake {
  return typeof ref === 'string' ? ref : ref.id;
}

function isUpload(ref: AttachmentRef): ref is AttachmentUpload {
  return (ref as AttachmentUpload).data !== undefined;
}

/** Walks a component tree (action rows, containers, sections, labels). */
function* walkComponents(components: readonly ApiComponent[]): Generator<ApiComponent> {
  for (const component of components) {
    yield component;
    if (component.components) yield* walkComponents(component.components);
    if (component.component) yield* walkComponents([component.component]);
    const accessory = component.accessory as ApiComponent | undefined;
    if (accessory) yield* walkComponents([accessory]);
  }
}

/**
 * A fake Discord for end-to-end tests: REST API, gateway and CDN on one local port, driven by a real
 * discord.js client (`new Client({ rest: { api: discord.apiUrl } })`, token {@link botToken}). Tests build
 * guilds, channels and users, act as users (slash commands, buttons, modals, messages), and inspect what
 * the bot did; Discord's rules (3-second acknowledgement, single acknowledgement, token lifetime, upload
 * limits, rate limits, permissions, message-content intent) are enforced.
 */
export class FakeDiscord {
  /** The API base for the bot (`DISCORD_API_URL`): `http://127.0.0.1:PORT/api`. */
  readonly apiUrl: string;
  /** The CDN base (`rest.cdn` of discord.js): `http://127.0.0.1:PORT`; attachments live under `/attachments/...`. */
  readonly cdnUrl: string;
  /** The gateway URL answered by `GET /gateway/bot`. */
  readonly gatewayUrl: string;
  /** Every request the fake received (REST and CDN), oldest first. */
  readonly requests: RequestLogEntry[] = [];

  private readonly core: Core;
  private readonly router: RestRouter;
  private readonly rateLimiter: RateLimiter;
  private readonly cdn: Cdn;
  private readonly ownerUserId: Snowflake;
  private readonly uploadChannelId: Snowflake;
  private resumesAtLastDrop = 0;
  private closed = false;

  private constructor(
    private readonly server: Server,
    core: Core,
    rateLimiter: RateLimiter,
  ) {
    this.core = core;
    this.rateLimiter = rateLimiter;
    const { port } = server.address() as AddressInfo;
    core.baseUrl = `http://127.0.0.1:${port}`;
    core.gateway.resumeGatewayUrl = `ws://127.0.0.1:${port}/gateway/resume`;
    this.apiUrl = `${core.baseUrl}/api`;
    this.cdnUrl = core.baseUrl;
    this.gatewayUrl = gatewayUrl(core);
    this.cdn = new Cdn(core.store, () => core.events.emit('cdn:start'));
    this.ownerUserId = this.createUser({ username: 'app-owner' }).id;
    this.uploadChannelId = core.snowflakes.next();
    this.router = new RestRouter(
      {
        botToken: () => core.options.botToken,
        maxRequestBytes: core.options.maxRequestBytes,
        rateLimiter,
        retryAfterPrecision: core.options.retryAfterPrecision,
      },
      (entry) => this.logRequest(entry),
    );
    registerBasicRoutes(this.router, core, () => this.ownerUserId);
    registerCommandRoutes(this.router, core);
    registerChannelRoutes(this.router, core);
    registerInteractionRoutes(this.router, core);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.onRequest(req, res));
    server.on('upgrade', (req, socket, head: Buffer) => core.gateway.handleUpgrade(req, socket, head));
  }

  /** Starts a fake Discord on 127.0.0.1 with a random port. */
  static async start(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
    // Shaped like Discord's: the first part encodes a numeric id, so it starts with M–O. (A random first part
    // could start with "bot", which discord.js strips from tokens as a prefix.)
    const idPart = Buffer.from(`1${randomBytes(8).readBigUInt64BE(0)}`).toString('base64url');
    const resolved = resolveOptions(options, `${idPart}.${randomBytes(4).toString('base64url')}.${randomBytes(20).toString('base64url')}`);
    const core = new Core(resolved);
    const rateLimiter = new RateLimiter(resolved.rateLimits, resolved.globalRateLimit, resolved.retryAfterPrecision);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new FakeDiscord(server, core, rateLimiter);
  }

  /** The token the bot must present (REST `Authorization: Bot …` and IDENTIFY). */
  get botToken(): string {
    return this.core.options.botToken;
  }

  /** The application id (also the bot user's id). */
  get applicationId(): Snowflake {
    return this.core.applicationId;
  }

  /** The bot's user object. */
  get botUser(): ApiUser {
    return this.core.botUser();
  }

  /** The options in force (defaults filled in). */
  get options(): ResolvedOptions {
    return this.core.options;
  }

  /**
   * Events for waiting and tracing: `request` (a {@link RequestLogEntry}), `message` (`{ kind, message }`),
   * `interaction` (`{ interactionId, step }`), `typing`, and `gateway:connection|identify|resume|resumeRejected|dispatch|close|op`.
   */
  get events(): EventEmitter {
    return this.core.events;
  }

  private logRequest(entry: RequestLogEntry): void {
    this.requests.push(entry);
    this.core.events.emit('request', entry);
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.core.baseUrl);
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) return this.router.handle(req, res, url);
    const started = Date.now();
    const cdn = isCdnPath(url.pathname) && (req.method === 'GET' || req.method === 'HEAD');
    req.resume();
    let status = 404;
    if (cdn) status = await this.cdn.serve(req, res, url.pathname);
    else sendJson(res, 404, { message: '404: Not Found', code: 0 });
    this.logRequest({
      seq: this.router.nextSeq(),
      at: started,
      durationMs: Date.now() - started,
      kind: cdn ? 'cdn' : 'other',
      method: req.method ?? 'GET',
      path: url.pathname,
      route: cdn ? `${req.method ?? 'GET'} /attachments/:channelId/:attachmentId/:filename` : null,
      query: Object.fromEntries(url.searchParams.entries()),
      status,
      auth: 'none',
      json: undefined,
      files: [],
      error: null,
      unexpected: !cdn || status === 404,
      rateLimited: false,
      rateLimitScope: null,
      userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null,
    });
  }

  // ------------------------------------------------------------------ building the world

  /** Creates a user. */
  createUser(args: { username: string; globalName?: string; bot?: boolean; acceptsDms?: boolean }): ApiUser {
    const id = this.core.snowflakes.next();
    this.core.store.users.set(id, {
      id,
      username: args.username,
      globalName: args.globalName ?? null,
      bot: args.bot ?? false,
      acceptsDms: args.acceptsDms ?? true,
    });
    return this.core.store.userJson(id);
  }

  /**
   * Creates a guild with the bot in it (its managed role holds `botPermissions`, default
   * {@link DEFAULT_BOT_PERMISSIONS}), an @everyone role, and an owner (created when not given). A
   * connected bot gets GUILD_CREATE.
   */
  createGuild(args: {
    name: string;
    ownerId?: UserRef;
    locale?: string;
    everyonePermissions?: PermissionInput;
    botPermissions?: PermissionInput;
  }): FakeGuild {
    const { store, snowflakes } = this.core;
    const id = snowflakes.next();
    const ownerId =
      args.ownerId !== undefined
        ? idOf(args.ownerId)
        : this.createUser({ username: `${args.name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-owner` }).id;
    store.requireUser(ownerId);
    const botRoleId = snowflakes.next();
    const joinedAt = discordTimestamp();
    store.guilds.set(id, {
      id,
      name: args.name,
      ownerId,
      locale: args.locale ?? 'en-US',
      roles: new Map([
        [
          id,
          {
            id,
            name: '@everyone',
            permissions:
              args.everyonePermissions !== undefined ? resolvePermissions(args.everyonePermissions) : DEFAULT_EVERYONE_PERMISSIONS,
            position: 0,
            managed: false,
            color: 0,
            hoist: false,
            mentionable: false,
          },
        ],
        [
          botRoleId,
          {
            id: botRoleId,
            name: this.core.options.botUsername,
            permissions: args.botPermissions !== undefined ? resolvePermissions(args.botPermissions) : DEFAULT_BOT_PERMISSIONS,
            position: 1,
            managed: true,
            botId: this.core.botUserId,
            color: 0,
            hoist: false,
            mentionable: false,
          },
        ],
      ]),
      members: new Map([
        [ownerId, { userId: ownerId, roles: [], nick: null, joinedAt }],
        [this.core.botUserId, { userId: this.core.botUserId, roles: [botRoleId], nick: null, joinedAt }],
      ]),
      channelIds: [],
      joinedAt,
    });
    this.core.gateway.dispatch('GUILD_CREATE', null, {
      guildId: id,
      intents: GatewayIntent.Guilds,
      transform: (_d, session) => this.core.guildCreateJson(id, session),
    });
    return { id, name: args.name, ownerId, everyoneRoleId: id, botRoleId };
  }

  /** Creates a role (GUILD_ROLE_CREATE for a connected bot). */
  createRole(guild: GuildRef, args: { name: string; permissions?: PermissionInput; mentionable?: boolean }): ApiRole {
    const record = this.core.store.requireGuild(idOf(guild));
    const id = this.core.snowflakes.next();
    const role = {
      id,
      name: args.name,
      permissions: args.permissions !== undefined ? resolvePermissions(args.permissions) : 0n,
      position: record.roles.size,
      managed: false,
      color: 0,
      hoist: false,
      mentionable: args.mentionable ?? false,
    };
    record.roles.set(id, role);
    const json = this.core.store.roleJson(role);
    this.core.gateway.dispatch(
      'GUILD_ROLE_CREATE',
      { guild_id: record.id, role: json },
      { guildId: record.id, intents: GatewayIntent.Guilds },
    );
    return json;
  }

  /**
   * Creates a guild channel. `botPermissions` sets the bot's permissions in it exactly (a member overwrite
   * allowing those and denying the rest); `everyonePermissions` likewise for @everyone. CHANNEL_CREATE for a connected bot.
   */
  createChannel(
    guild: GuildRef,
    args: {
      name: string;
      type?: number;
      botPermissions?: PermissionInput;
      everyonePermissions?: PermissionInput;
      topic?: string;
      parentId?: ChannelRef;
      nsfw?: boolean;
    },
  ): ApiChannel {
    const record = this.core.store.requireGuild(idOf(guild));
    const id = this.core.snowflakes.next();
    const channel: ChannelRecord = {
      id,
      type: args.type ?? ChannelType.GuildText,
      guildId: record.id,
      name: args.name,
      position: record.channelIds.length,
      overwrites: [],
      topic: args.topic ?? null,
      nsfw: args.nsfw ?? false,
      parentId: args.parentId !== undefined ? idOf(args.parentId) : null,
      lastMessageId: null,
      recipientIds: [],
      messages: [],
    };
    this.applyOverwrites(channel, args);
    this.core.store.channels.set(id, channel);
    record.channelIds.push(id);
    const json = this.core.store.channelJson(id);
    this.core.gateway.dispatch('CHANNEL_CREATE', json, { guildId: record.id, intents: GatewayIntent.Guilds });
    return json;
  }

  private applyOverwrites(channel: ChannelRecord, args: { botPermissions?: PermissionInput; everyonePermissions?: PermissionInput }): void {
    const set = (id: Snowflake, type: 0 | 1, input: PermissionInput): void => {
      const allow = resolvePermissions(input);
      channel.overwrites = channel.overwrites.filter((o) => o.id !== id);
      channel.overwrites.push({ id, type, allow, deny: ALL_PERMISSIONS & ~allow });
    };
    if (args.everyonePermissions !== undefined && channel.guildId) set(channel.guildId, 0, args.everyonePermissions);
    if (args.botPermissions !== undefined) set(this.core.botUserId, 1, args.botPermissions);
  }

  /** Changes a channel's overwrites for the bot and/or @everyone (CHANNEL_UPDATE for a connected bot). */
  setChannelPermissions(
    channelRef: ChannelRef,
    args: { botPermissions?: PermissionInput; everyonePermissions?: PermissionInput },
  ): ApiChannel {
    const channel = this.core.store.requireChannel(idOf(channelRef));
    this.applyOverwrites(channel, args);
    const json = this.core.store.channelJson(channel.id);
    this.core.gateway.dispatch('CHANNEL_UPDATE', json, { guildId: channel.guildId, intents: GatewayIntent.Guilds });
    return json;
  }

  /**
   * Adds a user to a guild. `permissions` are granted through a personal role (on top of @everyone's);
   * `roles` are existing role ids. GUILD_MEMBER_ADD for a bot with the GuildMembers intent.
   */
  addMember(
    guild: GuildRef,
    userRef: UserRef,
    args: { permissions?: PermissionInput; roles?: Snowflake[]; nick?: string } = {},
  ): ApiMember {
    const record = this.core.store.requireGuild(idOf(guild));
    const userId = idOf(userRef);
    const user = this.core.store.requireUser(userId);
    const roles = [...(args.roles ?? [])];
    for (const role of roles) if (!record.roles.has(role)) throw new Error(`unknown role ${role} in guild ${record.id}`);
    if (args.permissions !== undefined)
      roles.push(this.createRole(record.id, { name: `${user.username}-permissions`, permissions: args.permissions }).id);
    record.members.set(userId, { userId, roles, nick: args.nick ?? null, joinedAt: discordTimestamp() });
    const json = this.core.store.memberJson(record.id, userId);
    this.core.gateway.dispatch(
      'GUILD_MEMBER_ADD',
      { ...json, guild_id: record.id },
      { guildId: record.id, intents: GatewayIntent.GuildMembers },
    );
    return json;
  }

  /** The DM channel between a user and the bot (opened if needed). */
  openDm(userRef: UserRef): ApiChannel {
    const userId = idOf(userRef);
    this.core.store.requireUser(userId);
    const channel = this.core.store.findDmChannel(userId) ?? createDm(this.core, userId);
    return this.core.store.channelJson(channel.id);
  }

  /** A user's permissions in a channel, as the fake computes them (for assertions and debugging). */
  permissionsOf(userRef: UserRef, channelRef: ChannelRef): { bits: bigint; names: string[] } {
    const bits = this.core.store.permissionsIn(idOf(channelRef), idOf(userRef));
    return { bits, names: permissionNames(bits) };
  }

  // ------------------------------------------------------------------ acting as users

  /** Stores bytes on the CDN and returns the attachment object (url/proxy_url point at this fake). */
  uploadAttachment(
    data: Uint8Array,
    filename: string,
    contentType?: string,
    options: { behavior?: CdnBehavior; declaredSize?: number; description?: string; channelId?: ChannelRef; ephemeral?: boolean } = {},
  ): ApiAttachment {
    return this.core.storeBlob(
      options.channelId !== undefined ? idOf(options.channelId) : this.uploadChannelId,
      Buffer.from(data),
      filename,
      contentType,
      {
        ...(options.behavior ? { behavior: options.behavior } : {}),
        ...(options.declaredSize !== undefined ? { declaredSize: options.declaredSize } : {}),
        ...(options.description !== undefined ? { description: options.description } : {}),
        ...(options.ephemeral ? { ephemeral: true } : {}),
      },
    );
  }

  /** Changes how the CDN serves an attachment (see {@link CdnBehavior}). */
  setAttachmentBehavior(attachment: ApiAttachment | Snowflake, behavior: CdnBehavior): void {
    const blob = this.core.store.blobs.get(idOf(attachment));
    if (!blob) throw new Error(`unknown attachment ${idOf(attachment)}`);
    blob.behavior = behavior;
  }

  /** Attachment downloads the CDN is answering now, and the most it answered at once (events: `cdn:start`, `request`). */
  cdnDownloads(): { inFlight: number; peak: number } {
    return { inFlight: this.cdn.inFlight, peak: this.cdn.peakInFlight };
  }

  /** The bytes behind an attachment (what the bot uploaded), or undefined. */
  attachmentBytes(attachment: ApiAttachment | Snowflake): Buffer | undefined {
    return this.core.store.blobs.get(idOf(attachment))?.data;
  }

  private resolvePlace(place: Place): { channel: ChannelRecord; userId: Snowflake } {
    const userId = idOf(place.user);
    this.core.store.requireUser(userId);
    let channelId: Snowflake;
    if (place.dm) channelId = this.openDm(userId).id;
    else if (place.channelId !== undefined) channelId = idOf(place.channelId);
    else throw new Error('give channelId (or dm: true)');
    const channel = this.core.store.requireChannel(channelId);
    if (place.guildId !== undefined && channel.guildId !== idOf(place.guildId))
      throw new Error(`channel ${channelId} is not in guild ${idOf(place.guildId)}`);
    if (channel.guildId === null) {
      if (!channel.recipientIds.includes(userId)) throw new Error(`user ${userId} is not in DM channel ${channelId}`);
    } else {
      if (!this.core.store.requireGuild(channel.guildId).members.has(userId))
        throw new Error(`user ${userId} is not a member of guild ${channel.guildId}: addMember first`);
      if ((this.core.store.permissionsIn(channelId, userId) & PermissionFlags.ViewChannel) === 0n)
        throw new Error(`user ${userId} cannot see channel ${channelId}`);
    }
    return { channel, userId };
  }

  /** The registered command a user could invoke here (guild command first, then global), or throws in strict mode. */
  private findCommand(name: string, type: number, channel: ChannelRecord, userId: Snowflake, overridden = false): ApiCommand | null {
    const { store } = this.core;
    const scoped = channel.guildId ? (store.commands.get(channel.guildId) ?? []) : [];
    const command = [...scoped, ...(store.commands.get('global') ?? [])].find((c) => c.name === name && c.type === type) ?? null;
    if (!command) {
      if (!this.core.options.strictCommands) return null;
      const known = [...scoped, ...(store.commands.get('global') ?? [])].map((c) => `${c.name} (type ${c.type})`);
      throw new Error(`command "${name}" (type ${type}) is not registered by the bot; registered: ${known.join(', ') || 'none'}`);
    }
    if (channel.guildId) {
      const permissions = store.permissionsIn(channel.id, userId);
      if ((permissions & PermissionFlags.UseApplicationCommands) === 0n)
        throw new Error(`user ${userId} lacks UseApplicationCommands in channel ${channel.id}`);
      if (command.default_member_permissions !== null && !overridden) {
        const needed = BigInt(command.default_member_permissions);
        if ((permissions & needed) !== needed)
          throw new Error(`user ${userId} lacks the default_member_permissions of "${name}" and cannot see it`);
      }
    } else {
      const contexts = command.contexts as number[] | null | undefined;
      if (command.guild_id !== undefined || command.dm_permission === false || (Array.isArray(contexts) && !contexts.includes(1))) {
        throw new Error(`command "${name}" is not available in DMs`);
      }
    }
    return command;
  }

  /** Turns `{ name: value }` options into the interaction's `options` and `resolved`, checked against the definition. */
  private buildOptions(
    definitions: readonly ApiCommandOption[] | undefined,
    options: SlashCommandArgs['options'],
    channel: ChannelRecord,
    userId: Snowflake,
    focused: string | null,
  ): { options: RawOption[]; resolved: Record<string, Record<string, unknown>> } {
    const resolved: Record<string, Record<string, unknown>> = {};
    const add = (kind: string, id: string, value: unknown): void => {
      (resolved[kind] ??= {})[id] = value;
    };
    if (Array.isArray(options)) return { options, resolved };
    const out: RawOption[] = [];
    const strict = this.core.options.strictCommands && definitions !== undefined;
    for (const [name, value] of Object.entries(options ?? {})) {
      const definition = definitions?.find((d) => d.name === name);
      if (!definition && strict)
        throw new Error(`option "${name}" is not defined; defined: ${(definitions ?? []).map((d) => d.name).join(', ') || 'none'}`);
      const type = definition?.type ?? inferOptionType(value);
      if (name === focused) {
        if (strict && definition?.autocomplete !== true) throw new Error(`option "${name}" has no autocomplete`);
        out.push({ name, type, value: String(value), focused: true });
        continue;
      }
      switch (type) {
        case OptionType.String:
        case OptionType.Integer:
        case OptionType.Number:
        case OptionType.Boolean: {
          const expected = type === OptionType.String ? 'string' : type === OptionType.Boolean ? 'boolean' : 'number';
          if (typeof value !== expected || (type === OptionType.Integer && !Number.isInteger(value)))
            throw new Error(`option "${name}" needs a ${type === OptionType.Integer ? 'integer' : expected}`);
          if (definition?.choices && !definition.choices.some((c) => c.value === value))
            throw new Error(`option "${name}": ${String(value)} is not one of its choices`);
          out.push({ name, type, value: value as string | number | boolean });
          break;
        }
        case OptionType.Attachment: {
          const attachment = isUpload(value as AttachmentRef)
            ? this.uploadAttachment(
                (value as AttachmentUpload).data,
                (value as AttachmentUpload).filename,
                (value as AttachmentUpload).contentType,
                {
                  ...((value as AttachmentUpload).behavior ? { behavior: (value as AttachmentUpload).behavior! } : {}),
                  ...((value as AttachmentUpload).declaredSize !== undefined
                    ? { declaredSize: (value as AttachmentUpload).declaredSize! }
                    : {}),
                  ephemeral: true,
                },
              )
            : (value as ApiAttachment);
          add('attachments', attachment.id, { ...attachment, ephemeral: true });
          out.push({ name, type, value: attachment.id });
          break;
        }
        case OptionType.User:
        case OptionType.Mentionable:
        case OptionType.Role:
        case OptionType.Channel: {
          const id = idOf(value as { id: string } | string);
          this.resolveEntity(id, type, channel, userId, add);
          out.push({ name, type, value: id });
          break;
        }
        default:
          throw new Error(`option "${name}": unsupported type ${type}`);
      }
    }
    if (strict) {
      for (const definition of definitions ?? []) {
        if (definition.required && !out.some((o) => o.name === definition.name))
          throw new Error(`required option "${definition.name}" missing`);
      }
    }
    return { options: out, resolved };
  }

  private resolveEntity(
    id: string,
    type: number,
    channel: ChannelRecord,
    userId: Snowflake,
    add: (kind: string, id: string, value: unknown) => void,
  ): void {
    const { store } = this.core;
    if ((type === OptionType.User || type === OptionType.Mentionable) && store.users.has(id)) {
      add('users', id, store.userJson(id));
      if (channel.guildId && store.requireGuild(channel.guildId).members.has(id)) {
        // Resolved members are partial: no `user`, `deaf` or `mute`.
        const { user: _user, deaf: _deaf, mute: _mute, ...member } = store.memberJson(channel.guildId, id, { permissionsIn: channel.id });
        add('members', id, member);
      }
      return;
    }
    if ((type === OptionType.Role || type === OptionType.Mentionable) && channel.guildId) {
      const role = store.requireGuild(channel.guildId).roles.get(id);
      if (role) return add('roles', id, store.roleJson(role));
    }
    if (type === OptionType.Channel && store.channels.has(id)) {
      const target = store.channelJson(id);
      return add('channels', id, {
        id,
        name: target.name ?? '',
        type: target.type,
        permissions: store.permissionsIn(id, userId).toString(),
        ...(target.parent_id !== undefined ? { parent_id: target.parent_id } : {}),
      });
    }
    throw new Error(`cannot resolve ${id} as option type ${type}`);
  }

  private commandInteraction(args: SlashCommandArgs, type: number, focused: string | null): InteractionHandle {
    const { channel, userId } = this.resolvePlace(args);
    const command = this.findCommand(args.name, 1, channel, userId, args.commandPermissionOverride === true);
    let definitions: ApiCommandOption[] | undefined = command ? (command.options ?? []) : undefined;
    const path: ApiCommandOption[] = [];
    for (const [wanted, kind] of [
      [args.subcommandGroup, OptionType.SubcommandGroup],
      [args.subcommand, OptionType.Subcommand],
    ] as const) {
      if (wanted === undefined) continue;
      const found = definitions?.find((d) => d.name === wanted && d.type === kind);
      if (!found && command)
        throw new Error(`"${args.name}" has no ${kind === OptionType.Subcommand ? 'subcommand' : 'subcommand group'} "${wanted}"`);
      path.push(found ?? { type: kind, name: wanted, description: '' });
      definitions = found?.options ?? (command ? [] : undefined);
    }
    const built = this.buildOptions(definitions, args.options, channel, userId, focused);
    let options: RawOption[] = built.options;
    for (const level of [...path].reverse()) options = [{ name: level.name, type: level.type, options }];
    const data: Record<string, unknown> = {
      id: command?.id ?? this.core.snowflakes.next(),
      name: args.name,
      type: 1,
      ...(options.length > 0 ? { options } : {}),
      ...(Object.keys(built.resolved).length > 0 ? { resolved: built.resolved } : {}),
      ...(command?.guild_id ? { guild_id: command.guild_id } : {}),
    };
    return this.core.createInteraction({
      type,
      channelId: channel.id,
      userId,
      data,
      ...(args.locale !== undefined ? { locale: args.locale } : {}),
      ...(args.attachmentSizeLimit !== undefined ? { attachmentSizeLimit: args.attachmentSizeLimit } : {}),
      commandName: [args.name, args.subcommandGroup, args.subcommand].filter(Boolean).join(' '),
      responseMessageType: MessageType.ChatInputCommand,
    });
  }

  /**
   * A user runs a slash command: dispatches INTERACTION_CREATE (type 2) with options, resolved objects
   * (attachments are uploaded to the CDN), permissions, member/user, locale, token. The command must be
   * registered by the bot (unless `strictCommands: false`).
   */
  sendSlashCommand(args: SlashCommandArgs): InteractionHandle {
    return this.commandInteraction(args, InteractionType.ApplicationCommand, null);
  }

  /** A user types in an autocomplete option: INTERACTION_CREATE type 4; the bot answers with callback type 8. */
  sendAutocomplete(args: AutocompleteArgs): InteractionHandle {
    return this.commandInteraction(args, InteractionType.ApplicationCommandAutocomplete, args.focused);
  }

  /** A user runs a message context-menu command on a message (type 2, `data.type` 3, `resolved.messages`). */
  sendMessageCommand(args: { user: UserRef; targetMessage: MessageRef; name: string; locale?: string }): InteractionHandle {
    const target = this.core.findAnyMessage(idOf(args.targetMessage));
    if (!target) throw new Error(`unknown message ${idOf(args.targetMessage)}`);
    const { channel, userId } = this.resolvePlace({ user: args.user, channelId: target.channel_id });
    const command = this.findCommand(args.name, 3, channel, userId);
    return this.core.createInteraction({
      type: InteractionType.ApplicationCommand,
      channelId: channel.id,
      userId,
      data: {
        id: command?.id ?? this.core.snowflakes.next(),
        name: args.name,
        type: 3,
        target_id: target.id,
        resolved: { messages: { [target.id]: target } },
        ...(command?.guild_id ? { guild_id: command.guild_id } : {}),
      },
      ...(args.locale !== undefined ? { locale: args.locale } : {}),
      commandName: args.name,
      responseMessageType: MessageType.ContextMenuCommand,
    });
  }

  /** A user runs a user context-menu command on a user (type 2, `data.type` 2, `resolved.users/members`). */
  sendUserCommand(args: Place & { targetUser: UserRef; name: string }): InteractionHandle {
    const { channel, userId } = this.resolvePlace(args);
    const command = this.findCommand(args.name, 2, channel, userId);
    const resolved: Record<string, Record<string, unknown>> = {};
    const targetId = idOf(args.targetUser);
    this.resolveEntity(targetId, OptionType.User, channel, userId, (kind, id, value) => {
      (resolved[kind] ??= {})[id] = value;
    });
    return this.core.createInteraction({
      type: InteractionType.ApplicationCommand,
      channelId: channel.id,
      userId,
      data: {
        id: command?.id ?? this.core.snowflakes.next(),
        name: args.name,
        type: 2,
        target_id: targetId,
        resolved,
        ...(command?.guild_id ? { guild_id: command.guild_id } : {}),
      },
      commandName: args.name,
      responseMessageType: MessageType.ContextMenuCommand,
    });
  }

  private componentInteraction(
    args: { user: UserRef; message: MessageRef; customId: string; locale?: string },
    accept: (c: ApiComponent) => boolean,
    data: (c: ApiComponent) => Record<string, unknown>,
  ): InteractionHandle {
    const message = this.core.findAnyMessage(idOf(args.message));
    if (!message) throw new Error(`unknown message ${idOf(args.message)}`);
    const { channel, userId } = this.resolvePlace({ user: args.user, channelId: message.channel_id });
    if ((message.flags & MessageFlags.Ephemeral) !== 0) {
      const owner = this.core.ephemeralOwners.get(message.id);
      if (owner && owner.userId !== userId) throw new Error(`only user ${owner.userId} sees ephemeral message ${message.id}`);
    }
    const component = [...walkComponents(message.components)].find((c) => c.custom_id === args.customId);
    if (!component || !accept(component)) throw new Error(`message ${message.id} has no such component "${args.customId}"`);
    if (component.disabled) throw new Error(`component "${args.customId}" is disabled`);
    return this.core.createInteraction({
      type: InteractionType.MessageComponent,
      channelId: channel.id,
      userId,
      data: { custom_id: args.customId, ...(component.id !== undefined ? { id: component.id } : {}), ...data(component) },
      message,
      ...(args.locale !== undefined ? { locale: args.locale } : {}),
    });
  }

  /** A user clicks a button (type 3, `component_type` 2) on a message the bot sent. */
  clickButton(args: { user: UserRef; message: MessageRef; customId: string; locale?: string }): InteractionHandle {
    return this.componentInteraction(
      args,
      (c) => c.type === 2 && c.style !== 5,
      () => ({ component_type: 2 }),
    );
  }

  /** A user picks values in a select menu (type 3); string selects check the values against the options. */
  selectMenu(args: { user: UserRef; message: MessageRef; customId: string; values: string[]; locale?: string }): InteractionHandle {
    return this.componentInteraction(
      args,
      (c) => [3, 5, 6, 7, 8].includes(c.type),
      (component) => {
        if (component.type === 3) {
          for (const value of args.values)
            if (!component.options?.some((o) => o.value === value))
              throw new Error(`"${value}" is not an option of select "${args.customId}"`);
        }
        return { component_type: component.type, values: args.values };
      },
    );
  }

  /**
   * A user submits a modal (type 5). With `from` (the handle whose response opened the modal) the modal's
   * structure is mirrored, field ids checked and required fields enforced; user and channel default to
   * that interaction's. Without `from`, `customId` and `channelId` are needed and fields become text inputs.
   */
  submitModal(args: {
    from?: InteractionHandle;
    user?: UserRef;
    channelId?: ChannelRef;
    customId?: string;
    fields: Record<string, string | string[]>;
    locale?: string;
  }): InteractionHandle {
    const source = args.from ? this.core.interactions.get(args.from.id) : undefined;
    if (args.from && !source) throw new Error('unknown interaction handle');
    const modal = args.from?.modal ?? null;
    if (args.from && !modal)
      throw new Error(`interaction ${args.from.id} did not answer with a modal (steps: ${args.from.describeSteps()})`);
    const user = args.user ?? source?.userId;
    if (user === undefined) throw new Error('give user (or from)');
    const channelId = args.channelId ?? source?.channelId;
    if (channelId === undefined) throw new Error('give channelId (or from)');
    const { channel, userId } = this.resolvePlace({ user, channelId });
    const customId = modal?.custom_id ?? args.customId;
    if (customId === undefined) throw new Error('give customId (or from)');
    const used = new Set<string>();
    const field = (component: ApiComponent): ApiComponent => {
      const id = component.custom_id ?? '';
      const value = args.fields[id];
      used.add(id);
      if (component.type === 4) {
        const text = typeof value === 'string' ? value : ((component.value as string | undefined) ?? '');
        if (component.required !== false && text === '') throw new Error(`modal field "${id}" is required`);
        if (typeof component.max_length === 'number' && text.length > component.max_length)
          throw new Error(`modal field "${id}" is longer than ${component.max_length}`);
        if (typeof component.min_length === 'number' && text !== '' && text.length < component.min_length)
          throw new Error(`modal field "${id}" is shorter than ${component.min_length}`);
        return { type: 4, ...(component.id !== undefined ? { id: component.id } : {}), custom_id: id, value: text };
      }
      return {
        type: component.type,
        ...(component.id !== undefined ? { id: component.id } : {}),
        custom_id: id,
        values: Array.isArray(value) ? value : value === undefined ? [] : [value],
      };
    };
    let components: ApiComponent[];
    if (modal) {
      components = (modal.components as ApiComponent[]).map((c) => {
        if (c.type === 1) return { type: 1, ...(c.id !== undefined ? { id: c.id } : {}), components: (c.components ?? []).map(field) };
        if (c.type === 18 && c.component) return { type: 18, ...(c.id !== undefined ? { id: c.id } : {}), component: field(c.component) };
        return { type: c.type, ...(c.id !== undefined ? { id: c.id } : {}) };
      });
      for (const name of Object.keys(args.fields)) if (!used.has(name)) throw new Error(`modal "${customId}" has no field "${name}"`);
    } else {
      components = Object.entries(args.fields).map(([id, value]) => ({
        type: 1,
        components: [{ type: 4, custom_id: id, value: Array.isArray(value) ? value.join(',') : value }],
      }));
    }
    const message = source?.sourceMessageId ? this.core.findAnyMessage(source.sourceMessageId) : undefined;
    return this.core.createInteraction({
      type: InteractionType.ModalSubmit,
      channelId: channel.id,
      userId,
      data: { custom_id: customId, components },
      ...(message ? { message } : {}),
      ...(args.locale !== undefined ? { locale: args.locale } : {}),
    });
  }

  /**
   * A user posts a message: stored, and MESSAGE_CREATE dispatched with `member`, `mentions`,
   * `message_reference`/`referenced_message`. `mentionsBot` prefixes `<@bot>`; a reply mentions the replied
   * author unless `replyMention: false`. Without the MessageContent intent the bot gets the content only
   * when mentioned (or in DMs), as on Discord.
   */
  postMessage(
    args: Place & {
      content?: string;
      attachments?: AttachmentRef[];
      embeds?: ApiEmbed[];
      replyTo?: MessageRef;
      mentionsBot?: boolean;
      replyMention?: boolean;
    },
  ): ApiMessage {
    const { channel, userId } = this.resolvePlace(args);
    if (!isTextChannelType(channel.type)) throw new Error(`channel ${channel.id} holds no messages`);
    if (channel.guildId && (this.core.store.permissionsIn(channel.id, userId) & PermissionFlags.SendMessages) === 0n) {
      throw new Error(`user ${userId} cannot send messages in channel ${channel.id}`);
    }
    let content = args.content ?? '';
    const mention = `<@${this.core.botUserId}>`;
    if (args.mentionsBot && !content.includes(mention) && !content.includes(`<@!${this.core.botUserId}>`))
      content = `${mention} ${content}`.trim();
    const uploads = (args.attachments ?? []).filter(isUpload);
    const existing = (args.attachments ?? []).filter((a): a is ApiAttachment => !isUpload(a));
    const files: MultipartFile[] = uploads.map((u, index) => ({
      field: `files[${index}]`,
      filename: u.filename,
      contentType: u.contentType ?? 'application/octet-stream',
      data: Buffer.from(u.data),
    }));
    const input: MessageInput = {
      present: new Set(['content']),
      content,
      files,
      ...(args.embeds ? { embeds: args.embeds } : {}),
      ...(args.replyTo !== undefined ? { messageReference: { message_id: idOf(args.replyTo), channel_id: channel.id } } : {}),
      ...(args.replyMention === false ? { allowedMentions: { parse: ['users', 'roles', 'everyone'], replied_user: false } } : {}),
    };
    const message = this.core.composeMessage({ channelId: channel.id, authorId: userId, input });
    message.attachments.push(...existing);
    for (const [index, upload] of uploads.entries()) {
      const stored = message.attachments[index];
      const blob = stored ? this.core.store.blobs.get(stored.id) : undefined;
      if (blob && upload.behavior) blob.behavior = upload.behavior;
      if (stored && upload.declaredSize !== undefined) stored.size = upload.declaredSize;
      if (stored && upload.description !== undefined) stored.description = upload.description;
    }
    this.core.store.addMessage(message);
    this.core.dispatchMessage('MESSAGE_CREATE', message);
    return message;
  }

  // ------------------------------------------------------------------ inspecting

  /** The messages of a channel, oldest first (ephemeral ones are not in channels: see the interaction handles). */
  messages(channelRef: ChannelRef): ApiMessage[] {
    return [...this.core.store.requireChannel(idOf(channelRef)).messages];
  }

  /** A message (channel or ephemeral) by id. */
  message(messageRef: MessageRef): ApiMessage | undefined {
    return this.core.findAnyMessage(idOf(messageRef));
  }

  /**
   * Requests Discord counts towards its invalid-request ban (10,000 per 10 minutes): answers 401, 403 and
   * 429, except 429s with `X-RateLimit-Scope: shared`.
   */
  invalidRequests(): RequestLogEntry[] {
    return this.requests.filter(
      (r) => r.kind === 'rest' && (r.status === 401 || r.status === 403 || (r.status === 429 && r.rateLimitScope !== 'shared')),
    );
  }

  /** Requests to no known route or with a wrong method (the fake answered 404/405). */
  unexpectedRequests(): RequestLogEntry[] {
    return this.requests.filter((r) => r.unexpected);
  }

  /** The bot's `POST /channels/{id}/typing` calls in a channel. */
  typingIn(channelRef: ChannelRef): TypingEvent[] {
    return this.core.typing.filter((t) => t.channelId === idOf(channelRef));
  }

  /** The application commands the bot registered (global, or of a guild). */
  commands(guild?: GuildRef): ApiCommand[] {
    return [...(this.core.store.commands.get(guild === undefined ? 'global' : idOf(guild)) ?? [])];
  }

  /** How many commands the bot created in the last 24 h (global, or in a guild); Discord allows 200. */
  commandCreations(guild?: GuildRef): number {
    const now = Date.now();
    return (this.core.store.commandCreations.get(guild === undefined ? 'global' : idOf(guild)) ?? []).filter(
      (t) => now - t < 24 * 3600 * 1000,
    ).length;
  }

  /**
   * Waits until `check` returns something other than undefined, re-checking on the given events; rejects
   * with `description` after the timeout. The building block of the other waits.
   */
  waitUntil<T>(check: () => T | undefined, events: readonly string[], description: string, options: WaitOptions = {}): Promise<T> {
    const first = check();
    if (first !== undefined) return Promise.resolve(first);
    const timeoutMs = scaled(options.timeoutMs ?? defaultWaitMs);
    return new Promise((resolve, reject) => {
      const onEvent = (): void => {
        const value = check();
        if (value === undefined) return;
        cleanup();
        resolve(value);
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        for (const event of events) this.core.events.off(event, onEvent);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${description}`));
      }, timeoutMs);
      for (const event of events) this.core.events.on(event, onEvent);
    });
  }

  /** Resolves with the first logged request (with `seq` > `since`, default 0: any) matching `predicate`. */
  waitForRequest(
    predicate: (request: RequestLogEntry) => boolean,
    options: WaitOptions & { since?: number } = {},
  ): Promise<RequestLogEntry> {
    const since = options.since ?? 0;
    return this.waitUntil(() => this.requests.find((r) => r.seq > since && predicate(r)), ['request'], 'a matching request', options);
  }

  /** Resolves with the first message of a channel (existing or future, in its current state) matching `predicate`. */
  waitForMessage(
    channelRef: ChannelRef,
    predicate: (message: ApiMessage) => boolean = () => true,
    options: WaitOptions = {},
  ): Promise<ApiMessage> {
    const channelId = idOf(channelRef);
    return this.waitUntil(
      () => this.core.store.requireChannel(channelId).messages.find(predicate),
      ['message'],
      `a matching message in channel ${channelId}`,
      options,
    );
  }

  // ------------------------------------------------------------------ gateway control

  /** Every gateway session identified so far, with its sockets. */
  gatewaySessions(): GatewaySessionInfo[] {
    return this.core.gateway.sessionInfos();
  }

  /** Every gateway socket opened so far. */
  gatewayConnections(): GatewayConnectionInfo[] {
    return this.core.gateway.connectionInfos();
  }

  /**
   * Drops the bot's gateway socket(s): `'abnormal'` destroys the TCP connection (the client sees 1006),
   * a number closes with that code (4000, 1001, ...). The session stays resumable; dispatches made while
   * disconnected are replayed on RESUME. Returns the number of sockets dropped.
   */
  dropGatewayConnection(mode: DropMode = 'abnormal', sessionId?: string): number {
    this.resumesAtLastDrop = this.core.gateway.completedResumes;
    return this.core.gateway.drop(mode, sessionId);
  }

  /** Sends op 7 RECONNECT (the client reconnects and resumes). */
  requestReconnect(sessionId?: string): void {
    this.resumesAtLastDrop = this.core.gateway.completedResumes;
    this.core.gateway.requestReconnect(sessionId);
  }

  /** Sends op 9 INVALID_SESSION; `resumable: false` also ends the session so the client must IDENTIFY again. */
  invalidateSession(resumable = false, sessionId?: string): void {
    this.resumesAtLastDrop = this.core.gateway.completedResumes;
    this.core.gateway.invalidateSession(resumable, sessionId);
  }

  /** Sends op 1 (Discord asking for a heartbeat now). */
  requestHeartbeat(): void {
    this.core.gateway.requestHeartbeat();
  }

  /** Makes sessions without a socket unresumable (as if the resume window had passed). */
  expireDisconnectedSessions(): void {
    this.core.gateway.expireDisconnectedSessions();
  }

  /**
   * Resolves with the socket of the first RESUME completed after the first `afterResumes` ones (default:
   * those completed before the last drop / reconnect request / invalidation).
   */
  waitForResume(options: WaitOptions & { afterResumes?: number } = {}): Promise<GatewayConnectionInfo> {
    const after = options.afterResumes ?? this.resumesAtLastDrop;
    return this.waitUntil(
      () => this.core.gateway.connectionInfos().find((c) => c.resumeOrdinal !== null && c.resumeOrdinal > after),
      ['gateway:resume'],
      'a gateway RESUME',
      options,
    );
  }

  /** Resolves with the session identified after the first `afterSessions` ones (default 0: the first session). */
  waitForIdentify(options: WaitOptions & { afterSessions?: number } = {}): Promise<GatewaySessionInfo> {
    const after = options.afterSessions ?? 0;
    return this.waitUntil(() => this.core.gateway.sessionInfos()[after], ['gateway:identify'], 'a gateway IDENTIFY', options);
  }

  /** Dispatches a raw gateway event to the bot (for events the test-driving API does not cover). */
  dispatch(t: string, d: unknown, routing: DispatchRouting = {}): number {
    return this.core.gateway.dispatch(t, d, routing);
  }

  // ------------------------------------------------------------------ REST control

  /** Replaces the rate-limit rules (and the global limit) and forgets the counters. */
  setRateLimits(rules: readonly RateLimitRule[], globalLimit?: GlobalRateLimit | null): void {
    this.rateLimiter.setRules(rules, globalLimit === undefined ? this.core.options.globalRateLimit : globalLimit);
  }

  /** Forces answers (429 with Discord's headers, 5xx, ...) for the next matching requests. */
  injectFault(rule: FaultRule): void {
    this.router.addFault(rule);
  }

  /** Slows the next matching requests down: they are handled normally after `delayMs`. */
  injectDelay(rule: DelayRule): void {
    this.router.addDelay(rule);
  }

  /** Removes pending injected faults and delays. */
  clearFaults(): void {
    this.router.clearFaults();
  }

  /** Closes every socket and the server. Destroy the bot's client first, or it will try to reconnect. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.core.gateway.close();
    this.router.close();
    this.cdn.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function inferOptionType(value: OptionInput): number {
  if (typeof value === 'string') return OptionType.String;
  if (typeof value === 'boolean') return OptionType.Boolean;
  if (typeof value === 'number') return Number.isInteger(value) ? OptionType.Integer : OptionType.Number;
  if (isUpload(value as AttachmentRef) || (value as ApiAttachment).url !== undefined) return OptionType.Attachment;
  return OptionType.User;
}
