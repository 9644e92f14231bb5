import type { EffectiveSettings } from '../settings/index.js';

/** Where inference runs. */
export type Device = 'cpu' | 'cuda';

/** What to do when the requested device cannot be used: run on the CPU instead, or stop. */
export type DeviceUnavailablePolicy = 'fallback' | 'fail';

/** onnxruntime graph optimisation levels, as onnxruntime-node names them. */
export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

/** pino log levels (`silent` logs nothing). */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * The validated start-up configuration, deeply frozen. Every key is documented in `config/README.md`;
 * the defaults are in `config/default.json` and nowhere else.
 */
export interface Config {
  /** Connection to Discord. */
  readonly discord: {
    /** Bot token (`DISCORD_TOKEN`); `null` when not configured (commands that need Discord refuse to start). */
    readonly token: string | null;
    /** REST base URL including `/api`, without a trailing slash (`DISCORD_API_URL`; a fake server in tests). */
    readonly apiUrl: string;
    /** Hosts (`host` or `host:port`, lower case) attachments may be downloaded from; others are refused. */
    readonly attachmentHosts: readonly string[];
    /** Whether to request the privileged Message Content intent. */
    readonly messageContentIntent: boolean;
    /** Whether `bot` registers the global commands at start when their definitions changed. */
    readonly deployCommandsOnStart: boolean;
  };
  /** Absolute path of the model folder, or `null` for `<dataDir>/models/<defaultModel>` (downloaded if missing). */
  readonly modelDir: string | null;
  /** The Hugging Face model used when `modelDir` is `null`. */
  readonly defaultModel: {
    /** `owner/name` of the repository; empty until chosen. */
    readonly repo: string;
    /** Branch, tag or commit. */
    readonly revision: string;
  };
  /** Absolute path of the folder for the database and downloaded models. */
  readonly dataDir: string;
  /** Inference device. */
  readonly device: Device;
  /** CUDA device index. */
  readonly deviceId: number;
  /** Behaviour when `device` cannot be used. */
  readonly onDeviceUnavailable: DeviceUnavailablePolicy;
  /** Initial-noise generator: `cpu` reproduces `torch.Generator("cpu")`, `philox` an NVIDIA GPU generator. */
  readonly rng: 'cpu' | 'philox';
  /**
   * `auto`: when the model is a few-step model (SD-Turbo, LCM), its recommended steps, guidance and scheduler
   * replace those of `guildDefaults`; `config`: `guildDefaults` apply as written.
   */
  readonly modelDefaults: 'auto' | 'config';
  /** onnxruntime session options. */
  readonly runtime: {
    /** Threads per operator; 0 lets onnxruntime choose. */
    readonly intraOpThreads: number;
    /** Graph optimisation level. */
    readonly graphOptimizationLevel: GraphOptimizationLevel;
    /** Whether to save optimised graphs next to the models and reuse them. */
    readonly cacheOptimizedModels: boolean;
    /** Whether to run one tiny generation at start-up so the first real one is not slow. */
    readonly warmUp: boolean;
  };
  /** The job queue. */
  readonly queue: {
    /** Most jobs waiting at once (all users); more are refused. */
    readonly maxLength: number;
    /** A running job is cancelled after this many seconds. */
    readonly jobTimeoutSeconds: number;
    /** Most images one UNet batch of compatible queued jobs may hold; 1 runs jobs one at a time. */
    readonly maxBatchImages: number;
  };
  /** Progress replies. */
  readonly progress: {
    /** Least time between two edits of a progress message, in ms. */
    readonly editIntervalMs: number;
  };
  /** Limits on source pictures for remixes. */
  readonly limits: {
    /** Largest attachment downloaded, in bytes. */
    readonly maxAttachmentBytes: number;
    /** Largest decoded source picture, width × height. */
    readonly maxSourcePixels: number;
    /** Download timeout, in ms. */
    readonly downloadTimeoutMs: number;
  };
  /** Logging. */
  readonly logging: {
    /** Minimum level written. */
    readonly level: LogLevel;
    /** Human-readable lines (`true`), JSON lines (`false`), or human-readable when stdout is a terminal (`auto`). */
    readonly pretty: 'auto' | boolean;
  };
  /** The optional HTTP endpoint (health and metrics). */
  readonly http: {
    /** Whether it runs. */
    readonly enabled: boolean;
    /** Address to listen on. */
    readonly host: string;
    /** Port to listen on; 0 picks a free one. */
    readonly port: number;
  };
  /** Shutting down. */
  readonly shutdown: {
    /** How long a running job may take to finish after SIGTERM/SIGINT before it is cancelled, in seconds. */
    readonly graceSeconds: number;
  };
  /** Per-server settings before any `/settings set`; also what applies in direct messages. */
  readonly guildDefaults: EffectiveSettings;
}
