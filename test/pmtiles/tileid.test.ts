// Hilbert tile ids: the spec's table, agreement with the reference `pmtiles` package, round trips and range errors.
import { tileIdToZxy as refTileIdToZxy, zxyToTileId as refZxyToTileId } from 'pmtiles';
import { describe, expect, it } from 'vitest';
import { firstTileIdOfZoom, parseZxy, tileIdToZxy, zxyToTileId } from '../../pipeline/pmtiles/tileid.js';

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('tile ids', () => {
  it('match the table in the spec (4.1)', () => {
    expect(zxyToTileId(0, 0, 0)).toBe(0);
    expect(zxyToTileId(1, 0, 0)).toBe(1);
    expect(zxyToTileId(1, 0, 1)).toBe(2);
    expect(zxyToTileId(1, 1, 1)).toBe(3);
    expect(zxyToTileId(1, 1, 0)).toBe(4);
    expect(zxyToTileId(2, 0, 0)).toBe(5);
    expect(zxyToTileId(12, 3423, 1763)).toBe(19078479);
    expect(tileIdToZxy(19078479)).toEqual([12, 3423, 1763]);
  });

  it('agree with the reference package for random tiles at z0–22 and beyond, and round-trip', () => {
    const rnd = random(42);
    for (let i = 0; i < 20_000; i++) {
      const z = i < 15_000 ? Math.floor(rnd() * 23) : 23 + Math.floor(rnd() * 4);
      const n = 2 ** z;
      const x = Math.floor(rnd() * n);
      const y = Math.floor(rnd() * n);
      const id = zxyToTileId(z, x, y);
      expect(id).toBe(refZxyToTileId(z, x, y));
      expect(tileIdToZxy(id)).toEqual([z, x, y]);
      expect(refTileIdToZxy(id)).toEqual([z, x, y]);
    }
  });

  it('cover every tile of zooms 0–6 exactly once, in order', () => {
    let expected = 0;
    for (let z = 0; z <= 6; z++) {
      expect(firstTileIdOfZoom(z)).toBe(expected);
      const n = 2 ** z;
      const seen = new Set<number>();
      for (let x = 0; x < n; x++) for (let y = 0; y < n; y++) seen.add(zxyToTileId(z, x, y));
      expect(seen.size).toBe(n * n);
      expect(Math.min(...seen)).toBe(expected);
      expect(Math.max(...seen)).toBe(expected + n * n - 1);
      expected += n * n;
    }
  });

  it('are consecutive along the curve: neighbours in id are neighbours on the map', () => {
    let jumps = 0;
    for (let id = firstTileIdOfZoom(8); id < firstTileIdOfZoom(9) - 1; id++) {
      const [, x0, y0] = tileIdToZxy(id);
      const [, x1, y1] = tileIdToZxy(id + 1);
      if (Math.abs(x1 - x0) + Math.abs(y1 - y0) !== 1) jumps++;
    }
    expect(jumps).toBe(0);
  });

  it('reject tiles outside their zoom and bad ids', () => {
    expect(() => zxyToTileId(1, 2, 0)).toThrow(/outside zoom 1/);
    expect(() => zxyToTileId(27, 0, 0)).toThrow(RangeError);
    expect(() => zxyToTileId(3, -1, 0)).toThrow(RangeError);
    expect(() => zxyToTileId(3, 1.5, 0)).toThrow(RangeError);
    expect(() => tileIdToZxy(-1)).toThrow(RangeError);
    expect(() => tileIdToZxy(0.5)).toThrow(RangeError);
  });

  it('parse z/x/y text', () => {
    expect(parseZxy('14/8704/5972')).toEqual([14, 8704, 5972]);
    expect(parseZxy('14/8704')).toBeUndefined();
    expect(parseZxy('a/b/c')).toBeUndefined();
  });
});
