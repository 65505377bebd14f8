// Home coarsening: the collective area point and the public home (salted hash + jitter inside the radius).
import { describe, expect, it } from 'vitest';
import { AREA_CELL_DEG, areaPoint, homeHash, publicHome } from '../../core/privacy/home.js';
import { UserError } from '../../core/errors.js';

/** Great-circle distance in metres (haversine, mean Earth radius): independent of the code under test. */
function metres([lon1, lat1]: [number, number], [lon2, lat2]: [number, number]): number {
  const R = 6_371_008.8;
  const rad = Math.PI / 180;
  const a =
    Math.sin(((lat2 - lat1) * rad) / 2) ** 2 +
    Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(a));
}

describe('areaPoint', () => {
  it('maps every point of a grid cell to the cell centre', () => {
    expect(areaPoint([7.4231, 43.7312])).toEqual([7.425, 43.735]);
    expect(areaPoint([7.4299, 43.7399])).toEqual([7.425, 43.735]);
    expect(areaPoint([7.4301, 43.7399])).toEqual([7.435, 43.735]);
    expect(areaPoint([-0.0001, -0.0001])).toEqual([-0.005, -0.005]);
    expect(AREA_CELL_DEG).toBe(0.01);
  });
});

describe('publicHome', () => {
  const base = {
    roleId: 'r1',
    point: [9.5214, 47.1405] as [number, number],
    exactConsent: false,
    salt: 'salt-a',
  };

  it('stays within the radius and at least a quarter of it away, for many homes and radii', () => {
    for (let i = 0; i < 500; i++) {
      const point: [number, number] = [-170 + ((i * 0.6871) % 340), -60 + ((i * 0.3173) % 120)];
      for (const r of [50, 250, 1000]) {
        const { publicPoint } = publicHome({ ...base, roleId: `r${i}`, point, inaccuracyM: r });
        const d = metres(point, publicPoint);
        expect(d).toBeLessThanOrEqual(r);
        expect(d).toBeGreaterThanOrEqual(r / 4 - 2);
      }
    }
  });

  it('is deterministic for the same role, home and salt, and differs with another salt or role', () => {
    const a = publicHome({ ...base, inaccuracyM: 250 });
    expect(publicHome({ ...base, inaccuracyM: 250 })).toEqual(a);
    expect(publicHome({ ...base, inaccuracyM: 250, salt: 'salt-b' }).publicPoint).not.toEqual(a.publicPoint);
    expect(publicHome({ ...base, inaccuracyM: 250, roleId: 'r2' }).publicPoint).not.toEqual(a.publicPoint);
    expect(a.homeHash).toBe(homeHash('salt-a', base.point));
    expect(a.homeHash).not.toBe(homeHash('salt-b', base.point));
    expect(a.homeHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('spreads public points around the home (no fixed direction)', () => {
    let north = 0;
    let east = 0;
    for (let i = 0; i < 400; i++) {
      const { publicPoint } = publicHome({ ...base, roleId: `role-${i}`, inaccuracyM: 250 });
      if (publicPoint[1] > base.point[1]) north += 1;
      if (publicPoint[0] > base.point[0]) east += 1;
    }
    expect(north).toBeGreaterThan(150);
    expect(north).toBeLessThan(250);
    expect(east).toBeGreaterThan(150);
    expect(east).toBeLessThan(250);
  });

  it('publishes the exact point only with recorded consent', () => {
    expect(() => publicHome({ ...base, inaccuracyM: 0 })).toThrow(UserError);
    expect(() => publicHome({ ...base, inaccuracyM: 0 })).toThrow(/exactConsent/);
    expect(publicHome({ ...base, inaccuracyM: 0, exactConsent: true }).publicPoint).toEqual(base.point);
    expect(() => publicHome({ ...base, inaccuracyM: 5001 })).toThrow(/inaccuracyM/);
    expect(() => publicHome({ ...base, inaccuracyM: 2.5 })).toThrow(/inaccuracyM/);
  });
});
