import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readModelFolder } from '../../src/model/model-folder.js';
import type { BatchParameters, GenerationJob } from '../../src/pipeline/stable-diffusion.js';
import { StableDiffusionPipeline } from '../../src/pipeline/stable-diffusion.js';
import { SessionFactory, defaultRuntimeOptions } from '../../src/runtime/session-factory.js';
import { tinyModelDir } from '../helpers/fixtures.js';

const job: GenerationJob = { prompt: 'a running dog', guidanceScale: 7.5, seed: 9, numImages: 1 };
const parameters: BatchParameters = { width: 64, height: 64, numInferenceSteps: 3, scheduler: 'euler', rng: 'cpu' };

describe('optimised-graph cache', () => {
  let work: string;
  let modelDir: string;
  let cacheDir: string;
  const logs: string[] = [];
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'latentcord-ortcache-'));
    modelDir = join(work, 'model');
    cacheDir = join(work, 'cache');
    cpSync(tinyModelDir, modelDir, { recursive: true });
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  async function run(cache: string | undefined) {
    const factory = new SessionFactory({
      ...defaultRuntimeOptions,
      optimizedModelCacheDir: cache,
      log: (_level, message) => logs.push(message),
    });
    const paths: string[] = [];
    const pipeline = await StableDiffusionPipeline.load(readModelFolder(modelDir), async (path) => {
      const session = await factory.load(path);
      paths.push(session.loadedFrom ?? session.path);
      return session;
    });
    try {
      const result = await pipeline.generate(job, parameters, { keepIntermediates: true });
      return { result, paths };
    } finally {
      await pipeline.release();
    }
  }

  it('first start writes one entry per graph; the next start loads the cached graphs; images are identical', async () => {
    const plain = await run(undefined);
    const cold = await run(cacheDir);
    const entries = readdirSync(cacheDir).filter((name) => !name.includes('staging'));
    assert.equal(entries.length, 4, 'text encoder, UNet, VAE decoder and encoder');
    for (const entry of entries) {
      assert.ok(existsSync(join(cacheDir, entry, 'model.onnx')));
      // A full-size UNet is over protobuf's 2 GB limit: the weights must go to the external file.
      const graphBytes = statSync(join(cacheDir, entry, 'model.onnx')).size;
      const weightsBytes = statSync(join(cacheDir, entry, 'model.onnx.data')).size;
      assert.ok(weightsBytes > graphBytes, `${entry}: graph ${graphBytes} B, external weights ${weightsBytes} B`);
    }
    assert.ok(
      cold.paths.every((p) => p.startsWith(modelDir)),
      'the first start runs the original files',
    );

    const warm = await run(cacheDir);
    assert.ok(
      warm.paths.every((p) => p.startsWith(cacheDir)),
      'the second start runs the cached graphs',
    );
    assert.deepEqual(warm.result.finalLatents, cold.result.finalLatents);
    assert.deepEqual(warm.result.images[0]!.rgb, plain.result.images[0]!.rgb);
  });

  it('a changed model file invalidates its entry (and only its entry is rebuilt)', async () => {
    const before = new Set(readdirSync(cacheDir));
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(modelDir, 'unet', 'model.onnx'), later, later);
    const result = await run(cacheDir);
    const after = new Set(readdirSync(cacheDir));
    assert.equal(after.size, 4, 'the stale UNet entry was replaced, not kept beside the new one');
    assert.equal([...after].filter((name) => !before.has(name)).length, 1);
    assert.ok(result.paths.some((p) => p.startsWith(modelDir) && p.includes('unet')));
  });

  it('staging folders left by a process that died while writing are removed; a live one is left alone', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const abandoned = join(cacheDir, `0123456789abcdef.staging-${dead}`);
    const live = join(cacheDir, `fedcba9876543210.staging-${process.ppid}`);
    for (const dir of [abandoned, live]) {
      mkdirSync(dir);
      writeFileSync(join(dir, 'model.onnx.data'), 'half-written weights');
    }
    const later = new Date(Date.now() + 120_000);
    utimesSync(join(modelDir, 'vae_decoder', 'model.onnx'), later, later); // forces one new entry to be written
    await run(cacheDir);
    assert.equal(existsSync(abandoned), false, 'the staging folder of the dead process is gone');
    assert.equal(existsSync(live), true, 'a running process may still be writing');
    rmSync(live, { recursive: true });
  });

  it('a damaged cached graph is rebuilt with a warning instead of failing', async () => {
    const unetEntry = readdirSync(cacheDir).find((name) => {
      try {
        return (JSON.parse(readFileSync(join(cacheDir, name, 'source.json'), 'utf8')) as { source: string }).source.includes('unet');
      } catch {
        return false;
      }
    })!;
    writeFileSync(join(cacheDir, unetEntry, 'model.onnx'), 'not a model');
    logs.length = 0;
    const result = await run(cacheDir);
    assert.equal(result.result.images.length, 1);
    assert.ok(
      logs.some((line) => /unusable; rebuilding/.test(line)),
      logs.join('\n'),
    );
  });
});
