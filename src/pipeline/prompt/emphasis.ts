import type { EmphasisMode } from './tokenize-prompt.js';

/**
 * AUTOMATIC1111's emphasis (`modules/sd_emphasis.py`), applied in place to one chunk's encoder output
 * `[tokens, hiddenSize]` (float32, as torch computes it):
 *
 * - `no-norm`: every token's vector is multiplied by its weight (`z · float32(multiplier)`);
 * - `original`: the same, then the whole chunk (bos, eos and padding included) is multiplied by
 *   `mean before / mean after`, so a weight on one word changes every vector of its chunk;
 * - `off`: nothing (all weights are 1 there anyway).
 *
 * A chunk whose weights are all 1 is left exactly as the encoder returned it in every mode: A1111's rescale is
 * then `m / m`, 1 — except when the mean is exactly zero, where torch produces NaN. The same guard applies to a
 * weighted chunk whose rescale is not a finite, non-zero number (a mean of zero before or after weighting): it is
 * left unnormalised instead of becoming NaN or all zeros. Trained CLIP encoders do not produce such means;
 * random-weight test models (whose final LayerNorm makes every mean zero up to rounding) do.
 */
export function applyEmphasis(hidden: Float32Array, multipliers: readonly number[], hiddenSize: number, mode: EmphasisMode): void {
  if (hidden.length !== multipliers.length * hiddenSize) {
    throw new RangeError(`emphasis: ${hidden.length} values for ${multipliers.length} tokens of ${hiddenSize}`);
  }
  if (mode === 'off' || multipliers.every((m) => m === 1)) return;
  const originalMean = mode === 'original' ? float32Mean(hidden) : 0;
  for (let token = 0; token < multipliers.length; token++) {
    const multiplier = Math.fround(multipliers[token]!);
    if (multiplier === 1) continue;
    const start = token * hiddenSize;
    for (let i = start; i < start + hiddenSize; i++) hidden[i] = Math.fround(hidden[i]! * multiplier);
  }
  if (mode !== 'original') return;
  const ratio = Math.fround(originalMean / float32Mean(hidden));
  if (!Number.isFinite(ratio) || ratio === 0) return;
  for (let i = 0; i < hidden.length; i++) hidden[i] = Math.fround(hidden[i]! * ratio);
}

/** `tensor.mean()` of float32 values as a float32 (summed in float64, which is closer than torch's float32 sum). */
function float32Mean(values: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return Math.fround(sum / values.length);
}
