// A bounds-checked protobuf wire-format reader for MVT decoding and validation: every read fails with an offset.

/** Protobuf wire types (the ones MVT uses, and the deprecated groups we reject). */
export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_START_GROUP = 3;
export const WIRE_END_GROUP = 4;
export const WIRE_FIXED32 = 5;

export const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32'];

export class ProtoError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at byte ${offset}`);
    this.name = 'ProtoError';
  }
}

const TWO_32 = 0x100000000;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Lenient = new TextDecoder('utf-8');

export class ProtoReader {
  pos: number;
  end: number;
  /** low and high 32 bits of the last varint read by `varint64` */
  lo = 0;
  hi = 0;
  /** field number and wire type of the last key read by `next` */
  field = 0;
  wire = 0;

  constructor(
    readonly buf: Uint8Array,
    pos = 0,
    end = buf.length,
  ) {
    this.pos = pos;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads the next field key into `field`/`wire`. */
  next(): void {
    const at = this.pos;
    const key = this.varint();
    if (key >= TWO_32) throw new ProtoError('field key does not fit in 32 bits', at);
    this.field = Math.floor(key / 8);
    this.wire = key & 7;
    if (this.field === 0) throw new ProtoError('field number 0', at);
    if (this.wire > 5) throw new ProtoError(`invalid wire type ${this.wire}`, at);
  }

  /** An unsigned varint as a JS number (exact below 2^53). */
  varint(): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos + 4 < this.end) {
      // fast path: up to 4 bytes (28 bits) without bounds checks
      let b = buf[pos++]!;
      let v = b & 0x7f;
      if (b < 0x80) return ((this.pos = pos), v);
      b = buf[pos++]!;
      v |= (b & 0x7f) << 7;
      if (b < 0x80) return ((this.pos = pos), v);
      b = buf[pos++]!;
      v |= (b & 0x7f) << 14;
      if (b < 0x80) return ((this.pos = pos), v);
      b = buf[pos++]!;
      v |= (b & 0x7f) << 21;
      if (b < 0x80) return ((this.pos = pos), v);
    }
    this.varint64();
    return this.hi * TWO_32 + this.lo;
  }

  /** Reads a varint of up to 10 bytes into `lo`/`hi` (two's complement 64-bit). */
  varint64(): void {
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    let lo = 0;
    let hi = 0;
    for (let i = 0; ; i++) {
      if (pos >= this.end) throw new ProtoError('truncated varint', start);
      if (i >= 10) throw new ProtoError('varint longer than 10 bytes', start);
      const b = buf[pos++]!;
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >> 4;
      } else hi |= bits << (7 * i - 32);
      if (b < 0x80) break;
    }
    this.pos = pos;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** A signed int64 varint (two's complement) as a JS number. */
  int64(): number {
    this.varint64();
    return this.hi >= 0x80000000 ? (this.hi - TWO_32) * TWO_32 + this.lo : this.hi * TWO_32 + this.lo;
  }

  /** A zigzag-encoded sint64 varint as a JS number. */
  sint64(): number {
    this.varint64();
    const u = this.hi * TWO_32 + this.lo;
    return this.lo & 1 ? -(u + 1) / 2 : u / 2;
  }

  /** Reads a length prefix and returns the end offset of the payload (pos is then at its start). */
  bytesEnd(): number {
    const at = this.pos;
    const len = this.varint();
    const end = this.pos + len;
    if (end > this.end) throw new ProtoError(`length ${len} runs past the end of its message`, at);
    return end;
  }

  float(): number {
    if (this.pos + 4 > this.end) throw new ProtoError('truncated fixed32', this.pos);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new ProtoError('truncated fixed64', this.pos);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  /** A length-delimited UTF-8 string; `strict` rejects invalid UTF-8. */
  string(strict = false): string {
    const at = this.pos;
    const end = this.bytesEnd();
    const bytes = this.buf.subarray(this.pos, end);
    this.pos = end;
    if (!strict) return utf8Lenient.decode(bytes);
    try {
      return utf8.decode(bytes);
    } catch {
      throw new ProtoError('string is not valid UTF-8', at);
    }
  }

  /** Skips the value of the last key read, according to its wire type. */
  skip(): void {
    const at = this.pos;
    switch (this.wire) {
      case WIRE_VARINT:
        this.varint64();
        return;
      case WIRE_FIXED64:
        if (this.pos + 8 > this.end) throw new ProtoError('truncated fixed64', at);
        this.pos += 8;
        return;
      case WIRE_BYTES:
        this.pos = this.bytesEnd();
        return;
      case WIRE_FIXED32:
        if (this.pos + 4 > this.end) throw new ProtoError('truncated fixed32', at);
        this.pos += 4;
        return;
      default:
        throw new ProtoError(`unsupported wire type ${this.wire} (${WIRE_NAMES[this.wire]})`, at);
    }
  }

  /**
   * Reads a repeated uint32 field value (packed, or one unpacked varint) and appends it to `out`.
   * Returns false when a value does not fit in 32 bits (the rest is still consumed).
   */
  uint32s(out: number[]): boolean {
    let ok = true;
    if (this.wire === WIRE_VARINT) {
      const v = this.varint();
      if (v >= TWO_32) ok = false;
      out.push(v);
      return ok;
    }
    const end = this.bytesEnd();
    const outer = this.end;
    this.end = end;
    try {
      while (this.pos < end) {
        const v = this.varint();
        if (v >= TWO_32) ok = false;
        out.push(v);
      }
    } finally {
      this.end = outer;
    }
    return ok;
  }
}
