import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PhiloxGenerator } from '../../src/random/philox-generator.js';
import { assertMatchesCase, assertSameFloat32, caseLabel, rngCases } from './rng-fixture.js';

const cases = rngCases();

describe('PhiloxGenerator against AUTOMATIC1111 rng_philox.py goldens', () => {
  for (const golden of cases.philox_per_rng_philox_py) {
    const label = caseLabel('philox', golden);
    it(`${label} matches bit for bit`, () => {
      assertMatchesCase(new PhiloxGenerator(golden.seed).randn(golden.shape), golden, label);
    });
  }

  for (const sequence of cases.philox_sequences) {
    it(`seed ${sequence.seed}: the offset advances by one per call`, () => {
      const generator = new PhiloxGenerator(sequence.seed);
      sequence.calls.forEach((call, index) => {
        assert.equal(generator.offset, index);
        assertSameFloat32(generator.randn(call.shape), call.data, `call ${index} [${call.shape.join(',')}]`);
      });
      assert.equal(generator.offset, sequence.calls.length);
    });
  }
});

describe('PhiloxGenerator seeding', () => {
  it('uses all 64 bits of the seed as the key', () => {
    const low = new PhiloxGenerator(0).randn([32]);
    const high = new PhiloxGenerator(2n ** 32n).randn([32]);
    assert.notDeepEqual(high, low);
    const max = new PhiloxGenerator(2n ** 64n - 1n).randn([32]);
    assert.equal(max.length, 32);
    assert.ok(max.every(Number.isFinite));
    assert.notDeepEqual(max, new PhiloxGenerator(0xffffffff).randn([32]));
  });

  it('depends only on the element count, not on how it is shaped', () => {
    assert.deepEqual(new PhiloxGenerator(5).randn([2, 3, 4]), new PhiloxGenerator(5).randn([24]));
  });
});
