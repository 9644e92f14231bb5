/** How the text of an environment variable becomes a configuration value. */
export type EnvValueType = 'string' | 'integer' | 'boolean' | 'list' | 'autoOrBoolean';

/** One environment variable that overrides a configuration key. */
export interface EnvVariable {
  /** Variable name. */
  readonly name: string;
  /** The key it sets. */
  readonly path: string;
  /** How its text is read. */
  readonly type: EnvValueType;
  /** Further keys it sets to fixed values (e.g. a port also enables the HTTP endpoint). */
  readonly alsoSets?: Readonly<Record<string, unknown>>;
  /** One line for the README. */
  readonly description: string;
}

/** The variable naming a user configuration file (JSON, same shape as `config/default.json`, any subset). */
export const configFileVariable = 'LATENTCORD_CONFIG';

/**
 * Environment variables that override configuration keys, applied in this order after the files (so
 * `LATENTCORD_HTTP_ENABLED` has the last word over the enabling effect of `LATENTCORD_HTTP_PORT`).
 * A variable that is unset, empty or only white space is ignored.
 */
export const envVariables: readonly EnvVariable[] = [
  { name: 'DISCORD_TOKEN', path: 'discord.token', type: 'string', description: 'Bot token.' },
  { name: 'DISCORD_API_URL', path: 'discord.apiUrl', type: 'string', description: 'Discord REST base URL including `/api`.' },
  {
    name: 'LATENTCORD_ATTACHMENT_HOSTS',
    path: 'discord.attachmentHosts',
    type: 'list',
    description: 'Comma-separated hosts (`host` or `host:port`) attachments may come from; replaces the list.',
  },
  {
    name: 'LATENTCORD_MESSAGE_CONTENT_INTENT',
    path: 'discord.messageContentIntent',
    type: 'boolean',
    description: 'Request the Message Content intent.',
  },
  { name: 'LATENTCORD_MODEL_DIR', path: 'modelDir', type: 'string', description: 'Model folder.' },
  { name: 'LATENTCORD_MODEL_REPO', path: 'defaultModel.repo', type: 'string', description: 'Default model repository.' },
  { name: 'LATENTCORD_MODEL_REVISION', path: 'defaultModel.revision', type: 'string', description: 'Default model revision.' },
  { name: 'LATENTCORD_DATA_DIR', path: 'dataDir', type: 'string', description: 'Data folder (database, models).' },
  { name: 'LATENTCORD_DEVICE', path: 'device', type: 'string', description: '`cpu` or `cuda`.' },
  { name: 'LATENTCORD_DEVICE_ID', path: 'deviceId', type: 'integer', description: 'CUDA device index.' },
  {
    name: 'LATENTCORD_ON_DEVICE_UNAVAILABLE',
    path: 'onDeviceUnavailable',
    type: 'string',
    description: '`fallback` (to the CPU) or `fail`.',
  },
  { name: 'LATENTCORD_RNG', path: 'rng', type: 'string', description: '`cpu` (torch CPU generator) or `philox` (NVIDIA GPU generator).' },
  {
    name: 'LATENTCORD_THREADS',
    path: 'runtime.intraOpThreads',
    type: 'integer',
    description: 'onnxruntime intra-op threads (0: automatic).',
  },
  { name: 'LATENTCORD_QUEUE_MAX_LENGTH', path: 'queue.maxLength', type: 'integer', description: 'Most jobs waiting at once.' },
  {
    name: 'LATENTCORD_JOB_TIMEOUT_SECONDS',
    path: 'queue.jobTimeoutSeconds',
    type: 'integer',
    description: 'Seconds before a running job is cancelled.',
  },
  { name: 'LATENTCORD_LOG_LEVEL', path: 'logging.level', type: 'string', description: 'Log level.' },
  { name: 'LATENTCORD_LOG_PRETTY', path: 'logging.pretty', type: 'autoOrBoolean', description: '`auto`, `true` or `false`.' },
  {
    name: 'LATENTCORD_HTTP_PORT',
    path: 'http.port',
    type: 'integer',
    alsoSets: { 'http.enabled': true },
    description: 'Port of the HTTP endpoint; setting it enables the endpoint.',
  },
  { name: 'LATENTCORD_HTTP_HOST', path: 'http.host', type: 'string', description: 'Address of the HTTP endpoint.' },
  { name: 'LATENTCORD_HTTP_ENABLED', path: 'http.enabled', type: 'boolean', description: 'Enable or disable the HTTP endpoint.' },
];

const trueWords = new Set(['true', '1', 'yes', 'on']);
const falseWords = new Set(['false', '0', 'no', 'off']);

/**
 * Reads the text of a variable as its type. Text that does not fit is returned unchanged (a string), so
 * that validation reports it with the expected form and the text as given.
 */
export function parseEnvValue(type: EnvValueType, text: string): unknown {
  const trimmed = text.trim();
  const lower = trimmed.toLowerCase();
  switch (type) {
    case 'string':
      return trimmed;
    case 'integer':
      return /^[+-]?[0-9]+$/u.test(trimmed) ? Number(trimmed) : trimmed;
    case 'boolean':
      return trueWords.has(lower) ? true : falseWords.has(lower) ? false : trimmed;
    case 'autoOrBoolean':
      return lower === 'auto' ? 'auto' : trueWords.has(lower) ? true : falseWords.has(lower) ? false : trimmed;
    case 'list':
      return trimmed
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
  }
}
