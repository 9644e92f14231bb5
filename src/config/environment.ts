import { configSchema, schemaLeaves, type EnvValueType } from './config-schema.js';

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
}

/** The variable naming a user configuration file (JSON, same shape as `config/default.json`, any subset). */
export const configFileVariable = 'LATENTCORD_CONFIG';

/** `LATENTCORD_` and a key path in upper snake case: `queue.maxBatchImages` → `LATENTCORD_QUEUE_MAX_BATCH_IMAGES`. */
export function envNameOf(path: string): string {
  return `LATENTCORD_${path
    .replace(/([a-z0-9])([A-Z])/gu, '$1_$2')
    .replace(/\./gu, '_')
    .toUpperCase()}`;
}

/**
 * One environment variable per configuration key, derived from the schema: the key's own name where it has
 * one (`DISCORD_TOKEN`, `LATENTCORD_THREADS`, …), else {@link envNameOf} its path. Applied after the files,
 * in this order: variables that also set other keys first, so that a variable naming a key has the last word
 * (`LATENTCORD_HTTP_ENABLED` over the enabling effect of `LATENTCORD_HTTP_PORT`). A variable that is unset,
 * empty or only white space is ignored.
 */
export const envVariables: readonly EnvVariable[] = Object.freeze(
  schemaLeaves(configSchema)
    .map(({ path, spec }) => ({
      name: spec.env ?? envNameOf(path),
      path,
      type: spec.envType,
      ...(spec.envAlsoSets ? { alsoSets: spec.envAlsoSets } : {}),
    }))
    .sort((a, b) => Number(b.alsoSets !== undefined) - Number(a.alsoSets !== undefined)),
);

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
    case 'number':
      return /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/u.test(trimmed) ? Number(trimmed) : trimmed;
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
