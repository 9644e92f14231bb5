import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { downloadModel, type DownloadProgress } from '../../src/hub/download-model.js';
import { manifestFileName, readManifest } from '../../src/hub/manifest.js';
import { readModelFolder } from '../../src/model/model-folder.js';
import { defaultJunkFiles } from '../fake-hub/fake-hub.js';
import { sdPreprocessorConfig, writeSafetyCheckerGraph } from '../support/onnx/safety-checker-graphs.js';
import { tinyModelDir, tinySdxlModelDir } from '../helpers/fixtures.js';
import { fileGets, listTree, optionsFor, setup, withEnv } from './hub-test-support.js';

const fixtureFiles = await listTree(tinyModelDir);

function rangeStart(range: string | undefined): number {
  const match = /^bytes=(\d+)-$/.exec(range ?? '');
  assert.ok(match, `not an open range: ${range}`);
  return Number(match[1]);
}

describe('downloadModel from the fake Hub', () => {
  it('writes exactly the fixture files, byte for byte, and a manifest', async () => {
    const { hub, dir, cleanup } = await setup();
    try {
      const result = await downloadModel(optionsFor(hub, dir));
      assert.deepEqual(await listTree(dir), [manifestFileName, ...fixtureFiles].sort());
      for (const path of fixtureFiles) {
        const [got, want] = await Promise.all([readFile(join(dir, path)), readFile(join(tinyModelDir, path))]);
        assert.ok(got.equals(want), `${path} differs from the fixture`);
      }
      assert.equal(result.commit, hub.commit);
      assert.equal(result.subfolder, '');
      assert.deepEqual(
        result.files.map((file) => file.path),
        fixtureFiles,
      );
      assert.ok(result.files.every((file) => file.status === 'downloaded'));
      const totalSize = fixtureFiles.reduce((sum, path) => sum + hub.files.get(path)!.content.byteLength, 0);
      assert.equal(result.bytesDownloaded, totalSize);

      const manifest = await readManifest(dir);
      assert.ok(manifest);
      assert.equal(manifest.repo, hub.repo);
      assert.equal(manifest.revision, hub.commit);
      assert.equal(manifest.requestedRevision, 'main');
      assert.equal(manifest.complete, true);
      assert.deepEqual(
        manifest.files.map((file) => file.path),
        fixtureFiles,
      );
      const unet = manifest.files.find((file) => file.path === 'unet/model.onnx');
      assert.equal(unet?.sha256, hub.files.get('unet/model.onnx')!.sha256);
      const vocab = manifest.files.find((file) => file.path === 'tokenizer/vocab.json');
      assert.equal(vocab?.gitOid, hub.files.get('tokenizer/vocab.json')!.oid);
    } finally {
      await cleanup();
    }
  });

  it('an SDXL repository: both text encoders and both tokenizers arrive, and the folder reads as SDXL', async () => {
    const { hub, dir, cleanup } = await setup({ root: tinySdxlModelDir });
    try {
      await downloadModel(optionsFor(hub, dir));
      assert.deepEqual(await listTree(dir), [manifestFileName, ...(await listTree(tinySdxlModelDir))].sort());
      const folder = readModelFolder(dir);
      assert.equal(folder.family, 'stable-diffusion-xl');
      assert.ok(folder.modelFiles.text_encoder_2);
    } finally {
      await cleanup();
    }
  });

  it('fetches only the files the pipeline needs, each once, at the resolved commit', async () => {
    const { hub, dir, cleanup } = await setup();
    try {
      await downloadModel(optionsFor(hub, dir));
      const fetched = fileGets(hub.requests);
      const fetchedFiles = [...new Set(fetched.map((request) => request.file))].sort();
      assert.deepEqual(fetchedFiles, fixtureFiles);
      for (const junk of Object.keys(defaultJunkFiles)) {
        assert.ok(!hub.requests.some((request) => request.file === junk), `${junk} was requested`);
      }
      const hubGets = fetched.filter((request) => request.server === 'hub');
      assert.equal(hubGets.length, fixtureFiles.length);
      assert.ok(hubGets.every((request) => request.path.includes(`/resolve/${hub.commit}/`)));
      // LFS files come from the CDN after a redirect, regular files straight from the Hub.
      for (const path of fixtureFiles) {
        const cdn = fetched.filter((request) => request.server === 'cdn' && request.file === path);
        assert.equal(cdn.length, hub.files.get(path)!.lfs ? 1 : 0, path);
      }
    } finally {
      await cleanup();
    }
  });

  it('downloads nothing on a second run, and re-fetches only a file changed on disk', async () => {
    const { hub, dir, cleanup } = await setup();
    try {
      await downloadModel(optionsFor(hub, dir));
      hub.requests.length = 0;
      const again = await downloadModel(optionsFor(hub, dir));
      assert.deepEqual(fileGets(hub.requests), []);
      assert.ok(again.files.every((file) => file.status === 'skipped'));
      assert.equal(again.bytesDownloaded, 0);

      const damaged = join(dir, 'vae_decoder', 'model.onnx');
      const bytes = await readFile(damaged);
      bytes[100] = bytes[100]! ^ 1;
      await writeFile(damaged, bytes);
      hub.requests.length = 0;
      const repaired = await downloadModel(optionsFor(hub, dir));
      assert.deepEqual([...new Set(fileGets(hub.requests).map((request) => request.file))], ['vae_decoder/model.onnx']);
      assert.ok((await readFile(damaged)).equals(await readFile(join(tinyModelDir, 'vae_decoder', 'model.onnx'))));
      assert.equal(repaired.files.find((file) => file.path === 'vae_decoder/model.onnx')?.status, 'downloaded');
    } finally {
      await cleanup();
    }
  });

  it('resumes a connection dropped mid-file with a Range request for the remaining bytes', async () => {
    const { hub, dir, cleanup } = await setup();
    try {
      const path = 'unet/model.onnx';
      const size = hub.files.get(path)!.content.byteLength;
      const cut = 1_000_000;
      hub.switches.drop = { path, atByte: cut, times: 1 };
      const result = await downloadModel(optionsFor(hub, dir));
      // The client may lose the last chunks that arrived before the cut, so the resume point is at most `cut`.
      const gets = fileGets(hub.requests, path).filter((request) => request.server === 'cdn');
      assert.equal(gets.length, 2);
      assert.deepEqual([gets[0]!.range, gets[0]!.status, gets[0]!.bodyBytes], [undefined, 200, cut]);
      const resumeAt = rangeStart(gets[1]!.range);
      assert.ok(resumeAt > 0 && resumeAt <= cut, `resumed at ${resumeAt}`);
      assert.deepEqual([gets[1]!.status, gets[1]!.bodyBytes], [206, size - resumeAt]);
      assert.ok((await readFile(join(dir, path))).equals(hub.files.get(path)!.content));
      const totalSize = fixtureFiles.reduce((sum, file) => sum + hub.files.get(file)!.content.byteLength, 0);
      assert.equal(result.bytesDownloaded, totalSize);
    } finally {
      await cleanup();
    }
  });

  it('gives up on a stalled transfer after the idle timeout and resumes it', async () => {
    const { hub, dir, cleanup } = await setup();
    try {
      const path = 'vae_decoder/model.onnx';
      const content = hub.files.get(path)!.content;
      hub.switches.stall = { path, atByte: 500_000, times: 1 };
      await downloadModel(optionsFor(hub, dir, { idleTimeoutMs: 200 }));
      const gets = fileGets(hub.requests, path).filter((request) => request.server === 'cdn');
      assert.equal(gets.length, 2);
      const resumeAt = rangeStart(gets[1]!.range);
      assert.ok(resumeAt > 0 && resumeAt <= 500_000, `resumed at ${resumeAt}`);
      assert.equal(gets[1]!.bodyBytes, content.byteLength - resumeAt);
      assert.ok((await readFile(join(dir, path))).equals(content));
    } finally {
      await cleanup();
    }
  });

  it('keeps the .part file when retries run out and resumes it on the next run', async () => {
    const { hub, dir, cleanup } = await setup();
    try {
      const path = 'tokenizer/vocab.json';
      const content = hub.files.get(path)!.content;
      const cut = 300_000;
      hub.switches.drop = { path, atByte: cut, times: Number.POSITIVE_INFINITY };
      await assert.rejects(
        downloadModel(optionsFor(hub, dir, { retry: { maxRetries: 1, delayMs: 0 } })),
        (error: Error & { identifier?: string }) => {
          assert.equal(error.identifier, 'hub.unreachable');
          assert.match(error.message, /kept: run the command again to resume/);
          return true;
        },
      );
      const first = fileGets(hub.requests, path);
      assert.deepEqual([first[0]!.range, first[0]!.bodyBytes], [undefined, cut]);
      const kept = (await stat(join(dir, `${path}.part`))).size;
      assert.ok(kept > 0 && kept <= cut, `kept ${kept} bytes`);
      assert.equal((await readManifest(dir))?.complete, false);

      hub.switches.drop = undefined;
      hub.requests.length = 0;
      const result = await downloadModel(optionsFor(hub, dir));
      const gets = fileGets(hub.requests);
      assert.deepEqual([gets[0]?.file, gets[0]?.range, gets[0]?.bodyBytes], [path, `bytes=${kept}-`, content.byteLength - kept]);
      assert.ok(
        gets.every((request) => request.file! >= path),
        'files finished in the first run were fetched again',
      );
      assert.equal(result.files.find((file) => file.path === path)?.status, 'resumed');
      assert.ok((await readFile(join(dir, path))).equals(content));
      assert.equal((await readManifest(dir))?.complete, true);
    } finally {
      await cleanup();
    }
  });

  it('starts a file over when the server does not honour Range', async () => {
    const { hub, dir, cleanup } = await setup();
    try {
      const path = 'text_encoder/model.onnx';
      const content = hub.files.get(path)!.content;
      await mkdir(join(dir, 'text_encoder'), { recursive: true });
      await writeFile(join(dir, 'text_encoder', 'model.onnx.part'), content.subarray(0, 12345));
      hub.switches.noRange = true;
      const result = await downloadModel(optionsFor(hub, dir));
      const gets = fileGets(hub.requests, path).filter((request) => request.server === 'cdn');
      assert.deepEqual(
        gets.map((request) => [request.range, request.status, request.bodyBytes]),
        [['bytes=12345-', 200, content.byteLength]],
      );
      assert.ok((await readFile(join(dir, path))).equals(content));
      assert.equal(result.files.find((file) => file.path === path)?.status, 'downloaded');
    } finally {
      await cleanup();
    }
  });

  for (const path of ['unet/model.onnx', 'tokenizer/merges.txt']) {
    it(`detects a checksum mismatch (${path}) and keeps no bad file`, async () => {
      const { hub, dir, cleanup } = await setup();
      try {
        hub.switches.corrupt.add(path);
        await assert.rejects(downloadModel(optionsFor(hub, dir)), (error: Error & { identifier?: string }) => {
          assert.equal(error.identifier, 'hub.checksumMismatch');
          assert.ok(error.message.includes(path));
          return true;
        });
        await assert.rejects(stat(join(dir, path)), { code: 'ENOENT' });
        await assert.rejects(stat(join(dir, `${path}.part`)), { code: 'ENOENT' });
        // One fresh second try, then it gives up.
        const served = fileGets(hub.requests, path).filter((request) => request.status === 200);
        assert.equal(served.length, 2);
      } finally {
        await cleanup();
      }
    });
  }

  it('honours HF_ENDPOINT when no endpoint is given', async () => {
    const { hub, dir, cleanup } = await setup();
    try {
      const options = optionsFor(hub, dir);
      delete options.endpoint;
      const result = await withEnv({ HF_ENDPOINT: hub.url + '/' }, () => downloadModel(options));
      assert.equal(result.commit, hub.commit);
      assert.ok(fileGets(hub.requests).length >= fixtureFiles.length);
      assert.equal((await readManifest(dir))?.endpoint, hub.url);
    } finally {
      await cleanup();
    }
  });

  it('finds the model in a subfolder and writes it at the top of the target folder', async () => {
    const { hub, dir, cleanup } = await setup({ prefix: 'onnx' });
    try {
      const result = await downloadModel(optionsFor(hub, dir));
      assert.equal(result.subfolder, 'onnx');
      assert.deepEqual(await listTree(dir), [manifestFileName, ...fixtureFiles].sort());
      assert.ok(fileGets(hub.requests).every((request) => request.file?.startsWith('onnx/')));
    } finally {
      await cleanup();
    }
  });

  it('takes the subfolder it is given when several folders hold a model', async () => {
    const { hub, dir, cleanup } = await setup({ prefix: 'onnx', extraFiles: { 'fp16/model_index.json': '{}' } });
    try {
      await assert.rejects(downloadModel(optionsFor(hub, dir)), { identifier: 'hub.ambiguousLayout' });
      const result = await downloadModel(optionsFor(hub, dir, { subfolder: 'onnx' }));
      assert.equal(result.files.length, fixtureFiles.length);
    } finally {
      await cleanup();
    }
  });

  it('fetches ONNX external data beside the graphs and does without a vae_encoder', async () => {
    const external = {
      'unet/model.onnx_data': Buffer.alloc(70_000, 7),
      'unet/weights.pb': 'tensor bytes',
      'text_encoder/model.onnx.data': 'more tensor bytes',
    };
    const { hub, dir, cleanup } = await setup({ extraFiles: external, hiddenFiles: ['vae_encoder/model.onnx', 'vae_encoder/config.json'] });
    try {
      const result = await downloadModel(optionsFor(hub, dir));
      const paths = result.files.map((file) => file.path);
      for (const path of Object.keys(external)) assert.ok(paths.includes(path), path);
      assert.ok(!paths.some((path) => path.startsWith('vae_encoder/')));
      assert.ok((await readFile(join(dir, 'unet', 'model.onnx_data'))).equals(external['unet/model.onnx_data']));
    } finally {
      await cleanup();
    }
  });

  it('fetches the safety checker and its preprocessing config when the repository has both', async () => {
    const graphDir = await mkdtemp(join(tmpdir(), 'latentcord-checker-graph-'));
    writeSafetyCheckerGraph(join(graphDir, 'model.onnx'), { flags: 'none' });
    const checker = {
      'safety_checker/model.onnx': await readFile(join(graphDir, 'model.onnx')),
      'safety_checker/config.json': '{"_class_name": "StableDiffusionSafetyChecker"}',
      'feature_extractor/preprocessor_config.json': JSON.stringify(sdPreprocessorConfig),
    };
    await rm(graphDir, { recursive: true, force: true });
    const { hub, dir, cleanup } = await setup({ extraFiles: { ...defaultJunkFiles, ...checker } });
    try {
      const result = await downloadModel(optionsFor(hub, dir));
      const paths = result.files.map((file) => file.path);
      for (const path of Object.keys(checker)) assert.ok(paths.includes(path), path);
      assert.ok(!paths.includes('safety_checker/diffusion_pytorch_model.safetensors'));
      const folder = readModelFolder(dir);
      assert.equal(folder.safetyChecker?.modelFile, join(dir, 'safety_checker', 'model.onnx'));
    } finally {
      await cleanup();
    }
  });

  it('follows the listing across pages', async () => {
    const { hub, dir, cleanup } = await setup({ pageSize: 4 });
    try {
      const result = await downloadModel(optionsFor(hub, dir));
      assert.equal(result.files.length, fixtureFiles.length);
      const pages = hub.requests.filter((request) => request.path.includes('/tree/'));
      assert.ok(pages.length > 3, `only ${pages.length} listing pages`);
      assert.ok(pages.slice(1).every((request) => request.query.has('cursor')));
    } finally {
      await cleanup();
    }
  });

  it('reports progress that adds up to the total and stops when aborted, keeping the .part file', async () => {
    const { hub, dir, cleanup } = await setup();
    try {
      const events: DownloadProgress[] = [];
      const controller = new AbortController();
      const reason = new Error('stopped by the test');
      const run = downloadModel(
        optionsFor(hub, dir, {
          signal: controller.signal,
          onProgress: (progress) => {
            events.push(progress);
            if (progress.file === 'unet/model.onnx' && progress.stage === 'data') controller.abort(reason);
          },
        }),
      );
      await assert.rejects(run, (error) => error === reason);
      const last = events.at(-1)!;
      assert.equal(last.file, 'unet/model.onnx');
      assert.ok((await stat(join(dir, 'unet', 'model.onnx.part'))).size > 0);
      for (let i = 1; i < events.length; i++) assert.ok(events[i]!.bytes >= events[i - 1]!.bytes);
      const finished = events.filter((event) => event.stage === 'done');
      assert.ok(finished.every((event) => event.fileBytes === event.fileTotal));

      events.length = 0;
      await downloadModel(optionsFor(hub, dir, { onProgress: (progress) => events.push(progress) }));
      const end = events.at(-1)!;
      assert.equal(end.bytes, end.total);
      assert.equal(
        end.total,
        fixtureFiles.reduce((sum, file) => sum + hub.files.get(file)!.content.byteLength, 0),
      );
      assert.ok(events.some((event) => event.stage === 'skipped' && event.file === 'model_index.json'));
      assert.ok(events.some((event) => event.stage === 'start' && event.file === 'unet/model.onnx' && event.fileBytes > 0));
    } finally {
      await cleanup();
    }
  });
});
