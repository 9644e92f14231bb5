import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { UserError, isUserError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { GenerationTimings, InitImage, PromptReport, StepProgress } from '../pipeline/stable-diffusion.js';
import { GenerationQueue, type CancelOutcome, type QueuedJob } from '../queue/generation-queue.js';
import type { RngKind } from '../random/index.js';
import type { SchedulerName } from '../schedulers/index.js';
import type { GenerationOptions } from '../settings/index.js';
import type { JobKind, JobRecord, Store } from '../store/index.js';
import type { PipelineWorker } from '../worker/pipeline-worker.js';
import { renderPngs } from './png-output.js';
import { WaitEstimator, jobWork } from './wait-estimate.js';

/** A validated request, ready to queue. */
export interface JobRequest {
  readonly kind: JobKind;
  readonly userId: string;
  readonly guildId: string | null;
  readonly channelId: string;
  /** Options after server defaults and limits. */
  readonly options: GenerationOptions;
  /** The prepared source picture of a remix. */
  readonly initImage?: InitImage;
  readonly sourceImageUrl?: string | null;
  readonly parentJobId?: string | null;
}

/** A finished job's output, handed to its observer for delivery. */
export interface FinishedJob {
  readonly record: JobRecord;
  readonly pngs: readonly Buffer[];
  readonly prompt: PromptReport;
  readonly negativePrompt: PromptReport;
}

/** Where a job's result ended up. */
export interface Delivery {
  readonly messageId: string;
  readonly channelId: string;
  readonly attachmentUrls: readonly string[];
}

/**
 * How a job talks back to whoever asked for it (an interaction, a message, a test). Observers throttle
 * their own updates; the runner calls them as things happen.
 */
export interface JobObserver {
  /**
   * The job's place in the queue changed (1-based; 0 means it is about to run), with the expected wait in ms
   * once the pipeline's pace is known.
   */
  queued(position: number, record: JobRecord, expectedWaitMs?: number): void;
  /** The job's batch started on the pipeline. */
  started(record: JobRecord): void;
  /** A denoising step finished. */
  progress(progress: StepProgress, record: JobRecord): void;
  /** Delivers the images; resolves with where they went. */
  deliver(job: FinishedJob): Promise<Delivery>;
  /** The job failed or was cancelled (`job.cancelled`); tells the requester. */
  failed(error: Error, record: JobRecord): Promise<void>;
}

/** Settings of the runner. */
export interface JobRunnerOptions {
  readonly worker: PipelineWorker;
  readonly store: Store;
  readonly logger: Logger;
  readonly maxQueueLength: number;
  /** Images one UNet batch may hold; 1 disables batching of compatible jobs. */
  readonly maxBatchImages: number;
  readonly rng: RngKind;
  readonly modelName: string;
}

/**
 * Where a job's time went, in ms: waiting in the queue, then the batch's text encoding, denoising and VAE
 * decoding (shared by the jobs of one UNet batch), then its own PNG encoding and upload. Stages a job did
 * not reach are absent.
 */
export interface JobStages {
  queueWait?: number;
  encode?: number;
  denoise?: number;
  decode?: number;
  png?: number;
  upload?: number;
}

/** How a job ended, as its stored status. */
export type JobOutcome = 'succeeded' | 'failed' | 'cancelled';

/** `jobFinished`: a job reached a final state (also one refused by the queue, or cancelled while waiting). */
export interface JobFinishedEvent {
  readonly record: JobRecord;
  readonly outcome: JobOutcome;
  /** {@link UserError} identifier (or `internal`, `delivery`) of a failure or cancellation; `null` on success. */
  readonly errorIdentifier: string | null;
  readonly stages: Readonly<JobStages>;
}

/** `batchStart`: jobs went to the pipeline together. */
export interface BatchStartEvent {
  readonly jobs: readonly JobRecord[];
  /** Images the batch makes. */
  readonly images: number;
}

/** `batchEnd`: the pipeline finished (or failed) a batch; delivery may still be going on. */
export interface BatchEndEvent {
  readonly jobs: readonly JobRecord[];
  readonly images: number;
  /** The pipeline's timings when it produced images. */
  readonly timings: GenerationTimings | null;
  /** Identifier of the failure when it produced none. */
  readonly errorIdentifier: string | null;
}

/** Events of {@link JobRunner}, for metrics and other observers that watch every job. */
export interface JobRunnerEvents {
  batchStart: [event: BatchStartEvent];
  batchEnd: [event: BatchEndEvent];
  jobFinished: [event: JobFinishedEvent];
}

interface ActiveJob {
  readonly request: JobRequest;
  readonly observer: JobObserver;
  readonly record: JobRecord;
  /** Carries the job id, guild and user on every line. */
  readonly logger: Logger;
  readonly stages: JobStages;
}

/**
 * Runs validated jobs: queues them, feeds compatible ones to the pipeline process together, encodes the
 * PNGs and hands them to each job's observer. Delivery of one batch overlaps the next batch's denoising.
 * Knows nothing of Discord. Emits {@link JobRunnerEvents} (`batchStart`, `batchEnd`, `jobFinished`) so
 * metrics can watch every job without the runner knowing about them; listeners must not throw.
 */
export class JobRunner extends EventEmitter<JobRunnerEvents> {
  readonly queue: GenerationQueue<ActiveJob>;
  private readonly deliveries = new Set<Promise<void>>();
  private readonly waitEstimator = new WaitEstimator();

  constructor(private readonly options: JobRunnerOptions) {
    super();
    this.queue = new GenerationQueue<ActiveJob>({
      maxLength: options.maxQueueLength,
      maxBatchImages: options.maxBatchImages,
      run: (batch) => this.runBatch(batch),
    });
    this.queue.on('positions', () => {
      const waits = this.expectedWaits();
      this.queue.queued.forEach((job, index) => job.payload.observer.queued(index + 1, job.payload.record, waits[index]));
    });
  }

  /** Expected waits (ms) of the waiting jobs in queue order; undefined entries until the pace is known. */
  expectedWaits(): (number | undefined)[] {
    const running = this.queue.running;
    const current =
      running.length > 0
        ? { key: running.map((job) => job.id).join(','), work: running.reduce((sum, job) => sum + jobWork(job.payload.record), 0) }
        : undefined;
    return this.waitEstimator.waits(
      current,
      this.queue.queued.map((job) => jobWork(job.payload.record)),
      Date.now(),
    );
  }

  /**
   * Records and queues a job; returns its record and queue position (0 = starting now). A waiting job's
   * observer has already been told its position and expected wait when this returns.
   */
  submit(request: JobRequest, observer: JobObserver): { record: JobRecord; position: number } {
    const { options } = request;
    const record = this.options.store.createJob({
      id: randomUUID(),
      kind: request.kind,
      parentJobId: request.parentJobId ?? null,
      guildId: request.guildId,
      channelId: request.channelId,
      userId: request.userId,
      prompt: options.prompt,
      negativePrompt: options.negativePrompt,
      seed: options.seed,
      steps: options.steps,
      guidance: options.guidance,
      width: request.initImage?.width ?? options.width,
      height: request.initImage?.height ?? options.height,
      scheduler: options.scheduler,
      count: options.count,
      strength: options.strength,
      sourceImageUrl: request.sourceImageUrl ?? null,
    });
    const logger = this.options.logger.child({ job: record.id, guild: record.guildId, user: record.userId });
    const queued: QueuedJob<ActiveJob> = {
      id: record.id,
      userId: request.userId,
      batchKey: batchKeyOf(request, record),
      images: options.count,
      payload: { request, observer, record, logger, stages: {} },
      abort: new AbortController(),
      enqueuedAt: Date.now(),
    };
    logger.info(
      {
        kind: record.kind,
        prompt: record.prompt,
        size: `${record.width}x${record.height}`,
        steps: record.steps,
        count: record.count,
        waiting: this.queue.queued.length,
      },
      'job submitted',
    );
    try {
      const position = this.queue.add(queued);
      return { record, position };
    } catch (error) {
      const identifier = isUserError(error) ? error.identifier : 'internal';
      const refused = this.options.store.updateJob(record.id, { status: 'cancelled', errorIdentifier: identifier }) ?? record;
      this.finished(queued.payload, refused, 'cancelled', identifier);
      throw error;
    }
  }

  /** Cancels a waiting or running job. */
  cancel(jobId: string): CancelOutcome {
    const waiting = this.queue.queued.find((job) => job.id === jobId);
    const outcome = this.queue.cancel(jobId);
    if (outcome === 'removed' && waiting) {
      const record =
        this.options.store.updateJob(jobId, { status: 'cancelled', errorIdentifier: 'job.cancelled' }) ?? waiting.payload.record;
      this.finished(waiting.payload, record, 'cancelled', 'job.cancelled', Date.now() - waiting.enqueuedAt);
      this.track(
        waiting.payload.observer
          .failed(new UserError('job.cancelled', 'Cancelled before it started.'), record)
          .catch((error) => this.logDeliveryError(waiting.payload.logger, error)),
      );
    }
    return outcome;
  }

  /** Stops taking jobs and tells everyone still waiting; returns the jobs that were waiting. */
  async closeQueue(reason: UserError): Promise<JobRecord[]> {
    const dropped = this.queue.close();
    const now = Date.now();
    const records = dropped.map((job) => {
      const record =
        this.options.store.updateJob(job.id, { status: 'cancelled', errorIdentifier: reason.identifier }) ?? job.payload.record;
      this.finished(job.payload, record, 'cancelled', reason.identifier, now - job.enqueuedAt);
      return record;
    });
    await Promise.allSettled(dropped.map((job, i) => job.payload.observer.failed(reason, records[i]!)));
    return records;
  }

  /** Resolves when no job runs and every delivery has finished. */
  async idle(): Promise<void> {
    await this.queue.onIdle();
    while (this.deliveries.size > 0) await Promise.allSettled([...this.deliveries]);
  }

  private async runBatch(batch: readonly QueuedJob<ActiveJob>[]): Promise<void> {
    const { store, worker, logger } = this.options;
    const startedAt = Date.now();
    const records = batch.map((job) => job.payload.record);
    const images = batch.reduce((sum, job) => sum + job.images, 0);
    for (const job of batch) {
      job.payload.stages.queueWait = startedAt - job.enqueuedAt;
      store.updateJob(job.id, { status: 'running', stageDurations: { queueWait: job.payload.stages.queueWait } });
      job.payload.logger.debug({ queueWait: job.payload.stages.queueWait, batch: batch.length }, 'job started');
      job.payload.observer.started(job.payload.record);
    }
    this.emit('batchStart', { jobs: records, images });
    // A batch stops early only when every job in it was cancelled; otherwise cancelled jobs are dropped after.
    const batchAbort = new AbortController();
    const onCancel = () => {
      if (batch.every((job) => job.abort.signal.aborted)) batchAbort.abort();
    };
    for (const job of batch) job.abort.signal.addEventListener('abort', onCancel, { once: true });

    const head = batch[0]!.payload;
    const options = head.request.options;
    try {
      const result = await worker.run(
        batch.map(({ payload: { request, record } }) => ({
          prompt: record.prompt,
          negativePrompt: record.negativePrompt,
          guidanceScale: record.guidance,
          seed: BigInt(record.seed),
          numImages: record.count,
          ...(request.initImage ? { initImage: request.initImage } : {}),
        })),
        {
          width: head.record.width,
          height: head.record.height,
          numInferenceSteps: options.steps,
          scheduler: options.scheduler as SchedulerName,
          rng: this.options.rng,
          ...(head.request.initImage ? { strength: options.strength } : {}),
        },
        {
          signal: batchAbort.signal,
          onProgress: (progress) => {
            for (const job of batch) if (!job.abort.signal.aborted) job.payload.observer.progress(progress, job.payload.record);
          },
        },
      );
      const { timings } = result;
      this.waitEstimator.observeBatch(
        batch.reduce((sum, job) => sum + jobWork(job.payload.record), 0),
        timings.totalMs,
      );
      logger.info(
        {
          jobs: batch.map((j) => j.id),
          images,
          steps: timings.steps,
          encode: timings.encodeMs,
          denoise: timings.denoiseMs,
          decode: timings.decodeMs,
        },
        'batch generated',
      );
      this.emit('batchEnd', { jobs: records, images, timings, errorIdentifier: null });
      batch.forEach((job, index) => {
        Object.assign(job.payload.stages, { encode: timings.encodeMs, denoise: timings.denoiseMs, decode: timings.decodeMs });
        if (job.abort.signal.aborted) {
          this.track(this.fail(job, new UserError('job.cancelled', 'The generation was cancelled.')));
          return;
        }
        const output = result.jobs[index]!;
        // Deliver after this turn: the queue hands the next batch to the pipeline first, so encoding and
        // uploading overlap its denoising instead of delaying its start.
        this.track(
          new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
            this.deliver(job, output.images, output.prompt, output.negativePrompt),
          ),
        );
      });
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      this.emit('batchEnd', {
        jobs: records,
        images,
        timings: null,
        errorIdentifier: isUserError(failure) ? failure.identifier : 'internal',
      });
      for (const job of batch)
        this.track(this.fail(job, job.abort.signal.aborted ? new UserError('job.cancelled', 'The generation was cancelled.') : failure));
    } finally {
      for (const job of batch) job.abort.signal.removeEventListener('abort', onCancel);
    }
  }

  private async deliver(
    job: QueuedJob<ActiveJob>,
    images: Parameters<typeof renderPngs>[0],
    prompt: PromptReport,
    negativePrompt: PromptReport,
  ): Promise<void> {
    const { store } = this.options;
    const { record, request, observer, stages } = job.payload;
    const encodeStarted = performance.now();
    let pngs: Buffer[];
    try {
      pngs = await renderPngs(images, {
        prompt: record.prompt,
        negativePrompt: record.negativePrompt,
        steps: record.steps,
        guidance: record.guidance,
        scheduler: record.scheduler as SchedulerName,
        seed: record.seed,
        rng: this.options.rng,
        ...(request.initImage ? { strength: record.strength } : {}),
        modelName: this.options.modelName,
      });
    } catch (error) {
      await this.fail(job, error as Error);
      return;
    }
    stages.png = performance.now() - encodeStarted;
    const uploadStarted = performance.now();
    try {
      const delivery = await observer.deliver({ record, pngs, prompt, negativePrompt });
      stages.upload = performance.now() - uploadStarted;
      const delivered = store.updateJob(record.id, {
        status: 'succeeded',
        resultMessageId: delivery.messageId,
        resultChannelId: delivery.channelId,
        attachmentUrls: delivery.attachmentUrls,
        stageDurations: { ...stages },
      });
      this.finished(job.payload, delivered ?? record, 'succeeded', null);
    } catch (error) {
      stages.upload = performance.now() - uploadStarted;
      const identifier = isUserError(error) ? error.identifier : 'delivery';
      const failed = store.updateJob(record.id, { status: 'failed', errorIdentifier: identifier, stageDurations: { ...stages } });
      this.logDeliveryError(job.payload.logger, error);
      this.finished(job.payload, failed ?? record, 'failed', identifier);
      // The requester must hear about it (e.g. a picture over the upload limit); if even that fails, it is logged.
      try {
        await observer.failed(error instanceof Error ? error : new Error(String(error)), failed ?? record);
      } catch (tellError) {
        this.logDeliveryError(job.payload.logger, tellError);
      }
    }
  }

  private async fail(job: QueuedJob<ActiveJob>, error: Error): Promise<void> {
    const { store } = this.options;
    const { logger, stages } = job.payload;
    const identifier = isUserError(error) ? error.identifier : 'internal';
    const status = identifier === 'job.cancelled' ? 'cancelled' : 'failed';
    const record = store.updateJob(job.id, { status, errorIdentifier: identifier, stageDurations: { ...stages } }) ?? job.payload.record;
    if (!isUserError(error)) logger.error({ err: error }, 'job failed');
    this.finished(job.payload, record, status, identifier);
    try {
      await job.payload.observer.failed(error, record);
    } catch (deliveryError) {
      this.logDeliveryError(logger, deliveryError);
    }
  }

  /** The one place a job's end is logged (with every stage it reached) and announced. */
  private finished(job: ActiveJob, record: JobRecord, outcome: JobOutcome, errorIdentifier: string | null, queueWait?: number): void {
    if (queueWait !== undefined) job.stages.queueWait = queueWait;
    const stages: JobStages = { ...job.stages };
    job.logger.info(
      { outcome, ...(errorIdentifier ? { error: errorIdentifier } : {}), images: record.count, stages: roundStages(stages) },
      'job finished',
    );
    this.emit('jobFinished', { record, outcome, errorIdentifier, stages });
  }

  private track(promise: Promise<void>): void {
    this.deliveries.add(promise);
    void promise.finally(() => this.deliveries.delete(promise));
  }

  private logDeliveryError(logger: Logger, error: unknown): void {
    // A refusal the requester is told about (e.g. a picture over the upload limit) is not an operator's problem.
    if (isUserError(error)) logger.info({ identifier: error.identifier }, 'result not delivered: ' + error.message);
    else logger.error({ err: error }, 'could not tell the requester about their job');
  }
}

/** Stage times in whole milliseconds, for log lines. */
function roundStages(stages: JobStages): JobStages {
  return Object.fromEntries(Object.entries(stages).map(([stage, ms]) => [stage, Math.round(ms as number)]));
}

/**
 * Jobs that can share a UNet batch: same size, steps, scheduler, kind and strength, and classifier-free
 * guidance on for all or off for all (the model input's layout depends on it).
 */
function batchKeyOf(request: JobRequest, record: JobRecord): string {
  const guided = record.guidance > 1 ? 'cfg' : 'nocfg';
  const strength = request.initImage ? `:${record.strength}` : '';
  return `${request.kind}:${record.width}x${record.height}:${record.steps}:${record.scheduler}:${guided}${strength}`;
}
