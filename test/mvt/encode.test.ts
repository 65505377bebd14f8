// The MVT encoder: spec examples, ring orientation and cleaning, and tiles read back by @mapbox/vector-tile.
import { classifyRings, type VectorTileFeature } from '@mapbox/vector-tile';
import { describe, expect, it } from 'vitest';
import { decodeTile } from '../../pipeline/mvt/decode.js';
import {
  encodeGeometry,
  encodeLayers,
  encodeTile,
  type EncodableFeature,
} from '../../pipeline/mvt/encode.js';
import type { TileFeature } from '../../pipeline/mvt/types.js';
import { validateTile } from '../../pipeline/mvt/validate.js';
import { rawLayerTables, referenceTile, surveyorArea2, type XY } from './support.js';

const xy = (g: XY[][]): number[][][] => g.map((part) => part.map((p) => [p.x, p.y]));

/** Reads every feature of a layer with the reference decoder. */
function referenceFeatures(bytes: Uint8Array, layer: string): VectorTileFeature[] {
  const l = referenceTile(bytes).layers[layer];
  expect(l, `layer ${layer}`).toBeDefined();
  return Array.from({ length: l!.length }, (_, i) => l!.feature(i));
}

describe('encodeGeometry: the spec examples (4.3.5)', () => {
  it('point and multipoint', () => {
    expect(encodeGeometry({ type: 'Point', points: [25, 17] })).toEqual({ type: 1, commands: [9, 50, 34] });
    expect(encodeGeometry({ type: 'Point', points: [5, 7, 3, 2] })).toEqual({
      type: 1,
      commands: [17, 10, 14, 3, 9],
    });
  });

  it('linestring and multilinestring', () => {
    expect(encodeGeometry({ type: 'LineString', lines: [[2, 2, 2, 10, 10, 10]] })?.commands).toEqual([
      9, 4, 4, 18, 0, 16, 16, 0,
    ]);
    expect(
      encodeGeometry({
        type: 'LineString',
        lines: [
          [2, 2, 2, 10, 10, 10],
          [1, 1, 3, 5],
        ],
      })?.commands,
    ).toEqual([9, 4, 4, 18, 0, 16, 16, 0, 9, 17, 17, 10, 4, 8]);
  });

  it('polygon and multipolygon with a hole', () => {
    expect(encodeGeometry({ type: 'Polygon', polygons: [[[3, 6, 8, 12, 20, 34]]] })).toEqual({
      type: 3,
      commands: [9, 6, 12, 18, 10, 12, 24, 44, 15],
    });
    expect(
      encodeGeometry({
        type: 'Polygon',
        polygons: [
          [[0, 0, 10, 0, 10, 10, 0, 10]],
          [
            [11, 11, 20, 11, 20, 20, 11, 20],
            [13, 13, 13, 17, 17, 17, 17, 13],
          ],
        ],
      })?.commands,
    ).toEqual([
      9, 0, 0, 26, 20, 0, 0, 20, 19, 0, 15, 9, 22, 2, 26, 18, 0, 0, 18, 17, 0, 15, 9, 4, 13, 26, 0, 8, 8, 0,
      0, 7, 15,
    ]);
  });
});

describe('encodeGeometry: cleaning and orientation', () => {
  const rings = (commands: number[]): number[][] => {
    const tile = encodeTile([{ name: 'l', features: [{ type: 3, commands, properties: {} }] }]);
    return decodeTile(tile)[0]!.features[0]!.parts;
  };

  it('reverses a counter-clockwise exterior and a clockwise hole, keeping the first point', () => {
    const exteriorCcw = [0, 0, 0, 100, 100, 100, 100, 0];
    const holeCw = [10, 10, 20, 10, 20, 20, 10, 20];
    const g = encodeGeometry({ type: 'Polygon', polygons: [[exteriorCcw, holeCw]] })!;
    const [ext, hole] = rings(g.commands);
    expect(ext).toEqual([0, 0, 100, 0, 100, 100, 0, 100]);
    expect(hole).toEqual([10, 10, 10, 20, 20, 20, 20, 10]);
    const area = (r: number[]): number =>
      surveyorArea2(r.flatMap((_, i) => (i % 2 ? [] : [{ x: r[i]!, y: r[i + 1]! }])));
    expect(area(ext!)).toBeGreaterThan(0);
    expect(area(hole!)).toBeLessThan(0);
  });

  it('strips a closing point and consecutive duplicates, and rounds to integers', () => {
    const g = encodeGeometry({
      type: 'Polygon',
      polygons: [[[0, 0, 0, 0, 10.2, 0, 10, 0, 9.6, 10, 0.4, 10, 0, 0]]],
    })!;
    expect(rings(g.commands)).toEqual([[0, 0, 10, 0, 10, 10, 0, 10]]);
    const line = encodeGeometry({ type: 'LineString', lines: [[1, 1, 1, 1, 5, 5, 5, 5, 5, 5, 1, 1]] })!;
    expect(line.commands).toEqual([9, 2, 2, 18, 8, 8, 7, 7]);
  });

  it('drops degenerate parts and returns null when nothing remains', () => {
    expect(encodeGeometry({ type: 'Point', points: [] })).toBeNull();
    expect(
      encodeGeometry({
        type: 'LineString',
        lines: [
          [3, 3, 3, 3],
          [7, 7],
        ],
      }),
    ).toBeNull();
    // two distinct points, and a collinear ring with zero area
    expect(
      encodeGeometry({ type: 'Polygon', polygons: [[[0, 0, 5, 5, 0, 0]], [[0, 0, 5, 0, 10, 0]]] }),
    ).toBeNull();
    // a degenerate exterior drops its holes; the second polygon survives, its zero-area hole dropped
    const g = encodeGeometry({
      type: 'Polygon',
      polygons: [
        [
          [0, 0, 1, 1],
          [10, 10, 20, 10, 20, 20],
        ],
        [
          [100, 100, 200, 100, 200, 200, 100, 200],
          [120, 120, 130, 120, 140, 120],
        ],
      ],
    })!;
    expect(rings(g.commands)).toEqual([[100, 100, 200, 100, 200, 200, 100, 200]]);
    // a line keeps its good parts
    expect(
      encodeGeometry({
        type: 'LineString',
        lines: [
          [3, 3, 3, 3],
          [0, 0, 4, 0],
        ],
      })?.commands,
    ).toEqual([9, 0, 0, 10, 8, 0]);
  });
});

describe('encodeTile / encodeLayers read back by @mapbox/vector-tile', () => {
  const features: TileFeature[] = [
    { id: 1, geometry: { type: 'Point', points: [100, 200] }, properties: { name: 'a', rank: 1 } },
    {
      id: 2,
      geometry: { type: 'Point', points: [1, 2, 3, 4, 4000, 4090] },
      properties: { name: 'b', rank: -7 },
    },
    { id: 3, geometry: { type: 'LineString', lines: [[0, 0, 50, 50, 100, 0]] }, properties: { ratio: 0.5 } },
    {
      id: 4,
      geometry: {
        type: 'LineString',
        lines: [
          [-64, -64, 4160, 4160],
          [10, 4000, 20, 3990, 30, 4000],
        ],
      },
      properties: { ratio: 0.1, open: true },
    },
    {
      geometry: {
        type: 'Polygon',
        polygons: [
          [
            [0, 0, 0, 1000, 1000, 1000, 1000, 0], // counter-clockwise: must come out clockwise
            [100, 100, 200, 100, 200, 200, 100, 200], // clockwise hole: must come out counter-clockwise
            [500, 500, 500, 600, 600, 600, 600, 500], // already counter-clockwise hole
          ],
        ],
      },
      properties: { open: false, big: 2 ** 40, neg: -(2 ** 40), label: '1' },
    },
    {
      id: 6,
      geometry: {
        type: 'Polygon',
        polygons: [
          [[2000, 2000, 3000, 2000, 3000, 3000, 2000, 3000]],
          [
            [3500, 3500, 3500, 4000, 4000, 4000, 4000, 3500],
            [3600, 3600, 3700, 3600, 3700, 3700],
          ],
        ],
      },
      properties: { label: 1, flag: true, name: 'a' },
    },
  ];
  const bytes = encodeLayers([
    { name: 'things', features },
    { name: 'empty', features: [] },
    {
      name: 'vanished',
      extent: 512,
      features: [{ geometry: { type: 'LineString', lines: [[1, 1, 1, 1]] }, properties: {} }],
    },
  ]);
  const tile = referenceTile(bytes);
  const decoded = referenceFeatures(bytes, 'things');

  it('is valid MVT 2.1 (our validator, strict) with only non-empty layers', () => {
    expect(validateTile(bytes, { strict: true })).toEqual([]);
    expect(Object.keys(tile.layers)).toEqual(['things']);
    expect(tile.layers.things!.version).toBe(2);
    expect(tile.layers.things!.extent).toBe(4096);
    expect(decoded.length).toBe(features.length);
  });

  it('keeps types, ids and properties', () => {
    expect(decoded.map((f) => f.type)).toEqual([1, 1, 2, 2, 3, 3]);
    expect(decoded.map((f) => f.id)).toEqual([1, 2, 3, 4, undefined, 6]);
    for (let i = 0; i < features.length; i++) expect(decoded[i]!.properties).toEqual(features[i]!.properties);
    // types survive: "1" stays a string, 1 a number, true a boolean
    expect(typeof decoded[4]!.properties.label).toBe('string');
    expect(typeof decoded[5]!.properties.label).toBe('number');
    expect(decoded[5]!.properties.flag).toBe(true);
  });

  it('keeps points and lines exactly', () => {
    expect(xy(decoded[0]!.loadGeometry())).toEqual([[[100, 200]]]);
    expect(xy(decoded[1]!.loadGeometry())).toEqual([[[1, 2]], [[3, 4]], [[4000, 4090]]]);
    expect(xy(decoded[3]!.loadGeometry())).toEqual([
      [
        [-64, -64],
        [4160, 4160],
      ],
      [
        [10, 4000],
        [20, 3990],
        [30, 4000],
      ],
    ]);
  });

  it('orients rings: exteriors positive (clockwise), holes negative, grouped as we gave them', () => {
    const ringsOf = (f: VectorTileFeature): XY[][] => f.loadGeometry().map((r) => r.slice(0, -1)); // drop closing point
    const poly = ringsOf(decoded[4]!);
    expect(poly.map(surveyorArea2)).toEqual([2 * 1000 * 1000, -2 * 100 * 100, -2 * 100 * 100]);
    const multi = ringsOf(decoded[5]!);
    expect(multi.map((r) => Math.sign(surveyorArea2(r)))).toEqual([1, 1, -1]);
    const polygons = classifyRings(decoded[5]!.loadGeometry());
    expect(polygons.map((p) => p.length)).toEqual([1, 2]);
    // the ring's point set is unchanged by re-orientation
    const set = (r: XY[]): string[] => r.map((p) => `${p.x},${p.y}`).sort();
    expect(set(poly[1]!)).toEqual(['100,100', '100,200', '200,100', '200,200']);
  });

  it('deduplicates keys and values per layer, keeping 1, "1" and true apart', () => {
    const tables = rawLayerTables(bytes).get('things')!;
    expect(tables.keys).toEqual(['name', 'rank', 'ratio', 'open', 'big', 'neg', 'label', 'flag']);
    // values: 'a', 1, 'b', -7, 0.5, 0.1, true, false, 2^40, -2^40, '1'  (1 and 'a' and true reused)
    expect(tables.valueFields).toEqual([1, 5, 1, 6, 2, 3, 7, 7, 5, 6, 1]);
  });

  it('is deterministic', () => {
    expect(Buffer.from(encodeLayers([{ name: 'things', features }])).equals(Buffer.from(bytes))).toBe(true);
  });
});

describe('encodeTile inputs', () => {
  const point: EncodableFeature = { type: 1, commands: [9, 50, 34], properties: { a: 'x' } };

  it('writes the given extent and skips features without commands', () => {
    const bytes = encodeTile([
      { name: 'small', extent: 512, features: [point, { type: 2, commands: [], properties: { b: 1 } }] },
    ]);
    const l = referenceTile(bytes).layers.small!;
    expect([l.extent, l.length]).toEqual([512, 1]);
    expect(rawLayerTables(bytes).get('small')!.keys).toEqual(['a']);
  });

  it('returns an empty tile for no layers and rejects duplicate layer names', () => {
    expect(encodeTile([]).length).toBe(0);
    expect(() =>
      encodeTile([
        { name: 'x', features: [point] },
        { name: 'x', features: [point] },
      ]),
    ).toThrow(/duplicate layer name "x"/);
  });

  it('writes unicode names and long strings', () => {
    const long = 'ü'.repeat(5000);
    const bytes = encodeTile([
      { name: 'Straßen 🚲', features: [{ ...point, properties: { long, 名前: '東京' } }] },
    ]);
    expect(validateTile(bytes)).toEqual([]);
    const f = referenceTile(bytes).layers['Straßen 🚲']!.feature(0);
    expect(f.properties).toEqual({ long, 名前: '東京' });
  });

  it('encodes a layer larger than the initial buffer', () => {
    const many = Array.from({ length: 100_000 }, (_, i) => ({ ...point, id: i, properties: { i } }));
    const bytes = encodeTile([{ name: 'many', features: many }]);
    const l = referenceTile(bytes).layers.many!;
    expect(l.length).toBe(100_000);
    expect(l.feature(99_999).properties.i).toBe(99_999);
    expect(validateTile(bytes, { strict: true })).toEqual([]);
  });
});
