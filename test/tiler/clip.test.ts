import { describe, expect, it } from 'vitest';
import { clipLine, clipPoints, clipRing } from '../../pipeline/tiler/clip.js';
import { computeImportance, ringArea } from '../../pipeline/tiler/simplify.js';
import { projectX, projectY, unprojectX, unprojectY } from '../../pipeline/tiler/project.js';

describe('projection', () => {
  it('maps lon/lat to Web Mercator world coordinates and back', () => {
    expect(projectX(-180)).toBe(0);
    expect(projectX(180)).toBe(1);
    expect(projectY(0)).toBeCloseTo(0.5, 12);
    expect(projectY(85.0511287798066)).toBeCloseTo(0, 9);
    for (const lat of [-80, -45.5, 0, 12.25, 43.7384, 80])
      expect(unprojectY(projectY(lat))).toBeCloseTo(lat, 9);
    for (const lon of [-179, -7.5, 0, 7.4246, 179]) expect(unprojectX(projectX(lon))).toBeCloseTo(lon, 9);
  });
});

describe('clipping', () => {
  it('keeps points inside the strip only', () => {
    expect(clipPoints([0, 0, 5, 5, 10, 10], 1, 9, 0)).toEqual([5, 5]);
  });

  it('splits a line that leaves and re-enters the strip', () => {
    const out: number[][] = [];
    // goes right across x=10, comes back
    clipLine([0, 0, 20, 0, 20, 10, 0, 10], -5, 10, 0, out);
    expect(out).toEqual([
      [0, 0, 10, 0],
      [10, 10, 0, 10],
    ]);
  });

  it('clips a closed ring to a closed ring along the border, preserving orientation', () => {
    const square = [0, 0, 10, 0, 10, 10, 0, 10, 0, 0];
    const r = clipRing(square, 5, 20, 0)!;
    expect(r.slice(0, 2)).toEqual(r.slice(-2));
    const xs = r.filter((_, i) => i % 2 === 0);
    expect(Math.min(...xs)).toBe(5);
    const triples = (a: number[]): number[] => a.flatMap((v, i) => (i % 2 ? [v, 0] : [v]));
    expect(Math.sign(ringArea(triples(r)))).toBe(Math.sign(ringArea(triples(square))));
    expect(Math.abs(ringArea(triples(r)))).toBeCloseTo(50, 9);
    expect(clipRing(square, 11, 20, 0)).toBeNull();
  });
});

describe('simplification importance', () => {
  it('keeps endpoints and ranks a spike above near-collinear points', () => {
    const c = [0, 0, 0, 1, 0.001, 0, 2, 5, 0, 3, 0.001, 0, 4, 0, 0];
    computeImportance(c, 0, 4);
    expect(c[2]).toBe(1);
    expect(c[14]).toBe(1);
    expect(c[8]).toBeGreaterThan(c[5]!);
    expect(c[8]).toBeGreaterThan(c[11]!);
  });
});
