// The live-delta client of the protocol in serve/live: a WebSocket to /live that resumes with `since` after a drop
// (exponential backoff with jitter), and the HTTP long-poll fallback (/api/deltas) when the server says WebSockets
// are off or the socket keeps failing before it says hello. Deltas are handed on in position order, never twice.
// No DOM: the socket and fetch are injected, so the logic runs under test without a browser.

export interface GeoJsonDiff {
  add?: unknown[];
  update?: unknown[];
  remove?: (string | number)[];
}

export interface Delta {
  type: 'delta';
  region: string;
  position: number;
  event: string;
  at: string;
  diffs: { nodes?: GeoJsonDiff; threads?: GeoJsonDiff };
}

export interface Presence {
  type: 'presence';
  region: string;
  nodeId: string;
  count: number;
}

/** What the client needs of a WebSocket (the browser's fits). */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(text: string): void;
  close(code?: number): void;
}

export type Transport = 'ws' | 'http' | 'none';

export interface LiveOptions {
  /** the server's origin, e.g. https://maps.example.org */
  origin: string;
  region: string;
  /** the position the map already shows (the release's event position); undefined: from now on */
  since?: number;
  websockets: boolean;
  bbox?: [number, number, number, number];
  onDelta(delta: Delta): void;
  onPresence?(p: Presence): void;
  onStatus?(s: { transport: Transport; connected: boolean; position?: number }): void;
  createSocket?(url: string): SocketLike;
  fetch?: typeof fetch;
  /** backoff: first delay and cap, ms (defaults 500 and 30 000) */
  backoff?: { first: number; max: number };
  /** failures before hello after which the client gives up on WebSockets (default 3) */
  wsFailuresBeforeFallback?: number;
  /** long-poll wait in seconds (default 25) */
  pollWait?: number;
  random?: () => number;
  setTimeout?: (f: () => void, ms: number) => unknown;
  clearTimeout?: (t: unknown) => void;
}

/** The delay before reconnect attempt `attempt` (0-based): first·2^attempt capped at max, with 50–100 % jitter. */
export function backoffDelay(attempt: number, first: number, max: number, random: () => number): number {
  const base = Math.min(max, first * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.5 + 0.5 * random()));
}

/** `ws(s)://host/live?region=R[&since=P][&bbox=…]` for an http(s) origin. */
export function liveUrl(origin: string, region: string, since?: number, bbox?: number[]): string {
  const u = new URL('/live', origin);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.searchParams.set('region', region);
  if (since !== undefined) u.searchParams.set('since', String(since));
  if (bbox) u.searchParams.set('bbox', bbox.join(','));
  return u.toString();
}

export class LiveClient {
  private position: number | undefined;
  private socket: SocketLike | undefined;
  private transport: Transport = 'none';
  private connected = false;
  private stopped = false;
  private attempt = 0;
  private wsFailures = 0;
  private timer: unknown;
  private pollAbort: AbortController | undefined;
  private readonly looking = new Set<string>();
  private pingTimer: unknown;
  /** deltas handed on */
  applied = 0;

  constructor(private readonly o: LiveOptions) {
    this.position = o.since;
  }

  get state(): { transport: Transport; connected: boolean; position?: number } {
    return { transport: this.transport, connected: this.connected, position: this.position };
  }

  start(): void {
    this.stopped = false;
    if (this.o.websockets && (this.o.createSocket || typeof WebSocket !== 'undefined')) this.connectWs();
    else this.startPolling();
  }

  stop(): void {
    this.stopped = true;
    this.clear();
    this.pollAbort?.abort();
    this.socket?.close(1000);
    this.socket = undefined;
    this.setStatus('none', false);
  }

  /** Connects again now (e.g. the browser says it is online again), keeping the position. */
  reconnectNow(): void {
    if (this.stopped || this.connected) return;
    this.clear();
    this.attempt = 0;
    if (this.transport === 'http') this.startPolling();
    else this.connectWs();
  }

  /** Tells the server the user looks at a node (presence); remembered across reconnects. */
  look(nodeId: string): void {
    this.looking.add(nodeId);
    this.send({ type: 'look', nodeId });
  }

  unlook(nodeId: string): void {
    this.looking.delete(nodeId);
    this.send({ type: 'unlook', nodeId });
  }

  private send(msg: unknown): void {
    if (this.socket && this.socket.readyState === 1) this.socket.send(JSON.stringify(msg));
  }

  private clear(): void {
    const clear = this.o.clearTimeout ?? ((t: unknown) => clearTimeout(t as ReturnType<typeof setTimeout>));
    if (this.timer !== undefined) clear(this.timer);
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer as ReturnType<typeof setInterval>);
    this.timer = undefined;
    this.pingTimer = undefined;
  }

  private later(ms: number, f: () => void): void {
    const set = this.o.setTimeout ?? ((g: () => void, t: number) => setTimeout(g, t));
    this.timer = set(f, ms);
  }

  private setStatus(transport: Transport, connected: boolean): void {
    this.transport = transport;
    this.connected = connected;
    this.o.onStatus?.(this.state);
  }

  private handle(msg: Record<string, unknown>): void {
    switch (msg.type) {
      case 'hello':
        this.attempt = 0;
        this.wsFailures = 0;
        if (this.position === undefined && typeof msg.position === 'number') this.position = msg.position;
        this.setStatus(this.transport, true);
        for (const id of this.looking) this.send({ type: 'look', nodeId: id });
        break;
      case 'delta':
        this.deliver(msg as unknown as Delta);
        break;
      case 'caught-up':
        if (typeof msg.position === 'number' && (this.position === undefined || msg.position > this.position))
          this.position = msg.position;
        this.o.onStatus?.(this.state);
        break;
      case 'presence':
        this.o.onPresence?.(msg as unknown as Presence);
        break;
      default:
        break;
    }
  }

  private deliver(d: Delta): void {
    if (typeof d.position !== 'number') return;
    if (this.position !== undefined && d.position <= this.position) return;
    this.position = d.position;
    this.applied++;
    this.o.onDelta(d);
  }

  private connectWs(): void {
    if (this.stopped) return;
    const create = this.o.createSocket ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
    let helloSeen = false;
    let socket: SocketLike;
    try {
      socket = create(liveUrl(this.o.origin, this.o.region, this.position, this.o.bbox));
    } catch {
      this.onWsLost(false);
      return;
    }
    this.socket = socket;
    this.transport = 'ws';
    socket.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(ev.data) as Record<string, unknown>;
      } catch {
        return;
      }
      if (msg.type === 'hello') helloSeen = true;
      this.handle(msg);
    };
    socket.onopen = () => {
      this.pingTimer = setInterval(() => this.send({ type: 'ping' }), 25_000);
    };
    socket.onerror = () => {};
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.onWsLost(helloSeen);
    };
  }

  private onWsLost(helloSeen: boolean): void {
    this.clear();
    this.setStatus('ws', false);
    if (this.stopped) return;
    if (!helloSeen) this.wsFailures++;
    if (this.wsFailures >= (this.o.wsFailuresBeforeFallback ?? 3)) {
      this.startPolling();
      return;
    }
    const { first, max } = this.o.backoff ?? { first: 500, max: 30_000 };
    const delay = backoffDelay(this.attempt++, first, max, this.o.random ?? Math.random);
    this.later(delay, () => this.connectWs());
  }

  private startPolling(): void {
    if (this.stopped) return;
    this.transport = 'http';
    void this.poll();
  }

  private async poll(): Promise<void> {
    const doFetch = this.o.fetch ?? fetch.bind(globalThis);
    // the first request of a (re)connection does not wait: it confirms the server answers, and catches up
    let wait = 0;
    while (!this.stopped) {
      const u = new URL('/api/deltas', this.o.origin);
      u.searchParams.set('region', this.o.region);
      // without a position the server answers its head at once: the start point
      if (this.position !== undefined) u.searchParams.set('since', String(this.position));
      u.searchParams.set('wait', String(wait));
      if (this.o.bbox) u.searchParams.set('bbox', this.o.bbox.join(','));
      this.pollAbort = new AbortController();
      try {
        const res = await doFetch(u.toString(), { signal: this.pollAbort.signal });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const body = (await res.json()) as { position?: number; deltas?: Delta[] };
        if (!this.connected) this.setStatus('http', true);
        this.attempt = 0;
        wait = this.o.pollWait ?? 25;
        for (const d of body.deltas ?? []) this.deliver(d);
        if (
          typeof body.position === 'number' &&
          (this.position === undefined || body.position > this.position)
        )
          this.position = body.position;
      } catch {
        if (this.stopped) return;
        this.setStatus('http', false);
        wait = 0;
        const { first, max } = this.o.backoff ?? { first: 500, max: 30_000 };
        const delay = backoffDelay(this.attempt++, first, max, this.o.random ?? Math.random);
        await new Promise<void>((resolve) => this.later(delay, resolve));
      }
    }
  }
}
