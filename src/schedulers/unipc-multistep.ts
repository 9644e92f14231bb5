import { resolveSchedulerConfig, SchedulerConfigReader, type SchedulerDefaults } from './config.js';
import { noiseScheduleFromConfig, trainingSigmas } from './noise-schedule.js';
import { interpOnIntegerGrid, numpyLinspace, roundHalfEven } from './numpy-compat.js';
import { assertStepShapes, prevSampleBuffer, snapshot, thresholdSampleInPlace, unscaledModelInput } from './sample-ops.js';
import type { Scheduler, SchedulerConfig, SchedulerStepOutput, StepContext } from './scheduler.js';
import {
  betaSigmas,
  exponentialSigmas,
  karrasSigmas,
  lambdaFromAlphaSigma,
  logFloat32,
  sigmaToAlphaSigmaT,
  sigmaToT,
} from './sigma-schedules.js';
import { validateBeginIndex, validateInferenceSteps } from './step-count.js';
import { addNoiseIndex, indexForTimestepOrLast } from './timestep-index.js';
import { multistepTimesteps, timestepSpacings } from './timestep-spacing.js';

const f = Math.fround;

/** `UniPCMultistepScheduler.__init__` defaults (diffusers 0.35.2). */
export const uniPCMultistepDefaults: SchedulerDefaults = {
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
  predict_x0: true,
  solver_type: 'bh2',
  lower_order_final: true,
  disable_corrector: [],
  solver_p: null,
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  use_flow_sigmas: false,
  flow_shift: 1.0,
  timestep_spacing: 'linspace',
  steps_offset: 0,
  final_sigmas_type: 'zero',
  rescale_betas_zero_snr: false,
  use_dynamic_shifting: false,
  time_shift_type: 'exponential',
};

type PredictionType = 'epsilon' | 'sample' | 'v_prediction' | 'flow_prediction';

/**
 * Port of diffusers' `UniPCMultistepScheduler` (Zhao et al. 2023): a UniP predictor of order
 * `solver_order` with a UniC corrector applied to the incoming sample at every step after the first,
 * B(h) variants bh1 / bh2. (`solver_p`, a second scheduler object, cannot come from a JSON config and is
 * not supported.)
 */
export class UniPCMultistepScheduler implements Scheduler {
  readonly className = 'UniPCMultistepScheduler';
  readonly order = 1;
  readonly initNoiseSigma = 1;
  readonly timestepDtype = 'int64' as const;
  readonly supportsBeginIndex = true;
  readonly config: SchedulerConfig;
  /** `alphas_cumprod`, float32. */
  readonly alphasCumprod: Float32Array;

  private readonly reader: SchedulerConfigReader;
  private readonly predictionType: PredictionType;
  private readonly predictX0: boolean;
  private readonly solverType: 'bh1' | 'bh2';
  private readonly solverOrder: number;
  private readonly useFlowSigmas: boolean;
  private readonly disableCorrector: readonly number[];
  private readonly trainSigmas: Float32Array;
  private sigmaSchedule: Float32Array;
  private timestepSchedule: number[];
  private numInferenceSteps: number | undefined;
  private modelOutputs: Array<Float32Array | undefined>;
  private lowerOrderNums = 0;
  private lastSample: Float32Array | undefined;
  private thisOrder = 1;
  private stepIndexValue: number | undefined;
  private beginIndexValue: number | undefined;

  constructor(config: SchedulerConfig = {}) {
    const resolved: Record<string, unknown> = { ...resolveSchedulerConfig(this.className, uniPCMultistepDefaults, config) };
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
    // diffusers maps the DPM-Solver solver types onto bh2 (register_to_config).
    const requestedSolver = reader.string('solver_type', ['bh1', 'bh2', 'midpoint', 'heun', 'logrho']);
    if (requestedSolver !== 'bh1' && requestedSolver !== 'bh2') resolved['solver_type'] = 'bh2';
    if (resolved['solver_p'] !== null && resolved['solver_p'] !== undefined)
      reader.fail('solver_p', 'null (a solver_p scheduler object is not supported)');
    this.config = Object.freeze(resolved);
    this.reader = new SchedulerConfigReader(this.className, this.config);
    this.solverType = this.reader.string<'bh1' | 'bh2'>('solver_type');
    this.predictionType = this.reader.string<PredictionType>('prediction_type', ['epsilon', 'sample', 'v_prediction', 'flow_prediction']);
    this.predictX0 = this.reader.boolean('predict_x0');
    if (!this.predictX0 && this.predictionType === 'flow_prediction') {
      this.reader.fail('prediction_type', 'one of "epsilon", "sample", "v_prediction" when `predict_x0` is false');
    }
    this.solverOrder = this.reader.integer('solver_order', 1);
    this.useFlowSigmas = this.reader.boolean('use_flow_sigmas');
    this.disableCorrector = this.reader.integerList('disable_corrector');
    this.reader.string('timestep_spacing', timestepSpacings);
    this.reader.string('final_sigmas_type', ['zero', 'sigma_min']);
    this.reader.integer('steps_offset');
    this.reader.number('flow_shift');
    this.reader.boolean('thresholding');
    this.reader.number('dynamic_thresholding_ratio');
    this.reader.number('sample_max_value');

    const schedule = noiseScheduleFromConfig(this.reader, { supportsZeroSnr: true, zeroSnrFloorsLastAlphaCumprod: true });
    this.alphasCumprod = schedule.alphasCumprod;
    this.trainSigmas = trainingSigmas(schedule.alphasCumprod);
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
    let timesteps: number[] = multistepTimesteps(
      reader.string('timestep_spacing', timestepSpacings),
      numTrain,
      numTrain,
      numInferenceSteps,
      reader.integer('steps_offset'),
    );
    const logSigmas = logFloat32(this.trainSigmas);
    const descending = this.trainSigmas.slice().reverse();
    const sigmaMin = reader.optionalNumber('sigma_min') ?? descending[descending.length - 1]!;
    const sigmaMax = reader.optionalNumber('sigma_max') ?? descending[0]!;
    const sigmaMinFinal = reader.string('final_sigmas_type') === 'sigma_min';
    let sigmas: ArrayLike<number>;
    let sigmaLast: number;
    if (reader.boolean('use_karras_sigmas')) {
      let karras: Float64Array = karrasSigmas(sigmaMin, sigmaMax, numInferenceSteps);
      if (this.useFlowSigmas) {
        karras = karras.map((sigma) => sigma / (sigma + 1));
        timesteps = Array.from(karras, (sigma) => Math.trunc(sigma * numTrain));
      } else {
        timesteps = Array.from(karras, (sigma) => roundHalfEven(sigmaToT(sigma, logSigmas)));
      }
      sigmas = karras;
      sigmaLast = sigmaMinFinal ? karras[karras.length - 1]! : 0;
    } else if (reader.boolean('use_exponential_sigmas') || reader.boolean('use_beta_sigmas')) {
      const converted = reader.boolean('use_exponential_sigmas')
        ? exponentialSigmas(sigmaMin, sigmaMax, numInferenceSteps)
        : betaSigmas(sigmaMin, sigmaMax, numInferenceSteps);
      timesteps = Array.from(converted, (sigma) => Math.trunc(sigmaToT(sigma, logSigmas)));
      sigmas = converted;
      sigmaLast = sigmaMinFinal ? converted[converted.length - 1]! : 0;
    } else if (this.useFlowSigmas) {
      const shift = reader.number('flow_shift');
      const flow = numpyLinspace(1, 1 / numTrain, numInferenceSteps + 1).map((alpha) => {
        const sigma = 1 - alpha;
        return (shift * sigma) / (1 + (shift - 1) * sigma);
      });
      const descendingFlow = flow.reverse().slice(0, -1);
      timesteps = Array.from(descendingFlow, (sigma) => Math.trunc(sigma * numTrain));
      sigmas = descendingFlow;
      sigmaLast = sigmaMinFinal ? descendingFlow[descendingFlow.length - 1]! : 0;
    } else {
      sigmas = timesteps.map((t) => interpOnIntegerGrid(t, this.trainSigmas));
      sigmaLast = sigmaMinFinal ? this.trainSigmas[0]! : 0;
    }
    const schedule = new Float32Array(sigmas.length + 1);
    schedule.set(Float32Array.from(sigmas));
    schedule[sigmas.length] = sigmaLast;
    this.sigmaSchedule = schedule;
    this.timestepSchedule = timesteps;
    this.numInferenceSteps = timesteps.length;
    this.modelOutputs = new Array<Float32Array | undefined>(this.solverOrder).fill(undefined);
    this.lowerOrderNums = 0;
    this.lastSample = undefined;
    this.thisOrder = 1;
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
    assertStepShapes(modelOutput, sample, context);
    if (this.stepIndexValue === undefined) {
      this.stepIndexValue = this.beginIndexValue ?? indexForTimestepOrLast(this.timestepSchedule, timestep);
    }
    const index = this.stepIndexValue;
    const useCorrector = index > 0 && !this.disableCorrector.includes(index - 1) && this.lastSample !== undefined;
    const converted = this.convertModelOutput(modelOutput, sample, context);
    let x = sample;
    if (useCorrector) x = this.correctorUpdate(converted, this.lastSample!, this.thisOrder);

    for (let i = 0; i < this.solverOrder - 1; i++) this.modelOutputs[i] = this.modelOutputs[i + 1];
    this.modelOutputs[this.solverOrder - 1] = converted;

    const order = this.reader.boolean('lower_order_final')
      ? Math.min(this.solverOrder, this.timestepSchedule.length - index)
      : this.solverOrder;
    this.thisOrder = Math.min(order, this.lowerOrderNums + 1);
    if (this.thisOrder < 1) throw new Error(`${this.className}: step() ran past the end of the schedule`);

    this.lastSample = x === sample ? snapshot(sample) : x;
    const prevSample = this.predictorUpdate(x, this.thisOrder, prevSampleBuffer(context, sample.length, sample, modelOutput));
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

  private convertModelOutput(modelOutput: Float32Array, sample: Float32Array, context: StepContext): Float32Array {
    const n = sample.length;
    const sigma = this.sigmaSchedule[this.stepIndexValue!]!;
    const [alphaT, sigmaT] = sigmaToAlphaSigmaT(sigma, this.useFlowSigmas);
    const out = new Float32Array(n);
    if (this.predictX0) {
      for (let i = 0; i < n; i++) {
        const m = modelOutput[i]!;
        const x = sample[i]!;
        switch (this.predictionType) {
          case 'epsilon':
            out[i] = f(f(x - f(sigmaT * m)) / alphaT);
            break;
          case 'sample':
            out[i] = m;
            break;
          case 'v_prediction':
            out[i] = f(f(alphaT * x) - f(sigmaT * m));
            break;
          case 'flow_prediction':
            out[i] = f(x - f(sigma * m));
            break;
        }
      }
      if (this.reader.boolean('thresholding')) {
        thresholdSampleInPlace(
          out,
          context.shape[0] ?? 1,
          this.reader.number('dynamic_thresholding_ratio'),
          this.reader.number('sample_max_value'),
        );
      }
      return out;
    }
    for (let i = 0; i < n; i++) {
      const m = modelOutput[i]!;
      const x = sample[i]!;
      if (this.predictionType === 'epsilon') out[i] = m;
      else if (this.predictionType === 'sample') out[i] = f(f(x - f(alphaT * m)) / sigmaT);
      else out[i] = f(f(alphaT * m) + f(sigmaT * x));
    }
    return out;
  }

  private lambdaAt(index: number): { alpha: number; sigma: number; lambda: number } {
    const [alpha, sigma] = sigmaToAlphaSigmaT(this.sigmaSchedule[index]!, this.useFlowSigmas);
    return { alpha, sigma, lambda: lambdaFromAlphaSigma(alpha, sigma) };
  }

  /** The B(h) bookkeeping shared by predictor and corrector: `h·φ₁`, `B(h)` and the vector `b`. */
  private coefficients(h: number, order: number): { hPhi1: number; bH: number; b: number[] } {
    const hh = this.predictX0 ? f(-h) : h;
    const hPhi1 = f(Math.expm1(hh));
    let hPhiK = f(f(hPhi1 / hh) - 1);
    let factorial = 1;
    const bH = this.solverType === 'bh1' ? hh : f(Math.expm1(hh));
    const b: number[] = [];
    for (let i = 1; i <= order; i++) {
      b.push(f(f(hPhiK * factorial) / bH));
      factorial *= i + 1;
      hPhiK = f(f(hPhiK / hh) - f(1 / factorial));
    }
    return { hPhi1, bH, b };
  }

  /** `multistep_uni_p_bh_update`. */
  private predictorUpdate(x: Float32Array, order: number, out: Float32Array): Float32Array {
    const index = this.stepIndexValue!;
    const m0 = this.modelOutputs[this.solverOrder - 1]!;
    const t = this.lambdaAt(index + 1);
    const s0 = this.lambdaAt(index);
    const h = f(t.lambda - s0.lambda);
    const rks: number[] = [];
    const d1s: Float32Array[] = [];
    for (let i = 1; i < order; i++) {
      const mi = this.modelOutputs[this.solverOrder - 1 - i]!;
      const rk = f(f(this.lambdaAt(index - i).lambda - s0.lambda) / h);
      rks.push(rk);
      d1s.push(differenceOver(mi, m0, rk));
    }
    rks.push(1);
    const { hPhi1, bH, b } = this.coefficients(h, order);
    let rhosP: number[] = [];
    if (d1s.length > 0) rhosP = order === 2 ? [0.5] : solveFloat32(vandermonde(rks, order - 1), b.slice(0, order - 1));
    return this.combine(x, m0, t, s0, hPhi1, bH, rhosP, d1s, undefined, out);
  }

  /** `multistep_uni_c_bh_update`: corrects the sample the previous predictor produced. */
  private correctorUpdate(modelT: Float32Array, lastSample: Float32Array, order: number): Float32Array {
    const index = this.stepIndexValue!;
    const m0 = this.modelOutputs[this.solverOrder - 1]!;
    const t = this.lambdaAt(index);
    const s0 = this.lambdaAt(index - 1);
    const h = f(t.lambda - s0.lambda);
    const rks: number[] = [];
    const d1s: Float32Array[] = [];
    for (let i = 1; i < order; i++) {
      const mi = this.modelOutputs[this.solverOrder - 1 - i]!;
      const rk = f(f(this.lambdaAt(index - (i + 1)).lambda - s0.lambda) / h);
      rks.push(rk);
      d1s.push(differenceOver(mi, m0, rk));
    }
    rks.push(1);
    const { hPhi1, bH, b } = this.coefficients(h, order);
    const rhosC = order === 1 ? [0.5] : solveFloat32(vandermonde(rks, order), b);
    return this.combine(lastSample, m0, t, s0, hPhi1, bH, rhosC.slice(0, -1), d1s, { modelT, rhoLast: rhosC[rhosC.length - 1]! });
  }

  /**
   * `x_t_ − coeff·B(h)·(Σ ρ_k·D1_k [+ ρ_last·(model_t − m0)])` with `x_t_` the first-order (DDIM-like) step.
   */
  private combine(
    x: Float32Array,
    m0: Float32Array,
    t: { alpha: number; sigma: number },
    s0: { alpha: number; sigma: number },
    hPhi1: number,
    bH: number,
    rhos: readonly number[],
    d1s: readonly Float32Array[],
    corrector: { modelT: Float32Array; rhoLast: number } | undefined,
    out: Float32Array = new Float32Array(x.length),
  ): Float32Array {
    const n = x.length;
    const sampleCoeff = this.predictX0 ? f(t.sigma / s0.sigma) : f(t.alpha / s0.alpha);
    const outputCoeff = this.predictX0 ? f(t.alpha * hPhi1) : f(t.sigma * hPhi1);
    const resultCoeff = this.predictX0 ? f(t.alpha * bH) : f(t.sigma * bH);
    const rhoLast = corrector ? f(corrector.rhoLast) : 0;
    for (let i = 0; i < n; i++) {
      const base = f(f(sampleCoeff * x[i]!) - f(outputCoeff * m0[i]!));
      let residual = 0;
      for (let k = 0; k < d1s.length; k++) residual = f(residual + f(f(rhos[k]!) * d1s[k]![i]!));
      if (corrector) residual = f(residual + f(rhoLast * f(corrector.modelT[i]! - m0[i]!)));
      out[i] = f(base - f(resultCoeff * residual));
    }
    return out;
  }
}

/** `(mi − m0) / rk` in float32. */
function differenceOver(mi: Float32Array, m0: Float32Array, rk: number): Float32Array {
  const out = new Float32Array(m0.length);
  for (let i = 0; i < m0.length; i++) out[i] = f(f(mi[i]! - m0[i]!) / rk);
  return out;
}

/** The first `size` rows and columns of `R[i][j] = rks[j]^i` (`torch.stack([rks**0, rks**1, ...])`). */
function vandermonde(rks: readonly number[], size: number): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < size; i++) rows.push(rks.slice(0, size).map((rk) => (i === 0 ? 1 : f(rk ** i))));
  return rows;
}

/**
 * `torch.linalg.solve` for a small float32 system as LAPACK's `sgesv` does it: LU with partial pivoting
 * (multipliers scaled by the pivot's reciprocal), then forward and back substitution.
 */
function solveFloat32(matrix: number[][], rhs: readonly number[]): number[] {
  const size = rhs.length;
  const a = matrix.map((row) => row.slice());
  const b = rhs.slice();
  for (let col = 0; col < size; col++) {
    let pivot = col;
    for (let row = col + 1; row < size; row++) if (Math.abs(a[row]![col]!) > Math.abs(a[pivot]![col]!)) pivot = row;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    [b[col], b[pivot]] = [b[pivot]!, b[col]!];
    for (let row = col + 1; row < size; row++) {
      const factor = f(a[row]![col]! * f(1 / a[col]![col]!));
      for (let k = col; k < size; k++) a[row]![k] = f(a[row]![k]! - f(factor * a[col]![k]!));
      b[row] = f(b[row]! - f(factor * b[col]!));
    }
  }
  const x = new Array<number>(size).fill(0);
  for (let row = size - 1; row >= 0; row--) {
    let sum = b[row]!;
    for (let k = row + 1; k < size; k++) sum = f(sum - f(a[row]![k]! * x[k]!));
    x[row] = f(sum / a[row]![row]!);
  }
  return x;
}
