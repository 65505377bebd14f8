// Compression of PMTiles internals and tiles: gzip and brotli through node:zlib; zstd is refused clearly.
import { brotliDecompressSync, gzipSync, unzipSync, constants } from 'node:zlib';
import { UserError } from '../../core/errors.js';
import { Compression, compressionName } from './header.js';

/** A plain Uint8Array view of a Buffer (so results compare equal to other Uint8Arrays). */
function plain(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Undo `compression` on `bytes`; `what` names the part (e.g. "root directory") in errors. */
export function decompress(bytes: Uint8Array, compression: Compression, what: string): Uint8Array {
  switch (compression) {
    case Compression.None:
    case Compression.Unknown:
      return bytes;
    case Compression.Gzip:
      try {
        // unzip accepts gzip and also zlib-wrapped deflate, which some writers emit
        return plain(unzipSync(bytes));
      } catch (err) {
        throw new UserError(`${what}: cannot decompress (gzip): ${(err as Error).message}`, 'bad_archive');
      }
    case Compression.Brotli:
      try {
        return plain(brotliDecompressSync(bytes));
      } catch (err) {
        throw new UserError(`${what}: cannot decompress (brotli): ${(err as Error).message}`, 'bad_archive');
      }
    case Compression.Zstd:
      throw new UserError(`${what}: unsupported compression: zstd`, 'unsupported');
    default:
      throw new UserError(`${what}: unsupported compression: ${compressionName(compression)}`, 'unsupported');
  }
}

/** gzip with fixed settings and no timestamp, so the same input always gives the same bytes. */
export function gzipDeterministic(bytes: Uint8Array): Uint8Array {
  return plain(gzipSync(bytes, { level: 9, memLevel: 9, strategy: constants.Z_DEFAULT_STRATEGY }));
}
