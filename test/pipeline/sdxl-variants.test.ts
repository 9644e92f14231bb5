import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { readModelFolder } from '../../src/model/model-folder.js';
import { detectModelProfile } from '../../src/model/model-profile.js';
import type { BatchParameters, GenerationJob, JobResult, StableDiffusionPipeline } from '../../src/pipeline/stable-diffusion.js';
import { loadEngine } from '../../src/worker/load-engine.js';
import { maxAbsDiff, tinyModelDir, tinySdxlModelDir } from '../helpers/fixtures.js';
import { makeVariantModelFolder, type VariantModelFolderOptions } from '../support/onnx/model-folder.js';
import { unetRenamedInput } from '../support/onnx/variants.js';

/**
 * SDXL folders as real exports differ from the tiny SDXL model, built at test time with the ONNX graph editor: fp16
 * boundaries (an optimum `--fp16` export), int64 ids and external weights, an LCM-SDXL UNet with `timestep_cond`, and
 * broken or incomplete folders that must be refused with a message saying what is missing.
 */
const cfgJob: GenerationJob = { prompt: 'a red fox in the snow', negativePrompt: 'blurry', guidanceScale: 5, seed: 9, numImages: 1 };
const nonSquare: BatchParameters = { width: 96, height: 64, numInferenceSteps: 4, scheduler: 'ddim', rng: 'cpu' };

let workDir: string;
let folderCount = 0;

function sdxlVariant(options: Omit<VariantModelFolderOptions, 'source'>): string {
  workDir ??= mkdtempSync(join(tmpdir(), 'latentcord-sdxl-variants-'));
  return makeVariantModelFolder(join(workDir, `variant-${folderCount++}`), { source: tinySdxlModelDir, ...options }).dir;
}

function editJson(path: string, edit: (value: Record<string, unknown>) => Record<string, unknown>): void {
  writeFileSync(path, JSON.stringify(edit(JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>), null, 2));
}

async function withPipeline<T>(dir: string, use: (pipeline: StableDiffusionPipeline) => Promise<T>): Promise<T> {
  const { pipeline } = await loadEngine(dir);
  try {
    return await use(pipeline);
  } finally {
    await pipeline.release();
  }
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let total = 0;
  for (let i = 0; i < a.length; i++) total += Math.abs(a[i]! - b[i]!);
  return total / a.length;
}

async function rejectsWith(dir: string, identifier: string, message: RegExp): Promise<void> {
  await assert.rejects(loadEngine(dir), (error: unknown) => {
    assert.ok(isUserError(error), String(error));
    assert.equal(error.identifier, identifier);
    assert.match(error.message, message);
    return true;
  });
}

describe('SDXL model variants', () => {
  let reference: JobResult;
  before(async () => {
    reference = await withPipeline(tinySdxlModelDir, (pipeline) => pipeline.generate(cfgJob, nonSquare, { keepIntermediates: true }));
  });
  after(() => rmSync(workDir, { recursive: true, force: true }));

  it('int64 input ids on both encoders and UNet weights in an external data file: detected, the same picture bit for bit', async () => {
    const dir = sdxlVariant({ textEncoder: 'int64InputIds', textEncoder2: 'int64InputIds', unet: 'externalData' });
    const result = await withPipeline(dir, async (pipeline) => {
      assert.deepEqual(
        pipeline.describe().textEncoders.map((e) => e.idsType),
        ['int64', 'int64'],
      );
      return pipeline.generate(cfgJob, nonSquare, { keepIntermediates: true });
    });
    assert.deepEqual(result.finalLatents, reference.finalLatents);
    assert.deepEqual(result.images[0]!.rgb, reference.images[0]!.rgb);
  });

  it('tokenizers given only as tokenizer.json (fast tokenizer files): the same picture', async () => {
    const dir = sdxlVariant({});
    for (const folder of ['tokenizer', 'tokenizer_2']) {
      const vocab = JSON.parse(readFileSync(join(dir, folder, 'vocab.json'), 'utf8')) as Record<string, number>;
      const merges = readFileSync(join(dir, folder, 'merges.txt'), 'utf8')
        .trim()
        .split('\n')
        .slice(1);
      writeFileSync(join(dir, folder, 'tokenizer.json'), JSON.stringify({ model: { type: 'BPE', vocab, merges } }));
      rmSync(join(dir, folder, 'vocab.json'));
      rmSync(join(dir, folder, 'merges.txt'));
    }
    const result = await withPipeline(dir, (pipeline) => pipeline.generate(cfgJob, nonSquare, { keepIntermediates: true }));
    assert.deepEqual(result.finalLatents, reference.finalLatents);
  });

  it('fp16 folder (optimum --fp16: encoders, UNet with text_embeds/time_ids, VAE decoder): converted at the boundary, within fp16 rounding', async () => {
    const dir = sdxlVariant({ textEncoder: 'float16Output', textEncoder2: 'float16Output', unet: 'float16', vaeDecoder: 'float16' });
    const result = await withPipeline(dir, async (pipeline) => {
      const d = pipeline.describe();
      assert.equal(d.family, 'stable-diffusion-xl');
      assert.equal(d.unetFloatType, 'float16');
      assert.equal(d.vaeDecoderFloatType, 'float16');
      assert.deepEqual(
        d.textEncoders.map((e) => e.outputType),
        ['float16', 'float16'],
      );
      return pipeline.generate(cfgJob, nonSquare, { keepIntermediates: true });
    });
    const decodedDiff = maxAbsDiff(result.decodedImages![0]!, reference.decodedImages![0]!);
    assert.ok(decodedDiff > 0, 'fp16 rounding must be visible (the variant really is fp16)');
    assert.ok(decodedDiff < 0.05, `decoded images differ by ${decodedDiff}`);
    const latentDiff = maxAbsDiff(result.finalLatents!, reference.finalLatents!);
    assert.ok(latentDiff < 0.05, `final latents differ by ${latentDiff}`);
    assert.ok(meanAbsDiff(result.images[0]!.rgb, reference.images[0]!.rgb) < 1);
  });

  it('LCM-SDXL (UNet with timestep_cond, LCM scheduler): LCM profile, guidance as an embedding, no CFG batch', async () => {
    const dir = sdxlVariant({ unet: 'timestepCond' });
    editJson(join(dir, 'unet', 'config.json'), (config) => ({ ...config, time_cond_proj_dim: 256 }));
    editJson(join(dir, 'scheduler', 'scheduler_config.json'), (config) => ({ ...config, _class_name: 'LCMScheduler' }));
    const profile = detectModelProfile(readModelFolder(dir));
    assert.equal(profile.kind, 'lcm');
    assert.deepEqual(profile.recommended, { steps: 4, guidance: 8, scheduler: 'lcm' });
    const noGuidance = await withPipeline(tinySdxlModelDir, (pipeline) =>
      pipeline.generate({ ...cfgJob, guidanceScale: 1 }, nonSquare, { keepIntermediates: true }),
    );
    let rows = 0;
    const result = await withPipeline(dir, async (pipeline) => {
      assert.equal(pipeline.usesGuidanceEmbedding, true);
      assert.equal(pipeline.describe().timestepCondDim, 256);
      return pipeline.generate({ ...cfgJob, guidanceScale: 8 }, nonSquare, {
        keepIntermediates: true,
        onPromptEncoded: (_embeddings, dims, added) => {
          rows = dims[0];
          assert.deepEqual(added?.timeIdsDims, [1, 6]);
        },
      });
    });
    assert.equal(rows, 1, 'one UNet row per image: no negative conditioning');
    // The variant graph ignores timestep_cond's values, so it draws the original's no-guidance picture.
    assert.deepEqual(result.finalLatents, noGuidance.finalLatents);
  });
});

describe('SDXL folders that cannot be drawn with are refused with what is missing', () => {
  after(() => rmSync(workDir, { recursive: true, force: true }));

  it('text_encoder_2 missing from a folder whose model_index lists it', async () => {
    const dir = sdxlVariant({ omit: ['text_encoder_2'] });
    await rejectsWith(
      dir,
      'model.fileMissing',
      /text_encoder_2\/model\.onnx is missing: this is a Stable Diffusion XL folder \(model_index\.json names ORTStableDiffusionXLPipeline.*second text encoder/,
    );
  });

  it('no trace of text_encoder_2 in the JSON, but the UNet graph takes text_embeds and time_ids: detected from the graph', async () => {
    const dir = sdxlVariant({ omit: ['text_encoder_2'] });
    rmSync(join(dir, 'tokenizer_2'), { recursive: true });
    editJson(join(dir, 'model_index.json'), ({ text_encoder_2: _te2, tokenizer_2: _tok2, ...rest }) => ({
      ...rest,
      _class_name: 'ORTStableDiffusionPipeline',
    }));
    editJson(join(dir, 'unet', 'config.json'), ({ addition_embed_type: _a, ...rest }) => rest);
    assert.equal(readModelFolder(dir).family, 'stable-diffusion');
    await rejectsWith(dir, 'model.unexpectedLayout', /takes SDXL's added conditions \(`text_embeds`, `time_ids`\).*no text_encoder_2\//);
  });

  it('tokenizer_2 missing', async () => {
    const dir = sdxlVariant({});
    rmSync(join(dir, 'tokenizer_2', 'vocab.json'));
    await rejectsWith(dir, 'model.fileMissing', /tokenizer_2\/vocab\.json is missing: this is a Stable Diffusion XL folder/);
  });

  it('a text encoder exported without its hidden states (SDXL needs the penultimate layer)', async () => {
    const dir = sdxlVariant({ textEncoder2: 'withoutHiddenStates' });
    await rejectsWith(
      dir,
      'model.unexpectedLayout',
      /text_encoder_2\/model\.onnx: SDXL conditions on the penultimate hidden state.*hidden_states\.0/,
    );
  });

  it('a config whose num_hidden_layers disagrees with the hidden_states outputs', async () => {
    const dir = sdxlVariant({});
    editJson(join(dir, 'text_encoder', 'config.json'), (config) => ({ ...config, num_hidden_layers: 12 }));
    await rejectsWith(dir, 'model.unexpectedLayout', /num_hidden_layers 12.*outputs hidden_states\.0 … hidden_states\.3/);
  });

  it('an SD 1.x UNet in an SDXL folder', async () => {
    const dir = sdxlVariant({ unet: (_source, target) => writeFileSync(target, readFileSync(join(tinyModelDir, 'unet', 'model.onnx'))) });
    await rejectsWith(dir, 'model.unexpectedLayout', /SDXL folder.*no `text_embeds`\/`time_ids` inputs/);
  });

  it('a UNet with text_embeds but no time_ids', async () => {
    const dir = sdxlVariant({ unet: (source, target) => unetRenamedInput(source, target, { from: 'time_ids', to: 'aesthetic' }) });
    await rejectsWith(dir, 'model.unexpectedLayout', /takes both `text_embeds` and `time_ids`; the graph declares only `text_embeds`/);
  });

  it('tokenizer_2 with another vocabulary', async () => {
    const dir = sdxlVariant({});
    editJson(join(dir, 'tokenizer_2', 'vocab.json'), (vocab) => ({ ...vocab, dog: 1, '"': 1929 }));
    await rejectsWith(dir, 'model.unexpectedLayout', /tokenizer_2: SDXL's two tokenizers must share CLIP's vocabulary/);
  });

  it('the SDXL refiner (requires_aesthetics_score, no first text encoder)', async () => {
    const dir = sdxlVariant({ omit: ['text_encoder'] });
    editJson(join(dir, 'model_index.json'), (index) => ({ ...index, requires_aesthetics_score: true, text_encoder: [null, null] }));
    await rejectsWith(dir, 'model.unsupportedFamily', /looks like the SDXL refiner.*cannot draw from a prompt/);
  });

  it('a VAE trained on normalised latents (latents_mean/latents_std, Playground v2.5 style)', async () => {
    const dir = sdxlVariant({});
    for (const vae of ['vae_decoder', 'vae_encoder']) {
      editJson(join(dir, vae, 'config.json'), (config) => ({ ...config, latents_mean: [0, 0, 0, 0], latents_std: [1, 1, 1, 1] }));
    }
    await rejectsWith(dir, 'model.unsupportedFamily', /latents_mean\/latents_std/);
  });
});
