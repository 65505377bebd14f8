// Geometry helpers of the profiles: projection round trips, Mercator areas/lengths, zooms, label points, clipping.
import { describe, expect, it } from 'vitest';
import {
  CIRCUMFERENCE,
  clipRing,
  labelPoint,
  latFromMercator,
  lonFromMercator,
  mercatorArea,
  mercatorLength,
  mercatorX,
  mercatorY,
  zoomForArea,
  zoomForLength,
} from '../../pipeline/profiles/geo.js';

function inside(x: number, y: number, ring: number[][]): boolean {
  let c = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi! > y !== yj! > y && x < ((xj! - xi!) * (y - yi!)) / (yj! - yi!) + xi!) c = !c;
  }
  return c;
}

describe('geo', () => {
  it('projects to EPSG:3857 and back', () => {
    expect(mercatorX(180)).toBeCloseTo(20037508.342789244, 6); // the EPSG:3857 extent
    expect(mercatorY(85.0511287798066)).toBeCloseTo(20037508.342789244, 3);
    // the slippy-map form of the same projection: y = R·asinh(tan φ)
    for (const lat of [-60, -41.25, 0, 43.7384, 47.1]) {
      expect(mercatorY(lat)).toBeCloseTo(6378137 * Math.asinh(Math.tan((lat * Math.PI) / 180)), 4);
    }
    expect(lonFromMercator(mercatorX(-73.5))).toBeCloseTo(-73.5, 10);
    expect(latFromMercator(mercatorY(-41.25))).toBeCloseTo(-41.25, 10);
  });

  it('measures areas and lengths in Mercator metres', () => {
    const d = 0.01;
    const square = [
      [0, 0],
      [d, 0],
      [d, d],
      [0, d],
      [0, 0],
    ];
    const side = mercatorX(d);
    expect(mercatorArea({ type: 'Polygon', coordinates: [square] })).toBeCloseTo(side * mercatorY(d), 0);
    const withHole = {
      type: 'MultiPolygon' as const,
      coordinates: [[square, square.map(([x, y]) => [x! / 2, y! / 2])]],
    };
    expect(mercatorArea(withHole)).toBeCloseTo(side * mercatorY(d) * 0.75, -1);
    expect(
      mercatorLength({
        type: 'LineString',
        coordinates: [
          [0, 0],
          [d, 0],
          [d, d],
        ],
      }),
    ).toBeCloseTo(side + mercatorY(d), 3);
    expect(mercatorArea({ type: 'Point', coordinates: [0, 0] })).toBe(0);
  });

  it('computes the reference implementation zooms', () => {
    // a square covering exactly one 256-px tile at z10 covers 65536 px² there: 0.1 px² from z0
    const tileSide = CIRCUMFERENCE / 1024;
    expect(zoomForArea(tileSide * tileSide, 65536)).toBe(10);
    expect(zoomForArea(tileSide * tileSide, 65536 * 4)).toBe(11);
    expect(zoomForLength(CIRCUMFERENCE / 1024, 256)).toBe(10);
    expect(zoomForArea(0, 1)).toBe(Infinity);
  });

  it('puts label points inside concave polygons', () => {
    // a U shape: its centroid lies in the notch
    const u = [
      [0, 0],
      [3, 0],
      [3, 3],
      [2, 3],
      [2, 1],
      [1, 1],
      [1, 3],
      [0, 3],
      [0, 0],
    ];
    const p = labelPoint({ type: 'Polygon', coordinates: [u] })!;
    expect(inside(p[0]!, p[1]!, u)).toBe(true);
    // a square with a hole in the middle: the label avoids the hole
    const outer = [
      [0, 0],
      [4, 0],
      [4, 4],
      [0, 4],
      [0, 0],
    ];
    const hole = [
      [1, 1],
      [3, 1],
      [3, 3],
      [1, 3],
      [1, 1],
    ];
    const q = labelPoint({ type: 'Polygon', coordinates: [outer, hole] })!;
    expect(inside(q[0]!, q[1]!, outer) && !inside(q[0]!, q[1]!, hole)).toBe(true);
    // the largest part of a multipolygon wins
    const small = outer.map(([x, y]) => [x! / 10 + 10, y! / 10 + 10]);
    const r = labelPoint({ type: 'MultiPolygon', coordinates: [[small], [outer, hole]] })!;
    expect(r[0]).toBeLessThan(5);
  });

  it('clips rings to a box', () => {
    const ring = [0, 0, 10, 0, 10, 10, 0, 10, 0, 0];
    const clipped = clipRing(ring, [5, -5, 15, 5])!;
    const xs = clipped.filter((_, i) => i % 2 === 0);
    const ys = clipped.filter((_, i) => i % 2 === 1);
    expect(Math.min(...xs)).toBe(5);
    expect(Math.max(...xs)).toBe(10);
    expect(Math.min(...ys)).toBe(0);
    expect(Math.max(...ys)).toBe(5);
    expect([clipped[0], clipped[1]]).toEqual([clipped.at(-2), clipped.at(-1)]);
    expect(clipRing(ring, [20, 20, 30, 30])).toBeUndefined();
    expect(clipRing(ring, [-1, -1, 11, 11])!.length).toBe(10);
  });
});
