/**
 * The JSON shapes the fake Discord speaks, as in the Discord API v10 documentation. Only the fields the fake
 * produces or reads are typed; every object stays open (`[key: string]: unknown`) because the real API
 * carries many more fields and bots may send fields the fake merely stores.
 */

/** A Discord id: a 64-bit snowflake written as a decimal string. */
export type Snowflake = string;

/** A user object (`/users/{id}`). */
export interface ApiUser {
  id: Snowflake;
  username: string;
  discriminator: string;
  global_name: string | null;
  avatar: string | null;
  bot?: boolean;
  system?: boolean;
  public_flags: number;
  flags: number;
  banner: string | null;
  accent_color: number | null;
  avatar_decoration_data: null;
  [key: string]: unknown;
}

/** A role object. Permissions are a decimal string of the bit set. */
export interface ApiRole {
  id: Snowflake;
  name: string;
  color: number;
  hoist: boolean;
  icon: string | null;
  unicode_emoji: string | null;
  position: number;
  permissions: string;
  managed: boolean;
  mentionable: boolean;
  flags: number;
  tags?: { bot_id?: Snowflake };
  [key: string]: unknown;
}

/** A permission overwrite as it appears on a channel. */
export interface ApiOverwrite {
  id: Snowflake;
  /** 0 = role, 1 = member. */
  type: 0 | 1;
  allow: string;
  deny: string;
}

/** A channel object (guild text/voice/category channel or DM). */
export interface ApiChannel {
  id: Snowflake;
  type: number;
  guild_id?: Snowflake;
  name?: string;
  position?: number;
  permission_overwrites?: ApiOverwrite[];
  parent_id?: Snowflake | null;
  topic?: string | null;
  nsfw?: boolean;
  last_message_id?: Snowflake | null;
  rate_limit_per_user?: number;
  recipients?: ApiUser[];
  flags: number;
  [key: string]: unknown;
}

/** A guild member object; `user` is omitted where Discord omits it (MESSAGE_CREATE's `member`). */
export interface ApiMember {
  user?: ApiUser;
  nick: string | null;
  avatar: string | null;
  banner: string | null;
  roles: Snowflake[];
  joined_at: string;
  premium_since: string | null;
  deaf: boolean;
  mute: boolean;
  flags: number;
  pending: boolean;
  communication_disabled_until: string | null;
  /** Only on interaction members: the member's total permissions in the interaction's channel. */
  permissions?: string;
  [key: string]: unknown;
}

/** An attachment object as stored on a message or in `resolved.attachments`. */
export interface ApiAttachment {
  id: Snowflake;
  filename: string;
  title?: string;
  description?: string;
  content_type?: string;
  size: number;
  url: string;
  proxy_url: string;
  width?: number | null;
  height?: number | null;
  ephemeral?: boolean;
  flags?: number;
  [key: string]: unknown;
}

/** A message component (action row, button, select, text input, label, ...). */
export interface ApiComponent {
  type: number;
  id?: number;
  custom_id?: string;
  style?: number;
  label?: string;
  url?: string;
  disabled?: boolean;
  components?: ApiComponent[];
  component?: ApiComponent;
  options?: Array<{ label?: string; value?: string; [key: string]: unknown }>;
  required?: boolean;
  [key: string]: unknown;
}

/** An embed object; only the fields the limits are checked on are typed. */
export interface ApiEmbed {
  title?: string;
  description?: string;
  url?: string;
  fields?: Array<{ name: string; value: string; inline?: boolean }>;
  footer?: { text: string; [key: string]: unknown };
  author?: { name: string; [key: string]: unknown };
  image?: { url: string; proxy_url?: string; width?: number; height?: number; [key: string]: unknown };
  thumbnail?: { url: string; proxy_url?: string; width?: number; height?: number; [key: string]: unknown };
  [key: string]: unknown;
}

/** A message reference (reply, forward). */
export interface ApiMessageReference {
  type?: number;
  message_id?: Snowflake;
  channel_id?: Snowflake;
  guild_id?: Snowflake;
  fail_if_not_exists?: boolean;
}

/** A message object. */
export interface ApiMessage {
  id: Snowflake;
  type: number;
  channel_id: Snowflake;
  guild_id?: Snowflake;
  author: ApiUser;
  member?: ApiMember;
  content: string;
  timestamp: string;
  edited_timestamp: string | null;
  tts: boolean;
  mention_everyone: boolean;
  mentions: Array<ApiUser & { member?: ApiMember }>;
  mention_roles: Snowflake[];
  attachments: ApiAttachment[];
  embeds: ApiEmbed[];
  components: ApiComponent[];
  pinned: boolean;
  flags: number;
  webhook_id?: Snowflake;
  application_id?: Snowflake;
  message_reference?: ApiMessageReference;
  referenced_message?: ApiMessage | null;
  interaction_metadata?: Record<string, unknown>;
  interaction?: Record<string, unknown>;
  nonce?: string | number;
  [key: string]: unknown;
}

/** An application command option as registered by the bot. */
export interface ApiCommandOption {
  type: number;
  name: string;
  description: string;
  required?: boolean;
  choices?: Array<{ name: string; value: string | number }>;
  options?: ApiCommandOption[];
  autocomplete?: boolean;
  [key: string]: unknown;
}

/** An application command's fields without its `id` and `version`. */
export interface ApiCommandBody {
  application_id: Snowflake;
  type: number;
  name: string;
  description: string;
  guild_id?: Snowflake;
  options?: ApiCommandOption[];
  default_member_permissions: string | null;
  [key: string]: unknown;
}

/** An application command as stored and returned by the command routes. */
export interface ApiCommand extends ApiCommandBody {
  id: Snowflake;
  version: Snowflake;
}

/** Discord's error body: `{ code, message, errors? }`. */
export interface ApiErrorBody {
  code: number;
  message: string;
  errors?: unknown;
  [key: string]: unknown;
}

/** Interaction types (`interaction.type`). */
export const InteractionType = {
  Ping: 1,
  ApplicationCommand: 2,
  MessageComponent: 3,
  ApplicationCommandAutocomplete: 4,
  ModalSubmit: 5,
} as const;

/** Interaction callback types (`POST /interactions/{id}/{token}/callback` body `type`). */
export const InteractionResponseType = {
  Pong: 1,
  ChannelMessageWithSource: 4,
  DeferredChannelMessageWithSource: 5,
  DeferredMessageUpdate: 6,
  UpdateMessage: 7,
  ApplicationCommandAutocompleteResult: 8,
  Modal: 9,
  PremiumRequired: 10,
  LaunchActivity: 12,
} as const;

/** Channel types used by the fake. */
export const ChannelType = {
  GuildText: 0,
  DM: 1,
  GuildVoice: 2,
  GroupDM: 3,
  GuildCategory: 4,
  GuildAnnouncement: 5,
  GuildForum: 15,
} as const;

/** Message types used by the fake. */
export const MessageType = {
  Default: 0,
  Reply: 19,
  ChatInputCommand: 20,
  ContextMenuCommand: 23,
} as const;

/** Message flag bits used by the fake. */
export const MessageFlags = {
  SuppressEmbeds: 1 << 2,
  Ephemeral: 1 << 6,
  Loading: 1 << 7,
  SuppressNotifications: 1 << 12,
  IsComponentsV2: 1 << 15,
} as const;

/** Application command option types. */
export const OptionType = {
  Subcommand: 1,
  SubcommandGroup: 2,
  String: 3,
  Integer: 4,
  Boolean: 5,
  User: 6,
  Channel: 7,
  Role: 8,
  Mentionable: 9,
  Number: 10,
  Attachment: 11,
} as const;

/** Gateway intent bits. */
export const GatewayIntent = {
  Guilds: 1 << 0,
  GuildMembers: 1 << 1,
  GuildModeration: 1 << 2,
  GuildExpressions: 1 << 3,
  GuildIntegrations: 1 << 4,
  GuildWebhooks: 1 << 5,
  GuildInvites: 1 << 6,
  GuildVoiceStates: 1 << 7,
  GuildPresences: 1 << 8,
  GuildMessages: 1 << 9,
  GuildMessageReactions: 1 << 10,
  GuildMessageTyping: 1 << 11,
  DirectMessages: 1 << 12,
  DirectMessageReactions: 1 << 13,
  DirectMessageTyping: 1 << 14,
  MessageContent: 1 << 15,
  GuildScheduledEvents: 1 << 16,
  AutoModerationConfiguration: 1 << 20,
  AutoModerationExecution: 1 << 21,
  GuildMessagePolls: 1 << 24,
  DirectMessagePolls: 1 << 25,
} as const;

/** Every intent bit Discord defines; IDENTIFY with any other bit is closed with 4013. */
export const ALL_INTENTS: number = Object.values(GatewayIntent).reduce((a, b) => a | b, 0);

/** The privileged intents, which need the application's approval (else 4014). */
export const PRIVILEGED_INTENTS = {
  guildMembers: GatewayIntent.GuildMembers,
  guildPresences: GatewayIntent.GuildPresences,
  messageContent: GatewayIntent.MessageContent,
} as const;
