import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { constants as zlibConstants, createDeflate, deflateSync, type Deflate } from 'node:zlib';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { ALL_INTENTS } from './api-types.js';

/** Gateway opcodes (Discord "Opcodes and Status Codes"). */
export const GatewayOp = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  PresenceUpdate: 3,
  VoiceStateUpdate: 4,
  Resume: 6,
  Reconnect: 7,
  RequestGuildMembers: 8,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
} as const;

/** Gateway close codes the fake uses. */
export const GatewayCloseCode = {
  UnknownError: 4000,
  UnknownOpcode: 4001,
  DecodeError: 4002,
  NotAuthenticated: 4003,
  AuthenticationFailed: 4004,
  AlreadyAuthenticated: 4005,
  InvalidSeq: 4007,
  RateLimited: 4008,
  SessionTimedOut: 4009,
  InvalidShard: 4010,
  InvalidApiVersion: 4012,
  InvalidIntents: 4013,
  DisallowedIntents: 4014,
} as const;

/** A gateway payload as sent over the socket. */
export interface GatewayPayload {
  op: number;
  d: unknown;
  s: number | null;
  t: string | null;
}

/** What the gateway needs from the rest of the fake to build the session start. */
export interface GatewayHooks {
  /** READY's `d` for a new session (without session_id / resume_gateway_url / shard, which the gateway adds). */
  readyData(session: GatewaySession): Record<string, unknown>;
  /** The guild ids of the bot (for READY's unavailable guild list and the GUILD_CREATE burst). */
  guildIds(): string[];
  /** The GUILD_CREATE `d` of one guild as this session should see it. */
  guildCreate(guildId: string, session: GatewaySession): Record<string, unknown> | null;
  /** Answer to op 8 (Request Guild Members): the members' JSON, or null for an unknown guild. */
  guildMembers(guildId: string, query: { query?: string; limit?: number; userIds?: string[] }): unknown[] | null;
}

/** Settings of the fake gateway. */
export interface GatewayOptions {
  botToken: string;
  heartbeatIntervalMs: number;
  /** Privileged intent bits the application is approved for; others close IDENTIFY with 4014. */
  allowedPrivilegedIntents: number;
  privilegedIntentBits: number;
  /** How long a disconnected session stays resumable. */
  resumeWindowMs: number;
  /** How many dispatches a session keeps for replay on RESUME. */
  replayBufferSize: number;
  /** With `compress: true` in IDENTIFY, dispatches at least this long (bytes of JSON) are sent zlib-compressed. */
  payloadCompressionThreshold: number;
  /** Close a connection whose client missed heartbeats for this many intervals (0 = never). */
  zombieAfterIntervals: number;
  /**
   * Called for every IDENTIFY that passed the checks: lowers the session start budget and answers false
   * when it is used up (Discord then ends the sessions and resets the token; the fake closes with 4004).
   */
  onIdentify?(): boolean;
  /** `max_concurrency` of the session start limit: IDENTIFYs per `identifyIntervalMs` per bucket (shard id % this). */
  maxConcurrency: number;
  /** The identify window (Discord: 5 s); a second IDENTIFY of a bucket within it gets op 9. 0 disables the check. */
  identifyIntervalMs: number;
  /** Client payloads allowed per connection per minute (Discord: 120); more closes the socket with 4008. */
  sendLimitPerMinute: number;
}

/** One socket of the gateway (a client may open many over a session's life). */
export interface GatewayConnectionInfo {
  /** Sequential number of the socket within this fake. */
  id: number;
  /** URL path the client connected to (`/gateway` for the URL from GET /gateway/bot, `/gateway/resume` for `resume_gateway_url`). */
  path: string;
  query: Record<string, string>;
  compression: 'zlib-stream' | 'payload' | null;
  openedAt: number;
  closedAt: number | null;
  closeCode: number | null;
  closedBy: 'client' | 'server' | null;
  /** How the socket joined a session. */
  kind: 'identify' | 'resume' | null;
  sessionId: string | null;
  /** For a RESUME: the `seq` the client asked to resume from, and how many dispatches were replayed. */
  resumedFromSeq: number | null;
  replayed: number;
  /** When the socket last completed a RESUME (RESUMED sent). */
  resumedAt: number | null;
  /** Ordinal (1, 2, ...) of that RESUME among all completed RESUMEs of this gateway. */
  resumeOrdinal: number | null;
  heartbeats: number;
  /** The `d` (last sequence) of the client's latest heartbeat. */
  lastHeartbeatSeq: number | null;
  /** Opcodes received, in order (tokens are not kept). */
  receivedOps: number[];
}

/** A gateway session (survives disconnects until invalidated or expired). */
export interface GatewaySession {
  readonly id: string;
  readonly intents: number;
  readonly shard: [number, number];
  readonly largeThreshold: number;
  readonly identifiedAt: number;
  seq: number;
  invalidated: boolean;
  disconnectedAt: number | null;
  resumes: number;
  readonly buffer: GatewayPayload[];
  connection: GatewayConnection | null;
  readonly connectionIds: number[];
  /** IDENTIFY's `properties`, `presence`, `compress` as sent. */
  readonly identify: Record<string, unknown>;
}

/** A snapshot of a session for tests. */
export interface GatewaySessionInfo {
  sessionId: string;
  intents: number;
  shard: [number, number];
  seq: number;
  identifiedAt: number;
  connected: boolean;
  invalidated: boolean;
  resumes: number;
  connections: GatewayConnectionInfo[];
  identify: Record<string, unknown>;
}

/** How a dispatch reaches sessions. */
export interface DispatchRouting {
  /** The guild the event belongs to (routes by shard); absent for DMs and global events. */
  guildId?: string | null;
  /** Intent bits of which the session needs at least one (0 or absent = always sent). */
  intents?: number;
  /** Rewrites `d` per session, e.g. to remove message content without the MessageContent intent. */
  transform?: (d: unknown, session: GatewaySession) => unknown;
}

/** How to drop a connection: an abnormal closure (socket destroyed, the client sees 1006) or a close code. */
export type DropMode = 'abnormal' | number;

const SYNC_FLUSH_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

class GatewayConnection {
  readonly info: GatewayConnectionInfo;
  session: GatewaySession | null = null;
  private readonly deflate: Deflate | null;
  private deflateChunks: Buffer[] = [];
  private sendChain: Promise<void> = Promise.resolve();
  payloadCompression = false;
  lastHeartbeatAt: number;
  zombieTimer: NodeJS.Timeout | null = null;
  /** Receive times of client payloads within the last minute (for the send rate limit). */
  readonly sendTimes: number[] = [];

  constructor(
    readonly ws: WebSocket,
    info: GatewayConnectionInfo,
  ) {
    this.info = info;
    this.lastHeartbeatAt = Date.now();
    if (info.compression === 'zlib-stream') {
      this.deflate = createDeflate();
      this.deflate.on('data', (chunk: Buffer) => this.deflateChunks.push(chunk));
    } else {
      this.deflate = null;
    }
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  send(payload: GatewayPayload, threshold: number): void {
    if (!this.open) return;
    const json = JSON.stringify(payload);
    if (this.deflate) {
      const deflate = this.deflate;
      this.sendChain = this.sendChain.then(
        () =>
          new Promise<void>((resolve) => {
            deflate.write(json);
            deflate.flush(zlibConstants.Z_SYNC_FLUSH, () => {
              const out = Buffer.concat(this.deflateChunks);
              this.deflateChunks = [];
              if (this.open && out.length >= 4 && out.subarray(-4).equals(SYNC_FLUSH_TAIL)) this.ws.send(out, { binary: true });
              resolve();
            });
          }),
      );
      return;
    }
    if (this.payloadCompression && payload.op === GatewayOp.Dispatch && json.length >= threshold) {
      this.ws.send(deflateSync(json), { binary: true });
      return;
    }
    this.ws.send(json);
  }

  dispose(): void {
    if (this.zombieTimer) clearInterval(this.zombieTimer);
    this.zombieTimer = null;
    this.deflate?.close();
  }
}

/**
 * The fake gateway: a WebSocket endpoint speaking Discord's gateway protocol v10 with JSON encoding,
 * optional `zlib-stream` transport compression and IDENTIFY `compress` payload compression; sessions with
 * sequence numbers, heartbeats, RESUME with replay of missed dispatches, INVALID_SESSION and RECONNECT.
 */
export class Gateway extends EventEmitter {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sessions = new Map<string, GatewaySession>();
  private readonly connections = new Map<number, GatewayConnection>();
  private readonly allConnections: GatewayConnectionInfo[] = [];
  private nextConnectionId = 1;
  private readonly lastIdentifyByBucket = new Map<number, number>();
  /** How many RESUMEs completed so far. */
  completedResumes = 0;
  private closed = false;

  constructor(
    private readonly options: GatewayOptions,
    private readonly hooks: GatewayHooks,
  ) {
    super();
  }

  /** Handles an HTTP upgrade for `/gateway` or `/gateway/resume`; other paths are refused with 404. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(request.url ?? '/', 'http://localhost');
    url.pathname = url.pathname.replace(/\/+$/, '');
    if (this.closed || (url.pathname !== '/gateway' && url.pathname !== '/gateway/resume')) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.onConnection(ws, url));
  }

  private onConnection(ws: WebSocket, url: URL): void {
    const query = Object.fromEntries(url.searchParams.entries());
    const compress = query.compress;
    const info: GatewayConnectionInfo = {
      id: this.nextConnectionId++,
      path: url.pathname,
      query,
      compression: compress === 'zlib-stream' ? 'zlib-stream' : null,
      openedAt: Date.now(),
      closedAt: null,
      closeCode: null,
      closedBy: null,
      kind: null,
      sessionId: null,
      resumedFromSeq: null,
      replayed: 0,
      resumedAt: null,
      resumeOrdinal: null,
      heartbeats: 0,
      lastHeartbeatSeq: null,
      receivedOps: [],
    };
    const connection = new GatewayConnection(ws, info);
    this.connections.set(info.id, connection);
    this.allConnections.push(info);
    ws.on('message', (data, isBinary) => this.onMessage(connection, data, isBinary));
    ws.on('close', (code) => this.onClose(connection, code));
    ws.on('error', () => undefined);
    this.emit('connection', info);
    if (query.v !== '10' && query.v !== '9') return this.closeWith(connection, GatewayCloseCode.InvalidApiVersion, 'Invalid API version.');
    if (query.encoding !== undefined && query.encoding !== 'json')
      return this.closeWith(connection, GatewayCloseCode.DecodeError, 'Only encoding=json is supported by this fake.');
    if (compress !== undefined && compress !== 'zlib-stream')
      return this.closeWith(connection, GatewayCloseCode.DecodeError, `Unsupported compression: ${compress}`);
    connection.send({ op: GatewayOp.Hello, d: { heartbeat_interval: this.options.heartbeatIntervalMs }, s: null, t: null }, Infinity);
    if (this.options.zombieAfterIntervals > 0) {
      const limit = this.options.heartbeatIntervalMs * this.options.zombieAfterIntervals;
      connection.zombieTimer = setInterval(() => {
        if (Date.now() - connection.lastHeartbeatAt > limit)
          this.closeWith(connection, GatewayCloseCode.SessionTimedOut, 'Session timed out.');
      }, this.options.heartbeatIntervalMs);
      connection.zombieTimer.unref();
    }
  }

  private closeWith(connection: GatewayConnection, code: number, reason: string): void {
    if (!connection.open) return;
    connection.info.closedBy ??= 'server';
    connection.ws.close(code, reason);
  }

  private onClose(connection: GatewayConnection, code: number): void {
    const info = connection.info;
    info.closedAt = Date.now();
    info.closeCode = code;
    info.closedBy ??= 'client';
    connection.dispose();
    this.connections.delete(info.id);
    const session = connection.session;
    if (session && session.connection === connection) {
      session.connection = null;
      session.disconnectedAt = Date.now();
      // A client closing with 1000/1001 ends its session for good (Discord: the bot goes offline).
      if (info.closedBy === 'client' && (code === 1000 || code === 1001)) session.invalidated = true;
    }
    this.emit('close', info);
  }

  private onMessage(connection: GatewayConnection, data: RawData, isBinary: boolean): void {
    const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary || raw.length > 4096) return this.closeWith(connection, GatewayCloseCode.DecodeError, 'Error while decoding payload.');
    let payload: { op?: unknown; d?: unknown };
    try {
      payload = JSON.parse(raw.toString('utf8')) as { op?: unknown; d?: unknown };
    } catch {
      return this.closeWith(connection, GatewayCloseCode.DecodeError, 'Error while decoding payload.');
    }
    const op = typeof payload.op === 'number' ? payload.op : -1;
    connection.info.receivedOps.push(op);
    const now = Date.now();
    connection.sendTimes.push(now);
    while ((connection.sendTimes[0] ?? now) <= now - 60_000) connection.sendTimes.shift();
    if (connection.sendTimes.length > this.options.sendLimitPerMinute) {
      return this.closeWith(connection, GatewayCloseCode.RateLimited, 'You are being rate limited.');
    }
    this.emit('op', {
      connectionId: connection.info.id,
      op,
      d: op === GatewayOp.Identify || op === GatewayOp.Resume ? '[redacted]' : payload.d,
    });
    switch (op) {
      case GatewayOp.Heartbeat:
        connection.info.heartbeats++;
        connection.info.lastHeartbeatSeq = typeof payload.d === 'number' ? payload.d : null;
        connection.lastHeartbeatAt = Date.now();
        connection.send({ op: GatewayOp.HeartbeatAck, d: null, s: null, t: null }, Infinity);
        return;
      case GatewayOp.Identify:
        return this.identify(connection, payload.d);
      case GatewayOp.Resume:
        return this.resume(connection, payload.d);
      case GatewayOp.PresenceUpdate:
      case GatewayOp.VoiceStateUpdate:
        if (!connection.session) return this.closeWith(connection, GatewayCloseCode.NotAuthenticated, 'Not authenticated.');
        return;
      case GatewayOp.RequestGuildMembers:
        if (!connection.session) return this.closeWith(connection, GatewayCloseCode.NotAuthenticated, 'Not authenticated.');
        return this.requestGuildMembers(connection.session, payload.d);
      default:
        return this.closeWith(connection, GatewayCloseCode.UnknownOpcode, 'Unknown opcode.');
    }
  }

  private identify(connection: GatewayConnection, d: unknown): void {
    if (connection.session) return this.closeWith(connection, GatewayCloseCode.AlreadyAuthenticated, 'Already authenticated.');
    const data = (typeof d === 'object' && d !== null ? d : {}) as Record<string, unknown>;
    if (typeof data.token !== 'string' || data.token.replace(/^Bot\s+/i, '') !== this.options.botToken) {
      return this.closeWith(connection, GatewayCloseCode.AuthenticationFailed, 'Authentication failed.');
    }
    const intents = data.intents;
    if (typeof intents !== 'number' || !Number.isInteger(intents) || intents < 0 || (intents & ~ALL_INTENTS) !== 0) {
      return this.closeWith(connection, GatewayCloseCode.InvalidIntents, 'Invalid intent(s).');
    }
    if ((intents & this.options.privilegedIntentBits & ~this.options.allowedPrivilegedIntents) !== 0) {
      return this.closeWith(connection, GatewayCloseCode.DisallowedIntents, 'Disallowed intent(s).');
    }
    let shard: [number, number] = [0, 1];
    if (data.shard !== undefined) {
      const s = data.shard;
      if (
        !Array.isArray(s) ||
        s.length !== 2 ||
        !Number.isInteger(s[0]) ||
        !Number.isInteger(s[1]) ||
        s[1] < 1 ||
        s[0] < 0 ||
        s[0] >= s[1]
      ) {
        return this.closeWith(connection, GatewayCloseCode.InvalidShard, 'Invalid shard.');
      }
      shard = [s[0] as number, s[1] as number];
    }
    const largeThreshold = typeof data.large_threshold === 'number' ? Math.min(250, Math.max(50, data.large_threshold)) : 50;
    const bucket = shard[0] % this.options.maxConcurrency;
    const lastIdentify = this.lastIdentifyByBucket.get(bucket);
    if (this.options.identifyIntervalMs > 0 && lastIdentify !== undefined && Date.now() - lastIdentify < this.options.identifyIntervalMs) {
      // Discord: over max_concurrency within the identify window → Invalid Session.
      this.emit('identifyRejected', { connectionId: connection.info.id, reason: 'max_concurrency' });
      connection.send({ op: GatewayOp.InvalidSession, d: false, s: null, t: null }, Infinity);
      return;
    }
    if (this.options.onIdentify?.() === false)
      return this.closeWith(connection, GatewayCloseCode.AuthenticationFailed, 'Authentication failed.');
    this.lastIdentifyByBucket.set(bucket, Date.now());
    const { token: _token, ...identifyRest } = data;
    const session: GatewaySession = {
      id: randomBytes(16).toString('hex'),
      intents,
      shard,
      largeThreshold,
      identifiedAt: Date.now(),
      seq: 0,
      invalidated: false,
      disconnectedAt: null,
      resumes: 0,
      buffer: [],
      connection,
      connectionIds: [connection.info.id],
      identify: identifyRest,
    };
    this.sessions.set(session.id, session);
    connection.session = session;
    connection.payloadCompression = data.compress === true && connection.info.compression === null;
    if (connection.payloadCompression) connection.info.compression = 'payload';
    connection.info.kind = 'identify';
    connection.info.sessionId = session.id;
    const guildIds = this.hooks.guildIds().filter((id) => this.shardOf(id, shard[1]) === shard[0]);
    const ready = {
      v: 10,
      user_settings: {},
      private_channels: [],
      presences: [],
      relationships: [],
      guild_join_requests: [],
      geo_ordered_rtc_regions: [],
      auth: {},
      session_type: 'normal',
      ...this.hooks.readyData(session),
      guilds: guildIds.map((id) => ({ id, unavailable: true })),
      session_id: session.id,
      resume_gateway_url: this.resumeGatewayUrl,
      shard,
      _trace: ['["fake-discord-gateway",{"micros":0}]'],
    };
    this.emit('identify', this.sessionInfo(session));
    this.sendDispatch(session, 'READY', ready);
    if ((intents & 1) !== 0) {
      for (const guildId of guildIds) {
        const guild = this.hooks.guildCreate(guildId, session);
        if (guild) this.sendDispatch(session, 'GUILD_CREATE', guild);
      }
    }
  }

  private resume(connection: GatewayConnection, d: unknown): void {
    if (connection.session) return this.closeWith(connection, GatewayCloseCode.AlreadyAuthenticated, 'Already authenticated.');
    const data = (typeof d === 'object' && d !== null ? d : {}) as Record<string, unknown>;
    if (typeof data.token !== 'string' || data.token.replace(/^Bot\s+/i, '') !== this.options.botToken) {
      return this.closeWith(connection, GatewayCloseCode.AuthenticationFailed, 'Authentication failed.');
    }
    const session = typeof data.session_id === 'string' ? this.sessions.get(data.session_id) : undefined;
    const seq = typeof data.seq === 'number' ? data.seq : -1;
    const firstBuffered = session?.buffer[0]?.s ?? (session ? session.seq + 1 : 0);
    const expired =
      !session ||
      session.invalidated ||
      (session.disconnectedAt !== null && session.connection === null && Date.now() - session.disconnectedAt > this.options.resumeWindowMs);
    if (expired || !session || seq < 0 || seq > session.seq || seq + 1 < firstBuffered) {
      connection.info.kind = 'resume';
      connection.info.resumedFromSeq = seq;
      this.emit('resumeRejected', { connectionId: connection.info.id, sessionId: data.session_id, seq });
      connection.send({ op: GatewayOp.InvalidSession, d: false, s: null, t: null }, Infinity);
      return;
    }
    const previous = session.connection;
    if (previous && previous !== connection) {
      previous.session = null;
      this.closeWith(previous, GatewayCloseCode.UnknownError, 'Session resumed elsewhere.');
    }
    session.connection = connection;
    session.disconnectedAt = null;
    session.resumes++;
    session.connectionIds.push(connection.info.id);
    connection.session = session;
    connection.info.kind = 'resume';
    connection.info.sessionId = session.id;
    connection.info.resumedFromSeq = seq;
    const missed = session.buffer.filter((p) => (p.s ?? 0) > seq);
    for (const payload of missed) connection.send(payload, this.options.payloadCompressionThreshold);
    connection.info.replayed = missed.length;
    this.sendDispatch(session, 'RESUMED', {});
    connection.info.resumedAt = Date.now();
    connection.info.resumeOrdinal = ++this.completedResumes;
    this.emit('resume', { ...this.sessionInfo(session), resumedFromSeq: seq, replayed: missed.length });
  }

  private requestGuildMembers(session: GatewaySession, d: unknown): void {
    const data = (typeof d === 'object' && d !== null ? d : {}) as Record<string, unknown>;
    const guildIds = Array.isArray(data.guild_id) ? data.guild_id : [data.guild_id];
    for (const guildId of guildIds) {
      if (typeof guildId !== 'string') continue;
      const members = this.hooks.guildMembers(guildId, {
        ...(typeof data.query === 'string' ? { query: data.query } : {}),
        ...(typeof data.limit === 'number' ? { limit: data.limit } : {}),
        ...(Array.isArray(data.user_ids)
          ? { userIds: data.user_ids.map(String) }
          : typeof data.user_ids === 'string'
            ? { userIds: [data.user_ids] }
            : {}),
      });
      if (!members) continue;
      this.sendDispatch(session, 'GUILD_MEMBERS_CHUNK', {
        guild_id: guildId,
        members,
        chunk_index: 0,
        chunk_count: 1,
        not_found: [],
        ...(data.nonce !== undefined ? { nonce: data.nonce } : {}),
      });
    }
  }

  /** The URL READY gives as `resume_gateway_url`. Set by the server once it listens. */
  resumeGatewayUrl = '';

  private shardOf(guildId: string, shardCount: number): number {
    return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
  }

  private sendDispatch(session: GatewaySession, t: string, d: unknown): void {
    session.seq++;
    const payload: GatewayPayload = { op: GatewayOp.Dispatch, d, s: session.seq, t };
    session.buffer.push(payload);
    if (session.buffer.length > this.options.replayBufferSize) session.buffer.shift();
    if (session.connection?.open) session.connection.send(payload, this.options.payloadCompressionThreshold);
    this.emit('dispatch', { sessionId: session.id, t, s: session.seq, d, delivered: Boolean(session.connection?.open) });
  }

  /**
   * Dispatches an event to every live session that should get it (intents, shard). Sessions whose socket
   * is down keep it in their buffer and get it replayed when they RESUME.
   */
  dispatch(t: string, d: unknown, routing: DispatchRouting = {}): number {
    let count = 0;
    for (const session of this.sessions.values()) {
      if (session.invalidated) continue;
      if (
        session.connection === null &&
        session.disconnectedAt !== null &&
        Date.now() - session.disconnectedAt > this.options.resumeWindowMs
      )
        continue;
      if (routing.intents && (session.intents & routing.intents) === 0) continue;
      if (routing.guildId && this.shardOf(routing.guildId, session.shard[1]) !== session.shard[0]) continue;
      if (!routing.guildId && session.shard[0] !== 0) continue;
      this.sendDispatch(session, t, routing.transform ? routing.transform(d, session) : d);
      count++;
    }
    return count;
  }

  /** True when some session could still receive dispatches (connected or resumable). */
  hasLiveSession(): boolean {
    for (const session of this.sessions.values()) {
      if (!session.invalidated) return true;
    }
    return false;
  }

  /** Drops the sockets of the given session (default: every connected one). */
  drop(mode: DropMode = 'abnormal', sessionId?: string): number {
    let dropped = 0;
    for (const connection of [...this.connections.values()]) {
      if (sessionId !== undefined && connection.session?.id !== sessionId) continue;
      if (!connection.open) continue;
      connection.info.closedBy = 'server';
      if (mode === 'abnormal') connection.ws.terminate();
      else connection.ws.close(mode, 'Dropped by the test');
      dropped++;
    }
    return dropped;
  }

  /** Sends op 7 RECONNECT to the connected sessions: the client should reconnect and RESUME. */
  requestReconnect(sessionId?: string): void {
    for (const connection of this.connections.values()) {
      if (!connection.session || (sessionId !== undefined && connection.session.id !== sessionId)) continue;
      connection.send({ op: GatewayOp.Reconnect, d: null, s: null, t: null }, Infinity);
    }
  }

  /** Sends op 9 INVALID_SESSION; with `resumable: false` the session is also forgotten (the client must IDENTIFY). */
  invalidateSession(resumable = false, sessionId?: string): void {
    for (const session of this.sessions.values()) {
      if (sessionId !== undefined && session.id !== sessionId) continue;
      if (!resumable) session.invalidated = true;
      const connection = session.connection;
      if (!connection) continue;
      if (resumable) {
        // The client answers a resumable INVALID_SESSION with RESUME on the same socket.
        connection.session = null;
        session.connection = null;
        session.disconnectedAt = Date.now();
      }
      connection.send({ op: GatewayOp.InvalidSession, d: resumable, s: null, t: null }, Infinity);
    }
  }

  /** Sends op 1: Discord asking for an immediate heartbeat. */
  requestHeartbeat(): void {
    for (const connection of this.connections.values()) connection.send({ op: GatewayOp.Heartbeat, d: null, s: null, t: null }, Infinity);
  }

  /** Makes every disconnected session unresumable, as if the resume window had passed. */
  expireDisconnectedSessions(): void {
    for (const session of this.sessions.values()) if (!session.connection) session.invalidated = true;
  }

  private sessionInfo(session: GatewaySession): GatewaySessionInfo {
    return {
      sessionId: session.id,
      intents: session.intents,
      shard: session.shard,
      seq: session.seq,
      identifiedAt: session.identifiedAt,
      connected: Boolean(session.connection?.open),
      invalidated: session.invalidated,
      resumes: session.resumes,
      connections: session.connectionIds
        .map((id) => this.allConnections.find((c) => c.id === id))
        .filter((c): c is GatewayConnectionInfo => c !== undefined),
      identify: session.identify,
    };
  }

  /** Every session ever identified, oldest first. */
  sessionInfos(): GatewaySessionInfo[] {
    return [...this.sessions.values()].map((s) => this.sessionInfo(s));
  }

  /** Every socket ever opened, oldest first. */
  connectionInfos(): GatewayConnectionInfo[] {
    return [...this.allConnections];
  }

  /** Terminates every socket and refuses new ones. */
  close(): void {
    this.closed = true;
    for (const connection of this.connections.values()) {
      connection.info.closedBy ??= 'server';
      connection.ws.terminate();
      connection.dispose();
    }
    this.wss.close();
  }
}
