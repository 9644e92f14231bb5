import { resolveSchedulerConfig, SchedulerConfigReader, type SchedulerDefaults } from './config.js';
import { betaScheduleNames, noiseScheduleFromConfig } from './noise-schedule.js';
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
import { validateInferenceSteps } from './step-count.js';
import { spacedTimesteps, timestepSpacings } from './timestep-spacing.js';

const f = Math.fround;

/** `DDPMScheduler.__init__` defaults (diffusers 0.35.2). */
export const ddpmDefaults: SchedulerDefaults = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  variance_type: 'fixed_small',
  clip_sample: true,
  prediction_type: 'epsilon',
  thresholding: false,
  dynamic_thresholding_ratio: 0.995,
  clip_sample_range: 1.0,
  sample_max_value: 1.0,
  timestep_spacing: 'leading',
  steps_offset: 0,
  rescale_betas_zero_snr: false,
};

const varianceTypes = ['fixed_small', 'fixed_small_log', 'fixed_large', 'fixed_large_log', 'learned', 'learned_range'] as const;
type VarianceType = (typeof varianceTypes)[number];

/**
 * Port of diffusers' `DDPMScheduler` (Ho et al. 2020, formulas 6, 7 and 15): ancestral sampling that draws
 * noise on every step with t > 0. A model output with twice the sample's channels carries the predicted
 * variance for `variance_type` learned / learned_range.
 */
export class DDPMScheduler implements Scheduler {
  readonly className = 'DDPMScheduler';
  readonly order = 1;
  readonly initNoiseSigma = 1;
  readonly timestepDtype = 'int64' as const;
  readonly supportsBeginIndex = false;
  readonly config: SchedulerConfig;
  /** `alphas_cumprod`, float32. */
  readonly alphasCumprod: Float32Array;

  private readonly reader: SchedulerConfigReader;
  private readonly predictionType: 'epsilon' | 'sample' | 'v_prediction';
  private readonly varianceType: VarianceType;
  private timestepSchedule: number[];
  private numInferenceSteps: number | undefined;

  constructor(config: SchedulerConfig = {}) {
    this.config = resolveSchedulerConfig(this.className, ddpmDefaults, config);
    const reader = new SchedulerConfigReader(this.className, this.config);
    this.reader = reader;
    this.predictionType = reader.string('prediction_type', ['epsilon', 'sample', 'v_prediction']);
    this.varianceType = reader.string('variance_type', varianceTypes);
    reader.string('timestep_spacing', timestepSpacings);
    reader.integer('steps_offset');
    reader.boolean('clip_sample');
    reader.boolean('thresholding');
    reader.number('clip_sample_range');
    reader.number('dynamic_thresholding_ratio');
    reader.number('sample_max_value');
    const schedule = noiseScheduleFromConfig(reader, { supportsZeroSnr: true, allowedBetaSchedules: betaScheduleNames });
    this.alphasCumprod = schedule.alphasCumprod;
    const numTrain = this.alphasCumprod.length;
    this.timestepSchedule = Array.from({ length: numTrain }, (_, i) => numTrain - 1 - i);
  }

  get timesteps(): readonly number[] {
    return this.timestepSchedule;
  }

  setTimesteps(numInferenceSteps: number): void {
    const numTrain = this.reader.integer('num_train_timesteps');
    validateInferenceSteps(numInferenceSteps, numTrain);
    this.numInferenceSteps = numInferenceSteps;
    this.timestepSchedule = spacedTimesteps(
      this.reader.string('timestep_spacing', timestepSpacings),
      numTrain,
      numInferenceSteps,
      this.reader.integer('steps_offset'),
      'round',
    );
  }

  setBeginIndex(): void {
    throw new Error(`${this.className} has no set_begin_index`);
  }

  scaleModelInput(sample: Float32Array, _timestep: number, out?: Float32Array): Float32Array {
    return unscaledModelInput(sample, out);
  }

  /** `previous_timestep`: the next entry of the schedule, or −1 after the last one. */
  previousTimestep(timestep: number): number {
    if (this.numInferenceSteps === undefined) return timestep - 1;
    const index = this.timestepSchedule.indexOf(timestep);
    if (index < 0) throw new RangeError(`${this.className}: timestep ${timestep} is not in the current schedule`);
    return index === this.timestepSchedule.length - 1 ? -1 : this.timestepSchedule[index + 1]!;
  }

  step(modelOutputWithVariance: Float32Array, timestep: number, sample: Float32Array, context: StepContext): SchedulerStepOutput {
    const reader = this.reader;
    const n = sample.length;
    let modelOutput = modelOutputWithVariance;
    let predictedVariance: Float32Array | undefined;
    if (modelOutputWithVariance.length === 2 * n && (this.varianceType === 'learned' || this.varianceType === 'learned_range')) {
      [modelOutput, predictedVariance] = splitChannels(modelOutputWithVariance, context.shape);
    }
    assertStepShapes(modelOutput, sample, context);
    const prevT = this.previousTimestep(timestep);
    const alphaProdT = this.alphasCumprod[timestep];
    if (alphaProdT === undefined) throw new RangeError(`${this.className}: timestep ${timestep} is outside the training schedule`);
    const alphaProdTPrev = prevT >= 0 ? this.alphasCumprod[prevT]! : 1;
    const betaProdT = f(1 - alphaProdT);
    const betaProdTPrev = f(1 - alphaProdTPrev);
    const currentAlphaT = f(alphaProdT / alphaProdTPrev);
    const currentBetaT = f(1 - currentAlphaT);
    const sqrtAlphaProdT = f(Math.sqrt(alphaProdT));
    const sqrtBetaProdT = f(Math.sqrt(betaProdT));

    const predOriginalSample = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const m = modelOutput[i]!;
      if (this.predictionType === 'epsilon') predOriginalSample[i] = f(f(sample[i]! - f(sqrtBetaProdT * m)) / sqrtAlphaProdT);
      else if (this.predictionType === 'sample') predOriginalSample[i] = m;
      else predOriginalSample[i] = f(f(sqrtAlphaProdT * sample[i]!) - f(sqrtBetaProdT * m));
    }
    if (reader.boolean('thresholding')) {
      thresholdSampleInPlace(
        predOriginalSample,
        context.shape[0] ?? 1,
        reader.number('dynamic_thresholding_ratio'),
        reader.number('sample_max_value'),
      );
    } else if (reader.boolean('clip_sample')) {
      clampInPlace(predOriginalSample, reader.number('clip_sample_range'));
    }

    const originalCoeff = f(f(f(Math.sqrt(alphaProdTPrev)) * currentBetaT) / betaProdT);
    const currentCoeff = f(f(f(Math.sqrt(currentAlphaT)) * betaProdTPrev) / betaProdT);
    const prevSample = prevSampleBuffer(context, n, sample, modelOutputWithVariance);
    for (let i = 0; i < n; i++) prevSample[i] = f(f(originalCoeff * predOriginalSample[i]!) + f(currentCoeff * sample[i]!));

    if (timestep > 0) {
      const noise = drawNoise(context, this.className, n);
      // variance = (1 − ᾱ_prev) / (1 − ᾱ_t) · β_t, clamped away from 0 because some types take its log.
      const variance = Math.max(f(f(f(1 - alphaProdTPrev) / f(1 - alphaProdT)) * currentBetaT), f(1e-20));
      for (let i = 0; i < n; i++) {
        let scale: number;
        switch (this.varianceType) {
          case 'fixed_small':
            scale = f(Math.sqrt(variance));
            break;
          case 'fixed_small_log':
            scale = f(Math.exp(f(0.5 * f(Math.log(variance)))));
            break;
          case 'fixed_large':
            scale = f(Math.sqrt(currentBetaT));
            break;
          case 'fixed_large_log':
            scale = f(Math.sqrt(f(Math.log(currentBetaT))));
            break;
          case 'learned':
            scale = f(Math.sqrt(predictedVariance![i]!));
            break;
          case 'learned_range': {
            const frac = f(f(predictedVariance![i]! + 1) / 2);
            const logVariance = f(f(frac * f(Math.log(currentBetaT))) + f(f(1 - frac) * f(Math.log(variance))));
            scale = f(Math.exp(f(0.5 * logVariance)));
            break;
          }
        }
        prevSample[i] = f(prevSample[i]! + f(scale * noise[i]!));
      }
    }
    return { prevSample, predOriginalSample };
  }

  addNoise(originalSamples: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    return addNoiseVariancePreserving(this.alphasCumprod, originalSamples, noise, timestep);
  }
}

/** `torch.split(model_output, C, dim=1)` for an NCHW output with 2C channels. */
function splitChannels(values: Float32Array, shape: readonly number[]): [Float32Array, Float32Array] {
  const [batch = 1] = shape;
  const half = values.length / (2 * batch);
  const first = new Float32Array(values.length / 2);
  const second = new Float32Array(values.length / 2);
  for (let b = 0; b < batch; b++) {
    first.set(values.subarray(2 * b * half, (2 * b + 1) * half), b * half);
    second.set(values.subarray((2 * b + 1) * half, (2 * b + 2) * half), b * half);
  }
  return [first, second];
}
