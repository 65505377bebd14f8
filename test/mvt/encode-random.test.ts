// Property-style test: many random geometries (fixed seed) encoded, validated, and read back by @mapbox/vector-tile.
import { classifyRings } from '@mapbox/vector-tile';
import { describe, expect, it } from 'vitest';
import { encodeLayers } from '../../pipeline/mvt/encode.js';
import type { Flat, PropertyValue, TileFeature } from '../../pipeline/mvt/types.js';
import { validateTile } from '../../pipeline/mvt/validate.js';
import { referenceTile, seeded, surveyorArea2, type XY } from './support.js';

const rnd = seeded(20240917);
const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;

/** Repeats some points (consecutive duplicates the encoder must drop). */
function withRepeats(flat: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    out.push(flat[i]!, flat[i + 1]!);
    if (rnd() < 0.15) out.push(flat[i]!, flat[i + 1]!);
  }
  return out;
}

/** A star-shaped ring around (cx, cy): simple, with radii in [r/2, r]; random orientation and closing point. */
function starRing(cx: number, cy: number, r: number): number[] {
  const k = int(3, 16);
  const flat: number[] = [];
  for (let i = 0; i < k; i++) {
    const a = ((i + rnd() * 0.5) / k) * 2 * Math.PI;
    const rr = r * (0.5 + rnd() * 0.5);
    flat.push(cx + rr * Math.cos(a), cy + rr * Math.sin(a)); // fractional: the encoder rounds
  }
  let ring = rnd() < 0.5 ? flat : reverseFlat(flat);
  if (rnd() < 0.5) ring = [...ring, ring[0]!, ring[1]!];
  return withRepeats(ring);
}

function reverseFlat(flat: number[]): number[] {
  const out: number[] = [];
  for (let i = flat.length - 2; i >= 0; i -= 2) out.push(flat[i]!, flat[i + 1]!);
  return out;
}

function randomProperties(): Record<string, PropertyValue> {
  const props: Record<string, PropertyValue> = {};
  const n = int(0, 5);
  for (let i = 0; i < n; i++) {
    const key = pick(['name', 'kind', 'rank', 'height', 'open', 'ref', `k${int(0, 40)}`]);
    props[key] = pick<() => PropertyValue>([
      () => pick(['a', 'b', 'c', '1', 'true', '', 'Weg 🌿']),
      () => int(-1000, 1000),
      () => int(0, 3),
      () => int(-(2 ** 50), 2 ** 50),
      () => Math.round(rnd() * 1e6) / 1e3,
      () => pick([0.5, 0.25, -1.5]),
      () => rnd() < 0.5,
    ])();
  }
  return props;
}

function randomFeature(i: number): TileFeature {
  const base = { properties: randomProperties(), ...(rnd() < 0.7 ? { id: i } : {}) };
  const kind = int(0, 2);
  if (kind === 0) {
    const points: number[] = [];
    for (let k = int(1, 5); k > 0; k--) points.push(int(-64, 4160), int(-64, 4160));
    return { ...base, geometry: { type: 'Point', points } };
  }
  if (kind === 1) {
    const lines: Flat[] = [];
    for (let l = int(1, 3); l > 0; l--) {
      const flat: number[] = [];
      const spread = pick([1, 3, 50, 2000]); // tiny spreads collapse to a single point
      let x = int(0, 4096);
      let y = int(0, 4096);
      for (let k = int(2, 20); k > 0; k--) {
        flat.push(x, y);
        x += (rnd() - 0.5) * spread;
        y += (rnd() - 0.5) * spread;
      }
      lines.push(withRepeats(flat));
    }
    return { ...base, geometry: { type: 'LineString', lines } };
  }
  const polygons: Flat[][] = [];
  for (let p = int(1, 3); p > 0; p--) {
    const r = pick([1, 2, 4, 30, 300, 1500]); // small radii round to degenerate rings
    const cx = int(0, 4096);
    const cy = int(0, 4096);
    const rings = [starRing(cx, cy, r)];
    for (let h = int(0, 2); h > 0; h--) rings.push(starRing(cx + r * 0.05 * h, cy, r * 0.2));
    polygons.push(rings);
  }
  return { ...base, geometry: { type: 'Polygon', polygons } };
}

// ---- the expected result, computed from the spec's rules (independently of the encoder) ----

function cleanPath(flat: number[], ring: boolean): XY[] {
  const pts: XY[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const p = { x: Math.round(flat[i]!) + 0, y: Math.round(flat[i + 1]!) + 0 }; // + 0: no -0
    const last = pts[pts.length - 1];
    if (!last || last.x !== p.x || last.y !== p.y) pts.push(p);
  }
  if (ring) while (pts.length > 1 && pts[0]!.x === pts.at(-1)!.x && pts[0]!.y === pts.at(-1)!.y) pts.pop();
  return pts;
}

type Expected = { type: 1; points: XY[] } | { type: 2; lines: XY[][] } | { type: 3; polygons: XY[][][] };

function expected(f: TileFeature): Expected | null {
  const g = f.geometry;
  if (g.type === 'Point') {
    const points = [];
    for (let i = 0; i < g.points.length; i += 2) points.push({ x: g.points[i]!, y: g.points[i + 1]! });
    return points.length ? { type: 1, points } : null;
  }
  if (g.type === 'LineString') {
    const lines = g.lines.map((l) => cleanPath(l, false)).filter((l) => l.length >= 2);
    return lines.length ? { type: 2, lines } : null;
  }
  const polygons: XY[][][] = [];
  for (const polygon of g.polygons) {
    const rings = polygon.map((r) => cleanPath(r, true));
    const ok = (r: XY[]): boolean => r.length >= 3 && surveyorArea2(r) !== 0;
    if (!ok(rings[0]!)) continue;
    polygons.push(rings.filter(ok));
  }
  return polygons.length ? { type: 3, polygons } : null;
}

/** Same ring, same start, in the same or the reversed direction. */
function sameRing(got: XY[], want: XY[]): boolean {
  const s = (r: XY[]): string => r.map((p) => `${p.x},${p.y}`).join(' ');
  return s(got) === s(want) || s(got) === s([want[0]!, ...want.slice(1).reverse()]);
}

const noZeroLengthSegments = (path: XY[]): boolean =>
  path.every((p, i) => i === 0 || p.x !== path[i - 1]!.x || p.y !== path[i - 1]!.y);

describe('random geometries (seeded): encoded tiles are valid and decode to what we put in', () => {
  const TILES = 40;
  const PER_TILE = 250;
  let checkedRings = 0;
  let droppedFeatures = 0;

  for (let t = 0; t < TILES; t++) {
    it(`tile ${t}`, () => {
      const features = Array.from({ length: PER_TILE }, (_, i) => randomFeature(i));
      const bytes = encodeLayers([
        { name: 'random', features },
        { name: 'second', extent: 8192, features: features.slice(0, 10) },
      ]);
      expect(validateTile(bytes, { strict: true })).toEqual([]);

      const kept = features.filter((f) => expected(f) !== null);
      droppedFeatures += features.length - kept.length;
      const layer = referenceTile(bytes).layers.random!;
      expect(layer.length).toBe(kept.length);
      for (let i = 0; i < kept.length; i++) {
        const f = layer.feature(i);
        const want = expected(kept[i]!)!;
        expect(f.id).toBe(kept[i]!.id);
        expect(f.properties).toEqual(kept[i]!.properties);
        expect(f.type).toBe(want.type);
        const geom = f.loadGeometry().map((part) => part.map((p) => ({ x: p.x, y: p.y })));
        if (want.type === 1) expect(geom).toEqual(want.points.map((p) => [p]));
        else if (want.type === 2) {
          expect(geom).toEqual(want.lines);
          expect(geom.every(noZeroLengthSegments)).toBe(true);
        } else {
          const wantRings = want.polygons.flat();
          expect(geom.length).toBe(wantRings.length);
          let r = 0;
          for (const polygon of want.polygons) {
            for (let k = 0; k < polygon.length; k++, r++) {
              const closed = geom[r]!;
              expect(closed.at(-1)).toEqual(closed[0]); // the reference decoder closes rings
              const ring = closed.slice(0, -1);
              expect(sameRing(ring, polygon[k]!)).toBe(true);
              expect(noZeroLengthSegments(closed)).toBe(true);
              // exterior rings positive (clockwise in tile coordinates), holes negative
              expect(Math.sign(surveyorArea2(ring))).toBe(k === 0 ? 1 : -1);
              checkedRings++;
            }
          }
          // the reference decoder groups rings by orientation into the polygons we gave
          expect(classifyRings(f.loadGeometry()).map((p) => p.length)).toEqual(
            want.polygons.map((p) => p.length),
          );
        }
      }
      expect(referenceTile(bytes).layers.second!.extent).toBe(8192);
    });
  }

  it('exercised rings and degenerate input', () => {
    console.log(`checked ${checkedRings} rings; ${droppedFeatures} features dropped as degenerate`);
    expect(checkedRings).toBeGreaterThan(1000);
    expect(droppedFeatures).toBeGreaterThan(10);
  });
});
