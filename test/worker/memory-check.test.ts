import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, openSync, closeSync, ftruncateSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { readModelFolder } from '../../src/model/model-folder.js';
import type { ModelSession } from '../../src/pipeline/model-session.js';
import { loadEngine } from '../../src/worker/load-engine.js';
import { checkCpuMemory, estimateCpuMemoryBytes, machineMemory, memoryCheckedLoader } from '../../src/worker/memory-check.js';
import { tinyModelDir, tinySdxlModelDir } from '../helpers/fixtures.js';

const GiB = 1024 ** 3;
const work = mkdtempSync(join(tmpdir(), 'latentcord-memory-'));

/** A copy of a tiny folder whose UNet folder also holds a sparse file of `bytes` (no disk used): a huge model on paper. */
function folderWithWeights(source: string, bytes: number): string {
  const dir = join(work, `m${Math.random().toString(36).slice(2)}`);
  cpSync(source, dir, { recursive: true });
  const fd = openSync(join(dir, 'unet', 'model.onnx_data'), 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return dir;
}

function fakeSession(path: string, released: string[]): ModelSession {
  return { path, inputs: [], outputs: [], run: () => Promise.reject(new Error('not run')), release: async () => void released.push(path) };
}

describe('memory needed on the CPU, said before loading', () => {
  after(() => rmSync(work, { recursive: true, force: true }));

  it('the estimate: weights + 45 % + 256 MiB (SD 1.5 fp32 ≈ 6 GiB, SDXL fp32 ≈ 19 GiB)', () => {
    assert.equal(estimateCpuMemoryBytes(0), 256 * 1024 ** 2);
    assert.equal(Math.round(estimateCpuMemoryBytes(4.3e9) / GiB), 6);
    assert.equal(Math.round(estimateCpuMemoryBytes(13.9e9) / GiB), 19);
  });

  it("the folder's weight bytes are its component folders' files", () => {
    const folder = readModelFolder(tinySdxlModelDir);
    // five graphs (two text encoders, UNet, VAE decoder and encoder) and their configs: about 27 MiB
    assert.ok(folder.weightBytes > 26e6 && folder.weightBytes < 30e6, String(folder.weightBytes));
    const big = readModelFolder(folderWithWeights(tinySdxlModelDir, 14e9));
    assert.equal(big.weightBytes, folder.weightBytes + 14e9);
  });

  it('logs what the folder needs and what is available; refuses with the numbers and the ways out', () => {
    const folder = readModelFolder(folderWithWeights(tinySdxlModelDir, 14e9));
    const lines: string[] = [];
    const log = (_level: 'info' | 'warn', message: string) => void lines.push(message);
    checkCpuMemory(folder, { availableBytes: 30 * GiB, totalBytes: 64 * GiB }, log);
    assert.match(
      lines[0]!,
      /13\.1 GiB of graphs and weights; on the CPU it needs about 19\.2 GiB of memory \(30\.0 GiB available of 64\.0 GiB\)/,
    );
    assert.throws(
      () => checkCpuMemory(folder, { availableBytes: 12 * GiB, totalBytes: 16 * GiB }, log),
      (error: unknown) =>
        isUserError(error) &&
        error.identifier === 'model.notEnoughMemory' &&
        /needs about 19\.2 GiB of memory to run on the CPU \(its graphs and weights are 13\.1 GiB\), but only 12\.0 GiB of 16\.0 GiB is there/.test(
          error.message,
        ) &&
        /fp16 SDXL folder on a CUDA GPU/.test(error.message) &&
        /SD 1\.5 folder needs about 6 GiB/.test(error.message),
    );
    assert.throws(
      () => checkCpuMemory(folder, { availableBytes: 12 * GiB, totalBytes: 64 * GiB }),
      (error: unknown) => isUserError(error) && /is free now \(close other programs/.test(error.message),
    );
  });

  it('this machine: total is physical memory or a lower cgroup limit, available at most that', () => {
    const memory = machineMemory();
    assert.ok(memory.totalBytes > 0 && memory.availableBytes > 0 && memory.availableBytes <= memory.totalBytes);
  });

  it('checks before the first CPU session, after a CUDA fallback (releasing that session), never on CUDA', async () => {
    const folder = readModelFolder(folderWithWeights(tinyModelDir, 40 * GiB));
    const tight = () => ({ availableBytes: 8 * GiB, totalBytes: 16 * GiB });
    const loaded: string[] = [];
    const released: string[] = [];
    const cpu = { device: 'cpu' as 'cpu' | 'cuda', load: async (path: string) => (loaded.push(path), fakeSession(path, released)) };
    await assert.rejects(memoryCheckedLoader(folder, cpu, { memory: tight })('a.onnx'), /model|memory/);
    assert.equal(loaded.length, 0, 'nothing was loaded');

    const fallingBack = {
      device: 'cuda' as 'cpu' | 'cuda',
      load: async (path: string) => {
        fallingBack.device = 'cpu';
        loaded.push(path);
        return fakeSession(path, released);
      },
    };
    await assert.rejects(
      memoryCheckedLoader(folder, fallingBack, { memory: tight })('text_encoder.onnx'),
      (e: unknown) => isUserError(e) && e.identifier === 'model.notEnoughMemory',
    );
    assert.deepEqual(released, ['text_encoder.onnx'], 'the session loaded before the fallback is released');

    const cuda = { device: 'cuda' as 'cpu' | 'cuda', load: async (path: string) => fakeSession(path, released) };
    const load = memoryCheckedLoader(folder, cuda, { memory: tight });
    await load('unet.onnx');
    await load('vae.onnx');
  });

  it('loadEngine refuses a folder larger than this machine before loading any graph', async () => {
    const dir = folderWithWeights(tinySdxlModelDir, 4e12);
    const logged: string[] = [];
    await assert.rejects(
      loadEngine(dir, {
        device: 'cpu',
        deviceId: 0,
        onDeviceUnavailable: 'fallback',
        intraOpThreads: 1,
        graphOptimizationLevel: 'all',
        log: (_l, m) => void logged.push(m),
      }),
      (error: unknown) =>
        isUserError(error) && error.identifier === 'model.notEnoughMemory' && /needs about 5\.\d\d TiB/.test(error.message),
    );
    assert.match(logged.join('\n'), /on the CPU it needs about/);
    // and the tiny model itself fits
    const { pipeline } = await loadEngine(tinySdxlModelDir);
    await pipeline.release();
  });
});
