import { UserError } from '../errors.js';
import { resolveSchedulerConfig, SchedulerConfigReader, type SchedulerDefaults } from './config.js';
import { noiseScheduleFromConfig, trainingSigmas } from './noise-schedule.js';
import { interpOnIntegerGrid } from './numpy-compat.js';
import { assertStepShapes, drawNoise, prevSampleBuffer } from './sample-ops.js';
import { scaleBySigma, sigmaInitNoiseSigma } from './sigma-schedules.js';
import type { Scheduler, SchedulerConfig, SchedulerStepOutput, StepContext } from './scheduler.js';
import { validateBeginIndex, validateInferenceSteps } from './step-count.js';
import { addNoiseIndex, indexForTimestep } from './timestep-index.js';
import { spacedTimesteps, timestepSpacings } from './timestep-spacing.js';

const f = Math.fround;

/** `EulerAncestralDiscreteScheduler.__init__` defaults (diffusers 0.35.2). */
export const eulerAncestralDiscreteDefaults: SchedulerDefaults = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  prediction_type: 'epsilon',
  timestep_spacing: 'linspace',
  steps_offset: 0,
  rescale_betas_zero_snr: false,
};

/**
 * Port of diffusers' `EulerAncestralDiscreteScheduler` (k-diffusion's `sample_euler_ancestral`): an Euler
 * step down to `sigma_down` followed by fresh noise of size `sigma_up`, drawn on every step.
 */
export class EulerAncestralDiscreteScheduler implements Scheduler {
  readonly className = 'EulerAncestralDiscreteScheduler';
  readonly order = 1;
  readonly timestepDtype = 'float32' as const;
  readonly supportsBeginIndex = true;
  readonly config: SchedulerConfig;
  /** `alphas_cumprod`, float32. */
  readonly alphasCumprod: Float32Array;

  private readonly reader: SchedulerConfigReader;
  private readonly predictionType: 'epsilon' | 'v_prediction';
  private readonly trainSigmas: Float32Array;
  private sigmaSchedule: Float32Array;
  private timestepSchedule: number[];
  private numInferenceSteps: number | undefined;
  private stepIndexValue: number | undefined;
  private beginIndexValue: number | undefined;

  constructor(config: SchedulerConfig = {}) {
    this.config = resolveSchedulerConfig(this.className, eulerAncestralDiscreteDefaults, config);
    const reader = new SchedulerConfigReader(this.className, this.config);
    this.reader = reader;
    const predictionType = reader.string('prediction_type', ['epsilon', 'v_prediction', 'sample']);
    if (predictionType === 'sample') {
      throw new UserError(
        'scheduler.config',
        `${this.className} does not implement \`prediction_type\` "sample" (diffusers raises NotImplementedError)`,
      );
    }
    this.predictionType = predictionType;
    reader.string('timestep_spacing', timestepSpacings);
    reader.integer('steps_offset');
    const schedule = noiseScheduleFromConfig(reader, { supportsZeroSnr: true, zeroSnrFloorsLastAlphaCumprod: true });
    this.alphasCumprod = schedule.alphasCumprod;
    this.trainSigmas = trainingSigmas(schedule.alphasCumprod);
    const numTrain = this.alphasCumprod.length;
    this.sigmaSchedule = new Float32Array(numTrain + 1);
    for (let i = 0; i < numTrain; i++) this.sigmaSchedule[i] = this.trainSigmas[numTrain - 1 - i]!;
    this.timestepSchedule = Array.from({ length: numTrain }, (_, i) => numTrain - 1 - i);
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
    const timesteps = spacedTimesteps(
      reader.string('timestep_spacing', timestepSpacings),
      numTrain,
      numInferenceSteps,
      reader.integer('steps_offset'),
      'float32',
    );
    const schedule = new Float32Array(timesteps.length + 1);
    timesteps.forEach((t, i) => {
      schedule[i] = interpOnIntegerGrid(t, this.trainSigmas);
    });
    this.sigmaSchedule = schedule;
    this.timestepSchedule = timesteps.map((t) => f(t));
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
    const sigmaTo = this.sigmaSchedule[index + 1]!;
    const n = sample.length;

    const predOriginalSample = new Float32Array(n);
    if (this.predictionType === 'epsilon') {
      for (let i = 0; i < n; i++) predOriginalSample[i] = f(sample[i]! - f(sigma * modelOutput[i]!));
    } else {
      const sigmaSquaredPlusOne = f(f(sigma * sigma) + 1);
      const cOut = f(-sigma / f(Math.sqrt(sigmaSquaredPlusOne)));
      for (let i = 0; i < n; i++) predOriginalSample[i] = f(f(modelOutput[i]! * cOut) + f(sample[i]! / sigmaSquaredPlusOne));
    }

    const fromSquared = f(sigma * sigma);
    const toSquared = f(sigmaTo * sigmaTo);
    const sigmaUp = f(Math.sqrt(f(f(toSquared * f(fromSquared - toSquared)) / fromSquared)));
    const sigmaDown = f(Math.sqrt(f(toSquared - f(sigmaUp * sigmaUp))));
    const dt = f(sigmaDown - sigma);
    const noise = drawNoise(context, this.className, n);
    const prevSample = prevSampleBuffer(context, n, sample, modelOutput);
    for (let i = 0; i < n; i++) {
      const derivative = f(f(sample[i]! - predOriginalSample[i]!) / sigma);
      const euler = f(sample[i]! + f(derivative * dt));
      prevSample[i] = f(euler + f(noise[i]! * sigmaUp));
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
}
