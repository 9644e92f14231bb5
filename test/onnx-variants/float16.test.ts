import { test } from 'node:test';
import assert from 'node:assert/strict';
import { float16BitsToFloat32, float32ToFloat16Bits, fromFloat16Bits, roundToFloat16, toFloat16Bits } from '../support/onnx/float16.js';

// Reference values of IEEE 754 binary16.
const exact: [number, number][] = [
  [0, 0x0000],
  [-0, 0x8000],
  [1, 0x3c00],
  [-2, 0xc000],
  [0.5, 0x3800],
  [65504, 0x7bff], // largest finite
  [2 ** -14, 0x0400], // smallest normal
  [2 ** -24, 0x0001], // smallest subnormal
  [1023 * 2 ** -24, 0x03ff], // largest subnormal
  [999, 0x63ce],
  [500.5, 0x5fd2],
  [Infinity, 0x7c00],
  [-Infinity, 0xfc00],
];

test('exactly representable values convert both ways', () => {
  for (const [value, bits] of exact) {
    assert.equal(float32ToFloat16Bits(value), bits, `to half ${value}`);
    assert.ok(Object.is(float16BitsToFloat32(bits), value), `from half 0x${bits.toString(16)}`);
  }
});

test('rounding is to nearest, ties to even', () => {
  const ulpAt1 = 2 ** -10;
  assert.equal(float32ToFloat16Bits(1 + ulpAt1 / 2), 0x3c00, 'tie rounds down to even');
  assert.equal(float32ToFloat16Bits(1 + (3 * ulpAt1) / 2), 0x3c02, 'tie rounds up to even');
  assert.equal(float32ToFloat16Bits(1 + ulpAt1 / 2 + 2 ** -20), 0x3c01, 'just above a tie rounds up');
  assert.equal(float32ToFloat16Bits(1 + ulpAt1 / 2 - 2 ** -20), 0x3c00, 'just below a tie rounds down');
  assert.equal(float32ToFloat16Bits(2 - ulpAt1 / 4), 0x4000, 'carry into the exponent');
  assert.equal(float32ToFloat16Bits(65519), 0x7bff, 'below the overflow threshold');
  assert.equal(float32ToFloat16Bits(65520), 0x7c00, 'the tie above 65504 overflows to Infinity');
  assert.equal(float32ToFloat16Bits(-1e6), 0xfc00);
  assert.equal(float32ToFloat16Bits(2 ** -25), 0x0000, 'half the smallest subnormal ties to 0');
  assert.equal(float32ToFloat16Bits(3 * 2 ** -25), 0x0002, '1.5 subnormal ulps ties to 2');
  assert.equal(float32ToFloat16Bits(2 ** -25 + 2 ** -40), 0x0001);
  assert.equal(float32ToFloat16Bits(-(2 ** -26)), 0x8000, 'tiny negatives become -0');
  assert.equal(float32ToFloat16Bits(2 ** -14 - 2 ** -26), 0x0400, 'rounds up from subnormal to the smallest normal');
});

test('NaN stays NaN', () => {
  const bits = float32ToFloat16Bits(NaN);
  assert.equal(bits & 0x7c00, 0x7c00);
  assert.notEqual(bits & 0x03ff, 0);
  assert.ok(Number.isNaN(float16BitsToFloat32(0x7e00)));
  assert.ok(Number.isNaN(float16BitsToFloat32(0xfc01)));
});

test('every float16 survives half → float32 → half', () => {
  for (let bits = 0; bits < 0x10000; bits++) {
    const value = float16BitsToFloat32(bits);
    if (Number.isNaN(value)) continue;
    assert.equal(float32ToFloat16Bits(value), bits);
  }
});

test('every float32 between two neighbouring halves rounds to the nearer one', () => {
  // Sample midpoints and near-midpoints between all consecutive positive finite halves.
  for (let bits = 0; bits < 0x7bff; bits++) {
    const low = float16BitsToFloat32(bits);
    const high = float16BitsToFloat32(bits + 1);
    const mid = (low + high) / 2; // exact in float32: halves have 11 significant bits
    const expectedTie = bits % 2 === 0 ? bits : bits + 1;
    assert.equal(float32ToFloat16Bits(mid), expectedTie, `tie between 0x${bits.toString(16)} and its successor`);
    assert.equal(float32ToFloat16Bits(Math.fround(mid + (high - low) / 8)), bits + 1);
    assert.equal(float32ToFloat16Bits(Math.fround(mid - (high - low) / 8)), bits);
  }
});

test('array helpers convert element-wise', () => {
  const values = Float32Array.from([1, 1 + 2 ** -11, -3.14159, 1e-8]);
  const bits = toFloat16Bits(values);
  assert.deepEqual(Array.from(bits), [0x3c00, 0x3c00, 0xc248, 0x0000]);
  assert.deepEqual(Array.from(fromFloat16Bits(bits)), [1, 1, -3.140625, 0]);
  assert.deepEqual(Array.from(roundToFloat16(values)), [1, 1, -3.140625, 0]);
});
