import { constants as zlibConstants, inflateSync } from 'node:zlib';
import { WebSocket } from 'ws';
import { scaled } from '../helpers/time-scale.js';

/** A gateway payload as received. */
export interface ReceivedPayload {
  op: number;
  d: any;
  s: number | null;
  t: string | null;
}

/**
 * A minimal gateway client speaking the protocol by hand (no discord.js), for testing the fake's protocol
 * edges: it decodes plain JSON frames, `zlib-stream` frames (one zlib context over the connection, each
 * message ending in a sync flush) and IDENTIFY-`compress` frames (one zlib stream per message).
 */
export class RawGatewayClient {
  private readonly queue: ReceivedPayload[] = [];
  private waiters: Array<() => void> = [];
  private zlibFrames: Buffer[] = [];
  private zlibDecodedLength = 0;
  /** Frame kinds received, in order (`text` or `binary`). */
  readonly frameKinds: Array<'text' | 'binary'> = [];
  /** Resolves with the close code and reason once the socket closes. */
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly ws: WebSocket;

  private constructor(
    url: string,
    private readonly zlibStream: boolean,
  ) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    this.closed = new Promise((resolve) =>
      this.ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        this.wake();
      }),
    );
    this.ws.on('error', () => undefined);
  }

  /** Opens a socket to `gatewayUrl` with the given query (default `v=10&encoding=json`). */
  static async connect(gatewayUrl: string, query = 'v=10&encoding=json'): Promise<RawGatewayClient> {
    const client = new RawGatewayClient(`${gatewayUrl}?${query}`, /compress=zlib-stream/.test(query));
    await new Promise<void>((resolve, reject) => {
      client.ws.once('open', () => resolve());
      client.ws.once('error', reject);
      client.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    return client;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    this.frameKinds.push(isBinary ? 'binary' : 'text');
    if (!isBinary) this.queue.push(JSON.parse(data.toString('utf8')) as ReceivedPayload);
    else if (this.zlibStream) {
      // Re-inflate the whole stream so far: independent of any client library's zlib handling.
      this.zlibFrames.push(data);
      const text = inflateSync(Buffer.concat(this.zlibFrames), { finishFlush: zlibConstants.Z_SYNC_FLUSH }).toString('utf8');
      this.queue.push(JSON.parse(text.slice(this.zlibDecodedLength)) as ReceivedPayload);
      this.zlibDecodedLength = text.length;
    } else {
      this.queue.push(JSON.parse(inflateSync(data).toString('utf8')) as ReceivedPayload);
    }
    this.wake();
  }

  /**
   * The next payload, waiting up to `timeoutMs` on a quiet machine (stretched by the e2e time scale); rejects
   * if the socket closes first.
   */
  next(timeoutMs = 5000): Promise<ReceivedPayload> {
    const budget = scaled(timeoutMs);
    return this.nextBefore(Date.now() + budget, budget);
  }

  /** Waits for the next dispatch of type `t`, skipping others (budget as for {@link next}). */
  async nextDispatch(t: string, timeoutMs = 5000): Promise<ReceivedPayload> {
    const budget = scaled(timeoutMs);
    const deadline = Date.now() + budget;
    for (;;) {
      const payload = await this.nextBefore(deadline, budget);
      if (payload.op === 0 && payload.t === t) return payload;
    }
  }

  private async nextBefore(deadline: number, budget: number): Promise<ReceivedPayload> {
    for (;;) {
      const payload = this.queue.shift();
      if (payload) return payload;
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error('socket closed');
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`no payload within ${budget} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a payload as JSON text. */
  send(payload: unknown): void {
    this.ws.send(typeof payload === 'string' ? payload : JSON.stringify(payload));
  }

  /** IDENTIFY with the given token and intents (plus extra fields). */
  identify(token: string, intents: number, extra: Record<string, unknown> = {}): void {
    this.send({ op: 2, d: { token, intents, properties: { os: 'linux', browser: 'raw', device: 'raw' }, ...extra } });
  }

  /** Closes the socket with a code (1000 ends the session on Discord; 4xxx keeps it resumable). */
  close(code = 4000): void {
    this.ws.close(code);
  }

  /** Destroys the TCP connection without a close frame. */
  terminate(): void {
    this.ws.terminate();
  }
}
