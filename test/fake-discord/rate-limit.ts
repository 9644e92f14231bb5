import { createHash } from 'node:crypto';

/** What a rate-limit rule sees of a request. */
export interface RateLimitedRequest {
  method: string;
  /** The route template, e.g. `/channels/:channelId/messages`. */
  route: string;
  /** The concrete path, e.g. `/channels/1234/messages`. */
  path: string;
  /** The route's major parameter value (channel id, guild id, webhook id + token), or '' when none. */
  major: string;
}

/**
 * A per-route bucket: at most `limit` requests per `windowMs` for each major parameter (like Discord's
 * per-channel message bucket). `route` is matched against `"METHOD /template"` (string: either that exact
 * form or just the template, any method; RegExp: tested on the `"METHOD /template"` form; function: any test).
 */
export interface RateLimitRule {
  route: string | RegExp | ((request: RateLimitedRequest) => boolean);
  limit: number;
  windowMs: number;
  /** Count per major parameter (default true) or across all of them. */
  perMajorParameter?: boolean;
  /**
   * Send the `X-RateLimit-*` headers on every answer (default true), so a client that reads them waits
   * before it is limited. `false` models Discord's unannounced (shared / sub-) limits: the client only
   * learns about the bucket from a 429.
   */
  announce?: boolean;
  /** `X-RateLimit-Scope` of the 429 (default `user`). */
  scope?: 'user' | 'shared';
}

/** Discord's global limit (requests per window across every route), answered with `X-RateLimit-Global`. */
export interface GlobalRateLimit {
  limit: number;
  windowMs: number;
}

/** A 429 to send: the body and headers of Discord's rate-limit answer. */
export interface RateLimitVerdict {
  /** Headers to add to the answer (the bucket's `X-RateLimit-*` state). */
  headers: Record<string, string>;
  /** Set when the request is over the limit and must be answered with 429. */
  limited: { retryAfterMs: number; global: boolean; scope: string; body: Record<string, unknown> } | null;
}

interface BucketState {
  windowStart: number;
  count: number;
}

function secondsString(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

/**
 * The `Retry-After` header value: whole seconds rounded up, as Discord sends it (`retry_after` 64.57 →
 * `Retry-After: 65`), or — to make tests wait less — the exact value with millisecond decimals.
 */
export function retryAfterHeader(ms: number, precision: 'seconds' | 'milliseconds'): string {
  return precision === 'seconds' ? String(Math.max(1, Math.ceil(ms / 1000))) : secondsString(ms);
}

/** Keeps the counters of the configured rules and decides, per request, whether to answer 429. */
export class RateLimiter {
  private rules: RateLimitRule[];
  private globalLimit: GlobalRateLimit | null;
  private readonly buckets = new Map<string, BucketState>();
  private globalState: BucketState = { windowStart: 0, count: 0 };

  constructor(
    rules: readonly RateLimitRule[] = [],
    globalLimit: GlobalRateLimit | null = null,
    private readonly retryAfterPrecision: 'seconds' | 'milliseconds' = 'seconds',
  ) {
    this.rules = [...rules];
    this.globalLimit = globalLimit;
  }

  /** Replaces the rules (and forgets every counter). */
  setRules(rules: readonly RateLimitRule[], globalLimit: GlobalRateLimit | null = this.globalLimit): void {
    this.rules = [...rules];
    this.globalLimit = globalLimit;
    this.buckets.clear();
    this.globalState = { windowStart: 0, count: 0 };
  }

  private matches(rule: RateLimitRule, request: RateLimitedRequest): boolean {
    const key = `${request.method} ${request.route}`;
    if (typeof rule.route === 'function') return rule.route(request);
    if (rule.route instanceof RegExp) return rule.route.test(key);
    return rule.route === key || rule.route === request.route;
  }

  /** Counts the request and returns the headers to send and whether it is rate limited. */
  check(request: RateLimitedRequest, now: number = Date.now(), countsGlobally = true): RateLimitVerdict {
    const headers: Record<string, string> = {};
    if (this.globalLimit && countsGlobally) {
      const state = this.globalState;
      if (now >= state.windowStart + this.globalLimit.windowMs) {
        state.windowStart = now;
        state.count = 0;
      }
      if (state.count >= this.globalLimit.limit) {
        const retryAfterMs = state.windowStart + this.globalLimit.windowMs - now;
        return {
          headers: {
            'Retry-After': retryAfterHeader(retryAfterMs, this.retryAfterPrecision),
            'X-RateLimit-Global': 'true',
            'X-RateLimit-Scope': 'global',
          },
          limited: {
            retryAfterMs,
            global: true,
            scope: 'global',
            body: { message: 'You are being rate limited.', retry_after: Number(secondsString(retryAfterMs)), global: true },
          },
        };
      }
      state.count++;
    }
    const index = this.rules.findIndex((rule) => this.matches(rule, request));
    const rule = this.rules[index];
    if (!rule) return { headers, limited: null };
    const bucketHash = createHash('sha1').update(`rule${index}:${request.method} ${request.route}`).digest('hex').slice(0, 32);
    const key = `${index}:${rule.perMajorParameter === false ? '' : request.major}`;
    let state = this.buckets.get(key);
    if (!state || now >= state.windowStart + rule.windowMs) {
      state = { windowStart: now, count: 0 };
      this.buckets.set(key, state);
    }
    const resetAfterMs = state.windowStart + rule.windowMs - now;
    const bucketHeaders = (remaining: number): Record<string, string> => ({
      'X-RateLimit-Limit': String(rule.limit),
      'X-RateLimit-Remaining': String(remaining),
      'X-RateLimit-Reset': ((now + resetAfterMs) / 1000).toFixed(3),
      'X-RateLimit-Reset-After': secondsString(resetAfterMs),
      'X-RateLimit-Bucket': bucketHash,
    });
    if (state.count >= rule.limit) {
      const scope = rule.scope ?? 'user';
      return {
        headers: {
          ...(rule.announce === false ? {} : bucketHeaders(0)),
          'Retry-After': retryAfterHeader(resetAfterMs, this.retryAfterPrecision),
          'X-RateLimit-Scope': scope,
        },
        limited: {
          retryAfterMs: resetAfterMs,
          global: false,
          scope,
          body: {
            message: scope === 'shared' ? 'The resource is being rate limited.' : 'You are being rate limited.',
            retry_after: Number(secondsString(resetAfterMs)),
            global: false,
          },
        },
      };
    }
    state.count++;
    return { headers: rule.announce === false ? headers : { ...headers, ...bucketHeaders(rule.limit - state.count) }, limited: null };
  }
}
