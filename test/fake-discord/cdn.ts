import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Store } from './store.js';

const CDN_PATH = /^\/(?:media\/)?(?:ephemeral-)?attachments\/(\d+)\/(\d+)\/([^/]+)$/;

/** True when a path is one of the CDN's attachment routes. */
export function isCdnPath(pathname: string): boolean {
  return CDN_PATH.test(pathname);
}

/**
 * Serves attachment bytes at `/attachments/{channel}/{id}/{filename}` (also `/ephemeral-attachments/...`
 * and the `/media/...` proxy form), honouring each attachment's {@link CdnBehavior} so tests can make the
 * CDN slow, lie about Content-Length or Content-Type, cut the body short, fail, or hang.
 */
export class Cdn {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly hanging = new Set<ServerResponse>();
  private active = 0;
  private peak = 0;

  /** @param onStart - Told when a download of an attachment starts (before any behaviour delays it). */
  constructor(
    private readonly store: Store,
    private readonly onStart: () => void = () => undefined,
  ) {}

  /** Attachment downloads being answered now (held, delayed, hanging or streaming). */
  get inFlight(): number {
    return this.active;
  }

  /** The most downloads that were in flight at once. */
  get peakInFlight(): number {
    return this.peak;
  }

  /** Answers one CDN request; returns the status it answered with (0 when the socket was cut or left hanging). */
  async serve(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<number> {
    const match = CDN_PATH.exec(pathname);
    if (!match || !this.store.blobs.has(match[2] ?? '')) return this.answer(req, res, pathname);
    this.active++;
    this.peak = Math.max(this.peak, this.active);
    let counted = true;
    const done = () => {
      if (counted) this.active--;
      counted = false;
    };
    // A hanging answer ends when the client gives up (or the fake closes).
    res.once('close', done);
    this.onStart();
    try {
      return await this.answer(req, res, pathname);
    } finally {
      if (!this.store.blobs.get(match[2] ?? '')?.behavior.hang) done();
    }
  }

  private async answer(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<number> {
    const match = CDN_PATH.exec(pathname);
    const blob = match ? this.store.blobs.get(match[2] ?? '') : undefined;
    if (!blob || decodeURIComponent(match?.[3] ?? '') !== blob.filename) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('Not Found');
      return 404;
    }
    const behavior = blob.behavior;
    if (behavior.hang) {
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return 0;
    }
    if (behavior.holdUntil) await behavior.holdUntil.catch(() => undefined);
    if (behavior.delayMs) await this.sleep(behavior.delayMs);
    if (res.destroyed) return 0;
    if (behavior.status && behavior.status !== 200) {
      res.writeHead(behavior.status, { 'Content-Type': 'text/plain' });
      res.end(`status ${behavior.status}`);
      return behavior.status;
    }
    const body = behavior.truncateAt !== undefined ? blob.data.subarray(0, behavior.truncateAt) : blob.data;
    const headers: Record<string, string> = {
      'Content-Type': behavior.contentType ?? blob.contentType,
      'Cache-Control': 'public, max-age=31536000',
      'Content-Disposition': `attachment; filename="${blob.filename}"`,
    };
    if (!behavior.omitContentLength) headers['Content-Length'] = String(behavior.contentLength ?? blob.data.length);
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return 200;
    }
    const declared = behavior.omitContentLength ? body.length : (behavior.contentLength ?? blob.data.length);
    if (behavior.bytesPerSecond && behavior.bytesPerSecond > 0) {
      const chunk = Math.max(1, Math.ceil(behavior.bytesPerSecond / 20));
      for (let offset = 0; offset < body.length && !res.destroyed; offset += chunk) {
        res.write(body.subarray(offset, offset + chunk));
        await this.sleep(50);
      }
    } else if (body.length > 0) {
      await new Promise<void>((resolve) => res.write(body, () => resolve()));
    }
    if (body.length < declared || behavior.truncateAt !== undefined) {
      // A short body: once the bytes are out, cut the connection so the client sees a premature close.
      res.destroy();
      return 0;
    }
    res.end();
    return 200;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  /** Stops slow and delayed answers and cuts hanging ones. */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
  }
}
