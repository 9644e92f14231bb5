import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { SessionFactory, defaultRuntimeOptions } from '../../src/runtime/session-factory.js';
import { PipelineWorker } from '../../src/worker/pipeline-worker.js';
import { tinyModelDir } from '../helpers/fixtures.js';

/**
 * This machine has no GPU and onnxruntime-node is installed without its CUDA provider (the project's .npmrc
 * skips that download), so asking for CUDA must either fall back to the CPU, saying why, or fail clearly.
 * On a machine where CUDA does load these checks do not apply and are skipped.
 */
const unetPath = join(tinyModelDir, 'unet', 'model.onnx');

async function cudaLoads(): Promise<boolean> {
  const probe = new SessionFactory({ ...defaultRuntimeOptions, device: 'cuda', onDeviceUnavailable: 'fail' });
  try {
    await (await probe.load(unetPath)).release();
    return true;
  } catch {
    return false;
  }
}

describe('CUDA unavailable', async () => {
  const skip = (await cudaLoads()) ? 'CUDA works on this machine' : false;

  it('fallback: every session runs on the CPU and the log says why and how to fix it', { skip }, async () => {
    const warnings: string[] = [];
    const factory = new SessionFactory({
      ...defaultRuntimeOptions,
      device: 'cuda',
      onDeviceUnavailable: 'fallback',
      log: (level, message) => level === 'warn' && warnings.push(message),
    });
    const first = await factory.load(unetPath);
    const second = await factory.load(join(tinyModelDir, 'vae_decoder', 'model.onnx'));
    await first.release();
    await second.release();
    assert.equal(factory.device, 'cpu');
    assert.ok(factory.fallbackReason && factory.fallbackReason.length > 0);
    assert.equal(warnings.length, 1, 'said once, not per session');
    assert.match(warnings[0]!, /CUDA is not usable, running on the CPU instead/);
    assert.match(warnings[0]!, /ONNXRUNTIME_NODE_INSTALL=cuda12/);
  });

  it('fail: refuses with a UserError that names the device and the fix', { skip }, async () => {
    const factory = new SessionFactory({ ...defaultRuntimeOptions, device: 'cuda', deviceId: 1, onDeviceUnavailable: 'fail' });
    await assert.rejects(factory.load(unetPath), (error: unknown) => {
      assert.ok(isUserError(error));
      assert.equal(error.identifier, 'runtime.cudaUnavailable');
      assert.match(error.message, /CUDA device 1 is not usable/);
      assert.match(error.message, /cuDNN 9/);
      return true;
    });
  });

  it('the pipeline process reports the fallback and still generates', { skip }, async () => {
    const { log: _log, ...runtime } = { ...defaultRuntimeOptions, device: 'cuda' as const };
    const worker = await PipelineWorker.start({ modelDir: tinyModelDir, runtime });
    try {
      assert.equal(worker.info.device, 'cpu');
      assert.ok(worker.info.deviceFallbackReason);
      const result = await worker.run([{ prompt: 'a dog', guidanceScale: 7.5, seed: 1, numImages: 1 }], {
        width: 64,
        height: 64,
        numInferenceSteps: 2,
        scheduler: 'euler',
        rng: 'cpu',
      });
      assert.equal(result.jobs[0]!.images.length, 1);
    } finally {
      await worker.close();
    }
  });
});
