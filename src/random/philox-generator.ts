/**
 * A port of AUTOMATIC1111's `modules/rng_philox.py` (`Generator(seed).randn(shape)`), the numpy
 * imitation of `torch.randn` on NVIDIA GPUs: Philox 4x32-10 with one counter per element and a
 * one-output Box-Muller transform, computed in float64 as numpy does there and cast to float32.
 */
import type { RandomSource } from './random-source.js';
import { normalizeSeed } from './seed.js';
import { numelOf } from './shape.js';

const PHILOX_M0 = 0xd2511f53;
const PHILOX_M1 = 0xcd9e8d57;
const PHILOX_W0 = 0x9e3779b9;
const PHILOX_W1 = 0xbb67ae85;

// rng_philox.py keeps these as float32 numpy arrays; the arithmetic with them is float64.
const TWO_POW32_INV = Math.fround(2.3283064e-10);
const TWO_POW32_INV_2PI = Math.fround(2.3283064e-10 * 6.2831855);

/** High 32 bits of the 64-bit product of two unsigned 32-bit integers. */
function mulHi32(a: number, b: number): number {
  const aLow = a & 0xffff;
  const aHigh = a >>> 16;
  const bLow = b & 0xffff;
  const bHigh = b >>> 16;
  const lowLow = aLow * bLow;
  const lowHigh = aLow * bHigh;
  const highLow = aHigh * bLow;
  const carry = ((lowLow >>> 16) + (lowHigh & 0xffff) + (highLow & 0xffff)) >>> 16;
  return (aHigh * bHigh + (lowHigh >>> 16) + (highLow >>> 16) + carry) >>> 0;
}

/** A "philox" generator: every `randn` call uses the next offset (0, 1, 2, ...) with the same key. */
export class PhiloxGenerator implements RandomSource {
  private readonly keyLow: number;
  private readonly keyHigh: number;
  private callOffset = 0;

  /** Like `Generator(seed)`: the 64-bit seed is the Philox key. Throws `UserError` for invalid seeds. */
  constructor(seed: number | bigint) {
    const value = normalizeSeed(seed);
    this.keyLow = Number(value & 0xffffffffn);
    this.keyHigh = Number(value >> 32n);
  }

  /** The offset the next `randn` call will use (the number of calls so far). */
  get offset(): number {
    return this.callOffset;
  }

  /** `Generator.randn(shape)` as float32, row-major. */
  randn(shape: readonly number[]): Float32Array {
    const numel = numelOf(shape);
    const out = new Float32Array(numel);
    // rng_philox.py stores the offset into a uint32 counter word.
    const offset = this.callOffset >>> 0;
    this.callOffset++;
    for (let i = 0; i < numel; i++) {
      let c0 = offset;
      let c1 = 0;
      let c2 = i >>> 0;
      let c3 = 0;
      let k0 = this.keyLow;
      let k1 = this.keyHigh;
      for (let round = 0; round < 10; round++) {
        if (round > 0) {
          k0 = (k0 + PHILOX_W0) >>> 0;
          k1 = (k1 + PHILOX_W1) >>> 0;
        }
        const high0 = mulHi32(c0, PHILOX_M0);
        const low0 = Math.imul(c0, PHILOX_M0) >>> 0;
        const high2 = mulHi32(c2, PHILOX_M1);
        const low2 = Math.imul(c2, PHILOX_M1) >>> 0;
        c0 = (high2 ^ c1 ^ k0) >>> 0;
        c1 = low2;
        c2 = (high0 ^ c3 ^ k1) >>> 0;
        c3 = low0;
      }
      out[i] = boxMuller(c0, c1);
    }
    return out;
  }
}

/** rng_philox.py's `box_muller`: only the sine output, uniforms centred in their 2^-32 bins. */
function boxMuller(x: number, y: number): number {
  const u = x * TWO_POW32_INV + TWO_POW32_INV / 2;
  const v = y * TWO_POW32_INV_2PI + TWO_POW32_INV_2PI / 2;
  const s = Math.sqrt(-2 * Math.log(u));
  return Math.fround(s * Math.sin(v));
}
