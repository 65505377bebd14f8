// Sort stage, merge half: k-way merge of runs sorted by tile id (from the workers), yielding each tile's record
// ranges in ascending tile-id order — the order the archive is written in.
import type { RecordBatch } from './records.js';

export interface TileSlices {
  tileId: number;
  /** per run holding records of this tile: [run index, first record, end record) */
  slices: number[];
  records: number;
}

export class RunMerger {
  private readonly heap: number[] = [];
  private readonly pos: number[];

  constructor(private readonly runs: RecordBatch[]) {
    this.pos = runs.map(() => 0);
    for (let r = 0; r < runs.length; r++) if (runs[r]!.tileIds.length) this.push(r);
  }

  private key(r: number): number {
    return this.runs[r]!.tileIds[this.pos[r]!]!;
  }

  private less(a: number, b: number): boolean {
    const ka = this.key(a);
    const kb = this.key(b);
    return ka < kb || (ka === kb && a < b);
  }

  private push(r: number): void {
    const h = this.heap;
    h.push(r);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): number {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }

  /** The next tile's record ranges, or undefined when every run is exhausted. */
  next(): TileSlices | undefined {
    if (!this.heap.length) return undefined;
    const tileId = this.key(this.heap[0]!);
    const slices: number[] = [];
    let records = 0;
    while (this.heap.length && this.key(this.heap[0]!) === tileId) {
      const r = this.pop();
      const ids = this.runs[r]!.tileIds;
      const start = this.pos[r]!;
      let end = start + 1;
      while (end < ids.length && ids[end] === tileId) end++;
      slices.push(r, start, end);
      records += end - start;
      this.pos[r] = end;
      if (end < ids.length) this.push(r);
    }
    return { tileId, slices, records };
  }
}
