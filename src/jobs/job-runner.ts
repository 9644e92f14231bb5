import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { cancelled, describeFailure, isUserError, type Failure } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type {
  BatchParameters,
  GenerationJob,
  GenerationTimings,
  InitImage,
  JobResult,
  StepProgress,
} from '../pipeline/stable-diffusion.js';
import type { PreviewRequest } from '../pipeline/components/previewer.js';
import { GenerationQueue, type CancelOutcome, type QueuedJob } from '../queue/generation-queue.js';
import type { RngKind } from '../random/index.js';
import type { JobPatch, JobRecord, JobSpec, NewJob, Store } from '../store/index.js';
import type { JobOutcome, JobRunnerEvents, JobStages } from './job-events.js';
import type { Delivery, JobObserver, LivePreview } from './job-observer.js';
import { batchKeyOf, toPipelineBatch } from './pipeline-batch.js';
import { batchPreviewPlan } from './preview-plan.js';
import { renderPngs, rerecordPngs } from './png-output.js';
import { WaitEstimator, jobWork } from './wait-estimate.js';

/**
 * One job's output from a pipeline: its images, or — from a remote worker, which encodes them where it drew
 * them — its finished PNGs (then `images` is empty) and the time their encoding took.
 */
export interface PipelineJobOutput extends JobResult {
  readonly pngs?: readonly Buffer[];
  readonly pngMs?: number;
}

/** What a pipeline returns for a batch: each job's output in order, and the batch's timings. */
export interface PipelineBatchResult {
  readonly jobs: readonly PipelineJobOutput[];
  readonly timings: GenerationTimings;
  /** The safety checker's verdicts, `flagged[j][i]`: picture `i` of job `j` has NSFW concepts. Absent: nothing was checked. */
  readonly flagged?: readonly (readonly boolean[])[];
}

/**
 * What runs a batch: the local pipeline process ({@link PipelineWorker}), several of them (one per local
 * device), remote workers behind a queue in Redis — anything that takes the same call. Cancelling the signal
 * stops the batch at the next step with a `job.cancelled` error.
 */
export interface Pipeline {
  run(
    jobs: readonly GenerationJob[],
    parameters: BatchParameters,
    options?: {
      readonly onProgress?: (progress: StepProgress) => void;
      readonly signal?: AbortSignal;
      /** Live previews every `everySteps` steps, handed to `onPreview` per job of the batch. */
      readonly preview?: PreviewRequest;
      readonly onPreview?: (preview: LivePreview & { readonly jobIndex: number }) => void;
      /** The ids of the batch's jobs, in order (remote workers log them). */
      readonly jobIds?: readonly string[];
    },
  ): Promise<PipelineBatchResult>;
  /** How many batches it runs at once (default 1); a pipeline whose capacity changes emits `capacity`. */
  readonly capacity?: number;
  /** Subscribes to `capacity` (the number of batches it can run at once changed). */
  on?(event: 'capacity', listener: () => void): unknown;
  /**
   * Follows one job of a batch that a previous process handed to remote workers (after a restart), as
   * {@link run} would have: its output alone in `jobs`.
   */
  follow?(
    batchId: string,
    jobId: string,
    options?: { readonly onProgress?: (progress: StepProgress) => void; readonly signal?: AbortSignal },
  ): Promise<PipelineBatchResult>;
  /**
   * Why a new job cannot be taken right now (nothing could run it: no live worker serves the model, the
   * queue's server is unreachable), as the UserError to refuse it with; undefined when it can.
   */
  refusal?(): Error | undefined;
}

/** A checked job, ready to queue. */
export interface JobRequest {
  /** Who asked where, and every parameter the job runs with: what is stored, and all the runner reads. */
  readonly job: Omit<NewJob, 'id' | 'status' | 'createdAt'>;
  /** The prepared source picture of a remix (its size is the job's). */
  readonly initImage?: InitImage | undefined;
  /** A live preview after every this many denoising steps (the server's `previewEverySteps`, resolved); 0 or absent: none. */
  readonly previewEverySteps?: number;
}

/** Settings of the runner. */
export interface JobRunnerOptions {
  readonly pipeline: Pipeline;
  readonly store: Store;
  readonly logger: Logger;
  readonly maxQueueLength: number;
  /** Images one UNet batch may hold; 1 disables batching of compatible jobs. */
  readonly maxBatchImages: number;
  readonly rng: RngKind;
  readonly modelName: string;
  /**
   * Chunks of a job's text conditioning ({@link promptChunkCounter}): only jobs with equal counts share a UNet
   * batch. Absent: every job counts one (the pipeline process still splits a batch of mixed lengths).
   */
  readonly promptChunks?: (job: JobSpec) => number;
  /** A1111's name of the final decoder when it is not the model's VAE (`TAESD`), for the PNG parameters. */
  readonly vaeDecoder?: string;
}

/** A waiting job as {@link JobRunner.snapshot} shows it. */
export interface WaitingJob {
  readonly record: JobRecord;
  /** Expected wait in ms, once the pipeline's pace is known. */
  readonly expectedWaitMs: number | undefined;
}

/** What is on the pipeline and what waits, in queue order. */
export interface QueueSnapshot {
  readonly running: readonly JobRecord[];
  readonly waiting: readonly WaitingJob[];
}

interface ActiveJob {
  /** The job as submitted: the only source of its parameters. */
  readonly record: JobRecord;
  readonly initImage: InitImage | undefined;
  readonly observer: JobObserver;
  /** Live previews after every this many steps; 0: none. */
  readonly previewEverySteps: number;
  /** Carries the job id, guild and user on every line. */
  readonly logger: Logger;
  readonly stages: JobStages;
  /** The remote batch a resumed job is followed in (after a restart), instead of running it again. */
  readonly resumeOf?: string;
}

type Job = QueuedJob<ActiveJob>;

/** How a job ended: delivered, or failed or cancelled for a reason already described. */
type Outcome = { readonly status: 'succeeded'; readonly delivery: Delivery } | { readonly failure: Failure };

/** What the requester is told and how a failure is logged, by where it happened. */
const failureStages = {
  generate: { logMessage: 'job failed', bugIdentifier: 'internal' },
  deliver: { logMessage: 'result not delivered', bugIdentifier: 'delivery' },
} as const;

/**
 * Runs validated jobs: queues them, feeds compatible ones to the pipeline together, encodes the PNGs and
 * hands them to each job's observer. Delivery of one batch overlaps the next batch's denoising. Knows
 * nothing of Discord. Emits {@link JobRunnerEvents} (`batchStart`, `batchEnd`, `jobFinished`) so metrics
 * can watch every job without the runner knowing about them; listeners must not throw.
 */
export class JobRunner extends EventEmitter<JobRunnerEvents> {
  readonly #queue: GenerationQueue<ActiveJob>;
  readonly #deliveries = new Set<Promise<void>>();
  readonly #waitEstimator = new WaitEstimator();
  /** Resumed jobs: running on remote workers since before a restart, outside the queue. */
  readonly #resumed = new Set<Job>();

  constructor(private readonly options: JobRunnerOptions) {
    super();
    this.#queue = new GenerationQueue<ActiveJob>({
      maxLength: options.maxQueueLength,
      maxBatchImages: options.maxBatchImages,
      run: (batch) => this.runBatch(batch),
      concurrency: options.pipeline.capacity ?? 1,
    });
    options.pipeline.on?.('capacity', () => {
      this.#queue.setConcurrency(options.pipeline.capacity ?? 1);
      this.#queue.emit('positions');
    });
    this.#queue.on('positions', () => {
      const waits = this.expectedWaits();
      this.#queue.queued.forEach((job, index) => job.payload.observer.queued(index + 1, job.payload.record, waits[index]));
    });
  }

  /** Whether new jobs are accepted (false once {@link closeQueue} began). */
  get isAccepting(): boolean {
    return this.#queue.isAccepting;
  }

  /**
   * Throws the UserError a {@link submit} would meet now — `queue.closed`, `queue.full`, or the pipeline's
   * {@link refusal} — so a request can be refused before it is acknowledged or its picture downloaded.
   */
  checkCapacity(): void {
    this.#queue.checkRoom();
    const refusal = this.refusal();
    if (refusal) throw refusal;
  }

  /**
   * Why a new job cannot be taken right now although the queue is open (no live worker serves the model,
   * the remote queue's server is unreachable), as the UserError to refuse it with.
   */
  refusal(): Error | undefined {
    return this.#queue.isAccepting ? this.options.pipeline.refusal?.() : undefined;
  }

  /** Jobs of one user that are waiting or running. */
  activeJobsOf(userId: string): number {
    let resumed = 0;
    for (const job of this.#resumed) if (job.userId === userId) resumed++;
    return this.#queue.activeJobsOf(userId) + resumed;
  }

  /** The jobs on the pipeline and the waiting ones with their expected waits, in queue order. */
  snapshot(): QueueSnapshot {
    const waits = this.expectedWaits();
    return {
      running: [...this.#resumed, ...this.#queue.running].map((job) => job.payload.record),
      waiting: this.#queue.queued.map((job, index) => ({ record: job.payload.record, expectedWaitMs: waits[index] })),
    };
  }

  /**
   * Records and queues a job; returns its record and queue position (0 = starting now). A waiting job's
   * observer has already been told its position and expected wait when this returns. A refusal (full or
   * closed queue) is thrown after the record was marked cancelled; a full disk (`store.full`: the record
   * cannot be written) is thrown as it is, and logged for the owner.
   */
  submit({ job, initImage, previewEverySteps = 0 }: JobRequest, observer: JobObserver): { record: JobRecord; position: number } {
    // Before the record exists: reading the prompts is the last check a request can fail.
    const batchKey = batchKeyOf(job, this.options.promptChunks?.(job));
    let record: JobRecord;
    try {
      record = this.options.store.createJob({ id: randomUUID(), ...job });
    } catch (error) {
      if (isUserError(error) && error.identifier === 'store.full') {
        this.options.logger.error(
          { err: error.cause, guild: job.guildId, user: job.userId },
          'the disk is full: a new job could not be recorded and was refused (free space in the data folder)',
        );
      }
      throw error;
    }
    const logger = this.options.logger.child({ job: record.id, guild: record.guildId, user: record.userId });
    const queued: Job = {
      id: record.id,
      userId: record.userId,
      batchKey,
      images: record.count,
      payload: { record, initImage, observer, previewEverySteps, logger, stages: {} },
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
        waiting: this.#queue.queued.length,
      },
      'job submitted',
    );
    try {
      const refusal = this.refusal();
      if (refusal) throw refusal;
      return { record, position: this.#queue.add(queued) };
    } catch (error) {
      this.settle(queued, { failure: describeFailure(error, logger, failureStages.generate) });
      throw error;
    }
  }

  /**
   * Takes up a job that a previous process handed to remote workers and that is still in their queue (the
   * bot restarted): it is followed there, not drawn again, and its result delivered (or its failure told)
   * through `observer` as if the bot had never been away.
   */
  resume(record: JobRecord, observer: JobObserver, batchId: string): void {
    const logger = this.options.logger.child({ job: record.id, guild: record.guildId, user: record.userId });
    const job: Job = {
      id: record.id,
      userId: record.userId,
      batchKey: undefined,
      images: record.count,
      payload: { record, initImage: undefined, observer, previewEverySteps: 0, logger, stages: {}, resumeOf: batchId },
      abort: new AbortController(),
      enqueuedAt: record.createdAt,
    };
    logger.info({ batch: batchId }, 'job resumed: it is still with the remote workers');
    this.#resumed.add(job);
    this.track(this.runBatch([job]).finally(() => this.#resumed.delete(job)));
  }

  /** Cancels a waiting or running job. */
  cancel(jobId: string): CancelOutcome {
    for (const job of this.#resumed) {
      if (job.id === jobId) {
        job.abort.abort();
        return 'aborted';
      }
    }
    const waiting = this.#queue.queued.find((job) => job.id === jobId);
    const outcome = this.#queue.cancel(jobId);
    if (outcome === 'removed' && waiting) this.track(this.fail(waiting, cancelled('waiting'), 'generate', Date.now()));
    return outcome;
  }

  /** Stops taking jobs and tells everyone still waiting why; returns the jobs that were waiting. */
  async closeQueue(reason: Error): Promise<JobRecord[]> {
    const now = Date.now();
    const dropped = this.#queue.close().map((job) => this.finishFailed(job, reason, 'generate', now));
    await Promise.allSettled(dropped.map(({ told }) => told));
    return dropped.map(({ record }) => record);
  }

  /** Resolves when no job runs and every delivery has finished. */
  async idle(): Promise<void> {
    await this.#queue.onIdle();
    while (this.#deliveries.size > 0) await Promise.allSettled([...this.#deliveries]);
  }

  /** Expected waits (ms) of the waiting jobs in queue order; undefined entries until the pace is known. */
  private expectedWaits(): (number | undefined)[] {
    const running = this.#queue.runningBatches.map((batch) => ({
      key: batch.map((job) => job.id).join(','),
      work: batch.reduce((sum, job) => sum + jobWork(job.payload.record), 0),
    }));
    return this.#waitEstimator.waits(
      running,
      this.#queue.queued.map((job) => jobWork(job.payload.record)),
      Date.now(),
      this.#queue.concurrency,
    );
  }

  private async runBatch(batch: readonly Job[]): Promise<void> {
    const { pipeline, logger } = this.options;
    const startedAt = Date.now();
    const records = batch.map((job) => job.payload.record);
    const images = batch.reduce((sum, job) => sum + job.images, 0);
    for (const job of batch) {
      job.payload.stages.queueWait = startedAt - job.enqueuedAt;
      this.updateRecord(job, { status: 'running', stageDurations: { queueWait: job.payload.stages.queueWait } });
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
    try {
      const onProgress = (progress: StepProgress) => {
        for (const job of batch) if (!job.abort.signal.aborted) job.payload.observer.progress(progress, job.payload.record);
      };
      const resumeOf = batch[0]!.payload.resumeOf;
      let result: PipelineBatchResult;
      if (resumeOf !== undefined && pipeline.follow) {
        result = await pipeline.follow(resumeOf, batch[0]!.id, { signal: batchAbort.signal, onProgress });
      } else {
        const call = toPipelineBatch(
          batch.map(({ payload }) => ({ job: payload.record, initImage: payload.initImage })),
          this.options.rng,
        );
        result = await pipeline.run(call.jobs, call.parameters, {
          signal: batchAbort.signal,
          jobIds: batch.map((job) => job.id),
          onProgress,
          ...previewOptions(batch),
        });
      }
      const { timings } = result;
      this.#waitEstimator.observeBatch(
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
          this.track(this.fail(job, cancelled(), 'generate'));
          return;
        }
        // Deliver after this turn: the queue hands the next batch to the pipeline first, so encoding and
        // uploading overlap its denoising instead of delaying its start.
        const output = result.jobs[index]!;
        const flagged = result.flagged?.[index];
        this.track(new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.deliver(job, output, flagged)));
      });
    } catch (error) {
      this.emit('batchEnd', { jobs: records, images, timings: null, errorIdentifier: isUserError(error) ? error.identifier : 'internal' });
      for (const job of batch) this.track(this.fail(job, job.abort.signal.aborted ? cancelled() : error, 'generate'));
    } finally {
      for (const job of batch) job.abort.signal.removeEventListener('abort', onCancel);
    }
  }

  private async deliver(job: Job, output: PipelineJobOutput, flagged: readonly boolean[] | undefined): Promise<void> {
    const { record, observer, stages } = job.payload;
    const encodeStarted = performance.now();
    let pngs: Buffer[];
    try {
      const { rng, modelName, vaeDecoder } = this.options;
      const context = { rng, modelName, ...(vaeDecoder ? { vaeDecoder } : {}) };
      if (!output.pngs) pngs = await renderPngs(output.images, record, context);
      // A remote worker's PNGs record the pipeline's call; an Upscale ×2 is recorded as a hires fix instead.
      else if (record.operation === 'upscale-hires') pngs = await rerecordPngs(output.pngs, record, { rng, modelName });
      else pngs = [...output.pngs];
    } catch (error) {
      await this.fail(job, error, 'generate');
      return;
    }
    stages.png = output.pngMs ?? performance.now() - encodeStarted;
    const uploadStarted = performance.now();
    let delivery: Delivery;
    try {
      delivery = await observer.deliver({
        record,
        pngs,
        prompt: output.prompt,
        negativePrompt: output.negativePrompt,
        ...(flagged ? { flagged } : {}),
      });
    } catch (error) {
      stages.upload = performance.now() - uploadStarted;
      // The requester must hear about it (e.g. a picture over the upload limit); if even that fails, it is logged.
      await this.fail(job, error, 'deliver');
      return;
    }
    stages.upload = performance.now() - uploadStarted;
    this.settle(job, { status: 'succeeded', delivery });
  }

  /** Ends a job with a failure and tells its requester; resolves once they were told (or that failed). */
  private fail(job: Job, error: unknown, stage: keyof typeof failureStages, leftQueueAt?: number): Promise<void> {
    return this.finishFailed(job, error, stage, leftQueueAt).told;
  }

  private finishFailed(
    job: Job,
    error: unknown,
    stage: keyof typeof failureStages,
    leftQueueAt?: number,
  ): { record: JobRecord; told: Promise<void> } {
    const { logger, observer } = job.payload;
    if (leftQueueAt !== undefined) job.payload.stages.queueWait = leftQueueAt - job.enqueuedAt;
    const failure = describeFailure(error, logger, failureStages[stage]);
    // A refusal the requester is told about (e.g. a picture over the upload limit) is not an operator's problem.
    if (stage === 'deliver' && !failure.isBug) logger.info({ identifier: failure.identifier }, `result not delivered: ${failure.message}`);
    const record = this.settle(job, { failure });
    const told = observer.failed(failure, record).catch((tellError: unknown) => {
      if (isUserError(tellError)) logger.info({ identifier: tellError.identifier }, `could not tell the requester: ${tellError.message}`);
      else logger.error({ err: tellError }, 'could not tell the requester about their job');
    });
    return { record, told };
  }

  /**
   * The one place a job reaches its final state: stored (status, failure, delivery, stage times), logged
   * with every stage it reached, and announced as `jobFinished`. Returns the stored record.
   */
  private settle(job: Job, outcome: Outcome): JobRecord {
    const { record, stages, logger } = job.payload;
    const failure = 'failure' in outcome ? outcome.failure : undefined;
    const status: JobOutcome = failure === undefined ? 'succeeded' : isCancellation(failure.identifier) ? 'cancelled' : 'failed';
    const errorIdentifier = failure?.identifier ?? null;
    const delivery = 'delivery' in outcome ? outcome.delivery : undefined;
    const stored =
      this.updateRecord(job, {
        status,
        ...(errorIdentifier !== null ? { errorIdentifier } : {}),
        ...(delivery
          ? { resultMessageId: delivery.messageId, resultChannelId: delivery.channelId, attachmentUrls: delivery.attachmentUrls }
          : {}),
        stageDurations: { ...stages },
      }) ?? record;
    logger.info(
      { outcome: status, ...(errorIdentifier ? { error: errorIdentifier } : {}), images: record.count, stages: roundStages(stages) },
      'job finished',
    );
    this.emit('jobFinished', { record: stored, outcome: status, errorIdentifier, stages: { ...stages } });
    return stored;
  }

  /**
   * Writes a job's progress to its record. A failed write (a full disk) is logged and the job goes on: its
   * requester still gets the result or the reason it failed.
   */
  private updateRecord(job: Job, patch: JobPatch): JobRecord | undefined {
    try {
      return this.options.store.updateJob(job.id, patch);
    } catch (error) {
      const diskFull = isUserError(error) && error.identifier === 'store.full';
      job.payload.logger.error(
        { err: diskFull ? error.cause : error, status: patch.status },
        diskFull ? "the disk is full: the job's record could not be updated" : "the job's record could not be updated",
      );
      return undefined;
    }
  }

  private track(promise: Promise<void>): void {
    this.#deliveries.add(promise);
    void promise.finally(() => this.#deliveries.delete(promise));
  }
}

/** Failures that mean the job was stopped rather than broken: cancelled, refused or dropped by the queue. */
function isCancellation(identifier: string): boolean {
  return identifier === 'job.cancelled' || identifier.startsWith('queue.');
}

/** Stage times in whole milliseconds, for log lines. */
function roundStages(stages: JobStages): JobStages {
  return Object.fromEntries(Object.entries(stages).map(([stage, ms]) => [stage, Math.round(ms as number)]));
}

/**
 * The preview part of a batch's pipeline call: previews at every step some job of the batch wants one, each
 * handed only to its own job's observer at its own cadence (a cancelled job gets none).
 */
function previewOptions(batch: readonly Job[]): {
  preview?: PreviewRequest;
  onPreview?: (preview: LivePreview & { jobIndex: number }) => void;
} {
  const plan = batchPreviewPlan(batch.map((job) => job.payload.previewEverySteps));
  if (plan.everySteps === 0) return {};
  return {
    preview: { everySteps: plan.everySteps },
    onPreview: (preview) => {
      const job = batch[preview.jobIndex];
      if (job === undefined || job.abort.signal.aborted || !plan.wants(preview.jobIndex, preview.step)) return;
      job.payload.observer.preview?.(preview, job.payload.record);
    },
  };
}
