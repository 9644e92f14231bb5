import type { BatchParameters, BatchResult, GenerationJob, PipelineDescription, StepProgress } from '../pipeline/stable-diffusion.js';
import type { RuntimeOptions } from '../runtime/session-factory.js';

/** What the pipeline process is started with (its first message). */
export interface WorkerStartData {
  readonly modelDir: string;
  readonly runtime: Omit<RuntimeOptions, 'log'>;
  /** Run one small generation before reporting ready, so the first user does not pay for cold kernels. */
  readonly warmUp?: { readonly width: number; readonly height: number; readonly steps: number } | undefined;
}

/** Messages from the main process to the pipeline process. */
export type ToWorker =
  | { readonly type: 'start'; readonly start: WorkerStartData }
  | {
      readonly type: 'generate';
      readonly id: number;
      readonly jobs: readonly GenerationJob[];
      readonly parameters: BatchParameters;
      readonly keepIntermediates?: boolean;
    }
  /** Stops a running generation at the next step boundary. */
  | { readonly type: 'cancel'; readonly id: number };

/** An error as plain data; UserErrors keep their identifier so the bot process can rebuild them. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly identifier?: string;
  readonly stack?: string;
}

/** Messages from the pipeline process to the main process. */
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
