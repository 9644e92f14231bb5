import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { TorchCpuGenerator } from '../../src/random/torch-cpu-generator.js';
import { assertMatchesCase, assertSameFloat32, caseLabel, rngCases } from './rng-fixture.js';

const cases = rngCases();

describe('TorchCpuGenerator against torch 1.13 (AVX2) goldens', () => {
  it('covers both code paths and every seed in the fixture', () => {
    const sizes = new Set(cases.torch_cpu_randn.map((c) => c.numel));
    assert.ok([...sizes].some((n) => n < 16) && [...sizes].some((n) => n >= 16 && n % 16 !== 0));
    assert.deepEqual(
      [...new Set(cases.torch_cpu_randn.map((c) => c.seed))].sort((a, b) => a - b),
      [0, 42, 1234, 4294967295],
    );
  });

  for (const golden of cases.torch_cpu_randn) {
    const label = caseLabel('torch_cpu_randn', golden);
    it(`${label} matches bit for bit`, () => {
      assertMatchesCase(new TorchCpuGenerator(golden.seed).randn(golden.shape), golden, label);
    });
  }

  for (const sequence of cases.torch_sequences) {
    it(`seed ${sequence.seed}: state and the cached Box-Muller value carry over between calls`, () => {
      const generator = new TorchCpuGenerator(sequence.seed);
      sequence.calls.forEach((call, index) => {
        assertSameFloat32(generator.randn(call.shape), call.data, `call ${index} [${call.shape.join(',')}]`);
      });
    });
  }

  it('matches diffusers randn_tensor with one generator', () => {
    const golden = cases.diffusers_randn_tensor.find((c) => c.seed !== undefined)!;
    assertSameFloat32(new TorchCpuGenerator(golden.seed!).randn(golden.shape), golden.data, golden.call);
  });
});

describe('TorchCpuGenerator seeding', () => {
  const small = cases.torch_cpu_randn.find((c) => c.seed === 0 && c.numel === 5)!;
  const seed42 = cases.torch_cpu_randn.find((c) => c.seed === 42 && c.numel === 256)!;
  const seedMax32 = cases.torch_cpu_randn.find((c) => c.seed === 4294967295 && c.numel === 768)!;

  it('manualSeed drops the cached normal value and restarts the stream', () => {
    const generator = new TorchCpuGenerator(7);
    generator.randn([5]); // leaves a cached sine value behind
    generator.manualSeed(0);
    assertSameFloat32(generator.randn(small.shape), small.data!, 'after manualSeed(0)');
  });

  it('a 0-element draw consumes nothing', () => {
    const generator = new TorchCpuGenerator(0);
    assert.equal(generator.randn([0]).length, 0);
    assert.equal(generator.randn([2, 0, 3]).length, 0);
    assertSameFloat32(generator.randn(small.shape), small.data!, 'after empty draws');
  });

  it('a 0-d shape draws one value from the scalar path', () => {
    const value = new TorchCpuGenerator(0).randn([]);
    assert.equal(value.length, 1);
    assert.equal(value[0], Math.fround(small.data![0]!));
  });

  it('uses only the low 32 bits of the seed for mt19937, like torch', () => {
    const generator = new TorchCpuGenerator(2n ** 32n + 42n);
    assert.equal(generator.initialSeed, 2n ** 32n + 42n);
    assertSameFloat32(generator.randn(seed42.shape), seed42.data!, 'seed 2^32 + 42');
    assertSameFloat32(new TorchCpuGenerator(2n ** 64n - 1n).randn(seedMax32.shape), seedMax32.data!, 'seed 2^64 - 1');
  });

  it('accepts a number and the same bigint alike', () => {
    assert.deepEqual(new TorchCpuGenerator(1234).randn([3, 7]), new TorchCpuGenerator(1234n).randn([3, 7]));
  });

  it('rejects seeds outside 0..2^64-1 with a UserError', () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 53, -1n, 2n ** 64n]) {
      assert.throws(
        () => new TorchCpuGenerator(bad),
        (error: unknown) => isUserError(error) && error.identifier === 'options.seed',
        String(bad),
      );
    }
  });

  it('rejects malformed shapes', () => {
    const generator = new TorchCpuGenerator(0);
    assert.throws(() => generator.randn([2, -1]), RangeError);
    assert.throws(() => generator.randn([1.5]), RangeError);
  });
});
