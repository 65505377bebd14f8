// Encode stage for one tile: records → MVT layers (sorted, keys and values deduplicated) → gzip, within a size budget.
// assembleRecords(At) has the native encoder (native-tiles.ts) write the MVT bytes when it is built; this JavaScript
// encoder, which gives the same bytes, takes the tiles it leaves and those over the budget.
import { ProtoWriter, varintSize } from '../mvt/protobuf-writer.js';
import { ByteReader } from './bytes.js';
import { RecordTable } from './records.js';
import { TileGzip } from './gzip.js';
import { nativeTileEncoder, type TileEncoder } from './native-tiles.js';

export interface AssembleOptions {
  extent: number;
  /** compressed size budget in bytes */
  budget: number;
  /** gzip level */
  level: number;
}

export interface AssembledTile {
  data: Uint8Array;
  /** features dropped to meet the size budget */
  dropped: number;
  /** size before compression */
  rawSize: number;
}

const tileWriter = new ProtoWriter(1 << 16);
const layerWriter = new ProtoWriter(1 << 16);

/**
 * Deduplicates byte strings of one buffer (a layer's keys or values): an open-addressing hash table of 32-bit
 * hashes, hits confirmed byte by byte, entry i being `buf[starts[i] .. ends[i])`. Reused from layer to layer: a
 * generation stamp per slot empties it without clearing.
 */
export class SliceTable {
  private buf: Uint8Array = new Uint8Array(0);
  /** per slot: entry index, valid when stamps[slot] is the current generation */
  private slots = new Uint32Array(1024);
  private stamps = new Uint32Array(1024);
  private generation = 1;
  private hashes = new Uint32Array(256);
  starts = new Uint32Array(256);
  ends = new Uint32Array(256);
  count = 0;

  /** Empties the table for strings of `buf`. */
  reset(buf: Uint8Array): void {
    this.buf = buf;
    this.count = 0;
    if (++this.generation === 0xffffffff) {
      this.stamps.fill(0);
      this.generation = 1;
    }
  }

  indexOf(start: number, end: number): number {
    const buf = this.buf;
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    h >>>= 0;
    const { slots, stamps, generation } = this;
    const mask = slots.length - 1;
    const len = end - start;
    let slot = h & mask;
    while (stamps[slot] === generation) {
      const i = slots[slot]!;
      if (this.hashes[i] === h && this.ends[i]! - this.starts[i]! === len) {
        const s = this.starts[i]!;
        let k = 0;
        while (k < len && buf[s + k] === buf[start + k]) k++;
        if (k === len) return i;
      }
      slot = (slot + 1) & mask;
    }
    const index = this.count++;
    if (index === this.starts.length) {
      const grow = (a: Uint32Array) => {
        const b = new Uint32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
      this.hashes = grow(this.hashes);
    }
    this.starts[index] = start;
    this.ends[index] = end;
    this.hashes[index] = h;
    stamps[slot] = generation;
    slots[slot] = index;
    if (2 * this.count > slots.length) this.rehash();
    return index;
  }

  /** Doubles the slots (at most half full) and places every entry again. */
  private rehash(): void {
    const size = this.slots.length * 2;
    const slots = new Uint32Array(size);
    const stamps = new Uint32Array(size);
    const mask = size - 1;
    for (let i = 0; i < this.count; i++) {
      let slot = this.hashes[i]! & mask;
      while (stamps[slot] === this.generation) slot = (slot + 1) & mask;
      stamps[slot] = this.generation;
      slots[slot] = i;
    }
    this.slots = slots;
    this.stamps = stamps;
  }

  /** Writes each entry as a length-delimited field `field` of `w`, in index order. */
  writeFields(w: ProtoWriter, field: number): void {
    const buf = this.buf;
    for (let i = 0; i < this.count; i++) {
      const start = this.starts[i]!;
      const end = this.ends[i]!;
      w.key(field, 2);
      w.varint(end - start);
      // short strings: a loop costs less than a view per entry
      w.ensure(end - start);
      const out = w.buf;
      let pos = w.pos;
      for (let k = start; k < end; k++) out[pos++] = buf[k]!;
      w.pos = pos;
    }
  }
}

const keyTable = new SliceTable();
const valueTable = new SliceTable();

/** A layer of a tile: its name and the indices of its records in the table, in writing order. */
export type LayerRecords = [name: string, records: number[]];

/** Groups a tile's records by layer (layers in name order, features by sort key then input order). */
export function groupLayers(t: RecordTable): LayerRecords[] {
  const byName = new Map<string, number[]>();
  let list: number[] | undefined;
  let last = '';
  for (let i = 0; i < t.count; i++) {
    const name = t.layer[i]!;
    if (name !== last || !list) {
      last = name;
      list = byName.get(name);
      if (!list) byName.set(name, (list = []));
    }
    list.push(i);
  }
  const out = [...byName.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const { sortKey, seq } = t;
  const before = (a: number, b: number): number => sortKey[a]! - sortKey[b]! || seq[a]! - seq[b]!;
  for (const [, records] of out) {
    // the merge mostly hands records over in order already: sort only when needed
    for (let k = 1; k < records.length; k++) {
      if (before(records[k - 1]!, records[k]!) > 0) {
        records.sort(before);
        break;
      }
    }
  }
  return out;
}

let tags = new Uint32Array(64);

/** Writes one MVT tile (spec 2.1) from grouped records; the bytes are valid until the next call. */
export function encodeLayers(t: RecordTable, layers: LayerRecords[], extent: number): Uint8Array {
  const out = tileWriter;
  out.reset();
  const buf = t.buf;
  const r = new ByteReader(buf);
  for (const [name, records] of layers) {
    if (!records.length) continue;
    const w = layerWriter;
    w.reset();
    w.key(15, 0);
    w.varint(2); // version
    w.key(1, 2);
    w.string(name);
    keyTable.reset(buf);
    valueTable.reset(buf);
    for (const rec of records) {
      r.pos = t.propsStart[rec]!;
      const n = r.varint();
      if (tags.length < 2 * n) tags = new Uint32Array(4 * n);
      let tagLen = 0;
      for (let k = 0; k < n; k++) {
        const klen = r.varint();
        const ki = keyTable.indexOf(r.pos, (r.pos += klen));
        const vlen = r.varint();
        const vi = valueTable.indexOf(r.pos, (r.pos += vlen));
        tags[2 * k] = ki;
        tags[2 * k + 1] = vi;
        tagLen += varintSize(ki) + varintSize(vi);
      }
      // Feature message: id (1), tags (2, packed), type (3), geometry (4, packed)
      const id = t.id[rec]!;
      const gStart = t.geomStart[rec]!;
      const gLen = t.geomEnd[rec]! - gStart;
      const size =
        (id >= 0 ? 1 + varintSize(id) : 0) +
        (n ? 1 + varintSize(tagLen) + tagLen : 0) +
        2 +
        1 +
        varintSize(gLen) +
        gLen;
      w.key(2, 2);
      w.varint(size);
      w.ensure(size);
      if (id >= 0) {
        w.key(1, 0);
        w.varintUnchecked(id);
      }
      if (n) {
        w.key(2, 2);
        w.varintUnchecked(tagLen);
        for (let i = 0; i < 2 * n; i++) w.varintUnchecked(tags[i]!);
      }
      w.key(3, 0);
      w.varintUnchecked(t.type[rec]!);
      w.key(4, 2);
      w.varintUnchecked(gLen);
      const wb = w.buf;
      let pos = w.pos;
      for (let i = gStart; i < gStart + gLen; i++) wb[pos++] = buf[i]!;
      w.pos = pos;
    }
    keyTable.writeFields(w, 3);
    valueTable.writeFields(w, 4);
    w.key(5, 0);
    w.varint(extent);
    out.key(3, 2);
    out.varint(w.pos);
    out.bytes(w.buf.subarray(0, w.pos));
  }
  return out.buf.subarray(0, out.pos);
}

/** One reusable compressor per gzip level (per worker thread). */
const compressors = new Map<number, TileGzip>();
function compressor(level: number): TileGzip {
  let c = compressors.get(level);
  if (!c) compressors.set(level, (c = new TileGzip(level)));
  return c;
}

/**
 * Encodes and compresses a tile; when the compressed tile exceeds the budget, drops every other feature of the
 * layers (later features in sort order first) until it fits, and reports how many were dropped.
 */
export function assembleTile(t: RecordTable, opts: AssembleOptions): AssembledTile {
  let layers = groupLayers(t);
  let dropped = 0;
  for (let attempt = 0; ; attempt++) {
    const raw = encodeLayers(t, layers, opts.extent);
    const data = compressor(opts.level).gzip(raw);
    if (data.length <= opts.budget || attempt > 40) {
      return { data, dropped, rawSize: raw.length };
    }
    // keep a share of each layer proportional to how far over budget we are (at most half per round)
    const keep = Math.min(0.5, (opts.budget / data.length) * 0.9);
    let total = 0;
    layers = layers.map(([name, list]) => {
      if (list.length <= 1) return [name, list];
      const target = Math.max(1, Math.floor(list.length * keep));
      const step = list.length / target;
      const kept: number[] = [];
      for (let i = 0; i < target; i++) kept.push(list[Math.floor(i * step)]!);
      dropped += list.length - kept.length;
      total += kept.length;
      return [name, kept];
    });
    if (total === 0) return { data, dropped, rawSize: raw.length };
  }
}

const table = new RecordTable();

/** The thread's native encoder: looked up on its first tile (WEFT_NATIVE_TILES=0 switches it off), null without. */
let tileEncoder: TileEncoder | null | undefined;
const encoder = (): TileEncoder | null =>
  tileEncoder === undefined ? (tileEncoder = nativeTileEncoder()) : tileEncoder;

/** How this thread's tiles were encoded by assembleRecords(At): natively, or in JavaScript (left to it, over budget). */
export const encodedTiles = { native: 0, javascript: 0 };

/** The native encoder's tile compressed, when it has one and it fits the budget (else JavaScript encodes it). */
function compressNative(raw: Uint8Array | null | undefined, opts: AssembleOptions): Uint8Array | null {
  if (!raw) return null;
  const data = compressor(opts.level).gzip(raw);
  if (data.length > opts.budget) return null;
  encodedTiles.native++;
  return data;
}

/**
 * Encodes and compresses the tile whose `count` records start at `buf[start]` (as RecordWriter wrote them, one after
 * another); `end` is where they end. The native encoder writes the tile when it can and the tile fits the budget;
 * otherwise the JavaScript encoder does (the same bytes, and it drops features to meet the budget).
 */
export function assembleRecords(
  buf: Uint8Array,
  start: number,
  count: number,
  opts: AssembleOptions,
): AssembledTile & { end: number } {
  const native = encoder();
  const raw = native?.encode(buf, start, count, opts.extent);
  const data = compressNative(raw, opts);
  if (data) return { data, dropped: 0, rawSize: raw!.length, end: native!.end };
  encodedTiles.javascript++;
  const r = new ByteReader(buf);
  r.pos = start;
  table.read(r, count);
  return { ...assembleTile(table, opts), end: r.pos };
}

/** The same for a tile whose records lie apart: record i starts at `buf[starts[i]]` (i < count). */
export function assembleRecordsAt(
  buf: Uint8Array,
  starts: Uint32Array,
  count: number,
  opts: AssembleOptions,
): AssembledTile {
  const raw = encoder()?.encodeAt(buf, starts, count, opts.extent);
  const data = compressNative(raw, opts);
  if (data) return { data, dropped: 0, rawSize: raw!.length };
  encodedTiles.javascript++;
  table.readAt(buf, starts, count);
  return assembleTile(table, opts);
}
