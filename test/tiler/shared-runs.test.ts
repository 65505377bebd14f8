// The encode stage's jobs over runs in shared memory, against the k-way merge (merge.ts) as the reference: planJobs
// puts every record in exactly one job, never splits a tile, and hands out jobs in ascending tile order;
// forEachTile gives each tile the same records as the merge, in run order then run position, whether the runs
// share an arena buffer (records read in place) or not (records gathered into a scratch buffer); placeRun puts runs
// in the arena while it has room.
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { forEachTile, placeRun, planJobs, RunArena, useArena } from '../../pipeline/tiler/shared-runs.js';
import { MemoryRun, RunMerger } from '../../pipeline/tiler/merge.js';
import { sortRun, type RecordBatch } from '../../pipeline/tiler/records.js';
import { random } from '../helpers/random.js';

/** A sorted run of records whose bytes name their run and position: [run, index low, index high, filler…]. */
function makeRun(run: number, rnd: () => number, unsorted: number[]): RecordBatch {
  const ids = [...unsorted].sort((a, b) => a - b);
  const tileIds: number[] = [];
  const offsets: number[] = [];
  const chunks: number[] = [];
  ids.forEach((id, i) => {
    tileIds.push(id);
    offsets.push(chunks.length);
    const len = 3 + Math.floor(rnd() * (rnd() < 0.05 ? 300 : 40));
    chunks.push(run, i & 0xff, i >> 8);
    for (let k = 3; k < len; k++) chunks.push((run * 13 + i * 7 + k) & 0xff);
  });
  const buf = new Uint8Array(chunks.length * 2);
  buf.set(chunks);
  return sortRun(buf, chunks.length, tileIds, offsets);
}

function makeRuns(seed: string, count: number, maxId: number): RecordBatch[] {
  const rnd = random(seed);
  // ids drawn from a small pool, so that tiles have records in many runs; some runs empty, some large
  const pool = Array.from({ length: 300 }, () => Math.floor(rnd() * maxId));
  return Array.from({ length: count }, (_, r) => {
    const n = r % 7 === 3 ? 0 : Math.floor(rnd() * (r % 5 === 0 ? 4000 : 400));
    return makeRun(
      r,
      rnd,
      Array.from({ length: n }, () => pool[Math.floor(rnd() * pool.length)]!),
    );
  });
}

const record = (run: RecordBatch, i: number): number[] => [
  ...run.bytes.subarray(run.offsets[i]!, i + 1 < run.offsets.length ? run.offsets[i + 1]! : run.bytes.length),
];

/** Per tile (in merge order), its records as byte arrays, sorted (the merge's order between runs is its own). */
function merged(runs: RecordBatch[]): [number, string[]][] {
  const m = new RunMerger(runs.map((r) => new MemoryRun(r)));
  const out: [number, string[]][] = [];
  for (let t = m.next(); t; t = m.next()) {
    const bytes = t.parts.flatMap((p) => [...p]);
    out.push([t.tileId, splitRecords(bytes, runs).sort()]);
  }
  return out;
}

/** Splits concatenated records by reading their [run, index] heads (lengths from the runs). */
function splitRecords(bytes: number[], runs: RecordBatch[]): string[] {
  const out: string[] = [];
  for (let pos = 0; pos < bytes.length;) {
    const run = runs[bytes[pos]!]!;
    const i = bytes[pos + 1]! | (bytes[pos + 2]! << 8);
    const rec = record(run, i);
    out.push(bytes.slice(pos, pos + rec.length).join(','));
    pos += rec.length;
  }
  return out;
}

/** The runs placed as the workers place them, in an arena of `capacity` bytes. */
function placed(runs: RecordBatch[], capacity: number): RecordBatch[] {
  useArena(new RunArena(capacity).share);
  try {
    return runs.map(placeRun);
  } finally {
    useArena(undefined);
  }
}

/** Every tile forEachTile gives over the jobs of planJobs, with its records read at their starts. */
function viaJobs(runs: RecordBatch[], target: number): { tiles: [number, string[]][]; jobs: number } {
  const tiles: [number, string[]][] = [];
  let jobs = 0;
  let outOfOrder = 0;
  for (const job of planJobs(runs, target)) {
    jobs++;
    let records = 0;
    forEachTile(runs, job.slices, (tileId, buf, starts, count) => {
      records += count;
      const recs: string[] = [];
      let last: [number, number] = [-1, -1];
      for (let k = 0; k < count; k++) {
        const s = starts[k]!;
        const r = buf[s]!;
        const i = buf[s + 1]! | (buf[s + 2]! << 8);
        // run order, then position within the run
        if (!(r > last[0] || (r === last[0] && i > last[1]))) outOfOrder++;
        last = [r, i];
        const rec = record(runs[r]!, i);
        // the bytes at the start are the whole record
        recs.push(buf.subarray(s, s + rec.length).join(','));
      }
      tiles.push([tileId, recs.sort()]);
    });
    expect(records).toBe(job.records);
  }
  expect(outOfOrder).toBe(0);
  return { tiles, jobs };
}

describe('encode jobs over shared runs', () => {
  for (const [name, maxId] of [
    ['tile ids below 2^32', 358_000_000],
    ['tile ids past 2^32', 2 ** 40],
  ] as const) {
    it(`give every tile exactly the merge's records, in arena buffers and out of them (${name})`, () => {
      const plain = makeRuns(`runs-${maxId}`, 30, maxId);
      const reference = merged(plain);
      expect(reference.length).toBeGreaterThan(100);
      // in one arena buffer (read in place); in small arena buffers and plain buffers (gathered)
      const layouts = {
        'one arena buffer': placed(plain, 1 << 30),
        'an arena that fills up': placed(plain, 8000),
        'plain buffers': plain,
      };
      for (const [layout, runs] of Object.entries(layouts)) {
        for (const target of [1, 2000, 50_000, 1 << 30]) {
          const { tiles, jobs } = viaJobs(runs, target);
          expect(tiles, `${layout}, target ${target}`).toEqual(reference);
          if (target === 1 << 30) expect(jobs).toBe(1);
          if (target === 2000) expect(jobs).toBeGreaterThan(10);
        }
      }
    });
  }

  it('places runs in the arena while it has room, then in buffers of their own; none once it is closed', () => {
    const plain = makeRuns('arena', 6, 1000);
    const room = 400;
    // later runs are larger than the room left after the first two
    expect(Math.min(...plain.slice(2).map((r) => r.bytes.length || Infinity))).toBeGreaterThan(room);
    const arena = new RunArena(plain[0]!.bytes.length + plain[1]!.bytes.length + room);
    useArena(arena.share);
    try {
      const shared = plain.map(placeRun);
      for (const [i, r] of shared.entries()) {
        expect(r.bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
        expect(r.tileIds.buffer).toBeInstanceOf(SharedArrayBuffer);
        expect(r.offsets.buffer).toBeInstanceOf(SharedArrayBuffer);
        expect(r.bytes.buffer === arena.share.bytes, `run ${i}`).toBe(i < 2 || r.bytes.length === 0);
        expect([...r.bytes]).toEqual([...plain[i]!.bytes]);
        expect([...r.tileIds]).toEqual([...plain[i]!.tileIds]);
        expect([...r.offsets]).toEqual([...plain[i]!.offsets]);
      }
      // the two in the arena lie side by side
      expect(shared[1]!.bytes.byteOffset).toBe(shared[0]!.bytes.length);
      // bytes already shared stay where they are
      const again = placeRun(shared[5]!);
      expect(again.bytes).toBe(shared[5]!.bytes);
      const small = makeRun(9, () => 0, [1, 2, 3]);
      expect(placeRun(small).bytes.buffer).toBe(arena.share.bytes);
      const memory = arena.share.bytes;
      arena.close();
      const after = placeRun(small);
      expect(after.bytes.buffer).not.toBe(memory);
      expect(after.inArena).toBe(false);
      // the closed arena lets go of its memory; runs placed before stay as they are
      expect(arena.share.bytes.byteLength).toBe(0);
      expect(arena.adopt(shared[0]!)).toBe(shared[0]);
    } finally {
      useArena(undefined);
    }
  });

  it('views runs placed in the arena, posted in separate messages, through one buffer object again', async () => {
    const plain = makeRuns('adopt', 4, 1000);
    const arena = new RunArena(1 << 20);
    useArena(arena.share);
    let placedRuns: RecordBatch[];
    try {
      placedRuns = plain.map(placeRun);
    } finally {
      useArena(undefined);
    }
    // each message gives its receiver a SharedArrayBuffer object of its own for the same memory
    const { port1, port2 } = new MessageChannel();
    const received: RecordBatch[] = [];
    const all = new Promise<void>((resolve) =>
      port2.on('message', (b: RecordBatch) => {
        received.push(b);
        if (received.length === plain.length) resolve();
      }),
    );
    for (const b of placedRuns) port1.postMessage(b);
    await all;
    port1.close();
    expect(received.every((b) => b.inArena)).toBe(true);
    expect(new Set(received.map((b) => b.bytes.buffer)).size).toBe(plain.length);
    const adopted = received.map((b) => arena.adopt(b));
    for (const [i, b] of adopted.entries()) {
      expect(b.bytes.buffer).toBe(arena.share.bytes);
      expect([...b.bytes]).toEqual([...plain[i]!.bytes]);
    }
    // a run outside the arena is left as it is
    const own = { ...plain[0]!, inArena: false };
    expect(arena.adopt(own)).toBe(own);
  });

  it('plans no job for no records', () => {
    expect([...planJobs([], 1000)]).toEqual([]);
    expect([
      ...planJobs(
        makeRuns('empty', 3, 10).map((r) => ({
          ...r,
          tileIds: new Float64Array(0),
          offsets: new Uint32Array(0),
          bytes: new Uint8Array(0),
        })),
        1000,
      ),
    ]).toEqual([]);
  });
});
