// Where every byte of a pack comes from, computed from the entries' sizes alone: tar headers, small files held in
// memory, and the archives' bytes in the blob store. Any byte range of the pack maps onto these parts, so a server
// answers ranges (resumed downloads) without building the pack. Pure.
import { BLOCK, TRAILER_BYTES, encodeHeader, paddingFor } from './tar.js';

/** An entry's bytes: in memory (manifests, styles), or an object in the blob store (archives). */
export type EntryContent =
  { kind: 'bytes'; bytes: Uint8Array } | { kind: 'blob'; key: string; sha256?: string };

export interface PackEntry {
  name: string;
  size: number;
  content: EntryContent;
}

/** A run of pack bytes: literal bytes, or the whole of a blob (its `length` bytes, sha256 when known). */
export type Part =
  | { offset: number; length: number; kind: 'bytes'; bytes: Uint8Array }
  | { offset: number; length: number; kind: 'blob'; key: string; sha256?: string };

export interface EntryPlacement {
  name: string;
  /** where its header starts */
  headerOffset: number;
  /** where its data starts */
  dataOffset: number;
  size: number;
}

export interface PackLayout {
  /** the pack's exact length in bytes */
  size: number;
  parts: Part[];
  entries: EntryPlacement[];
}

/** One piece of a byte range: literal bytes, or bytes `start`…`end` (inclusive) of a blob of `size` bytes. */
export type Segment =
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'blob'; key: string; start: number; end: number; size: number; sha256?: string };

const ZEROS = new Uint8Array(Math.max(BLOCK, TRAILER_BYTES));

/** Lays the entries out in order as a ustar archive, every header with mtime `mtime` (seconds). */
export function layoutPack(entries: readonly PackEntry[], mtime: number): PackLayout {
  const parts: Part[] = [];
  const placements: EntryPlacement[] = [];
  let offset = 0;
  let pending: Uint8Array[] = [];
  let pendingStart = 0;
  let pendingLength = 0;
  const literal = (bytes: Uint8Array) => {
    if (bytes.length === 0) return;
    if (pending.length === 0) pendingStart = offset;
    pending.push(bytes);
    pendingLength += bytes.length;
    offset += bytes.length;
  };
  const flush = () => {
    if (pending.length === 0) return;
    const bytes = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
    parts.push({ offset: pendingStart, length: pendingLength, kind: 'bytes', bytes });
    pending = [];
    pendingLength = 0;
  };
  const names = new Set<string>();
  for (const e of entries) {
    if (names.has(e.name)) throw new Error(`pack entry '${e.name}' is given twice`);
    names.add(e.name);
    if (e.content.kind === 'bytes' && e.content.bytes.length !== e.size)
      throw new Error(`pack entry '${e.name}': size ${e.size} but ${e.content.bytes.length} bytes given`);
    const headerOffset = offset;
    literal(encodeHeader({ name: e.name, size: e.size, mtime }));
    placements.push({ name: e.name, headerOffset, dataOffset: offset, size: e.size });
    if (e.content.kind === 'bytes') literal(e.content.bytes);
    else if (e.size > 0) {
      flush();
      parts.push({ offset, length: e.size, kind: 'blob', key: e.content.key, sha256: e.content.sha256 });
      offset += e.size;
    }
    literal(ZEROS.subarray(0, paddingFor(e.size)));
  }
  literal(ZEROS.subarray(0, TRAILER_BYTES));
  flush();
  return { size: offset, parts, entries: placements };
}

/** The pieces that make bytes `start`…`end` (inclusive) of the pack, in order. */
export function sliceLayout(layout: PackLayout, start: number, end: number): Segment[] {
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end >= start && end < layout.size))
    throw new RangeError(`bytes ${start}-${end} are not a range of a ${layout.size}-byte pack`);
  const out: Segment[] = [];
  // the first part that ends after `start` (parts are few: a linear scan is enough)
  for (const p of layout.parts) {
    const pEnd = p.offset + p.length - 1;
    if (pEnd < start) continue;
    if (p.offset > end) break;
    const from = Math.max(start, p.offset) - p.offset;
    const to = Math.min(end, pEnd) - p.offset;
    if (p.kind === 'bytes') out.push({ kind: 'bytes', bytes: p.bytes.subarray(from, to + 1) });
    else out.push({ kind: 'blob', key: p.key, start: from, end: to, size: p.length, sha256: p.sha256 });
  }
  return out;
}
