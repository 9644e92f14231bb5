import { resolve } from 'node:path';
import { checkSettingValue, settingKeys, type SettingKey } from '../settings/index.js';

/** Outcome of checking one configuration value: the value to use, or what was expected. */
export type ValueCheck = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly expected: string };

/** What a check may need besides the value. */
export interface CheckContext {
  /** Folder relative paths resolve against. */
  readonly cwd: string;
}

/** A configuration key holding a value. */
export interface LeafSpec {
  readonly kind: 'leaf';
  /** Validates and normalises a value (never throws). */
  readonly check: (value: unknown, context: CheckContext) => ValueCheck;
}

/** A configuration key holding an object with fixed keys. */
export interface ObjectSpec {
  readonly kind: 'object';
  readonly fields: Readonly<Record<string, ConfigSpec>>;
}

/** One node of the configuration schema. */
export type ConfigSpec = LeafSpec | ObjectSpec;

const ok = (value: unknown): ValueCheck => ({ ok: true, value });
const no = (expected: string): ValueCheck => ({ ok: false, expected });

function leaf(check: LeafSpec['check']): LeafSpec {
  return { kind: 'leaf', check };
}

function object(fields: Record<string, ConfigSpec>): ObjectSpec {
  return { kind: 'object', fields };
}

function integer(min: number, max: number): LeafSpec {
  return leaf((value) =>
    typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
      ? ok(value)
      : no(`an integer from ${min} to ${max}`),
  );
}

function oneOf(choices: readonly string[]): LeafSpec {
  return leaf((value) =>
    typeof value === 'string' && choices.includes(value) ? ok(value) : no(`one of ${choices.map((c) => `\`${c}\``).join(', ')}`),
  );
}

const boolean = leaf((value) => (typeof value === 'boolean' ? ok(value) : no('`true` or `false`')));

function nonEmptyString(what = 'a non-empty string'): LeafSpec {
  return leaf((value) => (typeof value === 'string' && value.trim() !== '' ? ok(value.trim()) : no(what)));
}

function nullable(spec: LeafSpec, what: string): LeafSpec {
  return leaf((value, context) => {
    if (value === null) return ok(null);
    const checked = spec.check(value, context);
    return checked.ok ? checked : no(`${checked.expected} or \`null\` (${what})`);
  });
}

const path = leaf((value, context) =>
  typeof value === 'string' && value.trim() !== '' ? ok(resolve(context.cwd, value.trim())) : no('a non-empty path'),
);

const httpUrl = leaf((value) => {
  if (typeof value === 'string') {
    try {
      const url = new URL(value.trim());
      if ((url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === '' && url.username === '') {
        return ok(url.href.replace(/\/+$/u, ''));
      }
    } catch {
      // Reported below like any other bad value.
    }
  }
  return no('an http:// or https:// URL without query or fragment');
});

const label = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const hostnamePattern = new RegExp(`^(?=.{1,253}$)${label}(?:\\.${label})*$`, 'u');
const hostPort = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::([0-9]{1,5}))?$/u;

/**
 * Canonical form of an attachment host entry (`host` or `host:port`, IPv6 in brackets), lower case and
 * with the port written without leading zeros; `undefined` if it is not one.
 */
export function canonicalHost(entry: string): string | undefined {
  const match = hostPort.exec(entry.trim().toLowerCase());
  if (match === null) return undefined;
  const host = match[1]!;
  if (!host.startsWith('[') && !hostnamePattern.test(host)) return undefined;
  if (match[2] === undefined) return host;
  const port = Number(match[2]);
  return port >= 1 && port <= 65535 ? `${host}:${port}` : undefined;
}

const hostList = leaf((value) => {
  const expected = no('a list of host names, each `host` or `host:port`');
  if (!Array.isArray(value)) return expected;
  const hosts: string[] = [];
  for (const item of value) {
    const host = typeof item === 'string' ? canonicalHost(item) : undefined;
    if (host === undefined) return expected;
    if (!hosts.includes(host)) hosts.push(host);
  }
  return ok(hosts);
});

const modelRepo = leaf((value) =>
  typeof value === 'string' && (value === '' || /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/u.test(value))
    ? ok(value)
    : no('a Hugging Face repository `owner/name` (or "" until one is chosen)'),
);

const autoOrBoolean = leaf((value) => (value === 'auto' || typeof value === 'boolean' ? ok(value) : no('`"auto"`, `true` or `false`')));

function guildDefaultsSpec(): ObjectSpec {
  const fields: Record<string, ConfigSpec> = {};
  for (const key of settingKeys) {
    fields[key] = leaf((value) => {
      const checked = checkSettingValue(key as SettingKey, value);
      return checked.ok ? ok(checked.value) : no(checked.expected);
    });
  }
  return object(fields);
}

/** Log levels pino knows. */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The shape and rules of the whole configuration (mirrors the `Config` type and `config/README.md`). */
export const configSchema: ObjectSpec = object({
  discord: object({
    token: nullable(nonEmptyString('a non-empty token'), 'not configured'),
    apiUrl: httpUrl,
    attachmentHosts: hostList,
    messageContentIntent: boolean,
    deployCommandsOnStart: boolean,
  }),
  modelDir: nullable(path, 'use the default model'),
  defaultModel: object({
    repo: modelRepo,
    revision: nonEmptyString('a branch, tag or commit'),
  }),
  dataDir: path,
  device: oneOf(['cpu', 'cuda']),
  deviceId: integer(0, 63),
  onDeviceUnavailable: oneOf(['fallback', 'fail']),
  rng: oneOf(['cpu', 'philox']),
  modelDefaults: oneOf(['auto', 'config']),
  runtime: object({
    intraOpThreads: integer(0, 1024),
    graphOptimizationLevel: oneOf(['disabled', 'basic', 'extended', 'all']),
    cacheOptimizedModels: boolean,
    warmUp: boolean,
  }),
  queue: object({
    maxLength: integer(1, 1000),
    jobTimeoutSeconds: integer(1, 86400),
    maxBatchImages: integer(1, 16),
  }),
  progress: object({
    editIntervalMs: integer(100, 60000),
  }),
  limits: object({
    maxAttachmentBytes: integer(1, 524288000),
    maxSourcePixels: integer(4096, 268435456),
    downloadTimeoutMs: integer(100, 600000),
  }),
  logging: object({
    level: oneOf(logLevels),
    pretty: autoOrBoolean,
  }),
  http: object({
    enabled: boolean,
    host: nonEmptyString('a host name or IP address'),
    port: integer(0, 65535),
  }),
  shutdown: object({
    graceSeconds: integer(0, 3600),
  }),
  guildDefaults: guildDefaultsSpec(),
});

/** Every leaf key path of `spec` (e.g. `queue.maxLength`), in schema order. */
export function leafPaths(spec: ObjectSpec = configSchema, prefix = ''): string[] {
  return Object.entries(spec.fields).flatMap(([key, child]) =>
    child.kind === 'object' ? leafPaths(child, `${prefix}${key}.`) : [`${prefix}${key}`],
  );
}
