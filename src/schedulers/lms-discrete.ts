import { resolveSchedulerConfig, SchedulerConfigReader, type SchedulerDefaults } from './config.js';
import { noiseScheduleFromConfig, trainingSigmas } from './noise-schedule.js';
import { interpOnIntegerGrid } from './numpy-compat.js';
import { integrate } from './quadrature.js';
import { assertStepShapes, prevSampleBuffer } from './sample-ops.js';
import type { Scheduler, SchedulerConfig, SchedulerStepOutput, StepContext } from './scheduler.js';
import { betaSigmas, exponentialSigmas, karrasSigmas, logFloat32, scaleBySigma, sigmaInitNoiseSigma, sigmaToT } from './sigma-schedules.js';
import { validateBeginIndex, validateInferenceSteps } from './step-count.js';
import { addNoiseIndex, indexForTimestep } from './timestep-index.js';
import { spacedTimesteps, timestepSpacings } from './timestep-spacing.js';

const f = Math.fround;

/** `LMSDiscreteScheduler.__init__` defaults (diffusers 0.35.2). */
export const lmsDiscreteDefaults: SchedulerDefaults = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  prediction_type: 'epsilon',
  timestep_spacing: 'linspace',
  steps_offset: 0,
};

/**
 * Port of diffusers' `LMSDiscreteScheduler` (k-diffusion's `sample_lms`): a linear multistep method of up
 * to `lmsOrder` (4) previous derivatives whose coefficients are integrals of Lagrange basis polynomials over
 * each sigma interval (diffusers integrates with `scipy.integrate.quad`; here adaptive Gauss–Kronrod).
 */
export class LMSDiscreteScheduler implements Scheduler {
  readonly className = 'LMSDiscreteScheduler';
  readonly order = 1;
  readonly timestepDtype = 'float32' as const;
  readonly supportsBeginIndex = true;
  readonly config: SchedulerConfig;
  /** `alphas_cumprod`, float32. */
  readonly alphasCumprod: Float32Array;

  /** The `order` argument of diffusers' `step` (number of past derivatives used). */
  lmsOrder = 4;
  /** The coefficients used by the most recent `step` (newest derivative first), for inspection. */
  lastCoefficients: readonly number[] = [];

  private readonly reader: SchedulerConfigReader;
  private readonly predictionType: 'epsilon' | 'v_prediction' | 'sample';
  private readonly trainSigmas: Float32Array;
  private readonly logTrainSigmas: Float32Array;
  private sigmaSchedule: Float32Array = new Float32Array(0);
  private timestepSchedule: number[] = [];
  private numInferenceSteps: number | undefined;
  private derivatives: Float32Array[] = [];
  private stepIndexValue: number | undefined;
  private beginIndexValue: number | undefined;

  constructor(config: SchedulerConfig = {}) {
    this.config = resolveSchedulerConfig(this.className, lmsDiscreteDefaults, config);
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
    this.predictionType = reader.string('prediction_type', ['epsilon', 'v_prediction', 'sample']);
    reader.string('timestep_spacing', timestepSpacings);
    reader.integer('steps_offset');
    const schedule = noiseScheduleFromConfig(reader);
    this.alphasCumprod = schedule.alphasCumprod;
    this.trainSigmas = trainingSigmas(schedule.alphasCumprod);
    this.logTrainSigmas = logFloat32(this.trainSigmas);
    // diffusers' constructor ends with set_timesteps(num_train_timesteps).
    this.setTimesteps(this.alphasCumprod.length);
    this.numInferenceSteps = undefined;
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

  setTimesteps(numInferenceSteps: number): void {
    const reader = this.reader;
    const numTrain = reader.integer('num_train_timesteps');
    validateInferenceSteps(numInferenceSteps, numTrain);
    this.numInferenceSteps = numInferenceSteps;
    let timesteps = spacedTimesteps(
      reader.string('timestep_spacing', timestepSpacings),
      numTrain,
      numInferenceSteps,
      reader.integer('steps_offset'),
      'float32',
    );
    let sigmas: ArrayLike<number> = timesteps.map((t) => interpOnIntegerGrid(t, this.trainSigmas));
    const sigmaMin = sigmas[sigmas.length - 1]!;
    const sigmaMax = sigmas[0]!;
    let converted: Float64Array | undefined;
    if (reader.boolean('use_karras_sigmas')) converted = karrasSigmas(sigmaMin, sigmaMax, numInferenceSteps);
    else if (reader.boolean('use_exponential_sigmas')) converted = exponentialSigmas(sigmaMin, sigmaMax, numInferenceSteps);
    else if (reader.boolean('use_beta_sigmas')) converted = betaSigmas(sigmaMin, sigmaMax, numInferenceSteps);
    if (converted !== undefined) {
      sigmas = converted;
      timesteps = Array.from(converted, (sigma) => sigmaToT(sigma, this.logTrainSigmas));
    }
    const schedule = new Float32Array(sigmas.length + 1);
    schedule.set(Float32Array.from(sigmas));
    this.sigmaSchedule = schedule;
    this.timestepSchedule = timesteps.map((t) => f(t));
    this.stepIndexValue = undefined;
    this.beginIndexValue = undefined;
    this.derivatives = [];
  }

  setBeginIndex(beginIndex: number): void {
    validateBeginIndex(beginIndex);
    this.beginIndexValue = beginIndex;
  }

  scaleModelInput(sample: Float32Array, timestep: number, out?: Float32Array): Float32Array {
    if (this.stepIndexValue === undefined) this.initStepIndex(timestep);
    return scaleBySigma(sample, this.sigmaSchedule[this.stepIndexValue!]!, out);
  }

  /**
   * `get_lms_coefficient(order, t, current_order)`: ∫ over [σ_t, σ_{t+1}] of the Lagrange basis polynomial
   * that is 1 at σ_{t−current_order} and 0 at the other `order − 1` past sigmas.
   */
  lmsCoefficient(order: number, t: number, currentOrder: number): number {
    const sigmas = this.sigmaSchedule;
    const basis = (tau: number): number => {
      let product = 1;
      for (let k = 0; k < order; k++) {
        if (k === currentOrder) continue;
        product *= (tau - sigmas[t - k]!) / (sigmas[t - currentOrder]! - sigmas[t - k]!);
      }
      return product;
    };
    return integrate(basis, sigmas[t]!, sigmas[t + 1]!).value;
  }

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, context: StepContext): SchedulerStepOutput {
    if (this.numInferenceSteps === undefined) throw new Error(`${this.className}: call setTimesteps() before step()`);
    assertStepShapes(modelOutput, sample, context);
    if (this.stepIndexValue === undefined) this.initStepIndex(timestep);
    const index = this.stepIndexValue!;
    const sigma = this.sigmaSchedule[index]!;
    const n = sample.length;

    const predOriginalSample = new Float32Array(n);
    if (this.predictionType === 'epsilon') {
      for (let i = 0; i < n; i++) predOriginalSample[i] = f(sample[i]! - f(sigma * modelOutput[i]!));
    } else if (this.predictionType === 'v_prediction') {
      const sigmaSquaredPlusOne = f(f(sigma * sigma) + 1);
      const cOut = f(-sigma / f(Math.sqrt(sigmaSquaredPlusOne)));
      for (let i = 0; i < n; i++) predOriginalSample[i] = f(f(modelOutput[i]! * cOut) + f(sample[i]! / sigmaSquaredPlusOne));
    } else {
      predOriginalSample.set(modelOutput);
    }

    const derivative = new Float32Array(n);
    for (let i = 0; i < n; i++) derivative[i] = f(f(sample[i]! - predOriginalSample[i]!) / sigma);
    this.derivatives.push(derivative);
    if (this.derivatives.length > this.lmsOrder) this.derivatives.shift();

    const order = Math.min(index + 1, this.lmsOrder);
    const coefficients: number[] = [];
    for (let k = 0; k < order; k++) coefficients.push(this.lmsCoefficient(order, index, k));
    this.lastCoefficients = coefficients;

    // sample + sum(coeff·derivative), newest derivative with the first coefficient, summed in float32.
    // Like Python's zip, the sum stops at the shorter list (a run started mid-schedule has fewer derivatives).
    const sum = new Float32Array(n);
    const terms = Math.min(coefficients.length, this.derivatives.length);
    for (let k = 0; k < terms; k++) {
      const c = f(coefficients[k]!);
      const d = this.derivatives[this.derivatives.length - 1 - k]!;
      for (let i = 0; i < n; i++) sum[i] = f(sum[i]! + f(c * d[i]!));
    }
    const prevSample = prevSampleBuffer(context, n, sample, modelOutput);
    for (let i = 0; i < n; i++) prevSample[i] = f(sample[i]! + sum[i]!);
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
}
