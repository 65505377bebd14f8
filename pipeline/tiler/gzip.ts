// Gzip for many small tiles: one zlib stream reused (reset after each tile) instead of a new one per call.
// `zlib.gzipSync` builds a stream object and a native zlib state for every call and frees them after; for tiles of
// a few hundred bytes that set-up costs more than the compression. Resetting a finished stream restores zlib's
// initial state, so each tile is a complete gzip member byte-identical to `gzipSync(tile, { level })` (a test
// checks it). The reused handle is Node's own zlib binding behind `zlib.Gzip`; where that is not available (a
// future Node that hides it), this falls back to `gzipSync`, which gives the same bytes.
import { constants, createGzip, gzipSync, type Gzip } from 'node:zlib';

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
  private readonly stream: Gzip;
  private readonly handle: NativeHandle | undefined;
  /** zlib's [avail_out, avail_in] after each write */
  private readonly state: Uint32Array | undefined;
  private out = new Uint8Array(1 << 16);

  constructor(private readonly level: number) {
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
    this.stream.close();
  }
}
