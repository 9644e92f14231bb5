/**
 * IEEE 754 half-precision conversion for fp16 model folders. Node 20 has no Float16Array, so fp16 tensors
 * travel as raw 16-bit patterns in a Uint16Array and are converted at the model boundary.
 */

const scratch = new DataView(new ArrayBuffer(4));

/** Rounds one float32 value to the nearest half (ties to even) and returns its bit pattern. */
export function float32ToFloat16Bits(value: number): number {
  scratch.setFloat32(0, value);
  const bits = scratch.getUint32(0);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;

  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0); // Inf, or a quiet NaN
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00; // overflow to infinity
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign; // underflows to zero even after rounding
    mantissa |= 0x800000; // make the implicit leading one explicit for the subnormal shift
    const shift = 14 - halfExponent;
    const half = mantissa >>> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    const roundUp = remainder > halfway || (remainder === halfway && (half & 1) === 1);
    return sign | (half + (roundUp ? 1 : 0));
  }
  const half = (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  const roundUp = remainder > 0x1000 || (remainder === 0x1000 && (half & 1) === 1);
  // A carry out of the mantissa correctly bumps the exponent (and can reach infinity).
  return sign | (half + (roundUp ? 1 : 0));
}

const halfToFloatTable: Float32Array = (() => {
  const table = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >>> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    if (exponent === 0) table[bits] = sign * mantissa * 2 ** -24;
    else if (exponent === 0x1f) table[bits] = mantissa === 0 ? sign * Infinity : NaN;
    else table[bits] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return table;
})();

/** Converts a float32 array to half-precision bit patterns. */
export function toFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float32ToFloat16Bits(values[i]!);
  return out;
}

/** Converts half-precision bit patterns to float32. */
export function fromFloat16(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfToFloatTable[bits[i]!]!;
  return out;
}
