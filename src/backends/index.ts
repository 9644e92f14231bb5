/** Where batches run: the local pipeline process(es) or remote workers (issue 10's one seam). */
import type { Config } from '../config/index.js';
import type { Logger } from '../logging/logger.js';
import { RedisBackend } from '../scale/index.js';
import { startLocalBackend, type WarmUpSettings } from './local-backend.js';
import type { PipelineBackend } from './pipeline-backend.js';

export { LocalBackend, startLocalBackend, type WarmUpSettings } from './local-backend.js';
export { LocalPipelinePool, type LocalPipelinePoolOptions } from './local-pool.js';
export type { BackendStatus, ModelSummary, PipelineBackend, PipelineView } from './pipeline-backend.js';

/**
 * Starts the configured backend: remote workers through Redis when `scale.redisUrl` is set, else the local
 * pipeline process (one per device of `deviceIds`), warmed up with `warmUp` (the size and guidance people will ask for).
 */
export async function startBackend(config: Config, modelDir: string, logger: Logger, warmUp: WarmUpSettings): Promise<PipelineBackend> {
  const { redisUrl, prefix, heartbeatSeconds, lostJobGraceSeconds, resultTtlSeconds } = config.scale;
  if (redisUrl) {
    return RedisBackend.start({
      redisUrl,
      prefix,
      modelDir,
      heartbeatSeconds,
      lostJobGraceSeconds,
      resultTtlSeconds,
      logger: logger.child({ module: 'redis' }),
    });
  }
  return startLocalBackend(config, modelDir, logger, warmUp);
}
