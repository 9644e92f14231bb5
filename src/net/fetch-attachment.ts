import http, { STATUS_CODES, type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { byteSize } from '../byte-size.js';
import { UserError } from '../errors.js';
import { BlockedAddressError, guardedLookup } from './guarded-lookup.js';
import { checkAttachmentUrl, parseAllowedHosts, shortenForMessage } from './url-policy.js';

/** Options of {@link fetchAttachment}. */
export interface FetchAttachmentOptions {
  /** Hosts downloads may come from: `host` or `host:port` entries, exact, case-insensitive, no wildcards. */
  allowedHosts: readonly string[];
  /** Largest accepted body in bytes (checked against `Content-Length` and against the bytes actually received). */
  maxBytes: number;
  /** Deadline for the whole download, redirects included, in milliseconds. */
  timeoutMs: number;
  /** Longest silence from the server (connecting, headers, or between body pieces), in milliseconds. Default `timeoutMs`. */
  stallTimeoutMs?: number;
  /** Cancels the download; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** A downloaded attachment. */
export interface FetchedAttachment {
  bytes: Uint8Array;
  /** The server's `Content-Type` header, if any (informative only: never trust it over the bytes). */
  contentType?: string;
}

/** Redirects followed at most; each target is checked like the first URL. */
export const MAX_REDIRECTS = 3;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Abort reasons of our own deadline and stall timer, told apart from the caller's signal. */
const TIMEOUT = Symbol('attachment timeout');
const STALL = Symbol('attachment stalled');

function checkOptions(opts: FetchAttachmentOptions): void {
  if (!Number.isSafeInteger(opts.maxBytes) || opts.maxBytes < 1)
    throw new RangeError(`Expected \`maxBytes\` to be a positive integer, got \`${String(opts.maxBytes)}\``);
  if (!(opts.timeoutMs > 0) || !Number.isFinite(opts.timeoutMs))
    throw new RangeError(`Expected \`timeoutMs\` to be a positive number, got \`${String(opts.timeoutMs)}\``);
  if (opts.stallTimeoutMs !== undefined && !(opts.stallTimeoutMs > 0 && Number.isFinite(opts.stallTimeoutMs))) {
    throw new RangeError(`Expected \`stallTimeoutMs\` to be a positive number, got \`${String(opts.stallTimeoutMs)}\``);
  }
}

function tooLarge(maxBytes: number): UserError {
  return new UserError(
    'attachment.tooLarge',
    `That attachment is larger than ${byteSize(maxBytes)}, the most I download. Please send a smaller file.`,
  );
}

function httpStatus(status: number, url: URL): UserError {
  const expired = status === 403 || status === 404 || status === 410 ? ' (the link may have expired; try uploading the file again)' : '';
  const reason = STATUS_CODES[status] ?? 'unknown status';
  return new UserError(
    'attachment.httpStatus',
    `Downloading the attachment from ${shortenForMessage(url.host, 64)} failed: the server answered ${status} ${reason}${expired}.`,
  );
}

/**
 * Downloads a user's attachment without letting the URL abuse the bot (server-side request forgery, memory
 * exhaustion, hanging):
 *
 * - the URL and every redirect target (at most {@link MAX_REDIRECTS}, followed manually) pass
 *   `checkAttachmentUrl` before any connection: https only (http for `localhost`/`127.0.0.1`/`[::1]`), no user
 *   info, host (with its port when not the default) on `allowedHosts`, no private-network IP literal;
 * - host names are resolved with a lookup that refuses private/loopback/link-local addresses (only `localhost`
 *   may resolve to loopback), so DNS cannot lead the request inside the network either;
 * - a `Content-Length` above `maxBytes` is refused before reading, and the received bytes are counted: the
 *   download is cut off as soon as they pass `maxBytes`, whatever the headers said;
 * - `timeoutMs` bounds the whole download, `stallTimeoutMs` any silence; non-2xx answers are refused.
 *
 * Refusals are `UserError`s — `attachment.invalidUrl`, `attachment.hostNotAllowed`, `attachment.tooLarge`,
 * `attachment.timeout`, `attachment.httpStatus`, `attachment.tooManyRedirects`, `attachment.network` — whose
 * messages show URLs and hosts shortened. When `signal` aborts, the promise rejects with `signal.reason`.
 * No cookies, credentials or custom headers are sent; the response is not decompressed.
 */
export async function fetchAttachment(url: string, opts: FetchAttachmentOptions): Promise<FetchedAttachment> {
  checkOptions(opts);
  const allowed = parseAllowedHosts(opts.allowedHosts);
  let current = checkAttachmentUrl(url, allowed);
  opts.signal?.throwIfAborted();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(TIMEOUT), opts.timeoutMs);
  const onCallerAbort = (): void => controller.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onCallerAbort, { once: true });
  try {
    for (let redirects = 0; ; redirects++) {
      const { request, response } = await sendRequest(current, controller, opts.stallTimeoutMs ?? opts.timeoutMs);
      try {
        const status = response.statusCode ?? 0;
        if (REDIRECT_STATUSES.has(status)) {
          if (redirects >= MAX_REDIRECTS) {
            throw new UserError(
              'attachment.tooManyRedirects',
              `The attachment link redirected more than ${MAX_REDIRECTS} times, so I gave up.`,
            );
          }
          const location = response.headers.location;
          if (location === undefined) throw httpStatus(status, current);
          let next: URL;
          try {
            next = new URL(location, current);
          } catch {
            throw new UserError(
              'attachment.invalidUrl',
              `The attachment link redirected to "${shortenForMessage(location, 60)}", which is not a web address.`,
            );
          }
          current = checkAttachmentUrl(next, allowed);
          continue;
        }
        if (status < 200 || status > 299) throw httpStatus(status, current);
        const declared = response.headers['content-length'];
        if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > opts.maxBytes) throw tooLarge(opts.maxBytes);
        const bytes = await readBody(response, opts.maxBytes);
        controller.signal.throwIfAborted();
        if (!response.complete) throw Object.assign(new Error('response ended before its declared length'), { code: 'INCOMPLETE_BODY' });
        const contentType = response.headers['content-type'];
        return contentType === undefined ? { bytes } : { bytes, contentType };
      } finally {
        response.destroy();
        request.destroy();
      }
    }
  } catch (error) {
    throw explainFailure(error, controller.signal, opts, current);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onCallerAbort);
  }
}

/**
 * Sends a GET and resolves with the response head. The request (and later its response) is destroyed when
 * `controller` aborts; a silence longer than `stallTimeoutMs` aborts `controller` with {@link STALL}.
 */
function sendRequest(
  url: URL,
  controller: AbortController,
  stallTimeoutMs: number,
): Promise<{ request: ClientRequest; response: IncomingMessage }> {
  const { signal } = controller;
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    const client = url.protocol === 'https:' ? https : http;
    const request = client.request(url, {
      method: 'GET',
      agent: false,
      lookup: guardedLookup,
      headers: { 'user-agent': 'latentcord', accept: 'image/*, */*;q=0.5', 'accept-encoding': 'identity' },
    });
    const onAbort = (): void => {
      request.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    request.setTimeout(stallTimeoutMs, () => controller.abort(STALL));
    request.once('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      reject(error);
    });
    request.once('response', (response) => {
      signal.removeEventListener('abort', onAbort);
      signal.addEventListener('abort', () => response.destroy(), { once: true });
      resolve({ request, response });
    });
    request.end();
  });
}

/** Reads a response body, stopping (and failing) as soon as more than `maxBytes` arrived. */
async function readBody(response: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks, total);
  return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
}

function explainFailure(error: unknown, signal: AbortSignal, opts: FetchAttachmentOptions, url: URL): unknown {
  if (error instanceof UserError) return error;
  if (signal.aborted) {
    if (signal.reason === TIMEOUT)
      return new UserError(
        'attachment.timeout',
        `Downloading the attachment took longer than ${formatSeconds(opts.timeoutMs)}, so I gave up.`,
      );
    if (signal.reason === STALL)
      return new UserError(
        'attachment.timeout',
        `The server of ${shortenForMessage(url.host, 64)} stopped sending the attachment, so I gave up.`,
      );
    return signal.reason;
  }
  if (error instanceof BlockedAddressError || (error as { code?: unknown } | null)?.code === 'ERR_ATTACHMENT_BLOCKED_ADDRESS') {
    return new UserError(
      'attachment.hostNotAllowed',
      `${shortenForMessage(url.host, 64)} leads to a private network address; I do not download from there.`,
      { cause: error },
    );
  }
  const code = (error as { code?: unknown } | null)?.code;
  const host = shortenForMessage(url.host, 64);
  if (code === 'INCOMPLETE_BODY' || code === 'ECONNRESET') {
    return new UserError('attachment.network', `The download of the attachment from ${host} was interrupted; please try again.`, {
      cause: error,
    });
  }
  const detail = typeof code === 'string' ? ` (${shortenForMessage(code, 32)})` : '';
  return new UserError('attachment.network', `I could not download the attachment from ${host}: the connection failed${detail}.`, {
    cause: error,
  });
}

function formatSeconds(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1).replace(/\.0$/, '')} s` : `${ms} ms`;
}
