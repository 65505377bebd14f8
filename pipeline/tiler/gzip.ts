// Gzip for many small tiles. With the native binding (native/deflate.c, built by scripts/setup.sh into
// build/native/deflate.node) each tile is one call into libdeflate: no stream to set up or reset, and ≈ 2.5× faster
// than zlib at the same level on vector tiles, a little smaller too. Without it (a checkout set up by `npm ci` alone,
// no libdeflate-dev) the tiler falls back to zlib and says so once: one zlib stream reused, reset after each tile
// instead of a new one per call (`zlib.gzipSync` builds a stream and a native state for every call, which for tiles
// of a few hundred bytes costs more than the compression); each tile is then byte-identical to
// `gzipSync(tile, { level })` (a test checks it). Either way the bytes depend only on the tile, the level and the
// compressor (`gzipBackend`), so a build is reproducible on one installation.
import { constants, createGzip, gzipSync, type Gzip } from 'node:zlib';
import { loadAddon } from '../../core/native.js';

interface Deflate {
  gzip(input: Uint8Array, level: number): Uint8Array;
  version: string;
}

const addon = () => loadAddon<Deflate>('deflate', 'gcc and libdeflate-dev');

/** The libdeflate binding, or null when it is not built (the reason in `nativeGzipError()`). */
export function nativeDeflate(): Deflate | null {
  return addon().module;
}

/** Why the native binding is not used ('' when it is). */
export function nativeGzipError(): string {
  return addon().error;
}

/** The compressor tiles get: 'libdeflate <version>' or 'zlib <version>'. */
export function gzipBackend(): string {
  const d = nativeDeflate();
  return d ? `libdeflate ${d.version}` : `zlib ${process.versions.zlib}`;
}

export type GzipKind = 'native' | 'zlib';

interface NativeHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
  reset(): void;
}

export class TileGzip {
  private readonly native: Deflate | null;
  private readonly stream: Gzip | undefined;
  private readonly handle: NativeHandle | undefined;
  /** zlib's [avail_out, avail_in] after each write */
  private readonly state: Uint32Array | undefined;
  private out = new Uint8Array(1 << 16);

  /** `kind` 'zlib' forces the fallback (tests, comparisons); by default the native binding when it is built. */
  constructor(
    private readonly level: number,
    kind: GzipKind = 'native',
  ) {
    this.native = kind === 'native' ? nativeDeflate() : null;
    if (this.native) return;
    this.stream = createGzip({ level });
    const internals = this.stream as unknown as { _handle?: NativeHandle; _writeState?: Uint32Array };
    const handle = internals._handle;
    const state = internals._writeState;
    if (handle && typeof handle.writeSync === 'function' && typeof handle.reset === 'function' && state) {
      this.handle = handle;
      this.state = state;
    }
  }

  /** The gzip member of `input` (a fresh copy). */
  gzip(input: Uint8Array): Uint8Array {
    if (this.native) return this.native.gzip(input, this.level);
    const handle = this.handle;
    const state = this.state;
    if (!handle || !state) return gzipSync(input, { level: this.level });
    let out = this.out;
    let outPos = 0;
    let inOff = 0;
    let inLen = input.length;
    for (;;) {
      handle.writeSync(constants.Z_FINISH, input, inOff, inLen, out, outPos, out.length - outPos);
      const availOut = state[0]!;
      const availIn = state[1]!;
      outPos = out.length - availOut;
      // zlib stops with room left in the output only when the stream is finished
      if (availOut !== 0) break;
      inOff += inLen - availIn;
      inLen = availIn;
      const bigger = new Uint8Array(out.length * 2);
      bigger.set(out.subarray(0, outPos));
      this.out = out = bigger;
    }
    handle.reset();
    return out.slice(0, outPos);
  }

  close(): void {
    this.stream?.close();
  }
}
