import { resolveSchedulerConfig, SchedulerConfigReader, type SchedulerDefaults } from './config.js';
import { noiseScheduleFromConfig } from './noise-schedule.js';
import { numpyLinspace } from './numpy-compat.js';
import {
  addNoiseVariancePreserving,
  assertStepShapes,
  clampInPlace,
  drawNoise,
  prevSampleBuffer,
  thresholdSampleInPlace,
  unscaledModelInput,
} from './sample-ops.js';
import type { Scheduler, SchedulerConfig, SchedulerStepOutput, StepContext } from './scheduler.js';
import { validateBeginIndex, validateInferenceSteps } from './step-count.js';
import { indexForTimestep } from './timestep-index.js';

const f = Math.fround;

/** `LCMScheduler.__init__` defaults (diffusers 0.35.2). */
export const lcmDefaults: SchedulerDefaults = {
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: 'scaled_linear',
  trained_betas: null,
  original_inference_steps: 50,
  clip_sample: false,
  clip_sample_range: 1.0,
  set_alpha_to_one: true,
  steps_offset: 0,
  prediction_type: 'epsilon',
  thresholding: false,
  dynamic_thresholding_ratio: 0.995,
  sample_max_value: 1.0,
  timestep_spacing: 'leading',
  timestep_scaling: 10.0,
  rescale_betas_zero_snr: false,
};

/**
 * Port of diffusers' `LCMScheduler` (Latent Consistency Models, Luo et al. 2023): timesteps picked evenly
 * from the `original_inference_steps` distillation grid, consistency boundary scalings `c_skip`/`c_out`
 * with `timestep_scaling`, and fresh noise injected after every step except the last.
 */
export class LCMScheduler implements Scheduler {
  readonly className = 'LCMScheduler';
  readonly order = 1;
  readonly initNoiseSigma = 1;
  readonly timestepDtype = 'int64' as const;
  readonly supportsBeginIndex = true;
  readonly config: SchedulerConfig;
  /** `alphas_cumprod`, float32. */
  readonly alphasCumprod: Float32Array;

  /**
   * The `strength` argument of diffusers' `set_timesteps`, which shortens the distillation grid to
   * `int(original_inference_steps · strength)` entries. Pipelines leave it at 1.
   */
  strength = 1;

  private readonly reader: SchedulerConfigReader;
  private readonly predictionType: 'epsilon' | 'sample' | 'v_prediction';
  private readonly finalAlphaCumprod: number;
  private timestepSchedule: number[];
  private numInferenceSteps: number | undefined;
  private stepIndexValue: number | undefined;
  private beginIndexValue: number | undefined;

  constructor(config: SchedulerConfig = {}) {
    this.config = resolveSchedulerConfig(this.className, lcmDefaults, config);
    const reader = new SchedulerConfigReader(this.className, this.config);
    this.reader = reader;
    this.predictionType = reader.string('prediction_type', ['epsilon', 'sample', 'v_prediction']);
    const numTrain = reader.integer('num_train_timesteps', 1);
    reader.integer('original_inference_steps', 1, numTrain);
    reader.number('timestep_scaling');
    reader.boolean('clip_sample');
    reader.boolean('thresholding');
    reader.number('clip_sample_range');
    reader.number('dynamic_thresholding_ratio');
    reader.number('sample_max_value');
    const schedule = noiseScheduleFromConfig(reader, { supportsZeroSnr: true });
    this.alphasCumprod = schedule.alphasCumprod;
    this.finalAlphaCumprod = reader.boolean('set_alpha_to_one') ? 1 : this.alphasCumprod[0]!;
    this.timestepSchedule = Array.from({ length: numTrain }, (_, i) => numTrain - 1 - i);
  }

  get timesteps(): readonly number[] {
    return this.timestepSchedule;
  }

  /** Index of the next step (`step_index`), undefined before the first `step`. */
  get stepIndex(): number | undefined {
    return this.stepIndexValue;
  }

  setTimesteps(numInferenceSteps: number): void {
    const reader = this.reader;
    const numTrain = reader.integer('num_train_timesteps');
    const originalSteps = reader.integer('original_inference_steps');
    // LCM can only pick timesteps from its distillation grid.
    const gridSize = Math.trunc(originalSteps * this.strength);
    validateInferenceSteps(numInferenceSteps, Math.min(gridSize, numTrain));
    const k = Math.floor(numTrain / originalSteps);
    const origin: number[] = [];
    for (let i = gridSize; i >= 1; i--) origin.push(i * k - 1);
    const indices = numpyLinspace(0, origin.length, numInferenceSteps, false);
    this.timestepSchedule = Array.from(indices, (index) => origin[Math.floor(index)]!);
    this.numInferenceSteps = numInferenceSteps;
    this.stepIndexValue = undefined;
    this.beginIndexValue = undefined;
  }

  setBeginIndex(beginIndex: number): void {
    validateBeginIndex(beginIndex);
    this.beginIndexValue = beginIndex;
  }

  scaleModelInput(sample: Float32Array, _timestep: number, out?: Float32Array): Float32Array {
    return unscaledModelInput(sample, out);
  }

  /** `get_scalings_for_boundary_condition_discrete`: `[c_skip, c_out]` in float32 for a timestep. */
  boundaryScalings(timestep: number): [cSkip: number, cOut: number] {
    const sigmaDataSquared = 0.25;
    const scaled = f(f(timestep) * f(this.reader.number('timestep_scaling')));
    const denominator = f(f(scaled * scaled) + sigmaDataSquared);
    return [f(f(1 / denominator) * sigmaDataSquared), f(scaled / f(Math.sqrt(denominator)))];
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, context: StepContext): SchedulerStepOutput {
    if (this.numInferenceSteps === undefined) throw new Error(`${this.className}: call setTimesteps() before step()`);
    assertStepShapes(modelOutput, sample, context);
    const reader = this.reader;
    if (this.stepIndexValue === undefined)
      this.stepIndexValue = this.beginIndexValue ?? indexForTimestep(this.timestepSchedule, timestep, this.className);
    const index = this.stepIndexValue;
    const prevTimestep = index + 1 < this.timestepSchedule.length ? this.timestepSchedule[index + 1]! : timestep;
    const alphaProdT = this.alphasCumprod[timestep];
    if (alphaProdT === undefined) throw new RangeError(`${this.className}: timestep ${timestep} is outside the training schedule`);
    const alphaProdTPrev = prevTimestep >= 0 ? this.alphasCumprod[prevTimestep]! : this.finalAlphaCumprod;
    const sqrtAlphaProdT = f(Math.sqrt(alphaProdT));
    const sqrtBetaProdT = f(Math.sqrt(f(1 - alphaProdT)));
    const [cSkip, cOut] = this.boundaryScalings(timestep);
    const n = sample.length;

    const predicted = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const m = modelOutput[i]!;
      if (this.predictionType === 'epsilon') predicted[i] = f(f(sample[i]! - f(sqrtBetaProdT * m)) / sqrtAlphaProdT);
      else if (this.predictionType === 'sample') predicted[i] = m;
      else predicted[i] = f(f(sqrtAlphaProdT * sample[i]!) - f(sqrtBetaProdT * m));
    }
    if (reader.boolean('thresholding')) {
      thresholdSampleInPlace(
        predicted,
        context.shape[0] ?? 1,
        reader.number('dynamic_thresholding_ratio'),
        reader.number('sample_max_value'),
      );
    } else if (reader.boolean('clip_sample')) {
      clampInPlace(predicted, reader.number('clip_sample_range'));
    }

    const denoised = new Float32Array(n);
    for (let i = 0; i < n; i++) denoised[i] = f(f(cOut * predicted[i]!) + f(cSkip * sample[i]!));

    // The last step returns the denoised sample itself (as a copy in the caller's buffer).
    const prevSample = prevSampleBuffer(context, n, sample, modelOutput);
    if (index !== this.numInferenceSteps - 1) {
      const noise = drawNoise(context, this.className, n);
      const sqrtAlphaPrev = f(Math.sqrt(alphaProdTPrev));
      const sqrtBetaPrev = f(Math.sqrt(f(1 - alphaProdTPrev)));
      for (let i = 0; i < n; i++) prevSample[i] = f(f(sqrtAlphaPrev * denoised[i]!) + f(sqrtBetaPrev * noise[i]!));
    } else {
      prevSample.set(denoised);
    }
    this.stepIndexValue = index + 1;
    return { prevSample, predOriginalSample: denoised };
  }

  addNoise(originalSamples: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    return addNoiseVariancePreserving(this.alphasCumprod, originalSamples, noise, timestep);
  }
}
