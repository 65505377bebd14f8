// A small Node client of the live protocol (`ws`), for tests, the benchmark and scripts: connects to /live, keeps
// every message (parsed, and the exact text), and waits for messages by predicate.
import { WebSocket, type ClientOptions } from 'ws';
import type { DeltaMessage } from './deltas.js';

export type ServerMessage =
  | { type: 'hello'; region: string; position: number }
  | DeltaMessage
  | { type: 'caught-up'; position: number }
  | { type: 'presence'; region: string; nodeId: string; count: number }
  | { type: 'error'; code: string; message: string }
  | { type: 'pong' };

export interface Received {
  message: ServerMessage;
  text: string;
  /** Date.now() at arrival */
  at: number;
}

export class LiveClient {
  readonly received: Received[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: { test: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = (data as Buffer).toString('utf8');
      const r: Received = { message: JSON.parse(text) as ServerMessage, text, at: Date.now() };
      this.received.push(r);
      this.waiters = this.waiters.filter((w) => (w.test(r) ? (w.resolve(r), false) : true));
    });
    ws.on('error', () => {});
  }

  /** Opens `<base>/live?…` (base: http(s)://host:port) and resolves once open. */
  static connect(
    base: string,
    query: Record<string, string | number | undefined> = {},
    options: ClientOptions = {},
  ): Promise<LiveClient> {
    const url = new URL('/live', base.replace(/^http/, 'ws'));
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    const ws = new WebSocket(url, options);
    const client = new LiveClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) =>
        reject(
          Object.assign(new Error(`upgrade refused: HTTP ${res.statusCode}`), { status: res.statusCode }),
        ),
      );
      ws.once('error', reject);
    });
  }

  get messages(): ServerMessage[] {
    return this.received.map((r) => r.message);
  }

  deltas(): DeltaMessage[] {
    return this.messages.filter((m): m is DeltaMessage => m.type === 'delta');
  }

  /** The first message (already received from index `from` on, or coming) that passes `test`. */
  waitFor(test: (m: ServerMessage) => boolean, timeoutMs = 5000, from = 0): Promise<Received> {
    const have = this.received.slice(from).find((r) => test(r.message));
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const waiter = {
        test: (r: Received) => test(r.message),
        resolve: (r: Received) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `no matching message in ${timeoutMs} ms; got ${this.received.length}: ` +
              this.received
                .slice(-5)
                .map((r) => r.text.slice(0, 120))
                .join(' | '),
          ),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Waits for the delta of `position`. */
  delta(position: number, timeoutMs = 5000): Promise<Received> {
    return this.waitFor((m) => m.type === 'delta' && m.position === position, timeoutMs);
  }

  send(value: unknown): void {
    this.ws.send(typeof value === 'string' || Buffer.isBuffer(value) ? value : JSON.stringify(value));
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.closed;
  }
}
