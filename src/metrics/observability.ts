import type { EventEmitter } from 'node:events';
import type { JobRunnerEvents } from '../jobs/job-events.js';
import type { Logger } from '../logging/logger.js';
import { checkHealth } from './health.js';
import { startHttpEndpoint, type HttpEndpoint } from './http-endpoint.js';
import { LatentcordMetrics } from './latentcord-metrics.js';
import type { StatusProviders } from './status.js';

/** The job runner as metrics see it: its events. */
export type JobEvents = Pick<EventEmitter<JobRunnerEvents>, 'on' | 'off'>;

/** The pipeline worker as metrics see it: it emits `restart` (reason). */
export type RestartEvents = Pick<EventEmitter, 'on' | 'off'>;

/** Feeds the job runner's events into the metrics; returns a function that stops it. */
export function watchJobRunner(metrics: LatentcordMetrics, runner: JobEvents): () => void {
  const onJobFinished = ({ outcome, errorIdentifier, stages }: JobRunnerEvents['jobFinished'][0]) =>
    metrics.recordJob(outcome, errorIdentifier, stages);
  const onBatchEnd = ({ images, timings }: JobRunnerEvents['batchEnd'][0]) => {
    if (timings) metrics.recordBatch(images, timings.steps, timings.denoiseMs);
  };
  runner.on('jobFinished', onJobFinished);
  runner.on('batchEnd', onBatchEnd);
  return () => {
    runner.off('jobFinished', onJobFinished);
    runner.off('batchEnd', onBatchEnd);
  };
}

/** Counts the pipeline worker's `restart` events; returns a function that stops it. */
export function watchPipelineRestarts(metrics: LatentcordMetrics, worker: RestartEvents): () => void {
  const onRestart = () => metrics.recordPipelineRestart();
  worker.on('restart', onRestart);
  return () => worker.off('restart', onRestart);
}

/** Options of {@link startObservability}. */
export interface ObservabilityOptions {
  /** Config `http`: nothing is started when not enabled. */
  readonly http: { readonly enabled: boolean; readonly host: string; readonly port: number };
  readonly logger: Logger;
  readonly jobs: JobEvents;
  readonly worker: RestartEvents;
  readonly status: Omit<StatusProviders, 'stopping'>;
  /** Jobs the start-up found interrupted by the previous process (counted once). */
  readonly interruptedJobs: number;
}

/** The bot's metrics and HTTP endpoint. */
export interface Observability {
  /** The metrics, when the endpoint is enabled. */
  readonly metrics: LatentcordMetrics | undefined;
  /** The listening endpoint, when enabled. */
  readonly endpoint: HttpEndpoint | undefined;
  /** From now on `/healthz` answers 503 `shutting down`. */
  markStopping(): void;
  /** Stops listening and watching. */
  close(): Promise<void>;
}

/**
 * Starts the metrics and the HTTP endpoint (`/healthz`, `/metrics`) when config `http.enabled` is on, and
 * logs `http endpoint listening` with its `address`. With it off, nothing is collected or opened.
 */
export async function startObservability(options: ObservabilityOptions): Promise<Observability> {
  if (!options.http.enabled)
    return { metrics: undefined, endpoint: undefined, markStopping: () => undefined, close: async () => undefined };
  let stopping = false;
  const status: StatusProviders = { ...options.status, stopping: () => stopping };
  const metrics = new LatentcordMetrics({ status });
  metrics.recordInterrupted(options.interruptedJobs);
  const unwatch = [watchJobRunner(metrics, options.jobs), watchPipelineRestarts(metrics, options.worker)];
  let endpoint: HttpEndpoint;
  try {
    endpoint = await startHttpEndpoint({
      host: options.http.host,
      port: options.http.port,
      health: () => checkHealth(status),
      metrics: async () => ({ contentType: metrics.contentType, body: await metrics.render() }),
      logger: options.logger,
    });
  } catch (error) {
    for (const stop of unwatch) stop();
    throw error;
  }
  options.logger.info({ address: endpoint.url }, 'http endpoint listening');
  return {
    metrics,
    endpoint,
    markStopping: () => void (stopping = true),
    async close() {
      for (const stop of unwatch) stop();
      await endpoint.close();
    },
  };
}
