import { EventEmitter } from 'node:events';
import PQueue from 'p-queue';
import { queueClosed, queueFull } from '../errors.js';

/** One job waiting for, or holding, the pipeline. */
export interface QueuedJob<T> {
  readonly id: string;
  readonly userId: string;
  /**
   * Jobs with equal keys may run together as one UNet batch (same model, size, steps, scheduler, generator
   * kind, strength and guidance on/off). `undefined` never batches.
   */
  readonly batchKey: string | undefined;
  /** How many images the job makes (a batch never exceeds the configured image budget). */
  readonly images: number;
  readonly payload: T;
  /** Aborted when the job is cancelled while running. */
  readonly abort: AbortController;
  readonly enqueuedAt: number;
}

/** Options of the queue. */
export interface GenerationQueueOptions<T> {
  /** Most jobs waiting (not counting running ones); more are refused. */
  readonly maxLength: number;
  /** Most images one batch may hold; 1 disables batching. */
  readonly maxBatchImages: number;
  /** Runs a batch; resolves when the pipeline is free again (delivery may continue afterwards). */
  readonly run: (batch: readonly QueuedJob<T>[]) => Promise<void>;
  /** Batches that run at once: one per pipeline (local devices, live remote workers); default 1. */
  readonly concurrency?: number;
}

/** Events of {@link GenerationQueue}. */
export interface GenerationQueueEvents<T> {
  positions: [];
  batchEnd: [batch: readonly QueuedJob<T>[], error: unknown];
}

/** Result of {@link GenerationQueue.cancel}. */
export type CancelOutcome = 'removed' | 'aborted' | 'notFound';

/**
 * The fair queue in front of the pipeline: p-queue owns the execution slots (one per pipeline: 1 by default,
 * more with several local devices or remote workers); the waiting list stays here so positions can be shown, jobs cancelled before they start, and compatible jobs
 * taken together when the slot frees.
 *
 * Events: `positions` (the waiting order changed), `batchEnd` (the batch, and its error if it failed).
 */
export class GenerationQueue<T> extends EventEmitter<GenerationQueueEvents<T>> {
  private readonly slot: PQueue;
  private readonly waiting: QueuedJob<T>[] = [];
  private readonly runningJobs = new Set<QueuedJob<T>>();
  private readonly runningBatchList = new Set<readonly QueuedJob<T>[]>();
  private accepting = true;

  constructor(private readonly options: GenerationQueueOptions<T>) {
    super();
    this.slot = new PQueue({ concurrency: Math.max(1, options.concurrency ?? 1) });
  }

  /** How many batches run at once. */
  get concurrency(): number {
    return this.slot.concurrency;
  }

  /** Changes how many batches run at once (at least 1); waiting jobs start at once when it grows. */
  setConcurrency(concurrency: number): void {
    const next = Math.max(1, Math.floor(concurrency));
    if (next !== this.slot.concurrency) this.slot.concurrency = next;
  }

  /** The batches on the pipelines now, each in its order. */
  get runningBatches(): readonly (readonly QueuedJob<T>[])[] {
    return [...this.runningBatchList];
  }

  /** Jobs waiting, in order. */
  get queued(): readonly QueuedJob<T>[] {
    return this.waiting;
  }

  /** Jobs on the pipeline now. */
  get running(): readonly QueuedJob<T>[] {
    return [...this.runningJobs];
  }

  /** Whether new jobs are accepted (false while shutting down). */
  get isAccepting(): boolean {
    return this.accepting;
  }

  /**
   * Queues a job and returns its position: 0 when it started at once, else its 1-based place among the
   * waiting jobs. Throws `queue.full` or `queue.closed` UserErrors; nothing is queued then.
   */
  add(job: QueuedJob<T>): number {
    this.checkRoom();
    this.waiting.push(job);
    this.emit('positions');
    void this.slot.add(() => this.runNext());
    return this.positionOf(job.id) ?? 0;
  }

  /** Throws the `queue.closed` or `queue.full` UserError that {@link add} would throw now; nothing otherwise. */
  checkRoom(): void {
    if (!this.accepting) throw queueClosed();
    if (this.waiting.length >= this.options.maxLength) throw queueFull(this.options.maxLength);
  }

  /** 1-based position of a waiting job, 0 when it is running, undefined when unknown. */
  positionOf(jobId: string): number | undefined {
    const index = this.waiting.findIndex((job) => job.id === jobId);
    if (index >= 0) return index + 1;
    for (const job of this.runningJobs) if (job.id === jobId) return 0;
    return undefined;
  }

  /** Jobs of one user that are waiting or running. */
  activeJobsOf(userId: string): number {
    let count = 0;
    for (const job of this.waiting) if (job.userId === userId) count++;
    for (const job of this.runningJobs) if (job.userId === userId) count++;
    return count;
  }

  /** Removes a waiting job, or aborts a running one. */
  cancel(jobId: string): CancelOutcome {
    const index = this.waiting.findIndex((job) => job.id === jobId);
    if (index >= 0) {
      this.waiting.splice(index, 1);
      this.emit('positions');
      return 'removed';
    }
    for (const job of this.runningJobs) {
      if (job.id === jobId) {
        job.abort.abort();
        return 'aborted';
      }
    }
    return 'notFound';
  }

  /** Stops accepting jobs and returns the ones still waiting (removed from the queue). */
  close(): QueuedJob<T>[] {
    this.accepting = false;
    const dropped = this.waiting.splice(0, this.waiting.length);
    if (dropped.length > 0) this.emit('positions');
    return dropped;
  }

  /** Resolves when nothing waits or runs. */
  async onIdle(): Promise<void> {
    await this.slot.onIdle();
  }

  private takeBatch(): QueuedJob<T>[] {
    const head = this.waiting.shift();
    if (!head) return [];
    const batch = [head];
    let images = head.images;
    if (head.batchKey !== undefined && this.options.maxBatchImages > 1) {
      for (let i = 0; i < this.waiting.length; ) {
        const candidate = this.waiting[i]!;
        if (candidate.batchKey === head.batchKey && images + candidate.images <= this.options.maxBatchImages) {
          batch.push(candidate);
          images += candidate.images;
          this.waiting.splice(i, 1);
        } else {
          i++;
        }
      }
    }
    return batch;
  }

  private async runNext(): Promise<void> {
    // Each add() schedules one slot task; a task finds nothing when an earlier batch took its job along.
    const batch = this.takeBatch();
    if (batch.length === 0) return;
    for (const job of batch) this.runningJobs.add(job);
    this.runningBatchList.add(batch);
    this.emit('positions');
    let failure: unknown;
    try {
      await this.options.run(batch);
    } catch (error) {
      failure = error;
    } finally {
      for (const job of batch) this.runningJobs.delete(job);
      this.runningBatchList.delete(batch);
      this.emit('batchEnd', batch, failure);
    }
  }
}
