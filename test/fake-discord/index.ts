/**
 * A fake Discord (REST API, gateway, CDN) for end-to-end tests that drive a real discord.js client.
 * Start one with {@link FakeDiscord.start}; see README.md in this folder.
 */
export { FakeDiscord } from './fake-discord.js';
export type {
  AttachmentRef,
  AttachmentUpload,
  AutocompleteArgs,
  ChannelRef,
  FakeGuild,
  GuildRef,
  MessageRef,
  OptionInput,
  Place,
  RawOption,
  SlashCommandArgs,
  UserRef,
  WaitOptions,
} from './fake-discord.js';
export type { FakeDiscordOptions, ResolvedOptions } from './options.js';
export { InteractionHandle } from './interaction.js';
export type { CallbackStep, InteractionStep } from './interaction.js';
export type { DelayRule, FaultRule, RequestLogEntry } from './rest-router.js';
export type { GlobalRateLimit, RateLimitRule } from './rate-limit.js';
export type { CdnBehavior } from './store.js';
export type { DropMode, GatewayConnectionInfo, GatewaySessionInfo } from './gateway.js';
export type { TypingEvent } from './core.js';
export {
  PermissionFlags,
  resolvePermissions,
  permissionNames,
  DEFAULT_BOT_PERMISSIONS,
  DEFAULT_EVERYONE_PERMISSIONS,
} from './permissions.js';
export type { PermissionInput, PermissionName } from './permissions.js';
export * from './api-types.js';
