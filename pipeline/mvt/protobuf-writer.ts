// A reusable, growable protobuf wire-format writer for the MVT encoder (varints, fixed64, strings; no per-call allocation).

const TWO_32 = 0x100000000;

/** Bytes a non-negative integer takes as a varint. */
export function varintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  if (v < 0x800000000) return 5;
  let n = 5;
  v = Math.floor(v / 0x800000000);
  while (v > 0) {
    n++;
    v = Math.floor(v / 0x80);
  }
  return n;
}

const textEncoder = new TextEncoder();

export class ProtoWriter {
  buf: Uint8Array;
  view: DataView;
  pos = 0;

  constructor(initialSize = 1 << 16) {
    this.buf = new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer);
  }

  reset(): void {
    this.pos = 0;
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Writes a non-negative integer varint; the caller has ensured room (10 bytes at most). */
  varintUnchecked(v: number): void {
    const buf = this.buf;
    let pos = this.pos;
    if (v < TWO_32) {
      while (v >= 0x80) {
        buf[pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[pos++] = v;
    } else {
      while (v >= 0x80) {
        buf[pos++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      buf[pos++] = v;
    }
    this.pos = pos;
  }

  varint(v: number): void {
    this.ensure(10);
    this.varintUnchecked(v);
  }

  /** A field key: field number and wire type. */
  key(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  double(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  float(v: number): void {
    this.ensure(4);
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
  }

  /** Raw bytes, as they are. */
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  /** A length-prefixed UTF-8 string. */
  string(s: string): void {
    // a UTF-16 code unit becomes at most 3 UTF-8 bytes
    const max = s.length * 3;
    this.ensure(max + 5);
    const lenSize = varintSize(max);
    const start = this.pos + lenSize;
    const { written } = textEncoder.encodeInto(s, this.buf.subarray(start, start + max));
    const realSize = varintSize(written);
    if (realSize !== lenSize) this.buf.copyWithin(this.pos + realSize, start, start + written);
    this.varintUnchecked(written);
    this.pos += written;
  }

  /**
   * Starts a length-delimited message: reserves room for its length and returns a mark for `endMessage`.
   * Reserving 5 bytes covers messages up to 32 GiB; `endMessage` shifts the payload when fewer are needed.
   */
  beginMessage(): number {
    this.ensure(5);
    this.pos += 5;
    return this.pos;
  }

  endMessage(mark: number): void {
    const len = this.pos - mark;
    const size = varintSize(len);
    const at = mark - 5;
    if (size !== 5) this.buf.copyWithin(at + size, mark, this.pos);
    this.pos = at;
    this.varintUnchecked(len);
    this.pos += len;
  }

  /** A copy of what was written. */
  result(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
