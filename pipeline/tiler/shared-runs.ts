// Sort stage without a central merge: the sorted runs of the map stage live in shared memory that every worker
// sees (the workers put them there as they sort them). The main thread only cuts the tile-id space into jobs (for each run, the slice of its records in the job's
// id range); the worker that takes a job gathers each tile's records from those slices itself. No record bytes go
// through the main thread, and the merging is spread over the workers.
import { radixOrder, type RecordBatch } from './records.js';

/** The arena as the workers get it: its memory, and the count of bytes handed out (an Int32 at 0). */
export interface ArenaShare {
  bytes: SharedArrayBuffer;
  used: SharedArrayBuffer;
}

/**
 * Shared memory for the runs of one build: the workers put each sorted run's record bytes side by side in one
 * large SharedArrayBuffer (`placeRun`), so that a tile's records from many runs lie in one buffer and are read
 * where they are. Pages count towards memory only once written. A run that does not fit (or comes once the arena
 * is closed) gets a SharedArrayBuffer of its own.
 */
export class RunArena {
  /** for the workers (init); after close() a share of nothing, so that the arena's memory can go */
  share: ArenaShare;

  constructor(capacity: number) {
    this.share = { bytes: new SharedArrayBuffer(capacity), used: new SharedArrayBuffer(4) };
  }

  /**
   * The run as this thread holds it: a run a worker placed in the arena comes with a SharedArrayBuffer object of
   * its own (one per message), so its bytes are viewed through the arena's object instead; that way every run in
   * the arena shares one buffer object, here and in the workers that get them in one message. Once the arena is
   * closed, runs stay as they came (each keeps its part of the memory alive until it is spilled).
   */
  adopt(b: RecordBatch): RecordBatch {
    if (!b.inArena || this.share.bytes.byteLength === 0) return b;
    return { ...b, bytes: new Uint8Array(this.share.bytes, b.bytes.byteOffset, b.bytes.length) };
  }

  /**
   * No more runs go into the arena, and this thread lets go of it (once runs spill to disk: its memory is freed
   * when the workers have let go too, see the `arena` request, and no run refers to it any more).
   */
  close(): void {
    Atomics.store(new Int32Array(this.share.used), 0, this.share.bytes.byteLength);
    this.share = { bytes: new SharedArrayBuffer(0), used: this.share.used };
  }
}

/** The arena this thread places runs in (a worker's, set by useArena). */
let placement: { bytes: SharedArrayBuffer; used: Int32Array } | undefined;

export function useArena(share: ArenaShare | undefined): void {
  placement = share && { bytes: share.bytes, used: new Int32Array(share.used) };
}

/** `n` bytes of shared memory for a run: in the arena while it has room, else a buffer of their own. */
export function sharedBytes(n: number): Uint8Array {
  if (placement) {
    const { bytes, used } = placement;
    for (;;) {
      const at = Atomics.load(used, 0);
      if (at + n > bytes.byteLength) break;
      if (Atomics.compareExchange(used, 0, at, at + n) === at) return new Uint8Array(bytes, at, n);
    }
  }
  return new Uint8Array(new SharedArrayBuffer(n));
}

/** The run in shared memory (record bytes placed by sharedBytes), copied where it is not already. */
export function placeRun(b: RecordBatch): RecordBatch {
  let bytes = b.bytes;
  if (!(bytes.buffer instanceof SharedArrayBuffer)) {
    bytes = sharedBytes(b.bytes.length);
    bytes.set(b.bytes);
  }
  const tileIds = new Float64Array(new SharedArrayBuffer(b.tileIds.byteLength));
  tileIds.set(b.tileIds);
  const offsets = new Uint32Array(new SharedArrayBuffer(b.offsets.byteLength));
  offsets.set(b.offsets);
  return { bytes, tileIds, offsets, inArena: bytes.buffer === placement?.bytes };
}

/** Start of record i of a run, or the end of its bytes for i = count. */
const recordStart = (run: RecordBatch, i: number): number =>
  i < run.offsets.length ? run.offsets[i]! : run.bytes.length;

/** The first index of `ids` (ascending) from `from` on whose id is ≥ `id`. */
function lowerBound(ids: Float64Array, id: number, from: number): number {
  let lo = from;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface Job {
  /** [run, first record, end record] per run with records in the job */
  slices: Uint32Array;
  records: number;
}

/** Every SAMPLE-th record of each run marks where a job may end; its weight is the bytes up to the next mark. */
const SAMPLE = 256;

/**
 * Cuts the runs into jobs of consecutive tile ids with about `targetBytes` of records each; every record is in
 * exactly one job and a tile's records are never split between two. Jobs come in ascending tile-id order.
 */
export function* planJobs(runs: RecordBatch[], targetBytes: number): Generator<Job> {
  // sampled ids and the record bytes each sample stands for, ordered by id: where the cumulative bytes cross the
  // target, the sample's id starts the next job
  const ids: number[] = [];
  const weights: number[] = [];
  for (const run of runs) {
    const n = run.tileIds.length;
    for (let i = 0; i < n; i += SAMPLE) {
      ids.push(run.tileIds[i]!);
      weights.push(recordStart(run, Math.min(n, i + SAMPLE)) - recordStart(run, i));
    }
  }
  const order = Array.from(ids.keys()).sort((a, b) => ids[a]! - ids[b]!);
  const cuts: number[] = [];
  let acc = 0;
  for (const k of order) {
    const id = ids[k]!;
    if (acc >= targetBytes && (cuts.length === 0 || id > cuts[cuts.length - 1]!)) {
      cuts.push(id);
      acc = 0;
    }
    acc += weights[k]!;
  }
  cuts.push(Infinity);
  const at = new Array<number>(runs.length).fill(0);
  for (const cut of cuts) {
    const slices: number[] = [];
    let records = 0;
    for (let r = 0; r < runs.length; r++) {
      const ids = runs[r]!.tileIds;
      const start = at[r]!;
      const end = cut === Infinity ? ids.length : lowerBound(ids, cut, start);
      if (end > start) {
        slices.push(r, start, end);
        records += end - start;
      }
      at[r] = end;
    }
    if (records) yield { slices: Uint32Array.from(slices), records };
  }
}

let scratch = new Uint8Array(1 << 16);
let starts = new Uint32Array(1 << 12);
/** Per runs array: each run's buffer as a whole, and the index of that buffer (runs sharing one have the same). */
let viewsOf: RecordBatch[] | undefined;
let whole: Uint8Array[] = [];
let bufferOf = new Uint32Array(0);

function viewRuns(runs: RecordBatch[]): void {
  if (viewsOf === runs) return;
  viewsOf = runs;
  const index = new Map<ArrayBufferLike, number>();
  bufferOf = new Uint32Array(runs.length);
  whole = [];
  runs.forEach((run, r) => {
    let k = index.get(run.bytes.buffer);
    if (k === undefined) {
      index.set(run.bytes.buffer, (k = whole.length));
      whole.push(new Uint8Array(run.bytes.buffer));
    }
    bufferOf[r] = k;
  });
}

/**
 * Calls `fn` for each tile of a job in ascending tile-id order with its records: record i of the tile starts at
 * `buf[starts[i]]` (i < count; `starts` is valid until the callback returns). Records are read where they lie when
 * the job's runs share one buffer of the arena; otherwise they are first copied into a scratch buffer. Within a
 * tile, records keep the order of the runs, then their order in a run.
 */
export function forEachTile(
  runs: RecordBatch[],
  slices: Uint32Array,
  fn: (tileId: number, buf: Uint8Array, starts: Uint32Array, count: number) => void,
): void {
  viewRuns(runs);
  let n = 0;
  for (let k = 0; k < slices.length; k += 3) n += slices[k + 2]! - slices[k + 1]!;
  // per record of the job: its tile id, where it starts in its run's buffer, its run and index there
  const ids = new Float64Array(n);
  const at = new Uint32Array(n);
  const runOf = new Uint32Array(n);
  const index = new Uint32Array(n);
  let maxId = 0;
  let minId = Infinity;
  let j = 0;
  let oneBuffer = true;
  for (let k = 0; k < slices.length; k += 3) {
    const r = slices[k]!;
    const { tileIds, offsets, bytes } = runs[r]!;
    const base = bytes.byteOffset;
    if (bufferOf[r] !== bufferOf[slices[0]!]) oneBuffer = false;
    for (let i = slices[k + 1]!; i < slices[k + 2]!; i++, j++) {
      const id = tileIds[i]!;
      ids[j] = id;
      at[j] = base + offsets[i]!;
      runOf[j] = r;
      index[j] = i;
      if (id > maxId) maxId = id;
      if (id < minId) minId = id;
    }
  }
  const order: ArrayLike<number> =
    maxId < 2 ** 32
      ? radixOrder(ids, maxId, n ? minId : 0)
      : Array.from({ length: n }, (_, i) => i).sort((a, b) => ids[a]! - ids[b]! || a - b);
  const buf = n ? whole[bufferOf[slices[0]!]!]! : new Uint8Array(0);
  for (let k = 0; k < n;) {
    const tileId = ids[order[k]!]!;
    let end = k + 1;
    while (end < n && ids[order[end]!] === tileId) end++;
    const count = end - k;
    if (starts.length < count) starts = new Uint32Array(Math.max(count, 2 * starts.length));
    if (oneBuffer) {
      for (let m = 0; m < count; m++) starts[m] = at[order[k + m]!]!;
      fn(tileId, buf, starts, count);
    } else gathered(runs, order, k, count, runOf, index, tileId, fn);
    k = end;
  }
}

/**
 * A tile whose records lie in several buffers (a run too large for the arena, or runs from outside it): copied
 * into the scratch buffer, then handed on.
 */
function gathered(
  runs: RecordBatch[],
  order: ArrayLike<number>,
  k: number,
  count: number,
  runOf: Uint32Array,
  index: Uint32Array,
  tileId: number,
  fn: (tileId: number, buf: Uint8Array, starts: Uint32Array, count: number) => void,
): void {
  let pos = 0;
  for (let m = 0; m < count; m++) {
    const o = order[k + m]!;
    const run = runs[runOf[o]!]!;
    const a = recordStart(run, index[o]!);
    const b = recordStart(run, index[o]! + 1);
    if (scratch.length < pos + (b - a)) {
      const bigger = new Uint8Array(Math.max(2 * scratch.length, pos + (b - a)));
      bigger.set(scratch.subarray(0, pos));
      scratch = bigger;
    }
    scratch.set(run.bytes.subarray(a, b), pos);
    starts[m] = pos;
    pos += b - a;
  }
  fn(tileId, scratch, starts, count);
}
