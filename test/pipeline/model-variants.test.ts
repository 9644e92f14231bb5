import assert from 'node:assert/strict';
import { readFileSync, rmSync, unlinkSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { TorchCpuGenerator } from '../../src/random/index.js';
import { createScheduler } from '../../src/schedulers/index.js';
import type { BatchParameters, GenerationJob, JobResult, StableDiffusionPipeline } from '../../src/pipeline/stable-diffusion.js';
import { loadEngine } from '../../src/worker/load-engine.js';
import { VaeEncoder } from '../../src/pipeline/components/vae.js';
import { SessionFactory } from '../../src/runtime/session-factory.js';
import { maxAbsDiff, tinyModelDir } from '../helpers/fixtures.js';
import { makeVariantModelFolder, type VariantModelFolderOptions } from '../support/onnx/model-folder.js';

/**
 * Real exports differ from the tiny fixture model in dtypes and layouts. Each variant folder is built from
 * the tiny model with graph edits that keep its maths (casts at the boundaries), so the pipeline must give
 * the same images as on the original — exactly for integer/float32 variants, within fp16 rounding for fp16.
 */
const cfgJob: GenerationJob = { prompt: 'a running dog', negativePrompt: 'blur', guidanceScale: 7.5, seed: 3, numImages: 1 };
// DDIM's integer timesteps survive every timestep dtype exactly, so variants can be compared bit for bit.
const ddim: BatchParameters = { width: 64, height: 64, numInferenceSteps: 4, scheduler: 'ddim', rng: 'cpu' };
const nonSquare: BatchParameters = { ...ddim, width: 96, height: 64 };

let workDir: string;
const folders: string[] = [];

function variantFolder(options: VariantModelFolderOptions): string {
  const dir = join(workDir, `variant-${folders.length}`);
  folders.push(dir);
  return makeVariantModelFolder(dir, options).dir;
}

async function withPipeline<T>(dir: string, use: (pipeline: StableDiffusionPipeline) => Promise<T>): Promise<T> {
  const { pipeline } = await loadEngine(dir);
  try {
    return await use(pipeline);
  } finally {
    await pipeline.release();
  }
}

async function generate(dir: string, job: GenerationJob = cfgJob, parameters: BatchParameters = nonSquare): Promise<JobResult> {
  return withPipeline(dir, (pipeline) => pipeline.generate(job, parameters, { keepIntermediates: true }));
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let total = 0;
  for (let i = 0; i < a.length; i++) total += Math.abs(a[i]! - b[i]!);
  return total / a.length;
}

describe('model layout variants', () => {
  let reference: JobResult;
  before(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'latentcord-variants-'));
    reference = await generate(tinyModelDir);
  });
  after(() => rmSync(workDir, { recursive: true, force: true }));

  const exactVariants: [string, VariantModelFolderOptions, (d: ReturnType<StableDiffusionPipeline['describe']>) => void][] = [
    ['int64 input_ids', { textEncoder: 'int64InputIds' }, (d) => assert.equal(d.textEncoderIdsType, 'int64')],
    ['int64 timestep [1]', { unet: 'timestepInt64' }, (d) => assert.deepEqual(d.timestep, { type: 'int64', shape: 'single' })],
    ['scalar float32 timestep', { unet: 'timestepScalar' }, (d) => assert.deepEqual(d.timestep, { type: 'float32', shape: 'scalar' })],
    ['float16 timestep', { unet: 'timestepFloat16' }, (d) => assert.deepEqual(d.timestep, { type: 'float16', shape: 'single' })],
    ['timestep per batch entry', { unet: 'timestepBatch' }, (d) => assert.deepEqual(d.timestep, { type: 'float32', shape: 'batch' })],
    ['UNet weights in an external data file', { unet: 'externalData' }, () => undefined],
  ];

  for (const [name, options, check] of exactVariants) {
    it(`${name}: detected, and the same image bit for bit`, async () => {
      const dir = variantFolder(options);
      const result = await withPipeline(dir, async (pipeline) => {
        check(pipeline.describe());
        return pipeline.generate(cfgJob, nonSquare, { keepIntermediates: true });
      });
      assert.deepEqual(result.finalLatents, reference.finalLatents);
      assert.deepEqual(result.images[0]!.rgb, reference.images[0]!.rgb);
    });
  }

  const fp16Variants: [string, VariantModelFolderOptions, (d: ReturnType<StableDiffusionPipeline['describe']>) => void][] = [
    ['fp16 UNet inputs and output', { unet: 'float16' }, (d) => assert.equal(d.unetFloatType, 'float16')],
    ['fp16 text encoder output', { textEncoder: 'float16Output' }, (d) => assert.equal(d.textEncoderOutputType, 'float16')],
    ['fp16 VAE decoder', { vaeDecoder: 'float16' }, (d) => assert.equal(d.vaeDecoderFloatType, 'float16')],
  ];
  for (const [name, options, check] of fp16Variants) {
    it(`${name}: converted at the boundary, the image within fp16 rounding`, async () => {
      const dir = variantFolder(options);
      const result = await withPipeline(dir, async (pipeline) => {
        check(pipeline.describe());
        return pipeline.generate(cfgJob, nonSquare, { keepIntermediates: true });
      });
      const decodedDiff = maxAbsDiff(result.decodedImages![0]!, reference.decodedImages![0]!);
      assert.ok(decodedDiff > 0, 'fp16 rounding must be visible (the variant really is fp16)');
      assert.ok(decodedDiff < 0.05, `decoded images differ by ${decodedDiff}`);
      const latentDiff = maxAbsDiff(result.finalLatents!, reference.finalLatents!);
      assert.ok(latentDiff < 0.05, `final latents differ by ${latentDiff}`);
      const mean = meanAbsDiff(result.images[0]!.rgb, reference.images[0]!.rgb);
      assert.ok(mean < 1, `mean pixel difference ${mean}`);
    });
  }

  it('UNet with a fixed 77-token text axis: one-chunk prompts work unchanged, longer ones are refused with the way out', async () => {
    const dir = variantFolder({ unet: 'fixedSequence' });
    await withPipeline(dir, async (pipeline) => {
      assert.equal(pipeline.describe().maxPromptChunks, 1);
      const short = await pipeline.generate({ ...cfgJob, prompt: 'a (running:1.2) dog' }, nonSquare, { keepIntermediates: true });
      const dynamic = await generate(tinyModelDir, { ...cfgJob, prompt: 'a (running:1.2) dog' });
      assert.deepEqual(short.finalLatents, dynamic.finalLatents);
      for (const [job, side] of [
        [{ ...cfgJob, prompt: 'a dog BREAK a cat' }, 'prompt has 77 tokens in 2 chunks'],
        [{ ...cfgJob, negativePrompt: Array(80).fill('blur').join(' ') }, 'negative prompt has 80 tokens in 2 chunks'],
      ] as const) {
        await assert.rejects(
          pipeline.generate(job, nonSquare),
          (e: unknown) =>
            isUserError(e) &&
            e.identifier === 'prompt.tooLongForModel' &&
            e.message.includes('reads exactly 77 text tokens') &&
            e.message.includes(side) &&
            e.message.includes('optimum-cli export onnx'),
        );
      }
      // Without guidance the negative prompt is not used, so its length does not matter.
      await pipeline.generate(
        { ...cfgJob, guidanceScale: 1, negativePrompt: Array(80).fill('blur').join(' ') },
        { ...ddim, numInferenceSteps: 1 },
      );
    });
    await withPipeline(tinyModelDir, async (pipeline) => assert.equal(pipeline.describe().maxPromptChunks, null));
  });

  it('LCM-style UNet with timestep_cond: the guidance scale becomes an embedding and CFG is skipped', async () => {
    const dir = variantFolder({ unet: 'timestepCond' });
    const configPath = join(dir, 'unet', 'config.json');
    writeFileSync(configPath, JSON.stringify({ ...JSON.parse(readFileSync(configPath, 'utf8')), time_cond_proj_dim: 256 }));
    const noGuidance = await generate(tinyModelDir, { ...cfgJob, guidanceScale: 1 });
    const result = await withPipeline(dir, async (pipeline) => {
      assert.equal(pipeline.usesGuidanceEmbedding, true);
      assert.equal(pipeline.describe().timestepCondDim, 256);
      return pipeline.generate({ ...cfgJob, guidanceScale: 8 }, nonSquare, { keepIntermediates: true });
    });
    // The variant graph ignores timestep_cond's values, so one UNet pass per step (no CFG) gives the original's no-guidance image.
    assert.deepEqual(result.finalLatents, noGuidance.finalLatents);
  });

  it('VAE encoder with an in-graph latent_sample: no sampling draw, the noise is the first generator draw', async () => {
    const dir = variantFolder({ vaeEncoder: 'latentSample' });
    const width = 64;
    const height = 64;
    const pixels = new Float32Array(3 * width * height).map((_, i) => Math.sin(i / 50));
    const job: GenerationJob = { ...cfgJob, seed: 11, initImage: { pixels, width, height } };
    const parameters: BatchParameters = { width, height, numInferenceSteps: 10, scheduler: 'euler', rng: 'cpu', strength: 0.5 };
    let noisy: Float32Array | undefined;
    let mean: Float32Array | undefined;
    await withPipeline(dir, async (pipeline) => {
      assert.equal(pipeline.describe().vaeEncoder, 'sample');
      await pipeline.generate(job, parameters, { onLatentsPrepared: (latents) => (noisy = latents.slice()) });
    });
    // The original graph's latent_parameters: their mean half is what the variant returns as its sample.
    const session = await new SessionFactory().load(join(tinyModelDir, 'vae_encoder', 'model.onnx'));
    try {
      const encoded = await new VaeEncoder(session, 8).encode(pixels, height, width, { modelMs: 0, modelCalls: 0 });
      mean = encoded.data.slice(0, 4 * (height / 8) * (width / 8));
    } finally {
      await session.release();
    }
    const scheduler = createScheduler('euler', JSON.parse(readFileSync(join(tinyModelDir, 'scheduler', 'scheduler_config.json'), 'utf8')));
    scheduler.setTimesteps(10);
    scheduler.setBeginIndex(5);
    const noise = new TorchCpuGenerator(11).randn([1, 4, height / 8, width / 8]);
    const init = mean!.map((m) => Math.fround(Math.fround(0.18215) * m));
    const expected = scheduler.addNoise(init, noise, scheduler.timesteps[5]!);
    assert.ok(maxAbsDiff(noisy!, expected) <= 1e-5, `noised latents differ by ${maxAbsDiff(noisy!, expected)}`);
  });
});

describe('model folder errors name the file and what was expected', () => {
  before(() => {
    workDir ??= mkdtempSync(join(tmpdir(), 'latentcord-variants-'));
  });

  const cases: [string, () => string, string, RegExp][] = [
    [
      'UNet with a renamed input',
      () => variantFolder({ unet: 'renamedInput' }),
      'model.unexpectedLayout',
      /unet\/model\.onnx: expected an input named `sample`.*declares `latents`/,
    ],
    [
      'text encoder with a renamed output',
      () => variantFolder({ textEncoder: 'renamedOutput' }),
      'model.unexpectedLayout',
      /text_encoder\/model\.onnx: expected an output named `last_hidden_state`/,
    ],
    [
      'truncated UNet file',
      () => variantFolder({ unet: 'truncated' }),
      'model.unreadable',
      /unet\/model\.onnx could not be loaded as an ONNX model/,
    ],
    [
      'missing UNet file',
      () => {
        const dir = variantFolder({});
        unlinkSync(join(dir, 'unet', 'model.onnx'));
        return dir;
      },
      'model.fileMissing',
      /unet\/model\.onnx is missing: expected the unet ONNX graph/,
    ],
    [
      'missing tokenizer vocabulary',
      () => {
        const dir = variantFolder({});
        unlinkSync(join(dir, 'tokenizer', 'vocab.json'));
        return dir;
      },
      'model.fileMissing',
      /tokenizer\/vocab\.json is missing/,
    ],
    [
      'missing scheduler config',
      () => {
        const dir = variantFolder({});
        unlinkSync(join(dir, 'scheduler', 'scheduler_config.json'));
        return dir;
      },
      'model.fileMissing',
      /scheduler_config\.json is missing/,
    ],
    [
      'broken model_index.json',
      () => {
        const dir = variantFolder({});
        writeFileSync(join(dir, 'model_index.json'), '{"_class_name": ');
        return dir;
      },
      'model.badJson',
      /model_index\.json is not valid JSON/,
    ],
  ];
  for (const [name, makeDir, identifier, message] of cases) {
    it(name, async () => {
      const dir = makeDir();
      await assert.rejects(loadEngine(dir), (error: unknown) => {
        assert.ok(isUserError(error), String(error));
        assert.equal(error.identifier, identifier);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it('a folder without vae_encoder loads, and image-to-image is refused with a clear message', async () => {
    const dir = variantFolder({ omit: ['vae_encoder'] });
    await withPipeline(dir, async (pipeline) => {
      assert.equal(pipeline.supportsImageToImage, false);
      assert.equal(pipeline.describe().vaeEncoder, 'absent');
      const initImage = { pixels: new Float32Array(3 * 64 * 64), width: 64, height: 64 };
      await assert.rejects(
        pipeline.generate({ ...cfgJob, initImage }, { ...ddim, width: 64, height: 64, strength: 0.5 }),
        (error: unknown) =>
          isUserError(error) && error.identifier === 'model.noVaeEncoder' && /no vae_encoder\/model\.onnx/.test(error.message),
      );
      const txt2img = await pipeline.generate(cfgJob, { ...ddim, width: 64, height: 64 });
      assert.equal(txt2img.images.length, 1);
    });
  });
});
