import { resolveSchedulerConfig, SchedulerConfigReader, type SchedulerDefaults } from './config.js';
import { noiseScheduleFromConfig } from './noise-schedule.js';
import { numpyArange, numpyLinspace, roundHalfEven } from './numpy-compat.js';
import { addNoiseVariancePreserving, assertStepShapes, prevSampleBuffer, snapshot, unscaledModelInput } from './sample-ops.js';
import type { Scheduler, SchedulerConfig, SchedulerStepOutput, StepContext } from './scheduler.js';
import { validateInferenceSteps } from './step-count.js';
import { timestepSpacings } from './timestep-spacing.js';

const f = Math.fround;

/** `PNDMScheduler.__init__` defaults (diffusers 0.35.2). */
export const pndmDefaults: SchedulerDefaults = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  skip_prk_steps: false,
  set_alpha_to_one: false,
  prediction_type: 'epsilon',
  timestep_spacing: 'leading',
  steps_offset: 0,
};

/** Runge–Kutta stages of F-PNDM (`pndm_order`). */
const pndmOrder = 4;

/**
 * Port of diffusers' `PNDMScheduler` (Liu et al. 2022): pseudo Runge–Kutta warm-up steps followed by
 * pseudo linear multistep (PLMS) steps, or — with `skip_prk_steps`, as Stable Diffusion configures it —
 * PLMS only (crowsonkb's PLMS sampler, the "PLMS" of the original latent-diffusion code).
 */
export class PNDMScheduler implements Scheduler {
  readonly className = 'PNDMScheduler';
  readonly order = 1;
  readonly initNoiseSigma = 1;
  readonly timestepDtype = 'int64' as const;
  readonly supportsBeginIndex = false;
  readonly config: SchedulerConfig;
  /** `alphas_cumprod`, float32. */
  readonly alphasCumprod: Float32Array;

  private readonly reader: SchedulerConfigReader;
  private readonly predictionType: 'epsilon' | 'v_prediction';
  private readonly skipPrkSteps: boolean;
  private readonly finalAlphaCumprod: number;
  private prkTimesteps: number[] = [];
  private timestepSchedule: number[] = [];
  private numInferenceSteps: number | undefined;
  private ets: Float32Array[] = [];
  private counter = 0;
  private curModelOutput: Float32Array | undefined;
  private curSample: Float32Array | undefined;

  constructor(config: SchedulerConfig = {}) {
    this.config = resolveSchedulerConfig(this.className, pndmDefaults, config);
    const reader = new SchedulerConfigReader(this.className, this.config);
    this.reader = reader;
    this.predictionType = reader.string('prediction_type', ['epsilon', 'v_prediction']);
    this.skipPrkSteps = reader.boolean('skip_prk_steps');
    reader.string('timestep_spacing', timestepSpacings);
    reader.integer('steps_offset');
    const schedule = noiseScheduleFromConfig(reader);
    this.alphasCumprod = schedule.alphasCumprod;
    this.finalAlphaCumprod = reader.boolean('set_alpha_to_one') ? 1 : this.alphasCumprod[0]!;
  }

  get timesteps(): readonly number[] {
    return this.timestepSchedule;
  }

  setTimesteps(numInferenceSteps: number): void {
    const reader = this.reader;
    const numTrain = reader.integer('num_train_timesteps');
    validateInferenceSteps(numInferenceSteps, numTrain);
    this.numInferenceSteps = numInferenceSteps;

    // `_timesteps`, ascending.
    let ascending: number[];
    switch (reader.string('timestep_spacing', timestepSpacings)) {
      case 'linspace':
        ascending = Array.from(numpyLinspace(0, numTrain - 1, numInferenceSteps), roundHalfEven);
        break;
      case 'leading': {
        const ratio = Math.floor(numTrain / numInferenceSteps);
        const offset = reader.integer('steps_offset');
        ascending = Array.from({ length: numInferenceSteps }, (_, i) => i * ratio + offset);
        break;
      }
      case 'trailing':
        ascending = Array.from(numpyArange(numTrain, 0, -numTrain / numInferenceSteps), (value) => roundHalfEven(value) - 1).reverse();
        break;
    }

    let plms: number[];
    if (this.skipPrkSteps) {
      this.prkTimesteps = [];
      plms = [...ascending.slice(0, -1), ...ascending.slice(-2, -1), ...ascending.slice(-1)].reverse();
    } else {
      const half = Math.floor(Math.floor(numTrain / numInferenceSteps) / 2);
      const lastFour = ascending.slice(-pndmOrder);
      const withHalves = lastFour.flatMap((t) => [t, t + half]);
      const doubled = withHalves.slice(0, -1).flatMap((t) => [t, t]);
      this.prkTimesteps = doubled.slice(1, -1).reverse();
      plms = ascending.slice(0, -3).reverse();
    }
    this.timestepSchedule = [...this.prkTimesteps, ...plms];
    this.ets = [];
    this.counter = 0;
    this.curModelOutput = undefined;
    this.curSample = undefined;
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
    const out = prevSampleBuffer(context, sample.length, sample, modelOutput);
    const prevSample =
      this.counter < this.prkTimesteps.length && !this.skipPrkSteps
        ? this.stepPrk(modelOutput, timestep, sample, out)
        : this.stepPlms(modelOutput, timestep, sample, out);
    return { prevSample };
  }

  addNoise(originalSamples: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    return addNoiseVariancePreserving(this.alphasCumprod, originalSamples, noise, timestep);
  }

  private stepPrk(modelOutput: Float32Array, timestep: number, sample: Float32Array, out: Float32Array): Float32Array {
    const numTrain = this.reader.integer('num_train_timesteps');
    const diffToPrev = this.counter % 2 ? 0 : Math.floor(Math.floor(numTrain / this.numInferenceSteps!) / 2);
    const prevTimestep = timestep - diffToPrev;
    const stageTimestep = this.prkTimesteps[Math.floor(this.counter / 4) * 4]!;
    const n = modelOutput.length;
    let output = modelOutput;
    const stage = this.counter % 4;
    if (stage === 0) {
      this.curModelOutput = scaled(modelOutput, f(1 / 6));
      this.ets.push(snapshot(modelOutput));
      this.curSample = snapshot(sample);
    } else if (stage === 1 || stage === 2) {
      const accumulated = this.curModelOutput!;
      const third = f(1 / 3);
      for (let i = 0; i < n; i++) accumulated[i] = f(accumulated[i]! + f(third * modelOutput[i]!));
    } else {
      const accumulated = this.curModelOutput!;
      const sixth = f(1 / 6);
      output = new Float32Array(n);
      for (let i = 0; i < n; i++) output[i] = f(accumulated[i]! + f(sixth * modelOutput[i]!));
      this.curModelOutput = undefined;
    }
    const prevSample = this.prevSampleFor(this.curSample ?? sample, stageTimestep, prevTimestep, output, out);
    this.counter++;
    return prevSample;
  }

  private stepPlms(modelOutput: Float32Array, timestep: number, sample: Float32Array, out: Float32Array): Float32Array {
    if (!this.skipPrkSteps && this.ets.length < 3) {
      throw new Error(`${this.className} can only run PLMS steps after at least 12 PRK iterations`);
    }
    const stride = Math.floor(this.reader.integer('num_train_timesteps') / this.numInferenceSteps!);
    let prevTimestep = timestep - stride;
    let current = timestep;
    if (this.counter !== 1) {
      this.ets = this.ets.slice(-3);
      this.ets.push(snapshot(modelOutput));
    } else {
      prevTimestep = timestep;
      current = timestep + stride;
    }

    const n = modelOutput.length;
    const ets = this.ets;
    const e1 = ets[ets.length - 1]!;
    let x = sample;
    let combined: Float32Array;
    if (ets.length === 1 && this.counter === 0) {
      combined = modelOutput;
      this.curSample = snapshot(sample);
    } else if (ets.length === 1 && this.counter === 1) {
      combined = new Float32Array(n);
      for (let i = 0; i < n; i++) combined[i] = f(f(modelOutput[i]! + e1[i]!) / 2);
      x = this.curSample!;
      this.curSample = undefined;
    } else if (ets.length === 2) {
      const e2 = ets[0]!;
      combined = new Float32Array(n);
      for (let i = 0; i < n; i++) combined[i] = f(f(f(3 * e1[i]!) - e2[i]!) / 2);
    } else if (ets.length === 3) {
      const e2 = ets[1]!;
      const e3 = ets[0]!;
      combined = new Float32Array(n);
      for (let i = 0; i < n; i++) combined[i] = f(f(f(f(23 * e1[i]!) - f(16 * e2[i]!)) + f(5 * e3[i]!)) / 12);
    } else {
      const e2 = ets[ets.length - 2]!;
      const e3 = ets[ets.length - 3]!;
      const e4 = ets[ets.length - 4]!;
      const scale = f(1 / 24);
      combined = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const sum = f(f(f(f(55 * e1[i]!) - f(59 * e2[i]!)) + f(37 * e3[i]!)) - f(9 * e4[i]!));
        combined[i] = f(scale * sum);
      }
    }
    const prevSample = this.prevSampleFor(x, current, prevTimestep, combined, out);
    this.counter++;
    return prevSample;
  }

  /** `_get_prev_sample`: formula (9) of the PNDM paper, written into `prevSample`. */
  private prevSampleFor(
    sample: Float32Array,
    timestep: number,
    prevTimestep: number,
    modelOutput: Float32Array,
    prevSample: Float32Array,
  ): Float32Array {
    const alphaProdT = this.alphasCumprod[timestep];
    if (alphaProdT === undefined) throw new RangeError(`${this.className}: timestep ${timestep} is outside the training schedule`);
    const alphaProdTPrev = prevTimestep >= 0 ? this.alphasCumprod[prevTimestep]! : this.finalAlphaCumprod;
    const betaProdT = f(1 - alphaProdT);
    const betaProdTPrev = f(1 - alphaProdTPrev);
    const n = sample.length;
    let output = modelOutput;
    if (this.predictionType === 'v_prediction') {
      const sqrtAlpha = f(Math.sqrt(alphaProdT));
      const sqrtBeta = f(Math.sqrt(betaProdT));
      output = new Float32Array(n);
      for (let i = 0; i < n; i++) output[i] = f(f(sqrtAlpha * modelOutput[i]!) + f(sqrtBeta * sample[i]!));
    }
    const sampleCoeff = f(Math.sqrt(f(alphaProdTPrev / alphaProdT)));
    const denominator = f(f(alphaProdT * f(Math.sqrt(betaProdTPrev))) + f(Math.sqrt(f(f(alphaProdT * betaProdT) * alphaProdTPrev))));
    const difference = f(alphaProdTPrev - alphaProdT);
    for (let i = 0; i < n; i++) {
      prevSample[i] = f(f(sampleCoeff * sample[i]!) - f(f(difference * output[i]!) / denominator));
    }
    return prevSample;
  }
}

function scaled(values: Float32Array, factor: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f(factor * values[i]!);
  return out;
}
