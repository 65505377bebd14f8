// The hub's fan-out of several deltas at once (the in-process bus; transports that record what they are given):
// a live client that has none of them and wants all gets them in one write, with bytes made once for every such
// client; a client with a bbox, one that already has some, and a transport without batches get each delta they
// lack alone; a client still catching up buffers them. Deltas that arrive during a pass reach the clients not
// visited yet in the same pass, merged with the earlier ones. The gap after a pass follows its cost: cheap passes
// (or an idle hub) send at once, after a costly one the next waits passGapFactor × its cost, at most maxPassGapMs.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../core/bus/memory.js';
import type { Db } from '../../core/db/adapter.js';
import { createMetrics } from '../../serve/metrics.js';
import type { BBox } from '../../serve/live/deltas.js';
import { deltasChannel, encodeEnvelopes } from '../../serve/live/envelope.js';
import {
  LiveHub,
  Subscriber,
  type DeltaBatch,
  type HubOptions,
  type Transport,
} from '../../serve/live/hub.js';
import type { EncodedDelta } from '../../serve/live/translate.js';

/**
 * Records each write: one entry per sendDelta (one position) or sendBatch (all of its positions), with when it
 * started and ended; each write busy-waits `cost` ms first (CPU the hub's pass spends).
 */
class Recorder implements Transport {
  readonly writes: number[][] = [];
  /** [start, end] of each write (performance.now()) */
  readonly spans: [number, number][] = [];
  cost = 0;
  /** called after each write (with the write's positions) */
  onWrite: ((positions: number[]) => void) | undefined;
  readonly pacing = 1 << 20;
  batchWrites: Buffer[] = [];

  constructor(batches: boolean) {
    if (!batches) this.sendBatch = undefined;
  }
  isOpen(): boolean {
    return true;
  }
  sendDelta(d: EncodedDelta): boolean {
    this.spin();
    this.writes.push([d.position]);
    this.onWrite?.([d.position]);
    return true;
  }
  sendBatch?: (batch: DeltaBatch) => boolean = (batch) => {
    this.spin();
    let bytes = batch.bytes.get('test');
    if (!bytes) batch.bytes.set('test', (bytes = Buffer.from(batch.deltas.map((d) => d.text).join('\n'))));
    this.batchWrites.push(bytes);
    this.writes.push(batch.deltas.map((d) => d.position));
    this.onWrite?.(batch.deltas.map((d) => d.position));
    return true;
  };
  buffered(): number {
    return 0;
  }
  private spin(): void {
    const t = performance.now();
    while (performance.now() < t + this.cost);
    this.spans.push([t, performance.now()]);
  }
  drained(): Promise<void> {
    return Promise.resolve();
  }
}

const delta = (position: number, bbox: BBox): EncodedDelta => ({
  region: 'monaco',
  position,
  bbox,
  text: `{"type":"delta","position":${position}}`,
});

const publish = async (bus: MemoryBus, deltas: EncodedDelta[]) => {
  for (const e of encodeEnvelopes(deltas, () => Date.now(), 1 << 20))
    await bus.publish(deltasChannel('monaco'), e);
};

const until = async (done: () => boolean, ms = 2000) => {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  expect(done()).toBe(true);
};

describe('fan-out of several deltas at once', () => {
  let hub: LiveHub | undefined;
  let bus: MemoryBus | undefined;
  afterEach(async () => {
    await hub?.close();
    await bus?.close();
  });

  /** A hub on the in-process bus, no store reads: every subscriber is made live (or left catching up) by hand. */
  const start = async (options: Partial<HubOptions> = {}) => {
    bus = new MemoryBus();
    hub = new LiveHub(undefined as unknown as Db, bus, createMetrics(), pino({ level: 'silent' }), options);
    await hub.start();
    return { hub, bus };
  };
  const joinTo = (h: LiveHub, t: Recorder, opts: { bbox?: BBox; lastSent?: number; live?: boolean } = {}) => {
    const sub = new Subscriber('monaco', opts.bbox, t);
    h.join(sub);
    sub.lastSent = opts.lastSent ?? 0;
    if (opts.live !== false) sub.mode = 'live';
    return sub;
  };

  it('writes them to each client at once when it wants them all, else one by one', async () => {
    bus = new MemoryBus();
    // no store reads here: every subscriber is made live (or left catching up) by hand
    hub = new LiveHub(undefined as unknown as Db, bus, createMetrics(), pino({ level: 'silent' }));
    await hub.start();
    const join = (t: Recorder, opts: { bbox?: BBox; lastSent?: number; live?: boolean } = {}) => {
      const sub = new Subscriber('monaco', opts.bbox, t);
      hub!.join(sub);
      sub.lastSent = opts.lastSent ?? 0;
      if (opts.live !== false) sub.mode = 'live';
      return sub;
    };
    const all = [new Recorder(true), new Recorder(true)];
    for (const t of all) join(t);
    const boxed = new Recorder(true);
    join(boxed, { bbox: [9, 9, 12, 12] });
    const ahead = new Recorder(true);
    join(ahead, { lastSent: 2 });
    const plain = new Recorder(false);
    join(plain);
    const syncing = join(new Recorder(true), { live: false });

    const deltas = [delta(1, [0, 0, 1, 1]), delta(2, [10, 10, 11, 11]), delta(3, [0, 0, 1, 1])];
    for (const e of encodeEnvelopes(deltas, () => Date.now(), 1 << 20))
      await bus.publish(deltasChannel('monaco'), e);
    const deadline = Date.now() + 2000;
    while (!all[1]!.writes.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));

    for (const t of all) expect(t.writes).toEqual([[1, 2, 3]]);
    expect(all[0]!.batchWrites[0]).toBe(all[1]!.batchWrites[0]); // made once
    expect(all[0]!.batchWrites[0]!.toString()).toBe(deltas.map((d) => d.text).join('\n'));
    expect(boxed.writes).toEqual([[2]]);
    expect(ahead.writes).toEqual([[3]]);
    expect(plain.writes).toEqual([[1], [2], [3]]);
    expect(syncing.pending.map((d) => d.position)).toEqual([1, 2, 3]);
    expect((syncing.transport as Recorder).writes).toEqual([]);
  });

  it('merges deltas that arrive during a pass into the write of every client not visited yet', async () => {
    // one subscriber per turn of the event loop: the bus delivers between two of them
    const { hub, bus } = await start({ fanOutSlice: 1, maxPassGapMs: 0 });
    const ts = [0, 1, 2, 3].map(() => new Recorder(true));
    for (const t of ts) joinTo(hub, t);
    const boxed = new Recorder(true);
    joinTo(hub, boxed, { bbox: [9, 9, 12, 12] });
    const plain = new Recorder(false);
    joinTo(hub, plain);
    const syncing = joinTo(hub, new Recorder(true), { live: false });
    const later = [delta(2, [10, 10, 11, 11]), delta(3, [0, 0, 1, 1]), delta(4, [0, 0, 1, 1])];
    // deltas 2..4 are published while the pass of delta 1 is at its first client
    ts[0]!.onWrite = (positions) => {
      if (positions[0] === 1) void publish(bus, later);
    };
    await publish(bus, [delta(1, [0, 0, 1, 1])]);
    await until(() => [...ts, boxed, plain].every((t) => t.writes.flat().at(-1) === (t === boxed ? 2 : 4)));

    expect(ts[0]!.writes).toEqual([[1], [2, 3, 4]]);
    for (const t of ts.slice(1)) expect(t.writes).toEqual([[1, 2, 3, 4]]);
    // the bytes of "everything after position 0" are made once for every client that gets all of it
    expect(ts[2]!.batchWrites[0]).toBe(ts[3]!.batchWrites[0]);
    expect(boxed.writes).toEqual([[2]]);
    expect(plain.writes.flat()).toEqual([1, 2, 3, 4]);
    expect(syncing.pending.map((d) => d.position)).toEqual([1, 2, 3, 4]);
    expect((syncing.transport as Recorder).writes).toEqual([]);

    // a subscriber that caught up (to 4) goes live: it gets what comes next, nothing twice; a repeat is dropped
    syncing.pending = [];
    syncing.lastSent = 4;
    syncing.mode = 'live';
    await publish(bus, [delta(3, [0, 0, 1, 1]), delta(5, [0, 0, 1, 1])]);
    await until(() => ts[3]!.writes.flat().at(-1) === 5);
    await new Promise((r) => setTimeout(r, 20));
    expect((syncing.transport as Recorder).writes).toEqual([[5]]);
    for (const t of ts) expect(t.writes.flat()).toEqual([1, 2, 3, 4, 5]);
    expect(boxed.writes).toEqual([[2]]);
  });

  it('sends at once when idle or after cheap passes, even with a large maxPassGapMs', async () => {
    const { hub, bus } = await start({ maxPassGapMs: 1000 });
    const t = new Recorder(true);
    joinTo(hub, t);
    const t0 = performance.now();
    await publish(bus, [delta(1, [0, 0, 1, 1])]);
    await until(() => t.writes.length === 1);
    expect(t.spans[0]![0] - t0).toBeLessThan(500); // idle: no wait
    // a pass costing microseconds: the next starts at once, not maxPassGapMs later
    const t1 = performance.now();
    await publish(bus, [delta(2, [0, 0, 1, 1])]);
    await until(() => t.writes.length === 2);
    expect(t.spans[1]![0] - t1).toBeLessThan(500);
    expect(t.spans[1]![0] - t.spans[0]![1]).toBeLessThan(500);
    expect(t.writes).toEqual([[1], [2]]);
  });

  it('counts as the cost of a pass only its writing, not the turns of the event loop between its slices', async () => {
    // one cheap subscriber per slice; between slices other work spins 10 ms per turn of the event loop
    const { hub, bus } = await start({ fanOutSlice: 1, maxPassGapMs: 1000, passGapFactor: 100 });
    const ts = [0, 1, 2, 3, 4].map(() => new Recorder(true));
    for (const t of ts) joinTo(hub, t);
    let turns = 0;
    const busy = () => {
      const t = performance.now();
      while (performance.now() < t + 10);
      if (++turns < 5) setImmediate(busy);
    };
    ts[0]!.onWrite = (positions) => {
      if (positions[0] === 1) setImmediate(busy);
    };
    ts[4]!.onWrite = (positions) => {
      if (positions[0] === 1) void publish(bus, [delta(2, [0, 0, 1, 1])]);
    };
    await publish(bus, [delta(1, [0, 0, 1, 1])]);
    await until(() => ts.every((t) => t.writes.length === 2));
    for (const t of ts) expect(t.writes).toEqual([[1], [2]]);
    expect(ts[4]!.spans[0]![1] - ts[0]!.spans[0]![0]).toBeGreaterThanOrEqual(30); // the pass took that long
    // had the waits counted, the gap would be min(1000, ≥ 30 × 100)
    expect(ts[0]!.spans[1]![0] - ts[4]!.spans[0]![1]).toBeLessThan(500);
  });

  /**
   * Five subscribers whose writes cost 3 ms each: one pass (one slice) costs at least 15 ms. Delta 1 goes out at
   * once; deltas 2 and 3 are published during its pass (the bus delivers them after it ended) and go out in the
   * next pass. Returns the pass's cost as the transports saw it (at most what the hub measured) and the gap between
   * the end of its last write and the start of the next pass's first.
   */
  const costlyPasses = async (options: Partial<HubOptions>) => {
    const { hub, bus } = await start(options);
    const ts = [0, 1, 2, 3, 4].map(() => new Recorder(true));
    for (const t of ts) {
      t.cost = 3;
      joinTo(hub, t);
    }
    ts[0]!.onWrite = (positions) => {
      if (positions[0] === 1) void publish(bus, [delta(2, [0, 0, 1, 1])]);
    };
    ts[4]!.onWrite = (positions) => {
      if (positions[0] === 1) void publish(bus, [delta(3, [0, 0, 1, 1])]);
    };
    const t0 = performance.now();
    await publish(bus, [delta(1, [0, 0, 1, 1])]);
    await until(() => ts.every((t) => t.writes.length === 2), 5000);
    for (const t of ts) expect(t.writes).toEqual([[1], [2, 3]]); // held, then one write per subscriber
    expect(ts[0]!.spans[0]![0] - t0).toBeLessThan(500); // idle: no wait
    const cost = ts[4]!.spans[0]![1] - ts[0]!.spans[0]![0];
    const gap = ts[0]!.spans[1]![0] - ts[4]!.spans[0]![1];
    expect(cost).toBeGreaterThanOrEqual(15);
    return { cost, gap };
  };

  it('after a costly pass, starts the next passGapFactor times its cost after it ended', async () => {
    const { cost, gap } = await costlyPasses({ maxPassGapMs: 1000, passGapFactor: 3 });
    // the timer may fire up to a millisecond early; the hub's own cost and end are at least the transports'
    expect(gap).toBeGreaterThanOrEqual(cost * 3 - 4);
    expect(gap).toBeLessThan(cost * 3 + 400); // far from maxPassGapMs
  });

  it('makes that gap no longer than maxPassGapMs', async () => {
    const { gap } = await costlyPasses({ maxPassGapMs: 100, passGapFactor: 1000 });
    expect(gap).toBeGreaterThanOrEqual(95);
    expect(gap).toBeLessThan(250);
  });
});
