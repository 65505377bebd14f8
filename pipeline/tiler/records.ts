// The engine's intermediate records: one per (tile, feature), `(tile id, seq, sort key, layer, encoded feature)`,
// packed into byte buffers so that they move between threads and to disk without per-object cost.
import { ByteReader } from './bytes.js';
import { ProtoWriter, varintSize } from '../mvt/protobuf-writer.js';
import { writeValueMessage } from '../mvt/encode.js';
import type { PropertyValue } from '../mvt/types.js';

const encoder = new TextEncoder();

const keyBytes = new Map<string, Uint8Array>();
const keyWriter = new ProtoWriter(256);

/** Writes properties as `[count]([key: length + UTF-8][Value message: length + bytes])…`. */
export function encodeProperties(w: ProtoWriter, props: Record<string, PropertyValue>): void {
  const keys = Object.keys(props);
  w.varint(keys.length);
  for (const k of keys) {
    // keys repeat across features: their length-prefixed UTF-8 is encoded once
    let kb = keyBytes.get(k);
    if (!kb) {
      keyWriter.reset();
      keyWriter.string(k);
      kb = keyWriter.result();
      if (keyBytes.size < 10_000) keyBytes.set(k, kb);
    }
    w.bytes(kb);
    const mark = w.beginMessage();
    writeValueMessage(w, props[k]!);
    w.endMessage(mark);
  }
}

const layerNames = new Map<string, Uint8Array>();
export function layerNameBytes(name: string): Uint8Array {
  let b = layerNames.get(name);
  if (!b) {
    b = encoder.encode(name);
    layerNames.set(name, b);
  }
  return b;
}

/** Appends a feature's tail (room ensured): a loop for the usual few dozen bytes, set() for long ones. */
function copyTail(w: ProtoWriter, tail: Uint8Array): void {
  const n = tail.length;
  if (n > 128) {
    w.buf.set(tail, w.pos);
    w.pos += n;
    return;
  }
  const buf = w.buf;
  let pos = w.pos;
  for (let i = 0; i < n; i++) buf[pos++] = tail[i]!;
  w.pos = pos;
}

/** Record buffers of finished writers, reused by the next writer of the thread (a run is copied out of it). */
const spareBuffers: ProtoWriter[] = [];

/**
 * Writes records into one buffer and keeps an index of (tile id, offset) per record. A record is
 * `[type u8][geometry: varint length + the packed varints of MVT field 4][feature tail]`; the tail, the same for
 * every record of one feature and encoded once per feature, is
 * `[seq varint][flags u8][sort key f64 if flags & 2][id f64 if flags & 1][layer: length + UTF-8][properties: length +
 * encodeProperties bytes]`. The tile id lives in the index only.
 */
export class RecordWriter {
  readonly w: ProtoWriter;
  private readonly tailWriter = new ProtoWriter(1024);
  private tail: Uint8Array = new Uint8Array(0);
  tileIds: number[] = [];
  offsets: number[] = [];

  constructor() {
    this.w = spareBuffers.pop() ?? new ProtoWriter(1 << 23);
    this.w.reset();
  }

  /** Starts a feature: what every record of it shares. */
  feature(
    seq: number,
    sortKey: number,
    layer: Uint8Array,
    id: number | undefined,
    props: Record<string, PropertyValue>,
  ): void {
    const t = this.tailWriter;
    t.reset();
    t.varint(seq);
    const flags = (id !== undefined ? 1 : 0) | (sortKey !== 0 ? 2 : 0);
    t.u8(flags);
    if (flags & 2) t.double(sortKey);
    if (id !== undefined) t.double(id);
    t.varint(layer.length);
    t.bytes(layer);
    const mark = t.beginMessage();
    encodeProperties(t, props);
    t.endMessage(mark);
    this.tail = t.buf.subarray(0, t.pos);
  }

  /** A record of the current feature in one tile: its geometry type and command integers. */
  add(tileId: number, type: number, commands: ArrayLike<number>): void {
    let len = 0;
    for (let i = 0; i < commands.length; i++) len += varintSize(commands[i]!);
    const w = this.w;
    const tail = this.tail;
    w.ensure(6 + len + tail.length);
    this.tileIds.push(tileId);
    this.offsets.push(w.pos);
    w.buf[w.pos++] = type;
    w.varintUnchecked(len);
    for (let i = 0; i < commands.length; i++) w.varintUnchecked(commands[i]!);
    copyTail(w, tail);
  }

  /** A point record: one MoveTo to the zigzagged tile coordinates (zx, zy). */
  addPoint(tileId: number, zx: number, zy: number): void {
    const w = this.w;
    const tail = this.tail;
    w.ensure(13 + tail.length);
    this.tileIds.push(tileId);
    this.offsets.push(w.pos);
    const buf = w.buf;
    const start = w.pos;
    buf[start] = 1;
    w.pos = start + 3; // type, length (< 128), MoveTo(1)
    buf[start + 2] = 9;
    w.varintUnchecked(zx);
    w.varintUnchecked(zy);
    buf[start + 1] = w.pos - start - 2;
    copyTail(w, tail);
  }

  get count(): number {
    return this.tileIds.length;
  }

  /** The batch, ready to transfer: record bytes plus index arrays, as a run sorted by tile id. */
  finish(): RecordBatch {
    // room after the records for their sorted copy (sortRun moves records within one buffer)
    const length = this.w.pos;
    this.w.ensure(length);
    const run = sortRun(this.w.buf, length, this.tileIds, this.offsets);
    if (spareBuffers.length < 2) spareBuffers.push(this.w);
    return run;
  }
}

/** Where sorted runs' bytes go: fresh memory by default; a worker puts them in shared memory (setRunBytes). */
let runBytes = (n: number): Uint8Array => new Uint8Array(n);

export function setRunBytes(alloc: (n: number) => Uint8Array): void {
  runBytes = alloc;
}

/** Radix digits of the sort: 11 bits, three passes cover tile ids below 2^33 (every zoom up to 15). */
const DIGIT_BITS = 11;
const DIGITS = 1 << DIGIT_BITS;
const counts = new Uint32Array(DIGITS);

/**
 * The order of records sorted by tile id, input order kept within a tile: a least-significant-digit radix sort
 * (each pass a stable counting sort on 11 bits of the id, the ids carried along so that every pass reads them in
 * sequence). Only as many passes as the span of the ids needs: the keys are the ids less `minId`, so ids that lie
 * close together (an encode job's, a stretch of the tile order) take one or two passes. Ids must be integers in
 * [minId, maxId], maxId below 2^32.
 */
export function radixOrder(tileIds: ArrayLike<number>, maxId: number, minId = 0): Uint32Array {
  const n = tileIds.length;
  let order = new Uint32Array(n);
  let keys = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    order[i] = i;
    keys[i] = tileIds[i]! - minId;
  }
  let nextOrder = new Uint32Array(n);
  let nextKeys = new Uint32Array(n);
  const span = maxId - minId;
  for (let shift = 0; shift < 32 && span >>> shift > 0; shift += DIGIT_BITS) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(keys[i]! >>> shift) & (DIGITS - 1)]!++;
    let sum = 0;
    for (let d = 0; d < DIGITS; d++) {
      const c = counts[d]!;
      counts[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const k = keys[i]!;
      const at = counts[(k >>> shift) & (DIGITS - 1)]!++;
      nextKeys[at] = k;
      nextOrder[at] = order[i]!;
    }
    [order, nextOrder] = [nextOrder, order];
    [keys, nextKeys] = [nextKeys, keys];
  }
  return order;
}

/**
 * Sorts the records in `buf[0 .. length)` by tile id (input order kept within a tile) into a fresh buffer: a radix
 * sort for tile ids below 2^32 (zoom ≤ 15), a comparison sort above. The records are gathered after them in `buf`
 * (grown when it has less than `length` bytes of room there) with copyWithin, a memmove per record without the
 * view object a copy between two arrays needs, then the sorted bytes are taken out in one copy.
 */
export function sortRun(buf: Uint8Array, length: number, tileIds: number[], offsets: number[]): RecordBatch {
  const n = tileIds.length;
  let order: ArrayLike<number>;
  let maxId = 0;
  for (let i = 0; i < n; i++) if (tileIds[i]! > maxId) maxId = tileIds[i]!;
  if (maxId < 2 ** 32) order = radixOrder(tileIds, maxId);
  else order = Array.from({ length: n }, (_, i) => i).sort((a, b) => tileIds[a]! - tileIds[b]! || a - b);
  if (buf.length < 2 * length) {
    const bigger = new Uint8Array(2 * length);
    bigger.set(buf.subarray(0, length));
    buf = bigger;
  }
  const sortedIds = new Float64Array(n);
  const sortedOffsets = new Uint32Array(n);
  let pos = length;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const start = offsets[i]!;
    const end = i + 1 < n ? offsets[i + 1]! : length;
    sortedIds[k] = tileIds[i]!;
    sortedOffsets[k] = pos - length;
    buf.copyWithin(pos, start, end);
    pos += end - start;
  }
  const bytes = runBytes(length);
  bytes.set(buf.subarray(length, 2 * length));
  return { bytes, tileIds: sortedIds, offsets: sortedOffsets };
}

export interface RecordBatch {
  bytes: Uint8Array;
  tileIds: Float64Array;
  /** start of each record in `bytes`; record i ends where record i+1 starts (or at the end) */
  offsets: Uint32Array;
  /** `bytes` lies in the build's arena of shared memory, at its byteOffset (see shared-runs.ts) */
  inArena?: boolean;
}

const decoder = new TextDecoder();
const layerCache = new Map<number, { bytes: Uint8Array; name: string }>();

function sameBytes(a: Uint8Array, buf: Uint8Array, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[start + i]) return false;
  return true;
}

/** Layer names repeat: each distinct one is decoded once (keyed by a hash, confirmed by its bytes). */
function layerName(buf: Uint8Array, start: number, end: number): string {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  let cached = layerCache.get(h);
  if (cached === undefined || !sameBytes(cached.bytes, buf, start, end)) {
    cached = { bytes: buf.slice(start, end), name: decoder.decode(buf.subarray(start, end)) };
    layerCache.set(h, cached);
  }
  return cached.name;
}

/**
 * One tile's records, decoded into columns (no object per record): record i's geometry is
 * `buf[geomStart[i] .. geomEnd[i]]` (packed varints) and its properties `buf[propsStart[i] .. propsEnd[i]]`.
 * Reused from tile to tile; it grows to the largest tile.
 */
export class RecordTable {
  buf: Uint8Array = new Uint8Array(0);
  count = 0;
  layer: string[] = [];
  type = new Uint8Array(256);
  seq = new Float64Array(256);
  sortKey = new Float64Array(256);
  /** the feature id, or -1 when it has none */
  id = new Float64Array(256);
  geomStart = new Uint32Array(256);
  geomEnd = new Uint32Array(256);
  propsStart = new Uint32Array(256);
  propsEnd = new Uint32Array(256);

  /** Reads `count` records from the reader's position (which moves past them). */
  read(r: ByteReader, count: number): void {
    this.start(r.buf, count);
    for (let i = 0; i < count; i++) this.readRecord(r, i);
  }

  /** Reads `count` records of `buf` starting at `starts[0]`, `starts[1]`, … */
  readAt(buf: Uint8Array, starts: Uint32Array, count: number): void {
    this.start(buf, count);
    const r = new ByteReader(buf);
    for (let i = 0; i < count; i++) {
      r.pos = starts[i]!;
      this.readRecord(r, i);
    }
  }

  private start(buf: Uint8Array, count: number): void {
    if (count > this.type.length) this.grow(count);
    this.buf = buf;
    this.count = count;
    this.layer.length = count;
  }

  /** Record i from the reader's position. */
  private readRecord(r: ByteReader, i: number): void {
    this.type[i] = r.u8();
    const glen = r.varint();
    this.geomStart[i] = r.pos;
    this.geomEnd[i] = r.pos += glen;
    this.seq[i] = r.varint();
    const flags = r.u8();
    if (flags & 2) {
      this.sortKey[i] = r.view.getFloat64(r.pos, true);
      r.pos += 8;
    } else this.sortKey[i] = 0;
    if (flags & 1) {
      this.id[i] = r.view.getFloat64(r.pos, true);
      r.pos += 8;
    } else this.id[i] = -1;
    const llen = r.varint();
    this.layer[i] = layerName(r.buf, r.pos, (r.pos += llen));
    const plen = r.varint();
    this.propsStart[i] = r.pos;
    this.propsEnd[i] = r.pos += plen;
  }

  private grow(n: number): void {
    let size = this.type.length;
    while (size < n) size *= 2;
    this.type = new Uint8Array(size);
    this.seq = new Float64Array(size);
    this.sortKey = new Float64Array(size);
    this.id = new Float64Array(size);
    this.geomStart = new Uint32Array(size);
    this.geomEnd = new Uint32Array(size);
    this.propsStart = new Uint32Array(size);
    this.propsEnd = new Uint32Array(size);
  }
}
