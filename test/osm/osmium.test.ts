// The osmium wrapper: streaming export checked against an independent PBF reader (tiny-osmpbf), the header
// reader against osmium's, and osmium's failures (truncated, garbage, LZ4, missing binary) as clear UserErrors.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import { exportFeatures, extract, headerBbox } from '../../pipeline/osm/osmium.js';
import { readPbfHeader } from '../../pipeline/osm/pbf-header.js';
import { exportConfigPath } from '../../pipeline/osm/read.js';
import type { SourceFeature } from '../../pipeline/tiler/types.js';
import { hasOsmium, sharedFile, somesPbf } from './fixtures.js';

interface OsmElement {
  type: 'node' | 'way' | 'relation';
  id: number;
  lat?: number;
  lon?: number;
  nodes?: number[];
  tags?: Record<string, string>;
}
const tinyOsmPbf = createRequire(import.meta.url)('tiny-osmpbf') as (buf: Uint8Array) => {
  elements: OsmElement[];
};

async function collect(file: string, opts: Parameters<typeof exportFeatures>[1] = {}) {
  const batches: SourceFeature[][] = [];
  for await (const batch of exportFeatures(file, opts)) batches.push(batch);
  return { batches, features: batches.flat() };
}

async function failure(promise: Promise<unknown>): Promise<UserError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  return err as UserError;
}

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'weft-osmium-'));

describe.skipIf(!hasOsmium)('osmium wrapper', () => {
  it('streams the export of a real extract in batches, agreeing with an independent PBF reader', async () => {
    const { batches, features } = await collect(somesPbf, { batchSize: 50, attributes: ['type', 'id'] });
    expect(batches.length).toBeGreaterThan(2);
    expect(batches.slice(0, -1).every((b) => b.length === 50)).toBe(true);

    const elements = tinyOsmPbf(readFileSync(somesPbf)).elements;
    const nodes = new Map(elements.filter((e) => e.type === 'node').map((e) => [e.id, e]));
    // every bench node, with its position
    const benches = elements.filter((e) => e.type === 'node' && e.tags?.amenity === 'bench');
    const exportedBenches = features.filter(
      (f) => f.geometry.type === 'Point' && f.properties.amenity === 'bench',
    );
    expect(benches.length).toBeGreaterThan(0);
    expect(exportedBenches.map((f) => f.properties['@id']).sort()).toEqual(benches.map((b) => b.id).sort());
    for (const f of exportedBenches) {
      const n = nodes.get(f.properties['@id'] as number)!;
      expect(f.geometry).toEqual({ type: 'Point', coordinates: [n.lon, n.lat] });
    }
    // every closed building way becomes an area, and only those
    const buildings = elements.filter(
      (e) => e.type === 'way' && e.tags?.building && e.nodes!.length > 3 && e.nodes![0] === e.nodes!.at(-1),
    );
    const areas = features.filter(
      (f) => f.geometry.type === 'MultiPolygon' && f.properties['@type'] === 'way' && f.properties.building,
    );
    expect(buildings.length).toBeGreaterThan(10);
    expect(areas.map((f) => f.properties['@id']).sort()).toEqual(buildings.map((b) => b.id).sort());
  });

  it('keeps only the tags the export config lists', async () => {
    const { features } = await collect(somesPbf, { config: exportConfigPath() });
    const config = JSON.parse(readFileSync(exportConfigPath(), 'utf8')) as { include_tags: string[] };
    const keys = new Set(config.include_tags.map((e) => e.split('=')[0]!));
    for (const f of features) {
      for (const k of Object.keys(f.properties)) if (!k.startsWith('@')) expect(keys).toContain(k);
    }
    // natural=tidal is not a Shortbread value: dropped, so tidal-only nodes vanish
    expect(features.some((f) => f.properties.natural === 'tidal')).toBe(false);
    expect(features.filter((f) => f.properties.building).length).toBeGreaterThan(10);
  });

  it('reads the header bbox like osmium does', async () => {
    const files = [
      somesPbf,
      sharedFile('osm/monaco-latest.osm.pbf'),
      sharedFile('osm/andorra-latest.osm.pbf'),
    ];
    for (const file of files) {
      if (!file) continue;
      const ours = readPbfHeader(file)!;
      expect(ours.compression).toBe('zlib');
      const theirs = (await headerBbox(file))!;
      ours.bbox!.forEach((v, i) => expect(v).toBeCloseTo(theirs[i]!, 6)); // osmium prints 7 decimals
    }
    const garbage = path.join(tmp(), 'garbage.osm.pbf');
    writeFileSync(garbage, 'this is not a PBF file at all');
    expect(readPbfHeader(garbage)).toBeUndefined();
  });

  it('turns a truncated PBF into one clear error', async () => {
    const sources = [somesPbf, sharedFile('osm/monaco-latest.osm.pbf')];
    for (const source of sources) {
      if (!source) continue;
      const bytes = readFileSync(source);
      const cut = path.join(tmp(), 'truncated.osm.pbf');
      writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      const err = await failure(collect(cut, { config: exportConfigPath() }));
      expect(err.message).toBe(
        `osmium export failed on ${cut}: PBF error: unexpected EOF — the file looks truncated; download it again`,
      );
    }
  });

  it('turns a file that is no PBF into one clear error', async () => {
    const garbage = path.join(tmp(), 'garbage.osm.pbf');
    writeFileSync(garbage, Buffer.alloc(4096, 0x41));
    const err = await failure(collect(garbage));
    expect(err.message).toMatch(
      /^osmium export failed on .*garbage\.osm\.pbf: .+ — not a readable OSM PBF file/,
    );
    expect(err.message).not.toContain('\n');
    const missing = await failure(
      extract(path.join(tmp(), 'nope.osm.pbf'), path.join(tmp(), 'out.osm.pbf'), { bbox: [0, 0, 1, 1] }),
    );
    expect(missing.message).toMatch(/^osmium extract failed on .*nope\.osm\.pbf: /);
  });

  it('reads the LZ4-compressed Monaco, or says clearly that it cannot', async () => {
    const lz4 = sharedFile('osm/monaco-latest.lz4.osm.pbf');
    const plain = sharedFile('osm/monaco-latest.osm.pbf');
    if (!lz4 || !plain) return;
    const result = await collect(lz4, { config: exportConfigPath() }).catch((e: unknown) => e);
    if (result instanceof Error) {
      console.info(`osmium cannot read LZ4 blocks here: ${result.message}`);
      expect(result).toBeInstanceOf(UserError);
      expect(result.message).toMatch(/monaco-latest\.lz4\.osm\.pbf: .*(lz4|compression)/i);
    } else {
      const { features } = result as { features: SourceFeature[] };
      console.info(`osmium reads the LZ4-compressed Monaco: ${features.length} features`);
      const reference = await collect(plain, { config: exportConfigPath() });
      expect(features.length).toBe(reference.features.length);
      expect(features.length).toBeGreaterThan(5000);
    }
  });

  it('reports a missing osmium binary as a missing tool', async () => {
    const saved = process.env.WEFT_OSMIUM;
    process.env.WEFT_OSMIUM = '/nonexistent/osmium';
    try {
      const err = await failure(collect(somesPbf));
      expect(err.code).toBe('missing_tool');
      expect(err.message).toContain('apt-get install -y osmium-tool');
    } finally {
      if (saved === undefined) delete process.env.WEFT_OSMIUM;
      else process.env.WEFT_OSMIUM = saved;
    }
  });

  it('stops osmium when the consumer stops early', async () => {
    const file = sharedFile('osm/andorra-latest.osm.pbf') ?? somesPbf;
    let seen = 0;
    for await (const batch of exportFeatures(file, { batchSize: 10 })) {
      seen += batch.length;
      break;
    }
    expect(seen).toBe(10);
    await new Promise((r) => setTimeout(r, 200));
    const children = execFileSync('ps', ['-o', 'args=', '--ppid', String(process.pid)]).toString();
    expect(children).not.toContain('osmium export');
  });
});
