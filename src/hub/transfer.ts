import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UserError } from '../errors.js';
import { createContentHasher, hashFilePrefix, type ContentHasher, type ExpectedChecksum } from './checksum.js';
import { isTimeout } from './hub-client.js';
import {
  describeHttpFailure,
  httpFailureToUserError,
  isTransientNetworkCode,
  isTransientStatus,
  networkErrorCode,
  unreachableError,
  type HttpFailure,
  type HubErrorContext,
} from './hub-errors.js';
import { retryDelay, sleep, type RetryPolicy } from './retry.js';

/** One file to bring from the Hub to disk. */
export interface FileTransfer {
  /** `{endpoint}/{repo}/resolve/{commit}/{path}`. */
  url: string;
  /** Repository path, for messages. */
  path: string;
  finalPath: string;
  /** Where the bytes land until they are verified: `<finalPath>.part`. */
  partPath: string;
  size: number;
  /** `undefined` when the listing gave no hash: then only the size is checked. */
  checksum: ExpectedChecksum | undefined;
}

/** How to fetch: shared by every file of one download. */
export interface TransferOptions {
  context: HubErrorContext;
  /** Sent only to the Hub's own origin, never to the CDN it redirects to. */
  token?: string | undefined;
  fetch: typeof fetch;
  signal?: AbortSignal | undefined;
  retry: RetryPolicy;
  /** A request that brings no byte for this long is dropped and resumed. */
  idleTimeoutMs: number;
  /** Called after each chunk written, with the bytes now in the `.part` file. */
  onData?: ((fileBytes: number) => void) | undefined;
}

/** What one transfer did. */
export interface TransferResult {
  /** Bytes of an earlier `.part` file that were kept (0 for a fresh download). */
  resumedFrom: number;
  /** Bytes received over the network and written. */
  bytesFetched: number;
}

const maxRedirects = 10;
/** Times one transfer may start its `.part` file over (server ignoring `Range`, a range that does not line up). */
const maxRestarts = 2;
/**
 * A request that brings at least this much (or the rest of the file) counts as progress and earns the
 * retries back; a server that sends a few bytes per connection still runs out of them.
 */
const progressEarningRetries = 1 << 20;

class HttpFailureError extends Error {
  constructor(readonly failure: HttpFailure) {
    super(`HTTP ${failure.status} for ${failure.url}`);
  }
}

/** The server's answer no longer lines up with the `.part` file; it is dropped and fetched anew. */
class RestartError extends Error {}

/** The server describes a file of another size than the listing (`Content-Length`, `Content-Range` total, 416). */
class SizeMismatchError extends Error {
  constructor(readonly servedSize: number) {
    super(`the server serves ${servedSize} bytes`);
  }
}

/**
 * Downloads one file into its `.part` file, resuming an existing one with a `Range` request when the
 * server honours it (it starts over when the server answers 200 instead of 206), checks size and
 * checksum, then renames it into place. A passing network failure is retried from where it stopped; a
 * file that fails its check is deleted and fetched once more before giving up. Every loop here is bounded:
 * retries are earned back only by real progress, restarts are counted, and each request is dropped after
 * `idleTimeoutMs` without a byte.
 *
 * @throws UserError `hub.checksumMismatch`, `hub.sizeMismatch` (the server's file is not the size the
 *   listing says), `hub.badRange`, `hub.unreachable` (with the `.part` file kept), or the HTTP errors of
 *   {@link httpFailureToUserError}; the signal's reason when aborted.
 */
export async function transferFile(file: FileTransfer, options: TransferOptions): Promise<TransferResult> {
  await mkdir(dirname(file.partPath), { recursive: true });
  let bytesFetched = 0;
  let resumedFrom = 0;
  for (let attempt = 0; ; attempt++) {
    let offset = await existingSize(file.partPath);
    if (offset > file.size) {
      await rm(file.partPath, { force: true });
      offset = 0;
    }
    const state: TransferState = { offset, hasher: newHasher(file), fetched: 0, overflow: false, restarted: false, restarts: 0 };
    if (state.hasher && offset > 0) await hashFilePrefix(file.partPath, state.hasher, offset);
    await fetchRemainder(file, options, state);
    bytesFetched += state.fetched;
    if (attempt === 0 && !state.restarted) resumedFrom = offset;

    const actual = state.overflow ? undefined : state.hasher?.digest();
    if (!state.overflow && (file.checksum === undefined || actual === file.checksum.digest)) {
      await rename(file.partPath, file.finalPath);
      return { resumedFrom, bytesFetched };
    }
    await rm(file.partPath, { force: true });
    if (attempt >= 1) {
      const what = state.overflow
        ? `is larger than the ${file.size} bytes the Hub reports`
        : `does not match the checksum the Hub reports (${file.checksum?.algorithm} ${file.checksum?.digest}, got ${actual})`;
      throw new UserError(
        'hub.checksumMismatch',
        `The downloaded file ${file.path} ${what}, so it was deleted. ` +
          'Run the command again; if this keeps happening, a proxy or the mirror set in HF_ENDPOINT is altering files.',
      );
    }
  }
}

interface TransferState {
  /** Bytes in the `.part` file, all of them fed to `hasher`. */
  offset: number;
  hasher: ContentHasher | undefined;
  fetched: number;
  /** The server sent more bytes than the file has. */
  overflow: boolean;
  /** The `.part` file was started over during this attempt. */
  restarted: boolean;
  /** How often it was started over. */
  restarts: number;
}

function newHasher(file: FileTransfer): ContentHasher | undefined {
  return file.checksum ? createContentHasher(file.checksum.algorithm, file.size) : undefined;
}

async function restart(file: FileTransfer, state: TransferState, why: string): Promise<void> {
  await rm(file.partPath, { force: true });
  if (state.restarts >= maxRestarts) {
    throw new UserError(
      'hub.badRange',
      `${file.path}: ${why}, and starting over ${maxRestarts} times did not help, so the download stops here. ` +
        'The Hub or the mirror in HF_ENDPOINT does not serve this file consistently.',
    );
  }
  state.offset = 0;
  state.hasher = newHasher(file);
  state.restarted = true;
  state.restarts += 1;
}

/** Fetches until the `.part` file holds `file.size` bytes, retrying passing failures. */
async function fetchRemainder(file: FileTransfer, options: TransferOptions, state: TransferState): Promise<void> {
  let retry = 0;
  while (state.offset < file.size && !state.overflow) {
    const before = state.offset;
    try {
      await fetchOnce(file, options, state);
      if (state.offset < file.size && !state.overflow) {
        throw Object.assign(new Error(`${file.path}: the connection closed early`), { code: 'ECONNRESET' });
      }
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (error instanceof UserError) throw error;
      if (error instanceof SizeMismatchError) {
        await rm(file.partPath, { force: true });
        throw sizeMismatch(file, error.servedSize, options.context);
      }
      let classified: { error: Error; transient: boolean } | undefined;
      if (error instanceof RestartError) {
        await restart(file, state, error.message);
        classified = { error: new UserError('hub.badRange', error.message), transient: true };
      } else {
        classified = classifyFailure(error, options.context, state.offset > 0);
        if (classified === undefined) throw error;
        if (!classified.transient) throw classified.error;
      }
      if (state.offset - before >= Math.min(progressEarningRetries, file.size - before)) retry = 0;
      retry += 1;
      if (retry > options.retry.maxRetries) throw classified.error;
      await sleep(retryDelay(options.retry, retry), options.signal);
    }
  }
}

function sizeMismatch(file: FileTransfer, servedSize: number, context: HubErrorContext): UserError {
  return new UserError(
    'hub.sizeMismatch',
    `${file.path}: the listing says ${file.size} bytes, but ${context.endpoint} serves a file of ${servedSize} bytes, ` +
      'so the download stops here and keeps nothing of it. The mirror in HF_ENDPOINT may hold a truncated or different copy; ' +
      'try again later or use the Hub itself.',
  );
}

function classifyFailure(error: unknown, context: HubErrorContext, partialKept: boolean): { error: Error; transient: boolean } | undefined {
  if (error instanceof HttpFailureError) {
    return { error: httpFailureToUserError(context, error.failure), transient: isTransientStatus(error.failure.status) };
  }
  const fsError = fileSystemError(error);
  if (fsError) return { error: fsError, transient: false };
  const code = isTimeout(error) ? 'ETIMEDOUT' : networkErrorCode(error);
  if (code === undefined) return undefined;
  return { error: unreachableError(context, code, { cause: error, partialKept }), transient: isTransientNetworkCode(code) };
}

/** One request: from `state.offset` to the end of the file, or to where the connection drops. */
async function fetchOnce(file: FileTransfer, options: TransferOptions, state: TransferState): Promise<void> {
  const idle = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, idle.signal]) : idle.signal;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(Object.assign(new Error('no data received'), { name: 'TimeoutError' })), options.idleTimeoutMs);
  };
  arm();
  try {
    const response = await openDownload(file.url, state.offset, file.size, options, signal);
    const servedSize = declaredSize(response);
    if (servedSize !== undefined && servedSize !== file.size) {
      await response.body?.cancel();
      throw new SizeMismatchError(servedSize);
    }
    if (state.offset > 0) {
      if (response.status === 200) {
        await restart(file, state, 'the server does not resume downloads');
      } else if (contentRangeStart(response) !== state.offset) {
        await response.body?.cancel();
        throw new RestartError(`${file.path}: the server answered a range other than the one asked for`);
      }
    }
    if (!response.body) return;
    const handle = await open(file.partPath, state.offset === 0 ? 'w' : 'a');
    try {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        arm();
        if (state.offset + chunk.byteLength > file.size) {
          state.overflow = true;
          break;
        }
        await handle.write(chunk);
        state.hasher?.update(chunk);
        state.offset += chunk.byteLength;
        state.fetched += chunk.byteLength;
        options.onData?.(state.offset);
      }
      if (state.offset === file.size) await handle.datasync();
    } finally {
      await handle.close();
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * GETs the file, following redirects by hand so that the token goes to the Hub's origin only (the Hub
 * redirects LFS and Xet files to a CDN with a signed address) and a `Range` header on every hop.
 */
async function openDownload(url: string, offset: number, size: number, options: TransferOptions, signal: AbortSignal): Promise<Response> {
  const hubOrigin = new URL(options.context.endpoint).origin;
  let current = url;
  for (let hop = 0; hop <= maxRedirects; hop++) {
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (offset > 0) headers.range = `bytes=${offset}-`;
    if (options.token && new URL(current).origin === hubOrigin) headers.authorization = `Bearer ${options.token}`;
    const response = await options.fetch(current, { headers, redirect: 'manual', signal });
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      current = new URL(location, current).href;
      continue;
    }
    if (response.status === 416) {
      await response.body?.cancel();
      const total = /^bytes\s+\*\/(\d+)$/i.exec(response.headers.get('content-range') ?? '');
      if (total && Number(total[1]) !== size) throw new SizeMismatchError(Number(total[1]));
      throw new RestartError(`${url}: the server cannot serve bytes from ${offset} on`);
    }
    if (!response.ok) {
      const failure = describeHttpFailure(response, current);
      await response.body?.cancel();
      throw new HttpFailureError(failure);
    }
    return response;
  }
  throw new UserError('hub.tooManyRedirects', `The Hub redirected more than ${maxRedirects} times for ${url}.`);
}

/**
 * The size of the whole file as the answer describes it: the `Content-Range` total of a 206, the
 * `Content-Length` of a plain 200 (unless the body is encoded); `undefined` when it does not say.
 */
function declaredSize(response: Response): number | undefined {
  if (response.status === 206) {
    const match = /^bytes\s+\d+-\d+\/(\d+)$/i.exec(response.headers.get('content-range') ?? '');
    return match ? Number(match[1]) : undefined;
  }
  if (response.status !== 200 || response.headers.has('content-encoding')) return undefined;
  const length = response.headers.get('content-length');
  return length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
}

function contentRangeStart(response: Response): number | undefined {
  if (response.status !== 206) return undefined;
  const match = /^bytes\s+(\d+)-\d+\/(\d+|\*)$/i.exec(response.headers.get('content-range') ?? '');
  return match ? Number(match[1]) : undefined;
}

async function existingSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

/** Disk problems the user can fix (space, permissions), as {@link UserError}s. */
export function fileSystemError(error: unknown): UserError | undefined {
  const { code, path } = error as { code?: unknown; path?: unknown };
  const where = typeof path === 'string' ? ` (${path})` : '';
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new UserError(
      'hub.diskFull',
      `The disk is full${where}: free some space and run the command again; the download resumes where it stopped.`,
      { cause: error },
    );
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new UserError('hub.cannotWrite', `Cannot write the model files${where}: choose a folder you may write to (--dir).`, {
      cause: error,
    });
  }
  return undefined;
}
