import { UserError } from '../errors.js';
import { resolveSchedulerConfig, SchedulerConfigReader, type SchedulerDefaults } from './config.js';
import { noiseScheduleFromConfig, trainingSigmas } from './noise-schedule.js';
import { interpOnIntegerGrid, numpyLinspace, roundHalfEven } from './numpy-compat.js';
import { assertStepShapes, drawNoise, prevSampleBuffer, thresholdSampleInPlace, unscaledModelInput } from './sample-ops.js';
import type { Scheduler, SchedulerConfig, SchedulerStepOutput, StepContext } from './scheduler.js';
import {
  betaSigmas,
  exponentialSigmas,
  karrasSigmas,
  lambdaFromAlphaSigma,
  logFloat32,
  luLambdas,
  sigmaToAlphaSigmaT,
  sigmaToT,
} from './sigma-schedules.js';
import { validateBeginIndex, validateInferenceSteps } from './step-count.js';
import { addNoiseIndex, indexForTimestepOrLast } from './timestep-index.js';
import { multistepTimesteps, timestepSpacings } from './timestep-spacing.js';

const f = Math.fround;

/** `DPMSolverMultistepScheduler.__init__` defaults (diffusers 0.35.2). */
export const dpmSolverMultistepDefaults: SchedulerDefaults = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: 'linear',
  trained_betas: null,
  solver_order: 2,
  prediction_type: 'epsilon',
  thresholding: false,
  dynamic_thresholding_ratio: 0.995,
  sample_max_value: 1.0,
  algorithm_type: 'dpmsolver++',
  solver_type: 'midpoint',
  lower_order_final: true,
  euler_at_final: false,
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  use_lu_lambdas: false,
  use_flow_sigmas: false,
  flow_shift: 1.0,
  final_sigmas_type: 'zero',
  lambda_min_clipped: Number.NEGATIVE_INFINITY,
  variance_type: null,
  timestep_spacing: 'linspace',
  steps_offset: 0,
  rescale_betas_zero_snr: false,
  use_dynamic_shifting: false,
  time_shift_type: 'exponential',
};

type AlgorithmType = 'dpmsolver' | 'dpmsolver++' | 'sde-dpmsolver' | 'sde-dpmsolver++';
type PredictionType = 'epsilon' | 'sample' | 'v_prediction' | 'flow_prediction';

/**
 * Port of diffusers' `DPMSolverMultistepScheduler` (Lu et al. 2022, DPM-Solver and DPM-Solver++): first-,
 * second- (midpoint / heun) and third-order multistep updates, the SDE variants (which draw noise every
 * step), karras / exponential / beta / Lu-lambda / flow sigmas, `final_sigmas_type`, `lower_order_final`,
 * `euler_at_final` and `lambda_min_clipped`. A zero-length final step (h = 0 with
 * `final_sigmas_type = "sigma_min"`) leaves the sample unchanged, as in diffusers.
 */
export class DPMSolverMultistepScheduler implements Scheduler {
  readonly className = 'DPMSolverMultistepScheduler';
  readonly order = 1;
  readonly initNoiseSigma = 1;
  readonly timestepDtype = 'int64' as const;
  readonly supportsBeginIndex = true;
  readonly config: SchedulerConfig;
  /** `alphas_cumprod`, float32. */
  readonly alphasCumprod: Float32Array;

  private readonly reader: SchedulerConfigReader;
  private readonly algorithmType: AlgorithmType;
  private readonly solverType: 'midpoint' | 'heun';
  private readonly predictionType: PredictionType;
  private readonly solverOrder: number;
  private readonly useFlowSigmas: boolean;
  private readonly trainSigmas: Float32Array;
  private readonly lambdaT: Float32Array;
  private sigmaSchedule: Float32Array;
  private timestepSchedule: number[];
  private numInferenceSteps: number | undefined;
  private modelOutputs: Array<Float32Array | undefined>;
  private lowerOrderNums = 0;
  private stepIndexValue: number | undefined;
  private beginIndexValue: number | undefined;

  constructor(config: SchedulerConfig = {}) {
    const resolved: Record<string, unknown> = { ...resolveSchedulerConfig(this.className, dpmSolverMultistepDefaults, config) };
    const reader = new SchedulerConfigReader(this.className, resolved);
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
    const requestedAlgorithm = reader.string('algorithm_type', ['dpmsolver', 'dpmsolver++', 'sde-dpmsolver', 'sde-dpmsolver++', 'deis']);
    // diffusers maps other solvers' names onto its own (register_to_config), so the config shows the result.
    if (requestedAlgorithm === 'deis') resolved['algorithm_type'] = 'dpmsolver++';
    const requestedSolver = reader.string('solver_type', ['midpoint', 'heun', 'logrho', 'bh1', 'bh2']);
    if (requestedSolver !== 'midpoint' && requestedSolver !== 'heun') resolved['solver_type'] = 'midpoint';
    const finalSigmasType = reader.string('final_sigmas_type', ['zero', 'sigma_min']);
    if (requestedAlgorithm !== 'dpmsolver++' && requestedAlgorithm !== 'sde-dpmsolver++' && finalSigmasType === 'zero') {
      throw new UserError(
        'scheduler.config',
        `${this.className}: \`final_sigmas_type\` "zero" is not supported for \`algorithm_type\` "${requestedAlgorithm}"; ` +
          'choose "sigma_min"',
      );
    }
    this.config = Object.freeze(resolved);
    this.reader = new SchedulerConfigReader(this.className, this.config);
    this.algorithmType = this.reader.string<AlgorithmType>('algorithm_type');
    this.solverType = this.reader.string<'midpoint' | 'heun'>('solver_type');
    this.predictionType = this.reader.string<PredictionType>('prediction_type', ['epsilon', 'sample', 'v_prediction', 'flow_prediction']);
    if (this.predictionType === 'flow_prediction' && (this.algorithmType === 'dpmsolver' || this.algorithmType === 'sde-dpmsolver')) {
      this.reader.fail('prediction_type', 'one of "epsilon", "sample", "v_prediction" for the DPM-Solver (non-++) algorithms');
    }
    this.solverOrder = this.reader.integer('solver_order', 1);
    this.useFlowSigmas = this.reader.boolean('use_flow_sigmas');
    this.reader.string('timestep_spacing', timestepSpacings);
    this.reader.integer('steps_offset');
    this.reader.number('lambda_min_clipped');
    this.reader.number('flow_shift');
    this.reader.optionalString('variance_type', ['learned', 'learned_range']);
    this.reader.boolean('thresholding');
    this.reader.number('dynamic_thresholding_ratio');
    this.reader.number('sample_max_value');

    const schedule = noiseScheduleFromConfig(this.reader, { supportsZeroSnr: true, zeroSnrFloorsLastAlphaCumprod: true });
    this.alphasCumprod = schedule.alphasCumprod;
    this.trainSigmas = trainingSigmas(schedule.alphasCumprod);
    this.lambdaT = this.alphasCumprod.map((a) => f(f(Math.log(f(Math.sqrt(a)))) - f(Math.log(f(Math.sqrt(f(1 - a)))))));
    const numTrain = this.alphasCumprod.length;
    this.sigmaSchedule = this.trainSigmas.slice();
    this.timestepSchedule = Array.from({ length: numTrain }, (_, i) => numTrain - 1 - i);
    this.modelOutputs = new Array<Float32Array | undefined>(this.solverOrder).fill(undefined);
  }

  get timesteps(): readonly number[] {
    return this.timestepSchedule;
  }

  get sigmas(): readonly number[] {
    return Array.from(this.sigmaSchedule);
  }

  /** Index of the next step (`step_index`), undefined before the first `step`. */
  get stepIndex(): number | undefined {
    return this.stepIndexValue;
  }

  setTimesteps(numInferenceSteps: number): void {
    const reader = this.reader;
    const numTrain = reader.integer('num_train_timesteps');
    validateInferenceSteps(numInferenceSteps, numTrain);

    // Clipping the minimum of all lambda(t) for numerical stability (cosine schedules).
    const lambdaMinClipped = f(reader.number('lambda_min_clipped'));
    let clippedIndex = 0;
    for (let i = this.lambdaT.length - 1; i >= 0 && this.lambdaT[i]! < lambdaMinClipped; i--) clippedIndex++;
    const lastTimestep = numTrain - clippedIndex;
    let timesteps: number[] = multistepTimesteps(
      reader.string('timestep_spacing', timestepSpacings),
      lastTimestep,
      numTrain,
      numInferenceSteps,
      reader.integer('steps_offset'),
    );

    const logSigmas = logFloat32(this.trainSigmas);
    const descending = this.trainSigmas.slice().reverse();
    const sigmaMin = reader.optionalNumber('sigma_min') ?? descending[descending.length - 1]!;
    const sigmaMax = reader.optionalNumber('sigma_max') ?? descending[0]!;
    const roundKarras = reader.string('beta_schedule') !== 'squaredcos_cap_v2';
    let sigmas: ArrayLike<number>;
    if (reader.boolean('use_karras_sigmas')) {
      sigmas = karrasSigmas(sigmaMin, sigmaMax, numInferenceSteps);
      timesteps = Array.from(sigmas, (sigma) => sigmaToT(sigma, logSigmas)).map((t) => (roundKarras ? roundHalfEven(t) : Math.trunc(t)));
    } else if (reader.boolean('use_lu_lambdas')) {
      const lambdas = luLambdas(logSigmas[0]!, logSigmas[logSigmas.length - 1]!, numInferenceSteps);
      sigmas = lambdas.map((lambda) => Math.exp(lambda));
      timesteps = Array.from(sigmas, (sigma) => sigmaToT(sigma, logSigmas)).map((t) => (roundKarras ? roundHalfEven(t) : Math.trunc(t)));
    } else if (reader.boolean('use_exponential_sigmas')) {
      sigmas = exponentialSigmas(sigmaMin, sigmaMax, numInferenceSteps);
      timesteps = Array.from(sigmas, (sigma) => Math.trunc(sigmaToT(sigma, logSigmas)));
    } else if (reader.boolean('use_beta_sigmas')) {
      sigmas = betaSigmas(sigmaMin, sigmaMax, numInferenceSteps);
      timesteps = Array.from(sigmas, (sigma) => Math.trunc(sigmaToT(sigma, logSigmas)));
    } else if (this.useFlowSigmas) {
      const shift = reader.number('flow_shift');
      const flow = numpyLinspace(1, 1 / numTrain, numInferenceSteps + 1).map((alpha) => {
        const sigma = 1 - alpha;
        return (shift * sigma) / (1 + (shift - 1) * sigma);
      });
      sigmas = flow.reverse().slice(0, -1);
      timesteps = Array.from(sigmas, (sigma) => Math.trunc(sigma * numTrain));
    } else {
      sigmas = timesteps.map((t) => interpOnIntegerGrid(t, this.trainSigmas));
    }

    const sigmaLast = reader.string('final_sigmas_type') === 'sigma_min' ? this.trainSigmas[0]! : 0;
    const schedule = new Float32Array(sigmas.length + 1);
    schedule.set(Float32Array.from(sigmas));
    schedule[sigmas.length] = sigmaLast;
    this.sigmaSchedule = schedule;
    this.timestepSchedule = timesteps;
    this.numInferenceSteps = timesteps.length;
    this.modelOutputs = new Array<Float32Array | undefined>(this.solverOrder).fill(undefined);
    this.lowerOrderNums = 0;
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

  step(modelOutput: Float32Array, timestep: number, sample: Float32Array, context: StepContext): SchedulerStepOutput {
    if (this.numInferenceSteps === undefined) throw new Error(`${this.className}: call setTimesteps() before step()`);
    const output = this.meanOutput(modelOutput, sample, context);
    assertStepShapes(output, sample, context);
    if (this.stepIndexValue === undefined) {
      this.stepIndexValue = this.beginIndexValue ?? indexForTimestepOrLast(this.timestepSchedule, timestep);
    }
    const reader = this.reader;
    const index = this.stepIndexValue;
    const count = this.timestepSchedule.length;
    const lowerOrderFinalConfig = reader.boolean('lower_order_final');
    const lowerOrderFinal =
      index === count - 1 &&
      (reader.boolean('euler_at_final') || (lowerOrderFinalConfig && count < 15) || reader.string('final_sigmas_type') === 'zero');
    const lowerOrderSecond = index === count - 2 && lowerOrderFinalConfig && count < 15;

    const converted = this.convertModelOutput(output, sample, context);
    for (let i = 0; i < this.solverOrder - 1; i++) this.modelOutputs[i] = this.modelOutputs[i + 1];
    this.modelOutputs[this.solverOrder - 1] = converted;

    const noise =
      this.algorithmType === 'sde-dpmsolver' || this.algorithmType === 'sde-dpmsolver++'
        ? drawNoise(context, this.className, sample.length)
        : undefined;

    const prevSample = prevSampleBuffer(context, sample.length, sample, modelOutput);
    if (this.solverOrder === 1 || this.lowerOrderNums < 1 || lowerOrderFinal) {
      this.firstOrderUpdate(converted, sample, noise, prevSample);
    } else if (this.solverOrder === 2 || this.lowerOrderNums < 2 || lowerOrderSecond) {
      this.secondOrderUpdate(sample, noise, prevSample);
    } else {
      this.thirdOrderUpdate(sample, noise, prevSample);
    }
    if (this.lowerOrderNums < this.solverOrder) this.lowerOrderNums++;
    this.stepIndexValue = index + 1;
    return { prevSample };
  }

  addNoise(originalSamples: Float32Array, noise: Float32Array, timestep: number): Float32Array {
    const index = addNoiseIndex(this.beginIndexValue, this.stepIndexValue, () => indexForTimestepOrLast(this.timestepSchedule, timestep));
    const [alphaT, sigmaT] = sigmaToAlphaSigmaT(this.sigmaSchedule[index]!, this.useFlowSigmas);
    const out = new Float32Array(originalSamples.length);
    for (let i = 0; i < out.length; i++) out[i] = f(f(alphaT * originalSamples[i]!) + f(sigmaT * noise[i]!));
    return out;
  }

  /** With `variance_type` learned(_range) the model also predicts a variance; only the mean channels are used. */
  private meanOutput(modelOutput: Float32Array, sample: Float32Array, context: StepContext): Float32Array {
    if (
      this.predictionType !== 'epsilon' ||
      this.reader.optionalString('variance_type') === undefined ||
      modelOutput.length === sample.length
    )
      return modelOutput;
    // diffusers slices `model_output[:, :3]` (pixel-space models); here the sample's channel count.
    const [batch = 1, channels = 1] = context.shape;
    const plane = sample.length / (batch * channels);
    const outputChannels = modelOutput.length / (batch * plane);
    const mean = new Float32Array(sample.length);
    for (let b = 0; b < batch; b++)
      mean.set(modelOutput.subarray(b * outputChannels * plane, (b * outputChannels + channels) * plane), b * channels * plane);
    return mean;
  }

  /** `convert_model_output`: x0 prediction for DPM-Solver++, noise prediction for DPM-Solver. */
  private convertModelOutput(modelOutput: Float32Array, sample: Float32Array, context: StepContext): Float32Array {
    const reader = this.reader;
    const n = sample.length;
    const sigma = this.sigmaSchedule[this.stepIndexValue!]!;
    const [alphaT, sigmaT] = sigmaToAlphaSigmaT(sigma, this.useFlowSigmas);
    const thresholding = reader.boolean('thresholding');
    const threshold = (x: Float32Array): void =>
      thresholdSampleInPlace(x, context.shape[0] ?? 1, reader.number('dynamic_thresholding_ratio'), reader.number('sample_max_value'));

    if (this.algorithmType === 'dpmsolver++' || this.algorithmType === 'sde-dpmsolver++') {
      const x0 = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const m = modelOutput[i]!;
        const x = sample[i]!;
        switch (this.predictionType) {
          case 'epsilon':
            x0[i] = f(f(x - f(sigmaT * m)) / alphaT);
            break;
          case 'sample':
            x0[i] = m;
            break;
          case 'v_prediction':
            x0[i] = f(f(alphaT * x) - f(sigmaT * m));
            break;
          case 'flow_prediction':
            x0[i] = f(x - f(sigma * m));
            break;
        }
      }
      if (thresholding) threshold(x0);
      return x0;
    }

    const epsilon = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const m = modelOutput[i]!;
      const x = sample[i]!;
      if (this.predictionType === 'epsilon') epsilon[i] = m;
      else if (this.predictionType === 'sample') epsilon[i] = f(f(x - f(alphaT * m)) / sigmaT);
      else epsilon[i] = f(f(alphaT * m) + f(sigmaT * x));
    }
    if (thresholding) {
      const x0 = new Float32Array(n);
      for (let i = 0; i < n; i++) x0[i] = f(f(sample[i]! - f(sigmaT * epsilon[i]!)) / alphaT);
      threshold(x0);
      for (let i = 0; i < n; i++) epsilon[i] = f(f(sample[i]! - f(alphaT * x0[i]!)) / sigmaT);
    }
    return epsilon;
  }

  /** alpha, sigma and lambda at `sigmas[index]`, float32. */
  private pointAt(index: number): { alpha: number; sigma: number; lambda: number } {
    const [alpha, sigma] = sigmaToAlphaSigmaT(this.sigmaSchedule[index]!, this.useFlowSigmas);
    return { alpha, sigma, lambda: lambdaFromAlphaSigma(alpha, sigma) };
  }

  private firstOrderUpdate(m: Float32Array, sample: Float32Array, noise: Float32Array | undefined, out: Float32Array): void {
    const index = this.stepIndexValue!;
    const t = this.pointAt(index + 1);
    const s = this.pointAt(index);
    const h = f(t.lambda - s.lambda);
    const n = sample.length;
    switch (this.algorithmType) {
      case 'dpmsolver++': {
        const a = f(t.sigma / s.sigma);
        const b = f(t.alpha * f(f(Math.exp(-h)) - 1));
        for (let i = 0; i < n; i++) out[i] = f(f(a * sample[i]!) - f(b * m[i]!));
        break;
      }
      case 'dpmsolver': {
        const a = f(t.alpha / s.alpha);
        const b = f(t.sigma * f(f(Math.exp(h)) - 1));
        for (let i = 0; i < n; i++) out[i] = f(f(a * sample[i]!) - f(b * m[i]!));
        break;
      }
      case 'sde-dpmsolver++': {
        const expMinus2h = f(Math.exp(f(-2 * h)));
        const a = f(f(t.sigma / s.sigma) * f(Math.exp(-h)));
        const b = f(t.alpha * f(1 - expMinus2h));
        const c = f(t.sigma * f(Math.sqrt(f(1 - expMinus2h))));
        for (let i = 0; i < n; i++) out[i] = f(f(f(a * sample[i]!) + f(b * m[i]!)) + f(c * noise![i]!));
        break;
      }
      case 'sde-dpmsolver': {
        const a = f(t.alpha / s.alpha);
        const b = f(2 * f(t.sigma * f(f(Math.exp(h)) - 1)));
        const c = f(t.sigma * f(Math.sqrt(f(f(Math.exp(f(2 * h))) - 1))));
        for (let i = 0; i < n; i++) out[i] = f(f(f(a * sample[i]!) - f(b * m[i]!)) + f(c * noise![i]!));
        break;
      }
    }
  }

  private secondOrderUpdate(sample: Float32Array, noise: Float32Array | undefined, out: Float32Array): void {
    const index = this.stepIndexValue!;
    const t = this.pointAt(index + 1);
    const s0 = this.pointAt(index);
    const s1 = this.pointAt(index - 1);
    const m0 = this.modelOutputs[this.solverOrder - 1]!;
    const m1 = this.modelOutputs[this.solverOrder - 2]!;
    const h = f(t.lambda - s0.lambda);
    const h0 = f(s0.lambda - s1.lambda);
    const r0 = f(h0 / h);
    // With h = 0 (a zero-length final step) r0 is infinite and 1 / r0 = 0, so D1 vanishes as in torch.
    const inverseR0 = f(1 / r0);
    const n = sample.length;
    const d1 = new Float32Array(n);
    for (let i = 0; i < n; i++) d1[i] = f(inverseR0 * f(m0[i]! - m1[i]!));
    const expMinusH = f(Math.exp(-h));
    const expH = f(Math.exp(h));
    const midpoint = this.solverType === 'midpoint';
    switch (this.algorithmType) {
      case 'dpmsolver++': {
        const a = f(t.sigma / s0.sigma);
        const b = f(t.alpha * f(expMinusH - 1));
        if (midpoint) {
          const c = f(0.5 * b);
          for (let i = 0; i < n; i++) out[i] = f(f(f(a * sample[i]!) - f(b * m0[i]!)) - f(c * d1[i]!));
        } else {
          const c = f(t.alpha * f(f(f(expMinusH - 1) / h) + 1));
          for (let i = 0; i < n; i++) out[i] = f(f(f(a * sample[i]!) - f(b * m0[i]!)) + f(c * d1[i]!));
        }
        break;
      }
      case 'dpmsolver': {
        const a = f(t.alpha / s0.alpha);
        const b = f(t.sigma * f(expH - 1));
        const c = midpoint ? f(0.5 * b) : f(t.sigma * f(f(f(expH - 1) / h) - 1));
        for (let i = 0; i < n; i++) out[i] = f(f(f(a * sample[i]!) - f(b * m0[i]!)) - f(c * d1[i]!));
        break;
      }
      case 'sde-dpmsolver++': {
        const expMinus2h = f(Math.exp(f(-2 * h)));
        const a = f(f(t.sigma / s0.sigma) * expMinusH);
        const b = f(t.alpha * f(1 - expMinus2h));
        const c = midpoint ? f(0.5 * b) : f(t.alpha * f(f(f(1 - expMinus2h) / f(-2 * h)) + 1));
        const e = f(t.sigma * f(Math.sqrt(f(1 - expMinus2h))));
        for (let i = 0; i < n; i++) out[i] = f(f(f(f(a * sample[i]!) + f(b * m0[i]!)) + f(c * d1[i]!)) + f(e * noise![i]!));
        break;
      }
      case 'sde-dpmsolver': {
        const a = f(t.alpha / s0.alpha);
        const b = f(2 * f(t.sigma * f(expH - 1)));
        const c = midpoint ? f(t.sigma * f(expH - 1)) : f(2 * f(t.sigma * f(f(f(expH - 1) / h) - 1)));
        const e = f(t.sigma * f(Math.sqrt(f(f(Math.exp(f(2 * h))) - 1))));
        for (let i = 0; i < n; i++) out[i] = f(f(f(f(a * sample[i]!) - f(b * m0[i]!)) - f(c * d1[i]!)) + f(e * noise![i]!));
        break;
      }
    }
  }

  private thirdOrderUpdate(sample: Float32Array, noise: Float32Array | undefined, out: Float32Array): void {
    const index = this.stepIndexValue!;
    const t = this.pointAt(index + 1);
    const s0 = this.pointAt(index);
    const s1 = this.pointAt(index - 1);
    const s2 = this.pointAt(index - 2);
    const m0 = this.modelOutputs[this.solverOrder - 1]!;
    const m1 = this.modelOutputs[this.solverOrder - 2]!;
    const m2 = this.modelOutputs[this.solverOrder - 3]!;
    const h = f(t.lambda - s0.lambda);
    const h0 = f(s0.lambda - s1.lambda);
    const h1 = f(s1.lambda - s2.lambda);
    const r0 = f(h0 / h);
    const r1 = f(h1 / h);
    const inverseR0 = f(1 / r0);
    const inverseR1 = f(1 / r1);
    const r0Share = f(r0 / f(r0 + r1));
    const inverseSum = f(1 / f(r0 + r1));
    const n = sample.length;
    const d1 = new Float32Array(n);
    const d2 = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const d10 = f(inverseR0 * f(m0[i]! - m1[i]!));
      const d11 = f(inverseR1 * f(m1[i]! - m2[i]!));
      const diff = f(d10 - d11);
      d1[i] = f(d10 + f(r0Share * diff));
      d2[i] = f(inverseSum * diff);
    }
    const expMinusH = f(Math.exp(-h));
    const expH = f(Math.exp(h));
    const hSquared = f(h * h);
    switch (this.algorithmType) {
      case 'dpmsolver++': {
        const a = f(t.sigma / s0.sigma);
        const b = f(t.alpha * f(expMinusH - 1));
        const c = f(t.alpha * f(f(f(expMinusH - 1) / h) + 1));
        const e = f(t.alpha * f(f(f(f(expMinusH - 1) + h) / hSquared) - 0.5));
        for (let i = 0; i < n; i++) out[i] = f(f(f(f(a * sample[i]!) - f(b * m0[i]!)) + f(c * d1[i]!)) - f(e * d2[i]!));
        break;
      }
      case 'dpmsolver': {
        const a = f(t.alpha / s0.alpha);
        const b = f(t.sigma * f(expH - 1));
        const c = f(t.sigma * f(f(f(expH - 1) / h) - 1));
        const e = f(t.sigma * f(f(f(f(expH - 1) - h) / hSquared) - 0.5));
        for (let i = 0; i < n; i++) out[i] = f(f(f(f(a * sample[i]!) - f(b * m0[i]!)) - f(c * d1[i]!)) - f(e * d2[i]!));
        break;
      }
      case 'sde-dpmsolver++': {
        const expMinus2h = f(Math.exp(f(-2 * h)));
        const twoH = f(2 * h);
        const a = f(f(t.sigma / s0.sigma) * expMinusH);
        const b = f(t.alpha * f(1 - expMinus2h));
        const c = f(t.alpha * f(f(f(1 - expMinus2h) / f(-2 * h)) + 1));
        const e = f(t.alpha * f(f(f(f(1 - expMinus2h) - twoH) / f(twoH * twoH)) - 0.5));
        const g = f(t.sigma * f(Math.sqrt(f(1 - expMinus2h))));
        for (let i = 0; i < n; i++)
          out[i] = f(f(f(f(f(a * sample[i]!) + f(b * m0[i]!)) + f(c * d1[i]!)) + f(e * d2[i]!)) + f(g * noise![i]!));
        break;
      }
      case 'sde-dpmsolver':
        // diffusers has no third-order SDE-DPMSolver update and returns None here.
        throw new Error(`${this.className}: no third-order update for algorithm_type "sde-dpmsolver" (use solver_order ≤ 2)`);
    }
  }
}
