// The seed plan: deterministic, valid commands in time order, inside the region, spread over 14 days.
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../core/domain/commands.js';
import { planCommunity } from '../../core/seed/seed.js';
import { builtinPlaces } from '../../core/seed/places.js';
import { loadSeedRegion } from '../../core/seed/region.js';
import { UserError } from '../../core/errors.js';

const now = new Date('2025-06-01T12:00:00Z');

const region = loadSeedRegion('liechtenstein');
const places = await builtinPlaces(region);

describe('planCommunity', () => {
  it('gives the same plan for the same seed and another for another seed', () => {
    const a = planCommunity({ region, places, seed: 1, now });
    const b = planCommunity({ region, places, seed: 1, now });
    const c = planCommunity({ region, places, seed: 2, now });
    expect(JSON.stringify(b.planned)).toBe(JSON.stringify(a.planned));
    expect(JSON.stringify(c.planned)).not.toBe(JSON.stringify(a.planned));
  });

  it('plans hundreds of roles and valid commands, in time order, within 14 days before now and inside the bbox', () => {
    const { planned, counts } = planCommunity({ region, places, seed: 3, now });
    expect(counts.roles).toBe(300);
    expect(counts.nodes).toBe(120);
    expect(counts.votes).toBeGreaterThan(100);
    const [w, s, e, n] = region.bbox;
    let prev = -Infinity;
    for (const p of planned) {
      expect(p.at).toBeGreaterThanOrEqual(prev);
      expect(p.at).toBeLessThanOrEqual(now.getTime());
      expect(p.at).toBeGreaterThanOrEqual(now.getTime() - 14 * 86_400_000);
      prev = p.at;
      const c = parseCommand(p.env.command);
      const pt = 'point' in c ? c.point : 'area' in c ? c.area : undefined;
      if (pt) expect(pt[0] >= w && pt[0] <= e && pt[1] >= s && pt[1] <= n, JSON.stringify(c)).toBe(true);
    }
    const titles = planned
      .filter((p) => (p.env.command as { type: string }).type === 'CreateNode')
      .map((p) => (p.env.command as { title: string }).title);
    expect(titles).toContain('Schloss Vaduz');
  });

  it('reads regions/<id>.json and refuses unknown regions with a clear message', () => {
    expect(loadSeedRegion('monaco').bbox[0]).toBeCloseTo(7.409, 2);
    expect(() => loadSeedRegion('atlantis')).toThrow(UserError);
    expect(() => loadSeedRegion('atlantis')).toThrow(/unknown region "atlantis"/);
    expect(() => loadSeedRegion('../etc')).toThrow(/not a region id/);
  });
});
