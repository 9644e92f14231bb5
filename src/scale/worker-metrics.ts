import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BoundedLabel } from '../metrics/index.js';
import type { BatchEnd } from './remote-worker.js';

/** Every worker metric starts with this. */
export const workerMetricsPrefix = 'latentcord_worker_';

/** What the gauges read at each scrape. */
export interface WorkerStatus {
  readonly busy: () => boolean;
  readonly redisConnected: () => boolean;
  readonly pipelineReady: () => boolean;
  readonly pipelineRestarts: () => number;
}

const stepBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * A worker's Prometheus metrics (its own `/metrics`): jobs by outcome, seconds per denoising step, pipeline
 * restarts, whether it is busy, connected to Redis and loaded, and Node's process metrics.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly jobs: Counter<'outcome' | 'error'>;
  private readonly steps: Histogram;
  private readonly images: Counter;
  private readonly errorLabels = new BoundedLabel(32);

  constructor(status: WorkerStatus, processMetrics = true) {
    const registers = [this.registry];
    if (processMetrics) collectDefaultMetrics({ register: this.registry, prefix: workerMetricsPrefix });
    this.jobs = new Counter({
      name: `${workerMetricsPrefix}jobs_total`,
      help: 'Jobs this worker finished: outcome succeeded, failed, cancelled or requeued (handed back at shutdown); error identifier.',
      labelNames: ['outcome', 'error'],
      registers,
    });
    this.steps = new Histogram({
      name: `${workerMetricsPrefix}denoise_step_duration_seconds`,
      help: 'Seconds per denoising step, per UNet batch.',
      buckets: stepBuckets,
      registers,
    });
    this.images = new Counter({ name: `${workerMetricsPrefix}images_generated_total`, help: 'Images this worker made.', registers });
    new Counter({
      name: `${workerMetricsPrefix}pipeline_restarts_total`,
      help: 'Pipeline process replaced after a crash or a timeout.',
      registers,
      collect() {
        this.reset();
        this.inc(status.pipelineRestarts());
      },
    });
    new Gauge({
      name: `${workerMetricsPrefix}busy`,
      help: '1 while the worker runs a batch.',
      registers,
      collect() {
        this.set(status.busy() ? 1 : 0);
      },
    });
    new Gauge({
      name: `${workerMetricsPrefix}redis_connected`,
      help: '1 while the connection to Redis is up.',
      registers,
      collect() {
        this.set(status.redisConnected() ? 1 : 0);
      },
    });
    new Gauge({
      name: `${workerMetricsPrefix}pipeline_ready`,
      help: '1 while the pipeline process is loaded.',
      registers,
      collect() {
        this.set(status.pipelineReady() ? 1 : 0);
      },
    });
  }

  /** Counts a finished batch (one count per job in it). */
  recordBatch(end: BatchEnd): void {
    const error = end.errorIdentifier === null ? 'none' : this.errorLabels.valueFor(end.errorIdentifier);
    this.jobs.inc({ outcome: end.outcome, error }, end.jobs);
    if (end.stepSeconds !== undefined) {
      this.steps.observe(end.stepSeconds);
      this.images.inc(end.images);
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
