import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchKeyOf, toPipelineBatch } from '../../src/jobs/pipeline-batch.js';
import type { InitImage } from '../../src/pipeline/stable-diffusion.js';
import type { JobSpec } from '../../src/store/index.js';

const imagine: JobSpec = {
  kind: 'imagine',
  prompt: 'a lighthouse',
  negativePrompt: 'blur',
  seed: '18446744073709551615',
  steps: 4,
  guidance: 7.5,
  width: 96,
  height: 64,
  scheduler: 'euler',
  count: 2,
  strength: 0.7,
  sourceImageUrl: null,
};
const picture: InitImage = { pixels: new Float32Array(3 * 96 * 64), width: 96, height: 64 };

describe('toPipelineBatch', () => {
  it('turns job records into the pipeline call: each job its own part, the batch the shared part', () => {
    const other = { ...imagine, prompt: 'a harbour', negativePrompt: '', seed: '7', guidance: 9, count: 1 };
    const call = toPipelineBatch([{ job: imagine }, { job: other }], 'philox');
    assert.deepEqual(call.jobs, [
      { prompt: 'a lighthouse', negativePrompt: 'blur', guidanceScale: 7.5, seed: 18446744073709551615n, numImages: 2 },
      { prompt: 'a harbour', negativePrompt: '', guidanceScale: 9, seed: 7n, numImages: 1 },
    ]);
    assert.deepEqual(call.parameters, { width: 96, height: 64, numInferenceSteps: 4, scheduler: 'euler', rng: 'philox' });
  });

  it('gives a remix its picture and the strength', () => {
    const remix: JobSpec = { ...imagine, kind: 'remix', strength: 0.5, sourceImageUrl: 'https://cdn.example/a.png' };
    const call = toPipelineBatch([{ job: remix, initImage: picture }], 'cpu');
    assert.equal(call.jobs[0]!.initImage, picture);
    assert.equal(call.parameters.strength, 0.5);
  });

  it('refuses jobs that cannot share a batch, a remix without its picture and an unknown scheduler', () => {
    assert.throws(() => toPipelineBatch([], 'cpu'), RangeError);
    assert.throws(() => toPipelineBatch([{ job: imagine }, { job: { ...imagine, steps: 5 } }], 'cpu'), /compatible/);
    assert.throws(() => toPipelineBatch([{ job: imagine }, { job: { ...imagine, guidance: 1 } }], 'cpu'), /compatible/);
    assert.throws(() => toPipelineBatch([{ job: { ...imagine, kind: 'remix' } }], 'cpu'), /picture/);
    assert.throws(() => toPipelineBatch([{ job: imagine, initImage: picture }], 'cpu'), /picture/);
    assert.throws(() => toPipelineBatch([{ job: { ...imagine, scheduler: 'heun' } }], 'cpu'), /scheduler/);
  });
});

describe('batchKeyOf', () => {
  it('separates what changes the shape of the computation, not what each job brings', () => {
    assert.equal(batchKeyOf(imagine), batchKeyOf({ ...imagine, prompt: 'x', seed: '1', count: 4, guidance: 3 }));
    assert.notEqual(batchKeyOf(imagine), batchKeyOf({ ...imagine, guidance: 1 }), 'guidance on vs off');
    assert.notEqual(batchKeyOf(imagine), batchKeyOf({ ...imagine, width: 64 }));
    const remix: JobSpec = { ...imagine, kind: 'remix' };
    assert.notEqual(batchKeyOf(remix), batchKeyOf({ ...remix, strength: 0.3 }), 'remix strength');
    assert.equal(batchKeyOf(imagine), batchKeyOf({ ...imagine, strength: 0.3 }), 'strength does not matter to imagine');
  });
});
