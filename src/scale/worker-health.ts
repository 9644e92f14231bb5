import type { HealthReport } from '../metrics/index.js';
import type { PipelineWorker } from '../worker/pipeline-worker.js';
import type { RemoteWorker } from './remote-worker.js';

/** What a worker's `/healthz` looks at. */
export interface WorkerHealthSources {
  readonly name: string;
  /** Undefined until it connected to Redis and took its name. */
  readonly remote: RemoteWorker | undefined;
  readonly pipeline: PipelineWorker;
  readonly stopping: boolean;
}

/**
 * A worker is healthy when its pipeline process is loaded, it is connected to Redis and announced, and it
 * is not shutting down; otherwise every reason is named (503).
 */
export function workerHealth(sources: WorkerHealthSources): HealthReport {
  const reasons: string[] = [];
  let pipelineReady = true;
  try {
    void sources.pipeline.info;
  } catch {
    pipelineReady = false;
  }
  const connected = sources.remote?.connected ?? false;
  if (sources.stopping) reasons.push('shutting down');
  if (!pipelineReady) reasons.push(sources.pipeline.restarts > 0 ? 'pipeline process restarting' : 'pipeline process starting');
  if (!sources.remote) reasons.push('connecting to Redis');
  else if (!connected) reasons.push('Redis unreachable');
  const healthy = reasons.length === 0;
  const body = {
    status: healthy ? 'ok' : 'unavailable',
    ...(healthy ? {} : { reason: reasons.join('; ') }),
    worker: sources.name,
    busy: sources.remote?.busy ?? false,
    jobsDone: sources.remote?.jobsDone ?? 0,
    redis: { connected },
    pipeline: { ready: pipelineReady, restarts: sources.pipeline.restarts },
    uptimeSeconds: Math.round(process.uptime()),
  };
  // HealthBody is the bot's shape; a worker's body is its own, read by people and probes alike.
  return { healthy, body: body as unknown as HealthReport['body'] };
}
