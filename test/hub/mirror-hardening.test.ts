import assert from 'node:assert/strict';
import { statfs } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { isUserError, type UserError } from '../../src/errors.js';
import { downloadModel, type DownloadModelOptions } from '../../src/hub/download-model.js';
import { manifestFileName } from '../../src/hub/manifest.js';
import type { FakeHub } from '../fake-hub/fake-hub.js';
import { fileGets, listTree, optionsFor, setup } from './hub-test-support.js';

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

/**
 * Options that stop a client which would never stop by itself (as the downloader did before these cases were
 * handled): past `limit` requests the fake aborts the download, which then fails with that reason instead of
 * the expected error. The limit is far above what a correct client needs.
 */
function bounded(hub: FakeHub, dir: string, extra: Partial<DownloadModelOptions> = {}, limit = 500): DownloadModelOptions {
  const controller = new AbortController();
  hub.switches.onRequest = () => {
    if (hub.requests.length > limit) controller.abort(new Error(`the client sent more than ${limit} requests`));
  };
  return optionsFor(hub, dir, { signal: controller.signal, ...extra });
}

const listingRequests = (hub: FakeHub) => hub.requests.filter((request) => request.path.includes('/tree/'));
/** Requests for `path` answered with content (or a 416), not with the Hub's redirect to its CDN. */
const contentAnswers = (hub: FakeHub, path: string) => fileGets(hub.requests, path).filter((request) => request.status !== 302);

describe('Hub mirror hardening', () => {
  it('never sends HF_TOKEN to another origin named by a listing page (Link: rel="next")', async () => {
    const { hub, dir, cleanup } = await setup({ pageSize: 4 });
    try {
      hub.switches.requireToken = 'hf_secret';
      hub.switches.listingNext = 'other';
      const result = await downloadModel(optionsFor(hub, dir, { token: 'hf_secret' }));
      assert.ok(result.files.length > 0);
      const other = hub.requests.filter((request) => request.server === 'other');
      assert.ok(other.length > 0, 'the listing went on at the other origin');
      assert.deepEqual(
        other.map((request) => request.authorization),
        other.map(() => undefined),
      );
      assert.ok(
        hub.requests.filter((request) => request.server === 'hub').every((request) => request.authorization === 'Bearer hf_secret'),
      );
    } finally {
      await cleanup();
    }
  });

  it('stops at a listing whose next page is the page just read', async () => {
    const { hub, dir, cleanup } = await setup();
    try {
      hub.switches.listingNext = 'self';
      await assert.rejects(downloadModel(bounded(hub, dir)), userError('hub.listingLoop', hub.repo, 'already read'));
      assert.equal(listingRequests(hub).length, 1);
      assert.deepEqual(fileGets(hub.requests), []);
    } finally {
      await cleanup();
    }
  });

  it('caps the number of listing pages', async () => {
    const { hub, dir, cleanup } = await setup({ pageSize: 1 });
    try {
      await assert.rejects(downloadModel(bounded(hub, dir, { maxListingPages: 5 })), userError('hub.listingTooLong', 'more than 5 pages'));
      assert.equal(listingRequests(hub).length, 5);
      assert.deepEqual(fileGets(hub.requests), []);
    } finally {
      await cleanup();
    }
  });

  it('refuses a file the listing declares as 909 TiB before downloading anything', async () => {
    const { hub, dir, cleanup } = await setup();
    try {
      hub.switches.declaredSizes.set('unet/model.onnx', 909 * 2 ** 40);
      await assert.rejects(
        downloadModel(bounded(hub, dir)),
        userError('hub.fileTooLarge', 'unet/model.onnx', '909 TiB', 'Nothing was downloaded'),
      );
      assert.deepEqual(fileGets(hub.requests), []);
      assert.deepEqual(await listTree(dir), []);
    } finally {
      await cleanup();
    }
  });

  it('checks the free disk space before the first byte', async () => {
    const { hub, dir, cleanup } = await setup();
    try {
      const info = await statfs(dir);
      const free = Number(info.bavail) * Number(info.bsize);
      hub.switches.declaredSizes.set('unet/model.onnx', free + 2 ** 30);
      await assert.rejects(
        downloadModel(bounded(hub, dir, { maxFileBytes: Number.MAX_SAFE_INTEGER })),
        userError('hub.diskFull', 'Not enough disk space', dir, 'nothing was downloaded'),
      );
      assert.deepEqual(fileGets(hub.requests), []);
      assert.deepEqual(
        (await listTree(dir)).filter((path) => path !== manifestFileName),
        [],
      );
    } finally {
      await cleanup();
    }
  });

  for (const path of ['unet/model.onnx', 'tokenizer/vocab.json']) {
    it(`ends a file served shorter than listed, with a consistent Content-Length, with a size-mismatch error (${path})`, async () => {
      const { hub, dir, cleanup } = await setup();
      try {
        const size = hub.files.get(path)!.content.byteLength;
        const served = Math.floor(size / 2);
        hub.switches.servedSizes.set(path, served);
        await assert.rejects(downloadModel(bounded(hub, dir)), userError('hub.sizeMismatch', path, `${size} bytes`, `${served} bytes`));
        assert.equal(contentAnswers(hub, path).length, 1, 'told at the first answer, not after a resume loop');
        assert.ok(!(await listTree(dir)).some((file) => file.startsWith(path)), 'nothing of it is kept');
      } finally {
        await cleanup();
      }
    });
  }

  it('a short file found by a resume (416 naming the real size) ends the same way', async () => {
    const { hub, dir, cleanup } = await setup();
    try {
      const path = 'vae_decoder/model.onnx';
      const size = hub.files.get(path)!.content.byteLength;
      const served = 1_000_000;
      hub.switches.servedSizes.set(path, served);
      hub.switches.noRange = false;
      // A chunked answer has no Content-Length to compare; the resume's 416 then names the served size.
      const options = bounded(hub, dir);
      const plainFetch = globalThis.fetch;
      options.fetch = async (input, init) => {
        const response = await plainFetch(input, init);
        if (!String(input).includes(encodeURIComponent(path)) || response.status !== 200) return response;
        const headers = new Headers(response.headers);
        headers.delete('content-length');
        return new Response(response.body, { status: 200, headers });
      };
      await assert.rejects(downloadModel(options), userError('hub.sizeMismatch', path, `${size} bytes`, `${served} bytes`));
      assert.deepEqual(
        contentAnswers(hub, path).map((request) => request.status),
        [200, 416],
      );
    } finally {
      await cleanup();
    }
  });

  it('a server that trickles a few bytes per connection runs out of retries instead of looping', async () => {
    const { hub, dir, cleanup } = await setup();
    try {
      const path = 'text_encoder/model.onnx';
      hub.switches.trickle = { path, bytes: 256 * 1024 };
      await assert.rejects(
        downloadModel(bounded(hub, dir, { retry: { maxRetries: 3, delayMs: 0, maxDelayMs: 0 } })),
        userError('hub.unreachable'),
      );
      assert.equal(contentAnswers(hub, path).length, 4, 'the first request and 3 retries');
    } finally {
      await cleanup();
    }
  });
});
