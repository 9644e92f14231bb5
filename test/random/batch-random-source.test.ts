import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchRandomSource } from '../../src/random/batch-random-source.js';
import { PhiloxGenerator } from '../../src/random/philox-generator.js';
import { TorchCpuGenerator } from '../../src/random/torch-cpu-generator.js';
import { assertSameFloat32, rngCases } from './rng-fixture.js';

const cases = rngCases();

describe('BatchRandomSource', () => {
  it('matches diffusers randn_tensor with a list of generators', () => {
    const golden = cases.diffusers_randn_tensor.find((c) => c.seeds !== undefined)!;
    const source = new BatchRandomSource(golden.seeds!.map((seed) => new TorchCpuGenerator(seed)));
    assert.equal(source.batchSize, golden.seeds!.length);
    assertSameFloat32(source.randn(golden.shape), golden.data, golden.call);
  });

  it('differs from one generator drawing the whole batch', () => {
    const golden = cases.diffusers_randn_tensor.find((c) => c.seeds !== undefined)!;
    const single = new TorchCpuGenerator(golden.seeds![0]!).randn(golden.shape);
    const batched = new BatchRandomSource(golden.seeds!.map((seed) => new TorchCpuGenerator(seed))).randn(golden.shape);
    assert.deepEqual(batched.subarray(0, 256), single.subarray(0, 256));
    assert.notDeepEqual(batched.subarray(256), single.subarray(256));
  });

  it('keeps each generator state for later draws (scheduler noise after the latents)', () => {
    const source = new BatchRandomSource([new PhiloxGenerator(1), new PhiloxGenerator(2)]);
    source.randn([2, 4, 2, 2]);
    const second = source.randn([2, 4, 2, 2]);
    const one = new PhiloxGenerator(1);
    one.randn([1, 4, 2, 2]);
    const two = new PhiloxGenerator(2);
    two.randn([1, 4, 2, 2]);
    assert.deepEqual(second, Float32Array.of(...one.randn([1, 4, 2, 2]), ...two.randn([1, 4, 2, 2])));
  });

  it('with one generator draws the whole shape from it, like diffusers with a one-element list', () => {
    assert.deepEqual(new BatchRandomSource([new TorchCpuGenerator(3)]).randn([2, 4, 3, 3]), new TorchCpuGenerator(3).randn([2, 4, 3, 3]));
  });

  it('rejects an empty list and a batch size that does not match', () => {
    assert.throws(() => new BatchRandomSource([]), RangeError);
    const source = new BatchRandomSource([new TorchCpuGenerator(1), new TorchCpuGenerator(2)]);
    assert.throws(() => source.randn([3, 4, 8, 8]), RangeError);
    assert.throws(() => source.randn([]), RangeError);
  });
});
