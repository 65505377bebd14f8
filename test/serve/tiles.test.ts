// z/x/y tiles, TileJSON, the region list and styles over a real socket, against releases published and promoted
// with the real pipeline; tile bodies checked against the `pmtiles` npm package reading the same archive.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PMTilesReader } from '../../pipeline/pmtiles/reader.js';
import { tileIdToZxy, zxyToTileId } from '../../pipeline/pmtiles/tileid.js';
import { loadRegion } from '../../pipeline/region.js';
import { createTilesModule } from '../../serve/tiles/module.js';
import { tempDir } from '../helpers/tmp.js';
import { referenceReader, referenceTile, sameBytes } from '../pmtiles/reference.js';
import {
  makeArchives,
  rawRequest,
  releaseFixture,
  type FixtureArchives,
  type FixtureRelease,
  tileAt,
  waitFor,
} from './fixtures.js';
import { startTestServer, type TestServer } from './server.js';

const dir = tempDir('weft-serve-tiles-');
const stylesDir = path.join(dir, 'styles');

const metric = async (srv: TestServer, name: 'tileCacheHits' | 'tileCacheMisses') =>
  (await srv.ctx.metrics[name].get()).values[0]?.value ?? 0;

describe('tiles over HTTP', () => {
  let srv: TestServer;
  let archives: FixtureArchives;
  let rel: FixtureRelease;
  const tileUrl = (z: number, x: number, y: number, layer = 'base', ext = 'mvt') =>
    `${srv.url}/tiles/monaco/${layer}/${z}/${x}/${y}.${ext}`;

  beforeAll(async () => {
    mkdirSync(stylesDir);
    writeFileSync(
      path.join(stylesDir, 'weft.json'),
      JSON.stringify({
        version: 8,
        name: 'test style',
        sources: {
          base: { type: 'vector', url: '/tiles/{region}/base.json' },
          activity: { type: 'vector', tiles: ['/tiles/{region}/activity/{z}/{x}/{y}.mvt'], maxzoom: 14 },
          archive: { type: 'vector', url: 'pmtiles:///tiles/{region}/base.pmtiles' },
          elsewhere: { type: 'raster', tiles: ['https://tiles.example.org/{z}/{x}/{y}.png'] },
        },
        glyphs: '/fonts/{fontstack}/{range}.pbf',
        sprite: '/sprites/weft',
        layers: [{ id: 'bg', type: 'background', paint: { 'background-color': '#fff' } }],
      }),
    );
    writeFileSync(path.join(stylesDir, 'broken.json'), '{ not json');
    archives = await makeArchives(dir, 'one');
    srv = await startTestServer({
      modules: [(ctx) => createTilesModule(ctx, { stylesDir })],
      config: { releaseRecheckMs: 60_000 },
    });
    rel = await releaseFixture({ blob: srv.blob, db: srv.db, archives, bus: srv.bus });
    await waitFor(async () => (await fetch(`${srv.url}/tiles/monaco/base.json`)).status === 200);
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('serves every tile of both archives as stored: gzip, the same bytes the reference reader finds', async () => {
    for (const layer of ['base', 'activity'] as const) {
      const ours = await PMTilesReader.openFile(rel.files[layer].path);
      const ref = referenceReader(rel.files[layer].path);
      let n = 0;
      try {
        for await (const e of ours.entries()) {
          for (let id = e.tileId; id < e.tileId + e.runLength; id++) {
            const [z, x, y] = tileIdToZxy(id);
            const r = await rawRequest(tileUrl(z, x, y, layer));
            expect(r.status).toBe(200);
            expect(r.headers['content-type']).toBe('application/vnd.mapbox-vector-tile');
            expect(r.headers['content-encoding']).toBe('gzip');
            expect(Number(r.headers['content-length'])).toBe(r.body.length);
            expect(r.headers['access-control-allow-origin']).toBe('*');
            expect(r.headers['x-content-type-options']).toBe('nosniff');
            expect(sameBytes(gunzipSync(r.body), await referenceTile(ref, z, x, y))).toBe(true);
            expect(sameBytes(r.body, await ours.getTile(z, x, y))).toBe(true);
            n++;
          }
        }
      } finally {
        await ours.close();
      }
      expect(n).toBeGreaterThan(10);
    }
  });

  it('accepts .pbf, answers HEAD without a body, and counts cache hits', async () => {
    const [z, x, y] = tileAt(12, 7.415, 43.727);
    const first = await rawRequest(tileUrl(z, x, y));
    expect(first.status).toBe(200);
    const hits = await metric(srv, 'tileCacheHits');
    const pbf = await rawRequest(tileUrl(z, x, y, 'base', 'pbf'));
    expect(pbf.status).toBe(200);
    expect(pbf.body.equals(first.body)).toBe(true);
    expect(await metric(srv, 'tileCacheHits')).toBe(hits + 1);
    const head = await rawRequest(tileUrl(z, x, y), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(Number(head.headers['content-length'])).toBe(first.body.length);
    expect(head.headers.etag).toBe(first.headers.etag);
    expect(await metric(srv, 'tileCacheMisses')).toBeGreaterThan(0);
  });

  it('ETag and If-None-Match give 304 without a body; another ETag gets the tile', async () => {
    const [z, x, y] = tileAt(13, 7.415, 43.727);
    const r = await rawRequest(tileUrl(z, x, y));
    const etag = r.headers.etag as string;
    expect(etag).toMatch(new RegExp(`^"${rel.files.base.sha256.slice(0, 16)}-${zxyToTileId(z, x, y)}"$`));
    const again = await rawRequest(tileUrl(z, x, y), { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(again.headers.etag).toBe(etag);
    const list = await rawRequest(tileUrl(z, x, y), { headers: { 'If-None-Match': `"other", W/${etag}` } });
    expect(list.status).toBe(304);
    const other = await rawRequest(tileUrl(z, x, y), { headers: { 'If-None-Match': '"other"' } });
    expect(other.status).toBe(200);
    expect(other.body.equals(r.body)).toBe(true);
  });

  it('an empty tile inside the bounds is 204; outside the bounds or zooms, or a bad address, 404 JSON', async () => {
    const [, , e, n] = loadRegion('monaco').bbox;
    const ref = referenceReader(rel.files.base.path);
    const [z, x, y] = tileAt(14, e - 0.0005, n - 0.0005);
    expect(await referenceTile(ref, z, x, y)).toBeUndefined();
    const empty = await rawRequest(tileUrl(z, x, y));
    expect(empty.status).toBe(204);
    expect(empty.body.length).toBe(0);
    expect(empty.headers.etag).toBeDefined();
    const notModified = await rawRequest(tileUrl(z, x, y), {
      headers: { 'If-None-Match': empty.headers.etag as string },
    });
    expect(notModified.status).toBe(304);

    const expect404 = async (url: string, code = 'not_found') => {
      const r = await rawRequest(url);
      expect(r.status, url).toBe(404);
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(r.headers['access-control-allow-origin']).toBe('*');
      const body = JSON.parse(r.body.toString()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe(code);
      expect(body.error.message.length).toBeGreaterThan(10);
      return body.error.message;
    };
    expect(await expect404(tileUrl(14, 0, 0))).toMatch(/outside the bounds of monaco\/base/);
    expect(await expect404(tileUrl(...tileAt(15, 7.415, 43.727)))).toMatch(/zooms 0–14/);
    expect(await expect404(tileUrl(3, 8, 0))).toBeDefined(); // x beyond 2^z
    expect(await expect404(`${srv.url}/tiles/monaco/base/a/b/c.mvt`)).toMatch(/not a tile address/);
    expect(await expect404(`${srv.url}/tiles/monaco/base/1/2/3.png`)).toMatch(/not a tile address/);
    expect(await expect404(`${srv.url}/tiles/monaco/base/99/0/0.mvt`)).toBeDefined();
    expect(await expect404(`${srv.url}/tiles/monaco/roads/0/0/0.mvt`, 'unknown_layer')).toMatch(
      /base, activity/,
    );
    expect(await expect404(`${srv.url}/tiles/atlantis/base/0/0/0.mvt`, 'unknown_region')).toMatch(/monaco/);
    expect(await expect404(`${srv.url}/tiles/andorra/base/0/0/0.mvt`, 'no_release')).toMatch(
      /andorra has nothing in prod/,
    );
  });

  it('TileJSON 3.0.0 with absolute tile URLs, vector layers, zooms, bounds, center and OSM attribution', async () => {
    const res = await fetch(`${srv.url}/tiles/monaco/base.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const tj = (await res.json()) as Record<string, unknown>;
    const header = (await PMTilesReader.openFile(rel.files.base.path)).header;
    expect(tj).toMatchObject({
      tilejson: '3.0.0',
      scheme: 'xyz',
      tiles: [`${srv.url}/tiles/monaco/base/{z}/{x}/{y}.mvt`],
      minzoom: 0,
      maxzoom: 14,
      bounds: [header.minLon, header.minLat, header.maxLon, header.maxLat],
      center: [header.centerLon, header.centerLat, header.centerZoom],
      release: rel.release,
      pmtiles: `${srv.url}/tiles/monaco/base-${rel.files.base.sha256}.pmtiles`,
    });
    expect(tj.attribution).toContain('© OpenStreetMap contributors');
    expect(tj.name).toContain('Monaco base');
    expect((tj.vector_layers as { id: string }[]).map((l) => l.id).sort()).toEqual([
      'places',
      'streets',
      'water',
    ]);
    const [z, x, y] = tileAt(12, 7.415, 43.727);
    const template = (tj.tiles as string[])[0]!;
    const t = await rawRequest(
      template.replace('{z}', String(z)).replace('{x}', String(x)).replace('{y}', String(y)),
    );
    expect(t.status).toBe(200);

    const act = (await (await fetch(`${srv.url}/tiles/monaco/activity.json`)).json()) as Record<
      string,
      unknown
    >;
    expect((act.vector_layers as { id: string }[]).map((l) => l.id).sort()).toEqual(['nodes', 'threads']);
    expect(act.attribution).toBe('weft participants');

    const none = await fetch(`${srv.url}/tiles/andorra/base.json`);
    expect(none.status).toBe(404);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('no_release');
    const bad = await fetch(`${srv.url}/tiles/monaco/roads.json`);
    expect(bad.status).toBe(404);
  });

  it('TileJSON follows the Host header, and refuses a malformed one', async () => {
    const r = await rawRequest(`${srv.url}/tiles/monaco/base.json`, {
      headers: { Host: 'maps.example.org:8443' },
    });
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body.toString()) as { tiles: string[] }).tiles).toEqual([
      'http://maps.example.org:8443/tiles/monaco/base/{z}/{x}/{y}.mvt',
    ]);
    const bad = await rawRequest(`${srv.url}/tiles/monaco/base.json`, { headers: { Host: 'evil.org/<x>' } });
    expect(bad.status).toBe(400);
    expect((JSON.parse(bad.body.toString()) as { error: { code: string } }).error.code).toBe('bad_host');
  });

  it('GET /regions lists every region with its prod release and archive URLs, or null', async () => {
    const res = await fetch(`${srv.url}/regions`);
    expect(res.status).toBe(200);
    const { regions } = (await res.json()) as { regions: Record<string, any>[] };
    expect(regions.map((r) => r.id)).toEqual(['andorra', 'liechtenstein', 'monaco']);
    expect(regions[0]!.release).toBeNull();
    const monaco = regions[2]!;
    expect(monaco).toMatchObject({
      name: 'Monaco',
      bbox: loadRegion('monaco').bbox,
      center: loadRegion('monaco').center,
      minzoom: 0,
      maxzoom: 14,
      release: { id: rel.release, at: rel.manifest.at },
    });
    for (const layer of ['base', 'activity'] as const) {
      const a = monaco.release.archives[layer];
      expect(a).toMatchObject({
        sha256: rel.files[layer].sha256,
        size: rel.files[layer].size,
        url: `${srv.url}/tiles/monaco/${layer}-${rel.files[layer].sha256}.pmtiles`,
        latest: `${srv.url}/tiles/monaco/${layer}.pmtiles`,
        tilejson: `${srv.url}/tiles/monaco/${layer}.json`,
      });
      const got = await rawRequest(a.url);
      expect(got.status).toBe(200);
      expect(got.body.equals(rel.files[layer].bytes)).toBe(true);
    }
  });

  it('styles: URLs made absolute on the serving host, {region} filled in, MapLibre placeholders kept', async () => {
    const res = await fetch(`${srv.url}/styles/weft.json`);
    expect(res.status).toBe(200);
    const style = (await res.json()) as Record<string, any>;
    expect(style.sources.base.url).toBe(`${srv.url}/tiles/monaco/base.json`);
    expect(style.sources.activity.tiles).toEqual([`${srv.url}/tiles/monaco/activity/{z}/{x}/{y}.mvt`]);
    expect(style.sources.archive.url).toBe(`pmtiles://${srv.url}/tiles/monaco/base.pmtiles`);
    expect(style.sources.elsewhere.tiles).toEqual(['https://tiles.example.org/{z}/{x}/{y}.png']);
    expect(style.glyphs).toBe(`${srv.url}/fonts/{fontstack}/{range}.pbf`);
    expect(style.sprite).toBe(`${srv.url}/sprites/weft`);
    expect(style.layers).toHaveLength(1);
    // the style's TileJSON URL really answers
    expect((await fetch(style.sources.base.url)).status).toBe(200);

    const other = (await (await fetch(`${srv.url}/styles/weft.json?region=andorra`)).json()) as Record<
      string,
      any
    >;
    expect(other.sources.base.url).toBe(`${srv.url}/tiles/andorra/base.json`);
    const viaHost = await rawRequest(`${srv.url}/styles/weft.json`, {
      headers: { Host: 'maps.example.org' },
    });
    expect((JSON.parse(viaHost.body.toString()) as { glyphs: string }).glyphs).toBe(
      'http://maps.example.org/fonts/{fontstack}/{range}.pbf',
    );

    for (const [url, status, code] of [
      ['/styles/nope.json', 404, 'unknown_style'],
      ['/styles/..%2Fweft.json', 404, 'unknown_style'],
      ['/styles/weft.json?region=atlantis', 404, 'unknown_region'],
      ['/styles/broken.json', 500, 'bad_style'],
    ] as const) {
      const r = await fetch(srv.url + url);
      expect(r.status, url).toBe(status);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe(code);
    }
  });

  it('provides the releases service with the regions and the current prod release', async () => {
    const registry = srv.ctx.services.get('releases') as import('../../serve/releases.js').ReleaseRegistry;
    expect(registry.regions().map((r) => r.id)).toEqual(['andorra', 'liechtenstein', 'monaco']);
    const current = await registry.current('monaco');
    expect(current).toMatchObject({ region: 'monaco', id: rel.release });
    expect(current!.archives.base).toEqual({
      region: 'monaco',
      layer: 'base',
      key: rel.files.base.key,
      sha256: rel.files.base.sha256,
      size: rel.files.base.size,
    });
    expect(await registry.current('andorra')).toBeUndefined();
    expect(await registry.current('atlantis')).toBeUndefined();
  });
});
