// The reused gzip stream gives, for every tile, the same bytes as a fresh zlib.gzipSync, whatever came before.
import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TileGzip } from '../../pipeline/tiler/gzip.js';

function sample(size: number, seed: number): Uint8Array {
  // half repetitive, half random: compressible, but not trivially
  const out = new Uint8Array(size);
  const noise = randomBytes(size);
  for (let i = 0; i < size; i++) out[i] = i % 7 < 3 ? (i * seed) & 0xff : noise[i]!;
  return out;
}

describe('TileGzip', () => {
  it('compresses each input exactly like gzipSync at the same level, across many calls and sizes', () => {
    for (const level of [1, 6, 9]) {
      const gz = new TileGzip(level);
      // sizes around the output buffer (64 KiB) and far past it, incompressible ones included
      const inputs = [0, 1, 100, 645, 4096, 65_535, 65_536, 70_000, 300_000].map((n, i) => sample(n, i + 3));
      inputs.push(randomBytes(200_000), new Uint8Array(1_000_000));
      for (const input of [...inputs, ...inputs.reverse()]) {
        const ours = gz.gzip(input);
        expect(Buffer.from(ours).equals(gzipSync(input, { level }))).toBe(true);
        expect(Buffer.from(gunzipSync(ours)).equals(Buffer.from(input))).toBe(true);
      }
      gz.close();
    }
  });

  it('returns a copy that later calls do not overwrite', () => {
    const gz = new TileGzip(6);
    const a = sample(1000, 5);
    const first = gz.gzip(a);
    const kept = Buffer.from(first);
    gz.gzip(sample(1000, 9));
    expect(Buffer.from(first).equals(kept)).toBe(true);
    expect(Buffer.from(gunzipSync(first)).equals(Buffer.from(a))).toBe(true);
  });
});
