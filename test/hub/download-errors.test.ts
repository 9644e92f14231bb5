import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isUserError, type UserError } from '../../src/errors.js';
import { downloadModel } from '../../src/hub/download-model.js';
import { manifestFileName } from '../../src/hub/manifest.js';
import { fileGets, optionsFor, setup } from './hub-test-support.js';

/** Asserts a UserError with this identifier whose message contains every fragment. */
function userError(identifier: string, ...fragments: string[]): (error: unknown) => boolean {
  return (error) => {
    assert.ok(isUserError(error), `not a UserError: ${String(error)}`);
    assert.equal((error as UserError).identifier, identifier, (error as Error).message);
    for (const fragment of fragments)
      assert.ok((error as Error).message.includes(fragment), `"${fragment}" missing in: ${(error as Error).message}`);
    return true;
  };
}

describe('downloadModel failures', () => {
  it('explains a gated model without a token (licence, model page, HF_TOKEN) and writes no file', async () => {
    const { hub, dir, cleanup } = await setup();
    try {
      hub.switches.requireToken = 'hf_granted';
      await assert.rejects(downloadModel(optionsFor(hub, dir)), userError('hub.gated', 'licence', 'HF_TOKEN', `${hub.url}/${hub.repo}`));
      assert.deepEqual(
        (await readdir(dir)).filter((name) => name !== manifestFileName),
        [],
      );
    } finally {
      await cleanup();
    }
  });

  it('explains a token the gated model refuses', async () => {
    const { hub, dir, cleanup } = await setup();
    try {
      hub.switches.requireToken = 'hf_granted';
      await assert.rejects(
        downloadModel(optionsFor(hub, dir, { token: 'hf_other' })),
        userError('hub.gated', 'refused', 'accept the licence', `${hub.url}/${hub.repo}`),
      );
    } finally {
      await cleanup();
    }
  });

  it('downloads a gated model with a token, sent to the Hub but never to the CDN', async () => {
    const { hub, dir, cleanup } = await setup();
    try {
      hub.switches.requireToken = 'hf_granted';
      const result = await downloadModel(optionsFor(hub, dir, { token: 'hf_granted' }));
      assert.ok(result.files.length > 0);
      const gets = fileGets(hub.requests);
      assert.ok(gets.filter((request) => request.server === 'hub').every((request) => request.authorization === 'Bearer hf_granted'));
      const cdn = gets.filter((request) => request.server === 'cdn');
      assert.ok(cdn.length > 0);
      assert.ok(cdn.every((request) => request.authorization === undefined));
    } finally {
      await cleanup();
    }
  });

  it('takes the token from HF_TOKEN when none is given', async () => {
    const { hub, dir, cleanup } = await setup();
    const saved = process.env.HF_TOKEN;
    try {
      hub.switches.requireToken = 'hf_from_env';
      process.env.HF_TOKEN = 'hf_from_env';
      const options = optionsFor(hub, dir);
      delete options.token;
      const result = await downloadModel(options);
      assert.ok(result.files.length > 0);
    } finally {
      if (saved === undefined) delete process.env.HF_TOKEN;
      else process.env.HF_TOKEN = saved;
      await cleanup();
    }
  });

  for (const token of ['', 'hf_some_token']) {
    it(`names the repository and revision when the repository does not exist (${token ? 'with' : 'without'} a token)`, async () => {
      const { hub, dir, cleanup } = await setup();
      try {
        await assert.rejects(
          downloadModel(optionsFor(hub, dir, { repo: 'nobody/no-such-model', revision: 'v2', token })),
          userError('hub.repoNotFound', 'nobody/no-such-model', '"v2"', hub.url),
        );
        const status = hub.requests[0]?.status;
        assert.equal(status, token ? 404 : 401);
      } finally {
        await cleanup();
      }
    });
  }

  it('names a revision that does not exist', async () => {
    const { hub, dir, cleanup } = await setup();
    try {
      await assert.rejects(
        downloadModel(optionsFor(hub, dir, { revision: 'no-such-branch' })),
        userError('hub.revisionNotFound', '"no-such-branch"', hub.repo),
      );
    } finally {
      await cleanup();
    }
  });

  it('names what is missing from a folder that is not a diffusers ONNX layout', async () => {
    const { hub, dir, cleanup } = await setup({ hiddenFiles: ['unet/model.onnx', 'tokenizer/merges.txt'] });
    try {
      await assert.rejects(
        downloadModel(optionsFor(hub, dir)),
        userError('hub.notOnnxLayout', hub.repo, 'tokenizer/merges.txt', 'unet/model.onnx', 'PyTorch'),
      );
      assert.deepEqual(fileGets(hub.requests), []);
    } finally {
      await cleanup();
    }
  });

  it('explains an unreachable Hub: its URL, HF_ENDPOINT for a mirror, LATENTCORD_MODEL_DIR for a folder placed by hand', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { hub, dir, cleanup } = await setup();
    try {
      const endpoint = `http://127.0.0.1:${port}`;
      await assert.rejects(
        downloadModel(optionsFor(hub, dir, { endpoint })),
        userError('hub.unreachable', endpoint, 'ECONNREFUSED', 'HF_ENDPOINT', 'mirror', 'LATENTCORD_MODEL_DIR'),
      );
    } finally {
      await cleanup();
    }
  });

  it('retries a Hub that stalls and then reports it unreachable', async () => {
    const stalled = createServer(() => undefined);
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    const { hub, dir, cleanup } = await setup();
    try {
      const endpoint = `http://127.0.0.1:${(stalled.address() as AddressInfo).port}`;
      let calls = 0;
      const countingFetch: typeof fetch = (input, init) => {
        calls += 1;
        return fetch(input, init);
      };
      await assert.rejects(
        downloadModel(optionsFor(hub, dir, { endpoint, fetch: countingFetch, requestTimeoutMs: 50, retry: { maxRetries: 2, delayMs: 0 } })),
        userError('hub.unreachable', 'ETIMEDOUT'),
      );
      assert.equal(calls, 3);
    } finally {
      stalled.closeAllConnections();
      await new Promise<void>((resolve) => stalled.close(() => resolve()));
      await cleanup();
    }
  });

  it('refuses a folder that already holds another model', async () => {
    const { hub, dir, cleanup } = await setup();
    try {
      await writeFile(join(dir, manifestFileName), JSON.stringify({ version: 1, repo: 'someone/else', files: [] }));
      await assert.rejects(downloadModel(optionsFor(hub, dir)), userError('hub.targetInUse', 'someone/else', dir));
      assert.deepEqual(hub.requests, []);
    } finally {
      await cleanup();
    }
  });

  for (const [options, identifier] of [
    [{ repo: 'not a repo' }, 'hub.badRepo'],
    [{ repo: 'a/b/c' }, 'hub.badRepo'],
    [{ endpoint: 'ftp://example.org' }, 'hub.badEndpoint'],
    [{ token: 'not-a-token' }, 'hub.badToken'],
  ] as const) {
    it(`rejects ${JSON.stringify(options)} before any request`, async () => {
      const { hub, dir, cleanup } = await setup();
      try {
        await assert.rejects(downloadModel(optionsFor(hub, dir, options)), userError(identifier));
        assert.deepEqual(hub.requests, []);
      } finally {
        await cleanup();
      }
    });
  }
});
