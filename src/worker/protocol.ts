import type { BatchParameters, BatchResult, GenerationJob, PipelineDescription, StepProgress } from '../pipeline/stable-diffusion.js';
import type { PreviewRequest, RenderedPreview } from '../pipeline/components/previewer.js';
import type { RuntimeOptions } from '../runtime/session-factory.js';
import type { EngineOptions } from './load-engine.js';

/** What the pipeline process is started with (its first message). */
export interface WorkerStartData {
  readonly modelDir: string;
  readonly runtime: Omit<RuntimeOptions, 'log'>;
  /**
   * Run one small generation before reporting ready, so the first user does not pay for cold kernels. Its
   * guidance decides the UNet batch (2 with classifier-free guidance); default: the model profile's
   * recommended guidance, else 7.5.
   */
  readonly warmUp?:
    | { readonly width: number; readonly height: number; readonly steps: number; readonly guidanceScale?: number }
    | undefined;
  /** Decoders and UNet batching (tiny decoder folder, final decoder, VAE tiling, rows per UNet run). */
  readonly engine?: EngineOptions;
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
      /** Previews while the batch denoises, sent as `preview` messages. */
      readonly preview?: PreviewRequest;
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

/** A preview of one job of a running batch. */
export interface JobPreview {
  /** Which job of the batch (0-based, in the order given to `run`). */
  readonly jobIndex: number;
  /** The step after which it was drawn (1-based). */
  readonly step: number;
  readonly totalSteps: number;
  /** One picture per image of the job, in order. */
  readonly images: readonly RenderedPreview[];
}

/** Messages from the pipeline process to the main process. */
export type FromWorker =
  | {
      /** The sessions are loaded; warm-up (if asked) follows, then `ready`. */
      readonly type: 'loaded';
      readonly description: PipelineDescription;
      readonly device: 'cpu' | 'cuda';
      readonly deviceFallbackReason?: string;
      readonly loadMs: number;
      /** The safety checker every picture is checked with, or null when the model folder has none. */
      readonly safetyChecker: SafetyCheckerInfo | null;
      /** Why a safety checker that is partly there is not used. */
      readonly safetyCheckerProblem?: string;
    }
  | {
      readonly type: 'ready';
      readonly description: PipelineDescription;
      readonly device: 'cpu' | 'cuda';
      readonly deviceFallbackReason?: string;
      readonly loadMs: number;
      readonly warmUpMs?: number;
      /** The safety checker every picture is checked with, or null when the model folder has none. */
      readonly safetyChecker: SafetyCheckerInfo | null;
      /** Why a safety checker that is partly there is not used. */
      readonly safetyCheckerProblem?: string;
    }
  | { readonly type: 'startFailed'; readonly error: SerializedError }
  | { readonly type: 'progress'; readonly id: number; readonly progress: StepProgress }
  | { readonly type: 'preview'; readonly id: number; readonly preview: JobPreview }
  | { readonly type: 'result'; readonly id: number; readonly result: CheckedBatchResult }
  | { readonly type: 'error'; readonly id: number; readonly error: SerializedError }
  | { readonly type: 'log'; readonly level: 'info' | 'warn'; readonly message: string; readonly details?: Record<string, unknown> };

/** The safety checker a pipeline process loaded. */
export interface SafetyCheckerInfo {
  /** `safety_checker/model.onnx` of the model folder. */
  readonly modelFile: string;
  /** Element type of its inputs (`float16` for fp16 exports). */
  readonly floatType: string;
}

/**
 * A batch's results with the safety checker's verdicts: `flagged[j][i]` is true when picture `i` of job `j` has
 * NSFW concepts. Absent when there is no checker (nothing was checked).
 */
export interface CheckedBatchResult extends BatchResult {
  readonly flagged?: readonly (readonly boolean[])[];
}
