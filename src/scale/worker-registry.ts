import type { Redis } from 'ioredis';
import { withTimeout } from './redis-connection.js';
import type { ScaleKeys } from './keys.js';

/** What a worker tells Redis at every heartbeat. */
export interface WorkerBeat {
  readonly name: string;
  /** Random per process: two processes with one name are told apart. */
  readonly instance: string;
  /** Model identity (`name@hash`) it serves. */
  readonly model: string;
  /** Display name of the model. */
  readonly modelName: string;
  /** `cpu`, `cuda:0`, … (after a CUDA fallback: `cpu`). */
  readonly device: string;
  readonly state: 'idle' | 'busy' | 'stopping';
  /** The batch it works on, while busy. */
  readonly batch?: string;
  readonly jobsDone: number;
  readonly pipelineRestarts: number;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: number;
  readonly beatAt: number;
}

/** Beats missed before a worker counts as gone. */
export const missedBeatsAllowed = 3;

/**
 * Writes a worker's heartbeat: its record with a time to live of three beats, and its entry in the set of
 * workers (scored by when the record runs out), in one transaction.
 */
export async function writeBeat(redis: Redis, keys: ScaleKeys, beat: WorkerBeat, heartbeatMs: number): Promise<void> {
  const ttl = heartbeatMs * missedBeatsAllowed;
  await withTimeout(
    redis
      .multi()
      .set(keys.worker(beat.name), JSON.stringify(beat), 'PX', ttl)
      .zadd(keys.workers, beat.beatAt + ttl, beat.name)
      .exec(),
    heartbeatMs,
    'heartbeat',
  );
}

/** Removes a worker from the registry (when it stops). */
export async function removeBeat(redis: Redis, keys: ScaleKeys, name: string, instance: string): Promise<void> {
  const current = await withTimeout(redis.get(keys.worker(name)), 5_000, 'reading a heartbeat');
  if (current !== null && (JSON.parse(current) as WorkerBeat).instance !== instance) return; // another process took the name
  await withTimeout(redis.multi().del(keys.worker(name)).zrem(keys.workers, name).exec(), 5_000, 'removing a heartbeat');
}

/** The live workers (every model), by name; drops the entries of workers whose heartbeat ran out. */
export async function readBeats(redis: Redis, keys: ScaleKeys, now = Date.now()): Promise<WorkerBeat[]> {
  const names = await withTimeout(redis.zrangebyscore(keys.workers, now, '+inf'), 5_000, 'reading the workers');
  // Housekeeping of long-gone entries; failure does not matter.
  redis.zremrangebyscore(keys.workers, '-inf', now - 60_000).catch(() => undefined);
  if (names.length === 0) return [];
  const records = await withTimeout(redis.mget(names.map((name) => keys.worker(name))), 5_000, 'reading the workers');
  const beats: WorkerBeat[] = [];
  for (const record of records) {
    if (record === null) continue;
    try {
      beats.push(JSON.parse(record) as WorkerBeat);
    } catch {
      // a record we cannot read is not a live worker
    }
  }
  return beats.sort((a, b) => a.name.localeCompare(b.name));
}
