import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { UserError } from '../errors.js';
import type { BatchParameters, BatchResult, GenerationJob, PipelineDescription, StepProgress } from '../pipeline/stable-diffusion.js';
import type { FromWorker, ToWorker, WorkerStartData } from './protocol.js';
import { deserializeError } from './serialize-error.js';

/** Options of the pipeline thread. */
export interface PipelineWorkerOptions extends WorkerStartData {
  /** A job running longer than this is stopped, the thread restarted and the job failed (0 = no limit). */
  readonly jobTimeoutMs?: number;
  /** Heap limit for the thread in MiB (the tensors live outside the JS heap; this bounds leaks). */
  readonly maxOldGenerationSizeMb?: number;
}

/** Per-run observers and controls. */
export interface RunOptions {
  readonly onProgress?: (progress: StepProgress) => void;
  readonly signal?: AbortSignal;
  readonly keepIntermediates?: boolean;
}

/** Facts about the running pipeline thread. */
export interface WorkerInfo {
  readonly description: PipelineDescription;
  readonly device: 'cpu' | 'cuda';
  readonly deviceFallbackReason?: string;
  readonly loadMs: number;
  readonly warmUpMs?: number;
}

interface Pending {
  readonly id: number;
  readonly resolve: (result: BatchResult) => void;
  readonly reject: (error: Error) => void;
  readonly onProgress?: (progress: StepProgress) => void;
  readonly cancelFlag: Int32Array;
  timer?: NodeJS.Timeout;
}

/**
 * The main thread's handle on the pipeline thread: an async API with progress events. When the thread
 * crashes or a job hangs past the timeout, the job fails with a clear UserError, the thread is restarted
 * and later jobs run normally. Emits `log` (level, message, details) and `restart` (reason).
 */
export class PipelineWorker extends EventEmitter {
  private worker!: Worker;
  private ready!: Promise<WorkerInfo>;
  private currentInfo: WorkerInfo | undefined;
  private pending: Pending | undefined;
  private nextId = 1;
  private closed = false;
  /** How many times the thread was restarted after a crash or a timeout. */
  restarts = 0;

  private constructor(private readonly options: PipelineWorkerOptions) {
    super();
    this.spawn();
  }

  /** Starts the pipeline thread and waits until the models are loaded (and warmed up, if asked). */
  static async start(options: PipelineWorkerOptions): Promise<PipelineWorker> {
    const worker = new PipelineWorker(options);
    try {
      await worker.ready;
    } catch (error) {
      await worker.close();
      throw error;
    }
    return worker;
  }

  /** What was loaded, on which device. */
  get info(): WorkerInfo {
    if (!this.currentInfo) throw new Error('pipeline thread not ready');
    return this.currentInfo;
  }

  /** Whether a job is running now. */
  get busy(): boolean {
    return this.pending !== undefined;
  }

  /** Runs one batch of compatible jobs on the pipeline thread. One run at a time. */
  async run(jobs: readonly GenerationJob[], parameters: BatchParameters, options: RunOptions = {}): Promise<BatchResult> {
    if (this.closed) throw new UserError('worker.closed', 'The image generator is shutting down.');
    if (this.pending) throw new Error('PipelineWorker.run called while another run is in progress');
    await this.ready;
    if (options.signal?.aborted) throw new UserError('job.cancelled', 'The generation was cancelled.');
    const id = this.nextId++;
    const cancelFlag = new Int32Array(new SharedArrayBuffer(4));
    return new Promise<BatchResult>((resolve, reject) => {
      const onAbort = () => Atomics.store(cancelFlag, 0, 1);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const detach = () => options.signal?.removeEventListener('abort', onAbort);
      const pending: Pending = {
        id,
        cancelFlag,
        resolve: (result) => (detach(), resolve(result)),
        reject: (error) => (detach(), reject(error)),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      };
      if (this.options.jobTimeoutMs) pending.timer = setTimeout(() => this.onTimeout(pending), this.options.jobTimeoutMs);
      this.pending = pending;
      const message: ToWorker = { type: 'generate', id, jobs, parameters, cancelFlag: cancelFlag.buffer as SharedArrayBuffer, keepIntermediates: options.keepIntermediates ?? false };
      this.worker.postMessage(message);
    });
  }

  /** Stops the thread; a running job fails. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failPending(new UserError('worker.closed', 'The image generator was shut down before this job finished.'));
    await this.worker.terminate();
  }

  /** Kills the thread as a crash would (used by tests); the running job fails and the thread restarts. */
  async kill(): Promise<void> {
    await this.worker.terminate();
  }

  private spawn(): void {
    const { jobTimeoutMs: _timeout, maxOldGenerationSizeMb, ...start } = this.options;
    const worker = new Worker(new URL('./worker-main.js', import.meta.url), {
      workerData: start satisfies WorkerStartData,
      ...(maxOldGenerationSizeMb ? { resourceLimits: { maxOldGenerationSizeMb } } : {}),
    });
    this.worker = worker;
    this.currentInfo = undefined;
    let settleReady!: { resolve: (info: WorkerInfo) => void; reject: (error: Error) => void };
    this.ready = new Promise<WorkerInfo>((resolve, reject) => (settleReady = { resolve, reject }));
    this.ready.catch(() => undefined); // observed by start() or run()
    let started = false;

    worker.on('message', (message: FromWorker) => {
      switch (message.type) {
        case 'ready': {
          started = true;
          const { type: _type, ...info } = message;
          this.currentInfo = info;
          settleReady.resolve(info);
          return;
        }
        case 'startFailed':
          settleReady.reject(deserializeError(message.error));
          return;
        case 'log':
          this.emit('log', message.level, message.message, message.details);
          return;
        case 'progress':
          if (this.pending?.id === message.id) this.pending.onProgress?.(message.progress);
          return;
        case 'result':
          if (this.pending?.id === message.id) this.settle()?.resolve(message.result);
          return;
        case 'error':
          if (this.pending?.id === message.id) this.settle()?.reject(deserializeError(message.error));
          return;
      }
    });
    worker.on('error', (error) => {
      this.emit('log', 'warn', `pipeline thread error: ${error.message}`, { stack: error.stack });
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return;
      if (!started) settleReady.reject(new Error(`the pipeline thread exited during start-up (code ${code})`));
      if (this.closed) return;
      this.failPending(new UserError('worker.crashed', 'The image generator crashed while working on this job and has been restarted. Please try again.'));
      if (started) this.restart(`exited with code ${code}`);
    });
  }

  private restart(reason: string): void {
    this.restarts += 1;
    this.emit('restart', reason);
    this.spawn();
  }

  private onTimeout(pending: Pending): void {
    if (this.pending !== pending) return;
    const seconds = Math.round((this.options.jobTimeoutMs ?? 0) / 1000);
    this.failPending(new UserError('worker.timeout', `The generation took longer than ${seconds} s and was stopped. Try fewer steps or a smaller size.`));
    // A hung thread cannot be interrupted: replace it at once so the next job never reaches the old one.
    const hung = this.worker;
    this.restart(`job exceeded ${seconds} s`);
    void hung.terminate();
  }

  private settle(): Pending | undefined {
    const pending = this.pending;
    if (pending?.timer) clearTimeout(pending.timer);
    this.pending = undefined;
    return pending;
  }

  private failPending(error: Error): void {
    this.settle()?.reject(error);
  }
}
