import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { defaultModelDir, ensureModelDir } from '../../src/cli/model-location.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { isUserError } from '../../src/errors.js';
import { readModelFolder } from '../../src/model/model-folder.js';
import { startFakeHub, type FakeHub } from '../fake-hub/fake-hub.js';
import { repoRoot, tinyModelDir } from '../helpers/fixtures.js';

const run = promisify(execFile);
const cli = join(repoRoot, 'dist', 'cli.js');

function configWith(env: Record<string, string>): Config {
  return loadConfig({ env, configFile: null });
}

const sink = () => {
  const lines: string[] = [];
  return { lines, stream: { write: (text: string) => lines.push(text), isTTY: false } };
};

describe('ensureModelDir (zero-setup default model)', () => {
  let hub: FakeHub;
  let dataDir: string;
  const savedEndpoint = process.env['HF_ENDPOINT'];
  before(async () => {
    hub = await startFakeHub({ root: tinyModelDir, repo: 'latentcord/tiny-sd-onnx' });
    dataDir = mkdtempSync(join(tmpdir(), 'latentcord-models-'));
    process.env['HF_ENDPOINT'] = hub.url;
  });
  after(async () => {
    if (savedEndpoint === undefined) delete process.env['HF_ENDPOINT'];
    else process.env['HF_ENDPOINT'] = savedEndpoint;
    await hub.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('uses an explicit or configured folder as it is, without any download', async () => {
    const config = configWith({ LATENTCORD_DATA_DIR: dataDir, LATENTCORD_MODEL_DIR: tinyModelDir });
    hub.requests.length = 0;
    assert.equal(await ensureModelDir(config, undefined, '/', sink().stream), tinyModelDir);
    assert.equal(await ensureModelDir(config, '/somewhere/else', '/', sink().stream), '/somewhere/else');
    assert.equal(hub.requests.length, 0);
  });

  it('downloads the default model into the data folder once, then reuses it offline', async () => {
    const config = configWith({ LATENTCORD_DATA_DIR: dataDir, LATENTCORD_MODEL_REPO: 'latentcord/tiny-sd-onnx' });
    const output = sink();
    const dir = await ensureModelDir(config, undefined, '/', output.stream);
    assert.equal(dir, join(dataDir, 'models', 'latentcord--tiny-sd-onnx'));
    assert.equal(dir, defaultModelDir(config));
    assert.match(output.lines[0]!, /downloading the default model latentcord\/tiny-sd-onnx@main/);
    assert.ok(readModelFolder(dir).modelFiles.vae_encoder, 'a complete, loadable folder');
    assert.equal(existsSync(join(dir, 'unet', 'diffusion_pytorch_model.safetensors')), false, 'only what the pipeline needs');

    await hub.close();
    const again = await ensureModelDir(config, undefined, '/', sink().stream);
    assert.equal(again, dir, 'a complete download is reused without the network');
    hub = await startFakeHub({ root: tinyModelDir, repo: 'latentcord/tiny-sd-onnx' });
    process.env['HF_ENDPOINT'] = hub.url;
  });

  it('offline without a model: says what to do', async () => {
    const config = configWith({ LATENTCORD_DATA_DIR: join(dataDir, 'empty'), LATENTCORD_MODEL_REPO: 'latentcord/tiny-sd-onnx' });
    process.env['HF_ENDPOINT'] = 'http://127.0.0.1:9';
    try {
      await assert.rejects(ensureModelDir(config, undefined, '/', sink().stream), (error: unknown) => {
        assert.ok(isUserError(error));
        assert.equal(error.identifier, 'hub.unreachable');
        assert.match(error.message, /HF_ENDPOINT/);
        assert.match(error.message, /set LATENTCORD_MODEL_DIR/);
        return true;
      });
    } finally {
      process.env['HF_ENDPOINT'] = hub.url;
    }
  });

  it('without a model folder and without a default repository: a clear configuration error', async () => {
    const config = configWith({ LATENTCORD_DATA_DIR: dataDir, LATENTCORD_MODEL_REPO: '' });
    const noRepo = { ...config, defaultModel: { repo: '', revision: 'main' } } as Config;
    await assert.rejects(
      ensureModelDir(noRepo, undefined, '/', sink().stream),
      (e: unknown) => isUserError(e) && e.identifier === 'config.noModel',
    );
  });

  it('download-model without --dir saves where the bot looks for its default model (one default, no second download)', async () => {
    const work = mkdtempSync(join(dataDir, 'cwd-'));
    const env = { PATH: process.env['PATH'] ?? '', HOME: work, HF_ENDPOINT: hub.url, LATENTCORD_MODEL_REPO: 'latentcord/tiny-sd-onnx' };
    const download = await run(process.execPath, [cli, 'download-model', 'latentcord/tiny-sd-onnx'], { cwd: work, env });
    const expected = join(work, 'data', 'models', 'latentcord--tiny-sd-onnx');
    assert.ok(download.stdout.includes(`is ready in ${expected}`), download.stdout);
    assert.match(download.stdout, /LATENTCORD_MODEL_REPO=latentcord\/tiny-sd-onnx \(the bot looks there for its default model\)/);
    assert.equal(existsSync(join(work, 'models')), false, 'nothing under ./models');

    // `info` finds that folder as the default model's, with the Hub out of reach.
    const info = await run(process.execPath, [cli, 'info', '--json'], { cwd: work, env: { ...env, HF_ENDPOINT: 'http://127.0.0.1:9' } });
    assert.equal(JSON.parse(info.stdout).dir, expected);
  });
});
