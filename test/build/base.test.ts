// `weft build base` end to end on real extracts: the archive verifies, lists the Shortbread layers, and holds facts of
// the real data in the right layer with the right kind; a region file the tests never saw builds without code changes.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildBase } from '../../pipeline/build-base.js';
import { verifyArchive } from '../../pipeline/pmtiles/verify.js';
import { PMTilesReader, fileSource } from '../../pipeline/pmtiles/reader.js';
import { tileIdToZxy } from '../../pipeline/pmtiles/tileid.js';
import { shortbreadLayers } from '../../pipeline/profiles/shortbread.js';
import { referenceReader } from '../pmtiles/reference.js';
import { runCli } from '../helpers/cli.js';
import { HAS_SHARED, sharedPath } from '../helpers/shared.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir();
const hasOsmium = existsSync('/usr/bin/osmium');
if (!HAS_SHARED || !hasOsmium) console.warn('skipped: base builds need ../shared/data/osm and osmium-tool');

interface Feat {
  layer: string;
  props: Record<string, unknown>;
  z: number;
}

/** Every feature of every tile at zoom z, decoded with @mapbox/vector-tile from the reference reader's bytes. */
async function featuresAt(archive: string, z: number): Promise<Feat[]> {
  const ours = await PMTilesReader.open(fileSource(archive));
  const ref = referenceReader(archive);
  const out: Feat[] = [];
  for await (const e of ours.entries()) {
    const [tz, x, y] = tileIdToZxy(e.tileId);
    if (tz !== z) continue;
    const r = await ref.getZxy(tz, x, y);
    const tile = new VectorTile(new PbfReader(new Uint8Array(r!.data)));
    for (const [name, layer] of Object.entries(tile.layers)) {
      for (let i = 0; i < layer.length; i++) out.push({ layer: name, props: layer.feature(i).properties, z });
    }
  }
  await ours.close();
  return out;
}

describe.skipIf(!HAS_SHARED || !hasOsmium)('weft build base: Monaco', () => {
  let archive = '';
  let z14: Feat[] = [];

  beforeAll(async () => {
    const r = await buildBase('monaco', { outDir: `${dir}/monaco`, quiet: true });
    archive = r.archive;
    z14 = await featuresAt(archive, 14);
  });

  it('verifies, and the metadata lists every Shortbread layer with attribution', async () => {
    const v = await verifyArchive(archive);
    expect(v.problems).toEqual([]);
    const meta = (await referenceReader(archive).getMetadata()) as any;
    const ids = meta.vector_layers.map((l: any) => l.id).sort();
    expect(ids).toEqual(shortbreadLayers.map((l) => l.id).sort());
    expect(meta.attribution).toMatch(/© OpenStreetMap contributors/);
    const header = await referenceReader(archive).getHeader();
    expect(header.minZoom).toBe(0);
    expect(header.maxZoom).toBe(14);
  });

  it('has real Monaco streets in `streets` with their kind, and their labels', () => {
    const streets = z14.filter((f) => f.layer === 'streets');
    expect(streets.length).toBeGreaterThan(100);
    const kinds = new Set(streets.map((f) => f.props.kind));
    for (const k of ['primary', 'residential', 'footway']) expect(kinds).toContain(k);
    const labels = z14.filter((f) => f.layer === 'street_labels');
    const names = new Set(labels.map((f) => f.props.name));
    expect(names).toContain('Boulevard Albert 1er');
  });

  it('has buildings, the harbour water and the ocean', () => {
    expect(z14.filter((f) => f.layer === 'buildings').length).toBeGreaterThan(500);
    expect(z14.some((f) => f.layer === 'ocean')).toBe(true);
    // Port Hercule: its basin is sea (ocean layer), its quays are piers
    expect(z14.filter((f) => f.layer === 'pier_polygons' && f.props.kind === 'pier').length).toBeGreaterThan(3);
    const waterNames = new Set(z14.filter((f) => f.layer === 'water_polygons_labels').map((f) => f.props.name));
    expect(waterNames).toContain('Fontaine du Casino');
  });

  it('writes a stats file with features per layer, tiles per zoom, the largest tiles and stage times', () => {
    const stats = JSON.parse(readFileSync(`${dir}/monaco/base.stats.json`, 'utf8'));
    expect(stats.layers.buildings.count).toBeGreaterThan(500);
    expect(stats.tilesPerZoom['14']).toBeGreaterThan(0);
    expect(stats.largestTiles.length).toBeGreaterThan(0);
    expect(stats.stages.map((s: any) => s.stage)).toEqual(['read+map', 'merge+encode+write']);
    expect(stats.stages[0].peakRssMiB).toBeGreaterThan(0);
  });

  it('is deterministic', async () => {
    const again = await buildBase('monaco', { outDir: `${dir}/monaco2`, quiet: true });
    expect(readFileSync(again.archive).equals(readFileSync(archive))).toBe(true);
  });
});

describe.skipIf(!HAS_SHARED || !hasOsmium)('weft build base: a region the tests never saw', () => {
  it('builds the Bremen tram network from a new region file, and it verifies', async () => {
    mkdirSync(`${dir}/regions`, { recursive: true });
    const file = `${dir}/regions/bremen-trams.json`;
    writeFileSync(
      file,
      JSON.stringify({
        id: 'bremen-trams',
        name: 'Bremen trams',
        bbox: [8.45, 52.95, 9.05, 53.25],
        maxzoom: 13,
        source: { url: 'https://example.invalid/bremen-trams.osm.pbf', file: 'bremen-trams.osm.pbf' },
      }),
    );
    const r = await runCli(['build', 'base', '--region', file, '-o', `${dir}/bremen`, '--no-ocean'], {
      env: { WEFT_OSM_PATH: sharedPath('osm') },
    });
    expect(r.stderr).not.toMatch(/^weft: /m);
    expect(r.code).toBe(0);
    const v = await runCli(['verify', `${dir}/bremen/base.pmtiles`]);
    expect(v.code).toBe(0);
    const z13 = await featuresAt(`${dir}/bremen/base.pmtiles`, 13);
    expect(z13.some((f) => f.layer === 'streets' && f.props.kind === 'tram')).toBe(true);
  });

  it('reports an unknown region and a bad region file clearly', async () => {
    let r = await runCli(['build', 'base', '--region', 'atlantis']);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(/^weft: .*atlantis/);
    const bad = `${dir}/regions/bad.json`;
    writeFileSync(bad, JSON.stringify({ id: 'bad', name: 'Bad', bbox: [10, 50, 9, 51], source: { url: 'https://x.invalid/a.pbf' } }));
    r = await runCli(['build', 'base', '--region', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bbox/);
  });

  it('a truncated extract fails clearly and leaves no archive', async () => {
    const pbf = readFileSync(sharedPath('osm/monaco-latest.osm.pbf'));
    mkdirSync(`${dir}/trunc`, { recursive: true });
    writeFileSync(`${dir}/trunc/monaco-latest.osm.pbf`, pbf.subarray(0, Math.floor(pbf.length / 2)));
    const r = await runCli(['build', 'base', '--region', 'monaco', '-o', `${dir}/trunc/out`], {
      env: { WEFT_OSM_PATH: `${dir}/trunc`, WEFT_OSM_CACHE: `${dir}/trunc/cache` },
    });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').find((l) => l.startsWith('weft: '))).toMatch(/monaco-latest\.osm\.pbf/);
    expect(existsSync(`${dir}/trunc/out/base.pmtiles`)).toBe(false);
  });
});

