import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { DiscordErrors, DiscordHttpError } from './http-errors.js';
import { multipartBoundary, parseMultipart, type MultipartFile } from './multipart.js';
import { retryAfterHeader, type RateLimiter, type RateLimitedRequest } from './rate-limit.js';

/** What a route handler gets. */
export interface RouteContext {
  method: string;
  /** The path below `/api/v10`, e.g. `/channels/123/messages`. */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The JSON body, or a multipart body's `payload_json` (or its plain fields as an object). */
  json: unknown;
  /** Files of a multipart body. */
  files: MultipartFile[];
}

/** A handler's answer: JSON body (omitted → 204 No Content). */
export interface RouteResult {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A route handler; throws {@link DiscordHttpError} for Discord's error answers. */
export type RouteHandler = (ctx: RouteContext) => RouteResult | Promise<RouteResult>;

interface RouteDefinition {
  method: string;
  template: string;
  segments: string[];
  auth: 'bot' | 'none';
  major: string[];
  /** Counted against the global rate limit (Discord exempts interaction endpoints). */
  global: boolean;
  handler: RouteHandler;
}

/** One request as the fake saw it. */
export interface RequestLogEntry {
  /** Sequential number of the request within this fake (starts at 1). */
  seq: number;
  at: number;
  durationMs: number;
  kind: 'rest' | 'cdn' | 'other';
  method: string;
  /** Path below `/api/vN` for REST, the raw path otherwise. */
  path: string;
  /** `"METHOD /template"` of the matched route, e.g. `POST /channels/:channelId/messages`; null if none matched. */
  route: string | null;
  query: Record<string, string>;
  status: number;
  /** How the request authenticated: `bot` (valid bot token), `invalid` (wrong or missing where required), `none`. */
  auth: 'bot' | 'invalid' | 'none';
  /** The JSON body (or multipart `payload_json`). */
  json: unknown;
  files: Array<{ field: string; filename: string; contentType: string; size: number }>;
  /** Discord's error body when the answer was an error. */
  error: { code: number; message: string } | null;
  /** True for requests to no known route (404) or with a wrong method (405): the bot called something unexpected. */
  unexpected: boolean;
  /** True when the answer was a 429. */
  rateLimited: boolean;
  /** `X-RateLimit-Scope` of a 429 answer (`user`, `global`, `shared`), else null. */
  rateLimitScope: string | null;
  userAgent: string | null;
}

/** A forced answer for matching requests, for testing the client's error and retry handling. */
export interface FaultRule {
  /** Matched like a rate-limit rule: `"METHOD /template"`, just the template, a RegExp on `"METHOD /template"`, or a function. */
  route: string | RegExp | ((request: RateLimitedRequest) => boolean);
  /** HTTP status to answer (429 gets Discord's rate-limit headers and body). */
  status: number;
  /** How many matching requests get the fault (default 1). */
  times?: number;
  /** For 429: the `retry_after` (default 100 ms). */
  retryAfterMs?: number;
  /** For 429: a global rate limit (`X-RateLimit-Global`). */
  global?: boolean;
  /** Body to answer (default: Discord's body for the status). */
  body?: unknown;
  /** Wait this long before answering (to exercise client timeouts). */
  delayMs?: number;
}

/** A slow answer: matching requests are handled normally, but only after `delayMs`. */
export interface DelayRule {
  /** Matched like a {@link FaultRule}. */
  route: FaultRule['route'];
  /** How long the server "works" before handling the request. */
  delayMs: number;
  /** How many matching requests are slowed (default 1). */
  times?: number;
}

function matchRule(route: FaultRule['route'], request: RateLimitedRequest): boolean {
  const key = `${request.method} ${request.route}`;
  if (typeof route === 'function') return route(request);
  if (route instanceof RegExp) return route.test(key);
  return route === key || route === request.route;
}

/** Reads a request body up to `limit` bytes; past that, drains the rest and reports `tooLarge`. */
export function readBody(req: IncomingMessage, limit: number): Promise<{ body: Buffer; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
      } else if (!tooLarge) chunks.push(chunk);
    });
    req.on('end', () => resolve({ body: Buffer.concat(chunks), tooLarge }));
    req.on('error', reject);
  });
}

/** Writes a JSON answer (or 204 without a body). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  if (status === 204 || body === undefined) {
    res.writeHead(status === 200 ? 204 : status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/**
 * The REST half of the fake: route table, bot-token auth, body parsing (JSON and multipart with
 * `payload_json` + `files[n]`), rate limits, injected faults, Discord's error JSON, and the request log.
 */
export class RestRouter {
  private readonly routes: RouteDefinition[] = [];
  private readonly faults: Array<FaultRule & { remaining: number }> = [];
  private readonly delays: Array<DelayRule & { remaining: number }> = [];
  private seq = 0;
  private readonly pendingDelays = new Map<NodeJS.Timeout, () => void>();

  constructor(
    private readonly settings: {
      botToken: () => string;
      maxRequestBytes: number;
      rateLimiter: RateLimiter;
      retryAfterPrecision: 'seconds' | 'milliseconds';
    },
    private readonly log: (entry: RequestLogEntry) => void,
  ) {}

  /**
   * Adds a route. `major` names the params forming the rate-limit major parameter; `global: false` exempts
   * it from the global rate limit.
   */
  add(
    method: string,
    template: string,
    handler: RouteHandler,
    options: { auth?: 'bot' | 'none'; major?: string[]; global?: boolean } = {},
  ): void {
    this.routes.push({
      method,
      template,
      segments: template.split('/').filter(Boolean),
      auth: options.auth ?? 'bot',
      major: options.major ?? [],
      global: options.global ?? true,
      handler,
    });
  }

  /** Queues forced answers. */
  addFault(rule: FaultRule): void {
    this.faults.push({ ...rule, remaining: rule.times ?? 1 });
  }

  /** Queues slow answers. */
  addDelay(rule: DelayRule): void {
    this.delays.push({ ...rule, remaining: rule.times ?? 1 });
  }

  /** Removes every queued fault and delay. */
  clearFaults(): void {
    this.faults.length = 0;
    this.delays.length = 0;
  }

  /** A sequence number for a log entry (shared with CDN requests). */
  nextSeq(): number {
    return ++this.seq;
  }

  private match(method: string, path: string): { route: RouteDefinition; params: Record<string, string> } | 'method' | null {
    const parts = path.split('/').filter(Boolean);
    let methodMismatch = false;
    for (const route of this.routes) {
      if (route.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length; i++) {
        const seg = route.segments[i] ?? '';
        const part = decodeURIComponent(parts[i] ?? '');
        if (seg.startsWith(':')) params[seg.slice(1)] = part;
        else if (seg !== part) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (route.method !== method) {
        methodMismatch = true;
        continue;
      }
      return { route, params };
    }
    return methodMismatch ? 'method' : null;
  }

  /** Handles one `/api/...` request. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const started = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const entry: RequestLogEntry = {
      seq: this.nextSeq(),
      at: started,
      durationMs: 0,
      kind: 'rest',
      method,
      path: url.pathname,
      route: null,
      query: Object.fromEntries(url.searchParams.entries()),
      status: 0,
      auth: 'none',
      json: undefined,
      files: [],
      error: null,
      unexpected: false,
      rateLimited: false,
      rateLimitScope: null,
      userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null,
    };
    let status = 500;
    let body: unknown;
    let headers: Record<string, string> = {};
    try {
      const { body: raw, tooLarge } = await readBody(req, this.settings.maxRequestBytes);
      const versionMatch = /^\/api(?:\/v(\d+))?(\/.*)?$/.exec(url.pathname);
      const path = versionMatch?.[2] ?? '/';
      entry.path = path;
      if (versionMatch?.[1] !== undefined && versionMatch[1] !== '10' && versionMatch[1] !== '9') throw DiscordErrors.invalidApiVersion();
      const found = this.match(method, path);
      if (found === null || found === 'method') {
        entry.unexpected = true;
        throw found === null ? DiscordErrors.notFound() : DiscordErrors.methodNotAllowed();
      }
      const { route, params } = found;
      entry.route = `${route.method} ${route.template}`;
      const authorization = req.headers.authorization;
      const tokenOk = typeof authorization === 'string' && authorization === `Bot ${this.settings.botToken()}`;
      entry.auth = tokenOk ? 'bot' : authorization === undefined ? 'none' : 'invalid';
      if (route.auth === 'bot' && !tokenOk) {
        entry.auth = 'invalid';
        throw DiscordErrors.unauthorized();
      }
      if (tooLarge) throw DiscordErrors.entityTooLarge();
      const { json, files } = this.parseBody(req.headers['content-type'], raw);
      entry.json = json;
      entry.files = files.map((f) => ({ field: f.field, filename: f.filename, contentType: f.contentType, size: f.data.length }));
      const limited: RateLimitedRequest = { method, route: route.template, path, major: route.major.map((p) => params[p] ?? '').join('/') };
      const fault = this.faults.find((f) => f.remaining > 0 && matchRule(f.route, limited));
      if (fault) {
        fault.remaining--;
        if (fault.delayMs) await this.delay(fault.delayMs);
        throw this.faultError(fault);
      }
      const slow = this.delays.find((d) => d.remaining > 0 && matchRule(d.route, limited));
      if (slow) {
        slow.remaining--;
        await this.delay(slow.delayMs);
      }
      const verdict = this.settings.rateLimiter.check(limited, Date.now(), route.global);
      headers = verdict.headers;
      if (verdict.limited) {
        throw new DiscordHttpError(429, verdict.limited.body as { code: number; message: string }, verdict.headers);
      }
      const result = await route.handler({ method, path, params, query: url.searchParams, headers: req.headers, json, files });
      status = result.status ?? (result.body === undefined ? 204 : 200);
      body = result.body;
      headers = { ...headers, ...result.headers };
    } catch (error) {
      if (error instanceof DiscordHttpError) {
        status = error.status;
        body = error.body;
        headers = { ...headers, ...error.headers };
        entry.error = { code: error.body.code, message: error.body.message };
      } else {
        status = 500;
        body = { message: '500: Internal Server Error', code: 0 };
        entry.error = { code: 0, message: `fake-discord bug: ${(error as Error)?.stack ?? String(error)}` };
      }
    }
    entry.status = status;
    entry.rateLimited = status === 429;
    entry.rateLimitScope = status === 429 ? (headers['X-RateLimit-Scope'] ?? null) : null;
    entry.durationMs = Date.now() - started;
    sendJson(res, status, body, headers);
    this.log(entry);
  }

  private parseBody(contentType: string | undefined, raw: Buffer): { json: unknown; files: MultipartFile[] } {
    if (raw.length === 0) return { json: undefined, files: [] };
    const boundary = multipartBoundary(contentType);
    if (boundary) {
      let parsed;
      try {
        parsed = parseMultipart(raw, boundary);
      } catch {
        throw DiscordErrors.invalidFormBody([{ path: '', code: 'MULTIPART_INVALID', message: 'Malformed multipart body' }]);
      }
      const payload = parsed.fields.get('payload_json');
      let json: unknown;
      if (payload !== undefined) {
        try {
          json = JSON.parse(payload);
        } catch {
          throw DiscordErrors.invalidJson();
        }
      } else {
        json = Object.fromEntries(parsed.fields.entries());
      }
      return { json, files: parsed.files };
    }
    if (contentType && /^application\/json\b/i.test(contentType)) {
      try {
        return { json: JSON.parse(raw.toString('utf8')), files: [] };
      } catch {
        throw DiscordErrors.invalidJson();
      }
    }
    try {
      return { json: JSON.parse(raw.toString('utf8')), files: [] };
    } catch {
      throw DiscordErrors.invalidJson();
    }
  }

  private faultError(fault: FaultRule): DiscordHttpError {
    if (fault.status === 429) {
      const retryAfter = (fault.retryAfterMs ?? 100) / 1000;
      return new DiscordHttpError(
        429,
        (fault.body as { code: number; message: string } | undefined) ?? {
          message: 'You are being rate limited.',
          retry_after: retryAfter,
          global: fault.global === true,
          code: 0,
        },
        {
          'Retry-After': retryAfterHeader(fault.retryAfterMs ?? 100, this.settings.retryAfterPrecision),
          'X-RateLimit-Scope': fault.global ? 'global' : 'user',
          ...(fault.global ? { 'X-RateLimit-Global': 'true' } : {}),
        },
      );
    }
    const defaults: Record<number, string> = {
      500: '500: Internal Server Error',
      502: '502: Bad Gateway',
      503: '503: Service Unavailable',
      504: '504: Gateway Timeout',
    };
    return new DiscordHttpError(
      fault.status,
      (fault.body as { code: number; message: string } | undefined) ?? { message: defaults[fault.status] ?? `${fault.status}`, code: 0 },
    );
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pendingDelays.delete(timer);
        resolve();
      }, ms);
      this.pendingDelays.set(timer, resolve);
    });
  }

  /** Cancels pending fault delays (their requests are then answered at once). */
  close(): void {
    for (const [timer, resolve] of this.pendingDelays) {
      clearTimeout(timer);
      resolve();
    }
    this.pendingDelays.clear();
  }
}
