import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import type { BatchParameters, GenerationJob, StableDiffusionPipeline } from '../../src/pipeline/stable-diffusion.js';
import { PhiloxGenerator, TorchCpuGenerator } from '../../src/random/index.js';
import { loadEngine } from '../../src/worker/load-engine.js';
import { tinyModelDir } from '../helpers/fixtures.js';

const job: GenerationJob = { prompt: 'a running dog', guidanceScale: 7.5, seed: 42, numImages: 1 };
const euler: BatchParameters = { width: 64, height: 64, numInferenceSteps: 5, scheduler: 'euler', rng: 'cpu' };

describe('pipeline behaviour', () => {
  let pipeline: StableDiffusionPipeline;
  before(async () => {
    pipeline = (await loadEngine(tinyModelDir)).pipeline;
  });
  after(async () => {
    await pipeline.release();
  });

  it('keeps height and width apart on a tall image (latents [1, 4, h/8, w/8])', async () => {
    let shapeSeen = 0;
    const result = await pipeline.generate(job, { ...euler, width: 64, height: 128 }, { onLatentsPrepared: (l) => (shapeSeen = l.length) });
    assert.equal(shapeSeen, 4 * (128 / 8) * (64 / 8));
    const image = result.images[0]!;
    assert.deepEqual([image.width, image.height, image.rgb.length], [64, 128, 64 * 128 * 3]);
  });

  it('draws txt2img latents as torch.randn(seed) * init_noise_sigma, or from Philox with rng "philox"', async () => {
    for (const [rng, generator] of [
      ['cpu', new TorchCpuGenerator(42)],
      ['philox', new PhiloxGenerator(42)],
    ] as const) {
      let prepared: Float32Array | undefined;
      await pipeline.generate(job, { ...euler, numInferenceSteps: 1, rng }, { onLatentsPrepared: (l) => (prepared = l.slice()) });
      const noise = generator.randn([1, 4, 8, 8]);
      // Euler with one "linspace" step runs at t = 0, whose sigma is sqrt((1 - ᾱ0) / ᾱ0).
      const sigma = prepared![0]! / noise[0]!;
      assert.ok(Math.abs(sigma - 0.0291675) < 1e-5, `${rng}: init_noise_sigma ${sigma}`);
      assert.deepEqual(
        prepared,
        noise.map((x) => Math.fround(x * Math.fround(sigma))),
      );
    }
  });

  it('makes several images per job as one batch; the first equals the single image of the same seed', async () => {
    // One generator draws [2, 4, 8, 8] as the first [1, 4, 8, 8] followed by the next (blocks of 16 values).
    const single = await pipeline.generate(job, euler);
    const pair = await pipeline.generate({ ...job, numImages: 2 }, euler);
    assert.equal(pair.images.length, 2);
    assert.deepEqual(pair.images[0]!.rgb, single.images[0]!.rgb);
    assert.notDeepEqual(pair.images[1]!.rgb, pair.images[0]!.rgb);
  });

  it('runs compatible jobs as one UNet batch and gives each exactly the images it gets alone', async () => {
    const jobs: GenerationJob[] = [
      { prompt: 'a running dog', negativePrompt: 'blur', guidanceScale: 7.5, seed: 1, numImages: 1 },
      { prompt: 'a castle on a hill', guidanceScale: 4, seed: 2, numImages: 2 },
      { prompt: 'a running dog', guidanceScale: 12, seed: 3, numImages: 1 },
    ];
    for (const scheduler of ['euler-a', 'dpmpp-2m-karras'] as const) {
      const parameters = { ...euler, scheduler, width: 96, height: 64 };
      const batch = await pipeline.generateBatch(jobs, parameters, { keepIntermediates: true });
      for (const [j, alone] of jobs.entries()) {
        const single = await pipeline.generate(alone, parameters, { keepIntermediates: true });
        assert.deepEqual(batch.jobs[j]!.finalLatents, single.finalLatents, `${scheduler} job ${j}: latents`);
        assert.deepEqual(
          batch.jobs[j]!.images.map((i) => i.rgb),
          single.images.map((i) => i.rgb),
          `${scheduler} job ${j}: images`,
        );
      }
    }
  });

  it('reads prompts past 77 tokens in chunks and reports what lies beyond maxPromptTokens', async () => {
    // 80 words of 2-3 tokens each: ~230 tokens.
    const words = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ');
    let sequence = 0;
    const result = await pipeline.generate(
      { ...job, prompt: words },
      { ...euler, numInferenceSteps: 1 },
      {
        onPromptEncoded: (_embeddings, dims) => (sequence = dims[1]),
      },
    );
    assert.equal(sequence, 3 * 77, 'three chunks, the default limit');
    assert.deepEqual([result.prompt.truncated, result.prompt.maxTokens, result.prompt.chunkCount], [true, 225, 3]);
    assert.match(result.prompt.droppedText, /word 7 9$/, 'CLIP splits digits into their own tokens');
    assert.equal(result.negativePrompt.truncated, false);
    const shorter = await pipeline.generate({ ...job, prompt: words, maxPromptTokens: 100 }, { ...euler, numInferenceSteps: 1 });
    assert.deepEqual([shorter.prompt.chunkCount, shorter.prompt.tokenCount], [2, result.prompt.tokenCount]);
    assert.ok(shorter.prompt.droppedText.length > result.prompt.droppedText.length);
  });

  it('batches jobs whose conditionings have equal chunk counts; each equals its solo run', async () => {
    const long = Array.from({ length: 30 }, (_, i) => `(tree ${i}:1.1)`).join(', ');
    const jobs: GenerationJob[] = [
      { prompt: long, negativePrompt: 'blur', emphasis: 'no-norm', guidanceScale: 7.5, seed: 1, numImages: 1 },
      // Two chunks through the negative prompt; the prompt side is padded with the empty chunk.
      { prompt: 'a (red) fox', negativePrompt: `${long} BREAK`, guidanceScale: 5, seed: 2, numImages: 2 },
    ];
    assert.deepEqual(
      jobs.map((j) => pipeline.conditioningChunks(j)),
      [2, 2],
    );
    const batch = await pipeline.generateBatch(jobs, euler, { keepIntermediates: true });
    for (const [j, alone] of jobs.entries()) {
      const single = await pipeline.generate(alone, euler, { keepIntermediates: true });
      assert.deepEqual(batch.jobs[j]!.finalLatents, single.finalLatents, `job ${j}: latents`);
      assert.deepEqual(
        batch.jobs[j]!.images.map((i) => i.rgb),
        single.images.map((i) => i.rgb),
        `job ${j}: images`,
      );
    }
  });

  it('refuses to batch jobs with different chunk counts (padding one would change its pictures)', async () => {
    const short: GenerationJob = { ...job, prompt: 'a fox' };
    const long: GenerationJob = { ...job, prompt: 'a fox BREAK snow' };
    assert.deepEqual([pipeline.conditioningChunks(short), pipeline.conditioningChunks(long)], [1, 2]);
    // Without guidance only the prompt counts: a long negative prompt is never encoded.
    assert.equal(pipeline.conditioningChunks({ ...short, guidanceScale: 1, negativePrompt: 'x BREAK y BREAK z' }), 1);
    await assert.rejects(pipeline.generateBatch([short, long], euler), /same length in chunks, got 1, 2/);
  });

  it('a weight Python cannot read is a user error naming it', async () => {
    await assert.rejects(
      pipeline.generate({ ...job, prompt: 'a (fox:1.2.3)' }, euler),
      (e: unknown) => isUserError(e) && e.identifier === 'prompt.badWeight' && e.message.includes('`(fox:1.2.3)`'),
    );
  });

  it('refuses sizes the model cannot take and strengths that leave no step, before any model call', async () => {
    await assert.rejects(
      pipeline.generate(job, { ...euler, width: 72 }),
      (e: unknown) => isUserError(e) && e.identifier === 'options.width',
    );
    await assert.rejects(
      pipeline.generate(job, { ...euler, height: 0 }),
      (e: unknown) => isUserError(e) && e.identifier === 'options.height',
    );
    const initImage = { pixels: new Float32Array(3 * 64 * 64), width: 64, height: 64 };
    await assert.rejects(
      pipeline.generate({ ...job, initImage }, { ...euler, strength: 0.1 }),
      (e: unknown) => isUserError(e) && e.identifier === 'options.strength' && /no denoising step/.test(e.message),
    );
    await assert.rejects(
      pipeline.generate({ ...job, initImage }, { ...euler, strength: 1.5 }),
      (e: unknown) => isUserError(e) && e.identifier === 'options.strength',
    );
  });

  it('stops between steps when the signal is set', async () => {
    const signal = { aborted: false };
    const steps: number[] = [];
    await assert.rejects(
      pipeline.generate(
        job,
        { ...euler, numInferenceSteps: 10 },
        {
          signal,
          onProgress: (p) => {
            steps.push(p.step);
            if (p.step === 3) signal.aborted = true;
          },
        },
      ),
      (e: unknown) => isUserError(e) && e.identifier === 'job.cancelled',
    );
    assert.deepEqual(steps, [1, 2, 3]);
  });
});
