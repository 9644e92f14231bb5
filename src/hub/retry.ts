/** How often and how patiently to ask again after a passing failure. */
export interface RetryPolicy {
  /** Further attempts after the first one. */
  maxRetries: number;
  /** Wait before the first retry; doubles on each retry up to {@link RetryPolicy.maxDelayMs}. */
  delayMs: number;
  maxDelayMs: number;
}

/** Defaults close to huggingface_hub's `http_backoff` (1 s doubling, capped at 8 s). */
export const defaultRetryPolicy: RetryPolicy = { maxRetries: 5, delayMs: 1000, maxDelayMs: 8000 };

/** Wait before retry number `retry` (1-based). */
export function retryDelay(policy: RetryPolicy, retry: number): number {
  return Math.min(policy.maxDelayMs, policy.delayMs * 2 ** Math.max(0, retry - 1));
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
