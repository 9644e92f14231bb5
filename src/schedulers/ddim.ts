import { resolveSchedulerConfig, SchedulerConfigReader, type SchedulerDefaults } from './config.js';
import { noiseScheduleFromConfig } from './noise-schedule.js';
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

/** `DDIMScheduler.__init__` defaults (diffusers 0.35.2). */
export const ddimDefaults: SchedulerDefaults = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  clip_sample: true,
  set_alpha_to_one: true,
  steps_offset: 0,
  prediction_type: 'epsilon',
  thresholding: false,
  dynamic_thresholding_ratio: 0.995,
  clip_sample_range: 1.0,
  sample_max_value: 1.0,
  timestep_spacing: 'leading',
  rescale_betas_zero_snr: false,
};

/**
 * Port of diffusers' `DDIMScheduler` (Song et al. 2020, formulas 12 and 16). Deterministic with the
 * default `eta` 0; `eta > 0` adds `eta·σ_t` noise drawn from the step's generator.
 */
export class DDIMScheduler implements Scheduler {
  readonly className = 'DDIMScheduler';
  readonly order = 1;
  readonly initNoiseSigma = 1;
  readonly timestepDtype = 'int64' as const;
  readonly supportsBeginIndex = false;
  readonly config: SchedulerConfig;
  /** `alphas_cumprod`, float32. */
  readonly alphasCumprod: Float32Array;

  /** The `eta` argument of diffusers' `step` (0 = DDIM, 1 = DDPM-like). */
  eta = 0;
  /** The `use_clipped_model_output` argument of diffusers' `step`. */
  useClippedModelOutput = false;

  private readonly reader: SchedulerConfigReader;
  private readonly predictionType: 'epsilon' | 'sample' | 'v_prediction';
  private readonly finalAlphaCumprod: number;
  private timestepSchedule: number[];
  private numInferenceSteps: number | undefined;

  constructor(config: SchedulerConfig = {}) {
    this.config = resolveSchedulerConfig(this.className, ddimDefaults, config);
    const reader = new SchedulerConfigReader(this.className, this.config);
    this.reader = reader;
    this.predictionType = reader.string('prediction_type', ['epsilon', 'sample', 'v_prediction']);
    reader.string('timestep_spacing', timestepSpacings);
    reader.integer('steps_offset');
    reader.boolean('clip_sample');
    reader.boolean('thresholding');
    reader.number('clip_sample_range');
    reader.number('dynamic_thresholding_ratio');
    reader.number('sample_max_value');
    const schedule = noiseScheduleFromConfig(reader, { supportsZeroSnr: true });
    this.alphasCumprod = schedule.alphasCumprod;
    this.finalAlphaCumprod = reader.boolean('set_alpha_to_one') ? 1 : this.alphasCumprod[0]!;
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

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, context: StepContext): SchedulerStepOutput {
    if (this.numInferenceSteps === undefined) throw new Error(`${this.className}: call setTimesteps() before step()`);
    assertStepShapes(modelOutput, sample, context);
    const reader = this.reader;
    const n = sample.length;
    const prevTimestep = timestep - Math.floor(reader.integer('num_train_timesteps') / this.numInferenceSteps);
    const alphaProdT = this.alphasCumprod[timestep];
    if (alphaProdT === undefined) throw new RangeError(`${this.className}: timestep ${timestep} is outside the training schedule`);
    const alphaProdTPrev = prevTimestep >= 0 ? this.alphasCumprod[prevTimestep]! : this.finalAlphaCumprod;
    const betaProdT = f(1 - alphaProdT);
    const sqrtAlphaProdT = f(Math.sqrt(alphaProdT));
    const sqrtBetaProdT = f(Math.sqrt(betaProdT));

    const predOriginalSample = new Float32Array(n);
    let predEpsilon = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const x = sample[i]!;
      const m = modelOutput[i]!;
      if (this.predictionType === 'epsilon') {
        predOriginalSample[i] = f(f(x - f(sqrtBetaProdT * m)) / sqrtAlphaProdT);
        predEpsilon[i] = m;
      } else if (this.predictionType === 'sample') {
        predOriginalSample[i] = m;
        predEpsilon[i] = f(f(x - f(sqrtAlphaProdT * m)) / sqrtBetaProdT);
      } else {
        predOriginalSample[i] = f(f(sqrtAlphaProdT * x) - f(sqrtBetaProdT * m));
        predEpsilon[i] = f(f(sqrtAlphaProdT * m) + f(sqrtBetaProdT * x));
      }
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

    const betaProdTPrev = f(1 - alphaProdTPrev);
    const variance = f(f(betaProdTPrev / betaProdT) * f(1 - f(alphaProdT / alphaProdTPrev)));
    const stdDevT = f(f(this.eta) * f(Math.sqrt(variance)));

    if (this.useClippedModelOutput) {
      predEpsilon = new Float32Array(n);
      for (let i = 0; i < n; i++) predEpsilon[i] = f(f(sample[i]! - f(sqrtAlphaProdT * predOriginalSample[i]!)) / sqrtBetaProdT);
    }

    const directionCoeff = f(Math.sqrt(f(f(1 - alphaProdTPrev) - f(stdDevT * stdDevT))));
    const sqrtAlphaProdTPrev = f(Math.sqrt(alphaProdTPrev));
    const prevSample = prevSampleBuffer(context, n, sample, modelOutput);
    for (let i = 0; i < n; i++) prevSample[i] = f(f(sqrtAlphaProdTPrev * predOriginalSample[i]!) + f(directionCoeff * predEpsilon[i]!));

    if (this.eta > 0) {
      const noise = drawNoise(context, this.className, n);
      for (let i = 0; i < n; i++) prevSample[i] = f(prevSample[i]! + f(stdDevT * noise[i]!));
    }
    return { prevSample, predOriginalSample };
  }

  addNoise(originalSamples: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    return addNoiseVariancePreserving(this.alphasCumprod, originalSamples, noise, timestep);
  }
}
