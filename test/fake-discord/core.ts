import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ApiAttachment, ApiEmbed, ApiMessage, ApiUser, Snowflake } from './api-types.js';
import { ChannelType, GatewayIntent, MessageFlags, MessageType, PRIVILEGED_INTENTS } from './api-types.js';
import { Gateway, type DispatchRouting, type GatewaySession } from './gateway.js';
import { DiscordErrors } from './http-errors.js';
import { imageSize } from './image-size.js';
import { InteractionHandle, type InteractionRecord } from './interaction.js';
import type { AllowedMentions, MessageInput } from './message-input.js';
import type { ResolvedOptions } from './options.js';
import { PermissionFlags } from './permissions.js';
import { SnowflakeGenerator } from './snowflake.js';
import { discordTimestamp, isTextChannelType, Store, type CdnBehavior } from './store.js';

/** One `POST /channels/{id}/typing` the bot made. */
export interface TypingEvent {
  channelId: Snowflake;
  at: number;
}

/** Extra attachment fields when storing bytes. */
export interface BlobExtras {
  description?: string;
  title?: string;
  ephemeral?: boolean;
  /** Report this `size` instead of the real byte count (to test size checks made before downloading). */
  declaredSize?: number;
  behavior?: CdnBehavior;
}

/** Discord's filename clean-up: whitespace to `_`, only a safe character set kept. */
export function sanitizeFilename(name: string): string {
  const cleaned = name.replace(/\s+/g, '_').replace(/[^A-Za-z0-9._-]/g, '');
  return cleaned.length > 0 ? cleaned : 'unknown';
}

/** The attachment flag Discord sets on files named `SPOILER_…` (IS_SPOILER). */
export const attachmentIsSpoiler = 1 << 3;

/**
 * The shared state and domain rules of the fake: the store, the gateway, attachment and message building,
 * event dispatching with Discord's intent and message-content rules, and the interaction registry.
 */
export class Core {
  readonly snowflakes = new SnowflakeGenerator();
  readonly events = new EventEmitter();
  readonly store: Store;
  readonly gateway: Gateway;
  readonly applicationId: Snowflake;
  readonly botUserId: Snowflake;
  readonly interactions = new Map<Snowflake, InteractionRecord>();
  readonly interactionsByToken = new Map<string, InteractionRecord>();
  /** Ephemeral message id → the interaction that holds it. */
  readonly ephemeralOwners = new Map<Snowflake, InteractionRecord>();
  readonly typing: TypingEvent[] = [];
  sessionStartRemaining: number;
  /** `http://127.0.0.1:PORT`, set once the server listens. */
  baseUrl = '';

  constructor(readonly options: ResolvedOptions) {
    this.events.setMaxListeners(0);
    this.applicationId = this.snowflakes.next();
    this.botUserId = this.applicationId;
    this.store = new Store(this.botUserId);
    this.store.users.set(this.botUserId, {
      id: this.botUserId,
      username: options.botUsername,
      globalName: null,
      bot: true,
      acceptsDms: true,
    });
    this.sessionStartRemaining = options.sessionStartLimit;
    const privileged = options.privilegedIntents;
    this.gateway = new Gateway(
      {
        botToken: options.botToken,
        heartbeatIntervalMs: options.heartbeatIntervalMs,
        privilegedIntentBits: PRIVILEGED_INTENTS.guildMembers | PRIVILEGED_INTENTS.guildPresences | PRIVILEGED_INTENTS.messageContent,
        allowedPrivilegedIntents:
          (privileged.guildMembers ? PRIVILEGED_INTENTS.guildMembers : 0) |
          (privileged.guildPresences ? PRIVILEGED_INTENTS.guildPresences : 0) |
          (privileged.messageContent ? PRIVILEGED_INTENTS.messageContent : 0),
        resumeWindowMs: options.resumeWindowMs,
        replayBufferSize: options.replayBufferSize,
        payloadCompressionThreshold: options.payloadCompressionThreshold,
        zombieAfterIntervals: options.zombieAfterIntervals,
        onIdentify: () => {
          if (this.sessionStartRemaining <= 0) return false;
          this.sessionStartRemaining--;
          return true;
        },
        maxConcurrency: options.maxConcurrency,
        identifyIntervalMs: options.identifyIntervalMs,
        sendLimitPerMinute: options.gatewaySendLimitPerMinute,
      },
      {
        readyData: () => ({
          user: { ...this.store.userJson(this.botUserId), verified: true, mfa_enabled: false, email: null },
          application: { id: this.applicationId, flags: this.applicationFlags() },
        }),
        guildIds: () => [...this.store.guilds.keys()],
        guildCreate: (guildId, session) => this.guildCreateJson(guildId, session),
        guildMembers: (guildId, query) => {
          const guild = this.store.guilds.get(guildId);
          if (!guild) return null;
          let ids = [...guild.members.keys()];
          if (query.userIds) ids = ids.filter((id) => query.userIds!.includes(id));
          if (query.query) ids = ids.filter((id) => this.store.users.get(id)?.username.startsWith(query.query!));
          if (query.limit) ids = ids.slice(0, query.limit);
          return ids.map((id) => this.store.memberJson(guildId, id));
        },
      },
    );
    for (const event of ['connection', 'identify', 'identifyRejected', 'resume', 'resumeRejected', 'dispatch', 'close', 'op']) {
      this.gateway.on(event, (data: unknown) => this.events.emit(`gateway:${event}`, data));
    }
  }

  /** The application's flags: the "intent approved" bits for the approved privileged intents. */
  applicationFlags(): number {
    const p = this.options.privilegedIntents;
    // GATEWAY_PRESENCE_LIMITED (1<<13), GATEWAY_GUILD_MEMBERS_LIMITED (1<<15), GATEWAY_MESSAGE_CONTENT_LIMITED (1<<19).
    return (p.guildPresences ? 1 << 13 : 0) | (p.guildMembers ? 1 << 15 : 0) | (p.messageContent ? 1 << 19 : 0);
  }

  /** The bot's user JSON. */
  botUser(): ApiUser {
    return this.store.userJson(this.botUserId);
  }

  // ---------------------------------------------------------------- attachments

  /** Public URL and proxy URL of an attachment, with Discord's signed-URL query parameters. */
  attachmentUrls(channelId: Snowflake, id: Snowflake, filename: string, ephemeral = false): { url: string; proxy_url: string } {
    const expires = Math.floor(Date.now() / 1000) + 24 * 3600;
    const issued = Math.floor(Date.now() / 1000);
    const path = `${ephemeral ? 'ephemeral-attachments' : 'attachments'}/${channelId}/${id}/${filename}`;
    const hm = createHash('sha256').update(`${path}:${expires}`).digest('hex');
    const query = `?ex=${expires.toString(16)}&is=${issued.toString(16)}&hm=${hm}&`;
    return { url: `${this.baseUrl}/${path}${query}`, proxy_url: `${this.baseUrl}/media/${path}${query}` };
  }

  /** Keeps bytes for the CDN and returns the attachment object pointing at them. */
  storeBlob(channelId: Snowflake, data: Buffer, filename: string, contentType: string | undefined, extras: BlobExtras = {}): ApiAttachment {
    const id = this.snowflakes.next();
    const clean = sanitizeFilename(filename);
    const type = contentType && contentType !== 'application/octet-stream' ? contentType : guessContentType(clean, data);
    this.store.blobs.set(id, {
      id,
      filename: clean,
      contentType: type ?? 'application/octet-stream',
      data,
      behavior: extras.behavior ?? {},
    });
    const size = imageSize(data);
    return {
      id,
      filename: clean,
      ...(extras.title !== undefined ? { title: extras.title } : {}),
      ...(extras.description !== undefined ? { description: extras.description } : {}),
      ...(type !== undefined ? { content_type: type } : {}),
      size: extras.declaredSize ?? data.length,
      ...this.attachmentUrls(channelId, id, clean, extras.ephemeral === true),
      ...(size ? { width: size.width, height: size.height } : {}),
      ...(extras.ephemeral ? { ephemeral: true } : {}),
      // Discord blurs a file whose name starts with SPOILER_ and marks it IS_SPOILER (1 << 3) in `flags`.
      ...(clean.startsWith('SPOILER_') ? { flags: attachmentIsSpoiler } : {}),
      ...(size ? { placeholder: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==', placeholder_version: 1 } : {}),
    };
  }

  /**
   * The attachments of a new or edited message: entries of the body's `attachments` array whose id is a
   * `files[n]` index become new uploads, other ids keep the existing attachment with that id; files without
   * an entry are appended. Without an `attachments` array an edit keeps the existing ones.
   */
  buildAttachments(channelId: Snowflake, input: MessageInput, existing: readonly ApiAttachment[], ephemeral: boolean): ApiAttachment[] {
    const filesByIndex = new Map<string, (typeof input.files)[number]>();
    input.files.forEach((file, position) => {
      const match = /^files\[(\d+)\]$/.exec(file.field) ?? /^file(\d*)$/.exec(file.field);
      filesByIndex.set(match?.[1] !== undefined && match[1] !== '' ? match[1] : String(position), file);
    });
    const result: ApiAttachment[] = [];
    const used = new Set<string>();
    if (input.attachments) {
      for (const spec of input.attachments) {
        const file = filesByIndex.get(spec.id);
        if (file) {
          used.add(spec.id);
          result.push(
            this.storeBlob(channelId, file.data, spec.filename ?? file.filename, file.contentType, {
              ...(spec.description !== undefined ? { description: spec.description } : {}),
              ...(spec.title !== undefined ? { title: spec.title } : {}),
              ephemeral,
            }),
          );
          continue;
        }
        const kept = existing.find((a) => a.id === spec.id);
        if (!kept)
          throw DiscordErrors.invalidFormBody([
            { path: 'attachments', code: 'ATTACHMENT_NOT_FOUND', message: `Attachment ${spec.id} not found` },
          ]);
        result.push({ ...kept, ...(spec.description !== undefined ? { description: spec.description } : {}) });
      }
    } else {
      result.push(...existing);
    }
    for (const [index, file] of filesByIndex) {
      if (!used.has(index)) result.push(this.storeBlob(channelId, file.data, file.filename, file.contentType, { ephemeral }));
    }
    if (result.length > this.options.maxFilesPerMessage) {
      throw DiscordErrors.invalidFormBody([
        { path: 'attachments', code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${this.options.maxFilesPerMessage} or fewer in length.` },
      ]);
    }
    return result;
  }

  // ---------------------------------------------------------------- messages

  /** Users, roles and @everyone a message mentions, filtered by `allowed_mentions` as Discord does. */
  computeMentions(
    content: string,
    guildId: Snowflake | null,
    authorId: Snowflake,
    channelId: Snowflake,
    allowed: AllowedMentions | undefined,
    repliedUserId: Snowflake | null,
  ): Pick<ApiMessage, 'mentions' | 'mention_roles' | 'mention_everyone'> {
    const userIds = new Set<string>();
    for (const m of content.matchAll(/<@!?(\d{17,20})>/g)) if (m[1]) userIds.add(m[1]);
    const roleIds = new Set<string>();
    for (const m of content.matchAll(/<@&(\d{17,20})>/g)) if (m[1]) roleIds.add(m[1]);
    const everyone = /@(everyone|here)\b/.test(content);
    const users = [...userIds].filter((id) => {
      if (!this.store.users.has(id)) return false;
      if (!allowed) return true;
      return allowed.parse?.includes('users') === true || allowed.users?.includes(id) === true;
    });
    if (repliedUserId && (allowed ? allowed.replied_user === true : true) && !users.includes(repliedUserId)) users.push(repliedUserId);
    const roles = [...roleIds].filter((id) => {
      if (!guildId || !this.store.guilds.get(guildId)?.roles.has(id)) return false;
      if (!allowed) return true;
      return allowed.parse?.includes('roles') === true || allowed.roles?.includes(id) === true;
    });
    const canEveryone = guildId !== null && (this.store.permissionsIn(channelId, authorId) & PermissionFlags.MentionEveryone) !== 0n;
    return {
      mentions: users.map((id) => this.store.userJson(id)),
      mention_roles: roles,
      mention_everyone: everyone && canEveryone && (!allowed || allowed.parse?.includes('everyone') === true),
    };
  }

  /** Points `attachment://name` embed images at the uploaded attachment, as Discord does. */
  private resolveEmbedAttachments(embeds: ApiEmbed[], attachments: readonly ApiAttachment[]): ApiEmbed[] {
    const fix = (media: ApiEmbed['image']): ApiEmbed['image'] => {
      if (!media || !media.url.startsWith('attachment://')) return media;
      const attachment = attachments.find((a) => a.filename === media.url.slice('attachment://'.length));
      if (!attachment) return media;
      return {
        ...media,
        url: attachment.url,
        proxy_url: attachment.proxy_url,
        ...(attachment.width ? { width: attachment.width, height: attachment.height ?? 0 } : {}),
      };
    };
    return embeds.map((embed) => {
      const out: ApiEmbed = { type: 'rich', ...embed };
      if (embed.image) out.image = fix(embed.image);
      if (embed.thumbnail) out.thumbnail = fix(embed.thumbnail);
      return out;
    });
  }

  /** The referenced message of a reply, or null when the reference is dropped (fail_if_not_exists: false). */
  resolveReference(channelId: Snowflake, input: MessageInput): ApiMessage | null {
    const ref = input.messageReference;
    if (!ref || ref.message_id === undefined) return null;
    const referenced = this.store.findMessage(ref.message_id);
    if (!referenced || referenced.channel_id !== (ref.channel_id ?? channelId)) {
      if (ref.fail_if_not_exists === false) return null;
      throw DiscordErrors.invalidFormBody([
        { path: 'message_reference', code: 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', message: 'Unknown message' },
      ]);
    }
    return referenced;
  }

  /** Builds a new message from a validated body. The caller stores and dispatches it. */
  composeMessage(args: {
    channelId: Snowflake;
    authorId: Snowflake;
    input: MessageInput;
    type?: number;
    ephemeral?: boolean;
    extra?: Partial<ApiMessage>;
  }): ApiMessage {
    const { channelId, authorId, input } = args;
    const channel = this.store.requireChannel(channelId);
    const referenced = this.resolveReference(channelId, input);
    const flags =
      (input.flags ?? 0) &
      (MessageFlags.SuppressEmbeds | MessageFlags.Ephemeral | MessageFlags.SuppressNotifications | MessageFlags.IsComponentsV2);
    const ephemeral = args.ephemeral ?? (flags & MessageFlags.Ephemeral) !== 0;
    const attachments = this.buildAttachments(channelId, input, [], ephemeral);
    const id = this.snowflakes.next();
    const content = input.content ?? '';
    const mentionInfo = this.computeMentions(
      content,
      channel.guildId,
      authorId,
      channelId,
      input.allowedMentions,
      referenced?.author.id ?? null,
    );
    const message: ApiMessage = {
      type: referenced ? MessageType.Reply : (args.type ?? MessageType.Default),
      content,
      mentions: mentionInfo.mentions,
      mention_roles: mentionInfo.mention_roles,
      attachments,
      embeds: this.resolveEmbedAttachments(input.embeds ?? [], attachments),
      timestamp: discordTimestamp(),
      edited_timestamp: null,
      flags: ephemeral ? flags | MessageFlags.Ephemeral : flags,
      components: input.components ?? [],
      id,
      channel_id: channelId,
      author: this.store.userJson(authorId),
      pinned: false,
      mention_everyone: mentionInfo.mention_everyone,
      tts: input.tts ?? false,
      ...(input.nonce !== undefined ? { nonce: input.nonce } : {}),
      ...(referenced
        ? {
            message_reference: {
              type: 0,
              channel_id: channelId,
              message_id: referenced.id,
              ...(channel.guildId ? { guild_id: channel.guildId } : {}),
            },
            referenced_message: referenced,
          }
        : {}),
      ...(input.poll !== undefined ? { poll: input.poll } : {}),
      ...args.extra,
    };
    return message;
  }

  /** Applies an edit body to a message (only the fields that were sent). Throws 50006 if it would become empty. */
  composeEdit(message: ApiMessage, input: MessageInput, ephemeral: boolean): ApiMessage {
    const channel = this.store.requireChannel(message.channel_id);
    const edited: ApiMessage = { ...message, edited_timestamp: discordTimestamp() };
    if (input.present.has('content')) edited.content = input.content ?? '';
    if (input.present.has('embeds')) edited.embeds = input.embeds ?? [];
    if (input.present.has('components')) edited.components = input.components ?? [];
    if (input.present.has('attachments') || input.files.length > 0)
      edited.attachments = this.buildAttachments(message.channel_id, input, message.attachments, ephemeral);
    if (input.present.has('embeds') || input.present.has('attachments') || input.files.length > 0) {
      edited.embeds = this.resolveEmbedAttachments(edited.embeds, edited.attachments);
    }
    if (input.present.has('flags')) {
      const changeable = MessageFlags.SuppressEmbeds | MessageFlags.IsComponentsV2;
      edited.flags = (message.flags & ~changeable) | ((input.flags ?? 0) & changeable);
    }
    if (input.present.has('content') || input.present.has('allowed_mentions')) {
      Object.assign(
        edited,
        this.computeMentions(edited.content, channel.guildId, message.author.id, message.channel_id, input.allowedMentions, null),
      );
    }
    const empty =
      edited.content.trim() === '' &&
      edited.embeds.length === 0 &&
      edited.attachments.length === 0 &&
      edited.components.length === 0 &&
      (edited.flags & MessageFlags.Loading) === 0 &&
      edited.poll === undefined;
    if (empty) throw DiscordErrors.emptyMessage();
    return edited;
  }

  // ---------------------------------------------------------------- dispatching

  /** Removes what a bot without the MessageContent intent may not see (Discord's message content rule). */
  redactForSession(message: ApiMessage, session: GatewaySession): ApiMessage {
    if ((session.intents & GatewayIntent.MessageContent) !== 0) return message;
    return this.redact(message);
  }

  /** Message content rule: content, embeds, attachments, components and polls are emptied unless the bot
   * wrote the message, it is in a DM, or it mentions the bot. */
  redact(message: ApiMessage): ApiMessage {
    const visible =
      message.author.id === this.botUserId ||
      (this.store.channels.get(message.channel_id)?.guildId ?? null) === null ||
      message.mentions.some((u) => u.id === this.botUserId);
    const referenced = message.referenced_message ? this.redact(message.referenced_message) : message.referenced_message;
    if (visible) return referenced === message.referenced_message ? message : { ...message, referenced_message: referenced ?? null };
    const { poll: _poll, ...rest } = message;
    return {
      ...rest,
      content: '',
      embeds: [],
      attachments: [],
      components: [],
      ...(referenced !== undefined ? { referenced_message: referenced } : {}),
    };
  }

  /**
   * The `d` of MESSAGE_CREATE / MESSAGE_UPDATE: the message plus `guild_id`, the author's partial `member`
   * (not for webhook messages such as interaction responses), members on mentions, and the channel type.
   * Ephemeral messages go to the bot like DMs: without `guild_id` and `member`.
   */
  messageEventData(message: ApiMessage): ApiMessage {
    const channel = this.store.requireChannel(message.channel_id);
    const data: ApiMessage = { ...message, channel_type: channel.type };
    if (channel.guildId && (message.flags & MessageFlags.Ephemeral) === 0) {
      const guild = this.store.requireGuild(channel.guildId);
      data.guild_id = channel.guildId;
      if (message.webhook_id === undefined && guild.members.has(message.author.id)) {
        data.member = this.store.memberJson(channel.guildId, message.author.id, { withUser: false });
      }
      data.mentions = message.mentions.map((u) =>
        guild.members.has(u.id) ? { ...u, member: this.store.memberJson(channel.guildId!, u.id, { withUser: false }) } : u,
      );
    }
    return data;
  }

  /** How a message event is routed: guild messages by guild and GUILD_MESSAGES, DMs and ephemeral messages by DIRECT_MESSAGES. */
  private messageRouting(message: ApiMessage): DispatchRouting {
    const channel = this.store.requireChannel(message.channel_id);
    const asGuild = channel.guildId !== null && (message.flags & MessageFlags.Ephemeral) === 0;
    return asGuild
      ? { guildId: channel.guildId, intents: GatewayIntent.GuildMessages }
      : { guildId: null, intents: GatewayIntent.DirectMessages };
  }

  /** Dispatches MESSAGE_CREATE or MESSAGE_UPDATE (`tts` is always false in updates, as on Discord). */
  dispatchMessage(t: 'MESSAGE_CREATE' | 'MESSAGE_UPDATE', message: ApiMessage): void {
    const data = this.messageEventData(t === 'MESSAGE_UPDATE' ? { ...message, tts: false } : message);
    this.gateway.dispatch(t, data, {
      ...this.messageRouting(message),
      transform: (d, session) => this.redactForSession(d as ApiMessage, session),
    });
    this.events.emit('message', { kind: t === 'MESSAGE_CREATE' ? 'create' : 'update', message });
  }

  /** Dispatches MESSAGE_DELETE. */
  dispatchMessageDelete(message: ApiMessage): void {
    const routing = this.messageRouting(message);
    this.gateway.dispatch(
      'MESSAGE_DELETE',
      { id: message.id, channel_id: message.channel_id, ...(routing.guildId ? { guild_id: routing.guildId } : {}) },
      routing,
    );
    this.events.emit('message', { kind: 'delete', message });
  }

  // ---------------------------------------------------------------- guild JSON

  /** The guild object of REST `GET /guilds/{id}` (and the base of GUILD_CREATE). */
  guildJson(guildId: Snowflake): Record<string, unknown> {
    const guild = this.store.requireGuild(guildId);
    const firstText = guild.channelIds.find((id) => this.store.channels.get(id)?.type === ChannelType.GuildText) ?? null;
    return {
      id: guild.id,
      name: guild.name,
      icon: null,
      icon_hash: null,
      splash: null,
      discovery_splash: null,
      owner_id: guild.ownerId,
      afk_channel_id: null,
      afk_timeout: 300,
      widget_enabled: false,
      widget_channel_id: null,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      roles: [...guild.roles.values()].map((r) => this.store.roleJson(r)),
      emojis: [],
      stickers: [],
      features: [],
      mfa_level: 0,
      application_id: null,
      system_channel_id: firstText,
      system_channel_flags: 0,
      rules_channel_id: null,
      max_presences: null,
      max_members: 500000,
      vanity_url_code: null,
      description: null,
      banner: null,
      premium_tier: 0,
      premium_subscription_count: 0,
      preferred_locale: guild.locale,
      public_updates_channel_id: null,
      max_video_channel_users: 25,
      max_stage_video_channel_users: 50,
      nsfw_level: 0,
      premium_progress_bar_enabled: false,
      safety_alerts_channel_id: null,
      incidents_data: null,
    };
  }

  /** GUILD_CREATE's `d` for a session: the guild plus members (only the bot's, unless presences are
   * identified and the guild is small), channels, and the gateway-only fields. */
  guildCreateJson(guildId: Snowflake, session: GatewaySession): Record<string, unknown> {
    const guild = this.store.requireGuild(guildId);
    const memberIds = [...guild.members.keys()];
    const large = memberIds.length > session.largeThreshold;
    const everyone = !large && (session.intents & GatewayIntent.GuildPresences) !== 0;
    return {
      ...this.guildJson(guildId),
      joined_at: guild.joinedAt,
      large,
      unavailable: false,
      member_count: memberIds.length,
      voice_states: [],
      members: (everyone ? memberIds : [this.botUserId]).map((id) => this.store.memberJson(guildId, id)),
      channels: guild.channelIds.map((id) => this.store.channelJson(id, { inGuildCreate: true })),
      threads: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
      embedded_activities: [],
      lazy: true,
      application_command_counts: {},
    };
  }

  // ---------------------------------------------------------------- interactions

  /** Registers an interaction (ids, token, deadlines) and dispatches INTERACTION_CREATE. */
  createInteraction(args: {
    type: number;
    channelId: Snowflake;
    userId: Snowflake;
    data: Record<string, unknown>;
    locale?: string;
    message?: ApiMessage;
    commandName?: string | null;
    responseMessageType?: number;
    attachmentSizeLimit?: number;
  }): InteractionHandle {
    if (!this.gateway.hasLiveSession()) throw new Error('no gateway session: log the bot in before sending interactions');
    const channel = this.store.requireChannel(args.channelId);
    const id = this.snowflakes.next();
    const token = Buffer.from(`interaction:${id}:${randomBytes(48).toString('base64url')}`).toString('base64url');
    const guildId = channel.guildId;
    const attachmentSizeLimit = args.attachmentSizeLimit ?? this.options.attachmentSizeLimit;
    const now = Date.now();
    const appPermissions = this.store.permissionsIn(args.channelId, this.botUserId);
    const payload: Record<string, unknown> = {
      app_permissions: appPermissions.toString(),
      application_id: this.applicationId,
      attachment_size_limit: attachmentSizeLimit,
      authorizing_integration_owners: { '0': guildId ?? '0' },
      channel: {
        ...this.store.channelJson(args.channelId),
        ...(guildId ? { permissions: this.store.permissionsIn(args.channelId, args.userId).toString() } : {}),
      },
      channel_id: args.channelId,
      context: guildId ? 0 : channel.type === ChannelType.DM ? 1 : 2,
      data: args.data,
      entitlement_sku_ids: [],
      entitlements: [],
      id,
      locale: args.locale ?? 'en-US',
      token,
      type: args.type,
      version: 1,
      ...(args.message ? { message: args.message } : {}),
    };
    if (guildId) {
      const guild = this.store.requireGuild(guildId);
      payload.guild = { id: guildId, locale: guild.locale, features: [] };
      payload.guild_id = guildId;
      payload.guild_locale = guild.locale;
      payload.member = this.store.memberJson(guildId, args.userId, { permissionsIn: args.channelId });
    } else {
      payload.user = this.store.userJson(args.userId);
    }
    const record: InteractionRecord = {
      id,
      token,
      type: args.type,
      applicationId: this.applicationId,
      channelId: args.channelId,
      guildId,
      userId: args.userId,
      payload,
      dispatchedAt: now,
      ackDeadline: now + this.options.interactionAckTimeoutMs,
      tokenExpiresAt: now + this.options.interactionTokenLifetimeMs,
      attachmentSizeLimit,
      sourceMessageId: args.message?.id ?? null,
      commandName: args.commandName ?? null,
      responseMessageType: args.responseMessageType ?? MessageType.Default,
      ack: null,
      originalMessageId: null,
      loading: false,
      ephemeralMessages: new Map(),
      followUpIds: [],
      steps: [],
      emitter: new EventEmitter(),
    };
    record.emitter.setMaxListeners(0);
    record.emitter.on('step', (step) => this.events.emit('interaction', { interactionId: id, step }));
    this.interactions.set(id, record);
    this.interactionsByToken.set(token, record);
    this.gateway.dispatch('INTERACTION_CREATE', payload, { guildId });
    return new InteractionHandle(record, (messageId) => this.findAnyMessage(messageId), {
      expireToken: () => {
        record.tokenExpiresAt = Date.now() - 1;
      },
      expireAcknowledgement: () => {
        record.ackDeadline = Date.now() - 1;
      },
    });
  }

  /** A message by id: a channel message, or an ephemeral one some interaction holds. */
  findAnyMessage(id: Snowflake): ApiMessage | undefined {
    return this.store.findMessage(id) ?? this.ephemeralOwners.get(id)?.ephemeralMessages.get(id);
  }

  /** Keeps a new message: ephemeral ones with their interaction, others in the channel (and dispatched). */
  keepNewMessage(message: ApiMessage, record: InteractionRecord | null): void {
    if ((message.flags & MessageFlags.Ephemeral) !== 0) {
      if (!record) throw new Error('an ephemeral message needs an interaction');
      record.ephemeralMessages.set(message.id, message);
      this.ephemeralOwners.set(message.id, record);
      this.dispatchMessage('MESSAGE_CREATE', message);
      return;
    }
    this.store.addMessage(message);
    this.dispatchMessage('MESSAGE_CREATE', message);
  }

  /** Stores a message's new state (ephemeral or channel) and dispatches MESSAGE_UPDATE for channel messages. */
  keepEditedMessage(message: ApiMessage): void {
    const owner = this.ephemeralOwners.get(message.id);
    if (owner) {
      owner.ephemeralMessages.set(message.id, message);
      this.dispatchMessage('MESSAGE_UPDATE', message);
      return;
    }
    this.store.replaceMessage(message);
    this.dispatchMessage('MESSAGE_UPDATE', message);
  }

  /** Deletes a message (ephemeral or channel) and dispatches MESSAGE_DELETE for channel messages. */
  deleteAnyMessage(message: ApiMessage): void {
    const owner = this.ephemeralOwners.get(message.id);
    if (owner) {
      owner.ephemeralMessages.delete(message.id);
      this.ephemeralOwners.delete(message.id);
      this.dispatchMessageDelete(message);
      return;
    }
    this.store.removeMessage(message.id);
    this.dispatchMessageDelete(message);
  }

  /** Whether the channel lets the bot act; throws Discord's 50001/50013 answers when it does not. */
  requireBotPermissions(channelId: Snowflake, needed: bigint): void {
    const channel = this.store.channels.get(channelId);
    if (!channel) throw DiscordErrors.unknownChannel();
    if (channel.guildId === null) return;
    const permissions = this.store.permissionsIn(channelId, this.botUserId);
    if ((permissions & PermissionFlags.ViewChannel) === 0n) throw DiscordErrors.missingAccess();
    if ((permissions & needed) !== needed) throw DiscordErrors.missingPermissions();
  }

  /** A stored channel that holds messages, or Discord's 10003. */
  requireTextChannel(channelId: Snowflake): void {
    const channel = this.store.channels.get(channelId);
    if (!channel || !isTextChannelType(channel.type)) throw DiscordErrors.unknownChannel();
  }
}

/** Content type from well-known magic bytes or the file extension (what Discord reports for uploads). */
export function guessContentType(filename: string, data: Buffer): string | undefined {
  if (data.length >= 8 && data.readUInt32BE(0) === 0x89504e47) return 'image/png';
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
  if (data.length >= 6 && data.toString('latin1', 0, 3) === 'GIF') return 'image/gif';
  if (data.length >= 12 && data.toString('latin1', 0, 4) === 'RIFF' && data.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  const ext = filename.toLowerCase().split('.').pop();
  const byExt: Record<string, string> = {
    txt: 'text/plain; charset=utf-8',
    json: 'application/json; charset=utf-8',
    png: 'image/png',
    jpg: 'image/jpeg',
    jpeg: 'image/jpeg',
    webp: 'image/webp',
    gif: 'image/gif',
  };
  return ext ? byExt[ext] : undefined;
}
