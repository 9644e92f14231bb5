import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { VaeDecoder, autoTilingMinLatentArea } from '../../src/pipeline/components/vae.js';
import { decodeTiled } from '../../src/pipeline/components/vae-tiling.js';
import type { ModelSession } from '../../src/pipeline/model-session.js';
import { imageToUint8Rgb } from '../../src/pipeline/postprocess.js';
import type { BatchParameters, GenerationJob } from '../../src/pipeline/stable-diffusion.js';
import { SessionFactory, defaultRuntimeOptions } from '../../src/runtime/session-factory.js';
import { loadEngine, type Engine, type EngineOptions } from '../../src/worker/load-engine.js';
import { tinyModelDir } from '../helpers/fixtures.js';
import { writeTinyDecoder } from '../support/onnx/tiny-decoder.js';

const job: GenerationJob = { prompt: 'a lighthouse', negativePrompt: 'blur', guidanceScale: 7.5, seed: 11, numImages: 1 };
const parameters: BatchParameters = { width: 96, height: 64, numInferenceSteps: 4, scheduler: 'euler', rng: 'cpu' };

async function withEngine<T>(dir: string, options: EngineOptions, use: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await loadEngine(dir, defaultRuntimeOptions, options);
  try {
    return await use(engine);
  } finally {
    await engine.pipeline.release();
  }
}

describe('final decoder: the VAE or the tiny decoder', () => {
  let root: string;
  let withTiny: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'latentcord-final-decoder-'));
    withTiny = join(root, 'model');
    cpSync(tinyModelDir, withTiny, { recursive: true });
    writeTinyDecoder(join(withTiny, 'vae_decoder_tiny', 'model.onnx'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('draws the final picture with the tiny decoder from the undivided latents when asked, and says so', async () => {
    await withEngine(withTiny, { finalDecoder: 'tiny' }, async ({ pipeline, tinyDecoder }) => {
      const described = pipeline.describe();
      assert.equal(described.finalDecoder, 'tiny');
      assert.equal(described.tinyDecoder, join(withTiny, 'vae_decoder_tiny', 'model.onnx'));
      const result = await pipeline.generate(job, parameters, { keepIntermediates: true });
      const pixels = await tinyDecoder!.decode(result.finalLatents!, 8, 12, { modelMs: 0, modelCalls: 0 });
      assert.deepEqual(result.images[0]!.rgb, imageToUint8Rgb(pixels, [1, 3, 64, 96]));
    });
  });

  it('keeps the VAE decoder by default (a tiny decoder in the folder changes nothing but previews)', async () => {
    const plain = await withEngine(tinyModelDir, {}, async ({ pipeline }) => {
      assert.deepEqual([pipeline.describe().finalDecoder, pipeline.describe().tinyDecoder], ['vae', null]);
      return pipeline.generate(job, parameters);
    });
    const besideTiny = await withEngine(withTiny, {}, async ({ pipeline, previewer }) => {
      assert.equal(pipeline.describe().finalDecoder, 'vae');
      assert.equal(previewer.hasTinyDecoder, true);
      return pipeline.generate(job, parameters);
    });
    assert.deepEqual(besideTiny.images[0]!.rgb, plain.images[0]!.rgb);
  });

  it('takes a tiny decoder from a configured folder, and explains a missing one', async () => {
    const elsewhere = join(root, 'taesd');
    writeTinyDecoder(join(elsewhere, 'model.onnx'));
    await withEngine(tinyModelDir, { tinyDecoderDir: elsewhere, finalDecoder: 'tiny' }, async ({ pipeline }) => {
      assert.equal(pipeline.describe().tinyDecoder, join(elsewhere, 'model.onnx'));
    });
    await assert.rejects(
      loadEngine(tinyModelDir, defaultRuntimeOptions, { finalDecoder: 'tiny' }),
      (error: unknown) => isUserError(error) && error.identifier === 'config.noTinyDecoder' && /vae_decoder_tiny/.test(error.message),
    );
    const empty = join(root, 'empty');
    mkdirSync(empty);
    await assert.rejects(
      loadEngine(tinyModelDir, defaultRuntimeOptions, { tinyDecoderDir: empty }),
      (error: unknown) => isUserError(error) && error.identifier === 'model.fileMissing' && error.message.includes(empty),
    );
  });
});

describe('tiled VAE decoding in the pipeline', () => {
  let session: ModelSession;
  before(async () => {
    session = await new SessionFactory().load(join(tinyModelDir, 'vae_decoder', 'model.onnx'));
  });
  after(async () => session.release());

  it('decodes tile by tile with diffusers’ rule when `always` (the tiny VAE’s tiles are 8 latent cells)', async () => {
    const untiled = new VaeDecoder(session, 8);
    const timing = { modelMs: 0, modelCalls: 0 };
    const [plain, tiled] = await Promise.all(
      (['never', 'always'] as const).map((vaeTiling) =>
        withEngine(tinyModelDir, { vaeTiling }, async ({ pipeline }) => {
          assert.deepEqual(pipeline.describe().vaeTiling, { mode: vaeTiling, tileLatentSize: 8 });
          return pipeline.generate(job, { ...parameters, width: 144, height: 80 }, { keepIntermediates: true });
        }),
      ),
    );
    assert.deepEqual(tiled!.finalLatents, plain!.finalLatents, 'tiling changes only the decode');
    const scaled = plain!.finalLatents!.map((value) => Math.fround(value / Math.fround(0.18215)));
    const expected = await decodeTiled(scaled, 4, 10, 18, { tileLatentSize: 8, overlapFactor: 0.25, scaleFactor: 8 }, (tile, h, w) =>
      untiled.decode(tile, h, w, timing),
    );
    assert.deepEqual(tiled!.decodedImages![0], expected);
    assert.notDeepEqual(tiled!.decodedImages![0], plain!.decodedImages![0]);
  });

  it('`auto` tiles only pictures above the area where the untiled decoder outgrows the UNet', () => {
    const decoder = (mode: 'never' | 'auto' | 'always') => new VaeDecoder(session, 8, { mode, tileLatentSize: 64 });
    const side = Math.sqrt(autoTilingMinLatentArea);
    assert.equal(side, 96);
    assert.equal(decoder('auto').tiles(96, 96), false);
    assert.equal(decoder('auto').tiles(96, 104), true);
    assert.equal(decoder('auto').tiles(64, 160), true);
    assert.equal(decoder('always').tiles(64, 72), true);
    assert.equal(decoder('always').tiles(64, 64), false);
    assert.equal(decoder('never').tiles(256, 256), false);
  });
});
