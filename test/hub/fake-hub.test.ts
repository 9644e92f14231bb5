import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { downloadFile, fileDownloadInfo, HubApiError, listFiles, modelInfo } from '@huggingface/hub';
import { gitBlobOid } from '../fake-hub/repo-content.js';
import { setup } from './hub-test-support.js';

/**
 * The fake must answer `@huggingface/hub` the way the Hub does: these run the library's own functions
 * against it, and check the headers huggingface_hub reads on `resolve` (`X-Repo-Commit`, `ETag`,
 * `X-Linked-ETag`, `X-Linked-Size`, `Location`).
 */
describe('fake Hub, as @huggingface/hub sees it', () => {
  it('resolves main to its commit through modelInfo', async () => {
    const { hub, cleanup } = await setup();
    try {
      const info = await modelInfo({ name: hub.repo, revision: 'main', hubUrl: hub.url, additionalFields: ['sha'] });
      assert.equal(info.sha, hub.commit);
      assert.equal(info.name, hub.repo);
      assert.equal(info.gated, false);
    } finally {
      await cleanup();
    }
  });

  it('lists files with git oids and LFS sha256, across pages', async () => {
    const { hub, cleanup } = await setup({ pageSize: 3 });
    try {
      const entries = [];
      for await (const entry of listFiles({ repo: hub.repo, revision: 'main', recursive: true, hubUrl: hub.url })) entries.push(entry);
      const files = entries.filter((entry) => entry.type === 'file');
      assert.deepEqual(files.map((entry) => entry.path).sort(), [...hub.files.keys()].sort());
      assert.ok(entries.some((entry) => entry.type === 'directory' && entry.path === 'unet'));
      const vocab = files.find((entry) => entry.path === 'tokenizer/vocab.json')!;
      const vocabContent = hub.files.get('tokenizer/vocab.json')!.content;
      assert.equal(vocab.oid, gitBlobOid(vocabContent));
      assert.equal(vocab.lfs, undefined);
      const unet = files.find((entry) => entry.path === 'unet/model.onnx')!;
      const unetContent = hub.files.get('unet/model.onnx')!.content;
      assert.equal(unet.lfs?.oid, createHash('sha256').update(unetContent).digest('hex'));
      assert.equal(unet.lfs?.size, unetContent.byteLength);
      assert.equal(unet.size, unetContent.byteLength);

      const top = [];
      for await (const entry of listFiles({ repo: hub.repo, path: 'unet', hubUrl: hub.url })) top.push(entry.path);
      assert.ok(top.includes('unet/model.onnx') && top.every((path) => path.startsWith('unet/') && path.split('/').length === 2));
    } finally {
      await cleanup();
    }
  });

  it('serves file info and content to fileDownloadInfo and downloadFile, through the CDN redirect for LFS files', async () => {
    const { hub, cleanup } = await setup();
    try {
      for (const path of ['unet/model.onnx', 'tokenizer/merges.txt']) {
        const file = hub.files.get(path)!;
        const info = await fileDownloadInfo({ repo: hub.repo, path, hubUrl: hub.url });
        assert.ok(info);
        assert.equal(info.size, file.content.byteLength);
        assert.equal(info.etag, `"${file.lfs ? file.sha256 : file.oid}"`);
        const blob = await downloadFile({ repo: hub.repo, path, hubUrl: hub.url, xet: false });
        assert.ok(blob);
        assert.ok(Buffer.from(await blob.arrayBuffer()).equals(file.content));
        const tail = Buffer.from(await blob.slice(file.content.byteLength - 1000).arrayBuffer());
        assert.ok(tail.equals(file.content.subarray(file.content.byteLength - 1000)));
      }
      assert.equal(await fileDownloadInfo({ repo: hub.repo, path: 'no/such/file.json', hubUrl: hub.url }), null);
    } finally {
      await cleanup();
    }
  });

  it('answers HEAD on resolve with the headers huggingface_hub reads', async () => {
    const { hub, cleanup } = await setup();
    try {
      const lfs = hub.files.get('unet/model.onnx')!;
      const head = await fetch(`${hub.url}/${hub.repo}/resolve/main/unet/model.onnx`, { method: 'HEAD', redirect: 'manual' });
      assert.equal(head.status, 302);
      assert.equal(head.headers.get('x-repo-commit'), hub.commit);
      assert.equal(head.headers.get('x-linked-etag'), `"${lfs.sha256}"`);
      assert.equal(head.headers.get('x-linked-size'), String(lfs.content.byteLength));
      assert.ok(head.headers.get('location')?.startsWith(hub.cdnUrl));

      const cdn = await fetch(head.headers.get('location')!, { headers: { range: 'bytes=10-19' } });
      assert.equal(cdn.status, 206);
      assert.equal(cdn.headers.get('content-range'), `bytes 10-19/${lfs.content.byteLength}`);
      assert.ok(Buffer.from(await cdn.arrayBuffer()).equals(lfs.content.subarray(10, 20)));

      const regular = hub.files.get('model_index.json')!;
      const plain = await fetch(`${hub.url}/${hub.repo}/resolve/${hub.commit}/model_index.json`, { method: 'HEAD' });
      assert.equal(plain.status, 200);
      assert.equal(plain.headers.get('etag'), `"${gitBlobOid(regular.content)}"`);
      assert.equal(plain.headers.get('content-length'), String(regular.content.byteLength));
      assert.equal(plain.headers.get('accept-ranges'), 'bytes');
      assert.equal(plain.headers.get('x-repo-commit'), hub.commit);

      hub.switches.noRange = true;
      const noRange = await fetch(`${hub.url}/${hub.repo}/resolve/main/model_index.json`, { headers: { range: 'bytes=5-' } });
      assert.equal(noRange.status, 200);
      assert.equal(noRange.headers.get('accept-ranges'), null);
      assert.equal((await noRange.arrayBuffer()).byteLength, regular.content.byteLength);
    } finally {
      await cleanup();
    }
  });

  it('fails like the Hub: error codes in X-Error-Code, 401 for an anonymous missing repository', async () => {
    const { hub, cleanup } = await setup();
    try {
      const cases: Array<[string, RequestInit, number, string]> = [
        [`/api/models/nobody/nothing/revision/main`, {}, 401, 'RepoNotFound'],
        [`/api/models/nobody/nothing/revision/main`, { headers: { authorization: 'Bearer hf_x' } }, 404, 'RepoNotFound'],
        [`/api/models/${hub.repo}/revision/v0`, {}, 404, 'RevisionNotFound'],
        [`/${hub.repo}/resolve/main/missing.txt`, {}, 404, 'EntryNotFound'],
      ];
      for (const [path, init, status, code] of cases) {
        const response = await fetch(hub.url + path, init);
        assert.equal(response.status, status, path);
        assert.equal(response.headers.get('x-error-code'), code, path);
        assert.equal(typeof ((await response.json()) as { error?: unknown }).error, 'string');
      }
      hub.switches.requireToken = 'hf_ok';
      const gated = await fetch(`${hub.url}/${hub.repo}/resolve/main/model_index.json`);
      assert.equal(gated.status, 401);
      assert.equal(gated.headers.get('x-error-code'), 'GatedRepo');
      await assert.rejects(
        fileDownloadInfo({ repo: hub.repo, path: 'model_index.json', hubUrl: hub.url }),
        (error) => error instanceof HubApiError && error.statusCode === 401,
      );
      const info = await fileDownloadInfo({ repo: hub.repo, path: 'model_index.json', hubUrl: hub.url, accessToken: 'hf_ok' });
      assert.equal(info?.size, hub.files.get('model_index.json')!.content.byteLength);
    } finally {
      await cleanup();
    }
  });
});
