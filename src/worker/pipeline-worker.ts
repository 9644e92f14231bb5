import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import type { BatchParameters, GenerationJob, PipelineDescription, StepProgress } from '../pipeline/stable-diffusion.js';
import type { PreviewRequest } from '../pipeline/components/previewer.js';
import type { CheckedBatchResult, FromWorker, JobPreview, SafetyCheckerInfo, ToWorker, WorkerStartData } from './protocol.js';
import { deserializeError } from './serialize-error.js';

/** Options of the pipeline process. */
export interface PipelineWorkerOptions extends WorkerStartData {
  /** A job running longer than this is stopped, the process replaced and the job failed (0 = no limit). */
  readonly jobTimeoutMs?: number;
  /** V8 heap limit of the process in MiB (tensors live outside the JS heap; this bounds leaks). */
  readonly maxOldGenerationSizeMb?: number;
}

/** Per-run observers and controls. */
export interface RunOptions {
  readonly onProgress?: (progress: StepProgress) => void;
  readonly signal?: AbortSignal;
  readonly keepIntermediates?: boolean;
  /** Live previews: drawn in the pipeline process every `everySteps` steps and handed to `onPreview`. */
  readonly preview?: PreviewRequest;
  /** Receives each job's previews (one message per job of the batch). */
  readonly onPreview?: (preview: JobPreview) => void;
}

/**
 * Where the pipeline process is: `loading` (spawned, creating the sessions), `warming` (loaded, running the
 * warm-up generation; jobs wait for it), `ready` (warm: jobs run at full speed), `failed` (it could not start).
 */
export type PipelineStage = 'loading' | 'warming' | 'ready' | 'failed';

/** The pipeline process's state, for health checks and logs. */
export interface PipelineProcessStatus {
  readonly stage: PipelineStage;
  /** Milliseconds from spawning the process to the start of the current stage. */
  readonly sinceSpawnMs: number;
  /** Session creation time, once loaded. */
  readonly loadMs?: number;
  /** Warm-up time, once ready. */
  readonly warmUpMs?: number;
  /** The warm-up size, when a warm-up was asked for. */
  readonly warmUpSize?: { readonly width: number; readonly height: number };
}

/** Facts about the running pipeline process. */
export interface WorkerInfo {
  readonly description: PipelineDescription;
  readonly device: 'cpu' | 'cuda';
  readonly deviceFallbackReason?: string;
  readonly loadMs: number;
  readonly warmUpMs?: number;
  /** The safety checker every picture is checked with; null when the model folder has none. */
  readonly safetyChecker: SafetyCheckerInfo | null;
  /** Why a safety checker that is partly there is not used. */
  readonly safetyCheckerProblem?: string;
}

interface Pending {
  readonly id: number;
  readonly resolve: (result: CheckedBatchResult) => void;
  readonly reject: (error: Error) => void;
  readonly onProgress?: (progress: StepProgress) => void;
  readonly onPreview?: (preview: JobPreview) => void;
  timer?: NodeJS.Timeout;
}

/** The environment of a pipeline process: this process's, with the settings onnxruntime should run under. */
export function pipelineProcessEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  // onnxruntime 1.30 collects usage telemetry and uploads it over HTTPS unless told not to; a self-hosted
  // bot keeps to itself. Setting ORT_DISABLE_TELEMETRY=0 explicitly turns it back on.
  return { ...base, ORT_DISABLE_TELEMETRY: base['ORT_DISABLE_TELEMETRY'] ?? '1' };
}

const workerMain = fileURLToPath(new URL('./worker-main.js', import.meta.url));

/**
 * The main process's handle on the pipeline process: an async API with progress events. When the process
 * crashes or a job hangs past the timeout, the job fails with a clear UserError, a new process is started
 * and later jobs run normally. Emits `log` (level, message, details), `restart` (reason) and `stage`
 * ({@link PipelineProcessStatus}) at every change of stage.
 */
export class PipelineWorker extends EventEmitter {
  private child!: ChildProcess;
  private ready!: Promise<WorkerInfo>;
  private loaded!: Promise<WorkerInfo>;
  private currentInfo: WorkerInfo | undefined;
  private currentStatus!: PipelineProcessStatus;
  private spawnedAt = 0;
  private pending: Pending | undefined;
  private nextId = 1;
  private closed = false;
  /** How many times the process was replaced after a crash or a timeout. */
  restarts = 0;

  private constructor(private readonly options: PipelineWorkerOptions) {
    super();
    this.spawn();
  }

  /** Starts the pipeline process and waits until the models are loaded (and warmed up, if asked). */
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

  /**
   * Starts the pipeline process and resolves as soon as its models are loaded, while the warm-up still runs:
   * the caller can go on starting (connect to Discord, take jobs, which wait for the warm-up). A start
   * failure rejects and stops the process. `observe` gets the worker before the process can send anything,
   * to attach `log`, `stage` and `restart` listeners that miss nothing of the start.
   */
  static async launch(options: PipelineWorkerOptions, observe?: (worker: PipelineWorker) => void): Promise<PipelineWorker> {
    const worker = new PipelineWorker(options);
    observe?.(worker);
    try {
      await worker.loaded;
    } catch (error) {
      await worker.close();
      throw error;
    }
    return worker;
  }

  /** What was loaded, on which device. */
  get info(): WorkerInfo {
    if (!this.currentInfo) throw new Error('pipeline process not ready');
    return this.currentInfo;
  }

  /** The process's stage and start-up times. */
  get status(): PipelineProcessStatus {
    return this.currentStatus;
  }

  /** Whether a job is running now. */
  get busy(): boolean {
    return this.pending !== undefined;
  }

  /** Process id of the pipeline process (for tests and diagnostics). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Resolves when the (possibly restarted) process is ready. */
  async whenReady(): Promise<WorkerInfo> {
    return this.ready;
  }

  /** Resolves when the (possibly restarted) process has loaded its models (it may still be warming up). */
  async whenLoaded(): Promise<WorkerInfo> {
    return this.loaded;
  }

  /** Runs one batch of compatible jobs in the pipeline process. One run at a time. */
  async run(jobs: readonly GenerationJob[], parameters: BatchParameters, options: RunOptions = {}): Promise<CheckedBatchResult> {
    if (this.closed) throw new UserError('worker.closed', 'The image generator is shutting down.');
    if (this.pending) throw new Error('PipelineWorker.run called while another run is in progress');
    await this.ready;
    if (options.signal?.aborted) throw new UserError('job.cancelled', 'The generation was cancelled.');
    const id = this.nextId++;
    const child = this.child;
    return new Promise<CheckedBatchResult>((resolve, reject) => {
      const onAbort = () => this.send(child, { type: 'cancel', id });
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const detach = () => options.signal?.removeEventListener('abort', onAbort);
      const pending: Pending = {
        id,
        resolve: (result) => (detach(), resolve(result)),
        reject: (error) => (detach(), reject(error)),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(options.onPreview ? { onPreview: options.onPreview } : {}),
      };
      if (this.options.jobTimeoutMs) pending.timer = setTimeout(() => this.onTimeout(pending), this.options.jobTimeoutMs);
      this.pending = pending;
      this.send(child, {
        type: 'generate',
        id,
        jobs,
        parameters,
        keepIntermediates: options.keepIntermediates ?? false,
        ...(options.preview && options.onPreview ? { preview: options.preview } : {}),
      });
    });
  }

  /** Stops the process; a running job fails. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failPending(new UserError('worker.closed', 'The image generator was shut down before this job finished.'));
    await this.stop(this.child);
  }

  /** Kills the process as a crash would (used by tests): the running job fails and a new process starts. */
  kill(): void {
    this.child.kill('SIGKILL');
  }

  private send(child: ChildProcess, message: ToWorker): void {
    if (child.connected) child.send(message);
  }

  private spawn(): void {
    const { jobTimeoutMs: _timeout, maxOldGenerationSizeMb, ...start } = this.options;
    const child = fork(workerMain, [], {
      env: pipelineProcessEnv(),
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: maxOldGenerationSizeMb ? [`--max-old-space-size=${maxOldGenerationSizeMb}`] : [],
    });
    this.child = child;
    this.currentInfo = undefined;
    this.spawnedAt = performance.now();
    this.setStage('loading');
    let settleReady!: { resolve: (info: WorkerInfo) => void; reject: (error: Error) => void };
    let settleLoaded!: { resolve: (info: WorkerInfo) => void; reject: (error: Error) => void };
    this.ready = new Promise<WorkerInfo>((resolve, reject) => (settleReady = { resolve, reject }));
    this.loaded = new Promise<WorkerInfo>((resolve, reject) => (settleLoaded = { resolve, reject }));
    this.ready.catch(() => undefined); // observed by start() or run()
    this.loaded.catch(() => undefined); // observed by launch()
    let started = false;
    const fail = (error: Error) => {
      this.setStage('failed');
      settleLoaded.reject(error);
      settleReady.reject(error);
    };

    child.on('message', (message: FromWorker) => {
      if (this.child !== child) return;
      switch (message.type) {
        case 'loaded': {
          const { type: _type, ...info } = message;
          this.setStage(this.options.warmUp ? 'warming' : 'loading', { loadMs: info.loadMs });
          settleLoaded.resolve(info);
          return;
        }
        case 'ready': {
          started = true;
          const { type: _type, ...info } = message;
          this.currentInfo = info;
          this.setStage('ready', { loadMs: info.loadMs, ...(info.warmUpMs !== undefined ? { warmUpMs: info.warmUpMs } : {}) });
          settleLoaded.resolve(info);
          settleReady.resolve(info);
          return;
        }
        case 'startFailed':
          fail(deserializeError(message.error));
          return;
        case 'preview':
          if (this.pending?.id === message.id) this.pending.onPreview?.(message.preview);
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
    child.on('error', (error) => {
      this.emit('log', 'warn', `pipeline process error: ${error.message}`, { stack: error.stack });
    });
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      const how = signal ? `signal ${signal}` : `code ${code}`;
      if (!started) fail(new Error(`the pipeline process exited during start-up (${how})`));
      if (this.closed) return;
      this.failPending(
        new UserError('worker.crashed', 'The image generator crashed while working on this job and has been restarted. Please try again.'),
      );
      if (started) this.restart(`exited with ${how}`);
    });
    child.send({ type: 'start', start } satisfies ToWorker);
  }

  private setStage(stage: PipelineStage, times: { loadMs?: number; warmUpMs?: number } = {}): void {
    const warmUp = this.options.warmUp;
    this.currentStatus = {
      stage,
      sinceSpawnMs: performance.now() - this.spawnedAt,
      ...times,
      ...(warmUp ? { warmUpSize: { width: warmUp.width, height: warmUp.height } } : {}),
    };
    this.emit('stage', this.currentStatus);
  }

  private restart(reason: string): void {
    this.restarts += 1;
    this.emit('restart', reason);
    this.spawn();
  }

  private onTimeout(pending: Pending): void {
    if (this.pending !== pending) return;
    const seconds = Math.round((this.options.jobTimeoutMs ?? 0) / 1000);
    this.failPending(
      new UserError('worker.timeout', `The generation took longer than ${seconds} s and was stopped. Try fewer steps or a smaller size.`),
    );
    // A hung process cannot be interrupted: replace it at once so the next job never reaches the old one.
    const hung = this.child;
    this.restart(`a job exceeded ${seconds} s`);
    hung.kill('SIGKILL');
  }

  private async stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
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
