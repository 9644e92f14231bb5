import type { SchedulerConfigReader } from './config.js';

const f = Math.fround;

/** The beta schedules diffusers knows; most classes accept the first three, DDPM all of them. */
export const betaScheduleNames = ['linear', 'scaled_linear', 'squaredcos_cap_v2', 'laplace', 'sigmoid'] as const;
/** A `beta_schedule` value. */
export type BetaScheduleName = (typeof betaScheduleNames)[number];
/** The `beta_schedule` values accepted by every class ported here except DDPM. */
export const commonBetaSchedules: readonly BetaScheduleName[] = ['linear', 'scaled_linear', 'squaredcos_cap_v2'];

/** The per-training-step quantities every scheduler derives from its betas (all float32 as in torch). */
export interface NoiseSchedule {
  /** `betas`, float32, `num_train_timesteps` values. */
  readonly betas: Float32Array;
  /** `alphas = 1 - betas`, float32. */
  readonly alphas: Float32Array;
  /** `alphas_cumprod = cumprod(alphas)`, float32. */
  readonly alphasCumprod: Float32Array;
}

/**
 * `torch.linspace(start, end, steps, dtype=torch.float32)` as torch's CPU kernel computes it on an AVX2 build:
 * float32 step, values from the start for the first half and from the end for the second half, filled in
 * 8-lane vectors (`base + lane * step`) for the bulk and one by one for the tail, with fused multiply-adds.
 * This reproduces SD's betas bit for bit.
 */
export function torchLinspaceFloat32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const s = f(start);
  const e = f(end);
  const step = f(f(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  // A float32 fused multiply-add: the float64 product of two float32 values is exact and the float64 sum
  // of these magnitudes is exact too, so one final rounding matches the hardware FMA.
  const scalarAt = (i: number): number => (i < halfway ? f(s + step * i) : f(e - step * (steps - i - 1)));
  const lanes = 8;
  const vectorized = Math.floor(steps / (2 * lanes)) * 2 * lanes;
  for (let i = 0; i < vectorized; i += lanes) {
    const base = scalarAt(i);
    for (let k = 0; k < lanes; k++) out[i + k] = f(base + step * k);
  }
  for (let i = vectorized; i < steps; i++) out[i] = scalarAt(i);
  return out;
}

/**
 * `torch.cumprod` of a float32 tensor on CPU: accumulated in float64 (torch's CPU accumulate type for
 * float), each partial product rounded to float32.
 */
export function cumprodFloat32(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  let accumulator = 1;
  for (let i = 0; i < values.length; i++) {
    accumulator *= values[i]!;
    out[i] = accumulator;
  }
  return out;
}

/** The `alpha_bar` transforms of diffusers' `betas_for_alpha_bar`. */
export type AlphaTransformType = 'cosine' | 'exp' | 'laplace';

/**
 * diffusers' `betas_for_alpha_bar`: discretises a continuous `alpha_bar(t)` into betas, each
 * `min(1 - alpha_bar(t2) / alpha_bar(t1), max_beta)`, computed in float64 and stored as float32.
 */
export function betasForAlphaBar(numDiffusionTimesteps: number, maxBeta = 0.999, transform: AlphaTransformType = 'cosine'): Float32Array {
  const alphaBar = (t: number): number => {
    switch (transform) {
      case 'cosine':
        return Math.cos((((t + 0.008) / 1.008) * Math.PI) / 2) ** 2;
      case 'exp':
        return Math.exp(t * -12.0);
      case 'laplace': {
        const lambda = -0.5 * Math.sign(0.5 - t || 1) * Math.log(1 - 2 * Math.abs(0.5 - t) + 1e-6);
        const snr = Math.exp(lambda);
        return Math.sqrt(snr / (1 + snr));
      }
    }
  };
  const betas = new Float32Array(numDiffusionTimesteps);
  for (let i = 0; i < numDiffusionTimesteps; i++) {
    const t1 = i / numDiffusionTimesteps;
    const t2 = (i + 1) / numDiffusionTimesteps;
    betas[i] = Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  }
  return betas;
}

/**
 * diffusers' `rescale_zero_terminal_snr` (Lin et al. 2023, Algorithm 1) in float32 torch arithmetic:
 * shifts and scales `sqrt(alphas_cumprod)` so the last timestep has zero signal, then converts back to betas.
 */
export function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const n = betas.length;
  const alphas = betas.map((beta) => f(1 - beta));
  const alphasBarSqrt = cumprodFloat32(alphas).map((value) => f(Math.sqrt(value)));
  const first = alphasBarSqrt[0]!;
  const last = alphasBarSqrt[n - 1]!;
  const scale = f(first / f(first - last));
  const alphasBar = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const shifted = f(f(alphasBarSqrt[i]! - last) * scale);
    alphasBar[i] = f(shifted * shifted);
  }
  const rescaled = new Float32Array(n);
  rescaled[0] = f(1 - alphasBar[0]!);
  for (let i = 1; i < n; i++) rescaled[i] = f(1 - f(alphasBar[i]! / alphasBar[i - 1]!));
  return rescaled;
}

/** Options of {@link makeBetas}, mirroring the diffusers constructor arguments. */
export interface BetaOptions {
  readonly numTrainTimesteps: number;
  readonly betaStart: number;
  readonly betaEnd: number;
  readonly betaSchedule: BetaScheduleName;
  readonly trainedBetas?: readonly number[] | undefined;
}

/** The betas a diffusers scheduler constructor builds from its configuration. */
export function makeBetas(options: BetaOptions): Float32Array {
  const { numTrainTimesteps, betaStart, betaEnd, betaSchedule, trainedBetas } = options;
  if (trainedBetas !== undefined) return Float32Array.from(trainedBetas);
  switch (betaSchedule) {
    case 'linear':
      return torchLinspaceFloat32(betaStart, betaEnd, numTrainTimesteps);
    case 'scaled_linear':
      return torchLinspaceFloat32(Math.sqrt(betaStart), Math.sqrt(betaEnd), numTrainTimesteps).map((x) => f(x * x));
    case 'squaredcos_cap_v2':
      return betasForAlphaBar(numTrainTimesteps);
    case 'laplace':
      return betasForAlphaBar(numTrainTimesteps, 0.999, 'laplace');
    case 'sigmoid': {
      // GeoDiff's sigmoid schedule, float32 throughout.
      const range = f(betaEnd - betaStart);
      const start = f(betaStart);
      return torchLinspaceFloat32(-6, 6, numTrainTimesteps).map((x) => f(f(f(1 / f(1 + f(Math.exp(-x)))) * range) + start));
    }
  }
}

/** Options of {@link noiseScheduleFromConfig}. */
export interface NoiseScheduleOptions {
  /** `beta_schedule` values the class accepts. */
  readonly allowedBetaSchedules?: readonly BetaScheduleName[];
  /** Whether the class reads `rescale_betas_zero_snr`. */
  readonly supportsZeroSnr?: boolean;
  /**
   * Whether the class then sets `alphas_cumprod[-1] = 2**-24` so that the first sigma stays finite
   * (the sigma-based classes: Euler, Euler a, DPM-Solver, UniPC).
   */
  readonly zeroSnrFloorsLastAlphaCumprod?: boolean;
}

/**
 * Builds betas, alphas and `alphas_cumprod` from `num_train_timesteps`, `beta_start`, `beta_end`,
 * `beta_schedule`, `trained_betas` and (where the class has it) `rescale_betas_zero_snr`.
 */
export function noiseScheduleFromConfig(reader: SchedulerConfigReader, options: NoiseScheduleOptions = {}): NoiseSchedule {
  const numTrainTimesteps = reader.integer('num_train_timesteps', 1);
  const trainedBetas = reader.optionalNumberList('trained_betas');
  if (trainedBetas !== undefined && trainedBetas.length !== numTrainTimesteps) {
    reader.fail('trained_betas', `a list of ${numTrainTimesteps} numbers (one per training timestep)`, `${trainedBetas.length} numbers`);
  }
  // diffusers only looks at beta_schedule when no trained_betas are given.
  const betaSchedule =
    trainedBetas === undefined ? reader.string('beta_schedule', options.allowedBetaSchedules ?? commonBetaSchedules) : 'linear';
  let betas = makeBetas({
    numTrainTimesteps,
    betaStart: reader.number('beta_start'),
    betaEnd: reader.number('beta_end'),
    betaSchedule,
    trainedBetas,
  });
  const rescale = options.supportsZeroSnr === true && reader.boolean('rescale_betas_zero_snr');
  if (rescale) betas = rescaleZeroTerminalSnr(betas);
  const alphas = betas.map((beta) => f(1 - beta));
  const alphasCumprod = cumprodFloat32(alphas);
  if (rescale && options.zeroSnrFloorsLastAlphaCumprod === true) alphasCumprod[alphasCumprod.length - 1] = 2 ** -24;
  return { betas, alphas, alphasCumprod };
}

/** `((1 - alphas_cumprod) / alphas_cumprod) ** 0.5` in float32: the training sigmas, ascending in t. */
export function trainingSigmas(alphasCumprod: Float32Array): Float32Array {
  return alphasCumprod.map((a) => f(Math.sqrt(f(f(1 - a) / a))));
}
