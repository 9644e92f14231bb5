import { EventEmitter } from 'node:events';
import type { PipelineBatchResult } from '../jobs/job-runner.js';
import type { BatchParameters, GenerationJob } from '../pipeline/stable-diffusion.js';
import { PipelineWorker, type PipelineWorkerOptions, type RunOptions, type WorkerInfo } from '../worker/pipeline-worker.js';

/** Options of {@link LocalPipelinePool}: the pipeline process's, and the devices to start one on each. */
export interface LocalPipelinePoolOptions extends PipelineWorkerOptions {
  /** One pipeline process per entry, started with this device index (CUDA) or as a label (CPU). */
  readonly deviceIds: readonly number[];
}

/** One pipeline process of the pool and the device it was started for. */
export interface PoolMember {
  readonly deviceId: number;
  readonly worker: PipelineWorker;
  busy: boolean;
}

/**
 * Several local pipeline processes — one per GPU of `LATENTCORD_DEVICE_IDS` (or, on the CPU, as many as
 * asked) — behind the job runner's one `run` call: a batch goes to whichever process is free. Each process
 * crashes and restarts on its own as a single one does. Emits `log` (level, message, details with
 * `deviceId`) and `restart` (reason, deviceId), like {@link PipelineWorker}.
 */
export class LocalPipelinePool extends EventEmitter {
  private constructor(readonly members: readonly PoolMember[]) {
    super();
    for (const member of members) {
      member.worker.on('log', (level: 'info' | 'warn', message: string, details?: Record<string, unknown>) =>
        this.emit('log', level, message, { ...details, deviceId: member.deviceId }),
      );
      member.worker.on('restart', (reason: string) => this.emit('restart', reason, member.deviceId));
    }
  }

  /** Starts one process per device (all at once) and waits until every one is ready. */
  static async start(options: LocalPipelinePoolOptions): Promise<LocalPipelinePool> {
    const { deviceIds, ...single } = options;
    if (deviceIds.length === 0) throw new RangeError('LocalPipelinePool needs at least one device');
    const started = await Promise.allSettled(
      deviceIds.map((deviceId) => PipelineWorker.start({ ...single, runtime: { ...single.runtime, deviceId } })),
    );
    const failure = started.find((result) => result.status === 'rejected');
    if (failure) {
      await Promise.all(started.flatMap((result) => (result.status === 'fulfilled' ? [result.value.close()] : [])));
      throw failure.reason;
    }
    return new LocalPipelinePool(
      started.map((result, index) => ({
        deviceId: deviceIds[index]!,
        worker: (result as PromiseFulfilledResult<PipelineWorker>).value,
        busy: false,
      })),
    );
  }

  /** Batches it runs at once: one per process. */
  get capacity(): number {
    return this.members.length;
  }

  /** What the first process loaded (every process loads the same folder); throws while none is ready. */
  get info(): WorkerInfo {
    for (const member of this.members) {
      try {
        return member.worker.info;
      } catch {
        // this one is restarting; ask the next
      }
    }
    throw new Error('no pipeline process ready');
  }

  /** Replacements after crashes or timeouts, over all processes. */
  get restarts(): number {
    return this.members.reduce((sum, member) => sum + member.worker.restarts, 0);
  }

  /** Process ids of the pipeline processes. */
  get pids(): (number | undefined)[] {
    return this.members.map((member) => member.worker.pid);
  }

  /**
   * Runs a batch on a free process. The job runner never runs more batches at once than {@link capacity},
   * so there is always one; calling it with every process busy is a bug.
   */
  async run(jobs: readonly GenerationJob[], parameters: BatchParameters, options: RunOptions = {}): Promise<PipelineBatchResult> {
    const member = this.members.find((candidate) => !candidate.busy);
    if (!member) throw new Error(`LocalPipelinePool.run called with all ${this.members.length} pipeline processes busy`);
    member.busy = true;
    try {
      return await member.worker.run(jobs, parameters, options);
    } finally {
      member.busy = false;
    }
  }

  /** Stops every process; running jobs fail. */
  async close(): Promise<void> {
    await Promise.all(this.members.map((member) => member.worker.close()));
  }
}
