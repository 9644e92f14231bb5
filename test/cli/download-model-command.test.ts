import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { parseDownloadModelArgs, runDownloadModelCommand } from '../../src/cli/download-model-command.js';
import { tinyModelDir } from '../helpers/fixtures.js';
import { setup, withEnv } from '../hub/hub-test-support.js';

describe('download-model command', () => {
  it('parses the repository and options', () => {
    assert.deepEqual(parseDownloadModelArgs(['owner/name'], '/srv/data'), {
      repo: 'owner/name',
      revision: undefined,
      dir: '/srv/data/models/owner--name',
      subfolder: undefined,
    });
    assert.deepEqual(parseDownloadModelArgs(['--revision', 'onnx', 'owner/name', '--dir=/m', '--subfolder', 'onnx'], '/srv/data'), {
      repo: 'owner/name',
      revision: 'onnx',
      dir: '/m',
      subfolder: 'onnx',
    });
  });

  for (const args of [[], ['a/b', 'c/d'], ['a/b', '--dir'], ['a/b', '--force']]) {
    it(`rejects ${JSON.stringify(args)} with the usage`, () => {
      assert.throws(
        () => parseDownloadModelArgs(args, '/srv/data'),
        (error) => isUserError(error) && error.identifier === 'cli.usage' && error.message.includes('Usage: latentcord download-model'),
      );
    });
  }

  it('downloads with plain progress lines and says where the model is', async () => {
    const { hub, dir, cleanup } = await setup();
    try {
      let out = '';
      let err = '';
      const result = await withEnv({ HF_ENDPOINT: hub.url, HF_TOKEN: undefined }, () =>
        runDownloadModelCommand([hub.repo, '--dir', dir], {
          stdout: { write: (text: string) => (out += text) },
          stderr: { write: (text: string) => (err += text), isTTY: false },
          dataDir: join(dir, 'data'),
        }),
      );
      assert.ok((await readFile(join(dir, 'unet', 'model.onnx'))).equals(await readFile(join(tinyModelDir, 'unet', 'model.onnx'))));
      assert.match(err, /^fetching model_index\.json/m);
      assert.match(err, /^fetched vae_encoder\/model\.onnx \| total 100%/m);
      assert.ok(out.includes(`is ready in ${dir}`));
      assert.ok(out.includes(`LATENTCORD_MODEL_DIR=${dir}`));
      assert.equal(result.commit, hub.commit);
    } finally {
      await cleanup();
    }
  });
});
