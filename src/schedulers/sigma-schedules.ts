import { betaQuantile } from './beta-distribution.js';
import { numpyLinspace } from './numpy-compat.js';
import { checkedOutput } from './sample-ops.js';

const f = Math.fround;

/**
 * Karras et al. (2022) sigmas, `(max^(1/ρ) + ramp·(min^(1/ρ) − max^(1/ρ)))^ρ` with ρ = 7, descending,
 * `numInferenceSteps` values, float64 like diffusers' numpy code.
 */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, numInferenceSteps: number): Float64Array {
  const rho = 7.0;
  const ramp = numpyLinspace(0, 1, numInferenceSteps);
  const minInvRho = sigmaMin ** (1 / rho);
  const maxInvRho = sigmaMax ** (1 / rho);
  return ramp.map((r) => (maxInvRho + r * (minInvRho - maxInvRho)) ** rho);
}

/** Exponential sigmas: `exp(linspace(log(max), log(min), n))`, descending. */
export function exponentialSigmas(sigmaMin: number, sigmaMax: number, numInferenceSteps: number): Float64Array {
  return numpyLinspace(Math.log(sigmaMax), Math.log(sigmaMin), numInferenceSteps).map((value) => Math.exp(value));
}

/** Beta sigmas (Lee et al. 2024): `min + ppf(1 − linspace(0, 1, n); α, β)·(max − min)`, α = β = 0.6. */
export function betaSigmas(sigmaMin: number, sigmaMax: number, numInferenceSteps: number, alpha = 0.6, beta = 0.6): Float64Array {
  return numpyLinspace(0, 1, numInferenceSteps).map((t) => sigmaMin + betaQuantile(1 - t, alpha, beta) * (sigmaMax - sigmaMin));
}

/** Lu et al.'s uniform-logSNR schedule: lambdas evenly spaced from `lambdaMax` to `lambdaMin` (ρ = 1). */
export function luLambdas(lambdaMin: number, lambdaMax: number, numInferenceSteps: number): Float64Array {
  return numpyLinspace(0, 1, numInferenceSteps).map((r) => (lambdaMax + r * (lambdaMin - lambdaMax)) ** 1);
}

/** `np.log` of a float32 array (numpy keeps float32). */
export function logFloat32(values: Float32Array): Float32Array {
  return values.map((value) => f(Math.log(value)));
}

/**
 * diffusers' `_sigma_to_t`: the (fractional) training timestep whose log-sigma brackets `log(sigma)`,
 * found on the float32 `logSigmas` table (ascending) and interpolated linearly. numpy evaluates this with
 * one-element float32 arrays, so the float64 `log(sigma)` is cast to float32 and the weight is float32;
 * only the final `(1 − w)·low + w·high` is float64.
 */
export function sigmaToT(sigma: number, logSigmas: Float32Array): number {
  const logSigma = f(Math.log(Math.max(sigma, 1e-10)));
  // argmax(cumsum(dists >= 0)) is the last index whose log-sigma does not exceed log(sigma), or 0.
  let lowIndex = 0;
  for (let i = 0; i < logSigmas.length; i++) {
    if (f(logSigma - logSigmas[i]!) >= 0) lowIndex = i;
  }
  lowIndex = Math.min(lowIndex, logSigmas.length - 2);
  const highIndex = lowIndex + 1;
  const low = logSigmas[lowIndex]!;
  const high = logSigmas[highIndex]!;
  let w = f(f(low - logSigma) / f(low - high));
  w = Math.min(Math.max(w, 0), 1);
  return f(1 - w) * lowIndex + w * highIndex;
}

/**
 * diffusers' `_sigma_to_alpha_sigma_t` in float32: `alpha_t = 1/√(σ²+1)`, `sigma_t = σ·alpha_t`
 * (or `1 − σ`, `σ` for flow-matching sigmas).
 */
export function sigmaToAlphaSigmaT(sigma: number, useFlowSigmas = false): [alphaT: number, sigmaT: number] {
  if (useFlowSigmas) return [f(1 - sigma), sigma];
  const alphaT = f(1 / f(Math.sqrt(f(f(sigma * sigma) + 1))));
  return [alphaT, f(sigma * alphaT)];
}

/** `log(alpha_t) − log(sigma_t)` in float32 (`+∞` at sigma 0). */
export function lambdaFromAlphaSigma(alphaT: number, sigmaT: number): number {
  return f(f(Math.log(alphaT)) - f(Math.log(sigmaT)));
}

/**
 * `init_noise_sigma` of the sigma-based schedulers (Euler, Euler a, LMS): the largest sigma for "linspace"
 * and "trailing" spacing, else `sqrt(max² + 1)`, in float32.
 */
export function sigmaInitNoiseSigma(sigmas: Float32Array, timestepSpacing: string): number {
  let max = 0;
  for (const sigma of sigmas) if (sigma > max) max = sigma;
  return timestepSpacing === 'linspace' || timestepSpacing === 'trailing'
    ? max
    : Math.fround(Math.sqrt(Math.fround(Math.fround(max * max) + 1)));
}

/** `scale_model_input` of the sigma-based schedulers: `sample / sqrt(sigma² + 1)` in float32, into `out` or a new array. */
export function scaleBySigma(sample: Float32Array, sigma: number, into?: Float32Array): Float32Array {
  const f = Math.fround;
  const scale = f(Math.sqrt(f(f(sigma * sigma) + 1)));
  const out = into === undefined ? new Float32Array(sample.length) : checkedOutput(into, sample.length, [sample], 'scaleModelInput out');
  for (let i = 0; i < sample.length; i++) out[i] = sample[i]! / scale;
  return out;
}
