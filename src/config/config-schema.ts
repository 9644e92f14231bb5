import { resolve } from 'node:path';
import { formatAllowedHost, parseAllowedHost } from '../net/url-policy.js';
import { checkSettingValue, describeSetting, settingKeys, type GuildSettings, type SettingKey } from '../settings/index.js';

/** Outcome of checking one configuration value: the value to use, or what was expected. */
export type ValueCheck<T = unknown> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly expected: string };

/** What a check may need besides the value. */
export interface CheckContext {
  /** Folder relative paths resolve against. */
  readonly cwd: string;
}

/** How the text of an environment variable becomes a value before it is checked like any other. */
export type EnvValueType = 'string' | 'integer' | 'number' | 'boolean' | 'list' | 'autoOrBoolean';

/** What a key says about itself, for `config/README.md` and its environment variable. */
export interface KeyDoc {
  /** What it means (one Markdown paragraph). */
  readonly description: string;
  /** Its environment variable, when not `LATENTCORD_` + the key path in upper snake case. */
  readonly env?: string;
  /** Further keys its variable sets to fixed values (e.g. a port also enables the HTTP endpoint). */
  readonly envAlsoSets?: Readonly<Record<string, unknown>>;
}

/** A configuration key holding a value of type `T`. */
export interface LeafSpec<T = unknown> extends KeyDoc {
  readonly kind: 'leaf';
  /** Validates and normalises a value (never throws). */
  readonly check: (value: unknown, context: CheckContext) => ValueCheck<T>;
  /** What a valid value looks like, phrased to follow "must be". */
  readonly expected: string;
  /** How its environment variable is read. */
  readonly envType: EnvValueType;
}

/** A configuration key holding an object with fixed keys. */
export interface ObjectSpec<F extends Readonly<Record<string, ConfigSpec>> = Readonly<Record<string, ConfigSpec>>> {
  readonly kind: 'object';
  readonly fields: F;
}

/** One node of the configuration schema. */
export type ConfigSpec = LeafSpec | ObjectSpec;

/** The value type a schema node describes: the configuration's type is inferred from its schema. */
export type Infer<S> = S extends LeafSpec<infer T> ? T : S extends ObjectSpec<infer F> ? { readonly [K in keyof F]: Infer<F[K]> } : never;

const ok = <T>(value: T): ValueCheck<T> => ({ ok: true, value });
const no = (expected: string): ValueCheck<never> => ({ ok: false, expected });

function leaf<T>(
  expected: string,
  envType: EnvValueType,
  test: (value: unknown, context: CheckContext) => T | undefined,
  doc: KeyDoc,
): LeafSpec<T> {
  return {
    kind: 'leaf',
    expected,
    envType,
    check: (value, context) => {
      const checked = test(value, context);
      return checked === undefined ? no(expected) : ok(checked);
    },
    ...doc,
  };
}

function object<F extends Readonly<Record<string, ConfigSpec>>>(fields: F): ObjectSpec<F> {
  return { kind: 'object', fields };
}

function integer(min: number, max: number, doc: KeyDoc): LeafSpec<number> {
  return leaf(
    `an integer from ${min} to ${max}`,
    'integer',
    (value) => (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : undefined),
    doc,
  );
}

function number(min: number, max: number, doc: KeyDoc): LeafSpec<number> {
  return leaf(
    `a number from ${min} to ${max}`,
    'number',
    (value) => (typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max ? value : undefined),
    doc,
  );
}

function oneOf<const C extends readonly string[]>(choices: C, doc: KeyDoc): LeafSpec<C[number]> {
  return leaf(
    `one of ${choices.map((c) => `\`${c}\``).join(', ')}`,
    'string',
    (value) => (typeof value === 'string' && choices.includes(value) ? (value as C[number]) : undefined),
    doc,
  );
}

function boolean(doc: KeyDoc): LeafSpec<boolean> {
  return leaf('`true` or `false`', 'boolean', (value) => (typeof value === 'boolean' ? value : undefined), doc);
}

function nonEmptyString(what: string, doc: KeyDoc): LeafSpec<string> {
  return leaf(what, 'string', (value) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined), doc);
}

function nullable<T>(spec: LeafSpec<T>, what: string): LeafSpec<T | null> {
  const expected = `${spec.expected} or \`null\` (${what})`;
  return {
    ...spec,
    expected,
    check: (value, context) => {
      if (value === null) return ok(null);
      return spec.check(value, context).ok ? spec.check(value, context) : no(expected);
    },
  };
}

function path(doc: KeyDoc): LeafSpec<string> {
  return leaf(
    'a non-empty path',
    'string',
    (value, context) => (typeof value === 'string' && value.trim() !== '' ? resolve(context.cwd, value.trim()) : undefined),
    doc,
  );
}

function httpUrl(doc: KeyDoc): LeafSpec<string> {
  return leaf(
    'an http:// or https:// URL without query or fragment',
    'string',
    (value) => {
      if (typeof value !== 'string') return undefined;
      try {
        const url = new URL(value.trim());
        const plain =
          (url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === '' && url.username === '';
        return plain ? url.href.replace(/\/+$/u, '') : undefined;
      } catch {
        return undefined;
      }
    },
    doc,
  );
}

function hostList(doc: KeyDoc): LeafSpec<readonly string[]> {
  return leaf(
    'a list of host names, each `host` or `host:port`',
    'list',
    (value) => {
      if (!Array.isArray(value)) return undefined;
      const hosts: string[] = [];
      for (const item of value) {
        const parsed = typeof item === 'string' ? parseAllowedHost(item) : undefined;
        if (parsed === undefined) return undefined;
        const host = formatAllowedHost(parsed);
        if (!hosts.includes(host)) hosts.push(host);
      }
      return hosts;
    },
    doc,
  );
}

function modelRepo(doc: KeyDoc): LeafSpec<string> {
  return leaf(
    'a Hugging Face repository `owner/name` (or "" until one is chosen)',
    'string',
    (value) => (typeof value === 'string' && (value === '' || /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/u.test(value)) ? value : undefined),
    doc,
  );
}

function autoOrBoolean(doc: KeyDoc): LeafSpec<'auto' | boolean> {
  return leaf(
    '`"auto"`, `true` or `false`',
    'autoOrBoolean',
    (value) => (value === 'auto' || typeof value === 'boolean' ? value : undefined),
    doc,
  );
}

const settingEnvTypes: Readonly<Record<ReturnType<typeof describeSetting>['type'], EnvValueType>> = {
  integer: 'integer',
  number: 'number',
  boolean: 'boolean',
  choice: 'string',
  text: 'string',
  channelList: 'list',
  wordList: 'list',
};

/** The per-server settings, checked by the settings table itself (src/settings). */
function guildDefaults(): ObjectSpec<{ readonly [K in SettingKey]: LeafSpec<GuildSettings[K]> }> {
  const fields: Record<string, LeafSpec> = {};
  for (const key of settingKeys) {
    const setting = describeSetting(key);
    fields[key] = {
      kind: 'leaf',
      expected: setting.expected,
      envType: settingEnvTypes[setting.type],
      description: setting.description,
      check: (value) => checkSettingValue(key, value),
    };
  }
  return object(fields as { readonly [K in SettingKey]: LeafSpec<GuildSettings[K]> });
}

/** Log levels pino knows. */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * The configuration's one declaration: every key with its rules, its meaning and its environment variable.
 * The `Config` type is inferred from it, `config/README.md`'s tables and the environment variables are derived
 * from it; the defaults are in `config/default.json` and nowhere else.
 */
export const configSchema = object({
  discord: object({
    token: nullable(
      nonEmptyString('a non-empty token', {
        env: 'DISCORD_TOKEN',
        description: 'Bot token. Prefer `DISCORD_TOKEN` over writing it into a file. `null`: commands that need Discord refuse to start.',
      }),
      'not configured',
    ),
    apiUrl: httpUrl({
      env: 'DISCORD_API_URL',
      description: 'REST base URL including `/api`; a trailing `/` is removed. Tests point it at the fake Discord server.',
    }),
    attachmentHosts: hostList({
      env: 'LATENTCORD_ATTACHMENT_HOSTS',
      description:
        'Hosts remix sources may be downloaded from; any other URL is refused. Entries are lower-cased and deduplicated; compare them ' +
        "with a URL's `host` (which leaves out the scheme's default port). An empty list allows no downloads.",
    }),
    messageContentIntent: boolean({
      env: 'LATENTCORD_MESSAGE_CONTENT_INTENT',
      description: 'Request the privileged Message Content intent (must also be enabled in the Developer Portal).',
    }),
    deployCommandsOnStart: boolean({
      description:
        '`bot` registers the global commands at start-up when their definitions changed since the last registration (a hash is kept in ' +
        'the database, so unchanged commands cost no API call).',
    }),
  }),
  modelDir: nullable(
    path({
      env: 'LATENTCORD_MODEL_DIR',
      description:
        'Folder of the ONNX model. `null`: `<dataDir>/models/<owner>--<name>` of `defaultModel`, downloaded on the first start (`bot`, ' +
        '`imagine`) and reused after.',
    }),
    'use the default model',
  ),
  defaultModel: object({
    repo: modelRepo({
      env: 'LATENTCORD_MODEL_REPO',
      description:
        'Model used when `modelDir` is `null`: LCM-Dreamshaper v7 (MIT licence, not gated) ships a float32 diffusers ONNX export ' +
        '(optimum layout, UNet with `timestep_cond`), so a CPU-only server gets a picture in 4 LCM steps. Only its ONNX files, ' +
        'tokenizer and configs are fetched (about 4.3 GB). `""`: no default; a missing `modelDir` is then an error.',
    }),
    revision: nonEmptyString('a branch, tag or commit', {
      env: 'LATENTCORD_MODEL_REVISION',
      description: 'Branch, tag or commit of `defaultModel.repo`.',
    }),
  }),
  dataDir: path({ description: 'Folder for `latentcord.sqlite` and downloaded models; created if missing.' }),
  device: oneOf(['cpu', 'cuda'], { description: 'Inference device.' }),
  deviceId: integer(0, 63, { description: 'CUDA device index.' }),
  deviceIds: leaf(
    'a non-empty list of distinct device indexes from 0 to 63 (e.g. `0,1`), or `null`',
    'list',
    (value): readonly number[] | null | undefined => {
      if (value === null) return null;
      if (!Array.isArray(value) || value.length === 0 || value.length > 64) return undefined;
      const ids: number[] = [];
      for (const item of value) {
        const id = typeof item === 'number' ? item : typeof item === 'string' && /^\d{1,2}$/u.test(item.trim()) ? Number(item) : Number.NaN;
        if (!Number.isInteger(id) || id < 0 || id > 63 || ids.includes(id)) return undefined;
        ids.push(id);
      }
      return ids;
    },
    {
      description:
        'Several local GPUs: one pipeline process per listed CUDA device, each job going to whichever is free ' +
        '(`LATENTCORD_DEVICE_IDS=0,1`). On the CPU the list only says how many processes to run (they share the cores: set ' +
        '`runtime.intraOpThreads` to split them). `null`: one process on `deviceId`.',
    },
  ),
  onDeviceUnavailable: oneOf(['fallback', 'fail'], {
    description: 'When `device` cannot be used: run on the CPU (with a warning) or stop.',
  }),
  rng: oneOf(['cpu', 'philox'], {
    description:
      'Initial-noise generator: `cpu` gives the images diffusers gives with `torch.Generator("cpu").manual_seed(seed)`; `philox` those ' +
      'of an NVIDIA GPU generator (A1111\'s "NV" source).',
  }),
  modelDefaults: oneOf(['auto', 'config'], {
    description:
      "`auto`: the model's own defaults replace `guildDefaults.width`/`.height` — its native size, the UNet's `sample_size` × the VAE " +
      'factor (512×512 for SD 1.5, 768×768 for SD 2.x-768, 1024×1024 for SDXL; SDXL-Turbo 512×512) — with `guildDefaults.maxPixels` ' +
      'raised to at least that area so the default is allowed; few-step models also replace `.steps`, `.guidance` and `.scheduler` ' +
      '(SD-Turbo/SDXL-Turbo style: Euler with trailing spacing → 1 step, guidance 0; folders named like SDXL-Lightning: the steps in ' +
      "their name, default 4, guidance 0; LCM → 4 steps, LCM scheduler, guidance 8 with a distilled UNet's guidance embedding, else 1). " +
      "The start-up log says what was applied. `config`: `guildDefaults` apply as written. Servers' `/settings` still override either.",
  }),
  runtime: object({
    intraOpThreads: integer(0, 1024, {
      env: 'LATENTCORD_THREADS',
      description: 'onnxruntime threads per operator; `0` lets onnxruntime choose.',
    }),
    graphOptimizationLevel: oneOf(['disabled', 'basic', 'extended', 'all'], { description: 'onnxruntime graph optimisation level.' }),
    cacheOptimizedModels: boolean({
      description:
        "Save onnxruntime's optimised graphs in `<dataDir>/cache/onnxruntime` (keyed by the model files' size and time, the " +
        'onnxruntime version, the provider, the level and the CPU) and load them on later starts without optimising again.',
    }),
    warmUp: boolean({
      description:
        'Run one generation of one step at the default size and guidance at start-up, so the first real one is not slow. The bot ' +
        'connects to Discord meanwhile; jobs wait for it; `/healthz` says `pipeline warming up` until it is done.',
    }),
    finalDecoder: oneOf(['vae', 'tiny'], {
      env: 'LATENTCORD_FINAL_DECODER',
      description:
        "What draws the final pictures: the model's own VAE decoder, or a TAESD-class tiny decoder (`runtime.tinyDecoderDir`): on a " +
        'CPU several seconds faster per picture, slightly softer. PNG parameters then say `VAE Decoder: TAESD`. `tiny` without a tiny ' +
        'decoder is an error at start.',
    }),
    tinyDecoderDir: nullable(
      path({
        env: 'LATENTCORD_TINY_DECODER_DIR',
        description:
          "Folder of a TAESD-class tiny VAE decoder (`model.onnx`, optional `config.json`), e.g. diffusers' `AutoencoderTiny` " +
          "(`madebyollin/taesd`) exported to ONNX. `null`: the model folder's `vae_decoder_tiny/` when it has one. It draws live " +
          'previews and, with `runtime.finalDecoder: tiny`, the final pictures.',
      }),
      "the model folder's `vae_decoder_tiny/`",
    ),
    vaeTiling: oneOf(['auto', 'always', 'never'], {
      description:
        "When the full VAE decoder works tile by tile (diffusers' `enable_vae_tiling`: 512-pixel tiles, 25 % overlap, blended " +
        "seams): `auto` for pictures larger than 768×768 (the untiled decoder's memory grows with the square of the picture's " +
        "area), `always` whenever a side exceeds 512 (diffusers' rule), `never`.",
    }),
    maxUnetBatch: integer(0, 64, {
      description:
        'Most latent rows per UNet run (classifier-free guidance doubles the rows; batched jobs add theirs). Larger batches run in ' +
        "slices, with identical results: onnxruntime's working memory grows by over 1 GB per row at 512² and never shrinks. `0`: 1 " +
        'on the CPU (no slower there), the whole batch on CUDA.',
    }),
  }),
  queue: object({
    maxLength: integer(1, 1000, { description: 'Most jobs waiting at once, all users together; more are refused.' }),
    jobTimeoutSeconds: integer(1, 86400, {
      env: 'LATENTCORD_JOB_TIMEOUT_SECONDS',
      description: 'A running job is cancelled after this long.',
    }),
    maxBatchImages: integer(1, 16, {
      description:
        'Compatible waiting jobs (same size, steps, scheduler, kind, strength, guidance on/off) run together as one UNet batch of at ' +
        'most this many images; each still gets exactly the images it would get alone. `1` runs jobs one at a time.',
    }),
  }),
  jobs: object({
    retentionDays: integer(0, 3650, {
      env: 'LATENTCORD_JOB_RETENTION_DAYS',
      description:
        'Finished job records (prompts, parameters, where the result is) are deleted this many days after they ended; `0` keeps them ' +
        'forever. The bot prunes at start and then hourly, a bounded amount per run. Result buttons (Reroll, Remix, Info) of older ' +
        'pictures then answer that the details are gone.',
    }),
  }),
  progress: object({
    editIntervalMs: integer(100, 60000, {
      description: 'Least time between two edits of a progress message (Discord rate-limits edits).',
    }),
  }),
  limits: object({
    maxAttachmentBytes: integer(1, 524288000, { description: 'Largest remix source downloaded, in bytes (26214400 = 25 MiB).' }),
    maxSourcePixels: integer(4096, 268435456, {
      description: 'Largest decoded remix source, width × height (guards against decompression bombs; 16777216 = 4096²).',
    }),
    downloadTimeoutMs: integer(100, 600000, { description: 'Timeout of an attachment download.' }),
    maxConcurrentDownloads: integer(1, 64, {
      description:
        'Most remix pictures downloaded and decoded at once (each can take hundreds of MiB while it is decoded); ' +
        'more remix requests meanwhile are refused with "busy, try again".',
    }),
  }),
  upscale: object({
    hiresStrength: number(0.05, 1, {
      description:
        'Img2img strength of Upscale ×2 in a server whose `upscale` setting is `hires` (the default): the picture is scaled ×2 ' +
        '(Lanczos3) and redrawn at the larger size with the same model, prompt and seed; low values keep it, high ones add detail.',
    }),
  }),
  logging: object({
    level: oneOf(logLevels, { env: 'LATENTCORD_LOG_LEVEL', description: 'Least level logged.' }),
    pretty: autoOrBoolean({
      env: 'LATENTCORD_LOG_PRETTY',
      description: 'Human-readable lines (`true`), JSON lines (`false`), or human-readable only when stdout is a terminal.',
    }),
  }),
  http: object({
    enabled: boolean({ description: 'Run the HTTP endpoint (health, metrics).' }),
    host: nonEmptyString('a host name or IP address', { description: 'Address it listens on.' }),
    port: integer(0, 65535, {
      envAlsoSets: { 'http.enabled': true },
      description: 'Port it listens on; `0` picks a free port.',
    }),
  }),
  shutdown: object({
    graceSeconds: integer(0, 3600, {
      description: 'On SIGTERM/SIGINT, how long a running job may take to finish before it is cancelled.',
    }),
  }),
  // Past one machine (issue 10): remote workers on BullMQ/Redis.
  scale: object({
    redisUrl: nullable(
      leaf(
        'a `redis://`, `rediss://` or `unix://` URL',
        'string',
        (value) => {
          if (typeof value !== 'string') return undefined;
          try {
            const url = new URL(value.trim());
            if ((url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '' && /^(\/\d{0,2})?$/u.test(url.pathname))
              return value.trim();
            if (url.protocol === 'unix:' && url.pathname.length > 1) return value.trim();
          } catch {
            // reported as not a URL of these kinds
          }
          return undefined;
        },
        {
          env: 'LATENTCORD_REDIS_URL',
          description:
            'Opt-in: the bot hands jobs to remote workers (`latentcord worker`) through BullMQ queues in this Redis; `null` runs the ' +
            'pipeline inside the bot. A password goes in the URL (`redis://:secret@host:6379/0`, or `user:secret@` with Redis ACLs); ' +
            '`rediss://` uses TLS. Never logged with its password. See the README\'s "Scaling out".',
        },
      ),
      'no Redis',
    ),
    prefix: leaf(
      'letters, digits, `_`, `.` or `-` (at most 64)',
      'string',
      (value) => (typeof value === 'string' && /^[A-Za-z0-9][\w.-]{0,63}$/u.test(value) ? value : undefined),
      {
        env: 'LATENTCORD_REDIS_PREFIX',
        description: 'Prefix of every Redis key; bots sharing one Redis need different prefixes.',
      },
    ),
    workerName: nullable(
      leaf(
        'letters, digits, `_`, `.`, `@` or `-` (at most 64)',
        'string',
        (value) => (typeof value === 'string' && /^[\w.@-]{1,64}$/u.test(value.trim()) ? value.trim() : undefined),
        {
          env: 'LATENTCORD_WORKER_NAME',
          description:
            "A worker's name in `/queue`, logs and metrics; `null`: `<host name>-<process id>`. Two live workers may not share a name.",
        },
      ),
      'host name and process id',
    ),
    heartbeatSeconds: integer(1, 60, {
      description:
        'How often a worker reports to Redis; after three missed beats it no longer counts as live (positions, waits and refusals ' +
        'count live workers).',
    }),
    lockSeconds: integer(2, 3600, {
      description:
        'BullMQ lock of a running job, renewed by the worker every half of it. A worker that dies loses its job after this long; the ' +
        'job then runs once more on another worker.',
    }),
    stalledCheckSeconds: integer(1, 3600, {
      description: "How often workers look for jobs whose lock ran out (BullMQ's stalled check).",
    }),
    lostJobGraceSeconds: integer(1, 86400, {
      description:
        'How long the bot waits for a job while no live worker serves its model or Redis is unreachable, before the requester is ' +
        'told it was interrupted.',
    }),
    resultTtlSeconds: integer(60, 604800, {
      description:
        'How long finished pictures (and remix sources) stay in Redis when the bot does not collect them; collected ones are deleted at once.',
    }),
  }),
  guildDefaults: guildDefaults(),
});

/**
 * The validated start-up configuration, deeply frozen; its type is inferred from the schema. Every key is
 * documented in `config/README.md` (generated from the schema); the defaults are in `config/default.json`.
 */
export type Config = Infer<typeof configSchema>;
/** Where inference runs. */
export type Device = Config['device'];
/** What to do when the requested device cannot be used: run on the CPU instead, or stop. */
export type DeviceUnavailablePolicy = Config['onDeviceUnavailable'];
/** onnxruntime graph optimisation levels, as onnxruntime-node names them. */
export type GraphOptimizationLevel = Config['runtime']['graphOptimizationLevel'];
/** pino log levels (`silent` logs nothing). */
export type LogLevel = Config['logging']['level'];

/** One key of the schema with its path. */
export interface SchemaLeaf {
  /** Dotted key path, e.g. `queue.maxLength`. */
  readonly path: string;
  readonly spec: LeafSpec;
}

/** Every leaf key of `spec` with its path (e.g. `queue.maxLength`), in schema order. */
export function schemaLeaves(spec: ObjectSpec = configSchema, prefix = ''): SchemaLeaf[] {
  return Object.entries(spec.fields).flatMap(([key, child]) =>
    child.kind === 'object' ? schemaLeaves(child, `${prefix}${key}.`) : [{ path: `${prefix}${key}`, spec: child }],
  );
}

/** Every leaf key path of `spec` (e.g. `queue.maxLength`), in schema order. */
export function leafPaths(spec: ObjectSpec = configSchema, prefix = ''): string[] {
  return schemaLeaves(spec, prefix).map((leaf) => leaf.path);
}
