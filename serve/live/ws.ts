// `WS /live`: the WebSocket side of live deltas (the `ws` package in noServer mode). One session per connection:
// subscribe (query string or frame) → hello, replay with `since` → caught-up, then live deltas written as frames
// made once per delta and shared by every client. Heartbeats (ping; terminated without pong), back-pressure (a
// client whose unsent bytes would pass the limit is closed with 4008), maxPayload (1009), malformed frames answered
// with an error frame, presence looks.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Db } from '../../core/db/adapter.js';
import { errorMessage } from '../../core/errors.js';
import { headPosition } from '../../core/eventstore.js';
import type { Metrics } from '../metrics.js';
import { Subscriber, type DeltaBatch, type LiveHub, type Transport } from './hub.js';
import { idleFd } from './direct.js';
import type { Presence } from './presence.js';
import { ProtocolError, parseClientFrame, parseSubscriptionQuery, type Subscription } from './protocol.js';
import type { EncodedDelta } from './translate.js';

export interface SocketOptions {
  path: string;
  /** Largest client frame; larger closes the connection with 1009. */
  maxPayload: number;
  /** Unsent bytes a client may have queued before it is closed with 4008. */
  maxBufferedBytes: number;
  /** Ping interval; a client that has not answered the previous ping is terminated. */
  heartbeatMs: number;
  /** After the 4008 close frame, how long a too-slow client has to read it before the socket is destroyed. */
  slowCloseGraceMs: number;
  /** Nodes one connection may look at at once. */
  maxLooks: number;
}

export const DEFAULT_SOCKET_OPTIONS: SocketOptions = {
  path: '/live',
  maxPayload: 16 * 1024,
  maxBufferedBytes: 4 * 1024 * 1024,
  heartbeatMs: 30_000,
  slowCloseGraceMs: 5_000,
  maxLooks: 64,
};

export const CLOSE_TOO_SLOW = 4008;
export const CLOSE_GOING_AWAY = 1001;

/**
 * A text message as one complete WebSocket frame (RFC 6455 §5.2: FIN + text opcode, unmasked as servers send),
 * made once and written as it is to every client's socket.
 */
export function textFrame(payload: string | Buffer): Buffer {
  const n = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
  const headerLength = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + n);
  frame[0] = 0x81;
  if (n < 126) frame[1] = n;
  else if (n < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
    frame.writeUInt32BE(n >>> 0, 6);
  }
  if (typeof payload === 'string') frame.write(payload, headerLength, 'utf8');
  else payload.copy(frame, headerLength);
  return frame;
}

export function deltaFrame(d: EncodedDelta): Buffer {
  d.frame ??= textFrame(d.text);
  return d.frame;
}

const jsonFrame = (value: unknown) => textFrame(JSON.stringify(value));

let nextSessionId = 0;

class Session implements Transport {
  readonly id = (++nextSessionId).toString(36);
  sub: Subscriber | undefined;
  /** hello has been sent for the current subscription (nothing else of it goes out before) */
  greeted = false;
  readonly looks = new Set<string>();
  alive = true;
  private slow = false;
  private drainWaiters: (() => void)[] = [];

  readonly pacing: number;

  constructor(
    private readonly server: LiveSockets,
    readonly ws: WebSocket,
    private readonly socket: Duplex,
  ) {
    this.pacing = server.options.maxBufferedBytes / 4;
    socket.on('drain', () => this.wakeDrain());
  }

  isOpen(): boolean {
    return !this.slow && this.ws.readyState === WebSocket.OPEN;
  }

  buffered(): number {
    return this.socket.writableLength;
  }

  /** Writes a ready frame unless the client is gone or too slow (then it is closed with 4008). */
  write(frame: Buffer): boolean {
    if (!this.isOpen()) return false;
    const queued = this.socket.writableLength;
    // (a frame larger than the limit still goes to a client that has read everything so far)
    if (queued > 0 && queued + frame.length > this.server.options.maxBufferedBytes) {
      this.tooSlow();
      return false;
    }
    this.socket.write(frame);
    return true;
  }

  sendDelta(d: EncodedDelta): boolean {
    return this.write(deltaFrame(d));
  }

  sendBatch(batch: DeltaBatch): boolean {
    return this.write(this.batchBytes(batch));
  }

  batchBytes(batch: DeltaBatch): Buffer {
    let bytes = batch.bytes.get('ws');
    if (!bytes) {
      const frames = batch.deltas.map(deltaFrame);
      batch.bytes.set('ws', (bytes = frames.length === 1 ? frames[0]! : Buffer.concat(frames)));
    }
    return bytes;
  }

  idleFd(): number {
    return this.isOpen() ? idleFd(this.socket) : -1;
  }

  writeRest(bytes: Buffer, sent: number): boolean {
    return this.write(sent > 0 ? bytes.subarray(sent) : bytes);
  }

  sendJson(value: unknown): boolean {
    return this.write(jsonFrame(value));
  }

  caughtUp(position: number): void {
    this.sendJson({ type: 'caught-up', position });
  }

  error(code: string, message: string): void {
    this.sendJson({ type: 'error', code, message });
  }

  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  drained(): Promise<void> {
    if (!this.isOpen() || this.socket.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  wakeDrain(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private tooSlow(): void {
    if (this.slow) return;
    this.slow = true;
    this.server.logger.info(
      { component: 'live', session: this.id, buffered: this.socket.writableLength },
      'closing a client that does not read its messages (4008)',
    );
    this.wakeDrain();
    this.ws.close(CLOSE_TOO_SLOW, 'too slow: messages were not read');
    const timer = setTimeout(() => this.ws.terminate(), this.server.options.slowCloseGraceMs);
    timer.unref();
  }
}

export class LiveSockets {
  readonly options: SocketOptions;
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<Session>();
  private heartbeat: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(
    private readonly enabled: boolean,
    private readonly db: Db,
    private readonly hub: LiveHub,
    private readonly presence: Presence,
    private readonly metrics: Metrics,
    readonly logger: Logger,
    options: Partial<SocketOptions> = {},
  ) {
    this.options = { ...DEFAULT_SOCKET_OPTIONS, ...options };
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.options.maxPayload,
      perMessageDeflate: false,
      clientTracking: false,
      // invalid UTF-8 becomes a bad_frame error frame instead of a closed connection
      skipUTF8Validation: true,
    });
  }

  start(): void {
    this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  get connections(): number {
    return this.sessions.size;
  }

  /** The server's upgrade hook: takes `/live`, refuses it with 503 when WebSockets are switched off. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== this.options.path) return false;
    if (!this.enabled || this.closing) {
      refuse(
        socket,
        503,
        this.closing ? 'shutting_down' : 'websockets_off',
        this.closing
          ? 'the server is shutting down'
          : 'WebSockets are switched off on this server: use GET /api/deltas (long-poll or SSE)',
      );
      return true;
    }
    let sub: Subscription | undefined;
    try {
      sub = parseSubscriptionQuery(url.searchParams);
    } catch (err) {
      refuse(socket, 400, 'bad_request', errorMessage(err));
      return true;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, socket, sub));
    return true;
  }

  private connected(ws: WebSocket, socket: Duplex, initial: Subscription | undefined): void {
    const s = new Session(this, ws, socket);
    this.sessions.add(s);
    this.metrics.wsConnections.inc();
    ws.on('pong', () => this.alive(s));
    ws.on('message', (data, isBinary) => this.message(s, data, isBinary));
    ws.on('error', (err) => {
      // ws closes by itself (e.g. 1009 for a frame past maxPayload); nothing to answer
      this.logger.debug({ component: 'live', session: s.id }, `websocket error: ${errorMessage(err)}`);
    });
    ws.on('close', () => this.closed(s));
    if (initial) void this.subscribe(s, initial);
  }

  private alive(s: Session): void {
    s.alive = true;
    if (s.looks.size && s.sub)
      this.presence
        .refresh([...s.looks], this.presence.member(s.id))
        .catch((err: unknown) =>
          this.logger.debug({ component: 'live' }, `presence refresh failed: ${errorMessage(err)}`),
        );
  }

  private message(s: Session, data: RawData, isBinary: boolean): void {
    if (isBinary) {
      s.error('bad_frame', 'binary frames are not understood: send JSON text frames');
      return;
    }
    const text = Buffer.isBuffer(data)
      ? data.toString('utf8')
      : Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data).toString('utf8');
    let frame;
    try {
      frame = parseClientFrame(text);
    } catch (err) {
      if (err instanceof ProtocolError) s.error(err.code, err.message);
      else s.error('bad_frame', 'unreadable frame');
      return;
    }
    switch (frame.type) {
      case 'ping':
        this.alive(s);
        s.sendJson({ type: 'pong' });
        return;
      case 'subscribe':
        void this.subscribe(s, { region: frame.region, bbox: frame.bbox, since: frame.since });
        return;
      case 'look':
      case 'unlook':
        void this.look(s, frame.type, frame.nodeId);
        return;
    }
  }

  /** Replaces the session's subscription: hello, then catch-up (and `caught-up` with since), then live. */
  private async subscribe(s: Session, want: Subscription): Promise<void> {
    const old = s.sub;
    if (old) {
      this.hub.leave(old);
      await this.dropLooks(s, old.region);
    }
    const sub = new Subscriber(want.region, want.bbox, s);
    s.sub = sub;
    s.greeted = false;
    this.hub.join(sub);
    let head: number;
    try {
      head = await headPosition(this.db);
    } catch (err) {
      if (s.sub !== sub) return;
      this.logger.warn({ component: 'live' }, `cannot read the head position: ${errorMessage(err)}`);
      s.error('unavailable', 'the event store is unavailable; reconnect later');
      s.ws.close(1013, 'try again later');
      return;
    }
    if (s.sub !== sub || sub.closed) return;
    s.sendJson({ type: 'hello', region: want.region, position: head });
    s.greeted = true;
    sub.lastSent = want.since === undefined ? head : Math.min(want.since, head);
    this.hub.begin(sub, want.since !== undefined);
  }

  private async look(s: Session, kind: 'look' | 'unlook', nodeId: string): Promise<void> {
    const sub = s.sub;
    if (!sub) {
      s.error('bad_request', `subscribe to a region before sending ${kind}`);
      return;
    }
    const member = this.presence.member(s.id);
    try {
      if (kind === 'look') {
        if (s.looks.has(nodeId)) {
          await this.presence.refresh([nodeId], member);
          return;
        }
        if (s.looks.size >= this.options.maxLooks) {
          s.error('bad_request', `one connection may look at ${this.options.maxLooks} nodes at most`);
          return;
        }
        s.looks.add(nodeId);
        await this.presence.look(sub.region, nodeId, member);
      } else {
        if (!s.looks.delete(nodeId)) return;
        await this.presence.unlook(sub.region, nodeId, member);
      }
    } catch (err) {
      this.logger.debug({ component: 'live' }, `presence ${kind} failed: ${errorMessage(err)}`);
      s.error('unavailable', 'presence is unavailable right now');
    }
  }

  private async dropLooks(s: Session, region: string): Promise<void> {
    const member = this.presence.member(s.id);
    const looks = [...s.looks];
    s.looks.clear();
    for (const nodeId of looks) {
      await this.presence
        .unlook(region, nodeId, member)
        .catch((err: unknown) =>
          this.logger.debug({ component: 'live' }, `presence unlook failed: ${errorMessage(err)}`),
        );
    }
  }

  private closed(s: Session): void {
    if (!this.sessions.delete(s)) return;
    this.metrics.wsConnections.dec();
    s.wakeDrain();
    if (s.sub) {
      this.hub.leave(s.sub);
      void this.dropLooks(s, s.sub.region);
    }
  }

  /** Presence of a node changed: one frame, written to every subscriber of the region on this server. */
  broadcastPresence(region: string, nodeId: string, count: number): void {
    let frame: Buffer | undefined;
    for (const sub of this.hub.subscribersOf(region)) {
      const t = sub.transport;
      if (!(t instanceof Session) || !t.greeted) continue;
      frame ??= jsonFrame({ type: 'presence', region, nodeId, count });
      t.write(frame);
    }
  }

  private beat(): void {
    for (const s of this.sessions) {
      if (!s.alive) {
        this.logger.debug({ component: 'live', session: s.id }, 'no pong: terminating');
        s.ws.terminate();
        continue;
      }
      s.alive = false;
      try {
        s.ws.ping();
      } catch {
        s.ws.terminate();
      }
    }
  }

  /** Closes every connection with 1001 (and destroys those that do not finish closing within a second). */
  async close(): Promise<void> {
    this.closing = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    const open = [...this.sessions];
    if (!open.length) return;
    const done = Promise.all(
      open.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.ws.readyState === WebSocket.CLOSED) return resolve();
            s.ws.once('close', () => resolve());
          }),
      ),
    );
    for (const s of open) s.ws.close(CLOSE_GOING_AWAY, 'server shutting down');
    const timer = setTimeout(() => {
      for (const s of open) s.ws.terminate();
    }, 1000);
    await done;
    clearTimeout(timer);
  }
}

/** Answers an upgrade request with an HTTP error in the API's JSON shape and closes the socket. */
function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  const reason = status === 503 ? 'Service Unavailable' : status === 400 ? 'Bad Request' : 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Cache-Control: no-store\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
