import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import type { BatchParameters, GenerationJob } from '../../src/pipeline/stable-diffusion.js';
import { defaultRuntimeOptions } from '../../src/runtime/session-factory.js';
import { PipelineWorker, type PipelineProcessStatus } from '../../src/worker/pipeline-worker.js';
import type { JobPreview } from '../../src/worker/protocol.js';
import { tinyModelDir } from '../helpers/fixtures.js';
import { writeTinyDecoder } from '../support/onnx/tiny-decoder.js';

const { log: _log, ...runtime } = defaultRuntimeOptions;
const parameters: BatchParameters = { width: 96, height: 64, numInferenceSteps: 8, scheduler: 'euler', rng: 'cpu' };
const job = (seed: number, numImages = 1): GenerationJob => ({ prompt: 'a lighthouse', guidanceScale: 7.5, seed, numImages });

/** A copy of the tiny model with a TAESD-shaped `vae_decoder_tiny/`. */
function folderWithTinyDecoder(root: string): string {
  const dir = join(root, 'with-tiny');
  cpSync(tinyModelDir, dir, { recursive: true });
  writeTinyDecoder(join(dir, 'vae_decoder_tiny', 'model.onnx'));
  return dir;
}

describe('pipeline process start-up stages', () => {
  it('launch() resolves once loaded, while the warm-up runs; stages go loading → warming → ready', async () => {
    const stages: PipelineProcessStatus[] = [];
    const worker = await PipelineWorker.launch({ modelDir: tinyModelDir, runtime, warmUp: { width: 64, height: 64, steps: 1 } });
    try {
      worker.on('stage', (status: PipelineProcessStatus) => stages.push(status));
      const loaded = await worker.whenLoaded();
      assert.equal(loaded.description.sizeMultiple, 16);
      // A job sent during the warm-up waits for it and then runs.
      const result = await worker.run([job(1)], parameters);
      assert.equal(result.jobs[0]!.images[0]!.rgb.length, 96 * 64 * 3);
      const ready = await worker.whenReady();
      assert.ok(ready.warmUpMs! > 0);
      assert.equal(worker.status.stage, 'ready');
      assert.ok(worker.status.loadMs! > 0 && worker.status.warmUpMs! > 0);
      assert.deepEqual(worker.status.warmUpSize, { width: 64, height: 64 });
      // launch() returned at "warming" unless the warm-up was already over by then.
      assert.ok(stages.length === 0 || stages.at(-1)!.stage === 'ready', JSON.stringify(stages));
    } finally {
      await worker.close();
    }
  });

  it('start() reports stage ready, and a missing folder fails launch() with the model error', async () => {
    const worker = await PipelineWorker.start({ modelDir: tinyModelDir, runtime });
    try {
      assert.equal(worker.status.stage, 'ready');
      assert.equal(worker.status.warmUpMs, undefined);
    } finally {
      await worker.close();
    }
    await assert.rejects(
      PipelineWorker.launch({ modelDir: join(tmpdir(), 'no-such-latentcord-model'), runtime }),
      (error: unknown) => isUserError(error) && error.identifier === 'model.folderMissing',
    );
  });
});

describe('live previews from the pipeline process', () => {
  let root: string;
  let worker: PipelineWorker;
  let tinyWorker: PipelineWorker;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'latentcord-previews-'));
    [worker, tinyWorker] = await Promise.all([
      PipelineWorker.start({ modelDir: tinyModelDir, runtime }),
      PipelineWorker.start({ modelDir: folderWithTinyDecoder(root), runtime }),
    ]);
  });
  after(async () => {
    await Promise.all([worker?.close(), tinyWorker?.close()]);
    rmSync(root, { recursive: true, force: true });
  });

  it('sends each job of a batch its own previews every n steps, never after the last, drawn with the linear map', async () => {
    const previews: JobPreview[] = [];
    const progress: number[] = [];
    const result = await worker.run([job(1, 2), job(2)], parameters, {
      preview: { everySteps: 3 },
      onPreview: (preview) => previews.push(preview),
      onProgress: (p) => progress.push(p.step),
    });
    assert.deepEqual(
      previews.map((p) => [p.jobIndex, p.step, p.totalSteps, p.images.length]),
      [
        [0, 3, 8, 2],
        [1, 3, 8, 1],
        [0, 6, 8, 2],
        [1, 6, 8, 1],
      ],
    );
    for (const preview of previews) {
      for (const image of preview.images) {
        assert.deepEqual([image.decoder, image.width, image.height, image.rgb.length], ['approx', 12, 8, 12 * 8 * 3]);
        assert.ok(new Set(image.rgb).size > 10, 'a picture, not a flat colour');
      }
    }
    // Different seeds, different previews; the same job's pictures change between steps.
    assert.notDeepEqual(previews[0]!.images[0]!.rgb, previews[1]!.images[0]!.rgb);
    assert.notDeepEqual(previews[0]!.images[0]!.rgb, previews[2]!.images[0]!.rgb);
    assert.equal(result.jobs.length, 2);
  });

  it('previews do not change the result', async () => {
    const plain = await worker.run([job(5)], parameters);
    const previewed = await worker.run([job(5)], parameters, { preview: { everySteps: 1 }, onPreview: () => undefined });
    assert.deepEqual(previewed.jobs[0]!.images[0]!.rgb, plain.jobs[0]!.images[0]!.rgb);
  });

  it('draws full-size previews with the folder’s tiny decoder when asked (or by default while it is cheap)', async () => {
    const tiny: JobPreview[] = [];
    await tinyWorker.run([job(3)], parameters, { preview: { everySteps: 4, decoder: 'tiny' }, onPreview: (p) => tiny.push(p) });
    assert.deepEqual(
      tiny.map((p) => p.step),
      [4],
    );
    const image = tiny[0]!.images[0]!;
    assert.deepEqual([image.decoder, image.width, image.height, image.rgb.length], ['tiny', 96, 64, 96 * 64 * 3]);
    const auto: JobPreview[] = [];
    await tinyWorker.run([job(3)], parameters, { preview: { everySteps: 2 }, onPreview: (p) => auto.push(p) });
    assert.equal(auto[0]!.images[0]!.decoder, 'tiny', 'auto starts with the tiny decoder (then keeps it while it is cheap)');
    const forcedApprox: JobPreview[] = [];
    await tinyWorker.run([job(3)], parameters, { preview: { everySteps: 4, decoder: 'approx' }, onPreview: (p) => forcedApprox.push(p) });
    assert.equal(forcedApprox[0]!.images[0]!.decoder, 'approx');
    const withoutTiny: JobPreview[] = [];
    await worker.run([job(3)], parameters, { preview: { everySteps: 4, decoder: 'tiny' }, onPreview: (p) => withoutTiny.push(p) });
    assert.equal(withoutTiny[0]!.images[0]!.decoder, 'approx', 'no tiny decoder: the linear map');
  });
});
