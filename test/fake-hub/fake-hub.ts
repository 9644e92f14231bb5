import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { commitId, makeRepoFile, readFolder, treeEntries, type FakeRepoFile } from './repo-content.js';

/**
 * A local imitation of the Hugging Face Hub routes that `@huggingface/hub` and our downloader call:
 *
 * - `GET /api/models/{repo}/revision/{rev}`: model info (`sha`, `gated`, `siblings`...).
 * - `GET /api/models/{repo}/tree/{rev}[/{path}]?recursive=&expand=&cursor=`: the listing, paginated with
 *   a `Link: <...>; rel="next"` header, entries shaped like the Hub's (`oid`, `size`, `lfs`).
 * - `HEAD|GET /{repo}/resolve/{rev}/{path}`: a regular file is served directly (`ETag` = git blob id);
 *   an LFS file answers 302 to the CDN server with `X-Linked-Size` / `X-Linked-ETag` (sha256). Both carry
 *   `X-Repo-Commit`. Failures carry `X-Error-Code` / `X-Error-Message` as the Hub sets them
 *   (`RepoNotFound`, `RevisionNotFound`, `EntryNotFound`, `GatedRepo`).
 * - A second server plays the CDN: `HEAD|GET /repos/{sha256}?path=...` with `Range` support.
 * - A third server, "other", answers the Hub's API routes like the Hub: another origin that a listing's
 *   `Link: rel="next"` can name (see {@link FakeHubSwitches.listingNext}).
 */

/** Junk a real model repository holds beside the ONNX folders: none of it may be downloaded. */
export const defaultJunkFiles: Readonly<Record<string, string>> = {
  'README.md': '---\nlicense: mit\n---\n# tiny-sd\n',
  '.gitattributes': '*.onnx filter=lfs diff=lfs merge=lfs -text\n',
  'sample.png': 'not really a png',
  'unet/diffusion_pytorch_model.safetensors': 'safetensors weights that must not be fetched',
  'unet/diffusion_pytorch_model.bin': 'pickle weights that must not be fetched',
  'unet/model_fp16.onnx': 'another graph that is not asked for',
  'unet/README.md': 'notes',
  'text_encoder/model.safetensors': 'safetensors weights that must not be fetched',
  'vae_decoder/diffusion_pytorch_model.ckpt': 'checkpoint that must not be fetched',
  'safety_checker/diffusion_pytorch_model.safetensors': 'safety checker weights that must not be fetched',
};

/** How the fake repository is built. */
export interface FakeHubOptions {
  /** Repository id; default `latentcord/tiny-sd-onnx`. */
  repo?: string;
  /** Folder whose files make the repository (placed below `prefix`). */
  root: string;
  /** Repository folder to put `root`'s files in, e.g. `onnx`; default the repository root. */
  prefix?: string;
  /** Further files by repository path (added or replaced); default {@link defaultJunkFiles}. */
  extraFiles?: Readonly<Record<string, string | Uint8Array>>;
  /** Repository paths to leave out. */
  hiddenFiles?: readonly string[];
  /** Branch names besides the commit id; default `['main']`. */
  branches?: readonly string[];
  /** Entries per listing page; default 1000 like the Hub. */
  pageSize?: number;
}

/** Behaviours to switch on at any time, to play the Hub's and the network's failures. */
export interface FakeHubSwitches {
  /** Gated repository: files (not metadata) need `Authorization: Bearer <this token>`. */
  requireToken: string | undefined;
  /** Every route answers as for a repository that does not exist. */
  repoMissing: boolean;
  /**
   * Cut the connection of a response for `path` when it reaches byte `atByte` of the file (a response
   * starting at or after it is cut before its first byte), `times` times.
   */
  drop: { path: string; atByte: number; times: number } | undefined;
  /** Like `drop`, but the connection stays open and silent instead of being cut (a stalled transfer). */
  stall: { path: string; atByte: number; times: number } | undefined;
  /** Serve these repository paths with one byte flipped (a proxy altering files). */
  corrupt: Set<string>;
  /** Ignore `Range` headers and send no `Accept-Ranges` (a server that cannot resume). */
  noRange: boolean;
  /**
   * Where the listing's `Link: rel="next"` points: `other` sends the next page to the "other" server (another
   * origin); `self` names the very page just served, so that a client following it never ends.
   */
  listingNext: 'other' | 'self' | undefined;
  /** Sizes the listing declares instead of the real ones (LFS files: their `lfs.size` too), by repository path. */
  declaredSizes: Map<string, number>;
  /**
   * Serve these repository paths cut to this many bytes, consistently: `Content-Length`, `Content-Range`
   * totals and 416 answers all describe the shorter file (a mirror holding a truncated copy).
   */
  servedSizes: Map<string, number>;
  /** Every response for `path` sends at most `bytes` bytes of its body and then cuts the connection (a trickle). */
  trickle: { path: string; bytes: number } | undefined;
  /** Called for every request after it is recorded (e.g. to stop a client that would never stop). */
  onRequest: ((request: FakeRequest) => void) | undefined;
}

/** One request the fake answered. */
export interface FakeRequest {
  server: 'hub' | 'cdn' | 'other';
  method: string;
  /** Decoded path without the query. */
  path: string;
  query: URLSearchParams;
  range: string | undefined;
  authorization: string | undefined;
  status: number;
  /** Repository path of the file served, for file routes. */
  file: string | undefined;
  /** Body bytes written (for a dropped connection, the bytes sent before the cut). */
  bodyBytes: number;
}

/** A running fake Hub. */
export interface FakeHub {
  /** Base URL to use as the Hub endpoint (`HF_ENDPOINT`). */
  url: string;
  /** Base URL of the CDN that LFS files redirect to. */
  cdnUrl: string;
  /** Base URL of the "other" server, which answers the API routes like the Hub. */
  otherUrl: string;
  repo: string;
  /** Commit id that `main` resolves to. */
  commit: string;
  files: ReadonlyMap<string, FakeRepoFile>;
  switches: FakeHubSwitches;
  /** Every request answered, oldest first; clear it with `requests.length = 0`. */
  requests: FakeRequest[];
  close(): Promise<void>;
}

/** Starts the fake Hub and its CDN on 127.0.0.1, on free ports. */
export async function startFakeHub(options: FakeHubOptions): Promise<FakeHub> {
  const repo = options.repo ?? 'latentcord/tiny-sd-onnx';
  const contents = readFolder(options.root, options.prefix);
  for (const [path, content] of Object.entries(options.extraFiles ?? defaultJunkFiles)) {
    contents.set(path, Buffer.from(content));
  }
  for (const path of options.hiddenFiles ?? []) contents.delete(path);
  const files = new Map<string, FakeRepoFile>();
  for (const [path, content] of contents) files.set(path, makeRepoFile(path, content));
  const commit = commitId(files);
  const revisions = new Set([commit, ...(options.branches ?? ['main'])]);
  const bySha = new Map([...files.values()].filter((file) => file.lfs).map((file) => [file.sha256, file]));
  const pageSize = options.pageSize ?? 1000;

  const switches: FakeHubSwitches = {
    requireToken: undefined,
    repoMissing: false,
    drop: undefined,
    stall: undefined,
    corrupt: new Set(),
    noRange: false,
    listingNext: undefined,
    declaredSizes: new Map(),
    servedSizes: new Map(),
    trickle: undefined,
    onRequest: undefined,
  };
  const requests: FakeRequest[] = [];
  const hub = createServer();
  const cdn = createServer();
  const other = createServer();
  await Promise.all([listen(hub), listen(cdn), listen(other)]);
  const url = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
  const cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
  const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;

  const record = (server: FakeRequest['server'], req: IncomingMessage): FakeRequest => {
    const parsed = new URL(req.url ?? '/', 'http://fake');
    const entry: FakeRequest = {
      server,
      method: req.method ?? 'GET',
      path: safeDecode(parsed.pathname),
      query: parsed.searchParams,
      range: header(req, 'range'),
      authorization: header(req, 'authorization'),
      status: 0,
      file: undefined,
      bodyBytes: 0,
    };
    requests.push(entry);
    switches.onRequest?.(entry);
    return entry;
  };

  for (const [server, name] of [
    [hub, 'hub'],
    [other, 'other'],
  ] as const) {
    server.on('request', (req, res) => {
      const entry = record(name, req);
      try {
        routeHub(req, res, entry);
      } catch (error) {
        send(res, entry, 500, { 'content-type': 'text/plain' }, String(error));
      }
    });
  }
  cdn.on('request', (req, res) => {
    const entry = record('cdn', req);
    const parsed = new URL(req.url ?? '/', 'http://fake');
    const match = /^\/repos\/([0-9a-f]{64})$/.exec(parsed.pathname);
    const file = match ? bySha.get(match[1]!) : undefined;
    if (!file || !parsed.searchParams.get('X-Amz-Signature')) {
      send(res, entry, 403, { 'content-type': 'application/xml' }, '<Error><Code>AccessDenied</Code></Error>');
      return;
    }
    serveContent(req, res, entry, file, { etag: `"${file.sha256}"`, 'content-type': 'application/octet-stream' });
  });

  function routeHub(req: IncomingMessage, res: ServerResponse, entry: FakeRequest): void {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const api = /^\/api\/models\/(.+?)\/(revision|tree)\/([^/]+)(?:\/(.*))?$/.exec(path);
    if (api) {
      const [, repoId, route, rawRevision, rawPath] = api;
      if (!checkRepo(res, entry, safeDecode(repoId!), req)) return;
      const revision = safeDecode(rawRevision!);
      if (!revisions.has(revision)) {
        fail(res, entry, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
        return;
      }
      if (route === 'revision') {
        sendJson(res, entry, 200, modelInfo());
        return;
      }
      listTree(req, res, entry, revision, rawPath === undefined ? '' : safeDecode(rawPath).replace(/\/+$/, ''));
      return;
    }
    const resolve = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (resolve && (req.method === 'GET' || req.method === 'HEAD')) {
      const [, repoId, rawRevision, rawPath] = resolve;
      if (!checkRepo(res, entry, safeDecode(repoId!), req)) return;
      const revision = safeDecode(rawRevision!);
      if (!revisions.has(revision)) {
        fail(res, entry, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
        return;
      }
      const filePath = rawPath!.split('/').map(safeDecode).join('/');
      const file = files.get(filePath);
      entry.file = filePath;
      if (!file) {
        fail(res, entry, 404, 'EntryNotFound', `${filePath} does not exist on "${revision}"`);
        return;
      }
      if (!checkGate(res, entry)) return;
      const common = { 'x-repo-commit': commit, 'x-request-id': randomUUID() };
      if (file.lfs) {
        const location = `${cdnUrl}/repos/${file.sha256}?path=${encodeURIComponent(file.path)}&X-Amz-Expires=3600&X-Amz-Signature=${randomUUID()}`;
        const body = `Found. Redirecting to ${location}`;
        send(
          res,
          entry,
          302,
          {
            ...common,
            location,
            'x-linked-size': String(file.content.byteLength),
            'x-linked-etag': `"${file.sha256}"`,
            etag: `"${file.oid}"`,
            'content-type': 'text/plain; charset=utf-8',
            'content-length': String(Buffer.byteLength(body)),
          },
          req.method === 'HEAD' ? '' : body,
        );
        return;
      }
      serveContent(req, res, entry, file, { ...common, etag: `"${file.oid}"`, 'content-type': contentType(file.path) });
      return;
    }
    fail(res, entry, 404, undefined, 'Not Found');
  }

  function checkRepo(res: ServerResponse, entry: FakeRequest, repoId: string, req: IncomingMessage): boolean {
    if (repoId === repo && !switches.repoMissing) return true;
    // The Hub answers 401 to an anonymous request for a missing (or private) repository, 404 otherwise.
    const status = header(req, 'authorization') ? 404 : 401;
    fail(res, entry, status, 'RepoNotFound', 'Repository not found');
    return false;
  }

  function checkGate(res: ServerResponse, entry: FakeRequest): boolean {
    const token = switches.requireToken;
    if (token === undefined) return true;
    if (entry.authorization === undefined) {
      fail(
        res,
        entry,
        401,
        'GatedRepo',
        `Access to model ${repo} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
      );
      return false;
    }
    if (entry.authorization !== `Bearer ${token}`) {
      fail(
        res,
        entry,
        403,
        'GatedRepo',
        `Access to model ${repo} is restricted and you are not in the authorized list. Visit ${url}/${repo} to ask for access.`,
      );
      return false;
    }
    return true;
  }

  function modelInfo(): Record<string, unknown> {
    return {
      _id: commit.slice(0, 24),
      id: repo,
      sha: commit,
      private: false,
      gated: switches.requireToken === undefined ? false : 'manual',
      disabled: false,
      downloads: 0,
      likes: 0,
      lastModified: '2025-01-01T00:00:00.000Z',
      library_name: 'diffusers',
      pipeline_tag: 'text-to-image',
      tags: ['diffusers', 'onnx', 'text-to-image'],
      siblings: [...files.keys()].sort().map((rfilename) => ({ rfilename })),
    };
  }

  function listTree(req: IncomingMessage, res: ServerResponse, entry: FakeRequest, revision: string, folder: string): void {
    const recursive = ['true', '1'].includes(entry.query.get('recursive') ?? '');
    const all = treeEntries(files, folder, recursive);
    if (!all) {
      fail(res, entry, 404, 'EntryNotFound', `${folder} does not exist on "${revision}"`);
      return;
    }
    const start = Number(entry.query.get('cursor') ?? '0') || 0;
    const page = all.slice(start, start + pageSize).map((item) => withDeclaredSize(item));
    const headers: Record<string, string> = { 'x-request-id': randomUUID() };
    if (switches.listingNext === 'self') {
      headers.link = `<${new URL(req.url ?? '/', url).href}>; rel="next"`;
    } else if (start + pageSize < all.length) {
      const next = new URL(req.url ?? '/', switches.listingNext === 'other' ? otherUrl : url);
      next.searchParams.set('cursor', String(start + pageSize));
      headers.link = `<${next.href}>; rel="next"`;
    }
    sendJson(res, entry, 200, page, headers);
  }

  function withDeclaredSize<T>(item: T): T {
    const entry = item as { path?: string; size?: number; lfs?: { size: number } };
    const declared = entry.path === undefined ? undefined : switches.declaredSizes.get(entry.path);
    if (declared === undefined) return item;
    return { ...entry, size: declared, ...(entry.lfs ? { lfs: { ...entry.lfs, size: declared } } : {}) } as T;
  }

  function serveContent(
    req: IncomingMessage,
    res: ServerResponse,
    entry: FakeRequest,
    file: FakeRepoFile,
    headers: Record<string, string>,
  ): void {
    entry.file = file.path;
    let content = file.content;
    if (switches.corrupt.has(file.path) && content.byteLength > 0) {
      content = Buffer.from(content);
      const middle = Math.floor(content.byteLength / 2);
      content[middle] = content[middle]! ^ 0xff;
    }
    const served = switches.servedSizes.get(file.path);
    if (served !== undefined) content = content.subarray(0, Math.min(served, content.byteLength));
    const size = content.byteLength;
    let status = 200;
    let start = 0;
    let end = size - 1;
    const out: Record<string, string> = { ...headers };
    if (!switches.noRange) {
      out['accept-ranges'] = 'bytes';
      const range = parseRange(entry.range, size);
      if (range === 'unsatisfiable') {
        send(res, entry, 416, { ...out, 'content-range': `bytes */${size}` }, '');
        return;
      }
      if (range) {
        status = 206;
        [start, end] = range;
        out['content-range'] = `bytes ${start}-${end}/${size}`;
      }
    }
    const body = content.subarray(start, end + 1);
    out['content-length'] = String(body.byteLength);
    res.writeHead(status, out);
    entry.status = status;
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const drop = switches.drop;
    if (drop && drop.path === file.path && drop.times > 0 && drop.atByte <= end) {
      drop.times -= 1;
      const sent = body.subarray(0, Math.max(0, drop.atByte - start));
      entry.bodyBytes = sent.byteLength;
      res.write(sent, () => res.socket?.destroy());
      return;
    }
    const trickle = switches.trickle;
    if (trickle && trickle.path === file.path && body.byteLength > trickle.bytes) {
      const sent = body.subarray(0, trickle.bytes);
      entry.bodyBytes = sent.byteLength;
      res.write(sent, () => res.socket?.destroy());
      return;
    }
    const stall = switches.stall;
    if (stall && stall.path === file.path && stall.times > 0 && stall.atByte <= end) {
      stall.times -= 1;
      const sent = body.subarray(0, Math.max(0, stall.atByte - start));
      entry.bodyBytes = sent.byteLength;
      res.write(sent);
      return;
    }
    entry.bodyBytes = body.byteLength;
    res.end(body);
  }

  return {
    url,
    cdnUrl,
    otherUrl,
    repo,
    commit,
    files,
    switches,
    requests,
    async close() {
      await Promise.all([stop(hub), stop(cdn), stop(other)]);
    },
  };
}

/** `[start, end]` (inclusive) for a single `bytes=` range, `undefined` to send everything. */
function parseRange(value: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  if (!value) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!match) return undefined;
  const [, first, last] = match;
  if (first === '' && last === '') return undefined;
  let start: number;
  let end: number;
  if (first === '') {
    start = Math.max(0, size - Number(last));
    end = size - 1;
  } else {
    start = Number(first);
    end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return [start, end];
}

function fail(res: ServerResponse, entry: FakeRequest, status: number, code: string | undefined, message: string): void {
  const headers: Record<string, string> = { 'x-error-message': message, 'x-request-id': randomUUID() };
  if (code) headers['x-error-code'] = code;
  sendJson(res, entry, status, { error: message }, headers);
}

function sendJson(res: ServerResponse, entry: FakeRequest, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, entry, status, { ...headers, 'content-type': 'application/json; charset=utf-8' }, JSON.stringify(value));
}

function send(res: ServerResponse, entry: FakeRequest, status: number, headers: Record<string, string>, body: string): void {
  const bytes = Buffer.from(body);
  entry.status = status;
  entry.bodyBytes = entry.method === 'HEAD' ? 0 : bytes.byteLength;
  res.writeHead(status, { 'content-length': String(bytes.byteLength), ...headers });
  res.end(entry.method === 'HEAD' ? undefined : bytes);
}

function contentType(path: string): string {
  if (path.endsWith('.json')) return 'application/json; charset=utf-8';
  if (path.endsWith('.txt') || path.endsWith('.md')) return 'text/plain; charset=utf-8';
  return 'application/octet-stream';
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
}

function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
