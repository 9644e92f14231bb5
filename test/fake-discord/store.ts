import type { ApiChannel, ApiCommand, ApiMember, ApiMessage, ApiRole, ApiUser, Snowflake } from './api-types.js';
import { ChannelType } from './api-types.js';
import { computeChannelPermissions, DM_PERMISSIONS, type Overwrite, type PermissionSubject } from './permissions.js';

/** A user as the fake keeps it. */
export interface UserRecord {
  id: Snowflake;
  username: string;
  globalName: string | null;
  bot: boolean;
  /** False makes the bot's DMs to this user fail with 50007. */
  acceptsDms: boolean;
}

/** A role. The @everyone role's id is the guild id. */
export interface RoleRecord {
  id: Snowflake;
  name: string;
  permissions: bigint;
  position: number;
  managed: boolean;
  botId?: Snowflake;
  color: number;
  hoist: boolean;
  mentionable: boolean;
}

/** A guild member. */
export interface MemberRecord {
  userId: Snowflake;
  roles: Snowflake[];
  nick: string | null;
  joinedAt: string;
}

/** A guild. */
export interface GuildRecord {
  id: Snowflake;
  name: string;
  ownerId: Snowflake;
  locale: string;
  roles: Map<Snowflake, RoleRecord>;
  members: Map<Snowflake, MemberRecord>;
  channelIds: Snowflake[];
  joinedAt: string;
}

/** A channel (guild channel or DM) with its messages, oldest first. */
export interface ChannelRecord {
  id: Snowflake;
  type: number;
  guildId: Snowflake | null;
  name: string | null;
  position: number;
  overwrites: Overwrite[];
  topic: string | null;
  nsfw: boolean;
  parentId: Snowflake | null;
  lastMessageId: Snowflake | null;
  recipientIds: Snowflake[];
  messages: ApiMessage[];
}

/** The bytes behind an attachment URL, and how the CDN should (mis)behave when serving them. */
export interface BlobRecord {
  id: Snowflake;
  filename: string;
  contentType: string;
  data: Buffer;
  behavior: CdnBehavior;
}

/**
 * How the CDN serves one attachment, for testing the bot's download code against a misbehaving CDN.
 * Everything is optional; an empty object serves the bytes normally.
 */
export interface CdnBehavior {
  /** Answer with this status (and a short text body) instead of the file. */
  status?: number;
  /** Wait this long before the response headers. */
  delayMs?: number;
  /** Send the body in chunks at this rate (bytes per second) instead of all at once. */
  bytesPerSecond?: number;
  /** Declare this Content-Length instead of the real one (a larger value leaves the body short). */
  contentLength?: number;
  /** Send no Content-Length at all (chunked transfer encoding). */
  omitContentLength?: boolean;
  /** Declare this Content-Type instead of the attachment's. */
  contentType?: string;
  /** Send only the first N bytes of the body, then destroy the socket. */
  truncateAt?: number;
  /** Never answer: accept the request and keep the socket open until the client gives up or the fake closes. */
  hang?: boolean;
  /** Answer only once this settles (before `delayMs`): a test keeps downloads in flight and releases them when it wants. */
  holdUntil?: Promise<unknown>;
}

/** The ISO-8601 timestamp format Discord uses (`2024-01-01T00:00:00.000000+00:00`). */
export function discordTimestamp(ms: number = Date.now()): string {
  return new Date(ms).toISOString().replace('Z', '000+00:00');
}

const TEXT_CHANNEL_TYPES: ReadonlySet<number> = new Set([
  ChannelType.GuildText,
  ChannelType.DM,
  ChannelType.GuildVoice,
  ChannelType.GroupDM,
  ChannelType.GuildAnnouncement,
]);

/** True for channel types that hold messages. */
export function isTextChannelType(type: number): boolean {
  return TEXT_CHANNEL_TYPES.has(type) || (type >= 10 && type <= 12);
}

/** The state of the fake Discord: users, guilds, channels, messages, attachments and commands. */
export class Store {
  readonly users = new Map<Snowflake, UserRecord>();
  readonly guilds = new Map<Snowflake, GuildRecord>();
  readonly channels = new Map<Snowflake, ChannelRecord>();
  readonly blobs = new Map<Snowflake, BlobRecord>();
  /** Application commands per scope: `global` or a guild id. */
  readonly commands = new Map<string, ApiCommand[]>();
  /** Creation times of application commands per scope (for the daily create limit). */
  readonly commandCreations = new Map<string, number[]>();
  /** Message id → channel id, for messages kept in channels. */
  readonly messageChannel = new Map<Snowflake, Snowflake>();

  constructor(readonly botUserId: Snowflake) {}

  userJson(id: Snowflake): ApiUser {
    const user = this.users.get(id);
    if (!user) throw new Error(`unknown user ${id}`);
    return {
      id: user.id,
      username: user.username,
      discriminator: user.bot ? '4242' : '0',
      global_name: user.globalName,
      avatar: null,
      ...(user.bot ? { bot: true } : {}),
      public_flags: 0,
      flags: 0,
      banner: null,
      accent_color: null,
      avatar_decoration_data: null,
      collectibles: null,
      primary_guild: null,
    };
  }

  roleJson(role: RoleRecord): ApiRole {
    return {
      id: role.id,
      name: role.name,
      description: null,
      color: role.color,
      colors: { primary_color: role.color, secondary_color: null, tertiary_color: null },
      hoist: role.hoist,
      icon: null,
      unicode_emoji: null,
      position: role.position,
      permissions: role.permissions.toString(),
      managed: role.managed,
      mentionable: role.mentionable,
      flags: 0,
      ...(role.botId ? { tags: { bot_id: role.botId } } : {}),
    };
  }

  /** A member's JSON; `withUser` adds the `user` object, `permissionsIn` the interaction `permissions` field. */
  memberJson(guildId: Snowflake, userId: Snowflake, options: { withUser?: boolean; permissionsIn?: Snowflake } = {}): ApiMember {
    const guild = this.requireGuild(guildId);
    const member = guild.members.get(userId);
    if (!member) throw new Error(`user ${userId} is not a member of guild ${guildId}`);
    return {
      ...(options.withUser === false ? {} : { user: this.userJson(userId) }),
      nick: member.nick,
      avatar: null,
      banner: null,
      roles: [...member.roles],
      joined_at: member.joinedAt,
      premium_since: null,
      deaf: false,
      mute: false,
      flags: 0,
      pending: false,
      communication_disabled_until: null,
      unusual_dm_activity_until: null,
      ...(options.permissionsIn !== undefined ? { permissions: this.permissionsIn(options.permissionsIn, userId).toString() } : {}),
    };
  }

  /** A channel's JSON. `inGuildCreate` drops `guild_id`, as Discord does inside GUILD_CREATE. */
  channelJson(id: Snowflake, options: { inGuildCreate?: boolean } = {}): ApiChannel {
    const channel = this.requireChannel(id);
    if (channel.type === ChannelType.DM) {
      return {
        id: channel.id,
        type: channel.type,
        last_message_id: channel.lastMessageId,
        flags: 0,
        recipients: channel.recipientIds.filter((r) => r !== this.botUserId).map((r) => this.userJson(r)),
      };
    }
    return {
      id: channel.id,
      type: channel.type,
      ...(options.inGuildCreate || channel.guildId === null ? {} : { guild_id: channel.guildId }),
      name: channel.name ?? '',
      position: channel.position,
      permission_overwrites: channel.overwrites.map((o) => ({
        id: o.id,
        type: o.type,
        allow: o.allow.toString(),
        deny: o.deny.toString(),
      })),
      parent_id: channel.parentId,
      flags: 0,
      ...(channel.type === ChannelType.GuildCategory
        ? {}
        : {
            topic: channel.topic,
            nsfw: channel.nsfw,
            last_message_id: channel.lastMessageId,
            rate_limit_per_user: 0,
            last_pin_timestamp: null,
          }),
    };
  }

  requireGuild(id: Snowflake): GuildRecord {
    const guild = this.guilds.get(id);
    if (!guild) throw new Error(`unknown guild ${id}`);
    return guild;
  }

  requireChannel(id: Snowflake): ChannelRecord {
    const channel = this.channels.get(id);
    if (!channel) throw new Error(`unknown channel ${id}`);
    return channel;
  }

  requireUser(id: Snowflake): UserRecord {
    const user = this.users.get(id);
    if (!user) throw new Error(`unknown user ${id}`);
    return user;
  }

  /** The permission subject of a user in a guild, for the permission algorithm. */
  private subject(guild: GuildRecord, userId: Snowflake): PermissionSubject {
    const member = guild.members.get(userId);
    return {
      guildId: guild.id,
      ownerId: guild.ownerId,
      userId,
      rolePermissions: new Map([...guild.roles.values()].map((r) => [r.id, r.permissions])),
      memberRoles: member?.roles ?? [],
    };
  }

  /** A user's permissions in a channel (0 for non-members). DMs give {@link DM_PERMISSIONS} to both ends. */
  permissionsIn(channelId: Snowflake, userId: Snowflake): bigint {
    const channel = this.requireChannel(channelId);
    if (channel.guildId === null) return channel.recipientIds.includes(userId) ? DM_PERMISSIONS : 0n;
    const guild = this.requireGuild(channel.guildId);
    if (!guild.members.has(userId)) return 0n;
    return computeChannelPermissions(this.subject(guild, userId), channel.overwrites, { textBased: isTextChannelType(channel.type) });
  }

  /** Adds a message to its channel (kept ordered by id) and indexes it. */
  addMessage(message: ApiMessage): void {
    const channel = this.requireChannel(message.channel_id);
    channel.messages.push(message);
    channel.messages.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    channel.lastMessageId = channel.messages[channel.messages.length - 1]?.id ?? null;
    this.messageChannel.set(message.id, channel.id);
  }

  /** A stored (non-ephemeral) message by id. */
  findMessage(id: Snowflake): ApiMessage | undefined {
    const channelId = this.messageChannel.get(id);
    if (channelId === undefined) return undefined;
    return this.channels.get(channelId)?.messages.find((m) => m.id === id);
  }

  /** Replaces a stored message by id with its new state. */
  replaceMessage(message: ApiMessage): void {
    const channel = this.requireChannel(message.channel_id);
    const index = channel.messages.findIndex((m) => m.id === message.id);
    if (index >= 0) channel.messages[index] = message;
  }

  /** Removes a stored message; returns whether it existed. */
  removeMessage(id: Snowflake): boolean {
    const channelId = this.messageChannel.get(id);
    if (channelId === undefined) return false;
    const channel = this.requireChannel(channelId);
    const index = channel.messages.findIndex((m) => m.id === id);
    if (index < 0) return false;
    channel.messages.splice(index, 1);
    this.messageChannel.delete(id);
    return true;
  }

  /** The DM channel between the bot and a user, if one was opened. */
  findDmChannel(userId: Snowflake): ChannelRecord | undefined {
    for (const channel of this.channels.values()) {
      if (channel.type === ChannelType.DM && channel.recipientIds.includes(userId) && channel.recipientIds.includes(this.botUserId))
        return channel;
    }
    return undefined;
  }
}
