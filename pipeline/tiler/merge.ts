// Sort stage, merge half: the workers return runs sorted by tile id; runs stay in memory while they fit and are
// spilled to a temporary file when they do not (external merge sort). A k-way merge then hands out each tile's
// records in ascending tile-id order — the order the archive is written in.
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import type { RecordBatch } from './records.js';

/** A sorted run being read: the current record's tile id, and taking all records of that tile. */
export interface RunCursor {
  /** tile id of the current record; Infinity when exhausted */
  peek(): number;
  /** passes the bytes of every record of the current tile to `sink` (possibly in several slices); returns the count */
  take(sink: (bytes: Uint8Array) => void): number;
}

export class MemoryRun implements RunCursor {
  private pos = 0;
  constructor(private readonly run: RecordBatch) {}

  peek(): number {
    return this.pos < this.run.tileIds.length ? this.run.tileIds[this.pos]! : Infinity;
  }

  take(sink: (bytes: Uint8Array) => void): number {
    const { tileIds, offsets, bytes } = this.run;
    const start = this.pos;
    const id = tileIds[start]!;
    let end = start + 1;
    while (end < tileIds.length && tileIds[end] === id) end++;
    sink(bytes.subarray(offsets[start]!, end < offsets.length ? offsets[end]! : bytes.length));
    this.pos = end;
    return end - start;
  }
}

interface SpilledRun {
  bytesPos: number;
  bytesLen: number;
  idsPos: number;
  count: number;
}

const WINDOW = 1 << 16;

/** A run on disk, read through a window of records. */
class FileRun implements RunCursor {
  private ids = new Float64Array(0);
  private offs = new Uint32Array(0);
  private bytes = new Uint8Array(0);
  /** index of the first record in the window, and the position within it */
  private first = 0;
  private pos = 0;

  constructor(
    private readonly fd: number,
    private readonly run: SpilledRun,
  ) {
    this.load(0);
  }

  private load(first: number): void {
    const n = Math.min(WINDOW, this.run.count - first);
    this.first = first;
    this.pos = 0;
    if (n <= 0) {
      this.ids = new Float64Array(0);
      return;
    }
    const meta = new Uint8Array(n * 12 + 4);
    readSync(this.fd, meta, 0, n * 8, this.run.idsPos + first * 8);
    this.ids = new Float64Array(meta.buffer, 0, n);
    const offsBuf = new Uint8Array((n + 1) * 4);
    const offsPos = this.run.idsPos + this.run.count * 8;
    const haveNext = first + n < this.run.count;
    readSync(this.fd, offsBuf, 0, (haveNext ? n + 1 : n) * 4, offsPos + first * 4);
    const offs = new Uint32Array(offsBuf.buffer);
    if (!haveNext) offs[n] = this.run.bytesLen;
    const start = offs[0]!;
    const len = offs[n]! - start;
    this.bytes = new Uint8Array(len);
    readSync(this.fd, this.bytes, 0, len, this.run.bytesPos + start);
    for (let i = 0; i <= n; i++) offs[i]! -= start;
    this.offs = offs;
  }

  peek(): number {
    if (this.pos >= this.ids.length) {
      if (this.first + this.ids.length >= this.run.count) return Infinity;
      this.load(this.first + this.ids.length);
    }
    return this.pos < this.ids.length ? this.ids[this.pos]! : Infinity;
  }

  take(sink: (bytes: Uint8Array) => void): number {
    const id = this.peek();
    let count = 0;
    while (this.peek() === id) {
      const start = this.pos;
      let end = start + 1;
      while (end < this.ids.length && this.ids[end] === id) end++;
      sink(this.bytes.subarray(this.offs[start]!, this.offs[end]!));
      count += end - start;
      this.pos = end;
    }
    return count;
  }
}

/** Writes runs to one temporary file and reads them back as cursors. */
export class SpillFile {
  private readonly fd: number;
  private size = 0;
  readonly runs: SpilledRun[] = [];

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w+');
  }

  private write(b: Uint8Array): void {
    let done = 0;
    while (done < b.length) done += writeSync(this.fd, b, done, b.length - done, this.size + done);
    this.size += b.length;
  }

  spill(run: RecordBatch): void {
    const bytesPos = this.size;
    this.write(run.bytes);
    const idsPos = this.size;
    this.write(new Uint8Array(run.tileIds.buffer, run.tileIds.byteOffset, run.tileIds.byteLength));
    this.write(new Uint8Array(run.offsets.buffer, run.offsets.byteOffset, run.offsets.byteLength));
    this.runs.push({ bytesPos, bytesLen: run.bytes.length, idsPos, count: run.tileIds.length });
  }

  get bytes(): number {
    return this.size;
  }

  cursors(): RunCursor[] {
    return this.runs.map((r) => new FileRun(this.fd, r));
  }

  close(): void {
    closeSync(this.fd);
    rmSync(this.path, { force: true });
  }
}

export interface TileRecords {
  tileId: number;
  /** slices of record bytes, concatenated they are the tile's records */
  parts: Uint8Array[];
  records: number;
}

/** k-way merge over sorted runs with a binary heap keyed by each cursor's current tile id. */
export class RunMerger {
  private readonly heap: RunCursor[] = [];

  constructor(cursors: RunCursor[]) {
    for (const c of cursors) if (c.peek() !== Infinity) this.push(c);
  }

  private push(c: RunCursor): void {
    const h = this.heap;
    h.push(c);
    let i = h.length - 1;
    const k = c.peek();
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.peek() <= k) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = c;
  }

  private pop(): RunCursor {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      const k = last.peek();
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const m = r < h.length && h[r]!.peek() < h[l]!.peek() ? r : l;
        if (h[m]!.peek() >= k) break;
        h[i] = h[m]!;
        i = m;
      }
      h[i] = last;
    }
    return top;
  }

  /** The next tile's records, or undefined when every run is exhausted. */
  next(): TileRecords | undefined {
    if (!this.heap.length) return undefined;
    const tileId = this.heap[0]!.peek();
    const parts: Uint8Array[] = [];
    let records = 0;
    const sink = (b: Uint8Array): void => {
      parts.push(b);
    };
    while (this.heap.length && this.heap[0]!.peek() === tileId) {
      const c = this.pop();
      records += c.take(sink);
      if (c.peek() !== Infinity) this.push(c);
    }
    return { tileId, parts, records };
  }
}
