/**
 * Discord permission bits and the permission algorithm of the Discord documentation ("Permissions":
 * base permissions from @everyone and the member's roles, then channel overwrites in the order @everyone,
 * roles, member; ADMINISTRATOR and the guild owner get everything; no VIEW_CHANNEL means nothing, and no
 * SEND_MESSAGES in a text channel also removes the permissions that only make sense when sending).
 */

/** Permission bits, named as discord.js's `PermissionFlagsBits`. */
export const PermissionFlags = {
  CreateInstantInvite: 1n << 0n,
  KickMembers: 1n << 1n,
  BanMembers: 1n << 2n,
  Administrator: 1n << 3n,
  ManageChannels: 1n << 4n,
  ManageGuild: 1n << 5n,
  AddReactions: 1n << 6n,
  ViewAuditLog: 1n << 7n,
  PrioritySpeaker: 1n << 8n,
  Stream: 1n << 9n,
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  SendTTSMessages: 1n << 12n,
  ManageMessages: 1n << 13n,
  EmbedLinks: 1n << 14n,
  AttachFiles: 1n << 15n,
  ReadMessageHistory: 1n << 16n,
  MentionEveryone: 1n << 17n,
  UseExternalEmojis: 1n << 18n,
  ViewGuildInsights: 1n << 19n,
  Connect: 1n << 20n,
  Speak: 1n << 21n,
  MuteMembers: 1n << 22n,
  DeafenMembers: 1n << 23n,
  MoveMembers: 1n << 24n,
  UseVAD: 1n << 25n,
  ChangeNickname: 1n << 26n,
  ManageNicknames: 1n << 27n,
  ManageRoles: 1n << 28n,
  ManageWebhooks: 1n << 29n,
  ManageGuildExpressions: 1n << 30n,
  UseApplicationCommands: 1n << 31n,
  RequestToSpeak: 1n << 32n,
  ManageEvents: 1n << 33n,
  ManageThreads: 1n << 34n,
  CreatePublicThreads: 1n << 35n,
  CreatePrivateThreads: 1n << 36n,
  UseExternalStickers: 1n << 37n,
  SendMessagesInThreads: 1n << 38n,
  UseEmbeddedActivities: 1n << 39n,
  ModerateMembers: 1n << 40n,
  ViewCreatorMonetizationAnalytics: 1n << 41n,
  UseSoundboard: 1n << 42n,
  CreateGuildExpressions: 1n << 43n,
  CreateEvents: 1n << 44n,
  UseExternalSounds: 1n << 45n,
  SendVoiceMessages: 1n << 46n,
  SetVoiceChannelStatus: 1n << 48n,
  SendPolls: 1n << 49n,
  UseExternalApps: 1n << 50n,
  PinMessages: 1n << 51n,
  BypassSlowmode: 1n << 52n,
} as const;

/** A permission's name, as in {@link PermissionFlags}. */
export type PermissionName = keyof typeof PermissionFlags;

/** Permissions given as a bit set, a decimal string of one, or a list of names. */
export type PermissionInput = bigint | number | string | readonly PermissionName[];

/** Every defined permission bit. */
export const ALL_PERMISSIONS: bigint = Object.values(PermissionFlags).reduce((a, b) => a | b, 0n);

/** What a fresh guild's @everyone role gets (Discord's defaults for a new server, minus voice-only extras). */
export const DEFAULT_EVERYONE_PERMISSIONS: bigint =
  PermissionFlags.CreateInstantInvite |
  PermissionFlags.AddReactions |
  PermissionFlags.Stream |
  PermissionFlags.ViewChannel |
  PermissionFlags.SendMessages |
  PermissionFlags.EmbedLinks |
  PermissionFlags.AttachFiles |
  PermissionFlags.ReadMessageHistory |
  PermissionFlags.MentionEveryone |
  PermissionFlags.UseExternalEmojis |
  PermissionFlags.Connect |
  PermissionFlags.Speak |
  PermissionFlags.UseVAD |
  PermissionFlags.ChangeNickname |
  PermissionFlags.UseApplicationCommands |
  PermissionFlags.RequestToSpeak |
  PermissionFlags.CreatePublicThreads |
  PermissionFlags.CreatePrivateThreads |
  PermissionFlags.UseExternalStickers |
  PermissionFlags.SendMessagesInThreads |
  PermissionFlags.UseEmbeddedActivities |
  PermissionFlags.SendVoiceMessages |
  PermissionFlags.SendPolls |
  PermissionFlags.UseExternalApps;

/** What the bot's managed role gets by default: what an image bot asks for in its invite link. */
export const DEFAULT_BOT_PERMISSIONS: bigint =
  PermissionFlags.ViewChannel |
  PermissionFlags.SendMessages |
  PermissionFlags.SendMessagesInThreads |
  PermissionFlags.EmbedLinks |
  PermissionFlags.AttachFiles |
  PermissionFlags.ReadMessageHistory |
  PermissionFlags.AddReactions |
  PermissionFlags.UseExternalEmojis |
  PermissionFlags.UseApplicationCommands;

/** The permissions Discord reports in `app_permissions` for interactions in the bot's DMs. */
export const DM_PERMISSIONS: bigint =
  PermissionFlags.AddReactions |
  PermissionFlags.ViewChannel |
  PermissionFlags.SendMessages |
  PermissionFlags.EmbedLinks |
  PermissionFlags.AttachFiles |
  PermissionFlags.ReadMessageHistory |
  PermissionFlags.MentionEveryone |
  PermissionFlags.UseExternalEmojis |
  PermissionFlags.UseApplicationCommands |
  PermissionFlags.UseExternalStickers |
  PermissionFlags.SendVoiceMessages |
  PermissionFlags.SendPolls |
  PermissionFlags.UseExternalApps;

/** Turns any {@link PermissionInput} into a bit set; unknown names throw. */
export function resolvePermissions(input: PermissionInput): bigint {
  if (typeof input === 'bigint') return input;
  if (typeof input === 'number') return BigInt(input);
  if (typeof input === 'string') return BigInt(input);
  let bits = 0n;
  for (const name of input) {
    const bit = PermissionFlags[name];
    if (bit === undefined) throw new Error(`unknown permission name: ${String(name)}`);
    bits |= bit;
  }
  return bits;
}

/** The names of the bits set in `bits` (for readable assertion messages). */
export function permissionNames(bits: bigint): PermissionName[] {
  return (Object.entries(PermissionFlags) as Array<[PermissionName, bigint]>)
    .filter(([, bit]) => (bits & bit) !== 0n)
    .map(([name]) => name);
}

/** One overwrite as the algorithm needs it. */
export interface Overwrite {
  id: string;
  type: 0 | 1;
  allow: bigint;
  deny: bigint;
}

/** What {@link computeBasePermissions} needs to know about a guild and a member. */
export interface PermissionSubject {
  guildId: string;
  ownerId: string;
  userId: string;
  /** Role id → role permission bits, including the @everyone role (whose id is the guild id). */
  rolePermissions: ReadonlyMap<string, bigint>;
  /** The member's role ids (without @everyone). */
  memberRoles: readonly string[];
}

/** Guild-level permissions of a member (the first half of Discord's algorithm). */
export function computeBasePermissions(subject: PermissionSubject): bigint {
  if (subject.userId === subject.ownerId) return ALL_PERMISSIONS;
  let permissions = subject.rolePermissions.get(subject.guildId) ?? 0n;
  for (const roleId of subject.memberRoles) permissions |= subject.rolePermissions.get(roleId) ?? 0n;
  if ((permissions & PermissionFlags.Administrator) !== 0n) return ALL_PERMISSIONS;
  return permissions;
}

/** Channel-level permissions: base permissions with the channel's overwrites applied. */
export function computeChannelPermissions(
  subject: PermissionSubject,
  overwrites: readonly Overwrite[],
  options: { textBased?: boolean } = {},
): bigint {
  const base = computeBasePermissions(subject);
  if ((base & PermissionFlags.Administrator) !== 0n) return ALL_PERMISSIONS;
  let permissions = base;
  const everyone = overwrites.find((o) => o.type === 0 && o.id === subject.guildId);
  if (everyone) permissions = (permissions & ~everyone.deny) | everyone.allow;
  let allow = 0n;
  let deny = 0n;
  for (const overwrite of overwrites) {
    if (overwrite.type === 0 && overwrite.id !== subject.guildId && subject.memberRoles.includes(overwrite.id)) {
      allow |= overwrite.allow;
      deny |= overwrite.deny;
    }
  }
  permissions = (permissions & ~deny) | allow;
  const member = overwrites.find((o) => o.type === 1 && o.id === subject.userId);
  if (member) permissions = (permissions & ~member.deny) | member.allow;
  if ((permissions & PermissionFlags.ViewChannel) === 0n) return 0n;
  if (options.textBased !== false && (permissions & PermissionFlags.SendMessages) === 0n) {
    // Discord's implicit denial: without SEND_MESSAGES the sending-related permissions are void too.
    permissions &= ~(
      PermissionFlags.SendTTSMessages |
      PermissionFlags.MentionEveryone |
      PermissionFlags.EmbedLinks |
      PermissionFlags.AttachFiles
    );
  }
  return permissions;
}
