// The native tile encoder (native/tile.c → build/native/tile.node): one tile's records straight to MVT bytes, the
// same bytes as encodeLayers(groupLayers(…)) in assemble.ts, without a JavaScript object per record.
// Optional: without it (or with WEFT_NATIVE_TILES=0) every tile is encoded in JavaScript, with the same result.
import { loadAddon } from '../../core/native.js';

interface TileAddon {
  /** see native/tile.c: the tile's length in `out` (info[0] = end), -1 (left to JavaScript), -2 (info[1] = size) */
  encodeTile(
    buf: Uint8Array,
    start: number,
    count: number,
    extent: number,
    out: Uint8Array,
    info: Float64Array,
  ): number;
  /** the same for records at buf[starts[0]], buf[starts[1]], … */
  encodeTileAt(
    buf: Uint8Array,
    starts: Uint32Array,
    count: number,
    extent: number,
    out: Uint8Array,
    info: Float64Array,
  ): number;
}

/** A thread's encoder: its output buffer is reused from tile to tile. */
export class TileEncoder {
  private out = new Uint8Array(1 << 16);
  private readonly info = new Float64Array(2);
  /** where the records of the last tile encoded by `encode` end */
  end = 0;

  constructor(private readonly addon: TileAddon) {}

  /**
   * The MVT bytes of the tile whose `count` records start at `buf[start]`, one after another (valid until the next
   * call), `end` set to where they end; null when the tile is left to the JavaScript encoder (see native/tile.c).
   */
  encode(buf: Uint8Array, start: number, count: number, extent: number): Uint8Array | null {
    for (;;) {
      const n = this.addon.encodeTile(buf, start, count, extent, this.out, this.info);
      if (n !== -2) return this.result(n);
      this.out = new Uint8Array(2 * this.info[1]!);
    }
  }

  /** The same for the tile whose records start at `buf[starts[0]]`, …, `buf[starts[count - 1]]`. */
  encodeAt(buf: Uint8Array, starts: Uint32Array, count: number, extent: number): Uint8Array | null {
    for (;;) {
      const n = this.addon.encodeTileAt(buf, starts, count, extent, this.out, this.info);
      if (n !== -2) return this.result(n);
      this.out = new Uint8Array(2 * this.info[1]!);
    }
  }

  private result(n: number): Uint8Array | null {
    if (n < 0) return null;
    this.end = this.info[0]!;
    return this.out.subarray(0, n);
  }
}

const addon = () => loadAddon<TileAddon>('tile', 'gcc');
let encoder: TileEncoder | undefined;

/** The encoder, or null when it is not built or switched off. */
export function nativeTileEncoder(): TileEncoder | null {
  if (process.env.WEFT_NATIVE_TILES === '0') return null;
  const module = addon().module;
  if (!module) return null;
  return (encoder ??= new TileEncoder(module));
}

/** Why the encoder is not used ('' when it is). */
export function nativeTileEncoderError(): string {
  if (process.env.WEFT_NATIVE_TILES === '0') return 'switched off by WEFT_NATIVE_TILES=0';
  return addon().error;
}
