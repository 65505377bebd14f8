// Test helper: the `pmtiles` npm package (the independent reference reader) over a local file.
import { readFileSync } from 'node:fs';
import { brotliDecompressSync, unzipSync } from 'node:zlib';
import { PMTiles, SharedPromiseCache, type Compression } from 'pmtiles';
import type { RangeSource } from '../../pipeline/pmtiles/reader.js';

function toArrayBuffer(u: Uint8Array): ArrayBuffer {
  return u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;
}

/** gzip via zlib and brotli too (the package's default knows only gzip). */
async function decompress(buf: ArrayBuffer, compression: Compression): Promise<ArrayBuffer> {
  if (compression === 2) return toArrayBuffer(unzipSync(new Uint8Array(buf)));
  if (compression === 3) return toArrayBuffer(brotliDecompressSync(new Uint8Array(buf)));
  if (compression === 0 || compression === 1) return buf;
  throw new Error(`reference reader: compression ${compression} not supported`);
}

/** The reference reader over a whole file read into memory (archives in tests are small enough). */
export function referenceReader(path: string): PMTiles {
  const bytes = readFileSync(path);
  return referenceReaderOver({
    key: path,
    read: async (offset, length) => bytes.subarray(offset, offset + length),
  });
}

/** The reference reader over any ranged source (e.g. an archive inside a pack: pipeline/packs entrySource). */
export function referenceReaderOver(source: Pick<RangeSource, 'key' | 'read'>): PMTiles {
  const ranged = {
    getKey: () => source.key,
    getBytes: async (offset: number, length: number) => ({
      data: toArrayBuffer(await source.read(offset, length)),
    }),
  };
  return new PMTiles(ranged, new SharedPromiseCache(100, true, decompress), decompress);
}

/** Tile z/x/y as the reference reader returns it (tile compression undone), or undefined. */
export async function referenceTile(
  p: PMTiles,
  z: number,
  x: number,
  y: number,
): Promise<Uint8Array | undefined> {
  const r = await p.getZxy(z, x, y);
  return r ? new Uint8Array(r.data) : undefined;
}

/** Byte equality that stays fast for large tiles (vitest's deep equality walks element by element). */
export function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (!a || !b) return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}
