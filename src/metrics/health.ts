import type { StatusProviders } from './status.js';

/** The JSON body of `GET /healthz`. */
export interface HealthBody {
  /** `ok` when the bot can take and run jobs. */
  readonly status: 'ok' | 'unavailable';
  /** Why not, in words, when unavailable (every reason, joined with `; `). */
  readonly reason?: string;
  readonly discord: { readonly ready: boolean; readonly status: string };
  readonly pipeline: { readonly ready: boolean; readonly restarts: number };
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
  if (!pipeline.ready) reasons.push(pipeline.restarts > 0 ? 'pipeline process restarting' : 'pipeline process starting');
  const healthy = reasons.length === 0;
  return {
    healthy,
    body: {
      status: healthy ? 'ok' : 'unavailable',
      ...(healthy ? {} : { reason: reasons.join('; ') }),
      discord: { ready: discord.ready, status: discord.status },
      pipeline: { ready: pipeline.ready, restarts: pipeline.restarts },
      queue: { waiting: queue.waiting, running: queue.running },
      uptimeSeconds: Math.round(process.uptime()),
    },
  };
}
