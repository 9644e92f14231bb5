/**
 * One lane of `log256_ps` and `sincos256_ps` from PyTorch's `aten/src/ATen/native/cpu/avx_mathfun.h`
 * (Giovanni Garberoglio's AVX port of Julien Pommier's Cephes-based `sse_mathfun.h`), which torch's
 * AVX2 `normal_fill_16_AVX2` uses for the Box-Muller transform of `torch.randn` on float32 tensors with
 * at least 16 elements.
 *
 * Every operation is float32. The kernel is C++ compiled by GCC with `-mavx2 -mfma`, where the
 * `_mm256_mul_ps`/`_mm256_add_ps` intrinsics are plain vector arithmetic and `-ffp-contract=fast`
 * (GCC's default for C++) fuses a multiply into a following add or subtract when that is its only
 * use. This port applies the same contraction with an exact float32 FMA. Against the torch 1.13 AVX2
 * goldens the fusions of `y*z + e*q1` (log), `y*z - z*0.5` (cosine polynomial) and `y2*x + x` (sine
 * polynomial) are observable; the others give the same bits either way on that data and follow the
 * same compiler rule.
 */
import { fmaf32 } from './float32-math.js';

const f = Math.fround;

const MIN_NORM_POS = 1.1754943508222875e-38; // 0x00800000
const SQRTHF = f(0.707106781186547524);
const LOG_P0 = f(7.0376836292e-2);
const LOG_P1 = f(-1.151461031e-1);
const LOG_P2 = f(1.167699874e-1);
const LOG_P3 = f(-1.2420140846e-1);
const LOG_P4 = f(1.4249322787e-1);
const LOG_P5 = f(-1.6668057665e-1);
const LOG_P6 = f(2.0000714765e-1);
const LOG_P7 = f(-2.4999993993e-1);
const LOG_P8 = f(3.3333331174e-1);
const LOG_Q1 = f(-2.1219444e-4);
const LOG_Q2 = f(0.693359375);

const FOPI = f(1.27323954473516); // 4 / pi
const MINUS_DP1 = f(-0.78515625);
const MINUS_DP2 = f(-2.4187564849853515625e-4);
const MINUS_DP3 = f(-3.77489497744594108e-8);
const SINCOF_P0 = f(-1.9515295891e-4);
const SINCOF_P1 = f(8.3321608736e-3);
const SINCOF_P2 = f(-1.6666654611e-1);
const COSCOF_P0 = f(2.443315711809948e-5);
const COSCOF_P1 = f(-1.388731625493765e-3);
const COSCOF_P2 = f(4.166664568298827e-2);

const bitsF32 = new Float32Array(1);
const bitsI32 = new Int32Array(bitsF32.buffer);

/**
 * `log256_ps` for one float32 lane: the natural logarithm, NaN for `x <= 0`.
 * Denormal inputs are clamped to the smallest normal float first, as the original does.
 */
export function avxLogf(input: number): number {
  if (!(input > 0)) return Number.NaN;
  let x = input < MIN_NORM_POS ? MIN_NORM_POS : input;

  bitsF32[0] = x;
  const bits = bitsI32[0]!;
  // Mantissa with the exponent of 0.5, and the unbiased exponent plus one.
  bitsI32[0] = (bits & ~0x7f800000) | 0x3f000000;
  x = bitsF32[0]!;
  let e = f((bits >>> 23) - 0x7f + 1);

  if (x < SQRTHF) {
    e = f(e - 1);
    x = f(f(x - 1) + x);
  } else {
    x = f(x - 1);
  }

  const z = f(x * x);
  let y = fmaf32(LOG_P0, x, LOG_P1);
  y = fmaf32(y, x, LOG_P2);
  y = fmaf32(y, x, LOG_P3);
  y = fmaf32(y, x, LOG_P4);
  y = fmaf32(y, x, LOG_P5);
  y = fmaf32(y, x, LOG_P6);
  y = fmaf32(y, x, LOG_P7);
  y = fmaf32(y, x, LOG_P8);
  y = f(y * x);
  y = fmaf32(y, z, f(e * LOG_Q1));
  y = fmaf32(-z, 0.5, y);
  return fmaf32(e, LOG_Q2, f(x + y));
}

/**
 * `sincos256_ps` for one float32 lane: writes `sin(x)` to `out[0]` and `cos(x)` to `out[1]`
 * (Cephes range reduction by pi/4; accurate for |x| < 8192, which covers Box-Muller's [0, 2*pi)).
 */
export function avxSinCosf(input: number, out: Float64Array): void {
  let x = Math.abs(input);
  const sinSign = input < 0 || Object.is(input, -0) ? -1 : 1;

  let j = Math.trunc(f(x * FOPI));
  j = (j + 1) & ~1;
  const y = j;
  const swapSinSign = (j & 4) !== 0 ? -1 : 1;
  const cosSign = (~(j - 2) & 4) !== 0 ? -1 : 1;
  const firstPolynomialIsCos = (j & 2) === 0;

  // Extended-precision modular arithmetic: x = ((x - y*DP1) - y*DP2) - y*DP3.
  x = fmaf32(y, MINUS_DP1, x);
  x = fmaf32(y, MINUS_DP2, x);
  x = fmaf32(y, MINUS_DP3, x);

  const z = f(x * x);

  let cosPoly = fmaf32(COSCOF_P0, z, COSCOF_P1);
  cosPoly = fmaf32(cosPoly, z, COSCOF_P2);
  cosPoly = f(cosPoly * z);
  cosPoly = fmaf32(cosPoly, z, -f(z * 0.5));
  cosPoly = f(cosPoly + 1);

  let sinPoly = fmaf32(SINCOF_P0, z, SINCOF_P1);
  sinPoly = fmaf32(sinPoly, z, SINCOF_P2);
  sinPoly = f(sinPoly * z);
  sinPoly = fmaf32(sinPoly, x, x);

  // The sign flips are XORs of the sign bit in the original: multiplying by -1 is the same, also for zeros.
  const sine = firstPolynomialIsCos ? sinPoly : cosPoly;
  const cosine = firstPolynomialIsCos ? cosPoly : sinPoly;
  out[0] = sine * (sinSign * swapSinSign);
  out[1] = cosine * cosSign;
}
