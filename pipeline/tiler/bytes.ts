// A growable byte buffer with protobuf varints and little-endian doubles: the one writer the engine's records and
// tile assembly share.

const textEncoder = new TextEncoder();

export class ByteWriter {
  buf: Uint8Array;
  view: DataView;
  pos = 0;

  constructor(size = 64 * 1024) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  varint(v: number): void {
    this.ensure(10);
    if (v < 0x80 && v >= 0) {
      this.buf[this.pos++] = v;
      return;
    }
    if (v < 0 || v > Number.MAX_SAFE_INTEGER) throw new RangeError(`varint out of range: ${v}`);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  /** zigzag-encoded signed varint */
  svarint(v: number): void {
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  f32(v: number): void {
    this.ensure(4);
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** length-prefixed UTF-8 string */
  string(s: string): void {
    const max = s.length * 3;
    this.ensure(max + 5);
    // write the string after a worst-case 5-byte slot, then move it down once the length is known
    const start = this.pos + 5;
    const { written } = textEncoder.encodeInto(s, this.buf.subarray(start));
    this.varint(written);
    this.buf.copyWithin(this.pos, start, start + written);
    this.pos += written;
  }

  /** protobuf field key */
  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  reset(): void {
    this.pos = 0;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** Reads what ByteWriter wrote. */
export class ByteReader {
  view: DataView;
  pos = 0;
  constructor(public buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  varint(): number {
    let b = this.buf[this.pos++]!;
    if (b < 0x80) return b;
    let v = b & 0x7f;
    let mul = 0x80;
    for (;;) {
      b = this.buf[this.pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 0x80;
    }
  }
  u8(): number {
    return this.buf[this.pos++]!;
  }
  u32(): number {
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  f64(): number {
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  /** a length-prefixed slice (no copy) */
  slice(): Uint8Array {
    const len = this.varint();
    const s = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return s;
  }
}
