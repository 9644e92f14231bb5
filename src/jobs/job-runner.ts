import { randomUUID } from 'node:crypto';
import { UserError, isUserError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { InitImage, PromptReport, StepProgress } from '../pipeline/stable-diffusion.js';
import { GenerationQueue, type CancelOutcome, type QueuedJob } from '../queue/generation-queue.js';
import type { RngKind } from '../random/index.js';
import type { SchedulerName } from '../schedulers/index.js';
import type { GenerationOptions } from '../settings/index.js';
import type { JobKind, JobRecord, Store } from '../store/index.js';
import type { PipelineWorker } from '../worker/pipeline-worker.js';
import { renderPngs } from './png-output.js';

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
  /** The job's place in the queue changed (1-based; 0 means it is about to run). */
  queued(position: number, record: JobRecord): void;
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

interface ActiveJob {
  readonly request: JobRequest;
  readonly observer: JobObserver;
  readonly record: JobRecord;
}

/**
 * Runs validated jobs: queues them, feeds compatible ones to the pipeline process together, encodes the
 * PNGs and hands them to each job's observer. Delivery of one batch overlaps the next batch's denoising.
 * Knows nothing of Discord.
 */
export class JobRunner {
  readonly queue: GenerationQueue<ActiveJob>;
  private readonly deliveries = new Set<Promise<void>>();

  constructor(private readonly options: JobRunnerOptions) {
    this.queue = new GenerationQueue<ActiveJob>({
      maxLength: options.maxQueueLength,
      maxBatchImages: options.maxBatchImages,
      run: (batch) => this.runBatch(batch),
    });
    this.queue.on('positions', () => {
      this.queue.queued.forEach((job, index) => job.payload.observer.queued(index + 1, job.payload.record));
    });
  }

  /** Records and queues a job; returns its record and queue position (0 = starting now). */
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
    const queued: QueuedJob<ActiveJob> = {
      id: record.id,
      userId: request.userId,
      batchKey: batchKeyOf(request, record),
      images: options.count,
      payload: { request, observer, record },
      abort: new AbortController(),
      enqueuedAt: Date.now(),
    };
    try {
      const position = this.queue.add(queued);
      return { record, position };
    } catch (error) {
      this.options.store.updateJob(record.id, { status: 'cancelled', errorIdentifier: isUserError(error) ? error.identifier : 'internal' });
      throw error;
    }
  }

  /** Cancels a waiting or running job. */
  cancel(jobId: string): CancelOutcome {
    const waiting = this.queue.queued.find((job) => job.id === jobId);
    const outcome = this.queue.cancel(jobId);
    if (outcome === 'removed' && waiting) {
      const record = this.options.store.updateJob(jobId, { status: 'cancelled', errorIdentifier: 'job.cancelled' }) ?? waiting.payload.record;
      this.track(waiting.payload.observer.failed(new UserError('job.cancelled', 'Cancelled before it started.'), record).catch((error) => this.logDeliveryError(jobId, error)));
    }
    return outcome;
  }

  /** Stops taking jobs and tells everyone still waiting; returns the jobs that were waiting. */
  async closeQueue(reason: UserError): Promise<JobRecord[]> {
    const dropped = this.queue.close();
    const records = dropped.map((job) => this.options.store.updateJob(job.id, { status: 'cancelled', errorIdentifier: reason.identifier }) ?? job.payload.record);
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
    for (const job of batch) {
      store.updateJob(job.id, { status: 'running', stageDurations: { queueWait: startedAt - job.enqueuedAt } });
      job.payload.observer.started(job.payload.record);
    }
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
      const stages = { encode: result.timings.encodeMs, denoise: result.timings.denoiseMs, decode: result.timings.decodeMs };
      logger.info({ jobs: batch.map((j) => j.id), steps: result.timings.steps, ...stages }, 'batch generated');
      batch.forEach((job, index) => {
        if (job.abort.signal.aborted) {
          this.track(this.fail(job, new UserError('job.cancelled', 'The generation was cancelled.')));
          return;
        }
        const output = result.jobs[index]!;
        this.track(this.deliver(job, output.images, output.prompt, output.negativePrompt, stages));
      });
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const job of batch) this.track(this.fail(job, job.abort.signal.aborted ? new UserError('job.cancelled', 'The generation was cancelled.') : failure));
    } finally {
      for (const job of batch) job.abort.signal.removeEventListener('abort', onCancel);
    }
  }

  private async deliver(
    job: QueuedJob<ActiveJob>,
    images: Parameters<typeof renderPngs>[0],
    prompt: PromptReport,
    negativePrompt: PromptReport,
    stages: Record<string, number>,
  ): Promise<void> {
    const { store, logger } = this.options;
    const { record, request, observer } = job.payload;
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
    const png = performance.now() - encodeStarted;
    const uploadStarted = performance.now();
    try {
      const delivery = await observer.deliver({ record, pngs, prompt, negativePrompt });
      const upload = performance.now() - uploadStarted;
      store.updateJob(record.id, {
        status: 'succeeded',
        resultMessageId: delivery.messageId,
        resultChannelId: delivery.channelId,
        attachmentUrls: delivery.attachmentUrls,
        stageDurations: { ...stages, png, upload },
      });
      logger.info({ job: record.id, guild: record.guildId, user: record.userId, stages: { ...stages, png, upload } }, 'job delivered');
    } catch (error) {
      store.updateJob(record.id, { status: 'failed', errorIdentifier: isUserError(error) ? error.identifier : 'delivery' });
      this.logDeliveryError(record.id, error);
    }
  }

  private async fail(job: QueuedJob<ActiveJob>, error: Error): Promise<void> {
    const { store, logger } = this.options;
    const identifier = isUserError(error) ? error.identifier : 'internal';
    const status = identifier === 'job.cancelled' ? 'cancelled' : 'failed';
    const record = store.updateJob(job.id, { status, errorIdentifier: identifier }) ?? job.payload.record;
    if (!isUserError(error)) logger.error({ job: job.id, err: error }, 'job failed');
    try {
      await job.payload.observer.failed(error, record);
    } catch (deliveryError) {
      this.logDeliveryError(job.id, deliveryError);
    }
  }

  private track(promise: Promise<void>): void {
    this.deliveries.add(promise);
    void promise.finally(() => this.deliveries.delete(promise));
  }

  private logDeliveryError(jobId: string, error: unknown): void {
    this.options.logger.error({ job: jobId, err: error }, 'could not tell the requester about their job');
  }
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
