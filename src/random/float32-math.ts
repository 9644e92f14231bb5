/**
 * Exact single-precision arithmetic helpers for emulating float32 SIMD code in JavaScript doubles.
 *
 * Sums, differences and products of two float32 values are correctly rounded by
 * `Math.fround(a op b)` (the double result carries enough bits that the second rounding is harmless),
 * but a fused multiply-add is not: rounding `a * b + c` first to double and then to float32 can land
 * exactly on a float32 midpoint and round the wrong way. {@link fmaf32} avoids that double rounding.
 */

const scratch = new Float64Array(1);
// Little-endian word order: index 0 holds the low 32 bits of the double (all Node targets are LE).
const scratchWords = new Uint32Array(scratch.buffer);

/**
 * `fmaf(a, b, c)`: `a * b + c` rounded once to float32 (round to nearest, ties to even), as the x86
 * `vfmadd` instructions compute it. All three arguments must already be float32 values.
 *
 * The product of two float32 values is exact in a double; the sum is computed with its exact error
 * (TwoSum) and rounded to odd in double precision, which makes the final rounding to float32 correct
 * (round-to-odd with at least two extra bits, Boldo & Melquiond 2008).
 */
export function fmaf32(a: number, b: number, c: number): number {
  const product = a * b;
  const sum = product + c;
  const virtualC = sum - product;
  const error = product - (sum - virtualC) + (c - virtualC);
  if (error === 0) return Math.fround(sum);
  scratch[0] = sum;
  const low = scratchWords[0]!;
  if ((low & 1) === 0) {
    // Inexact and even: step one double ulp towards the exact value to make the last bit sticky.
    if (error > 0 === sum > 0) {
      scratchWords[0] = low + 1; // low is even, so no carry into the high word
    } else {
      scratchWords[0] = low - 1; // a Uint32Array store wraps 0 - 1 to 0xffffffff
      if (low === 0) scratchWords[1] = scratchWords[1]! - 1;
    }
  }
  return Math.fround(scratch[0]!);
}
