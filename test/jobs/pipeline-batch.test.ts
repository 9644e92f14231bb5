import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchKeyOf, promptChunkCounter, toPipelineBatch } from '../../src/jobs/pipeline-batch.js';
import type { InitImage } from '../../src/pipeline/stable-diffusion.js';
import type { JobSpec } from '../../src/store/index.js';
import { tinyModelDir } from '../helpers/fixtures.js';

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
  emphasis: 'original',
  maxPromptTokens: 225,
  sourceImageUrl: null,
};
const picture: InitImage = { pixels: new Float32Array(3 * 96 * 64), width: 96, height: 64 };

describe('toPipelineBatch', () => {
  it('turns job records into the pipeline call: each job its own part, the batch the shared part', () => {
    const other = { ...imagine, prompt: 'a harbour', negativePrompt: '', seed: '7', guidance: 9, count: 1 };
    const call = toPipelineBatch([{ job: imagine }, { job: other }], 'philox');
    assert.deepEqual(call.jobs, [
      {
        prompt: 'a lighthouse',
        negativePrompt: 'blur',
        emphasis: 'original',
        maxPromptTokens: 225,
        guidanceScale: 7.5,
        seed: 18446744073709551615n,
        numImages: 2,
      },
      { prompt: 'a harbour', negativePrompt: '', emphasis: 'original', maxPromptTokens: 225, guidanceScale: 9, seed: 7n, numImages: 1 },
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

const weighted: JobSpec = {
  kind: 'imagine',
  prompt: 'a (red:1.3) fox',
  negativePrompt: 'blurry',
  steps: 4,
  guidance: 7.5,
  width: 64,
  height: 64,
  scheduler: 'euler',
  count: 1,
  seed: '1',
  strength: 0.7,
  emphasis: 'no-norm',
  maxPromptTokens: 150,
  sourceImageUrl: null,
};

describe('prompt lengths and batches', () => {
  it("counts a job's conditioning chunks from the tokenizer alone, as the pipeline will", () => {
    const chunks = promptChunkCounter(tinyModelDir, {});
    assert.equal(chunks(weighted), 1);
    assert.equal(chunks({ ...weighted, prompt: 'a fox BREAK snow' }), 2);
    assert.equal(chunks({ ...weighted, negativePrompt: 'blurry BREAK lowres' }), 2, 'with guidance the longer side counts');
    assert.equal(
      chunks({ ...weighted, negativePrompt: 'blurry BREAK lowres BREAK text' }),
      2,
      'cut at maxPromptTokens 150 (A1111 counts 75 a closed chunk)',
    );
    assert.equal(chunks({ ...weighted, guidance: 1, negativePrompt: 'blurry BREAK lowres' }), 1, 'without guidance the negative is unused');
    assert.equal(chunks({ ...weighted, emphasis: 'off', prompt: 'a fox BREAK snow' }), 1, 'emphasis off: BREAK is a word');
    assert.equal(chunks({ ...weighted, prompt: Array(200).fill('cat').join(' ') }), 2, 'cut at maxPromptTokens 150');
    const lcm = promptChunkCounter(tinyModelDir, { timestepCondDim: 256 });
    assert.equal(lcm({ ...weighted, negativePrompt: 'blurry BREAK lowres' }), 1, 'an LCM UNet embeds the guidance: no negative rows');
  });

  it('jobs of different prompt lengths get different batch keys; the pipeline call carries how prompts are read', () => {
    assert.notEqual(batchKeyOf(weighted, 1), batchKeyOf(weighted, 2));
    assert.equal(batchKeyOf(weighted, 1), batchKeyOf({ ...weighted, prompt: 'another prompt', seed: '2' }, 1));
    const call = toPipelineBatch([{ job: weighted }], 'cpu');
    assert.deepEqual([call.jobs[0]!.emphasis, call.jobs[0]!.maxPromptTokens, call.jobs[0]!.prompt], ['no-norm', 150, 'a (red:1.3) fox']);
  });
});
