// readRegionFeatures end to end: source → header check → optional cut → streamed export (+ ocean, boundaries).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import { type ReadRegionOptions, readRegionFeatures } from '../../pipeline/osm/read.js';
import { type Region, loadRegion, parseRegion } from '../../pipeline/region.js';
import type { SourceFeature } from '../../pipeline/tiler/types.js';
import { hasOsmium, sharedFile, somesPbf } from './fixtures.js';

const somesDir = path.dirname(somesPbf);
// the header bbox of somes.pbf (osmium fileinfo): 174.8587846,-41.2641948,174.8708009,-41.247999
const somes = (bbox: number[], extra: Record<string, unknown> = {}): Region =>
  parseRegion({
    id: 'somes',
    name: 'Matiu/Somes Island',
    bbox,
    source: { url: 'https://example.invalid/somes.pbf', file: 'somes.pbf' },
    ...extra,
  });

function options(extra: ReadRegionOptions = {}): ReadRegionOptions {
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'weft-cache-'));
  return {
    source: { cacheDir, searchPath: [somesDir], download: false },
    coastline: null,
    log: () => {},
    ...extra,
  };
}

async function readAll(region: Region, opts: ReadRegionOptions) {
  const batches: SourceFeature[][] = [];
  for await (const b of readRegionFeatures(region, opts)) batches.push(b);
  return batches.flat();
}

async function failure(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  return (err as Error).message;
}

describe.skipIf(!hasOsmium)('readRegionFeatures', () => {
  it('reads a whole extract without cutting it when the region bbox contains it', async () => {
    let extracted: boolean | undefined;
    const features = await readAll(
      somes([174.85, -41.27, 174.88, -41.24]),
      options({ batchSize: 40, onSource: (i) => (extracted = i.extracted) }),
    );
    expect(extracted).toBe(false);
    expect(features.filter((f) => f.properties.building).length).toBeGreaterThan(10);
    expect(features.some((f) => f.properties.highway === 'bus_stop')).toBe(true);
  });

  it('cuts the extract to a smaller bbox with osmium extract', async () => {
    const all = await readAll(somes([174.85, -41.27, 174.88, -41.24]), options());
    const bbox = [174.8587846, -41.2641948, 174.8655, -41.255];
    let extracted: boolean | undefined;
    const some = await readAll(somes(bbox), options({ onSource: (i) => (extracted = i.extracted) }));
    expect(extracted).toBe(true);
    expect(some.length).toBeGreaterThan(0);
    expect(some.length).toBeLessThan(all.length);
    for (const f of some) {
      if (f.geometry.type !== 'Point') continue;
      const [x, y] = f.geometry.coordinates as [number, number];
      expect(x >= bbox[0]! && x <= bbox[2]! && y >= bbox[1]! && y <= bbox[3]!).toBe(true);
    }
  });

  it('cuts to the region polygon when one is given', async () => {
    const bbox = [174.8587846, -41.2641948, 174.8708009, -41.247999];
    const polygon = {
      type: 'Polygon',
      coordinates: [
        [
          [174.86, -41.264],
          [174.8705, -41.264],
          [174.8705, -41.256],
          [174.86, -41.264],
        ],
      ],
    };
    const cut = await readAll(somes(bbox, { polygon }), options());
    const whole = await readAll(somes(bbox), options());
    expect(cut.length).toBeGreaterThan(0);
    expect(cut.length).toBeLessThan(whole.length);
  });

  it('rejects an extract that does not overlap the region', async () => {
    const message = await failure(readAll(somes([7.4, 43.7, 7.5, 43.8]), options()));
    expect(message).toMatch(
      /^OSM extract .*somes\.pbf \(bbox \[174\.858785, -41\.264195.*\) does not overlap region "somes" \(bbox \[7\.4, 43\.7, 7\.5, 43\.8\]\)$/,
    );
  });

  it('rejects a region inside the extract bbox where the extract has no data', async () => {
    // the header bbox is wider than the data: its south-west corner holds nothing
    const message = await failure(readAll(somes([174.8588, -41.2641, 174.8598, -41.2639]), options()));
    expect(message).toMatch(/has no features inside region "somes"/);
  });

  it("fails on a truncated extract with osmium's message, leaving no temporary files", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'weft-trunc-'));
    const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'weft-tmp-'));
    const bytes = readFileSync(somesPbf);
    writeFileSync(path.join(dir, 'somes.pbf'), bytes.subarray(0, 7000));
    const opts = options({ tmpDir });
    opts.source!.searchPath = [dir];
    const message = await failure(readAll(somes([174.85, -41.27, 174.88, -41.24]), opts));
    expect(message).toMatch(/^osmium (export|extract) failed on .*somes\.pbf: .*truncated/);
    expect(readdirSync(tmpDir)).toEqual([]);
  });

  it('cleans up (temporary files, osmium) when the consumer stops early', async () => {
    const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'weft-tmp-'));
    // a cut (extract into tmpDir) and a small batch size, then stop after the first batch
    for await (const batch of readRegionFeatures(
      somes([174.8587846, -41.2641948, 174.8655, -41.255]),
      options({ tmpDir, batchSize: 5 }),
    )) {
      expect(batch.length).toBeGreaterThan(0);
      break;
    }
    expect(readdirSync(tmpDir)).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));
    const children = execFileSync('ps', ['-o', 'args=', '--ppid', String(process.pid)]).toString();
    expect(children).not.toContain('osmium');
  });

  it('adds ocean polygons and boundary lines for Monaco', async () => {
    const coastline = sharedFile('coastline/water-polygons-split-3857.zip');
    const osm = sharedFile('osm/monaco-latest.osm.pbf');
    if (!coastline || !osm) return;
    const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'weft-cache-'));
    const start = performance.now();
    const cpu = process.cpuUsage();
    const batches: SourceFeature[][] = [];
    for await (const b of readRegionFeatures(loadRegion('monaco'), {
      source: { cacheDir, searchPath: [path.dirname(osm)], download: false },
      coastline,
      log: () => {},
    }))
      batches.push(b);
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu);
    const features = batches.flat();
    console.info(
      `monaco: ${features.length} features in ${ms.toFixed(0)} ms (${Math.round(features.length / (ms / 1000))} features/s, ` +
        `node CPU ${((used.user + used.system) / 1000).toFixed(0)} ms)`,
    );
    expect(batches[0]![0]!.properties['@layer']).toBe('ocean');
    const boundaries = features.filter((f) => f.properties['@layer'] === 'boundaries');
    expect(boundaries.length).toBeGreaterThan(0);
    expect(
      boundaries.every((f) => f.properties.admin_level === '2' || f.properties.admin_level === '4'),
    ).toBe(true);
    expect(features.length).toBeGreaterThan(5000);
  });

  it('reads a region from the shared search path through loadRegion (Liechtenstein, pinned sha256)', async () => {
    const osm = sharedFile('osm/liechtenstein-2013-08-03.osm.pbf');
    if (!osm) return;
    const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'weft-cache-'));
    mkdirSync(cacheDir, { recursive: true });
    copyFileSync(osm, path.join(cacheDir, 'liechtenstein-2013-08-03.osm.pbf'));
    let origin = '';
    let count = 0;
    for await (const b of readRegionFeatures(loadRegion('liechtenstein'), {
      source: { cacheDir, searchPath: [], download: false },
      coastline: null,
      log: () => {},
      onSource: (i) => (origin = i.source.origin),
    }))
      count += b.length;
    expect(origin).toBe('cache');
    expect(count).toBeGreaterThan(7000);
  });
});
