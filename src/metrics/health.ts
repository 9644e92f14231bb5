import type { PipelineStatus, StatusProviders } from './status.js';

/** The JSON body of `GET /healthz`. */
export interface HealthBody {
  /** `ok` when the bot can take and run jobs. */
  readonly status: 'ok' | 'unavailable';
  /** Why not, in words, when unavailable (every reason, joined with `; `). */
  readonly reason?: string;
  readonly discord: { readonly ready: boolean; readonly status: string };
  /** The pipeline process: ready (warm), restarts, and when known its stage and start-up times. */
  readonly pipeline: PipelineStatus;
  readonly queue: { readonly waiting: number; readonly running: number };
  readonly uptimeSeconds: number;
}

/** A health check's answer: `healthy` maps to HTTP 200, otherwise 503. */
export interface HealthReport {
  readonly healthy: boolean;
  readonly body: HealthBody;
}

/**
 * Healthy when the Discord client is ready and the pipeline process is loaded, and no shutdown began;
 * otherwise every reason is named.
 */
export function checkHealth(providers: StatusProviders): HealthReport {
  const discord = providers.discord();
  const pipeline = providers.pipeline();
  const queue = providers.queue();
  const reasons: string[] = [];
  if (providers.stopping?.()) reasons.push('shutting down');
  if (!discord.ready) reasons.push(`Discord gateway not ready (${discord.status})`);
  if (!pipeline.ready) reasons.push(pipelineReason(pipeline));
  const healthy = reasons.length === 0;
  return {
    healthy,
    body: {
      status: healthy ? 'ok' : 'unavailable',
      ...(healthy ? {} : { reason: reasons.join('; ') }),
      discord: { ready: discord.ready, status: discord.status },
      pipeline,
      queue: { waiting: queue.waiting, running: queue.running },
      uptimeSeconds: Math.round(process.uptime()),
    },
  };
}

/** Why the pipeline cannot take jobs at full speed yet, in words. */
function pipelineReason(pipeline: PipelineStatus): string {
  if (pipeline.restarts > 0 && pipeline.stage !== 'warming') return 'pipeline process restarting';
  switch (pipeline.stage) {
    case 'warming': {
      const size = pipeline.warmUpSize;
      return `pipeline warming up${size ? ` at ${size.width}x${size.height}` : ''}`;
    }
    case 'failed':
      return 'pipeline process failed to start';
    default:
      return 'pipeline process starting';
  }
}
