// The tiles module's pure parts: Range/If-Range/If-None-Match decisions, the hot path's URL parser, the byte-bounded
// LRU, tile ranges of an archive's bounds, and the style URL rewrite.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { validateStyleMin, type StyleSpecification } from '@maplibre/maplibre-gl-style-spec';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../core/paths.js';
import type { Header } from '../../pipeline/pmtiles/header.js';
import { tileBounds } from '../../pipeline/pmtiles/tileid.js';
import { tileRanges } from '../../serve/tiles/archive.js';
import { decideRange, ifRangeAllows, noneMatch } from '../../serve/conditional.js';
import { ByteLru, type LruNode } from '../../serve/tiles/lru.js';
import { parseTilesPath } from '../../serve/tiles/paths.js';
import { absoluteUrl, loadStyle, needsRegion, rewriteStyle } from '../../serve/tiles/styles.js';

describe('decideRange', () => {
  it.each([
    [undefined, { kind: 'full' }],
    ['bytes=0-9', { kind: 'partial', start: 0, end: 9 }],
    ['bytes=90-', { kind: 'partial', start: 90, end: 99 }],
    ['bytes=-10', { kind: 'partial', start: 90, end: 99 }],
    ['bytes=-1000', { kind: 'partial', start: 0, end: 99 }],
    ['bytes=50-5000', { kind: 'partial', start: 50, end: 99 }],
    ['Bytes= 3-4 ', { kind: 'partial', start: 3, end: 4 }],
    ['bytes=100-', { kind: 'unsatisfiable' }],
    ['bytes=100-200', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    ['bytes=5-4', { kind: 'full' }],
    ['bytes=0-1,3-4', { kind: 'full' }],
    ['bytes=-', { kind: 'full' }],
    ['bytes=x-1', { kind: 'full' }],
    ['lines=0-1', { kind: 'full' }],
    ['bytes=0-1.5', { kind: 'full' }],
  ] as const)('%s of 100 bytes → %o', (header, expected) => {
    expect(decideRange(header, 100)).toEqual(expected);
  });
});

describe('validators', () => {
  const etag = '"abc"';
  it('If-None-Match: exact, in a list, weak, or *', () => {
    expect(noneMatch(undefined, etag)).toBe(false);
    expect(noneMatch('"abc"', etag)).toBe(true);
    expect(noneMatch('"x", "abc"', etag)).toBe(true);
    expect(noneMatch('W/"abc"', etag)).toBe(true);
    expect(noneMatch('*', etag)).toBe(true);
    expect(noneMatch('"abcd"', etag)).toBe(false);
    expect(noneMatch('abc', etag)).toBe(false);
  });
  it('If-Range: only the same strong ETag lets the range apply', () => {
    expect(ifRangeAllows(undefined, etag)).toBe(true);
    expect(ifRangeAllows('"abc"', etag)).toBe(true);
    expect(ifRangeAllows('W/"abc"', etag)).toBe(false);
    expect(ifRangeAllows('"old"', etag)).toBe(false);
    expect(ifRangeAllows('Wed, 21 Oct 2015 07:28:00 GMT', etag)).toBe(false);
  });
});

describe('parseTilesPath', () => {
  it.each([
    [
      '/tiles/monaco/base/14/8529/5974.mvt',
      { kind: 'tile', region: 'monaco', layer: 'base', z: 14, x: 8529, y: 5974 },
    ],
    [
      '/tiles/monaco/activity/0/0/0.pbf',
      { kind: 'tile', region: 'monaco', layer: 'activity', z: 0, x: 0, y: 0 },
    ],
    ['/tiles/monaco/base.pmtiles', { kind: 'archive', region: 'monaco', layer: 'base', sha256: undefined }],
    ['/tiles/monaco/base-abc.pmtiles', { kind: 'archive', region: 'monaco', layer: 'base', sha256: 'abc' }],
    ['/tiles/monaco/base/1/2/x.mvt', { kind: 'bad-tile', region: 'monaco', layer: 'base' }],
    ['/tiles/monaco/base/1/2.mvt', { kind: 'bad-tile', region: 'monaco', layer: 'base' }],
    ['/tiles/monaco/base/1/2/3/4.mvt', { kind: 'bad-tile', region: 'monaco', layer: 'base' }],
    ['/tiles/monaco/base/1/2/3.png', { kind: 'bad-tile', region: 'monaco', layer: 'base' }],
    ['/tiles/monaco/base/1/2/3.mvtx', { kind: 'bad-tile', region: 'monaco', layer: 'base' }],
    ['/tiles/monaco/base/-1/2/3.mvt', { kind: 'bad-tile', region: 'monaco', layer: 'base' }],
    ['/tiles/monaco/base/1/2/1234567890.mvt', { kind: 'bad-tile', region: 'monaco', layer: 'base' }],
    ['/tiles/monaco/base.json', undefined],
    ['/tiles/monaco', undefined],
    ['/tiles//base.pmtiles', undefined],
    ['/regions', undefined],
  ] as const)('%s', (p, expected) => {
    expect(parseTilesPath(p)).toEqual(expected);
  });
});

describe('ByteLru', () => {
  it('keeps the most recently used entries within the byte budget, across owners', () => {
    const lru = new ByteLru(100);
    const a = new Map<number, LruNode<number, string>>();
    const b = new Map<number, LruNode<number, string>>();
    lru.set(a, 1, 'a1', 40);
    lru.set(b, 1, 'b1', 40);
    expect(lru.get(a, 1)?.value).toBe('a1'); // a1 now the most recent
    lru.set(a, 2, 'a2', 40); // evicts b1, the least recently used
    expect([...a.keys()].sort()).toEqual([1, 2]);
    expect(b.size).toBe(0);
    expect(lru.bytes).toBe(80);
    lru.set(a, 1, 'a1bis', 10); // replacing frees the old size
    expect(lru.bytes).toBe(50);
    expect(lru.set(b, 9, 'huge', 101)).toBeUndefined(); // larger than the budget: not kept
    expect(lru.bytes).toBe(50);
    lru.drop(a);
    expect(a.size).toBe(0);
    expect(lru.bytes).toBe(0);
    lru.set(b, 2, 'b2', 60);
    lru.set(b, 3, 'b3', 60);
    expect([...b.keys()]).toEqual([3]);
  });
});

describe('tileRanges', () => {
  it('covers exactly the tiles whose area meets the bounds at each zoom of the archive', () => {
    const h = {
      minZoom: 2,
      maxZoom: 14,
      minLon: 7.409205,
      minLat: 43.72335,
      maxLon: 7.448637,
      maxLat: 43.75169,
    };
    const r = tileRanges(h as Header);
    expect(r[0]).toBe(-1); // zoom 0 is outside the archive's zooms
    for (const z of [2, 10, 14]) {
      const [xmin, xmax, ymin, ymax] = [r[z * 4]!, r[z * 4 + 1]!, r[z * 4 + 2]!, r[z * 4 + 3]!];
      const [w, , , n] = tileBounds(z, xmin, ymin);
      const [, s, e] = tileBounds(z, xmax, ymax);
      expect(w).toBeLessThanOrEqual(h.minLon);
      expect(e).toBeGreaterThanOrEqual(h.maxLon);
      expect(n).toBeGreaterThanOrEqual(h.maxLat);
      expect(s).toBeLessThanOrEqual(h.minLat);
      // one tile less on any side would miss part of the bounds
      expect(tileBounds(z, xmin + 1, ymin)[0]).toBeGreaterThan(h.minLon);
      expect(tileBounds(z, xmax - 1, ymax)[2]).toBeLessThan(h.maxLon);
    }
  });
});

describe('style URLs', () => {
  const base = 'https://maps.example.org';
  it('makes root-relative and pmtiles:/// URLs absolute and fills {region}, keeping other placeholders', () => {
    expect(absoluteUrl('/tiles/{region}/base.json', base, 'monaco')).toBe(`${base}/tiles/monaco/base.json`);
    expect(absoluteUrl('/fonts/{fontstack}/{range}.pbf', base, 'monaco')).toBe(
      `${base}/fonts/{fontstack}/{range}.pbf`,
    );
    expect(absoluteUrl('pmtiles:///tiles/{region}/base.pmtiles', base, 'x')).toBe(
      `pmtiles://${base}/tiles/x/base.pmtiles`,
    );
    expect(absoluteUrl('//cdn.example.org/a.json', base, 'x')).toBe('//cdn.example.org/a.json');
    expect(absoluteUrl('https://other.org/{z}/{x}/{y}.png', base, 'x')).toBe(
      'https://other.org/{z}/{x}/{y}.png',
    );
  });
  it('rewrites sources, glyphs and sprites without touching the input', () => {
    const style = {
      version: 8,
      sources: {
        a: { type: 'geojson', data: '/api/{region}.geojson' },
        b: { type: 'vector', tiles: ['/t/{z}.mvt'] },
      },
      glyphs: '/fonts/{fontstack}/{range}.pbf',
      sprite: [{ id: 'default', url: '/sprites/{region}' }],
      layers: [],
    };
    const copy = JSON.parse(JSON.stringify(style)) as typeof style;
    const out = rewriteStyle(style, base, 'monaco') as typeof style;
    expect(out.sources.a.data).toBe(`${base}/api/monaco.geojson`);
    expect(out.sources.b.tiles).toEqual([`${base}/t/{z}.mvt`]);
    expect(out.sprite).toEqual([{ id: 'default', url: `${base}/sprites/monaco` }]);
    expect(style).toEqual(copy);
    expect(needsRegion(style)).toBe(true);
    expect(needsRegion({ sources: {}, glyphs: '/fonts/{fontstack}/{range}.pbf' })).toBe(false);
  });
});

describe("the repository's styles, as served", () => {
  const dir = path.join(repoRoot(), 'styles');
  const names = ['weft', 'base', 'activity'].filter((n) => existsSync(path.join(dir, `${n}.json`)));
  it.each(names)('%s.json: valid after the rewrite, every URL absolute on the serving host', async (name) => {
    const base = 'https://maps.example.org';
    const style = rewriteStyle(await loadStyle(dir, name), base, 'monaco') as unknown as StyleSpecification;
    expect(validateStyleMin(style).map((e) => e.message)).toEqual([]);
    for (const [id, src] of Object.entries(style.sources)) {
      const urls = [(src as { url?: string }).url, ...((src as { tiles?: string[] }).tiles ?? [])].filter(
        Boolean,
      );
      expect(urls.length, id).toBeGreaterThan(0);
      for (const u of urls) expect(u!.startsWith(`${base}/tiles/monaco/`), u).toBe(true);
    }
    if (style.glyphs) expect(style.glyphs).toBe(`${base}/fonts/{fontstack}/{range}.pbf`);
    expect(JSON.stringify(style)).not.toContain('{region}');
  });
});
