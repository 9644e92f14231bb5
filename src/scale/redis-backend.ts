import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { BackendStatus, ModelSummary, PipelineBackend, PipelineView } from '../backends/pipeline-backend.js';
import { cancelled, UserError } from '../errors.js';
import type { PipelineBatchResult, PipelineJobOutput } from '../jobs/job-runner.js';
import type { Logger } from '../logging/logger.js';
import { readModelFolder } from '../model/model-folder.js';
import { detectModelProfile } from '../model/model-profile.js';
import type { BatchParameters, GenerationJob, StepProgress } from '../pipeline/stable-diffusion.js';
import { ScaleKeys } from './keys.js';
import { modelIdentity, type ModelIdentity } from './model-identity.js';
import { bullConnection, commandTimeoutMs, createCommandClient, redactRedisUrl, withTimeout } from './redis-connection.js';
import {
  errorFromReason,
  workerLost,
  wireVersion,
  type RemoteBatch,
  type RemoteBatchResult,
  type RemoteJob,
  type RemoteProgress,
} from './wire.js';
import { readBeats, type WorkerBeat } from './worker-registry.js';

/** Settings of the bot's side of the Redis backend (from the configuration's `scale` block). */
export interface RedisBackendOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  /** The model folder the bot serves: its identity routes jobs, its JSON files tell what it can do. */
  readonly modelDir: string;
  readonly heartbeatSeconds: number;
  readonly lostJobGraceSeconds: number;
  readonly resultTtlSeconds: number;
  readonly logger: Logger;
}

/** A batch the bot handed to BullMQ and waits for. */
interface Watch {
  readonly batchId: string;
  readonly jobIds: readonly string[];
  readonly onProgress: ((progress: StepProgress) => void) | undefined;
  /** Checks the job's state now (also called by QueueEvents notifications). */
  poke(): void;
}

/** How often the bot checks each batch it waits for, besides the notifications QueueEvents brings. */
const pollIntervalMs = 2_000;

/**
 * The bot's side of remote workers: it keeps everything it owns (checks, fairness, positions, batching,
 * SQLite, Discord) and hands each batch to the BullMQ queue of its model, where a worker serving that model
 * (folder name + manifest hash) takes it. Progress comes back as BullMQ job progress, PNGs in keys of their
 * own (deleted once collected). While no live worker serves the model, or Redis cannot be reached, new jobs
 * are refused with a clear message; the bot itself goes on answering and recovers when Redis returns.
 * Emits `capacity` when the number of live workers for its model changed.
 */
export class RedisBackend extends EventEmitter implements PipelineBackend {
  readonly kind = 'redis';
  readonly keys: ScaleKeys;
  readonly restarts = 0;
  private readonly watches = new Map<string, Watch>();
  /** Batches taken up after a restart, shared by the jobs of each. */
  private readonly followed = new Map<
    string,
    {
      result: Promise<{ jobIds: readonly string[]; result: PipelineBatchResult }>;
      followers: Set<AbortSignal | undefined>;
      abort: AbortController;
      listeners: Set<(progress: StepProgress) => void>;
    }
  >();
  /**
   * The model's queue, on the fail-fast command connection. Made once Redis first answered: BullMQ asks the
   * server's version as it is made, which a connection without an offline queue can only do when connected.
   */
  private queueOrUndefined: Queue | undefined;
  private beats: WorkerBeat[] = [];
  private beatsReadAt = 0;
  private registryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastRedisError = '';

  private constructor(
    private readonly options: RedisBackendOptions,
    readonly identity: ModelIdentity,
    readonly model: ModelSummary,
    private readonly redis: Redis,
    private readonly events: QueueEvents,
  ) {
    super();
    this.keys = new ScaleKeys(options.prefix);
  }

  /**
   * Reads the model folder's identity and description (no weights are loaded), connects to Redis and starts
   * watching the workers. Does not wait for Redis: a bot whose Redis is down starts and refuses jobs until
   * it is back.
   */
  static async start(options: RedisBackendOptions): Promise<RedisBackend> {
    const folder = readModelFolder(options.modelDir);
    const identity = await modelIdentity(options.modelDir);
    const model: ModelSummary = {
      name: folder.name,
      sizeMultiple: folder.sizeMultiple,
      supportsImageToImage: folder.modelFiles.vae_encoder !== undefined,
      profile: detectModelProfile(folder),
      // The workers load the same model (same manifest), and with it the folder's safety checker.
      safetyChecker: folder.safetyChecker !== undefined,
      ...(folder.timeCondProjDim !== undefined ? { timestepCondDim: folder.timeCondProjDim } : {}),
    };
    const redis = createCommandClient(options.redisUrl, 'latentcord-bot');
    const events = new QueueEvents(identity.queueName, {
      connection: bullConnection(options.redisUrl, 'latentcord-bot-events'),
      prefix: options.prefix,
      // Blocks at most this long per read, so closing never waits long.
      blockingTimeout: 5_000,
    });
    if (folder.safetyChecker) {
      options.logger.info(
        { safetyChecker: folder.safetyChecker.modelFile },
        'safety checker loaded by the workers: every picture is checked, flagged ones follow the nsfw settings',
      );
    } else {
      options.logger.warn(
        { ...(folder.safetyCheckerProblem ? { problem: folder.safetyCheckerProblem } : {}) },
        'no safety checker in the model folder (safety_checker/model.onnx + feature_extractor/preprocessor_config.json): ' +
          'pictures are not checked for NSFW content and the nsfw settings have no effect',
      );
    }
    const backend = new RedisBackend(options, identity, model, redis, events);
    backend.attach();
    options.logger.info(
      { redis: redactRedisUrl(options.redisUrl), model: identity.key, queue: identity.queueName, prefix: options.prefix },
      'remote workers: jobs go to Redis',
    );
    return backend;
  }

  private get queue(): Queue {
    if (!this.queueOrUndefined) throw new Error('redis not connected yet');
    return this.queueOrUndefined;
  }

  /** Live workers serving this bot's model: the batches that can run at once (at least 1 for the queue). */
  get capacity(): number {
    return Math.max(1, this.liveForModel().length);
  }

  /** True while the command connection to Redis is up. */
  get connected(): boolean {
    return this.redis.status === 'ready' && this.queueOrUndefined !== undefined;
  }

  /** Live workers (every model) from the last heartbeat read. */
  get workers(): readonly WorkerBeat[] {
    return this.beats;
  }

  refusal(): UserError | undefined {
    if (!this.connected) return backendDown();
    if (this.liveForModel().length === 0) return this.noWorker();
    return undefined;
  }

  status(): BackendStatus {
    return { ready: this.connected && this.liveForModel().length > 0, restarts: 0 };
  }

  pipelines(): PipelineView[] {
    return this.beats.map((beat) => ({
      name: beat.name,
      model: beat.model === this.identity.key ? beat.modelName : `${beat.model} (another model)`,
      device: beat.device,
      busy: beat.state === 'busy',
      jobsDone: beat.jobsDone,
    }));
  }

  /**
   * Hands a batch to the model's queue and waits for it: its progress is reported as it comes, its PNGs
   * are fetched (and deleted from Redis) when a worker finished it. A batch that cannot be handed over
   * (Redis down, no live worker) waits up to `lostJobGraceSeconds` for that to change, then fails with the
   * refusal's message. Cancelling takes a waiting batch out of the queue, or stops a running one at its
   * worker's next step.
   */
  async run(
    jobs: readonly GenerationJob[],
    parameters: BatchParameters,
    options: {
      readonly onProgress?: (progress: StepProgress) => void;
      readonly signal?: AbortSignal;
      readonly jobIds?: readonly string[];
    } = {},
  ): Promise<PipelineBatchResult> {
    const { signal } = options;
    if (signal?.aborted) throw cancelled();
    await this.whenRunnable(signal);
    const batchId = randomUUID();
    const jobIds = options.jobIds ?? jobs.map((_, index) => `${batchId}/${index}`);
    const inputKeys: string[] = [];
    try {
      const remoteJobs: RemoteJob[] = [];
      for (const [index, job] of jobs.entries()) {
        let initImage: RemoteJob['initImage'];
        if (job.initImage) {
          const key = this.keys.input(batchId, index);
          const { pixels, width, height } = job.initImage;
          const bytes = Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength);
          inputKeys.push(key);
          await withTimeout(
            this.redis.set(key, bytes, 'EX', this.options.resultTtlSeconds),
            commandTimeoutMs * 2,
            'storing a source picture',
          );
          initImage = { key, width, height, bytes: bytes.length };
        }
        remoteJobs.push({
          prompt: job.prompt,
          ...(job.negativePrompt !== undefined ? { negativePrompt: job.negativePrompt } : {}),
          ...(job.emphasis !== undefined ? { emphasis: job.emphasis } : {}),
          ...(job.maxPromptTokens !== undefined ? { maxPromptTokens: job.maxPromptTokens } : {}),
          guidanceScale: job.guidanceScale,
          seed: BigInt(job.seed).toString(),
          numImages: job.numImages,
          ...(initImage ? { initImage } : {}),
        });
      }
      const data: RemoteBatch = { v: wireVersion, model: this.identity.key, jobIds, jobs: remoteJobs, parameters, submittedAt: Date.now() };
      await withTimeout(
        this.queue.add('batch', data, {
          jobId: batchId,
          attempts: 1,
          // Removed by the bot once collected; these only bound what a vanished bot leaves behind.
          removeOnComplete: { age: this.options.resultTtlSeconds },
          removeOnFail: { age: this.options.resultTtlSeconds },
        }),
        commandTimeoutMs * 2,
        'queueing a batch',
      );
    } catch (error) {
      this.deleteKeys(inputKeys);
      this.options.logger.warn({ err: error, jobs: jobIds }, 'could not hand a batch to Redis');
      throw backendDown();
    }
    this.options.logger.debug({ batch: batchId, jobs: jobIds, queue: this.identity.queueName }, 'batch queued in Redis');
    return this.watch(batchId, jobIds, options.onProgress, signal);
  }

  /**
   * The batches of this model still in Redis (waiting, running or finished but not collected), by the
   * bot's job id: what a restarted bot takes up instead of calling them interrupted. Waits up to `waitMs`
   * for Redis; without it, nothing can be taken up (an empty map).
   */
  async inFlight(waitMs = 10_000): Promise<Map<string, string>> {
    const deadline = Date.now() + waitMs;
    while (!this.connected && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const found = new Map<string, string>();
    if (!this.connected) {
      this.options.logger.warn('redis unreachable at start: jobs of the previous run are reported as interrupted');
      return found;
    }
    try {
      const jobs = await withTimeout(
        this.queue.getJobs(['waiting', 'active', 'completed', 'failed', 'prioritized', 'delayed'], 0, 9_999),
        commandTimeoutMs * 2,
        'listing batches',
      );
      for (const job of jobs) {
        const data = job?.data as Partial<RemoteBatch> | undefined;
        if (job?.id && Array.isArray(data?.jobIds)) for (const jobId of data.jobIds) found.set(jobId, job.id);
      }
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not list the batches in Redis: jobs of the previous run are reported as interrupted');
    }
    return found;
  }

  /**
   * Follows one job of a batch a previous process handed over (after a restart): the batch is watched once
   * for all its jobs; each gets its own output. Cancelling every job of it cancels the batch.
   */
  async follow(
    batchId: string,
    jobId: string,
    options: { readonly onProgress?: (progress: StepProgress) => void; readonly signal?: AbortSignal } = {},
  ): Promise<PipelineBatchResult> {
    let shared = this.followed.get(batchId);
    if (!shared) {
      const abort = new AbortController();
      const listeners = new Set<(progress: StepProgress) => void>();
      const result = (async () => {
        const job = this.connected
          ? await withTimeout(Job.fromId(this.queue, batchId), commandTimeoutMs, 'reading a batch').catch(() => undefined)
          : undefined;
        const jobIds = (job?.data as Partial<RemoteBatch> | undefined)?.jobIds ?? [jobId];
        const output = await this.watch(batchId, jobIds, (progress) => listeners.forEach((listener) => listener(progress)), abort.signal);
        return { jobIds, result: output };
      })();
      shared = { result, followers: new Set(), abort, listeners };
      this.followed.set(batchId, shared);
      const entry = shared;
      void result
        .catch(() => undefined)
        .finally(() => {
          if (this.followed.get(batchId) === entry) this.followed.delete(batchId);
        });
    }
    const entry = shared;
    entry.followers.add(options.signal);
    if (options.onProgress) entry.listeners.add(options.onProgress);
    const onAbort = () => {
      if ([...entry.followers].every((signal) => signal?.aborted)) entry.abort.abort();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    try {
      const { jobIds, result } = await entry.result;
      const index = jobIds.indexOf(jobId);
      const output = result.jobs[index];
      if (index < 0 || !output) throw workerLost();
      return { jobs: [output], timings: result.timings };
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      if (options.onProgress) entry.listeners.delete(options.onProgress);
    }
  }

  /**
   * Waits until a batch can be handed over (Redis reachable, a live worker for the model), or throws the
   * reason after `lostJobGraceSeconds` (or at once when cancelled).
   */
  private async whenRunnable(signal: AbortSignal | undefined): Promise<void> {
    const deadline = Date.now() + this.options.lostJobGraceSeconds * 1000;
    for (;;) {
      const refusal = this.refusal();
      if (!refusal) return;
      if (Date.now() >= deadline) throw refusal;
      await new Promise((resolve) => setTimeout(resolve, 500));
      if (signal?.aborted) throw cancelled();
      if (this.closed) throw backendDown();
    }
  }

  /**
   * Follows a batch in Redis until it finished: notified by QueueEvents, and checked every couple of
   * seconds in case a notification was lost (Redis restarted, the connection dropped). A batch that no live
   * worker can finish, or that cannot be seen because Redis is unreachable, is given up after
   * `lostJobGraceSeconds`; a batch Redis lost (it restarted without its data) fails at once. Both end in
   * `worker.lost` (the "interrupted, ask again" message).
   */
  private watch(
    batchId: string,
    jobIds: readonly string[],
    onProgress: ((progress: StepProgress) => void) | undefined,
    signal: AbortSignal | undefined,
  ): Promise<PipelineBatchResult> {
    const { logger } = this.options;
    const graceMs = this.options.lostJobGraceSeconds * 1000;
    return new Promise<PipelineBatchResult>((resolve, reject) => {
      let settled = false;
      let checking = false;
      let again = false;
      let lastHealthy = Date.now();
      let cancelSent = false;
      const finish = (outcome: { result: PipelineBatchResult } | { error: unknown }) => {
        if (settled) return;
        settled = true;
        clearInterval(timer);
        signal?.removeEventListener('abort', onAbort);
        this.watches.delete(batchId);
        if ('result' in outcome) resolve(outcome.result);
        else reject(outcome.error);
      };
      const check = async (): Promise<void> => {
        if (settled) return;
        if (checking) {
          again = true;
          return;
        }
        checking = true;
        try {
          const job = this.connected ? await withTimeout(Job.fromId(this.queue, batchId), commandTimeoutMs, 'reading a batch') : null;
          if (!this.connected) throw new Error('redis unreachable');
          if (!job) {
            logger.warn({ batch: batchId, jobs: jobIds }, 'remote job vanished from Redis (did Redis restart without its data?)');
            return finish({ error: workerLost() });
          }
          if (job.finishedOn !== undefined && job.returnvalue !== null && job.returnvalue !== undefined && !job.failedReason) {
            const result = await this.collect(batchId, job.returnvalue as RemoteBatchResult);
            await this.cleanUp(job);
            return finish({ result });
          }
          if (job.failedReason) {
            const error = errorFromReason(job.failedReason, job.processedBy);
            await this.cleanUp(job);
            return finish({ error });
          }
          if (this.liveForModel().length > 0) lastHealthy = Date.now();
        } catch (error) {
          if (error instanceof UserError) return finish({ error });
          // Redis unreachable or slow: not healthy, try again at the next tick.
        } finally {
          checking = false;
        }
        if (Date.now() - lastHealthy > graceMs) {
          logger.warn(
            { batch: batchId, jobs: jobIds, graceSeconds: this.options.lostJobGraceSeconds },
            'gave up on a remote job: no live worker or no Redis',
          );
          void this.abandon(batchId);
          return finish({ error: workerLost() });
        }
        if (again) {
          again = false;
          void check();
        }
      };
      const onAbort = () => {
        if (cancelSent) return;
        cancelSent = true;
        void this.cancelRemote(batchId).then((removed) => {
          if (removed) finish({ error: cancelled() });
        });
      };
      const timer = setInterval(() => void check(), pollIntervalMs);
      timer.unref();
      this.watches.set(batchId, { batchId, jobIds, onProgress, poke: () => void check() });
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) onAbort();
    });
  }

  /** Fetches a finished batch's PNGs; a missing or short one means the result was lost. */
  private async collect(batchId: string, result: RemoteBatchResult): Promise<PipelineBatchResult> {
    const keys = result.jobs.flatMap((job) => job.pngs.map((png) => png.key));
    const buffers = keys.length > 0 ? await withTimeout(this.redis.mgetBuffer(...keys), commandTimeoutMs * 4, 'fetching pictures') : [];
    let next = 0;
    const jobs: PipelineJobOutput[] = result.jobs.map((job) => {
      const pngs = job.pngs.map((png) => {
        const buffer = buffers[next++];
        if (!buffer || buffer.length !== png.bytes) {
          this.options.logger.warn({ batch: batchId, key: png.key }, 'a finished picture is missing from Redis');
          throw workerLost();
        }
        return buffer;
      });
      return { images: [], pngs, pngMs: result.pngMs, prompt: job.prompt, negativePrompt: job.negativePrompt };
    });
    this.options.logger.debug(
      { batch: batchId, worker: result.worker, pictures: keys.length, bytes: buffers.reduce((sum, b) => sum + (b?.length ?? 0), 0) },
      'remote batch collected',
    );
    let flagged = result.flagged;
    if (this.model.safetyChecker && !flagged) {
      // The model has a checker but this worker did not check: fail closed, the nsfw settings decide as if flagged.
      this.options.logger.warn(
        { batch: batchId, worker: result.worker },
        'a worker returned pictures without safety verdicts: treated as flagged',
      );
      flagged = result.jobs.map((job) => job.pngs.map(() => true));
    }
    return { jobs, timings: result.timings, ...(flagged ? { flagged } : {}) };
  }

  /** Deletes what a finished batch left in Redis: its pictures, sources and the job itself. */
  private async cleanUp(job: Job): Promise<void> {
    const data = job.data as Partial<RemoteBatch>;
    const result = job.returnvalue as Partial<RemoteBatchResult> | null;
    const keys = [
      ...(data.jobs ?? []).flatMap((remote) => (remote.initImage ? [remote.initImage.key] : [])),
      ...(result?.jobs ?? []).flatMap((done) => done.pngs.map((png) => png.key)),
      this.keys.cancelled(job.id ?? ''),
    ];
    this.deleteKeys(keys);
    await withTimeout(job.remove(), commandTimeoutMs, 'removing a finished batch').catch(() => undefined);
  }

  private deleteKeys(keys: readonly string[]): void {
    if (keys.length === 0) return;
    this.redis.del(...keys).catch((error: unknown) => this.options.logger.debug({ err: error }, 'could not delete keys (they expire)'));
  }

  /**
   * Cancels a batch: removed from the queue if no worker took it yet (resolves true), else the running
   * worker is told to stop (through a flag it checks and a message it listens for; resolves false).
   */
  private async cancelRemote(batchId: string): Promise<boolean> {
    try {
      const job = await withTimeout(Job.fromId(this.queue, batchId), commandTimeoutMs, 'reading a batch');
      if (job && (await withTimeout(job.getState(), commandTimeoutMs, 'reading a batch')) === 'waiting') {
        try {
          await withTimeout(job.remove(), commandTimeoutMs, 'removing a batch');
          await this.cleanUp(job);
          return true;
        } catch {
          // a worker took it in the meantime: tell it below
        }
      }
      await withTimeout(
        this.redis
          .multi()
          .set(this.keys.cancelled(batchId), '1', 'EX', this.options.resultTtlSeconds)
          .publish(this.keys.cancelChannel, batchId)
          .exec(),
        commandTimeoutMs,
        'cancelling a batch',
      );
    } catch (error) {
      this.options.logger.warn({ err: error, batch: batchId }, 'could not cancel a remote job (Redis unreachable)');
    }
    return false;
  }

  /** A batch given up on: stop whatever still works on it and remove it, as far as Redis answers. */
  private async abandon(batchId: string): Promise<void> {
    await this.cancelRemote(batchId);
    try {
      const job = await withTimeout(Job.fromId(this.queue, batchId), commandTimeoutMs, 'reading a batch');
      if (job) await this.cleanUp(job);
    } catch {
      // it expires
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.registryTimer);
    await Promise.allSettled([
      withTimeout(this.events.close(), 10_000, 'closing QueueEvents'),
      ...(this.queueOrUndefined ? [withTimeout(this.queueOrUndefined.close(), 10_000, 'closing the queue')] : []),
    ]);
    this.redis.disconnect();
  }

  private liveForModel(): WorkerBeat[] {
    return this.beats.filter((beat) => beat.model === this.identity.key && beat.state !== 'stopping');
  }

  private noWorker(): UserError {
    const others = [...new Set(this.beats.map((beat) => beat.model))];
    return new UserError(
      'queue.noWorker',
      `No image worker is running for this bot's model (${this.identity.name}) right now, so new pictures cannot be drawn. Try again later.`,
      { cause: others.length > 0 ? `live workers serve: ${others.join(', ')}` : 'no live workers' },
    );
  }

  private attach(): void {
    const { logger } = this.options;
    let redisDown = false;
    this.redis.on('error', (error: Error) => {
      // ioredis repeats the same error at every reconnection attempt: log changes only.
      if (error.message !== this.lastRedisError) logger.warn({ err: error }, 'redis connection error');
      this.lastRedisError = error.message;
    });
    this.redis.on('close', () => {
      if (!redisDown && !this.closed) logger.warn('redis unreachable: new jobs are refused until it is back');
      redisDown = true;
    });
    this.redis.on('ready', () => {
      if (!this.queueOrUndefined) {
        this.queueOrUndefined = new Queue(this.identity.queueName, { connection: this.redis, prefix: this.options.prefix });
        this.queueOrUndefined.on('error', () => undefined); // reported through the shared connection
      }
      if (redisDown) logger.info('redis reachable again');
      redisDown = false;
      this.lastRedisError = '';
      void this.readRegistry();
    });
    this.events.on('error', (error: Error) => {
      if (error.message !== this.lastRedisError) logger.debug({ err: error }, 'queue events connection error');
    });
    this.events.on('progress', ({ jobId, data }) => {
      const watch = this.watches.get(jobId);
      const progress = data as Partial<RemoteProgress>;
      if (watch?.onProgress && typeof progress === 'object' && typeof progress.step === 'number' && typeof progress.totalSteps === 'number')
        watch.onProgress({ step: progress.step, totalSteps: progress.totalSteps, elapsedMs: progress.elapsedMs ?? 0 });
    });
    const poke = ({ jobId }: { jobId: string }) => this.watches.get(jobId)?.poke();
    this.events.on('completed', poke);
    this.events.on('failed', poke);
    this.events.on('stalled', ({ jobId }) => {
      if (this.watches.has(jobId))
        logger.warn(
          { batch: jobId, jobs: this.watches.get(jobId)!.jobIds },
          'remote job stalled (its worker stopped); BullMQ retries it once',
        );
    });
    this.registryTimer = setInterval(() => void this.readRegistry(), Math.max(500, (this.options.heartbeatSeconds * 1000) / 2));
    this.registryTimer.unref();
  }

  /** Reads the live workers; keeps the last answer while Redis does not answer. */
  private async readRegistry(): Promise<void> {
    if (this.closed || !this.connected) return;
    let beats: WorkerBeat[];
    try {
      beats = await readBeats(this.redis, this.keys);
    } catch {
      return;
    }
    const before = this.capacity;
    const was = new Set(this.beats.map((beat) => `${beat.name}/${beat.instance}`));
    const now = new Set(beats.map((beat) => `${beat.name}/${beat.instance}`));
    for (const beat of beats) {
      if (!was.has(`${beat.name}/${beat.instance}`))
        this.options.logger.info({ worker: beat.name, model: beat.model, device: beat.device }, 'worker joined');
    }
    for (const beat of this.beats) {
      if (!now.has(`${beat.name}/${beat.instance}`)) this.options.logger.info({ worker: beat.name, model: beat.model }, 'worker left');
    }
    this.beats = beats;
    this.beatsReadAt = Date.now();
    if (this.capacity !== before) this.emit('capacity');
  }
}

/** `queue.backendDown`: Redis cannot be reached. */
export function backendDown(): UserError {
  return new UserError(
    'queue.backendDown',
    "The bot can't reach its image workers right now (their queue server is down), so new pictures cannot be drawn. Try again in a few minutes.",
  );
}
