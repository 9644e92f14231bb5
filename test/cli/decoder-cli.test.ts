import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { readPngText } from '../../src/image/index.js';
import { repoRoot, tinyModelDir } from '../helpers/fixtures.js';
import { writeTinyDecoder } from '../support/onnx/tiny-decoder.js';

const run = promisify(execFile);
const cli = join(repoRoot, 'dist', 'cli.js');

describe('latentcord CLI with a tiny decoder', () => {
  let dir: string;
  let taesd: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latentcord-cli-decoder-'));
    taesd = join(dir, 'taesd');
    writeTinyDecoder(join(taesd, 'model.onnx'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  async function latentcord(
    args: string[],
    extraEnv: Record<string, string> = {},
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    const env = {
      PATH: process.env['PATH'] ?? '',
      HOME: dir,
      LATENTCORD_MODEL_DIR: tinyModelDir,
      LATENTCORD_DATA_DIR: join(dir, 'data'),
      ...extraEnv,
    };
    try {
      const { stdout, stderr } = await run(process.execPath, [cli, ...args], { cwd: dir, env, maxBuffer: 16 << 20 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  const imagine = ['imagine', 'a lighthouse', '--width', '64', '--height', '64', '--steps', '2', '--seed', '5', '--scheduler', 'euler'];

  it('imagine --decoder tiny says which decoder drew the picture and records `VAE Decoder: TAESD`', async () => {
    const tiny = await latentcord([...imagine, '--decoder', 'tiny', '--out', 'tiny.png'], { LATENTCORD_TINY_DECODER_DIR: taesd });
    assert.equal(tiny.code, 0, tiny.stderr);
    assert.match(tiny.stderr, /decode [\d.]+ s with the tiny decoder \(TAESD\)/);
    const parameters = readPngText(await readFile(join(dir, 'tiny.png')))['parameters']!;
    assert.match(parameters, /, RNG: CPU, VAE Decoder: TAESD$/, 'after the standard keys, as A1111 writes its extra parameters');

    const full = await latentcord([...imagine, '--out', 'full.png'], { LATENTCORD_TINY_DECODER_DIR: taesd });
    assert.equal(full.code, 0, full.stderr);
    assert.match(full.stderr, /with the VAE decoder\)/);
    assert.doesNotMatch(readPngText(await readFile(join(dir, 'full.png')))['parameters']!, /VAE Decoder/);
  });

  it('LATENTCORD_FINAL_DECODER=tiny without a tiny decoder fails with a message saying where to put one', async () => {
    const { code, stderr, stdout } = await latentcord([...imagine, '--out', 'none.png'], { LATENTCORD_FINAL_DECODER: 'tiny' });
    assert.notEqual(code, 0);
    assert.equal(stdout, '');
    assert.match(stderr, /no tiny VAE decoder: put a TAESD-class decoder's model\.onnx in .*vae_decoder_tiny/);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  });

  it('info names the final decoder, the preview decoder and the UNet batch', async () => {
    const { code, stdout } = await latentcord(['info'], { LATENTCORD_TINY_DECODER_DIR: taesd });
    assert.equal(code, 0);
    assert.match(stdout, /^final decoder {4}VAE decoder, tiled \(64-pixel tiles\) above 768x768$/m);
    assert.match(stdout, new RegExp(`^previews {9}tiny decoder \\(${join(taesd, 'model.onnx').replace(/[.]/g, '\\.')}\\)`, 'm'));
    assert.match(stdout, /^UNet batch {7}at most 1 latent row per run$/m);
    const json = JSON.parse(
      (await latentcord(['info', '--json'], { LATENTCORD_FINAL_DECODER: 'tiny', LATENTCORD_TINY_DECODER_DIR: taesd })).stdout,
    );
    assert.equal(json.finalDecoder, 'tiny');
    assert.equal(json.tinyDecoder, join(taesd, 'model.onnx'));
  });
});
