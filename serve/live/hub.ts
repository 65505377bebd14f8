// The live hub of one server: receives deltas from the bus and fans them out to the subscribers of their region
// (WebSocket sessions and SSE streams), each delta serialised once. Fan-out passes sweep the subscribers in slices;
// each live subscriber visited gets, in one write, every recent delta it lacks (bytes made once for all the
// subscribers that get the same ones; those of a slice with idle sockets are written in one native call, see
// direct.ts). After a pass the next one waits a gap that grows with what the pass cost
// (passGapFactor × its writing time, at most maxPassGapMs), so a busy server makes fewer, larger writes while one
// whose passes are cheap sends each delta at once. A subscriber first catches up from the event store while live
// deltas are buffered, then switches to live: positions strictly increase per subscriber, with no gap and no
// duplicate. When the bus comes back after a loss, every subscriber catches up again from its last position
// (messages may have been missed meanwhile). Long-poll requests wait here for their region's next delta.
import type { Logger } from 'pino';
import type { Bus, BusMessage, BusState, Unsubscribe } from '../../core/bus/adapter.js';
import type { Db } from '../../core/db/adapter.js';
import { errorMessage } from '../../core/errors.js';
import type { Metrics } from '../metrics.js';
import { bboxWants, type BBox } from './deltas.js';
import { directSends, sendEach } from './direct.js';
import { DELTAS_PREFIX, decodeEnvelope, regionOfChannel } from './envelope.js';
import { replayPage, type EncodedDelta, type ReplayPage } from './translate.js';

/** Where a subscriber's messages go (a WebSocket, an SSE response). */
export interface Transport {
  /** False once the client is gone or is being dropped. */
  isOpen(): boolean;
  /** Writes one delta; false when the client is too slow (the transport then drops it) or gone. */
  sendDelta(d: EncodedDelta): boolean;
  /** Bytes waiting in this process to be written. */
  buffered(): number;
  /** Catching up waits for a drain when buffered() passes this (well below the transport's limit). */
  readonly pacing: number;
  /** Resolves once the buffer has drained (or the client is gone). */
  drained(): Promise<void>;
  /** After a `since` replay (WebSocket: the `caught-up` message). */
  caughtUp?(position: number): void;
  /** Optional batching of several writes into one system call. */
  cork?(): void;
  uncork?(): void;
  /**
   * Optional: writes several deltas at once (the transport's bytes for them are made once, in `batch`, and shared
   * by every client that gets all of them); false as sendDelta.
   */
  sendBatch?(batch: DeltaBatch): boolean;
  /**
   * Optional, with batchBytes and writeRest: the file descriptor of a plain TCP socket with nothing waiting in this
   * process to be written to it (bytes written to it now go out in order), else -1. A fan-out pass then writes to it
   * in one native call with the other subscribers that get the same bytes (serve/live/direct.ts).
   */
  idleFd?(): number;
  /** The transport's bytes for a batch (made once per batch by the first transport of its kind). */
  batchBytes?(batch: DeltaBatch): Buffer;
  /**
   * After a direct write of `bytes` that sent only `sent` of them (−errno when it sent none), writes the rest as
   * sendBatch would; false as sendDelta.
   */
  writeRest?(bytes: Buffer, sent: number): boolean;
}

/** Deltas written at once (in increasing position order), with each transport's bytes for all of them. */
export interface DeltaBatch {
  deltas: readonly EncodedDelta[];
  /** made by the first transport of each kind that needs them */
  bytes: Map<string, Buffer>;
}

export interface HubOptions {
  /** Events read from the store per replay page. */
  pageEvents: number;
  /** Live deltas buffered per subscriber while it catches up; past this they are dropped and read from the store. */
  maxPending: number;
  /** Replay pages read at once (the rest wait), to leave database connections to writers. */
  maxConcurrentPages: number;
  /** Subscribers written to in one turn of the event loop when fanning a delta out. */
  fanOutSlice: number;
  /**
   * The longest gap, in ms, between the end of a fan-out pass and the start of the next: the gap is
   * min(maxPassGapMs, passGapFactor × the previous pass's cost), so under load each client gets fewer, larger writes.
   * A delta reaching an idle hub (whose last pass ended longer ago than that gap) still goes out at once.
   * 0: passes back to back.
   */
  maxPassGapMs: number;
  /**
   * The gap after a fan-out pass as a multiple of the pass's cost: the synchronous time the pass spent writing to
   * subscribers (the sum of its slices, not the turns of the event loop between them). The next pass starts no
   * sooner than min(maxPassGapMs, cost × passGapFactor) ms after the previous one ended, so a pass costing ~0 lets the
   * next start at once. 1: under continuous load fan-out takes at most about half of the event loop; 0: passes back
   * to back.
   */
  passGapFactor: number;
}

export const DEFAULT_HUB_OPTIONS: HubOptions = {
  pageEvents: 500,
  maxPending: 10_000,
  maxConcurrentPages: 4,
  fanOutSlice: 100,
  maxPassGapMs: 20,
  passGapFactor: 1,
};

export class Subscriber {
  /** The last position sent (or, before any, the position the subscriber starts after). */
  lastSent = 0;
  /** Buffering while catching up from the store; then live. */
  mode: 'syncing' | 'live' = 'syncing';
  pending: EncodedDelta[] = [];
  overflowed = false;
  /** Bumped when the hub must not use results of an older catch-up. */
  syncEpoch = 0;
  syncing: Promise<void> | undefined;
  resync = false;
  announce = false;
  /** begin() was called: lastSent is set and the hub may catch it up again when it must */
  started = false;
  closed = false;

  constructor(
    readonly region: string,
    readonly bbox: BBox | undefined,
    readonly transport: Transport,
  ) {}

  /** Sends `d` when it is new and in the bbox; false when the transport gave up. */
  offer(d: EncodedDelta): boolean {
    if (d.position <= this.lastSent || !bboxWants(this.bbox, d.bbox)) return true;
    if (!this.transport.sendDelta(d)) return false;
    this.lastSent = d.position;
    return true;
  }
}

/** Subscribers written to directly with the same bytes: `count` deltas each, up to the log's last. */
interface DirectGroup {
  count: number;
  subs: Subscriber[];
  fds: number[];
}

/** A long-poll request waiting for its region's next delta. */
export class Waiter {
  dirty = false;
  private wake: (() => void) | undefined;

  constructor(
    readonly region: string,
    readonly bbox: BBox | undefined,
    /** replay pages read before the waiter existed are not used for it */
    readonly epoch: number,
  ) {}

  notify(): void {
    this.dirty = true;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Resolves at the next notify (or at once when one came since the last wait), or after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.dirty || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

export class LiveHub {
  private readonly options: HubOptions;
  private readonly regions = new Map<string, Set<Subscriber>>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private unsubscribe: Unsubscribe | undefined;
  private removeStateListener: (() => void) | undefined;
  private busWasDown = false;
  private closed = false;
  /** Counts catch-ups started; a cached replay page may serve a catch-up that started before it was read. */
  private epoch = 0;
  private readonly pageCache = new Map<string, { epoch: number; page: Promise<ReplayPage> }>();
  private pagesRunning = 0;
  /** Live deltas of each region not yet offered to every subscriber. */
  private readonly logs = new Map<string, RegionLog>();
  /** A fan-out pass is scheduled or running (calling it cancels a scheduled one). */
  private passing: (() => void) | undefined;
  /** When the last fan-out pass ended (performance.now()). */
  private lastPassEnd = -Infinity;
  /** The synchronous time (ms) the last fan-out pass spent writing to subscribers. */
  private lastPassCost = 0;
  private readonly pageQueue: (() => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    options: Partial<HubOptions> = {},
  ) {
    this.options = { ...DEFAULT_HUB_OPTIONS, ...options };
  }

  async start(): Promise<void> {
    this.removeStateListener = this.bus.onStateChange((s) => this.busState(s));
    this.unsubscribe = await this.bus.subscribePrefix(DELTAS_PREFIX, (m, channel) =>
      this.received(m, channel),
    );
  }

  /** Subscribers of each region (for presence broadcasts). */
  subscribersOf(region: string): Iterable<Subscriber> {
    return this.regions.get(region) ?? [];
  }

  get subscriberCount(): number {
    let n = 0;
    for (const s of this.regions.values()) n += s.size;
    return n;
  }

  /** Adds a subscriber: it buffers live deltas until begin() has caught it up from the store. */
  join(sub: Subscriber): void {
    sub.mode = 'syncing';
    sub.syncEpoch = ++this.epoch;
    let set = this.regions.get(sub.region);
    if (!set) this.regions.set(sub.region, (set = new Set()));
    set.add(sub);
  }

  leave(sub: Subscriber): void {
    sub.closed = true;
    sub.pending = [];
    const set = this.regions.get(sub.region);
    if (!set) return;
    set.delete(sub);
    if (!set.size) this.regions.delete(sub.region);
  }

  /**
   * Starts a joined subscriber once its lastSent is set (after hello): catches it up from the store, then it is
   * live. `announce` sends `caught-up` at the end.
   */
  begin(sub: Subscriber, announce: boolean): void {
    sub.started = true;
    this.sync(sub, announce);
  }

  /**
   * Catches a started `sub` up from the store after sub.lastSent, then flushes what the bus brought meanwhile and
   * goes live. A sync requested while one runs restarts it when it ends.
   */
  private sync(sub: Subscriber, announce: boolean): void {
    if (sub.closed || this.closed || !sub.started) return;
    if (announce) sub.announce = true;
    sub.mode = 'syncing';
    // only store pages read from now on may serve this catch-up (older ones may miss what the bus lost)
    sub.syncEpoch = ++this.epoch;
    if (sub.syncing) {
      sub.resync = true;
      return;
    }
    sub.syncing = this.runSync(sub).finally(() => {
      sub.syncing = undefined;
    });
  }

  private async runSync(sub: Subscriber): Promise<void> {
    const t = sub.transport;
    try {
      for (;;) {
        sub.resync = false;
        sub.overflowed = false;
        const epoch = sub.syncEpoch;
        let cursor = sub.lastSent;
        for (;;) {
          const page = await this.page(sub.region, cursor, epoch);
          if (sub.closed || !t.isOpen()) return;
          if (!(await this.sendPaced(sub, page.deltas))) return;
          cursor = page.scanned;
          if (!page.more) break;
        }
        if (sub.resync || sub.overflowed) continue;
        if (sub.announce) {
          sub.announce = false;
          t.caughtUp?.(sub.lastSent);
        }
        // what the bus brought meanwhile; the last check and the switch to live happen in one turn
        while (sub.pending.length && !sub.overflowed && !sub.resync) {
          const pending = sub.pending.sort((a, b) => a.position - b.position);
          sub.pending = [];
          if (!(await this.sendPaced(sub, pending))) return;
        }
        if (sub.resync || sub.overflowed) continue;
        sub.mode = 'live';
        return;
      }
    } catch (err) {
      if (sub.closed || this.closed) return;
      this.logger.warn(
        { component: 'live', region: sub.region },
        `catching a subscriber up failed (${errorMessage(err)}); retrying`,
      );
      const timer = setTimeout(() => this.sync(sub, false), 1000);
      timer.unref();
    }
  }

  /** Offers deltas in order, waiting for the client's buffer to drain when it passes the transport's pacing. */
  private async sendPaced(sub: Subscriber, deltas: readonly EncodedDelta[]): Promise<boolean> {
    const t = sub.transport;
    let sent = 0;
    t.cork?.();
    try {
      for (const d of deltas) {
        if (t.buffered() > t.pacing) {
          t.uncork?.();
          await t.drained();
          if (sub.closed || !t.isOpen()) return false;
          t.cork?.();
        }
        const before = sub.lastSent;
        if (!sub.offer(d)) return false;
        if (sub.lastSent !== before) sent += 1;
      }
      return true;
    } finally {
      t.uncork?.();
      this.metrics.deltasSent.inc(sent);
    }
  }

  /**
   * A replay page from the store: shared by the catch-ups that need the same one at the same time (a catch-up
   * may use a page only if the page was read after it started buffering), at most maxConcurrentPages at once.
   */
  page(region: string, after: number, epoch = this.epoch): Promise<ReplayPage> {
    const key = `${region}\u0000${after}`;
    const cached = this.pageCache.get(key);
    if (cached && cached.epoch >= epoch) return cached.page;
    const entry = { epoch: this.epoch, page: this.limited(() => this.readPage(region, after)) };
    this.pageCache.set(key, entry);
    const forget = () => {
      if (this.pageCache.get(key) === entry) this.pageCache.delete(key);
    };
    entry.page.then(
      () => setTimeout(forget, 200).unref(),
      () => forget(),
    );
    return entry.page;
  }

  private readPage(region: string, after: number): Promise<ReplayPage> {
    return replayPage(this.db, region, after, this.options.pageEvents, (e, message) =>
      this.logger.error(
        { component: 'live', position: e.position, type: e.type },
        `no delta for event ${e.position}: ${message}`,
      ),
    );
  }

  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    if (this.pagesRunning >= this.options.maxConcurrentPages)
      await new Promise<void>((resolve) => this.pageQueue.push(resolve));
    this.pagesRunning += 1;
    try {
      return await fn();
    } finally {
      this.pagesRunning -= 1;
      this.pageQueue.shift()?.();
    }
  }

  /** A bus message on `deltas.region:<id>`. */
  private received(message: BusMessage, channel: string): void {
    const region = regionOfChannel(channel);
    if (!region) return;
    let deltas;
    try {
      deltas = decodeEnvelope(region, message);
    } catch (err) {
      this.logger.warn({ component: 'live', channel }, `ignoring a bad bus message: ${errorMessage(err)}`);
      return;
    }
    const first = deltas.find((d) => !d.tooLarge);
    if (first) this.metrics.busLag.observe(Math.max(0, Date.now() - first.committedAt) / 1000);
    const big = deltas.some((d) => d.tooLarge);
    const subs = this.regions.get(region);
    if (subs) {
      if (big) {
        // a delta too large for the bus: every subscriber reads it from the store
        for (const sub of subs) this.sync(sub, false);
      }
      const live = deltas.filter((d) => !d.tooLarge);
      if (live.length) {
        // a subscriber catching up buffers them now; a live one gets them at its next visit by a fan-out pass,
        // together with whatever else arrived by then: one write however many deltas came
        for (const sub of subs) if (sub.mode === 'syncing' && !sub.closed) this.buffer(sub, live);
        let log = this.logs.get(region);
        if (!log) this.logs.set(region, (log = new RegionLog()));
        for (const d of live) log.add(d);
        this.schedule();
      }
    }
    const waiters = this.waiters.get(region);
    if (waiters) {
      for (const w of waiters) if (big || deltas.some((d) => bboxWants(w.bbox, d.bbox))) w.notify();
    }
  }

  /**
   * Starts a fan-out pass at the end of this turn of the event loop (with whatever else arrives in it), or, when the
   * previous pass ended less than its gap ago, at the end of that gap: min(maxPassGapMs, passGapFactor × the previous
   * pass's cost) after it ended.
   */
  private schedule(): void {
    if (this.passing || this.closed) return;
    const run = () => void this.sweep();
    const { maxPassGapMs, passGapFactor } = this.options;
    const gap = Math.min(maxPassGapMs, this.lastPassCost * passGapFactor);
    const wait = this.lastPassEnd + gap - performance.now();
    if (wait > 0) {
      const timer = setTimeout(run, wait);
      this.passing = () => clearTimeout(timer);
    } else {
      const immediate = setImmediate(run);
      this.passing = () => clearImmediate(immediate);
    }
  }

  /** Hands live deltas to a subscriber catching up (past maxPending it reads them from the store instead). */
  private buffer(sub: Subscriber, deltas: readonly EncodedDelta[]): void {
    for (const d of deltas) sub.pending.push(d);
    if (sub.pending.length > this.options.maxPending) {
      sub.pending = [];
      sub.overflowed = true;
    }
  }

  /**
   * One fan-out pass over every region with deltas: its subscribers in slices, with a turn of the event loop between
   * slices (so database answers, e.g. a writer holding the head lock, are not kept waiting behind thousands of
   * socket writes). Each live subscriber gets, in one write, every delta of the log after its last position, so
   * deltas that arrive during the pass reach the subscribers it has not visited yet. At the end, the deltas every
   * subscriber was offered leave the log; the others wait for the next pass. One pass at a time; its cost (the time
   * spent in its slices) and end time set when the next may start.
   */
  private async sweep(): Promise<void> {
    let cost = 0;
    try {
      for (const [region, log] of [...this.logs]) {
        const offered = new Set(log.deltas);
        const subs = this.regions.get(region);
        if (subs) {
          const list = [...subs];
          for (let i = 0; i < list.length; i += this.options.fanOutSlice) {
            if (i > 0) await new Promise((resolve) => setImmediate(resolve));
            if (this.closed) return;
            const t0 = performance.now();
            try {
              this.visit(list, i, Math.min(list.length, i + this.options.fanOutSlice), log);
            } finally {
              cost += performance.now() - t0;
            }
          }
        }
        log.drop(offered);
        if (!log.deltas.length && this.logs.get(region) === log) this.logs.delete(region);
      }
    } catch (err) {
      this.logger.error({ component: 'live' }, `fanning deltas out failed: ${errorMessage(err)}`);
    } finally {
      this.lastPassCost = cost;
      this.lastPassEnd = performance.now();
      this.passing = undefined;
      if (this.logs.size && !this.closed) this.schedule();
    }
  }

  /**
   * Sends each live subscriber of list[from..to) what it lacks of the log (one write when it wants it all). Those
   * that want it all and whose transports have an idle socket are written to together at the end, one native call
   * per distinct bytes (serve/live/direct.ts).
   */
  private visit(list: Subscriber[], from: number, to: number, log: RegionLog): void {
    let sent = 0;
    const direct = directSends() ? new Map<Buffer, DirectGroup>() : undefined;
    for (let i = from; i < to; i++) {
      const sub = list[i]!;
      if (sub.closed || sub.mode !== 'live') continue;
      const start = log.after(sub.lastSent);
      const n = log.deltas.length - start;
      if (n <= 0) continue;
      const t = sub.transport;
      if (direct && sub.bbox === undefined && t.idleFd && t.batchBytes && t.writeRest) {
        const fd = t.idleFd();
        if (fd >= 0) {
          const bytes = t.batchBytes(log.batch(start));
          let group = direct.get(bytes);
          if (!group) direct.set(bytes, (group = { count: n, subs: [], fds: [] }));
          group.subs.push(sub);
          group.fds.push(fd);
          continue;
        }
      }
      if (n === 1) {
        if (sub.offer(log.deltas[start]!) && sub.lastSent === log.deltas[start]!.position) sent += 1;
        continue;
      }
      if (sub.bbox === undefined && t.sendBatch) {
        if (t.sendBatch(log.batch(start))) {
          sub.lastSent = log.deltas.at(-1)!.position;
          sent += n;
        }
        continue;
      }
      t.cork?.();
      for (let k = start; k < log.deltas.length; k++) {
        const before = sub.lastSent;
        if (!sub.offer(log.deltas[k]!)) break;
        if (sub.lastSent !== before) sent += 1;
      }
      t.uncork?.();
    }
    if (direct) {
      const last = log.deltas.at(-1)?.position ?? 0;
      for (const [bytes, group] of direct) {
        const results = sendEach(group.fds, bytes);
        group.subs.forEach((sub, k) => {
          const r = results[k]!;
          if (r === bytes.length || sub.transport.writeRest!(bytes, r)) {
            sub.lastSent = last;
            sent += group.count;
          }
        });
      }
    }
    this.metrics.deltasSent.inc(sent);
  }

  /** Bus back after a loss: every subscriber catches up from the store, every waiter looks again. */
  private busState(state: BusState): void {
    if (state === 'disconnected') {
      this.busWasDown = true;
      return;
    }
    if (state !== 'connected' || !this.busWasDown) return;
    this.busWasDown = false;
    this.logger.info(
      { component: 'live', subscribers: this.subscriberCount },
      'bus is back: catching every subscriber up from the event store',
    );
    this.resyncAll();
  }

  /** Every subscriber catches up from its last position; every waiter reads the store again. */
  resyncAll(): void {
    for (const subs of this.regions.values()) for (const sub of subs) this.sync(sub, false);
    for (const ws of this.waiters.values()) for (const w of ws) w.notify();
  }

  /** A long-poll waiter for the region (remove it with removeWaiter). */
  addWaiter(region: string, bbox: BBox | undefined): Waiter {
    const w = new Waiter(region, bbox, ++this.epoch);
    let set = this.waiters.get(region);
    if (!set) this.waiters.set(region, (set = new Set()));
    set.add(w);
    if (this.closed) w.notify();
    return w;
  }

  removeWaiter(w: Waiter): void {
    const set = this.waiters.get(w.region);
    if (!set) return;
    set.delete(w);
    if (!set.size) this.waiters.delete(w.region);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.passing?.();
    this.passing = undefined;
    this.logs.clear();
    this.removeStateListener?.();
    for (const ws of this.waiters.values()) for (const w of ws) w.notify();
    await this.unsubscribe?.().catch(() => {});
  }
}

/**
 * A region's live deltas not yet offered to every subscriber, in position order without repeats, with the bytes of
 * each suffix made once for every subscriber that gets all of it.
 */
class RegionLog {
  deltas: EncodedDelta[] = [];
  /** suffixes by start index (cleared when the log changes) */
  private batches = new Map<number, DeltaBatch>();

  add(d: EncodedDelta): void {
    const n = this.deltas.length;
    if (!n || d.position > this.deltas[n - 1]!.position) this.deltas.push(d);
    else {
      // out of order (a republished entry): kept in order, dropped when already there
      const at = this.after(d.position - 1);
      if (this.deltas[at]?.position === d.position) return;
      this.deltas.splice(at, 0, d);
    }
    this.batches.clear();
  }

  /** Index of the first delta after `position`. */
  after(position: number): number {
    let lo = 0;
    let hi = this.deltas.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.deltas[mid]!.position > position) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** The deltas from index `start` to the end as one batch. */
  batch(start: number): DeltaBatch {
    let b = this.batches.get(start);
    if (!b) this.batches.set(start, (b = { deltas: this.deltas.slice(start), bytes: new Map() }));
    return b;
  }

  /** Removes these deltas. */
  drop(offered: Set<EncodedDelta>): void {
    if (!offered.size) return;
    this.deltas = this.deltas.filter((d) => !offered.has(d));
    this.batches.clear();
  }
}
