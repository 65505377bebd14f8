// Tile gzip: the native libdeflate binding (built by scripts/setup.sh) is what the tiler uses here, each member it
// writes decompresses to its input whatever came before; the zlib fallback gives, for every tile, the same bytes as
// a fresh zlib.gzipSync.
import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TileGzip, gzipBackend, nativeDeflate, nativeGzipError } from '../../pipeline/tiler/gzip.js';

function sample(size: number, seed: number): Uint8Array {
  // half repetitive, half random: compressible, but not trivially
  const out = new Uint8Array(size);
  const noise = randomBytes(size);
  for (let i = 0; i < size; i++) out[i] = i % 7 < 3 ? (i * seed) & 0xff : noise[i]!;
  return out;
}

/** sizes around the zlib path's output buffer (64 KiB) and far past it, incompressible ones included */
function inputs(): Uint8Array[] {
  const list = [0, 1, 100, 645, 4096, 65_535, 65_536, 70_000, 300_000].map((n, i) => sample(n, i + 3));
  list.push(randomBytes(200_000), new Uint8Array(1_000_000));
  return [...list, ...[...list].reverse()];
}

describe('TileGzip with libdeflate', () => {
  it('is built and used by default (scripts/setup.sh compiles native/deflate.c)', () => {
    expect(nativeGzipError()).toBe('');
    expect(gzipBackend()).toMatch(/^libdeflate \d+\.\d+/);
  });

  it('writes gzip members that decompress to their input, the same bytes for the same input every time', () => {
    for (const level of [1, 6, 9]) {
      const gz = new TileGzip(level);
      const firstSeen = new Map<Uint8Array, Buffer>();
      for (const input of inputs()) {
        const ours = Buffer.from(gz.gzip(input));
        expect(ours[0]).toBe(0x1f);
        expect(ours[1]).toBe(0x8b);
        expect(Buffer.from(gunzipSync(ours)).equals(Buffer.from(input))).toBe(true);
        const before = firstSeen.get(input);
        if (before) expect(ours.equals(before)).toBe(true);
        else firstSeen.set(input, ours);
      }
      // a compressor made afresh (another worker) gives the same bytes
      const other = new TileGzip(level);
      for (const [input, bytes] of firstSeen) expect(Buffer.from(other.gzip(input)).equals(bytes)).toBe(true);
      gz.close();
    }
  });

  it('compresses compressible tiles at least as well as zlib at the same level', () => {
    const tile = sample(50_000, 11);
    const ours = new TileGzip(6).gzip(tile).length;
    expect(ours).toBeLessThan(tile.length);
    expect(ours).toBeLessThanOrEqual(gzipSync(tile, { level: 6 }).length);
  });

  it('refuses what is not bytes or a level it does not have, with a clear message', () => {
    const d = nativeDeflate()!;
    expect(() => d.gzip('text' as unknown as Uint8Array, 6)).toThrow(/input must be a Uint8Array/);
    expect(() => d.gzip(new Uint8Array(4), 0)).toThrow(/level must be an integer from 1 to 12/);
    expect(() => d.gzip(new Uint8Array(4), 13)).toThrow(/level must be an integer from 1 to 12/);
  });
});

describe('TileGzip with zlib (the fallback without the native binding)', () => {
  it('compresses each input exactly like gzipSync at the same level, across many calls and sizes', () => {
    for (const level of [1, 6, 9]) {
      const gz = new TileGzip(level, 'zlib');
      for (const input of inputs()) {
        const ours = gz.gzip(input);
        expect(Buffer.from(ours).equals(gzipSync(input, { level }))).toBe(true);
        expect(Buffer.from(gunzipSync(ours)).equals(Buffer.from(input))).toBe(true);
      }
      gz.close();
    }
  });

  it('returns a copy that later calls do not overwrite', () => {
    for (const kind of ['native', 'zlib'] as const) {
      const gz = new TileGzip(6, kind);
      const a = sample(1000, 5);
      const first = gz.gzip(a);
      const kept = Buffer.from(first);
      gz.gzip(sample(1000, 9));
      expect(Buffer.from(first).equals(kept)).toBe(true);
      expect(Buffer.from(gunzipSync(first)).equals(Buffer.from(a))).toBe(true);
    }
  });
});
