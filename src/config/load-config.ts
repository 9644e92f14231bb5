import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { didYouMean, findSettingConflicts, shown, suggestSettingKey, type GuildSettings } from '../settings/index.js';
import { ConfigError, type ConfigProblem } from './config-error.js';
import { configSchema, leafPaths, type CheckContext, type Config, type ObjectSpec } from './config-schema.js';
import { configFileVariable, envVariables, parseEnvValue } from './environment.js';

/** Inputs of {@link loadConfig}; every one is optional. */
export interface LoadConfigOptions {
  /** Environment variables to read; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * A user configuration file (JSON, same shape as the defaults, any subset), relative to `cwd`. Takes
   * precedence over `LATENTCORD_CONFIG`; `null` means no user file even if that variable is set.
   */
  readonly configFile?: string | null;
  /** The defaults file; default `config/default.json` of this package. */
  readonly defaultsFile?: string;
  /** Folder relative paths resolve against; default `process.cwd()`. */
  readonly cwd?: string;
  /** Receives non-fatal findings (an unknown `LATENTCORD_*` variable); default `process.emitWarning`. */
  readonly onWarning?: (message: string) => void;
}

/** The package's `config/default.json`, found by walking up from this file to the folder with package.json. */
export function packageDefaultsFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return join(dir, 'config', 'default.json');
}

interface Origin {
  /** File path as shown, or `environment variable NAME`. */
  readonly source: string;
  /** The text of an environment variable, shown instead of the parsed value. */
  readonly raw?: string;
  /** Precedence: later layers have higher ranks. */
  readonly rank: number;
}

type Tree = Record<string, unknown>;

function isPlainObject(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function shownValue(value: unknown, origin: Origin | undefined): string {
  const text = origin?.raw ?? (value === undefined ? 'nothing' : (JSON.stringify(value) ?? String(value)));
  return shown(text, 80);
}

function displayPath(file: string, cwd: string): string {
  const fromCwd = relative(cwd, file);
  return fromCwd !== '' && !fromCwd.startsWith('..') && !isAbsolute(fromCwd) ? fromCwd : file;
}

class Problems {
  readonly list: ConfigProblem[] = [];

  add(source: string, path: string, text: string): void {
    this.list.push({ source, path, message: `${source}: ${text}` });
  }
}

function suggestionFor(key: string, spec: ObjectSpec, prefix: string): string {
  if (prefix === 'guildDefaults.') {
    const setting = suggestSettingKey(key);
    if (setting !== undefined) return ` — did you mean \`${prefix}${setting}\`?`;
  }
  const sibling = didYouMean(key, Object.keys(spec.fields));
  if (sibling !== undefined) return ` — did you mean \`${prefix}${sibling}\`?`;
  const paths = leafPaths();
  const lastSegments = paths.map((path) => path.slice(path.lastIndexOf('.') + 1));
  const segment = didYouMean(key, lastSegments);
  if (segment !== undefined) return ` — did you mean \`${paths[lastSegments.indexOf(segment)]}\`?`;
  return '';
}

function readJsonFile(file: string, source: string, problems: Problems): Tree | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a folder, not a file' : `cannot be read (${code ?? String(error)})`;
    problems.add(source, '', `${reason} (${file})`);
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/u, ''));
  } catch (error) {
    problems.add(source, '', `not valid JSON: ${(error as Error).message}`);
    return undefined;
  }
  if (!isPlainObject(value)) {
    problems.add(source, '', `must contain a JSON object, got \`${shownValue(value, undefined)}\``);
    return undefined;
  }
  return value;
}

/** Lays `layer` over `target`, rejecting unknown keys and recording where each value came from. */
function overlay(
  target: Tree,
  layer: Tree,
  spec: ObjectSpec,
  prefix: string,
  origin: Origin,
  origins: Map<string, Origin>,
  problems: Problems,
): void {
  for (const [key, value] of Object.entries(layer)) {
    if (prefix === '' && key === '$schema') continue;
    const path = prefix + key;
    const child = Object.prototype.hasOwnProperty.call(spec.fields, key) ? spec.fields[key] : undefined;
    if (child === undefined) {
      problems.add(origin.source, path, `unknown key \`${path}\`${suggestionFor(key, spec, prefix)}`);
      continue;
    }
    origins.set(path, origin);
    if (child.kind === 'object') {
      if (!isPlainObject(value)) {
        problems.add(origin.source, path, `\`${path}\` must be an object, got \`${shownValue(value, origin)}\``);
        continue;
      }
      const existing = target[key];
      const nested: Tree = isPlainObject(existing) ? existing : {};
      target[key] = nested;
      overlay(nested, value, child, `${path}.`, origin, origins, problems);
    } else {
      target[key] = value;
    }
  }
}

/** Checks the merged tree against the schema and builds the typed result, collecting every problem. */
function validate(
  tree: Tree,
  spec: ObjectSpec,
  prefix: string,
  origins: Map<string, Origin>,
  defaultsSource: string,
  context: CheckContext,
  problems: Problems,
): Tree {
  const result: Tree = {};
  for (const [key, child] of Object.entries(spec.fields)) {
    const path = prefix + key;
    const value = tree[key];
    if (value === undefined) {
      problems.add(defaultsSource, path, `\`${path}\` is missing`);
      continue;
    }
    if (child.kind === 'object') {
      // Not an object: already reported while overlaying.
      if (isPlainObject(value)) result[key] = validate(value, child, `${path}.`, origins, defaultsSource, context, problems);
      continue;
    }
    const checked = child.check(value, context);
    if (checked.ok) {
      result[key] = checked.value;
    } else {
      const origin = origins.get(path);
      problems.add(origin?.source ?? defaultsSource, path, `\`${path}\` must be ${checked.expected}, got \`${shownValue(value, origin)}\``);
    }
  }
  return result;
}

function treeFromPaths(entries: Readonly<Record<string, unknown>>): Tree {
  const tree: Tree = {};
  for (const [path, value] of Object.entries(entries)) {
    const parts = path.split('.');
    let node = tree;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      node = isPlainObject(next) ? next : (node[part] = {});
    }
    node[parts[parts.length - 1]!] = value;
  }
  return tree;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function checkGuildDefaults(settings: GuildSettings, origins: Map<string, Origin>, defaultsSource: string, problems: Problems): void {
  for (const conflict of findSettingConflicts(settings)) {
    const keyOrigins = conflict.keys.map((key) => origins.get(`guildDefaults.${key}`));
    const latest = keyOrigins.reduce<Origin | undefined>(
      (best, origin) => (origin !== undefined && (best === undefined || origin.rank > best.rank) ? origin : best),
      undefined,
    );
    problems.add(
      latest?.source ?? defaultsSource,
      `guildDefaults.${conflict.keys[0]}`,
      conflict.message.replace(/`(\w+)`/gu, '`guildDefaults.$1`'),
    );
  }
}

/**
 * Loads the start-up configuration: the defaults file, then the optional user file (`configFile`, else
 * the file named by `LATENTCORD_CONFIG`), then the environment variables of {@link envVariables}. Objects
 * merge key by key; lists and other values replace. Relative paths resolve against `cwd`. Everything is
 * validated once, after merging; all problems are reported together in one {@link ConfigError} whose
 * lines name the source (file path or environment variable), the key path, the expectation and the value.
 *
 * @returns the deeply frozen configuration
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const warn = options.onWarning ?? ((message: string) => process.emitWarning(message, 'LatentcordConfigWarning'));
  const problems = new Problems();
  const origins = new Map<string, Origin>();
  const tree: Tree = {};

  const defaultsFile = resolve(cwd, options.defaultsFile ?? packageDefaultsFile());
  const defaultsSource = displayPath(defaultsFile, cwd);
  const defaults = readJsonFile(defaultsFile, defaultsSource, problems);
  if (defaults === undefined) throw new ConfigError(problems.list);
  overlay(tree, defaults, configSchema, '', { source: defaultsSource, rank: 0 }, origins, problems);

  const envFile = env[configFileVariable]?.trim();
  const userFileSetting = options.configFile !== undefined ? options.configFile : envFile !== undefined && envFile !== '' ? envFile : null;
  if (userFileSetting !== null) {
    const userFile = resolve(cwd, userFileSetting);
    const source =
      options.configFile !== undefined ? displayPath(userFile, cwd) : `${displayPath(userFile, cwd)} (from ${configFileVariable})`;
    const layer = readJsonFile(userFile, source, problems);
    if (layer !== undefined) overlay(tree, layer, configSchema, '', { source, rank: 1 }, origins, problems);
  }

  envVariables.forEach((variable, index) => {
    const text = env[variable.name];
    if (text === undefined || text.trim() === '') return;
    const origin: Origin = { source: `environment variable ${variable.name}`, raw: text.trim(), rank: 2 + index };
    const layer = treeFromPaths({ [variable.path]: parseEnvValue(variable.type, text), ...variable.alsoSets });
    overlay(tree, layer, configSchema, '', origin, origins, problems);
  });

  const known = new Set([configFileVariable, ...envVariables.map((variable) => variable.name)]);
  for (const name of Object.keys(env)) {
    if (name.startsWith('LATENTCORD_') && !known.has(name)) {
      const suggestion = didYouMean(name, known);
      warn(`Unknown environment variable ${name} ignored${suggestion !== undefined ? ` — did you mean ${suggestion}?` : ''}`);
    }
  }

  const result = validate(tree, configSchema, '', origins, defaultsSource, { cwd }, problems);
  if (problems.list.length === 0) checkGuildDefaults(result.guildDefaults as GuildSettings, origins, defaultsSource, problems);
  if (problems.list.length > 0) throw new ConfigError(problems.list);
  // The tree was built key by key from the schema that `Config` is inferred from, and every key checked.
  return deepFreeze(result as unknown as Config);
}

/** A copy of the configuration that is safe to log: the bot token and the Redis password replaced by `[redacted]`. */
export function configForLog(config: Config): Config {
  return {
    ...config,
    discord: { ...config.discord, token: config.discord.token === null ? null : '[redacted]' },
    scale: { ...config.scale, redisUrl: config.scale.redisUrl === null ? null : redactUrlPassword(config.scale.redisUrl) },
  };
}

/** A URL with its password (user-info or `?password=`) replaced by `[redacted]`. */
function redactUrlPassword(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = '[redacted]';
    if (url.searchParams.has('password')) url.searchParams.set('password', '[redacted]');
    return url.toString();
  } catch {
    return '[redacted]';
  }
}
