import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.js';
import type { BatchParameters, BatchResult, GenerationJob, PipelineDescription, StepProgress } from '../pipeline/stable-diffusion.js';
import type { FromWorker, ToWorker, WorkerStartData } from './protocol.js';
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
}

/** Facts about the running pipeline process. */
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
 * and later jobs run normally. Emits `log` (level, message, details) and `restart` (reason).
 */
export class PipelineWorker extends EventEmitter {
  private child!: ChildProcess;
  private ready!: Promise<WorkerInfo>;
  private currentInfo: WorkerInfo | undefined;
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

  /** What was loaded, on which device. */
  get info(): WorkerInfo {
    if (!this.currentInfo) throw new Error('pipeline process not ready');
    return this.currentInfo;
  }

  /** Process id of the pipeline process (for tests and diagnostics). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Resolves when the (possibly restarted) process is ready. */
  async whenReady(): Promise<WorkerInfo> {
    return this.ready;
  }

  /** Runs one batch of compatible jobs in the pipeline process. One run at a time. */
  async run(jobs: readonly GenerationJob[], parameters: BatchParameters, options: RunOptions = {}): Promise<BatchResult> {
    if (this.closed) throw new UserError('worker.closed', 'The image generator is shutting down.');
    if (this.pending) throw new Error('PipelineWorker.run called while another run is in progress');
    await this.ready;
    if (options.signal?.aborted) throw new UserError('job.cancelled', 'The generation was cancelled.');
    const id = this.nextId++;
    const child = this.child;
    return new Promise<BatchResult>((resolve, reject) => {
      const onAbort = () => this.send(child, { type: 'cancel', id });
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const detach = () => options.signal?.removeEventListener('abort', onAbort);
      const pending: Pending = {
        id,
        resolve: (result) => (detach(), resolve(result)),
        reject: (error) => (detach(), reject(error)),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      };
      if (this.options.jobTimeoutMs) pending.timer = setTimeout(() => this.onTimeout(pending), this.options.jobTimeoutMs);
      this.pending = pending;
      this.send(child, { type: 'generate', id, jobs, parameters, keepIntermediates: options.keepIntermediates ?? false });
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
    let settleReady!: { resolve: (info: WorkerInfo) => void; reject: (error: Error) => void };
    this.ready = new Promise<WorkerInfo>((resolve, reject) => (settleReady = { resolve, reject }));
    this.ready.catch(() => undefined); // observed by start() or run()
    let started = false;

    child.on('message', (message: FromWorker) => {
      if (this.child !== child) return;
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
    child.on('error', (error) => {
      this.emit('log', 'warn', `pipeline process error: ${error.message}`, { stack: error.stack });
    });
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      const how = signal ? `signal ${signal}` : `code ${code}`;
      if (!started) settleReady.reject(new Error(`the pipeline process exited during start-up (${how})`));
      if (this.closed) return;
      this.failPending(
        new UserError('worker.crashed', 'The image generator crashed while working on this job and has been restarted. Please try again.'),
      );
      if (started) this.restart(`exited with ${how}`);
    });
    child.send({ type: 'start', start } satisfies ToWorker);
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
