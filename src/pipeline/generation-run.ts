import { UserError } from '../errors.js';
import type { ModelTiming } from './components/io.js';

/** A step that finished, for progress displays. */
export interface StepProgress {
  /** 1-based number of the finished step. */
  readonly step: number;
  readonly totalSteps: number;
  /** Milliseconds since the generation started. */
  readonly elapsedMs: number;
}

/** Observers and controls of one generation. */
export interface GenerationHooks {
  /** Called after every denoising step. */
  readonly onProgress?: (progress: StepProgress) => void;
  /** Checked between steps; a set flag stops the run with a `job.cancelled` UserError. */
  readonly signal?: { readonly aborted: boolean };
  /**
   * Awaited before every step. A host whose model calls block its event loop (onnxruntime-node's `run()`
   * does) yields here so cancellation messages can arrive.
   */
  readonly betweenSteps?: () => Promise<void>;
  /**
   * The text conditioning as the UNet gets it (`encoder_hidden_states`, `[rows, sequence, hidden]`; with guidance
   * the negative rows first), for tests and tools.
   */
  readonly onPromptEncoded?: (embeddings: Float32Array, dims: readonly [number, number, number], added?: AddedConditionsView) => void;
  /** The initial (txt2img) or noised (img2img) latents and the timesteps that will run. */
  readonly onLatentsPrepared?: (latents: Float32Array, timesteps: readonly number[]) => void;
  /**
   * diffusers' `callback_on_step_end`: the latents after each step (for tests and tools), and the scheduler's
   * prediction of the clean latents (`pred_original_sample`) when it makes one (live previews show it: it is
   * the picture to come rather than noise). The arrays are reused by later steps: copy them to keep them.
   */
  readonly onStepEnd?: (index: number, timestep: number, latents: Float32Array, denoised?: Float32Array) => void;
  /** Keep the final latents and the float decoder output in the result. */
  readonly keepIntermediates?: boolean;
}

/** SDXL's added UNet inputs as the hooks see them: `text_embeds` `[rows, size]` and `time_ids` `[rows, 6]`. */
export interface AddedConditionsView {
  readonly textEmbeds: Float32Array;
  readonly textEmbedsDims: readonly [number, number];
  readonly timeIds: Float32Array;
  readonly timeIdsDims: readonly [number, number];
}

/** Timings of one batch. */
export interface GenerationTimings {
  readonly totalMs: number;
  readonly encodeMs: number;
  readonly denoiseMs: number;
  readonly decodeMs: number;
  /** Denoising steps run. */
  readonly steps: number;
  /** Time inside `session.run` during the denoising loop. */
  readonly unetMs: number;
  /**
   * Median over the steps of the time a step spends outside `session.run` (scheduler, guidance, scaling,
   * progress, the yield between steps); one-time set-up before the loop is not included.
   */
  readonly stepOverheadMs: number;
  /** Time inside `session.run` over the whole generation. */
  readonly modelMs: number;
}

/** The stages {@link GenerationTimings} reports. */
type Stage = 'encode' | 'denoise' | 'decode';

/**
 * The bookkeeping of one generation, so the recipe itself stays free of it: the caller's hooks (progress,
 * cancellation, the yield between steps, step callbacks) and the clock behind {@link GenerationTimings}.
 */
export class GenerationRun {
  /** Time spent inside model calls; the components add to it. */
  readonly models: ModelTiming = { modelMs: 0, modelCalls: 0 };
  private readonly started = performance.now();
  private readonly stageEnds = new Map<Stage, number>();
  private readonly stepOverheads: number[] = [];
  private stepStarted = 0;
  private stepModelMs = 0;
  private loopModelMs = 0;
  private unetMs = 0;
  private totalSteps = 0;

  constructor(private readonly hooks: GenerationHooks) {}

  /** Whether the caller wants the final latents and float images back. */
  get keepIntermediates(): boolean {
    return this.hooks.keepIntermediates ?? false;
  }

  /** Ends the encoding stage and shows the caller the conditioning. */
  promptEncoded(conditioning: {
    readonly embeddings: Float32Array;
    readonly sequenceLength: number;
    readonly hiddenSize: number;
    readonly added?: { readonly textEmbeds: Float32Array; readonly timeIds: Float32Array };
  }): void {
    this.stageDone('encode');
    const { embeddings, sequenceLength, hiddenSize, added } = conditioning;
    const rows = embeddings.length / (sequenceLength * hiddenSize);
    this.hooks.onPromptEncoded?.(
      embeddings,
      [rows, sequenceLength, hiddenSize],
      added && {
        textEmbeds: added.textEmbeds,
        textEmbedsDims: [rows, added.textEmbeds.length / rows],
        timeIds: added.timeIds,
        timeIdsDims: [rows, added.timeIds.length / rows],
      },
    );
  }

  /** Tells the caller which latents and timesteps the loop starts from; the loop will run one step per timestep. */
  latentsPrepared(latents: Float32Array, timesteps: readonly number[]): void {
    this.hooks.onLatentsPrepared?.(latents, timesteps);
    this.totalSteps = timesteps.length;
    this.loopModelMs = this.models.modelMs;
  }

  /** Marks the end of a stage. */
  stageDone(stage: Stage): void {
    this.stageEnds.set(stage, performance.now());
    if (stage === 'denoise') this.unetMs = this.models.modelMs - this.loopModelMs;
  }

  /** Starts a denoising step: the host may run its own work first, and a cancelled run stops here. */
  async stepStarting(): Promise<void> {
    this.stepStarted = performance.now();
    this.stepModelMs = this.models.modelMs;
    await this.checkpoint();
  }

  /** Reports a finished denoising step (diffusers' `callback_on_step_end` and progress bar). */
  stepDone(index: number, timestep: number, latents: Float32Array, denoised?: Float32Array): void {
    this.hooks.onStepEnd?.(index, timestep, latents, denoised);
    this.hooks.onProgress?.({ step: index + 1, totalSteps: this.totalSteps, elapsedMs: performance.now() - this.started });
    this.stepOverheads.push(performance.now() - this.stepStarted - (this.models.modelMs - this.stepModelMs));
  }

  /** Where a run may stop: yields to the host, then throws `job.cancelled` if the caller cancelled. */
  async checkpoint(): Promise<void> {
    await this.hooks.betweenSteps?.();
    if (this.hooks.signal?.aborted) throw new UserError('job.cancelled', 'The generation was cancelled.');
  }

  /** The timings of the finished run. */
  timings(): GenerationTimings {
    const finished = performance.now();
    const encoded = this.stageEnds.get('encode') ?? this.started;
    const denoised = this.stageEnds.get('denoise') ?? encoded;
    return {
      totalMs: finished - this.started,
      encodeMs: encoded - this.started,
      denoiseMs: denoised - encoded,
      decodeMs: (this.stageEnds.get('decode') ?? finished) - denoised,
      steps: this.stepOverheads.length,
      unetMs: this.unetMs,
      stepOverheadMs: median(this.stepOverheads),
      modelMs: this.models.modelMs,
    };
  }
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
