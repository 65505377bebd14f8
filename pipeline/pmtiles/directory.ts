// PMTiles v3 directories (spec 4.2/4.3): entries as columns of varints, delta tile ids, offsets 0 when contiguous.

export interface Entry {
  tileId: number;
  /** relative to the tile data section (tiles) or the leaf directories section (leaves) */
  offset: number;
  length: number;
  /** tiles covered by this entry; 0 marks a leaf directory */
  runLength: number;
}

/** A directory that cannot be decoded; the message says where. */
export class DirectoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DirectoryError';
  }
}

/** Growable byte buffer with a varint writer (values up to 2^53). */
export class VarintWriter {
  private buf: Uint8Array;
  length = 0;

  constructor(capacity = 1024) {
    this.buf = new Uint8Array(capacity);
  }

  private grow(min: number): void {
    let cap = this.buf.length * 2;
    while (cap < min) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  write(value: number): void {
    if (this.length + 10 > this.buf.length) this.grow(this.length + 10);
    if (!(value >= 0) || !Number.isSafeInteger(value))
      throw new RangeError(`varint ${value} is not a non-negative integer`);
    const buf = this.buf;
    let pos = this.length;
    let v = value;
    if (v < 0x8000_0000) {
      while (v > 0x7f) {
        buf[pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[pos++] = v;
    } else {
      while (v > 0x7f) {
        buf[pos++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      buf[pos++] = v;
    }
    this.length = pos;
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Column view of a run of entries (what the writer keeps in typed arrays). */
export interface EntryColumns {
  tileIds: ArrayLike<number>;
  offsets: ArrayLike<number>;
  lengths: ArrayLike<number>;
  runLengths: ArrayLike<number>;
}

/** Entries kept as growable typed-array columns: ~24 bytes per entry. */
export class EntryTable implements EntryColumns {
  tileIds = new Float64Array(1 << 14);
  offsets = new Float64Array(1 << 14);
  lengths = new Uint32Array(1 << 14);
  runLengths = new Uint32Array(1 << 14);
  count = 0;

  push(tileId: number, offset: number, length: number, runLength: number): void {
    if (this.count === this.tileIds.length) this.grow();
    const i = this.count++;
    this.tileIds[i] = tileId;
    this.offsets[i] = offset;
    this.lengths[i] = length;
    this.runLengths[i] = runLength;
  }

  private grow(): void {
    const cap = this.tileIds.length * 2;
    const copy = <T extends Float64Array | Uint32Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.tileIds = copy(this.tileIds, (n) => new Float64Array(n));
    this.offsets = copy(this.offsets, (n) => new Float64Array(n));
    this.lengths = copy(this.lengths, (n) => new Uint32Array(n));
    this.runLengths = copy(this.runLengths, (n) => new Uint32Array(n));
  }
}

/** Encode entries [start, end) of columns as one (uncompressed) directory. */
export function serializeColumns(c: EntryColumns, start: number, end: number): Uint8Array {
  const w = new VarintWriter(Math.max(64, (end - start) * 6));
  w.write(end - start);
  let lastId = 0;
  for (let i = start; i < end; i++) {
    const id = c.tileIds[i]!;
    w.write(id - lastId);
    lastId = id;
  }
  for (let i = start; i < end; i++) w.write(c.runLengths[i]!);
  for (let i = start; i < end; i++) w.write(c.lengths[i]!);
  let nextByte = 0;
  for (let i = start; i < end; i++) {
    const offset = c.offsets[i]!;
    w.write(i > start && offset === nextByte ? 0 : offset + 1);
    nextByte = offset + c.lengths[i]!;
  }
  return w.bytes();
}

/** Encode a directory (uncompressed). Tile ids must be ascending (checked). */
export function serializeDirectory(entries: readonly Entry[]): Uint8Array {
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.tileId <= entries[i - 1]!.tileId) {
      throw new RangeError(
        `directory entry ${i}: tile id ${entries[i]!.tileId} is not above ${entries[i - 1]!.tileId}`,
      );
    }
  }
  return serializeColumns(
    {
      tileIds: entries.map((e) => e.tileId),
      offsets: entries.map((e) => e.offset),
      lengths: entries.map((e) => e.length),
      runLengths: entries.map((e) => e.runLength),
    },
    0,
    entries.length,
  );
}

/** Decode an (already decompressed) directory. Throws DirectoryError on truncated or malformed input. */
export function deserializeDirectory(bytes: Uint8Array): Entry[] {
  let pos = 0;
  const read = (what: string): number => {
    let result = 0;
    let factor = 1;
    for (let i = 0; i < 8; i++) {
      if (pos >= bytes.length)
        throw new DirectoryError(`directory is truncated (reading ${what} at byte ${pos})`);
      const b = bytes[pos++]!;
      result += (b & 0x7f) * factor;
      if (b < 0x80) return result;
      factor *= 0x80;
    }
    throw new DirectoryError(`directory has a varint over 2^56 (reading ${what} at byte ${pos})`);
  };
  const n = read('entry count');
  // every entry takes at least 4 bytes: a cheap guard against absurd counts in garbage
  if (n * 4 > bytes.length - pos) {
    throw new DirectoryError(`directory claims ${n} entries but has only ${bytes.length - pos} bytes left`);
  }
  const entries: Entry[] = new Array(n);
  let lastId = 0;
  for (let i = 0; i < n; i++) {
    lastId += read('tile id');
    entries[i] = { tileId: lastId, offset: 0, length: 0, runLength: 0 };
  }
  for (let i = 0; i < n; i++) entries[i]!.runLength = read('run length');
  for (let i = 0; i < n; i++) entries[i]!.length = read('length');
  for (let i = 0; i < n; i++) {
    const v = read('offset');
    const e = entries[i]!;
    if (v === 0 && i > 0) {
      const prev = entries[i - 1]!;
      e.offset = prev.offset + prev.length;
    } else if (v === 0) {
      throw new DirectoryError('directory: the first entry has offset code 0 (no previous entry)');
    } else {
      e.offset = v - 1;
    }
  }
  if (pos !== bytes.length) throw new DirectoryError(`directory has ${bytes.length - pos} trailing bytes`);
  return entries;
}

/**
 * The entry that covers tileId: a tile entry whose run contains it, or the leaf directory entry to descend into.
 * Entries must be sorted by tile id.
 */
export function findEntry(entries: readonly Entry[], tileId: number): Entry | undefined {
  let lo = 0;
  let hi = entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const id = entries[mid]!.tileId;
    if (id < tileId) lo = mid + 1;
    else if (id > tileId) hi = mid - 1;
    else return entries[mid];
  }
  if (hi < 0) return undefined;
  const e = entries[hi]!;
  if (e.runLength === 0 || tileId - e.tileId < e.runLength) return e;
  return undefined;
}
