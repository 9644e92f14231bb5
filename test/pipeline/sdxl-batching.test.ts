import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BatchParameters, GenerationJob, StableDiffusionPipeline } from '../../src/pipeline/stable-diffusion.js';
import { loadEngine } from '../../src/worker/load-engine.js';
import { tinySdxlModelDir } from '../helpers/fixtures.js';

/**
 * Compatible SDXL jobs share one UNet batch: each job's rows carry its own text embeddings, pooled embedding (zeros
 * for a job without a negative prompt) and time ids, and draw from its own generator — so every job gets exactly the
 * pictures it gets alone.
 */
describe('SDXL batches: a job’s pictures equal its solo run', () => {
  let pipeline: StableDiffusionPipeline;
  before(async () => {
    pipeline = (await loadEngine(tinySdxlModelDir)).pipeline;
  });
  after(async () => {
    await pipeline.release();
  });

  const parameters: BatchParameters = { width: 96, height: 64, numInferenceSteps: 4, scheduler: 'euler-a', rng: 'cpu' };
  const jobs: GenerationJob[] = [
    { prompt: 'a red fox in the snow', negativePrompt: 'blurry', guidanceScale: 5, seed: 1, numImages: 2 },
    { prompt: 'a (mountain:1.3) lake at dawn', guidanceScale: 7, seed: 2, numImages: 1 },
    { prompt: 'a harbor BREAK oil painting', negativePrompt: 'dark BREAK low quality', guidanceScale: 4, seed: 3, numImages: 1 },
  ];

  it('with guidance, negative prompts given and zeroed, weights and BREAK in one batch', async () => {
    const twoChunk = jobs.filter((job) => pipeline.conditioningChunks(job) === 2);
    const oneChunk = jobs.filter((job) => pipeline.conditioningChunks(job) === 1);
    assert.deepEqual([oneChunk.length, twoChunk.length], [2, 1]);
    const batch = await pipeline.generateBatch(oneChunk, parameters, { keepIntermediates: true });
    for (const [index, job] of oneChunk.entries()) {
      const solo = await pipeline.generate(job, parameters, { keepIntermediates: true });
      assert.equal(batch.jobs[index]!.images.length, job.numImages);
      assert.deepEqual(batch.jobs[index]!.finalLatents, solo.finalLatents, `job ${index}: the same latents`);
      for (const [k, image] of batch.jobs[index]!.images.entries()) assert.deepEqual(image.rgb, solo.images[k]!.rgb);
    }
  });

  it('without guidance (Turbo-style 1 step): one UNet row per image, time ids for each', async () => {
    const noGuidance = jobs.slice(0, 2).map((job) => ({ ...job, guidanceScale: 0 }));
    let rows = 0;
    const batch = await pipeline.generateBatch(
      noGuidance,
      { ...parameters, numInferenceSteps: 1, scheduler: 'euler' },
      {
        keepIntermediates: true,
        onPromptEncoded: (_e, dims, added) => {
          rows = dims[0];
          assert.deepEqual(Array.from(added!.timeIds.subarray(0, 6)), [64, 96, 0, 0, 64, 96]);
        },
      },
    );
    assert.equal(rows, 3);
    for (const [index, job] of noGuidance.entries()) {
      const solo = await pipeline.generate(job, { ...parameters, numInferenceSteps: 1, scheduler: 'euler' }, { keepIntermediates: true });
      assert.deepEqual(batch.jobs[index]!.finalLatents, solo.finalLatents);
    }
  });
});
