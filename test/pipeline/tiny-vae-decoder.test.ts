import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { LatentPreviewer, isPreviewStep } from '../../src/pipeline/components/previewer.js';
import { TinyVaeDecoder, tinyDecoderConfigFrom } from '../../src/pipeline/components/tiny-vae-decoder.js';
import type { ModelSession } from '../../src/pipeline/model-session.js';
import { imageToUint8Rgb } from '../../src/pipeline/postprocess.js';
import { SessionFactory } from '../../src/runtime/session-factory.js';
import { rewriteModelFile } from '../support/onnx/model-file.js';
import { renameValue } from '../support/onnx/graph-edit.js';
import { float32Tensor, floatValues, runModel, seededValues } from '../support/onnx/ort-run.js';
import { writeTinyDecoder } from '../support/onnx/tiny-decoder.js';

const timing = () => ({ modelMs: 0, modelCalls: 0 });

describe('TinyVaeDecoder (TAESD signature)', () => {
  let dir: string;
  let modelPath: string;
  let session: ModelSession;
  const factory = new SessionFactory();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latentcord-tiny-decoder-'));
    modelPath = join(dir, 'vae_decoder_tiny', 'model.onnx');
    writeTinyDecoder(modelPath);
    session = await factory.load(modelPath);
  });
  after(async () => {
    await session.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('decodes [1, 4, h, w] latents as they are into [1, 3, 8h, 8w] (non-square)', async () => {
    const decoder = new TinyVaeDecoder(session, 8);
    const latents = seededValues(4 * 5 * 7, 11, 2);
    const pixels = await decoder.decode(latents, 5, 7, timing());
    assert.equal(pixels.length, 3 * 40 * 56);
    const direct = floatValues((await runModel(modelPath, { latent_sample: float32Tensor(latents, [1, 4, 5, 7]) }))['sample']!);
    assert.deepEqual(pixels, direct);
  });

  it('divides by the scaling factor of its config.json (diffusers AutoencoderTiny), 1 by default', async () => {
    assert.equal(tinyDecoderConfigFrom(undefined, 'config.json').scalingFactor, 1);
    assert.equal(tinyDecoderConfigFrom({ _class_name: 'AutoencoderTiny' }, 'config.json').scalingFactor, 1);
    const decoder = new TinyVaeDecoder(session, 8, tinyDecoderConfigFrom({ scaling_factor: 0.5 }, 'config.json'));
    const latents = seededValues(4 * 3 * 3, 5, 1);
    const doubled = latents.map((v) => v * 2);
    const direct = floatValues((await runModel(modelPath, { latent_sample: float32Tensor(doubled, [1, 4, 3, 3]) }))['sample']!);
    assert.deepEqual(await decoder.decode(latents, 3, 3, timing()), direct);
    assert.throws(
      () => tinyDecoderConfigFrom({ scaling_factor: 'big' }, 'vae_decoder_tiny/config.json'),
      /vae_decoder_tiny\/config.json: expected `scaling_factor` to be a positive number/,
    );
  });

  it('accepts a single input and output under other names (madebyollin-style exports)', async () => {
    const renamed = join(dir, 'renamed', 'model.onnx');
    rewriteModelFile(modelPath, renamed, (graph) => {
      renameValue(graph, 'latent_sample', 'x');
      renameValue(graph, 'sample', 'y');
    });
    const other = await factory.load(renamed);
    try {
      const decoder = new TinyVaeDecoder(other, 8);
      const latents = seededValues(4 * 2 * 3, 3, 1);
      assert.deepEqual(await decoder.decode(latents, 2, 3, timing()), await new TinyVaeDecoder(session, 8).decode(latents, 2, 3, timing()));
    } finally {
      await other.release();
    }
  });

  it('refuses a decoder for other latents with a message naming the file', async () => {
    const wide = join(dir, 'sixteen', 'model.onnx');
    const fake: ModelSession = {
      path: wide,
      inputs: [{ name: 'latent_sample', type: 'float32', shape: ['batch', 16, 'h', 'w'] }],
      outputs: [{ name: 'sample', type: 'float32', shape: ['batch', 3, 'H', 'W'] }],
      run: async () => ({}),
      release: async () => undefined,
    };
    assert.throws(
      () => new TinyVaeDecoder(fake, 8),
      (error: unknown) => isUserError(error) && /16 channels/.test(error.message) && error.message.includes(wide),
    );
    const twoInputs: ModelSession = {
      ...fake,
      inputs: [
        { name: 'a', type: 'float32' },
        { name: 'b', type: 'float32' },
      ],
    };
    assert.throws(() => new TinyVaeDecoder(twoInputs, 8), /expected one input or one named `latent_sample`/);
  });

  it('draws previews with the tiny decoder at full size, or with the linear map at latent size', async () => {
    const decoder = new TinyVaeDecoder(session, 8);
    const previewer = new LatentPreviewer(undefined, decoder);
    assert.equal(previewer.hasTinyDecoder, true);
    const latents = seededValues(2 * 4 * 3 * 5, 7, 1);
    const tiny = await previewer.render(latents, [2, 4, 3, 5], 1, 'tiny');
    assert.deepEqual([tiny.decoder, tiny.width, tiny.height], ['tiny', 40, 24]);
    const expected = imageToUint8Rgb(await decoder.decode(latents.subarray(60), 3, 5, timing()), [1, 3, 24, 40]);
    assert.deepEqual(tiny.rgb, expected);
    const approx = await previewer.render(latents, [2, 4, 3, 5], 1, 'approx');
    assert.deepEqual([approx.decoder, approx.width, approx.height, approx.rgb.length], ['approx', 5, 3, 45]);
    const withoutTiny = await new LatentPreviewer().render(latents, [2, 4, 3, 5], 1, 'tiny');
    assert.equal(withoutTiny.decoder, 'approx');
  });
});

describe('isPreviewStep', () => {
  it('is due every n steps but never after the last step', () => {
    const due = (total: number, every: number) =>
      Array.from({ length: total }, (_, i) => i + 1).filter((s) => isPreviewStep(s, total, every));
    assert.deepEqual(due(20, 5), [5, 10, 15]);
    assert.deepEqual(due(4, 1), [1, 2, 3]);
    assert.deepEqual(due(4, 4), []);
    assert.deepEqual(due(10, 0), []);
  });
});
