import type { StepContext } from './scheduler.js';

const f = Math.fround;

/** Throws unless `modelOutput`, `sample` and `context.shape` describe the same number of elements. */
export function assertStepShapes(modelOutput: Float32Array, sample: Float32Array, context: StepContext): void {
  const expected = context.shape.reduce((a, b) => a * b, 1);
  if (sample.length !== expected || modelOutput.length !== expected) {
    throw new RangeError(
      `step(): sample (${sample.length}) and modelOutput (${modelOutput.length}) must both have ${expected} elements ` +
        `for shape [${context.shape.join(', ')}]`,
    );
  }
}

/** Draws `randn(shape)` from the step's generator, failing clearly when the caller passed none. */
export function drawNoise(context: StepContext, className: string, length: number): Float32Array {
  if (context.generator === undefined) throw new Error(`${className}.step() draws noise and needs context.generator`);
  const noise = context.generator.randn(context.shape);
  if (noise.length !== length) throw new RangeError(`generator returned ${noise.length} values, expected ${length}`);
  return noise;
}

/** `x.clamp(-range, range)` in place. */
export function clampInPlace(values: Float32Array, range: number): void {
  const low = f(-range);
  const high = f(range);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < low) values[i] = low;
    else if (v > high) values[i] = high;
  }
}

/**
 * diffusers' `_threshold_sample` (Imagen's dynamic thresholding), in place: per batch item, `s` is the
 * `ratio` quantile of |x| (torch.quantile, linear interpolation) clamped to `[1, maxValue]`, then
 * `x = clamp(x, -s, s) / s`.
 */
export function thresholdSampleInPlace(values: Float32Array, batchSize: number, ratio: number, maxValue: number): void {
  const perItem = values.length / batchSize;
  const sorted = new Float32Array(perItem);
  const q = f(ratio);
  const rank = f(q * (perItem - 1));
  const below = Math.floor(rank);
  const above = Math.ceil(rank);
  const weight = f(rank - below);
  for (let b = 0; b < batchSize; b++) {
    const offset = b * perItem;
    for (let i = 0; i < perItem; i++) sorted[i] = Math.abs(values[offset + i]!);
    sorted.sort();
    const low = sorted[below]!;
    const high = sorted[above]!;
    // torch.lerp's two-sided formula.
    const quantile = weight < 0.5 ? f(low + f(weight * f(high - low))) : f(high - f(f(high - low) * f(1 - weight)));
    const s = f(Math.min(Math.max(quantile, 1), maxValue));
    for (let i = 0; i < perItem; i++) {
      const v = values[offset + i]!;
      values[offset + i] = f(Math.min(Math.max(v, -s), s) / s);
    }
  }
}

function sharesMemory(a: Float32Array, b: Float32Array): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/** Checks a caller-supplied output buffer: right length, and no shared memory with the inputs it is computed from. */
export function checkedOutput(out: Float32Array, length: number, inputs: readonly Float32Array[], what: string): Float32Array {
  if (out.length !== length) throw new RangeError(`${what} has ${out.length} elements, expected ${length}`);
  if (inputs.some((input) => sharesMemory(out, input))) throw new RangeError(`${what} must not share memory with the step's inputs`);
  return out;
}

/** The array `step()` writes `prev_sample` into: `context.prevSampleOut` when the caller recycles one, else a new array. */
export function prevSampleBuffer(context: StepContext, length: number, ...inputs: Float32Array[]): Float32Array {
  const out = context.prevSampleOut;
  return out === undefined ? new Float32Array(length) : checkedOutput(out, length, inputs, 'prevSampleOut');
}

/** `scale_model_input` of schedulers that do not scale: `sample` itself, or a copy in `out` when one is given. */
export function unscaledModelInput(sample: Float32Array, out: Float32Array | undefined): Float32Array {
  if (out === undefined) return sample;
  checkedOutput(out, sample.length, [sample], 'scaleModelInput out').set(sample);
  return out;
}

/** Copies an array so that later changes by the caller cannot reach the scheduler's history. */
export function snapshot(values: Float32Array): Float32Array {
  return values.slice();
}

/**
 * diffusers' DDPM-family `add_noise`: `√ᾱ_t·x + √(1 − ᾱ_t)·noise` in float32, with `ᾱ_t` looked up at the
 * integer training timestep `timestep`.
 */
export function addNoiseVariancePreserving(
  alphasCumprod: Float32Array,
  originalSamples: Float32Array,
  noise: Float32Array,
  timestep: number,
): Float32Array {
  const alpha = alphasCumprod[timestep];
  if (alpha === undefined) throw new RangeError(`add_noise: timestep ${timestep} is outside the training schedule`);
  const sqrtAlpha = f(Math.sqrt(alpha));
  const sqrtOneMinusAlpha = f(Math.sqrt(f(1 - alpha)));
  const out = new Float32Array(originalSamples.length);
  for (let i = 0; i < out.length; i++) out[i] = f(f(sqrtAlpha * originalSamples[i]!) + f(sqrtOneMinusAlpha * noise[i]!));
  return out;
}
