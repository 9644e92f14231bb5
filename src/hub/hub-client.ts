import { HubApiError, listFiles, modelInfo } from '@huggingface/hub';
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
import { UserError } from '../errors.js';
import { retryDelay, sleep, type RetryPolicy } from './retry.js';
import type { RepoFile } from './select-files.js';

/** How to talk to one Hub for one repository. */
export interface HubClientOptions {
  context: HubErrorContext;
  /** Access token (`hf_...`), sent only to the Hub's own API. */
  token?: string | undefined;
  fetch: typeof fetch;
  signal?: AbortSignal | undefined;
  retry: RetryPolicy;
  /** Limit for one API request, answer included. */
  requestTimeoutMs: number;
  /** Most listing pages followed; default {@link defaultMaxListingPages}. */
  maxListingPages?: number | undefined;
}

/** Listing pages followed at most: the Hub serves 1,000 entries a page, and model repositories hold far fewer. */
export const defaultMaxListingPages = 100;

/**
 * Resolves a branch, tag or commit id to the full commit id, through `@huggingface/hub`'s `modelInfo`
 * (`GET /api/models/{repo}/revision/{revision}`). This is also where a wrong repository, revision or
 * endpoint is reported.
 */
export async function resolveCommit(options: HubClientOptions): Promise<string> {
  const { repo, revision, endpoint } = options.context;
  const info = await callHub(options, (fetch) =>
    modelInfo({ name: repo, revision, hubUrl: endpoint, accessToken: options.token, fetch, additionalFields: ['sha'] }),
  );
  return typeof info.sha === 'string' && info.sha !== '' ? info.sha : revision;
}

/**
 * Lists every file of the repository at `commit` (`GET /api/models/{repo}/tree/{commit}?recursive=true`, all
 * pages). The pages are chained by `Link: rel="next"`, which can name any address: at most
 * {@link HubClientOptions.maxListingPages} pages are followed, never one already seen, and the token is sent
 * only to the Hub's own origin (see {@link callHub}).
 *
 * @throws UserError `hub.listingTooLong` or `hub.listingLoop` for a listing that would not end.
 */
export async function listRepoFiles(options: HubClientOptions, commit: string): Promise<RepoFile[]> {
  const { repo, endpoint } = options.context;
  const maxPages = options.maxListingPages ?? defaultMaxListingPages;
  return callHub(options, async (fetch) => {
    const seen = new Set<string>();
    const pagedFetch: typeof globalThis.fetch = (input, init) => {
      const url = requestUrl(input);
      if (seen.has(url)) {
        throw new UserError(
          'hub.listingLoop',
          `The file listing of ${repo} at ${endpoint} sends the client back to a page it already read (${url}); the Hub or the mirror in HF_ENDPOINT is misbehaving.`,
        );
      }
      if (seen.size >= maxPages) {
        throw new UserError(
          'hub.listingTooLong',
          `The file listing of ${repo} at ${endpoint} goes on for more than ${maxPages} pages; no model repository is that large, so the download stops here.`,
        );
      }
      seen.add(url);
      return fetch(input, init);
    };
    const files: RepoFile[] = [];
    for await (const entry of listFiles({
      repo,
      revision: commit,
      recursive: true,
      hubUrl: endpoint,
      accessToken: options.token,
      fetch: pagedFetch,
    })) {
      if (entry.type !== 'file') continue;
      files.push({
        path: entry.path,
        size: entry.size,
        oid: entry.oid,
        lfs: entry.lfs ? { oid: entry.lfs.oid, size: entry.lfs.size } : undefined,
        xetHash: entry.xetHash,
      });
    }
    return files;
  });
}

/**
 * Runs one library call with a fetch that honours the caller's abort signal and a timeout, that sends the
 * token to the Hub's own origin only (the library puts it on every request, also on pages whose
 * `Link: rel="next"` names another server), and that remembers the last failed answer, whose
 * `X-Error-Code` the library's `HubApiError` does not keep. Passing failures are retried; the others become
 * {@link UserError}s.
 */
async function callHub<T>(options: HubClientOptions, run: (fetch: typeof globalThis.fetch) => Promise<T>): Promise<T> {
  const hubOrigin = new URL(options.context.endpoint).origin;
  for (let retry = 0; ; retry++) {
    let failure: HttpFailure | undefined;
    const recordingFetch: typeof globalThis.fetch = async (input, init) => {
      const timeout = AbortSignal.timeout(options.requestTimeoutMs);
      const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
      const url = requestUrl(input);
      const headers = new Headers(input instanceof Request ? input.headers : undefined);
      new Headers(init?.headers).forEach((value, key) => headers.set(key, value));
      // (fetch itself drops it on a redirect to another origin.)
      if (new URL(url).origin !== hubOrigin) headers.delete('authorization');
      const response = await options.fetch(url, { ...init, headers, signal });
      if (!response.ok) failure = describeHttpFailure(response, requestUrl(input));
      return response;
    };
    try {
      return await run(recordingFetch);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (error instanceof UserError) throw error;
      let transient: boolean;
      let userError: Error;
      if (error instanceof HubApiError) {
        const described = failure ?? { status: error.statusCode, url: error.url };
        transient = isTransientStatus(described.status);
        userError = httpFailureToUserError(options.context, described);
      } else {
        const code = isTimeout(error) ? 'ETIMEDOUT' : networkErrorCode(error);
        if (code === undefined) throw error;
        transient = isTransientNetworkCode(code);
        userError = unreachableError(options.context, code, { cause: error });
      }
      if (!transient || retry >= options.retry.maxRetries) throw userError;
      await sleep(retryDelay(options.retry, retry + 1), options.signal);
    }
  }
}

function requestUrl(input: string | URL | Request): string {
  if (typeof input === 'string') return input;
  return input instanceof URL ? input.href : input.url;
}

/** True for the `TimeoutError` that fetch rejects with when an `AbortSignal.timeout` fires. */
export function isTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'TimeoutError';
}
