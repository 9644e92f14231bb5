import { UserError } from '../errors.js';

/** What a failure message needs to know about the download in progress. */
export interface HubErrorContext {
  repo: string;
  revision: string;
  /** Hub base URL without a trailing slash. */
  endpoint: string;
  /** Whether an access token was sent. */
  tokenGiven: boolean;
}

/** A non-2xx answer of the Hub, with the error headers it sets (`X-Error-Code`, `X-Error-Message`). */
export interface HttpFailure {
  status: number;
  url: string;
  errorCode?: string | null | undefined;
  errorMessage?: string | null | undefined;
}

/** Reads the parts of a failed `Response` that {@link httpFailureToUserError} uses. */
export function describeHttpFailure(response: Response, url?: string): HttpFailure {
  return {
    status: response.status,
    url: url ?? response.url,
    errorCode: response.headers.get('x-error-code'),
    errorMessage: response.headers.get('x-error-message'),
  };
}

/** Statuses worth asking again for: the server or a proxy was busy or broken for a moment. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Turns a failed Hub answer into the message its user needs. The Hub answers 401 both for a gated
 * repository without a token and for a repository that does not exist (or is private) when no token is
 * sent, and tells the cases apart with `X-Error-Code` (`GatedRepo`, `RepoNotFound`, `RevisionNotFound`,
 * `EntryNotFound`), which huggingface_hub's `hf_raise_for_status` reads the same way.
 */
export function httpFailureToUserError(context: HubErrorContext, failure: HttpFailure): UserError {
  const { repo, revision, endpoint, tokenGiven } = context;
  const page = `${endpoint}/${repo}`;
  const code = failure.errorCode ?? '';
  if (code === 'RevisionNotFound') {
    return new UserError(
      'hub.revisionNotFound',
      `Revision "${revision}" does not exist in the model repository ${repo} at ${endpoint}. Use a branch, tag or commit id listed on ${page} (the default is "main").`,
    );
  }
  if (
    code === 'RepoNotFound' ||
    (failure.status === 404 && code !== 'EntryNotFound') ||
    (failure.status === 401 && code !== 'GatedRepo' && isApiUrl(failure.url))
  ) {
    const privateHint = tokenGiven
      ? ' If it is private, check that HF_TOKEN belongs to an account that can read it.'
      : ' If it is private, set HF_TOKEN to an access token of an account that can read it.';
    return new UserError(
      'hub.repoNotFound',
      `The model repository ${repo} (revision "${revision}") was not found at ${endpoint}. Check the name: it is "owner/name" as in the model page address.${privateHint}`,
    );
  }
  if (code === 'GatedRepo' || failure.status === 401 || failure.status === 403) {
    const message = tokenGiven
      ? `Access to the model ${repo} was refused for your HF_TOKEN (HTTP ${failure.status}). Open ${page} while logged in with the account that owns the token and accept the licence (some models wait for the owner's approval), and check that the token may read gated repositories.`
      : `The model ${repo} is gated: its files are served only to logged-in users who accepted its licence. Open ${page}, log in and accept the licence, then create an access token at https://huggingface.co/settings/tokens and set HF_TOKEN to it before running again.`;
    return new UserError('hub.gated', message);
  }
  const detail = failure.errorMessage ? `: ${failure.errorMessage}` : '';
  return new UserError('hub.httpError', `The Hub at ${endpoint} answered HTTP ${failure.status} for ${failure.url}${detail}.`);
}

function isApiUrl(url: string): boolean {
  try {
    const path = new URL(url).pathname;
    return path.startsWith('/api/') || path.includes('/resolve/');
  } catch {
    return false;
  }
}

/**
 * The system error code behind a failed `fetch` (undici wraps it as `TypeError('fetch failed')` with a
 * `cause`, sometimes an `AggregateError` when every address of a host refused), or `undefined` when the
 * error is not a network failure.
 */
export function networkErrorCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const current = queue.shift();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+|ERR_SSL_[A-Z_]+|[A-Z_]*CERT[A-Z_]*)$/.test(code)) return code;
    if (current instanceof AggregateError) queue.push(...current.errors);
    queue.push((current as { cause?: unknown }).cause);
  }
  if (error instanceof TypeError && /fetch failed|terminated|other side closed/i.test(error.message)) return 'ECONNRESET';
  return undefined;
}

/** Network failures that may well succeed when tried again (a reset, a stall), as opposed to a wrong address. */
export function isTransientNetworkCode(code: string): boolean {
  return (
    !['ENOTFOUND', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EACCES'].includes(code) &&
    !code.includes('CERT') &&
    !code.startsWith('ERR_SSL')
  );
}

/** The message for a Hub that cannot be reached at all. */
export function unreachableError(context: HubErrorContext, code: string, options?: { cause?: unknown; partialKept?: boolean }): UserError {
  const kept = options?.partialKept ? ' What was already downloaded is kept: run the command again to resume.' : '';
  return new UserError(
    'hub.unreachable',
    `Could not reach the Hugging Face Hub at ${context.endpoint} (${code}).${kept} Check the network connection; ` +
      'HF_ENDPOINT can point to a mirror of the Hub. Or fetch the model folder another way, place it on this machine by hand ' +
      '(a diffusers ONNX folder with model_index.json, scheduler/, tokenizer/, text_encoder/, unet/ and vae_decoder/) ' +
      'and set LATENTCORD_MODEL_DIR to that folder.',
    options?.cause === undefined ? undefined : { cause: options.cause },
  );
}
