import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { avxLogf, avxSinCosf } from '../../src/random/avx-mathfun.js';
import { fmaf32 } from '../../src/random/float32-math.js';
import { Mt19937 } from '../../src/random/mt19937.js';

/** Exact a*b + c for float32 inputs, rounded once to float32 (nearest, ties to even), with BigInt. */
function referenceFma(a: number, b: number, c: number): number {
  const scale = 2 ** 149; // every float32 is an integer multiple of 2^-149
  let n = BigInt(a * scale) * BigInt(b * scale) + BigInt(c * scale) * (1n << 149n);
  const fractionBits = 298;
  if (n === 0n) return 0;
  const negative = n < 0n;
  if (negative) n = -n;
  const exponent = n.toString(2).length - 1 - fractionBits;
  const quantum = Math.max(exponent - 23, -149);
  const drop = quantum + fractionBits;
  let mantissa: bigint;
  if (drop <= 0) {
    mantissa = n << BigInt(-drop);
  } else {
    mantissa = n >> BigInt(drop);
    const rest = n - (mantissa << BigInt(drop));
    const half = 1n << BigInt(drop - 1);
    if (rest > half || (rest === half && (mantissa & 1n) === 1n)) mantissa += 1n;
  }
  const value = Number(mantissa) * 2 ** quantum;
  return negative ? -value : value;
}

describe('fmaf32', () => {
  it('rounds once where rounding to double first would hit a float32 midpoint', () => {
    // a*b = 2^-24 + 4688 * 2^-70: the double sum with 1 is exactly the midpoint 1 + 2^-24.
    const a = Math.fround(2 ** -12 * (1 + 2896 * 2 ** -23));
    const b = Math.fround(2 ** -12 * (1 - 2895 * 2 ** -23));
    assert.equal(Math.fround(a * b + 1), 1); // the naive double-rounded result
    assert.equal(fmaf32(a, b, 1), 1 + 2 ** -23);
    assert.equal(fmaf32(-a, b, -1), -(1 + 2 ** -23));
    assert.equal(fmaf32(a, -b, 1), 1 - 2 ** -24); // 1 - 2^-24 - tiny: no tie, nearest float below 1
    assert.equal(referenceFma(a, b, 1), 1 + 2 ** -23);
  });

  it('agrees with an exact BigInt reference on random and cancelling operands', () => {
    const bits = new Mt19937(2024);
    const word = new Uint32Array(1);
    const float = new Float32Array(word.buffer);
    const randomFloat = (maxExponent: number): number => {
      // random sign and mantissa, exponent within +-maxExponent of 1
      const exponent = 127 + (bits.nextUint32() % (2 * maxExponent + 1)) - maxExponent;
      word[0] = (bits.nextUint32() & 0x807fffff) | (exponent << 23);
      return float[0]!;
    };
    for (let i = 0; i < 20000; i++) {
      const a = randomFloat(20);
      const b = randomFloat(20);
      // Half of the cases cancel the leading bits of the product to provoke ties and tiny results.
      const c = i % 2 === 0 ? randomFloat(40) : Math.fround(-a * b * (1 + (bits.nextUint32() % 8) * 2 ** -23));
      const expected = referenceFma(a, b, c);
      assert.ok(Object.is(fmaf32(a, b, c), expected) || (expected === 0 && fmaf32(a, b, c) === 0), `fmaf32(${a}, ${b}, ${c})`);
    }
  });
});

describe('avx_mathfun port', () => {
  it('log256_ps lane is accurate to float precision over the Box-Muller input range', () => {
    for (let k = 1; k <= 2 ** 24; k += 4099) {
      const x = k * 2 ** -24;
      const relative = Math.abs(avxLogf(x) - Math.log(x)) / Math.max(Math.abs(Math.log(x)), 1e-30);
      assert.ok(relative < 4e-7 || Math.abs(avxLogf(x) - Math.log(x)) < 1e-7, `log(${x})`);
    }
    assert.equal(avxLogf(1), 0);
    assert.ok(Number.isNaN(avxLogf(0)) && Number.isNaN(avxLogf(-1)));
  });

  it('sincos256_ps lane is accurate over [0, 2*pi)', () => {
    const out = new Float64Array(2);
    for (let k = 0; k < 2 ** 24; k += 4099) {
      const x = Math.fround(Math.fround(2 * Math.PI) * (k * 2 ** -24));
      avxSinCosf(x, out);
      assert.ok(Math.abs(out[0]! - Math.sin(x)) < 2e-7, `sin(${x})`);
      assert.ok(Math.abs(out[1]! - Math.cos(x)) < 2e-7, `cos(${x})`);
    }
    avxSinCosf(-1, out);
    assert.ok(Math.abs(out[0]! - Math.sin(-1)) < 2e-7 && Math.abs(out[1]! - Math.cos(-1)) < 2e-7);
  });
});

describe('Mt19937', () => {
  it('produces the reference init_genrand(5489) sequence', () => {
    // The first outputs of std::mt19937 with its default seed, and the 10000th (C++ standard requirement).
    const engine = new Mt19937(5489);
    assert.equal(engine.nextUint32(), 3499211612);
    assert.equal(engine.nextUint32(), 581869302);
    for (let i = 2; i < 9999; i++) engine.nextUint32();
    assert.equal(engine.nextUint32(), 4123659995);
  });
});
