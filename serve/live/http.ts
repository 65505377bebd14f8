// The HTTP side of live deltas, always on (the only way when WebSockets are switched off):
// `GET /api/deltas?region=R&since=P[&bbox=…][&wait=S]` long-polls for `{"position","deltas":[…]}`, or with
// `Accept: text/event-stream` streams SSE events (`id: P`, `data: <delta>`, honouring Last-Event-ID); the deltas
// are the very texts the WebSocket clients get. `GET /api/config` tells a viewer which to use.
import type { Request, Response, Router } from 'express';
import type { Db } from '../../core/db/adapter.js';
import { headPosition } from '../../core/eventstore.js';
import { HttpError, sendJson } from '../http.js';
import type { Metrics } from '../metrics.js';
import { bboxWants } from './deltas.js';
import { Subscriber, type LiveHub, type Transport } from './hub.js';
import { ProtocolError, parsePositionParam, parseSubscriptionQuery, type Subscription } from './protocol.js';
import type { EncodedDelta } from './translate.js';

export interface HttpLiveOptions {
  /** Long-poll: default and largest wait in seconds. */
  defaultWaitSeconds: number;
  maxWaitSeconds: number;
  /** Deltas per long-poll answer (more: the client asks again at once). */
  maxDeltas: number;
  /** SSE: a comment line this often keeps proxies from closing the stream. */
  sseKeepAliveMs: number;
  /** SSE: unsent bytes past this end the stream (the client reconnects with Last-Event-ID). */
  maxBufferedBytes: number;
}

export const DEFAULT_HTTP_OPTIONS: HttpLiveOptions = {
  defaultWaitSeconds: 25,
  maxWaitSeconds: 55,
  maxDeltas: 500,
  sseKeepAliveMs: 25_000,
  maxBufferedBytes: 4 * 1024 * 1024,
};

function badRequest(err: unknown): never {
  if (err instanceof ProtocolError) throw new HttpError(400, 'bad_request', err.message);
  throw err;
}

function subscriptionOf(req: Request): Subscription & { wait?: number } {
  const query = new URL(req.originalUrl, 'http://x').searchParams;
  let sub: Subscription | undefined;
  try {
    sub = parseSubscriptionQuery(query);
  } catch (err) {
    badRequest(err);
  }
  if (!sub) throw new HttpError(400, 'bad_request', 'region is required (e.g. ?region=monaco&since=0)');
  const wait = query.get('wait');
  if (wait !== null) {
    if (!/^\d{1,3}$/.test(wait)) throw new HttpError(400, 'bad_request', 'wait must be whole seconds');
    return { ...sub, wait: Number(wait) };
  }
  return sub;
}

/** An SSE response as a hub transport. */
class SseStream implements Transport {
  private slow = false;
  readonly pacing: number;

  constructor(
    private readonly res: Response,
    private readonly maxBuffered: number,
  ) {
    this.pacing = maxBuffered / 4;
  }

  isOpen(): boolean {
    return !this.slow && !this.res.writableEnded && !this.res.destroyed;
  }

  sendDelta(d: EncodedDelta): boolean {
    if (!this.isOpen()) return false;
    d.sse ??= Buffer.from(`id: ${d.position}\ndata: ${d.text}\n\n`, 'utf8');
    const queued = this.res.writableLength;
    if (queued > 0 && queued + d.sse.length > this.maxBuffered) {
      // too slow: end the stream; the client's EventSource reconnects with Last-Event-ID
      this.slow = true;
      this.res.destroy();
      return false;
    }
    this.res.write(d.sse);
    return true;
  }

  comment(text: string): void {
    if (this.isOpen()) this.res.write(`: ${text}\n\n`);
  }

  buffered(): number {
    return this.res.writableLength;
  }

  drained(): Promise<void> {
    if (!this.isOpen() || this.res.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }
}

export class LiveHttp {
  private readonly options: HttpLiveOptions;
  private readonly streams = new Set<Response>();

  constructor(
    private readonly websockets: boolean,
    private readonly db: Db,
    private readonly hub: LiveHub,
    private readonly metrics: Metrics,
    options: Partial<HttpLiveOptions> = {},
  ) {
    this.options = { ...DEFAULT_HTTP_OPTIONS, ...options };
  }

  routes(router: Router): void {
    router.get('/api/config', (_req, res) => {
      sendJson(res, 200, { websockets: this.websockets });
    });
    router.get('/api/deltas', async (req, res, next) => {
      try {
        const sub = subscriptionOf(req);
        if ((req.headers.accept ?? '').includes('text/event-stream')) await this.sse(req, res, sub);
        else await this.longPoll(res, sub);
      } catch (err) {
        next(err);
      }
    });
  }

  private async longPoll(res: Response, sub: Subscription & { wait?: number }): Promise<void> {
    const waitS = Math.min(sub.wait ?? this.options.defaultWaitSeconds, this.options.maxWaitSeconds);
    if (sub.since === undefined) {
      // no position yet: where to start from
      sendJson(res, 200, { position: await headPosition(this.db), deltas: [] });
      return;
    }
    const deadline = Date.now() + waitS * 1000;
    const waiter = this.hub.addWaiter(sub.region, sub.bbox);
    let gone = false;
    res.on('close', () => {
      gone = true;
      waiter.notify();
    });
    try {
      let cursor = sub.since;
      const out: EncodedDelta[] = [];
      for (;;) {
        waiter.dirty = false;
        const page = await this.hub.page(sub.region, cursor, waiter.epoch);
        for (const d of page.deltas) if (bboxWants(sub.bbox, d.bbox)) out.push(d);
        cursor = page.scanned;
        if (gone) return;
        if (page.more && out.length < this.options.maxDeltas) continue;
        if (out.length || this.hub.isClosed) break;
        const left = deadline - Date.now();
        if (left <= 0) break;
        await waiter.wait(left);
        if (gone) return;
      }
      const body = `{"position":${cursor},"deltas":[${out.map((d) => d.text).join(',')}]}`;
      res.writeHead(200, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
        'Cache-Control': 'no-store',
      });
      res.end(body);
      this.metrics.deltasSent.inc(out.length);
    } finally {
      this.hub.removeWaiter(waiter);
    }
  }

  private async sse(req: Request, res: Response, sub: Subscription): Promise<void> {
    let since = sub.since;
    const last = req.headers['last-event-id'];
    if (typeof last === 'string' && last.trim() !== '') {
      try {
        since = parsePositionParam('Last-Event-ID', last.trim());
      } catch (err) {
        badRequest(err);
      }
    }
    const head = await headPosition(this.db);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: 2000\n: weft live deltas for ${sub.region} from ${since ?? head}\n\n`);
    const stream = new SseStream(res, this.options.maxBufferedBytes);
    const subscriber = new Subscriber(sub.region, sub.bbox, stream);
    subscriber.lastSent = since === undefined ? head : Math.min(since, head);
    this.hub.join(subscriber);
    this.hub.begin(subscriber, false);
    this.streams.add(res);
    const keepAlive = setInterval(() => stream.comment('keep-alive'), this.options.sseKeepAliveMs);
    keepAlive.unref();
    res.on('close', () => {
      clearInterval(keepAlive);
      this.streams.delete(res);
      this.hub.leave(subscriber);
    });
  }

  /** Ends every SSE stream (waiting long-polls are answered by the hub's close). */
  close(): void {
    for (const res of this.streams) res.end();
    this.streams.clear();
  }
}
