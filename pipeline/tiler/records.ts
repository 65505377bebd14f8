// The engine's intermediate records: one per (tile, feature), `(tile id, seq, sort key, layer, encoded feature)`,
// packed into byte buffers so that they move between threads and to disk without per-object cost.
import { ByteReader } from './bytes.js';
import { ProtoWriter } from '../mvt/protobuf-writer.js';
import { writeValueMessage } from '../mvt/encode.js';
import type { PropertyValue } from '../mvt/types.js';

const encoder = new TextEncoder();

const propWriter = new ProtoWriter(1024);
const keyBytes = new Map<string, Uint8Array>();
const valueWriter = new ProtoWriter(256);

/** Properties as `[count][key bytes][Value message bytes]…`, computed once per feature and reused by its records. */
export function encodeProperties(props: Record<string, PropertyValue>): Uint8Array {
  const w = propWriter;
  w.reset();
  const keys = Object.keys(props);
  w.varint(keys.length);
  for (const k of keys) {
    // keys repeat across features: their length-prefixed UTF-8 is encoded once
    let kb = keyBytes.get(k);
    if (!kb) {
      valueWriter.reset();
      valueWriter.string(k);
      kb = valueWriter.result();
      if (keyBytes.size < 10_000) keyBytes.set(k, kb);
    }
    w.bytes(kb);
    valueWriter.reset();
    writeValueMessage(valueWriter, props[k]!);
    w.varint(valueWriter.pos);
    w.bytes(valueWriter.buf.subarray(0, valueWriter.pos));
  }
  return w.result();
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

/** Writes records into one buffer and keeps an index of (tile id, offset) per record. */
export class RecordWriter {
  readonly w = new ProtoWriter(1 << 20);
  tileIds: number[] = [];
  offsets: number[] = [];

  add(
    tileId: number,
    seq: number,
    sortKey: number,
    layer: Uint8Array,
    type: number,
    id: number | undefined,
    commands: number[],
    props: Uint8Array,
  ): void {
    const w = this.w;
    this.tileIds.push(tileId);
    this.offsets.push(w.pos);
    w.double(tileId);
    w.double(seq);
    w.double(sortKey);
    w.varint(layer.length);
    w.bytes(layer);
    w.u8(type);
    if (id === undefined) w.u8(0);
    else {
      w.u8(1);
      w.double(id);
    }
    // geometry as the packed varints of MVT field 4, length-prefixed
    let len = 0;
    for (const c of commands) len += varintSize(c);
    w.varint(len);
    for (const c of commands) w.varint(c);
    w.varint(props.length);
    w.bytes(props);
  }

  get count(): number {
    return this.tileIds.length;
  }

  /** The batch, ready to transfer: record bytes plus index arrays, as a run sorted by tile id. */
  finish(): RecordBatch {
    return sortRun(this.w.buf.subarray(0, this.w.pos), this.tileIds, this.offsets);
  }
}

/**
 * Sorts records by tile id (input order kept within a tile) into a fresh buffer. Tile ids below 2^32 (zoom ≤ 15)
 * and fewer than 2^21 records pack with their index into one exact double, so a native numeric sort does it.
 */
export function sortRun(bytes: Uint8Array, tileIds: number[], offsets: number[]): RecordBatch {
  const n = tileIds.length;
  let order: ArrayLike<number>;
  let maxId = 0;
  for (let i = 0; i < n; i++) if (tileIds[i]! > maxId) maxId = tileIds[i]!;
  if (maxId < 2 ** 32 && n < 2 ** 21) {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = tileIds[i]! * 2 ** 21 + i;
    keys.sort();
    const idx = new Uint32Array(n);
    for (let i = 0; i < n; i++) idx[i] = keys[i]! % 2 ** 21;
    order = idx;
  } else {
    order = Array.from({ length: n }, (_, i) => i).sort((a, b) => tileIds[a]! - tileIds[b]! || a - b);
  }
  const out = new Uint8Array(bytes.length);
  const sortedIds = new Float64Array(n);
  const sortedOffsets = new Uint32Array(n);
  let pos = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const start = offsets[i]!;
    const end = i + 1 < n ? offsets[i + 1]! : bytes.length;
    sortedIds[k] = tileIds[i]!;
    sortedOffsets[k] = pos;
    // most records are small: a plain loop beats creating a subarray per record; large ones are copied in one go
    if (end - start > 64) {
      out.set(bytes.subarray(start, end), pos);
      pos += end - start;
    } else for (let j = start; j < end; j++) out[pos++] = bytes[j]!;
  }
  return { bytes: out, tileIds: sortedIds, offsets: sortedOffsets };
}

export interface RecordBatch {
  bytes: Uint8Array;
  tileIds: Float64Array;
  /** start of each record in `bytes`; record i ends where record i+1 starts (or at the end) */
  offsets: Uint32Array;
}

export function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

export interface DecodedRecord {
  tileId: number;
  seq: number;
  sortKey: number;
  layer: string;
  type: number;
  id: number | undefined;
  /** packed geometry varints */
  geometry: Uint8Array;
  /** encoded properties (see encodeProperties) */
  props: Uint8Array;
}

const decoder = new TextDecoder();
const layerCache = new Map<number, { bytes: Uint8Array; name: string }>();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function readRecord(r: ByteReader): DecodedRecord {
  const tileId = r.f64();
  const seq = r.f64();
  const sortKey = r.f64();
  const layerBytes = r.slice();
  // layer names repeat: decode each distinct one once (keyed by a hash, confirmed by length and bytes)
  let h = 0x811c9dc5;
  for (let i = 0; i < layerBytes.length; i++) h = Math.imul(h ^ layerBytes[i]!, 0x01000193);
  let cached = layerCache.get(h);
  if (cached === undefined || !sameBytes(cached.bytes, layerBytes)) {
    cached = { bytes: layerBytes.slice(), name: decoder.decode(layerBytes) };
    layerCache.set(h, cached);
  }
  const layer = cached.name;
  const type = r.u8();
  const id = r.u8() ? r.f64() : undefined;
  const geometry = r.slice();
  const props = r.slice();
  return { tileId, seq, sortKey, layer, type, id, geometry, props };
}
