import type { BatchParameters, BatchResult, GenerationJob, PipelineDescription, StepProgress } from '../pipeline/stable-diffusion.js';
import type { RuntimeOptions } from '../runtime/session-factory.js';

/** What the pipeline thread is started with (`workerData`). */
export interface WorkerStartData {
  readonly modelDir: string;
  readonly runtime: Omit<RuntimeOptions, 'log'>;
  /** Run one small generation before reporting ready, so the first user does not pay for cold kernels. */
  readonly warmUp?: { readonly width: number; readonly height: number; readonly steps: number } | undefined;
}

/** Messages from the main thread to the pipeline thread. */
export type ToWorker = {
  readonly type: 'generate';
  readonly id: number;
  readonly jobs: readonly GenerationJob[];
  readonly parameters: BatchParameters;
  /** One Int32 cell: set to 1 to cancel between steps (read with Atomics while the thread is busy). */
  readonly cancelFlag: SharedArrayBuffer;
  readonly keepIntermediates?: boolean;
};

/** An error as plain data; UserErrors keep their identifier so the main thread can rebuild them. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly identifier?: string;
  readonly stack?: string;
}

/** Messages from the pipeline thread to the main thread. */
export type FromWorker =
  | {
      readonly type: 'ready';
      readonly description: PipelineDescription;
      readonly device: 'cpu' | 'cuda';
      readonly deviceFallbackReason?: string;
      readonly loadMs: number;
      readonly warmUpMs?: number;
    }
  | { readonly type: 'startFailed'; readonly error: SerializedError }
  | { readonly type: 'progress'; readonly id: number; readonly progress: StepProgress }
  | { readonly type: 'result'; readonly id: number; readonly result: BatchResult }
  | { readonly type: 'error'; readonly id: number; readonly error: SerializedError }
  | { readonly type: 'log'; readonly level: 'info' | 'warn'; readonly message: string; readonly details?: Record<string, unknown> };
