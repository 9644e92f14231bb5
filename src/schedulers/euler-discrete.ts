import { resolveSchedulerConfig, SchedulerConfigReader, type SchedulerDefaults } from './config.js';
import { noiseScheduleFromConfig, torchLinspaceFloat32, trainingSigmas } from './noise-schedule.js';
import { interpOnIntegerGrid } from './numpy-compat.js';
import { assertStepShapes, drawNoise, prevSampleBuffer } from './sample-ops.js';
import type { Scheduler, SchedulerConfig, SchedulerStepOutput, StepContext } from './scheduler.js';
import { betaSigmas, exponentialSigmas, karrasSigmas, logFloat32, scaleBySigma, sigmaInitNoiseSigma, sigmaToT } from './sigma-schedules.js';
import { validateBeginIndex, validateInferenceSteps } from './step-count.js';
import { addNoiseIndex, indexForTimestep } from './timestep-index.js';
import { spacedTimesteps, timestepSpacings } from './timestep-spacing.js';

const f = Math.fround;

/** `EulerDiscreteScheduler.__init__` defaults (diffusers 0.35.2). */
export const eulerDiscreteDefaults: SchedulerDefaults = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  prediction_type: 'epsilon',
  interpolation_type: 'linear',
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  sigma_min: null,
  sigma_max: null,
  timestep_spacing: 'linspace',
  timestep_type: 'discrete',
  steps_offset: 0,
  rescale_betas_zero_snr: false,
  final_sigmas_type: 'zero',
};

type PredictionType = 'epsilon' | 'v_prediction' | 'sample' | 'original_sample';

/**
 * Port of diffusers' `EulerDiscreteScheduler` (Karras et al. 2022, Algorithm 2; k-diffusion's `sample_euler`),
 * including `s_churn` stochasticity, karras / exponential / beta sigmas, `log_linear` interpolation,
 * `final_sigmas_type` and continuous v-prediction timesteps.
 */
export class EulerDiscreteScheduler implements Scheduler {
  readonly className = 'EulerDiscreteScheduler';
  readonly order = 1;
  readonly timestepDtype = 'float32' as const;
  readonly supportsBeginIndex = true;
  readonly config: SchedulerConfig;
  /** `alphas_cumprod`, float32. */
  readonly alphasCumprod: Float32Array;

  /** Churn amount of the stochastic variant (`s_churn` argument of `step`); 0 keeps the sampler deterministic. */
  sChurn = 0;
  /** Lowest sigma that receives churn (`s_tmin`). */
  sTmin = 0;
  /** Highest sigma that receives churn (`s_tmax`). */
  sTmax = Number.POSITIVE_INFINITY;
  /** Scale of the churn noise (`s_noise`). */
  sNoise = 1;

  private readonly reader: SchedulerConfigReader;
  private readonly predictionType: PredictionType;
  private readonly continuousTimesteps: boolean;
  private readonly trainSigmas: Float32Array;
  private readonly logTrainSigmas: Float32Array;
  private sigmaSchedule: Float32Array;
  private timestepSchedule: number[];
  private numInferenceSteps: number | undefined;
  private stepIndexValue: number | undefined;
  private beginIndexValue: number | undefined;

  constructor(config: SchedulerConfig = {}) {
    this.config = resolveSchedulerConfig(this.className, eulerDiscreteDefaults, config);
    const reader = new SchedulerConfigReader(this.className, this.config);
    this.reader = reader;
    if (
      [reader.boolean('use_beta_sigmas'), reader.boolean('use_exponential_sigmas'), reader.boolean('use_karras_sigmas')].filter(Boolean)
        .length > 1
    ) {
      reader.fail(
        'use_karras_sigmas',
        'the only one of `use_karras_sigmas`, `use_exponential_sigmas` and `use_beta_sigmas` that is true',
        true,
      );
    }
    this.predictionType = reader.string<PredictionType>('prediction_type', ['epsilon', 'v_prediction', 'sample', 'original_sample']);
    reader.string('interpolation_type', ['linear', 'log_linear']);
    reader.string('timestep_spacing', timestepSpacings);
    reader.string('final_sigmas_type', ['zero', 'sigma_min']);
    this.continuousTimesteps =
      reader.string('timestep_type', ['discrete', 'continuous']) === 'continuous' && this.predictionType === 'v_prediction';
    reader.integer('steps_offset');
    reader.optionalNumber('sigma_min');
    reader.optionalNumber('sigma_max');
    const schedule = noiseScheduleFromConfig(reader, { supportsZeroSnr: true, zeroSnrFloorsLastAlphaCumprod: true });
    this.alphasCumprod = schedule.alphasCumprod;
    this.trainSigmas = trainingSigmas(schedule.alphasCumprod);
    this.logTrainSigmas = logFloat32(this.trainSigmas);

    const numTrain = this.alphasCumprod.length;
    this.sigmaSchedule = new Float32Array(numTrain + 1);
    for (let i = 0; i < numTrain; i++) this.sigmaSchedule[i] = this.trainSigmas[numTrain - 1 - i]!;
    this.timestepSchedule = this.continuousTimesteps
      ? this.continuousTimestepsFor(this.sigmaSchedule)
      : Array.from({ length: numTrain }, (_, i) => numTrain - 1 - i);
  }

  get initNoiseSigma(): number {
    return sigmaInitNoiseSigma(this.sigmaSchedule, this.reader.string('timestep_spacing'));
  }

  get timesteps(): readonly number[] {
    return this.timestepSchedule;
  }

  get sigmas(): readonly number[] {
    return Array.from(this.sigmaSchedule);
  }

  /** Index of the next step (`step_index`), undefined before the first `scaleModelInput`/`step`. */
  get stepIndex(): number | undefined {
    return this.stepIndexValue;
  }

  /** The index set by {@link setBeginIndex}, if any. */
  get beginIndex(): number | undefined {
    return this.beginIndexValue;
  }

  setTimesteps(numInferenceSteps: number): void {
    const reader = this.reader;
    const numTrain = reader.integer('num_train_timesteps');
    validateInferenceSteps(numInferenceSteps, numTrain);
    this.numInferenceSteps = numInferenceSteps;

    let timesteps: number[] = spacedTimesteps(
      reader.string('timestep_spacing', timestepSpacings),
      numTrain,
      numInferenceSteps,
      reader.integer('steps_offset'),
      'float32',
    );
    let sigmas: ArrayLike<number>;
    if (reader.string('interpolation_type') === 'linear') {
      sigmas = timesteps.map((t) => interpOnIntegerGrid(t, this.trainSigmas));
    } else {
      const logMax = this.logTrainSigmas[this.logTrainSigmas.length - 1]!;
      const logMin = this.logTrainSigmas[0]!;
      sigmas = torchLinspaceFloat32(logMax, logMin, numInferenceSteps + 1).map((value) => f(Math.exp(value)));
    }

    const sigmaMin = reader.optionalNumber('sigma_min') ?? sigmas[sigmas.length - 1]!;
    const sigmaMax = reader.optionalNumber('sigma_max') ?? sigmas[0]!;
    let converted: Float64Array | undefined;
    if (reader.boolean('use_karras_sigmas')) converted = karrasSigmas(sigmaMin, sigmaMax, numInferenceSteps);
    else if (reader.boolean('use_exponential_sigmas')) converted = exponentialSigmas(sigmaMin, sigmaMax, numInferenceSteps);
    else if (reader.boolean('use_beta_sigmas')) converted = betaSigmas(sigmaMin, sigmaMax, numInferenceSteps);
    if (converted !== undefined) {
      sigmas = converted;
      timesteps = Array.from(converted, (sigma) => sigmaToT(sigma, this.logTrainSigmas));
    }

    const sigmaLast = reader.string('final_sigmas_type') === 'sigma_min' ? this.trainSigmas[0]! : 0;
    const schedule = new Float32Array(sigmas.length + 1);
    schedule.set(Float32Array.from(sigmas));
    schedule[sigmas.length] = sigmaLast;
    this.sigmaSchedule = schedule;
    this.timestepSchedule = this.continuousTimesteps ? this.continuousTimestepsFor(schedule) : timesteps.map((t) => f(t));
    this.stepIndexValue = undefined;
    this.beginIndexValue = undefined;
  }

  setBeginIndex(beginIndex: number): void {
    validateBeginIndex(beginIndex);
    this.beginIndexValue = beginIndex;
  }

  scaleModelInput(sample: Float32Array, timestep: number, out?: Float32Array): Float32Array {
    if (this.stepIndexValue === undefined) this.initStepIndex(timestep);
    return scaleBySigma(sample, this.sigmaSchedule[this.stepIndexValue!]!, out);
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, context: StepContext): SchedulerStepOutput {
    if (this.numInferenceSteps === undefined) throw new Error(`${this.className}: call setTimesteps() before step()`);
    assertStepShapes(modelOutput, sample, context);
    if (this.stepIndexValue === undefined) this.initStepIndex(timestep);
    const index = this.stepIndexValue!;
    const sigma = this.sigmaSchedule[index]!;
    const sigmaNext = this.sigmaSchedule[index + 1]!;
    const n = sample.length;

    const gamma = this.sTmin <= sigma && sigma <= this.sTmax ? Math.min(this.sChurn / (this.sigmaSchedule.length - 1), 2 ** 0.5 - 1) : 0;
    const sigmaHat = f(sigma * f(gamma + 1));
    let x = sample;
    if (gamma > 0) {
      const noise = drawNoise(context, this.className, n);
      const sNoise = f(this.sNoise);
      const churn = f(Math.sqrt(f(f(sigmaHat * sigmaHat) - f(sigma * sigma))));
      x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = f(sample[i]! + f(f(noise[i]! * sNoise) * churn));
    }

    const predOriginalSample = new Float32Array(n);
    const prevSample = prevSampleBuffer(context, n, sample, modelOutput);
    const dt = f(sigmaNext - sigmaHat);
    if (this.predictionType === 'epsilon') {
      for (let i = 0; i < n; i++) predOriginalSample[i] = f(x[i]! - f(sigmaHat * modelOutput[i]!));
    } else if (this.predictionType === 'v_prediction') {
      const sigmaSquaredPlusOne = f(f(sigma * sigma) + 1);
      const cOut = f(-sigma / f(Math.sqrt(sigmaSquaredPlusOne)));
      for (let i = 0; i < n; i++) predOriginalSample[i] = f(f(modelOutput[i]! * cOut) + f(x[i]! / sigmaSquaredPlusOne));
    } else {
      predOriginalSample.set(modelOutput);
    }
    for (let i = 0; i < n; i++) {
      const derivative = f(f(x[i]! - predOriginalSample[i]!) / sigmaHat);
      prevSample[i] = f(x[i]! + f(derivative * dt));
    }
    this.stepIndexValue = index + 1;
    return { prevSample, predOriginalSample };
  }

  addNoise(originalSamples: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    const index = addNoiseIndex(this.beginIndexValue, this.stepIndexValue, () =>
      indexForTimestep(this.timestepSchedule, timestep, this.className),
    );
    const sigma = this.sigmaSchedule[index]!;
    const out = new Float32Array(originalSamples.length);
    for (let i = 0; i < out.length; i++) out[i] = f(originalSamples[i]! + f(noise[i]! * sigma));
    return out;
  }

  private initStepIndex(timestep: number): void {
    this.stepIndexValue = this.beginIndexValue ?? indexForTimestep(this.timestepSchedule, timestep, this.className);
  }

  private continuousTimestepsFor(sigmas: Float32Array): number[] {
    return Array.from(sigmas.subarray(0, sigmas.length - 1), (sigma) => f(f(0.25) * f(Math.log(sigma))));
  }
}
