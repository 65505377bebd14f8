// Encode stage for one tile: records → MVT layers (sorted, keys and values deduplicated) → gzip, within a size budget.
import { gzipSync } from 'node:zlib';
import { ProtoWriter } from '../mvt/protobuf-writer.js';
import type { DecodedRecord } from './records.js';

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
const featureWriter = new ProtoWriter(1 << 12);

/** Deduplicates byte strings (a layer's keys or values) by a 32-bit hash, confirming hits byte by byte. */
export class SliceTable {
  private readonly heads = new Map<number, number>();
  private readonly chain: number[] = [];
  readonly slices: Uint8Array[] = [];

  indexOf(buf: Uint8Array, start: number, end: number): number {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    let i = this.heads.get(h);
    while (i !== undefined && i >= 0) {
      const s = this.slices[i]!;
      if (s.length === end - start) {
        let same = true;
        for (let k = 0; k < s.length; k++) {
          if (s[k] !== buf[start + k]) {
            same = false;
            break;
          }
        }
        if (same) return i;
      }
      i = this.chain[i];
    }
    const index = this.slices.length;
    this.slices.push(buf.subarray(start, end));
    this.chain.push(this.heads.get(h) ?? -1);
    this.heads.set(h, index);
    return index;
  }
}

/** Reads a varint at pos; returns the value and leaves the next position in `cursor[0]`. */
function readVarint(buf: Uint8Array, cursor: number[]): number {
  let pos = cursor[0]!;
  let b = buf[pos++]!;
  let v = b & 0x7f;
  let mul = 0x80;
  while (b >= 0x80) {
    b = buf[pos++]!;
    v += (b & 0x7f) * mul;
    mul *= 0x80;
  }
  cursor[0] = pos;
  return v;
}

function compareRecords(a: DecodedRecord, b: DecodedRecord): number {
  return a.sortKey - b.sortKey || a.seq - b.seq;
}

/** Groups a tile's records by layer (layers in name order, features by sort key then input order). */
export function groupLayers(records: DecodedRecord[]): [string, DecodedRecord[]][] {
  const layers = new Map<string, DecodedRecord[]>();
  for (const r of records) {
    let list = layers.get(r.layer);
    if (!list) layers.set(r.layer, (list = []));
    list.push(r);
  }
  const out = [...layers.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [, list] of out) list.sort(compareRecords);
  return out;
}

/** Writes one MVT tile (spec 2.1) from grouped records. */
export function encodeLayers(layers: [string, DecodedRecord[]][], extent: number): Uint8Array {
  const t = tileWriter;
  t.reset();
  for (const [name, features] of layers) {
    if (!features.length) continue;
    const w = layerWriter;
    w.reset();
    w.key(15, 0);
    w.varint(2); // version
    w.key(1, 2);
    w.string(name);
    const keyTable = new SliceTable();
    const valueTable = new SliceTable();
    const tags: number[] = [];
    const cursor = [0];
    for (const f of features) {
      tags.length = 0;
      const p = f.props;
      cursor[0] = 0;
      const n = readVarint(p, cursor);
      for (let i = 0; i < n; i++) {
        const klen = readVarint(p, cursor);
        const ki = keyTable.indexOf(p, cursor[0]!, cursor[0]! + klen);
        cursor[0]! += klen;
        const vlen = readVarint(p, cursor);
        const vi = valueTable.indexOf(p, cursor[0]!, cursor[0]! + vlen);
        cursor[0]! += vlen;
        tags.push(ki, vi);
      }
      // Feature message: id (1), tags (2, packed), type (3), geometry (4, packed)
      let tagLen = 0;
      for (const x of tags) tagLen += x < 0x80 ? 1 : x < 0x4000 ? 2 : x < 0x200000 ? 3 : 4;
      const body = featureWriter;
      body.reset();
      if (f.id !== undefined) {
        body.key(1, 0);
        body.varint(f.id);
      }
      if (tags.length) {
        body.key(2, 2);
        body.varint(tagLen);
        for (const x of tags) body.varint(x);
      }
      body.key(3, 0);
      body.varint(f.type);
      body.key(4, 2);
      body.varint(f.geometry.length);
      body.bytes(f.geometry);
      w.key(2, 2);
      w.varint(body.pos);
      w.bytes(body.buf.subarray(0, body.pos));
    }
    for (const k of keyTable.slices) {
      w.key(3, 2);
      w.varint(k.length);
      w.bytes(k);
    }
    for (const v of valueTable.slices) {
      w.key(4, 2);
      w.varint(v.length);
      w.bytes(v);
    }
    w.key(5, 0);
    w.varint(extent);
    t.key(3, 2);
    t.varint(w.pos);
    t.bytes(w.buf.subarray(0, w.pos));
  }
  return t.result();
}

/**
 * zlib sets up its window and hash tables on every call; sizing them to the input (the same output for a given input)
 * makes small tiles several times cheaper to compress.
 */
export function gzipOptions(
  size: number,
  level: number,
): { level: number; windowBits: number; memLevel: number } {
  let bits = 9;
  while (bits < 15 && 1 << bits < size) bits++;
  const memLevel = Math.min(8, Math.max(2, bits - 7));
  return { level, windowBits: bits, memLevel };
}

/**
 * Encodes and compresses a tile; when the compressed tile exceeds the budget, drops every other feature of the
 * layers (later features in sort order first) until it fits, and reports how many were dropped.
 */
export function assembleTile(records: DecodedRecord[], opts: AssembleOptions): AssembledTile {
  let layers = groupLayers(records);
  let dropped = 0;
  for (let attempt = 0; ; attempt++) {
    const raw = encodeLayers(layers, opts.extent);
    const data = gzipSync(raw, gzipOptions(raw.length, opts.level));
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
      const kept: DecodedRecord[] = [];
      for (let i = 0; i < target; i++) kept.push(list[Math.floor(i * step)]!);
      dropped += list.length - kept.length;
      total += kept.length;
      return [name, kept];
    });
    if (total === 0) return { data, dropped, rawSize: raw.length };
  }
}
