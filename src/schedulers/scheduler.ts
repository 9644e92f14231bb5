import type { RandomSource } from '../random/random-source.js';

/**
 * The contents of a diffusers `scheduler_config.json`, merged with per-scheduler overrides.
 * Keys use diffusers' snake_case spelling because they are read verbatim from model folders.
 * Every scheduler reads only the keys its diffusers class reads and applies that class's defaults
 * for the rest (`Class.from_config(config, **overrides)` semantics).
 */
export type SchedulerConfig = Readonly<Record<string, unknown>>;

/** The element type diffusers gives `scheduler.timesteps`, which decides how a UNet receives it. */
export type TimestepDtype = 'float32' | 'int64';

/** What one call of {@link Scheduler.step} produces. */
export interface SchedulerStepOutput {
  /** The sample for the next step (`prev_sample` in diffusers). */
  readonly prevSample: Float32Array;
  /** The model's estimate of the fully denoised sample, when the scheduler computes one. */
  readonly predOriginalSample?: Float32Array;
}

/**
 * Per-call information a scheduler needs besides the tensors: their shape (for noise draws) and the
 * generator stochastic schedulers draw from (Euler a, LCM, DDPM), exactly when diffusers would.
 */
export interface StepContext {
  /** Shape of `sample` and `modelOutput`, e.g. `[batch, 4, height / 8, width / 8]`. */
  readonly shape: readonly number[];
  /** Generator for stochastic steps; required by schedulers whose step draws noise. */
  readonly generator?: RandomSource;
  /**
   * Where to write `prevSample` (same length as `sample`, sharing no memory with `sample` or `modelOutput`);
   * without it a new array is returned. Schedulers copy whatever they keep between steps, so a caller may
   * alternate two buffers: a fresh allocation per step costs more than the step's arithmetic.
   */
  readonly prevSampleOut?: Float32Array;
}

/**
 * A port of one diffusers scheduler class. Mirrors diffusers' public API in camelCase so that a
 * pipeline written against it reads like diffusers' own pipelines.
 */
export interface Scheduler {
  /** Name of the diffusers class this scheduler reproduces, e.g. `EulerDiscreteScheduler`. */
  readonly className: string;
  /** Number of model evaluations per timestep entry (`scheduler.order`). */
  readonly order: number;
  /** Standard deviation of the initial noise (`init_noise_sigma`). Valid after `setTimesteps`. */
  readonly initNoiseSigma: number;
  /** `scheduler.timesteps` after `setTimesteps`; values are exact float32 or integers. */
  readonly timesteps: readonly number[];
  /** Element type of `timesteps` in diffusers. */
  readonly timestepDtype: TimestepDtype;
  /** The sigma schedule (n + 1 float32 values) for sigma-based schedulers, else undefined. */
  readonly sigmas?: readonly number[];
  /** Whether diffusers' class has `set_begin_index` (img2img uses it when present). */
  readonly supportsBeginIndex: boolean;
  /** The resolved configuration (defaults applied), snake_case as in diffusers. */
  readonly config: SchedulerConfig;

  /** `set_timesteps(num_inference_steps)`: resets all per-run state. */
  setTimesteps(numInferenceSteps: number): void;
  /** `set_begin_index(begin_index)`; throws when `supportsBeginIndex` is false. */
  setBeginIndex(beginIndex: number): void;
  /**
   * `scale_model_input(sample, timestep)`. Writes into `out` and returns it when given (same length, sharing
   * no memory with `sample`); otherwise returns a new array, or `sample` itself when the scheduler does not scale.
   */
  scaleModelInput(sample: Float32Array, timestep: number, out?: Float32Array): Float32Array;
  /** `step(model_output, timestep, sample, generator)`. */
  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, context: StepContext): SchedulerStepOutput;
  /** `add_noise(original_samples, noise, timesteps[:1])` for image-to-image. */
  addNoise(originalSamples: Float32Array, noise: Float32Array, timestep: number): Float32Array;
}
