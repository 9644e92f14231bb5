import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { fastScale, startWorker, type WorkerProcess } from './worker-process.js';

/** A redis-server and one worker, for a bot world run on the Redis backend. */
export interface RemoteBackendWorld {
  /** Environment variables for the bot (the Redis URL). */
  readonly env: Record<string, string>;
  /** Merged into the bot's configuration (fast heartbeats, so the bot sees the worker within a second). */
  readonly config: Record<string, unknown>;
  readonly redis: RedisServer;
  readonly worker: WorkerProcess;
  close(): Promise<void>;
}

/** True when the e2e suite runs on the Redis backend (`LATENTCORD_TEST_BACKEND=redis`). */
export const e2eOnRedis = process.env['LATENTCORD_TEST_BACKEND'] === 'redis';

/**
 * Starts what a bot world needs to run its jobs on a remote worker: a redis-server and one worker (as one
 * local pipeline, so positions and waits are those of the embedded default), configured as the bot is
 * (`botConfig`: the same job timeout, sizes and defaults) and serving the bot's model folder (`modelDir`, default the tiny model).
 */
export async function startRemoteBackend(botConfig: Record<string, unknown>, modelDir?: string): Promise<RemoteBackendWorld> {
  const redis = await startRedis();
  try {
    // The worker serves the bot's own model folder (a world may run another one than the tiny model).
    const worker = await startWorker({ name: 'e2e-worker', redisUrl: redis.url, config: botConfig, ...(modelDir ? { modelDir } : {}) });
    return {
      env: { LATENTCORD_REDIS_URL: redis.url },
      config: { scale: fastScale },
      redis,
      worker,
      async close() {
        await worker.kill();
        await redis.close();
      },
    };
  } catch (error) {
    await redis.close();
    throw error;
  }
}
