// The hub's fan-out of a round of several deltas (the in-process bus; transports that record what they are given):
// a live client that has none of them and wants all gets them in one write, with bytes made once for every such
// client; a client with a bbox, one that already has some, and a transport without batches get each delta they
// lack alone; a client still catching up buffers them.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../core/bus/memory.js';
import type { Db } from '../../core/db/adapter.js';
import { createMetrics } from '../../serve/metrics.js';
import type { BBox } from '../../serve/live/deltas.js';
import { deltasChannel, encodeEnvelopes } from '../../serve/live/envelope.js';
import { LiveHub, Subscriber, type DeltaBatch, type Transport } from '../../serve/live/hub.js';
import type { EncodedDelta } from '../../serve/live/translate.js';

/** Records each write: one entry per sendDelta (one position) or sendBatch (all of its positions). */
class Recorder implements Transport {
  readonly writes: number[][] = [];
  readonly pacing = 1 << 20;
  batchBytes: Buffer[] = [];

  constructor(batches: boolean) {
    if (!batches) this.sendBatch = undefined;
  }
  isOpen(): boolean {
    return true;
  }
  sendDelta(d: EncodedDelta): boolean {
    this.writes.push([d.position]);
    return true;
  }
  sendBatch?: (batch: DeltaBatch) => boolean = (batch) => {
    let bytes = batch.bytes.get('test');
    if (!bytes) batch.bytes.set('test', (bytes = Buffer.from(batch.deltas.map((d) => d.text).join('\n'))));
    this.batchBytes.push(bytes);
    this.writes.push(batch.deltas.map((d) => d.position));
    return true;
  };
  buffered(): number {
    return 0;
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

describe('fan-out of several deltas at once', () => {
  let hub: LiveHub | undefined;
  let bus: MemoryBus | undefined;
  afterEach(async () => {
    await hub?.close();
    await bus?.close();
  });

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
    expect(all[0]!.batchBytes[0]).toBe(all[1]!.batchBytes[0]); // made once
    expect(all[0]!.batchBytes[0]!.toString()).toBe(deltas.map((d) => d.text).join('\n'));
    expect(boxed.writes).toEqual([[2]]);
    expect(ahead.writes).toEqual([[3]]);
    expect(plain.writes).toEqual([[1], [2], [3]]);
    expect(syncing.pending.map((d) => d.position)).toEqual([1, 2, 3]);
    expect((syncing.transport as Recorder).writes).toEqual([]);
  });
});
