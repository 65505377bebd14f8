// Region files: the shipped ones load, and bad ones fail with one line naming the field.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import { listRegionIds, loadRegion, parseRegion } from '../../pipeline/region.js';

const good = {
  id: 'testland',
  name: 'Testland',
  bbox: [7.4, 43.7, 7.5, 43.8],
  source: { url: 'https://download.geofabrik.de/europe/monaco-latest.osm.pbf' },
};

function errorOf(value: unknown): string {
  try {
    parseRegion(value, 'testland.json');
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as Error).message;
  }
  throw new Error('expected a validation error');
}

describe('region files', () => {
  it('ships monaco, liechtenstein and andorra with their extracts', () => {
    expect(listRegionIds()).toEqual(expect.arrayContaining(['andorra', 'liechtenstein', 'monaco']));
    const li = loadRegion('liechtenstein');
    expect(li.source.file).toBe('liechtenstein-2013-08-03.osm.pbf');
    expect(li.source.sha256).toMatch(/^[0-9a-f]{64}$/);
    const mc = loadRegion('monaco');
    expect(mc).toMatchObject({
      id: 'monaco',
      minzoom: 0,
      maxzoom: 14,
      source: { file: 'monaco-latest.osm.pbf' },
    });
    const [w, s, e, n] = mc.bbox;
    expect(mc.center[0]).toBeGreaterThan(w);
    expect(mc.center[0]).toBeLessThan(e);
    expect(mc.center[1]).toBeGreaterThan(s);
    expect(mc.center[1]).toBeLessThan(n);
    expect(loadRegion('andorra').source.url).toMatch(/^https:\/\/download\.geofabrik\.de\//);
  });

  it('fills defaults: zooms 0–14, the file name from the URL, a center inside the bbox', () => {
    const r = parseRegion(good);
    expect(r.minzoom).toBe(0);
    expect(r.maxzoom).toBe(14);
    expect(r.source.file).toBe('monaco-latest.osm.pbf');
    expect(r.center).toEqual([7.45, 43.75, 12]);
  });

  it.each([
    [{ ...good, bbox: [7.5, 43.7, 7.4, 43.8] }, 'bbox'],
    [{ ...good, bbox: [7.4, 43.7, 7.5] }, 'bbox'],
    [{ ...good, bbox: [7.4, 43.7, 7.5, 95] }, 'bbox.3'],
    [{ ...good, name: undefined }, 'name'],
    [{ ...good, id: 'Bad Id' }, 'id'],
    [{ ...good, minzoom: 15 }, 'minzoom'],
    [{ ...good, minzoom: 10, maxzoom: 8 }, 'minzoom'],
    [{ ...good, maxzoom: 13.5 }, 'maxzoom'],
    [{ ...good, center: [0, 0, 10] }, 'center'],
    [{ ...good, source: { url: 'ftp://example.com/x.osm.pbf' } }, 'source.url'],
    [{ ...good, source: { url: 'not a url' } }, 'source.url'],
    [{ ...good, source: { ...good.source, sha256: 'abc' } }, 'source.sha256'],
    [{ ...good, source: { ...good.source, file: '../x.osm.pbf' } }, 'source.file'],
    [{ ...good, polygon: { type: 'Polygon', coordinates: [[[0, 0]]] } }, 'polygon'],
    [{ ...good, source: undefined }, 'source'],
  ])('rejects %j naming field %s', (value, field) => {
    const message = errorOf(value);
    expect(message).toContain(`field "${field}`);
    expect(message.startsWith('testland.json: ')).toBe(true);
    expect(message).not.toContain('\n');
  });

  it('rejects unknown fields by name', () => {
    expect(errorOf({ ...good, zoom: 3 })).toBe('testland.json: field "zoom": unknown field');
    expect(errorOf({ ...good, name: undefined })).toBe('testland.json: field "name": is required');
  });

  it('loads by path, resolves a relative coastline path, and explains unknown ids and bad JSON', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'weft-region-'));
    const file = path.join(dir, 'testland.json');
    writeFileSync(file, JSON.stringify({ ...good, coastline: 'water.zip' }));
    const r = loadRegion(file);
    expect(r.id).toBe('testland');
    expect(r.coastline).toBe(path.join(dir, 'water.zip'));
    expect(r.definedIn).toBe(file);

    expect(() => loadRegion('atlantis')).toThrow(/unknown region "atlantis".*known: .*monaco/);
    writeFileSync(path.join(dir, 'broken.json'), '{ "id": ');
    expect(() => loadRegion(path.join(dir, 'broken.json'))).toThrow(/broken\.json: not valid JSON/);
    expect(() => loadRegion(path.join(dir, 'missing.json'))).toThrow(/region file not found/);
  });
});
