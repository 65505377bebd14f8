// Our MVT decoder agrees with @mapbox/vector-tile on the valid fixtures and real-world tiles, and fails clearly.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import { decodeTile, toTileGeometry, type DecodedLayer } from '../../pipeline/mvt/decode.js';
import { encodeLayers } from '../../pipeline/mvt/encode.js';
import { referenceTile, sharedData } from './support.js';

const root = sharedData('mvt-fixtures');

/** Compares our decoding with the reference decoder's, feature by feature. */
function expectSameAsReference(bytes: Uint8Array): number {
  const ours = decodeTile(bytes);
  const ref = referenceTile(bytes);
  // the reference leaves out layers without features
  const nonEmpty = ours.filter((l) => l.features.length > 0);
  expect(nonEmpty.map((l) => l.name).sort()).toEqual(Object.keys(ref.layers).sort());
  let features = 0;
  for (const layer of nonEmpty) {
    const rl = ref.layers[layer.name]!;
    expect([layer.version, layer.extent, layer.features.length]).toEqual([rl.version, rl.extent, rl.length]);
    layer.features.forEach((f, i) => {
      const rf = rl.feature(i);
      expect(f.id).toBe(rf.id);
      expect(f.type).toBe(rf.type);
      expect(f.properties).toEqual(rf.properties);
      const refParts = rf.loadGeometry().map((part) => part.flatMap((p) => [p.x, p.y]));
      // the reference splits points into one part each and repeats the first point of a ring at its end
      const ourParts =
        f.type === 1
          ? f.parts.flatMap((p) => Array.from({ length: p.length / 2 }, (_, k) => [p[2 * k]!, p[2 * k + 1]!]))
          : f.type === 3
            ? f.parts.map((p) => [...p, p[0]!, p[1]!])
            : f.parts;
      expect(ourParts).toEqual(refParts);
      features++;
    });
  }
  return features;
}

describe.skipIf(!root)('decodeTile agrees with @mapbox/vector-tile', () => {
  const fixtures = root ? readdirSync(join(root, 'fixtures')).sort() : [];
  for (const name of fixtures) {
    const info = JSON.parse(readFileSync(join(root!, 'fixtures', name, 'info.json'), 'utf8'));
    if (!info.validity.v2 || name === '057') continue; // 057's 536870911-point MoveTo: see validate-fixtures
    it(`fixture ${name}`, () => {
      expectSameAsReference(new Uint8Array(readFileSync(join(root!, 'fixtures', name, 'tile.mvt'))));
    });
  }

  const base = root ? join(root, 'real-world') : '';
  const files = root
    ? readdirSync(base).flatMap((d) => readdirSync(join(base, d)).map((f) => join(d, f)))
    : [];
  for (const f of files) {
    it(`real-world ${f}`, () => {
      let bytes = new Uint8Array(readFileSync(join(base, f)));
      if (f.endsWith('.gz')) bytes = new Uint8Array(gunzipSync(bytes));
      expect(expectSameAsReference(bytes)).toBeGreaterThan(10);
    });
  }
});

describe('decodeTile', () => {
  const tile = encodeLayers([
    {
      name: 'p',
      features: [
        {
          id: 7,
          geometry: {
            type: 'Polygon',
            polygons: [
              [
                [0, 0, 10, 0, 10, 10, 0, 10],
                [2, 2, 2, 4, 4, 4, 4, 2],
              ],
              [[20, 20, 30, 20, 30, 30]],
            ],
          },
          properties: { big: 2 ** 40, neg: -5, f: 0.5 },
        },
      ],
    },
  ]);

  it('returns tables and regroups rings into polygons', () => {
    const [layer] = decodeTile(tile) as [DecodedLayer];
    expect(layer.keys).toEqual(['big', 'neg', 'f']);
    expect(layer.values).toEqual([2 ** 40, -5, 0.5]);
    expect(toTileGeometry(layer.features[0]!)).toEqual({
      type: 'Polygon',
      polygons: [
        [
          [0, 0, 10, 0, 10, 10, 0, 10],
          [2, 2, 2, 4, 4, 4, 4, 2],
        ],
        [[20, 20, 30, 20, 30, 30]],
      ],
    });
  });

  it('fails with a clear UserError on truncated or gzipped input', () => {
    expect(() => decodeTile(tile.subarray(0, tile.length - 3), 'tile 3/1/2')).toThrow(UserError);
    expect(() => decodeTile(tile.subarray(0, tile.length - 3), 'tile 3/1/2')).toThrow(
      /^tile 3\/1\/2: malformed protobuf: length \d+ runs past the end of its message at byte 1$/,
    );
    expect(() => decodeTile(new Uint8Array([0x1f, 0x8b, 8, 0]))).toThrow(/gzip-compressed/);
    expect(() => decodeTile(new Uint8Array([0x1e]))).toThrow(/invalid wire type 6/);
  });
});
