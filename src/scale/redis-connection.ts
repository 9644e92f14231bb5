import type { ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';

/** How long one Redis command may take before it fails (every call that talks to Redis is bounded). */
export const commandTimeoutMs = 5_000;

/**
 * ioredis options for a `redis://`, `rediss://` (TLS) or `unix://` URL: host, port, user, password and
 * database from the URL; `unix:///path?db=N&password=…` for a socket. Reconnects forever with a back-off of
 * at most 5 s, so a Redis that comes back is found again without anyone's help.
 */
export function redisOptionsFrom(url: string): RedisOptions {
  const parsed = new URL(url);
  const base: RedisOptions = {
    connectTimeout: 5_000,
    retryStrategy: (times) => Math.min(250 * 2 ** Math.min(times, 5), 5_000),
    // Redis that restarted (or failed over) answers READONLY/LOADING for a while: reconnect rather than fail.
    reconnectOnError: (error) => /READONLY|LOADING/u.test(error.message),
  };
  const password = parsed.password ? decodeURIComponent(parsed.password) : (parsed.searchParams.get('password') ?? undefined);
  const username = parsed.username ? decodeURIComponent(parsed.username) : undefined;
  const db = parsed.protocol === 'unix:' ? Number(parsed.searchParams.get('db') ?? 0) : Number(parsed.pathname.slice(1) || 0);
  if (parsed.protocol === 'unix:') return { ...base, path: decodeURIComponent(parsed.pathname), password, db };
  return {
    ...base,
    host: parsed.hostname.replace(/^\[|\]$/gu, ''),
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    db,
    ...(parsed.protocol === 'rediss:' ? { tls: { servername: parsed.hostname } } : {}),
  };
}

/** The URL with its password replaced by `***`, for logs and messages. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***');
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** The password in the URL, so loggers can redact it anywhere it shows up. */
export function redisPassword(url: string | null): string | undefined {
  if (url === null) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.password ? decodeURIComponent(parsed.password) : (parsed.searchParams.get('password') ?? undefined);
  } catch {
    return undefined;
  }
}

/**
 * A client for plain commands that fails fast while Redis is unreachable (no offline queue, one retry, a
 * time limit per command) instead of piling calls up: callers decide what a failure means.
 */
export function createCommandClient(url: string, name: string): Redis {
  return new Redis({
    ...redisOptionsFrom(url),
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
  });
}

/** Rejects with `what` timed out after `ms`, unless the promise settled first. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Connection options for a BullMQ class that makes its own connections (Worker, QueueEvents): BullMQ sets
 * `maxRetriesPerRequest: null` on them itself, so blocking reads wait for a reconnection instead of failing.
 */
export function bullConnection(url: string, name: string): ConnectionOptions {
  return { ...redisOptionsFrom(url), connectionName: name } as ConnectionOptions;
}
