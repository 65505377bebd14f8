// Encode throughput for simple features (printed; a loose floor only catches pathological slowdowns).
import { describe, expect, it } from 'vitest';
import { encodeGeometry, encodeTile, type EncodableFeature } from '../../pipeline/mvt/encode.js';
import type { TileGeometry } from '../../pipeline/mvt/types.js';

const N = 1000;
const kinds = ['cafe', 'shop', 'school', 'park', 'bench'];

function featuresPerSecond(run: () => void, features: number, seconds = 0.5): number {
  for (let i = 0; i < 30; i++) run(); // warm up the JIT
  let done = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    run();
    done += features;
  }
  return done / ((performance.now() - t0) / 1000);
}

describe('encode throughput (simple features, 1000 per tile)', () => {
  const geometries: Record<string, (i: number) => TileGeometry> = {
    point: (i) => ({ type: 'Point', points: [(i * 37) % 4096, (i * 91) % 4096] }),
    'line (10 points)': (i) => ({
      type: 'LineString',
      lines: [Array.from({ length: 20 }, (_, k) => (i * 7 + k * 13 * (k % 2 ? 1 : 3)) % 4096)],
    }),
    'polygon (5 points)': (i) => {
      const [x, y] = [(i * 37) % 4000, (i * 91) % 4000];
      return { type: 'Polygon', polygons: [[[x, y, x + 20, y, x + 20, y + 20, x, y + 20, x + 5, y + 10]]] };
    },
  };
  for (const [name, make] of Object.entries(geometries)) {
    it(name, () => {
      const input = Array.from({ length: N }, (_, i) => make(i));
      const geomRate = featuresPerSecond(() => {
        for (const g of input) encodeGeometry(g);
      }, N);
      const features: EncodableFeature[] = input.map((g, i) => {
        const e = encodeGeometry(g)!;
        return { id: i, ...e, properties: { kind: kinds[i % 5]!, rank: i % 10, name: `n${i % 50}` } };
      });
      const tileRate = featuresPerSecond(() => encodeTile([{ name: 'l', features }]), N);
      const fmt = (v: number): string => Math.round(v).toLocaleString('en');
      console.log(
        `${name}: encodeGeometry ${fmt(geomRate)} features/s; encodeTile (3 properties) ${fmt(tileRate)} features/s`,
      );
      expect(geomRate).toBeGreaterThan(100_000);
      expect(tileRate).toBeGreaterThan(100_000);
    });
  }
});
