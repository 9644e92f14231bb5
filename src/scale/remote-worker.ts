import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { isUserError, newReferenceId, UserError } from '../errors.js';
import { renderPngs, type PngJobFields } from '../jobs/png-output.js';
import type { Logger } from '../logging/logger.js';
import type { BatchParameters, GenerationJob, InitImage, StepProgress } from '../pipeline/stable-diffusion.js';
import type { RngKind } from '../random/index.js';
import type { PipelineWorker } from '../worker/pipeline-worker.js';
import { ScaleKeys } from './keys.js';
import type { ModelIdentity } from './model-identity.js';
import { bullConnection, commandTimeoutMs, createCommandClient, withTimeout } from './redis-connection.js';
import {
  failureReason,
  parseRemoteBatch,
  toGenerationJob,
  wireVersion,
  type RemoteBatch,
  type RemoteBatchResult,
  type RemoteProgress,
} from './wire.js';
import { missedBeatsAllowed, readBeats, removeBeat, writeBeat, type WorkerBeat } from './worker-registry.js';

/** Settings of a worker process (`latentcord worker`). */
export interface RemoteWorkerOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  /** Unique among live workers. */
  readonly name: string;
  readonly identity: ModelIdentity;
  /** The pipeline process it runs batches in (started and warmed up by the caller). */
  readonly pipeline: PipelineWorker;
  /** The device as `/queue` shows it: `cpu`, `cuda:0`, … (`cpu` after a CUDA fallback). */
  readonly deviceLabel: string;
  readonly heartbeatSeconds: number;
  readonly lockSeconds: number;
  readonly stalledCheckSeconds: number;
  readonly resultTtlSeconds: number;
  readonly logger: Logger;
}

/** How a batch ended on this worker, for metrics. */
export interface BatchEnd {
  readonly outcome: 'succeeded' | 'failed' | 'cancelled' | 'requeued';
  readonly errorIdentifier: string | null;
  readonly jobs: number;
  readonly images: number;
  /** Seconds per denoising step, when it produced images. */
  readonly stepSeconds?: number;
}

/** How long a starting worker waits for Redis before it gives up. */
const redisStartWaitMs = 5 * 60_000;

/** Least time between two progress reports to Redis (each is a Lua script and a stream entry). */
const progressIntervalMs = 500;

interface Current {
  readonly batchId: string;
  readonly abort: AbortController;
  /** Set when the worker is shutting down: the batch goes back to the queue instead of failing. */
  requeue: boolean;
}

/**
 * A worker: takes batches for its model from the model's BullMQ queue (one at a time), runs them in its
 * pipeline process, reports the steps as job progress, stores the PNGs in Redis and returns where they are.
 * Announces itself with a heartbeat; stops a batch when the bot cancels it; on shutdown lets the running
 * batch finish within the grace time and otherwise puts it back in the queue for another worker. If the
 * process dies, BullMQ's lock runs out and the stalled check gives the batch once to another worker.
 * Emits `batchEnd` ({@link BatchEnd}).
 */
export class RemoteWorker extends EventEmitter {
  readonly keys: ScaleKeys;
  readonly instance = randomBytes(6).toString('hex');
  readonly startedAt = Date.now();
  jobsDone = 0;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private worker: Worker | undefined;
  private current: Current | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopping = false;
  private lastError = '';

  private constructor(private readonly options: RemoteWorkerOptions) {
    super();
    this.keys = new ScaleKeys(options.prefix);
    this.redis = createCommandClient(options.redisUrl, `latentcord-worker-${options.name}`);
    this.subscriber = createCommandClient(options.redisUrl, `latentcord-worker-${options.name}-cancel`);
  }

  /**
   * Connects, makes sure no live worker has the same name (waiting out the heartbeat of a previous process
   * of this name that died), starts the heartbeat and starts taking jobs.
   */
  static async start(options: RemoteWorkerOptions): Promise<RemoteWorker> {
    const worker = new RemoteWorker(options);
    try {
      await worker.connect();
    } catch (error) {
      await worker.stop(0);
      throw error;
    }
    return worker;
  }

  /** True while the connection to Redis is up. */
  get connected(): boolean {
    return this.redis.status === 'ready';
  }

  /** Whether a batch is running. */
  get busy(): boolean {
    return this.current !== undefined;
  }

  /** The heartbeat record as it is written now. */
  beat(): WorkerBeat {
    const info = safeInfo(this.options.pipeline);
    return {
      name: this.options.name,
      instance: this.instance,
      model: this.options.identity.key,
      modelName: info?.description.name ?? this.options.identity.name,
      device: info ? (info.device === 'cuda' ? this.options.deviceLabel : 'cpu') : 'starting',
      state: this.stopping ? 'stopping' : this.current ? 'busy' : 'idle',
      ...(this.current ? { batch: this.current.batchId } : {}),
      jobsDone: this.jobsDone,
      pipelineRestarts: this.options.pipeline.restarts,
      host: hostname(),
      pid: process.pid,
      startedAt: this.startedAt,
      beatAt: Date.now(),
    };
  }

  /**
   * Stops taking jobs. A running batch may finish within `graceMs`; after that it is stopped and put back
   * in the queue, where another worker takes it. Then the heartbeat is removed and the connections closed
   * (the pipeline process belongs to the caller).
   */
  async stop(graceMs: number): Promise<void> {
    if (this.stopping && !this.worker) return;
    this.stopping = true;
    void this.sendBeat();
    const worker = this.worker;
    this.worker = undefined;
    if (worker) {
      const closed = worker.close();
      const inTime = await Promise.race([
        closed.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs).unref()),
      ]);
      if (!inTime && this.current) {
        this.options.logger.info({ batch: this.current.batchId }, 'shutting down: the running job goes back to the queue');
        this.current.requeue = true;
        this.current.abort.abort();
      }
      await withTimeout(closed, 30_000, 'closing the BullMQ worker').catch((error: unknown) =>
        this.options.logger.warn({ err: error }, 'the BullMQ worker did not close in time'),
      );
    }
    clearInterval(this.heartbeat);
    await removeBeat(this.redis, this.keys, this.options.name, this.instance).catch(() => undefined);
    this.redis.disconnect();
    this.subscriber.disconnect();
  }

  private async connect(): Promise<void> {
    const { logger, name, identity } = this.options;
    const heartbeatMs = this.options.heartbeatSeconds * 1000;
    this.redis.on('error', (error: Error) => this.logConnectionError(error));
    this.subscriber.on('error', () => undefined); // same cause as above, logged once there
    await this.waitForRedis();
    await this.claimName(heartbeatMs);
    await this.subscriber.subscribe(this.keys.cancelChannel);
    this.subscriber.on('message', (_channel: string, batchId: string) => {
      if (this.current?.batchId === batchId) {
        logger.info({ batch: batchId }, 'cancel received');
        this.current.abort.abort();
      }
    });
    await this.sendBeat();
    this.heartbeat = setInterval(() => void this.sendBeat(), heartbeatMs);
    this.worker = new Worker(identity.queueName, (job, token, signal) => this.process(job, token, signal), {
      connection: bullConnection(this.options.redisUrl, `latentcord-worker-${name}-jobs`),
      prefix: this.options.prefix,
      name,
      concurrency: 1,
      lockDuration: this.options.lockSeconds * 1000,
      stalledInterval: this.options.stalledCheckSeconds * 1000,
      // A batch whose worker died runs once more on another worker; a second death fails it (worker.lost).
      maxStalledCount: 1,
      // Waiting for jobs blocks at most this long, so shutting down never waits long.
      drainDelay: 2,
    });
    this.worker.on('error', (error: Error) => this.logConnectionError(error));
    await this.worker.waitUntilReady();
    logger.info({ worker: name, model: identity.key, queue: identity.queueName, instance: this.instance }, 'worker ready: taking jobs');
  }

  /**
   * Waits for Redis at start (it may come up after the worker), saying so every 10 s; gives up after five
   * minutes with an error, so a supervisor (Docker, systemd) restarts the worker and the operator sees why.
   */
  private async waitForRedis(): Promise<void> {
    const started = Date.now();
    let told = 0;
    while (this.redis.status !== 'ready') {
      if (this.stopping) throw new UserError('worker.stopped', 'The worker was stopped before Redis could be reached.');
      if (Date.now() - started > redisStartWaitMs)
        throw new UserError(
          'worker.noRedis',
          `Redis could not be reached for ${redisStartWaitMs / 60_000} minutes (${this.lastError || 'no answer'}). Check LATENTCORD_REDIS_URL, the password and the network.`,
        );
      if (Date.now() - started > (told + 1) * 10_000) {
        told += 1;
        this.options.logger.warn({ waitedSeconds: told * 10 }, 'waiting for Redis');
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /**
   * Two live workers with one name would be counted as one and overwrite each other's heartbeat. A record
   * left by a previous process of this name (it died) runs out after three beats: wait for that.
   */
  private async claimName(heartbeatMs: number): Promise<void> {
    const deadline = Date.now() + heartbeatMs * missedBeatsAllowed + 1_000;
    for (;;) {
      const holder = (await readBeats(this.redis, this.keys)).find((beat) => beat.name === this.options.name);
      if (!holder || holder.instance === this.instance) return;
      if (Date.now() > deadline)
        throw new UserError(
          'config.workerName',
          `Another live worker is already named \`${this.options.name}\` (on ${holder.host}, pid ${holder.pid}). Give each worker its own LATENTCORD_WORKER_NAME.`,
        );
      this.options.logger.info(
        { worker: this.options.name },
        'a worker of this name was alive recently; waiting for its heartbeat to run out',
      );
      await new Promise((resolve) => setTimeout(resolve, heartbeatMs));
    }
  }

  private async sendBeat(): Promise<void> {
    try {
      await writeBeat(this.redis, this.keys, this.beat(), this.options.heartbeatSeconds * 1000);
    } catch {
      // Redis unreachable: the connection error is logged; the next beat tries again.
    }
  }

  private logConnectionError(error: Error): void {
    if (error.message === this.lastError) return;
    this.lastError = error.message;
    this.options.logger.warn({ err: error }, 'redis connection error');
  }

  /** BullMQ's processor: one batch. */
  private async process(job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<RemoteBatchResult> {
    const { logger, name } = this.options;
    const batchId = job.id!;
    let batch: RemoteBatch;
    try {
      batch = parseRemoteBatch(job.data);
    } catch (error) {
      logger.warn({ batch: batchId, err: error }, 'refused a job it cannot read');
      throw new UnrecoverableError(failureReason(error));
    }
    if (batch.model !== this.options.identity.key)
      throw new UnrecoverableError(failureReason(new UserError('queue.wrongModel', 'This job was made for another model.')));
    const current: Current = { batchId, abort: new AbortController(), requeue: false };
    this.current = current;
    signal?.addEventListener('abort', () => current.abort.abort(), { once: true });
    void this.sendBeat();
    const started = performance.now();
    const images = batch.jobs.reduce((sum, remote) => sum + remote.numImages, 0);
    const attempt = job.stalledCounter > 0 ? { retryOf: 'a worker that stopped' } : {};
    logger.info({ batch: batchId, jobs: batch.jobIds, images, ...attempt }, 'job started');
    try {
      if ((await withTimeout(this.redis.exists(this.keys.cancelled(batchId)), commandTimeoutMs, 'reading a cancel flag')) === 1)
        throw new UserError('job.cancelled', 'The generation was cancelled.');
      const jobs = await this.loadJobs(batch);
      const result = await this.options.pipeline.run(jobs, batch.parameters, {
        signal: current.abort.signal,
        onProgress: this.progressReporter(job, batchId),
      });
      const pngStarted = performance.now();
      const rng: RngKind = batch.parameters.rng;
      const modelName = this.options.pipeline.info.description.name;
      const rendered = await Promise.all(
        result.jobs.map((output, index) =>
          renderPngs(output.images, pngFieldsOf(jobs[index]!, batch.parameters), {
            rng,
            modelName,
            ...(jobs[index]!.emphasis !== undefined ? { emphasis: jobs[index]!.emphasis } : {}),
          }),
        ),
      );
      const pngMs = performance.now() - pngStarted;
      const ttl = this.options.resultTtlSeconds;
      const store = this.redis.multi();
      const stored = rendered.map((pngs, jobIndex) =>
        pngs.map((png, imageIndex) => {
          const key = this.keys.output(batchId, jobIndex, imageIndex);
          store.set(key, png, 'EX', ttl);
          return { key, bytes: png.length };
        }),
      );
      await withTimeout(store.exec(), commandTimeoutMs * 4, 'storing the pictures');
      this.jobsDone += batch.jobIds.length;
      const timings = result.timings;
      for (const jobId of batch.jobIds) {
        logger.info(
          {
            jobId,
            worker: name,
            batch: batchId,
            outcome: 'succeeded',
            steps: timings.steps,
            denoiseMs: Math.round(timings.denoiseMs),
            pngMs: Math.round(pngMs),
            totalMs: Math.round(performance.now() - started),
          },
          'job finished',
        );
      }
      this.emit('batchEnd', {
        outcome: 'succeeded',
        errorIdentifier: null,
        jobs: batch.jobIds.length,
        images,
        stepSeconds: timings.denoiseMs / 1000 / Math.max(1, timings.steps),
      } satisfies BatchEnd);
      return {
        v: wireVersion,
        worker: name,
        jobs: result.jobs.map((output, index) => ({ pngs: stored[index]!, prompt: output.prompt, negativePrompt: output.negativePrompt })),
        timings,
        pngMs,
        ...(result.flagged ? { flagged: result.flagged } : {}),
      };
    } catch (error) {
      if (current.requeue) {
        // Shutting down: back to the queue, for another worker (or this one after its restart).
        await withTimeout(job.moveToWait(token), commandTimeoutMs, 'putting a job back').catch((moveError: unknown) =>
          logger.warn({ err: moveError, batch: batchId }, 'could not put the job back; it is retried once its lock runs out'),
        );
        this.emit('batchEnd', { outcome: 'requeued', errorIdentifier: null, jobs: batch.jobIds.length, images } satisfies BatchEnd);
        throw new WaitingError();
      }
      const identifier = isUserError(error) ? error.identifier : 'internal';
      const outcome = identifier === 'job.cancelled' ? 'cancelled' : 'failed';
      const ref = isUserError(error) ? undefined : newReferenceId();
      if (ref) logger.error({ err: error, ref, batch: batchId }, 'job failed on this worker');
      for (const jobId of batch.jobIds) logger.info({ jobId, worker: name, batch: batchId, outcome, error: identifier }, 'job finished');
      this.emit('batchEnd', { outcome, errorIdentifier: identifier, jobs: batch.jobIds.length, images } satisfies BatchEnd);
      throw new UnrecoverableError(ref ? `[internal] ${(error as Error).message} (worker ${name}, ref ${ref})` : failureReason(error));
    } finally {
      this.current = undefined;
      void this.sendBeat();
    }
  }

  /** The pipeline's call, with the remix sources fetched from Redis. */
  private async loadJobs(batch: RemoteBatch): Promise<GenerationJob[]> {
    return Promise.all(
      batch.jobs.map(async (remote) => {
        if (!remote.initImage) return toGenerationJob(remote);
        const { key, width, height, bytes } = remote.initImage;
        const buffer = await withTimeout(this.redis.getBuffer(key), commandTimeoutMs * 2, 'fetching a source picture');
        if (!buffer || buffer.length !== bytes || bytes !== width * height * 3 * 4)
          throw new UserError('queue.inputLost', 'The picture to remix was lost on its way to the image worker. Please ask again.');
        // A copy: the pixels must be 4-byte aligned for a Float32Array, which a Buffer slice may not be.
        const pixels = new Float32Array(new Uint8Array(buffer).buffer);
        const initImage: InitImage = { pixels, width, height };
        return toGenerationJob(remote, initImage);
      }),
    );
  }

  /**
   * Reports steps as BullMQ job progress at most every half second (and always the first and last), one
   * report at a time; each report also looks for a cancel flag the worker may have missed as a message.
   */
  private progressReporter(job: Job, batchId: string): (progress: StepProgress) => void {
    let last = 0;
    let sending = false;
    return (progress) => {
      const now = performance.now();
      const edge = progress.step === 1 || progress.step === progress.totalSteps;
      if (sending || (!edge && now - last < progressIntervalMs)) return;
      last = now;
      sending = true;
      const report: RemoteProgress = { ...progress, worker: this.options.name };
      void Promise.all([
        withTimeout(job.updateProgress(report), commandTimeoutMs, 'reporting progress'),
        withTimeout(this.redis.exists(this.keys.cancelled(batchId)), commandTimeoutMs, 'reading a cancel flag').then((flag) => {
          if (flag === 1 && this.current?.batchId === batchId) this.current.abort.abort();
        }),
      ])
        .catch(() => undefined)
        .finally(() => (sending = false));
    };
  }
}

/** What a job's PNGs record, rebuilt from the pipeline's call (the bot's record holds the same values). */
export function pngFieldsOf(job: GenerationJob, parameters: BatchParameters): PngJobFields {
  return {
    prompt: job.prompt,
    negativePrompt: job.negativePrompt ?? '',
    steps: parameters.numInferenceSteps,
    scheduler: parameters.scheduler,
    guidance: job.guidanceScale,
    seed: BigInt(job.seed).toString(),
    kind: job.initImage ? 'remix' : 'imagine',
    strength: parameters.strength ?? 0,
    emphasis: job.emphasis ?? 'original',
  };
}

function safeInfo(pipeline: PipelineWorker): PipelineWorker['info'] | undefined {
  try {
    return pipeline.info;
  } catch {
    return undefined;
  }
}
