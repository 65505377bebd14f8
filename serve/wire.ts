// The raw HTTP/1.1 front of `weft serve`: it takes each new connection before node:http, parses request heads
// itself (serve/wire-parse.ts) and answers plain GET/HEAD requests for tiles and archive ranges with prebuilt
// response bytes — no IncomingMessage, ServerResponse or stream per request. A tile that must first be read from
// the store is answered when read, reading paused meanwhile, so answers stay in request order. At the first
// request it does not fully understand or cannot answer (errors, other routes, bodies, upgrades), it hands the
// connection to node:http for good: the bytes not yet consumed are unshifted and node's connection listener takes
// the socket, so node's parser, errors, Express, upgrades and timeouts behave exactly as without the front.
// Off with WEFT_WIRE=0. Kept whole responses are never changed once written: a new second makes new bytes.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';
import { targetPath } from './context.js';
import { networkOf, peerIp } from './net.js';
import {
  HAND_OVER,
  INCOMPLETE,
  parseHead,
  plausiblePrefix,
  type WireHeaders,
  type WireRequest,
} from './wire-parse.js';

export type { WireHeaders } from './wire-parse.js';

/** A complete answer: the head up to its last header line (the front adds Date, Connection, Keep-Alive). */
export interface WireAnswer {
  status: number;
  /** the route pattern (metrics and logs) */
  route: string;
  /** a Buffer when made once and kept; a string (latin1) when made for this request alone */
  head: Buffer | string;
  body: Buffer | undefined;
  /**
   * Whether this head Buffer always comes with this body: the front then keeps the whole keep-alive response
   * (head, Date and connection lines, body) in one buffer per head, made again with the new date each second.
   */
  stable: boolean;
}

/**
 * What a module offers the front (as the service WIRE_SERVICE): an answer from memory now, a promise of one (a
 * read from the store; undefined then hands the request over), or undefined (node:http answers it).
 */
export interface WireAnswerer {
  answer(
    method: 'GET' | 'HEAD',
    path: string,
    headers: WireHeaders,
  ): WireAnswer | Promise<WireAnswer | undefined> | undefined;
}

export const WIRE_SERVICE = 'wire';

/** What the server answers a malformed request with (its clientError handler), and the front a stalled head. */
export const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

export interface WireOptions {
  server: Server;
  answerer: WireAnswerer;
  metrics: Metrics;
  logger: Logger;
  trustProxy: boolean;
  /** how often idle and stalled connections are looked for (default 1 s) */
  sweepMs?: number;
}

export interface WireFront {
  /** connections the front holds now */
  readonly connections: number;
  /** requests the front answered, and connections it handed to node:http, since start */
  readonly answered: number;
  readonly handedOver: number;
  /** Ends the front's connections and stops its timer (the server is closing). */
  close(): void;
}

/** Bodies larger than this are written on their own instead of copied into one buffer with the head. */
const COPY_BODY_BYTES = 32 * 1024;

/** A whole keep-alive response kept per stable head; remade with the new Date when the second changes. */
interface Whole {
  bytes: Buffer;
  /** where the 29 characters of the date start */
  dateAt: number;
  second: number;
}

const ignore = (): void => {};

/** The tail of every head (Date, Connection, Keep-Alive, blank line), rebuilt each second. */
class Tails {
  second = -1;
  keepAlive = Buffer.alloc(0);
  close = Buffer.alloc(0);
  /** the date alone (29 characters, as toUTCString writes it) */
  date = Buffer.alloc(0);
  constructor(private readonly keepAliveTimeout: string) {}
  at(now: number): this {
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      this.second = second;
      const utc = new Date(now).toUTCString();
      this.date = Buffer.from(utc, 'latin1');
      const date = `Date: ${utc}\r\n`;
      this.keepAlive = Buffer.from(
        `${date}Connection: keep-alive\r\nKeep-Alive: timeout=${this.keepAliveTimeout}\r\n\r\n`,
        'latin1',
      );
      this.close = Buffer.from(`${date}Connection: close\r\n\r\n`, 'latin1');
    }
    return this;
  }
}

/**
 * Puts the front before `server`'s connection listener: the listeners node:http registered are taken off the
 * 'connection' event and called for each connection the front hands over.
 */
export function installWire(options: WireOptions): WireFront {
  const { server, answerer, metrics, logger, trustProxy } = options;
  const nodeListeners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  const tails = new Tails(String(Math.floor(server.keepAliveTimeout / 1000)));
  const live = new Set<Connection>();
  const wholes = new WeakMap<Buffer, Whole>();
  let answered = 0;
  let handedOver = 0;

  /** The whole keep-alive response of a stable answer, its date brought up to this second. */
  const wholeOf = (a: WireAnswer & { head: Buffer }, t: Tails): Buffer => {
    let w = wholes.get(a.head);
    if (w === undefined) {
      const parts = [a.head, t.keepAlive];
      if (a.body !== undefined) parts.push(a.body);
      w = { bytes: Buffer.concat(parts), dateAt: a.head.length + 'Date: '.length, second: t.second };
      wholes.set(a.head, w);
    } else if (w.second !== t.second) {
      // a new buffer, not the old one changed in place: earlier writes of it may still be queued on sockets
      const bytes = Buffer.allocUnsafe(w.bytes.length);
      w.bytes.copy(bytes);
      t.date.copy(bytes, w.dateAt);
      w.bytes = bytes;
      w.second = t.second;
    }
    return w.bytes;
  };

  const handOver = (socket: Socket): void => {
    handedOver++;
    for (const l of nodeListeners) l.call(server, socket);
  };

  class Connection {
    /** bytes received and not consumed (the start of an incomplete head) */
    private pending: Buffer | undefined;
    /** when the pending head began (ms), 0 when none is pending */
    headSince = 0;
    lastActive = Date.now();
    private paused = false;
    /** an answer is being made (a read from the store): reading is paused, `pending` starts with its request */
    waiting = false;

    constructor(readonly socket: Socket) {
      socket.on('data', this.onData);
      socket.on('error', this.onError);
      socket.on('end', this.onEnd);
      socket.on('close', this.onClose);
      live.add(this);
    }

    private readonly onError = (): void => {
      this.socket.destroy();
    };

    private readonly onClose = (): void => {
      live.delete(this);
    };

    private readonly onEnd = (): void => {
      // the client sent all it will: an unfinished head is what node:http calls a bad request
      const s = this.socket;
      if (this.waiting) return; // the answer being made is written first; the idle sweep closes it after
      this.detach();
      if (!s.writable) return;
      if (this.pending !== undefined) s.end(BAD_REQUEST);
      else s.end();
    };

    private readonly onDrain = (): void => {
      this.paused = false;
      if (!this.waiting) this.socket.resume();
    };

    /** Stops handling the socket: for node:http (which adds its own error handler), or to close it. */
    private detach(forNode = false): void {
      const s = this.socket;
      s.removeListener('data', this.onData);
      s.removeListener('error', this.onError);
      s.removeListener('end', this.onEnd);
      s.removeListener('close', this.onClose);
      s.removeListener('drain', this.onDrain);
      // a socket being closed may still fail (a reset while the last bytes go out): never an unhandled error
      if (!forNode) s.on('error', ignore);
      live.delete(this);
    }

    /** Gives the connection to node:http with the bytes from `rest` on. */
    private handOver(rest: Buffer | undefined): void {
      const s = this.socket;
      this.detach(true);
      s.resume();
      if (rest !== undefined && rest.length > 0) s.unshift(rest);
      handOver(s);
    }

    /** Closes a connection whose head did not complete in time, as node:http does (through clientError). */
    expire(): void {
      const s = this.socket;
      this.detach();
      if (s.writable) s.end(BAD_REQUEST);
      else s.destroy();
    }

    idle(): void {
      this.detach();
      this.socket.destroy();
    }

    private readonly onData = (chunk: Buffer): void => {
      const now = Date.now();
      this.lastActive = now;
      const before = this.pending;
      if (this.waiting) {
        this.pending = before === undefined ? chunk : Buffer.concat([before, chunk]);
        return;
      }
      if (before === undefined) this.process(chunk, 0, now);
      else this.process(Buffer.concat([before, chunk]), Math.max(0, before.length - 1), now);
    };

    /** Adds one answer to `out` (the whole response, or its head, tail and body); counts and logs it. */
    private emit(
      out: Buffer[],
      a: WireAnswer,
      r: WireRequest,
      path: string,
      startNs: bigint,
      t: Tails,
    ): number {
      let bytes: number;
      if (a.stable && !r.close && typeof a.head !== 'string') {
        const whole = wholeOf(a as WireAnswer & { head: Buffer }, t);
        out.push(whole);
        bytes = whole.length;
      } else {
        // one buffer for head, tail and a small body; a large body is written as it is
        const tail = r.close ? t.close : t.keepAlive;
        const head = a.head;
        const small = a.body !== undefined && a.body.length <= COPY_BODY_BYTES ? a.body : undefined;
        const b = Buffer.allocUnsafe(head.length + tail.length + (small?.length ?? 0));
        let at = typeof head === 'string' ? b.write(head, 0, 'latin1') : head.copy(b, 0);
        at += tail.copy(b, at);
        if (small !== undefined) small.copy(b, at);
        out.push(b);
        bytes = b.length;
        if (a.body !== undefined && small === undefined) {
          out.push(a.body);
          bytes += a.body.length;
        }
      }
      answered++;
      metrics.observe(a.route, r.method, a.status, startNs);
      if (logger.isLevelEnabled('debug'))
        logger.debug(
          {
            method: r.method,
            route: a.route,
            path,
            status: a.status,
            ms: Number(process.hrtime.bigint() - startNs) / 1e6,
            net: networkOf(peerIp(this.socket.remoteAddress, r.headers.forwardedFor, trustProxy)),
          },
          'request',
        );
      return bytes;
    }

    /** Writes the answers of one pass in one write (or corked, with large bodies); false when it must drain. */
    private write(out: Buffer[], bytes: number): boolean {
      const socket = this.socket;
      if (out.length === 1) return socket.write(out[0]!);
      if (bytes <= COPY_BODY_BYTES) return socket.write(Buffer.concat(out));
      let writable = true;
      socket.cork();
      for (const b of out) writable = socket.write(b);
      socket.uncork();
      return writable;
    }

    /**
     * Answers every complete request in `buf` (bytes before `scanFrom` were checked already) until one must be
     * handed over, is answered later (a tile read from the store: reading stops until it is written), or says
     * Connection: close; keeps an incomplete head for the next bytes.
     */
    private process(buf: Buffer, scanFrom: number, now: number): void {
      const socket = this.socket;
      const t = tails.at(now);
      let out: Buffer[] | undefined;
      let outBytes = 0;
      let pos = 0;
      let handOverAt = -1;
      let close = false;
      while (pos < buf.length) {
        const startNs = process.hrtime.bigint();
        const r = parseHead(buf, pos, buf.length);
        if (r === INCOMPLETE) {
          if (!plausiblePrefix(buf, pos, Math.max(pos, scanFrom), buf.length)) handOverAt = pos;
          break;
        }
        if (r === HAND_OVER) {
          handOverAt = pos;
          break;
        }
        const path = targetPath(r.target);
        let a: ReturnType<WireAnswerer['answer']>;
        try {
          a = answerer.answer(r.method, path, r.headers);
        } catch (err) {
          // node:http's path answers this request (and reports what went wrong there, in the API's error shape)
          logger.debug({ component: 'wire', path }, `handing a request over: ${String(err)}`);
          a = undefined;
        }
        if (a === undefined) {
          handOverAt = pos;
          break;
        }
        if (a instanceof Promise) {
          // answered later: what came before goes out now, the rest waits (in order) with reading paused
          if (out !== undefined) this.write(out, outBytes);
          this.pending = buf.subarray(pos);
          this.headSince = 0;
          this.waiting = true;
          socket.pause();
          a.then(
            (later) => this.answerLater(later, r, path, startNs, r.next - pos),
            () => this.answerLater(undefined, r, path, startNs, r.next - pos),
          );
          return;
        }
        out ??= [];
        outBytes += this.emit(out, a, r, path, startNs, t);
        pos = r.next;
        if (r.close) {
          close = true;
          break;
        }
      }
      const writable = out === undefined ? true : this.write(out, outBytes);
      if (handOverAt >= 0) {
        this.pending = undefined;
        this.handOver(buf.subarray(handOverAt));
        return;
      }
      if (close) {
        this.detach();
        socket.end();
        return;
      }
      if (pos < buf.length) {
        if (this.pending === undefined || pos > 0) this.headSince = now;
        this.pending = buf.subarray(pos);
      } else {
        this.pending = undefined;
        this.headSince = 0;
      }
      if (!writable && !this.paused) {
        // the client does not read its answers: stop reading its requests until it does
        this.paused = true;
        socket.pause();
        socket.once('drain', this.onDrain);
      }
    }

    /** Writes an answer that came later (or hands over when there is none), then goes on with what waited. */
    private answerLater(
      a: WireAnswer | undefined,
      r: WireRequest,
      path: string,
      startNs: bigint,
      length: number,
    ): void {
      const socket = this.socket;
      this.waiting = false;
      const rest = this.pending!;
      this.pending = undefined;
      if (!live.has(this) || socket.destroyed) return;
      if (a === undefined) {
        this.handOver(rest);
        return;
      }
      const out: Buffer[] = [];
      const bytes = this.emit(out, a, r, path, startNs, tails.at(Date.now()));
      const writable = this.write(out, bytes);
      if (r.close) {
        this.detach();
        socket.end();
        return;
      }
      if (!writable) {
        this.paused = true;
        socket.once('drain', this.onDrain);
      } else socket.resume();
      this.lastActive = Date.now();
      if (rest.length > length) this.process(rest.subarray(length), 0, this.lastActive);
    }
  }

  server.on('connection', (socket: Socket) => {
    new Connection(socket);
  });

  const sweep = setInterval(() => {
    const now = Date.now();
    // node:http's own limits, read each time (they may be changed on the server after it started)
    const keepAliveMs = server.keepAliveTimeout;
    const headersMs = server.headersTimeout;
    for (const c of live) {
      if (c.waiting) continue;
      if (c.headSince !== 0) {
        if (now - c.headSince > headersMs) c.expire();
      } else if (now - c.lastActive > keepAliveMs) c.idle();
    }
  }, options.sweepMs ?? 1000);
  sweep.unref();

  return {
    get connections() {
      return live.size;
    },
    get answered() {
      return answered;
    },
    get handedOver() {
      return handedOver;
    },
    close() {
      clearInterval(sweep);
      for (const c of [...live]) c.idle();
    },
  };
}
