import type { GlobalRateLimit, RateLimitRule } from './rate-limit.js';

/** Options of {@link FakeDiscord.start}; every one has a Discord-like default. */
export interface FakeDiscordOptions {
  /** The bot token REST and IDENTIFY must present (default: a random token-looking string). */
  botToken?: string;
  /** The bot user's name (default `latentcord`). */
  botUsername?: string;
  /** Gateway heartbeat interval sent in HELLO (default 41250 ms, Discord's; use ~100–500 ms in tests). */
  heartbeatIntervalMs?: number;
  /** Close sockets whose client stopped heartbeating for this many intervals (default 0 = never). */
  zombieAfterIntervals?: number;
  /** Time to acknowledge an interaction before its callback fails with 10062 (default 3000 ms). */
  interactionAckTimeoutMs?: number;
  /** Lifetime of an interaction token for webhook calls, after which they fail with 50027 (default 15 min). */
  interactionTokenLifetimeMs?: number;
  /** Largest upload per file (default 10 MiB); interactions carry it as `attachment_size_limit`. */
  attachmentSizeLimit?: number;
  /** Most files per message (default 10). */
  maxFilesPerMessage?: number;
  /** Largest request body kept before answering 413 without parsing (default 256 MiB; the per-file limit is checked separately). */
  maxRequestBytes?: number;
  /** Per-route buckets (default: none; every request passes). */
  rateLimits?: RateLimitRule[];
  /**
   * `Retry-After` header precision on 429s: `seconds` (default) rounds up to whole seconds as Discord does;
   * `milliseconds` sends the exact wait (e.g. `0.300`) so tests with short windows wait less.
   */
  retryAfterPrecision?: 'seconds' | 'milliseconds';
  /** Global request limit across routes (default: none). */
  globalRateLimit?: GlobalRateLimit | null;
  /** Daily application command creations allowed per guild (and globally), as Discord (default 200). */
  dailyCommandCreateLimit?: number;
  /** Privileged intents the application is approved for (default: all three). */
  privilegedIntents?: { guildMembers?: boolean; guildPresences?: boolean; messageContent?: boolean };
  /** How long a dropped gateway session stays resumable (default 120 s). */
  resumeWindowMs?: number;
  /** Dispatches kept per session for replay on RESUME (default 1000). */
  replayBufferSize?: number;
  /** With IDENTIFY `compress: true`, dispatches whose JSON is at least this long are zlib-compressed (default 0 = all). */
  payloadCompressionThreshold?: number;
  /** `shards` answered by GET /gateway/bot (default 1). */
  recommendedShards?: number;
  /** IDENTIFY budget answered by GET /gateway/bot and decremented per IDENTIFY; at 0 IDENTIFY is closed with 4004 (default 1000). */
  sessionStartLimit?: number;
  /** `max_concurrency` answered by GET /gateway/bot (default 1). */
  maxConcurrency?: number;
  /**
   * Discord's identify window: a second IDENTIFY of the same concurrency bucket within it gets op 9
   * INVALID_SESSION (default 5000 ms; 0 turns the check off). discord.js spaces its IDENTIFYs by itself.
   */
  identifyIntervalMs?: number;
  /** Gateway payloads a client may send per connection per minute before it is closed with 4008 (default 120). */
  gatewaySendLimitPerMinute?: number;
  /**
   * Only commands the bot registered can be used (default true): `sendSlashCommand` and friends throw when
   * the bot did not register the command, as a real user could not invoke it.
   */
  strictCommands?: boolean;
}

/** {@link FakeDiscordOptions} with every default filled in. */
export type ResolvedOptions = Required<Omit<FakeDiscordOptions, 'privilegedIntents' | 'globalRateLimit'>> & {
  privilegedIntents: { guildMembers: boolean; guildPresences: boolean; messageContent: boolean };
  globalRateLimit: GlobalRateLimit | null;
};

/** Fills in the defaults. */
export function resolveOptions(options: FakeDiscordOptions, randomToken: string): ResolvedOptions {
  const attachmentSizeLimit = options.attachmentSizeLimit ?? 10 * 1024 * 1024;
  const maxFilesPerMessage = options.maxFilesPerMessage ?? 10;
  return {
    botToken: options.botToken ?? randomToken,
    botUsername: options.botUsername ?? 'latentcord',
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 41250,
    zombieAfterIntervals: options.zombieAfterIntervals ?? 0,
    interactionAckTimeoutMs: options.interactionAckTimeoutMs ?? 3000,
    interactionTokenLifetimeMs: options.interactionTokenLifetimeMs ?? 15 * 60 * 1000,
    attachmentSizeLimit,
    maxFilesPerMessage,
    maxRequestBytes: options.maxRequestBytes ?? 256 * 1024 * 1024,
    rateLimits: options.rateLimits ?? [],
    globalRateLimit: options.globalRateLimit ?? null,
    retryAfterPrecision: options.retryAfterPrecision ?? 'seconds',
    dailyCommandCreateLimit: options.dailyCommandCreateLimit ?? 200,
    privilegedIntents: {
      guildMembers: options.privilegedIntents?.guildMembers ?? true,
      guildPresences: options.privilegedIntents?.guildPresences ?? true,
      messageContent: options.privilegedIntents?.messageContent ?? true,
    },
    resumeWindowMs: options.resumeWindowMs ?? 120_000,
    replayBufferSize: options.replayBufferSize ?? 1000,
    payloadCompressionThreshold: options.payloadCompressionThreshold ?? 0,
    recommendedShards: options.recommendedShards ?? 1,
    sessionStartLimit: options.sessionStartLimit ?? 1000,
    maxConcurrency: options.maxConcurrency ?? 1,
    identifyIntervalMs: options.identifyIntervalMs ?? 5000,
    gatewaySendLimitPerMinute: options.gatewaySendLimitPerMinute ?? 120,
    strictCommands: options.strictCommands ?? true,
  };
}
