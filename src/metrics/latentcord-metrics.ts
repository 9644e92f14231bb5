import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { BoundedLabel, otherLabelValue } from './bounded-label.js';
import type { StatusProviders } from './status.js';

/** Every name starts with this. */
export const metricsPrefix = 'latentcord_';

/** Outcomes counted by `latentcord_jobs_total` (`interrupted`: a restart found the job unfinished). */
export type JobOutcomeLabel = 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

/** The stages of `latentcord_job_stage_duration_seconds`, as the job runner names them (values in ms). */
export const jobStages = ['queueWait', 'encode', 'denoise', 'decode', 'png', 'upload'] as const;

/** One of {@link jobStages}. */
export type JobStage = (typeof jobStages)[number];

/** Discord gateway status names (discord.js `Status`), one series each in `latentcord_discord_gateway_status`. */
export const gatewayStatuses = [
  'Ready',
  'Connecting',
  'Reconnecting',
  'Idle',
  'Nearly',
  'Disconnected',
  'WaitingForGuilds',
  'Identifying',
  'Resuming',
] as const;

/** Options of {@link LatentcordMetrics}. */
export interface MetricsOptions {
  /** Read at each scrape for the gauges; without them the gauges stay 0. */
  readonly status?: StatusProviders;
  /** Node process metrics (CPU, memory, event loop, GC, handles), prefixed `latentcord_`; default true. */
  readonly processMetrics?: boolean;
  /** Most distinct error identifiers in the `error` label before new ones count as `other` (default 32). */
  readonly maxErrorLabels?: number;
}

// Seconds. Stages range from milliseconds (a PNG of a tiny test image) to minutes (a queue on a CPU box).
const stageBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
// Seconds per UNet step: ~ms on the tiny test model, ~0.05 s on a GPU, several seconds on a 2-core CPU.
const stepBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * latentcord's Prometheus metrics in a registry of their own (not prom-client's global one, so several can
 * live in one process, e.g. in tests). Counters and histograms are fed by the record methods; gauges read
 * the status providers at scrape time.
 */
export class LatentcordMetrics {
  /** The registry to expose. */
  readonly registry = new Registry();
  private readonly jobs: Counter<'outcome' | 'error'>;
  private readonly stageSeconds: Histogram<'stage'>;
  private readonly stepSeconds: Histogram;
  private readonly batches: Counter;
  private readonly images: Counter;
  private readonly restarts: Counter;
  private readonly errorLabels: BoundedLabel;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    const status = options.status;
    this.errorLabels = new BoundedLabel(options.maxErrorLabels ?? 32);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: metricsPrefix });

    new Gauge({
      name: `${metricsPrefix}queue_length`,
      help: 'Jobs waiting for the pipeline.',
      registers,
      collect() {
        if (status) this.set(status.queue().waiting);
      },
    });
    new Gauge({
      name: `${metricsPrefix}jobs_running`,
      help: 'Jobs on the pipeline now (one UNet batch may hold several).',
      registers,
      collect() {
        if (status) this.set(status.queue().running);
      },
    });
    new Gauge({
      name: `${metricsPrefix}pipeline_ready`,
      help: '1 while the pipeline process is loaded and answering, 0 while it starts or restarts.',
      registers,
      collect() {
        if (status) this.set(status.pipeline().ready ? 1 : 0);
      },
    });
    new Gauge({
      name: `${metricsPrefix}discord_gateway_status`,
      help: 'Discord gateway status: 1 for the current status, 0 for the others (other: a status this version does not know).',
      labelNames: ['status'],
      registers,
      collect() {
        const current = status?.discord().status;
        const known = (gatewayStatuses as readonly string[]).includes(current ?? '');
        for (const name of gatewayStatuses) this.set({ status: name }, name === current ? 1 : 0);
        this.set({ status: otherLabelValue }, current !== undefined && !known ? 1 : 0);
      },
    });
    new Gauge({
      name: `${metricsPrefix}discord_ready`,
      help: '1 when the Discord client is ready and every gateway shard connected.',
      registers,
      collect() {
        if (status) this.set(status.discord().ready ? 1 : 0);
      },
    });

    this.jobs = new Counter({
      name: `${metricsPrefix}jobs_total`,
      help: 'Jobs that reached a final state, by outcome and error identifier (none on success; other past the label limit).',
      labelNames: ['outcome', 'error'],
      registers,
    });
    this.jobs.inc({ outcome: 'succeeded', error: 'none' }, 0);
    this.stageSeconds = new Histogram({
      name: `${metricsPrefix}job_stage_duration_seconds`,
      help: 'Time per job and stage: queueWait, encode (text encoder), denoise and decode (of the UNet batch the job was in), png, upload.',
      labelNames: ['stage'],
      buckets: stageBuckets,
      registers,
    });
    this.stepSeconds = new Histogram({
      name: `${metricsPrefix}denoise_step_duration_seconds`,
      help: 'Seconds per denoising step of a UNet batch (denoise time / steps).',
      buckets: stepBuckets,
      registers,
    });
    this.batches = new Counter({
      name: `${metricsPrefix}batches_total`,
      help: 'UNet batches the pipeline finished with images.',
      registers,
    });
    this.images = new Counter({ name: `${metricsPrefix}images_generated_total`, help: 'Images the pipeline generated.', registers });
    this.restarts = new Counter({
      name: `${metricsPrefix}pipeline_restarts_total`,
      help: 'Times the pipeline process was replaced after a crash or a timeout.',
      registers,
    });
  }

  /** Counts a finished job and observes the stages it reached (durations in ms). */
  recordJob(outcome: JobOutcomeLabel, errorIdentifier: string | null, stagesMs: Readonly<Partial<Record<JobStage, number>>> = {}): void {
    const error = outcome === 'succeeded' || errorIdentifier === null ? 'none' : this.errorLabels.valueFor(errorIdentifier);
    this.jobs.inc({ outcome, error });
    for (const stage of jobStages) {
      const ms = stagesMs[stage];
      if (ms !== undefined && Number.isFinite(ms) && ms >= 0) this.stageSeconds.observe({ stage }, ms / 1000);
    }
  }

  /** Counts jobs a restart found unfinished (no stages to observe). */
  recordInterrupted(count: number): void {
    if (count > 0) this.jobs.inc({ outcome: 'interrupted', error: 'none' }, count);
  }

  /** Counts a UNet batch that produced images and observes its time per step. */
  recordBatch(images: number, steps: number, denoiseMs: number): void {
    this.batches.inc();
    this.images.inc(images);
    if (steps > 0 && Number.isFinite(denoiseMs)) this.stepSeconds.observe(denoiseMs / steps / 1000);
  }

  /** Counts a pipeline process restart. */
  recordPipelineRestart(): void {
    this.restarts.inc();
  }

  /** The Prometheus text exposition of every metric. */
  async render(): Promise<string> {
    return this.registry.metrics();
  }

  /** `Content-Type` of {@link render}'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
