// End to end: GeoJSON → `weft tile` → PMTiles, read back with the independent readers (the `pmtiles` package and
// @mapbox/vector-tile), compared with what we put in.
import { existsSync, mkdirSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { VectorTile, type VectorTileFeature } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import { beforeAll, describe, expect, it } from 'vitest';
import { tileCommand } from '../../pipeline/tile-command.js';
import { runEngine, type EngineStats } from '../../pipeline/tiler/engine.js';
import { nativeTileEncoderError } from '../../pipeline/tiler/native-tiles.js';
import { readGeojsonInputs } from '../../pipeline/input/geojson.js';
import { Progress } from '../../pipeline/progress.js';
import { projectX, projectY } from '../../pipeline/tiler/project.js';
import { PMTilesReader, fileSource } from '../../pipeline/pmtiles/reader.js';
import { tileIdToZxy } from '../../pipeline/pmtiles/tileid.js';
import { validateTile } from '../../pipeline/mvt/validate.js';
import { referenceReader } from '../pmtiles/reference.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { HAS_SHARED, sharedPath } from '../helpers/shared.js';

const dir = tempDir();
const Z = 10;

/** A deterministic mix: points with every property type, lines crossing tiles, polygons with holes, multi-geometries. */
function fixture(): { type: 'FeatureCollection'; features: any[] } {
  const features: any[] = [];
  for (let i = 0; i < 60; i++) {
    features.push({
      type: 'Feature',
      id: i,
      properties: { name: `p${i}`, n: i - 30, f: i / 8, ok: i % 2 === 0, nested: { a: i }, gone: null },
      geometry: { type: 'Point', coordinates: [7.3 + (i % 10) * 0.03, 43.6 + Math.floor(i / 10) * 0.03] },
    });
  }
  features.push({
    type: 'Feature',
    id: 1000,
    properties: { kind: 'road' },
    geometry: {
      type: 'LineString',
      coordinates: [
        [7.2, 43.5],
        [7.9, 43.95],
        [7.95, 43.6],
      ],
    },
  });
  features.push({
    type: 'Feature',
    properties: { kind: 'multi' },
    geometry: {
      type: 'MultiLineString',
      coordinates: [
        [
          [7.31, 43.71],
          [7.33, 43.72],
        ],
        [
          [7.41, 43.74],
          [7.42, 43.7],
        ],
      ],
    },
  });
  // a polygon with a hole, counter-clockwise in lon/lat like RFC 7946 (so the encoder must fix orientation)
  features.push({
    type: 'Feature',
    id: 2000,
    properties: { kind: 'park' },
    geometry: {
      type: 'Polygon',
      coordinates: [
        [
          [7.5, 43.8],
          [7.56, 43.8],
          [7.56, 43.84],
          [7.5, 43.84],
          [7.5, 43.8],
        ],
        [
          [7.52, 43.81],
          [7.52, 43.83],
          [7.54, 43.83],
          [7.54, 43.81],
          [7.52, 43.81],
        ],
      ],
    },
  });
  features.push({
    type: 'Feature',
    properties: { kind: 'islands' },
    geometry: {
      type: 'MultiPolygon',
      coordinates: [
        [
          [
            [7.6, 43.6],
            [7.62, 43.6],
            [7.62, 43.62],
            [7.6, 43.6],
          ],
        ],
        [
          [
            [7.7, 43.6],
            [7.72, 43.6],
            [7.72, 43.62],
            [7.7, 43.62],
            [7.7, 43.6],
          ],
        ],
      ],
    },
  });
  return { type: 'FeatureCollection', features };
}

interface Decoded {
  z: number;
  x: number;
  y: number;
  tile: VectorTile;
}

async function allTiles(path: string): Promise<Decoded[]> {
  const ours = await PMTilesReader.open(fileSource(path));
  const ref = referenceReader(path);
  const out: Decoded[] = [];
  for await (const e of ours.entries()) {
    for (let k = 0; k < e.runLength; k++) {
      const [z, x, y] = tileIdToZxy(e.tileId + k);
      const stored = await ours.getTile(z, x, y);
      const viaRef = await ref.getZxy(z, x, y);
      expect(viaRef, `reference reader has ${z}/${x}/${y}`).toBeTruthy();
      // the reference reader returns the tile decompressed: it must equal our stored bytes, gunzipped
      const raw = gunzipSync(stored!);
      expect(Buffer.from(new Uint8Array(viaRef!.data)).equals(raw)).toBe(true);
      expect(validateTile(raw)).toEqual([]);
      out.push({ z, x, y, tile: new VectorTile(new PbfReader(raw)) });
    }
  }
  await ours.close();
  return out;
}

function features(t: VectorTile, layer: string): VectorTileFeature[] {
  const l = t.layers[layer];
  if (!l) return [];
  return Array.from({ length: l.length }, (_, i) => l.feature(i));
}

/** Tile coordinates (extent 4096) of a lon/lat at z/x/y. */
function toTile(lon: number, lat: number, z: number, x: number, y: number): [number, number] {
  const n = 2 ** z;
  return [(projectX(lon) * n - x) * 4096, (projectY(lat) * n - y) * 4096];
}

function signedArea(ring: { x: number; y: number }[]): number {
  let s = 0;
  // the spec's surveyor's formula: positive = clockwise in tile coordinates (y down)
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++)
    s += ring[j]!.x * ring[i]!.y - ring[i]!.x * ring[j]!.y;
  return s / 2;
}

describe('weft tile', () => {
  const input = `${dir}/things.geojson`;
  const out = `${dir}/things.pmtiles`;
  let tiles: Decoded[] = [];
  const fc = fixture();

  beforeAll(async () => {
    writeFileSync(input, JSON.stringify(fc));
    await tileCommand([input], { output: out, minzoom: 0, maxzoom: Z, budget: 500_000, quiet: true });
    tiles = await allTiles(out);
  });

  it('writes metadata with vector_layers, bounds, center', async () => {
    const ref = referenceReader(out);
    const header = await ref.getHeader();
    expect(header.minZoom).toBe(0);
    expect(header.maxZoom).toBe(Z);
    expect(header.minLon).toBeCloseTo(7.2, 5);
    expect(header.maxLat).toBeCloseTo(43.95, 5);
    const meta = (await ref.getMetadata()) as any;
    expect(meta.vector_layers).toHaveLength(1);
    expect(meta.vector_layers[0].id).toBe('things');
    expect(meta.vector_layers[0].fields).toMatchObject({
      name: 'String',
      n: 'Number',
      ok: 'Boolean',
      kind: 'String',
    });
  });

  it('every point comes back at max zoom at its position (±1 unit) with equal properties and id', () => {
    const maxTiles = tiles.filter((t) => t.z === Z);
    for (const f of fc.features.filter((f) => f.geometry.type === 'Point')) {
      const [lon, lat] = f.geometry.coordinates;
      const hits = maxTiles.flatMap((t) =>
        features(t.tile, 'things')
          .filter((g) => g.id === f.id)
          .map((g) => ({ t, g })),
      );
      // in its own tile (plus possibly a neighbour's buffer)
      expect(hits.length).toBeGreaterThanOrEqual(1);
      for (const { t, g } of hits) {
        const [x, y] = toTile(lon, lat, t.z, t.x, t.y);
        const p = g.loadGeometry()[0]![0]!;
        expect(Math.abs(p.x - x)).toBeLessThanOrEqual(1);
        expect(Math.abs(p.y - y)).toBeLessThanOrEqual(1);
        expect(g.properties).toEqual({
          name: f.properties.name,
          n: f.properties.n,
          f: f.properties.f,
          ok: f.properties.ok,
          nested: JSON.stringify(f.properties.nested),
        });
      }
    }
  });

  it('polygons keep holes as holes: exterior clockwise, interior counter-clockwise in tile coordinates', () => {
    let checked = 0;
    let withHole = 0;
    for (const t of tiles) {
      for (const g of features(t.tile, 'things').filter((g) => g.id === 2000)) {
        const rings = g.loadGeometry();
        expect(signedArea(rings[0]!)).toBeGreaterThan(0);
        for (const hole of rings.slice(1)) expect(signedArea(hole)).toBeLessThan(0);
        if (rings.length === 2 && t.z >= 9) withHole++;
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(3);
    expect(withHole).toBeGreaterThanOrEqual(2);
  });

  it('the polygon at max zoom has its input vertices within one unit', () => {
    const poly = fc.features.find((f) => f.id === 2000)!;
    const t = tiles.find((t) => t.z === Z && features(t.tile, 'things').some((g) => g.id === 2000))!;
    const g = features(t.tile, 'things').find((g) => g.id === 2000)!;
    const rings = g.loadGeometry();
    const [ox, oy] = toTile(
      poly.geometry.coordinates[0][0][0],
      poly.geometry.coordinates[0][0][1],
      t.z,
      t.x,
      t.y,
    );
    // either the vertex lies in this tile's buffered area and is present, or it was clipped away
    if (ox >= -64 && ox <= 4160 && oy >= -64 && oy <= 4160) {
      expect(rings[0]!.some((p) => Math.abs(p.x - ox) <= 1 && Math.abs(p.y - oy) <= 1)).toBe(true);
    }
  });

  it('a line crossing many tiles appears in each tile it crosses, clipped to the buffer', () => {
    const at = tiles.filter((t) => t.z === Z && features(t.tile, 'things').some((g) => g.id === 1000));
    expect(at.length).toBeGreaterThan(4);
    for (const t of at) {
      for (const line of features(t.tile, 'things')
        .find((g) => g.id === 1000)!
        .loadGeometry()) {
        for (const p of line) {
          expect(p.x).toBeGreaterThanOrEqual(-65);
          expect(p.x).toBeLessThanOrEqual(4096 + 65);
          expect(p.y).toBeGreaterThanOrEqual(-65);
          expect(p.y).toBeLessThanOrEqual(4096 + 65);
        }
      }
    }
  });

  it('multi-geometries come back as multi-part features', () => {
    const t = tiles.find(
      (t) => t.z === Z && features(t.tile, 'things').some((g) => g.properties.kind === 'islands'),
    );
    expect(t).toBeTruthy();
  });

  it('is deterministic: the same input gives a byte-identical archive', async () => {
    mkdirSync(`${dir}/again`);
    const again = `${dir}/again/things.pmtiles`;
    await tileCommand([input], {
      output: again,
      minzoom: 0,
      maxzoom: Z,
      budget: 500_000,
      quiet: true,
      workers: 1,
    });
    expect(readFileSync(again).equals(readFileSync(out))).toBe(true);
  });
});

describe('weft tile: newline-delimited input, layers, size budget', () => {
  it('reads GeoJSONSeq and names the layer after the file or --layer', async () => {
    const seq = `${dir}/seq.geojsonl`;
    writeFileSync(
      seq,
      fixture()
        .features.map((f) => JSON.stringify(f))
        .join('\n') + '\n',
    );
    const out = `${dir}/seq.pmtiles`;
    await tileCommand([seq], {
      output: out,
      minzoom: 0,
      maxzoom: 8,
      budget: 500_000,
      quiet: true,
      layer: 'mine',
    });
    const meta = (await referenceReader(out).getMetadata()) as any;
    expect(meta.vector_layers.map((l: any) => l.id)).toEqual(['mine']);
  });

  it('keeps feature ids of every size up to 2^53 - 1 (varints longer than 5 bytes)', async () => {
    const ids = [0, 127, 2 ** 31 + 5, 2 ** 35 + 1, 2 ** 42 + 3, Number.MAX_SAFE_INTEGER];
    const src = `${dir}/ids.geojsonl`;
    writeFileSync(
      src,
      ids
        .map((id, i) =>
          JSON.stringify({
            type: 'Feature',
            id,
            properties: { i },
            geometry: { type: 'Point', coordinates: [10 + i, 20] },
          }),
        )
        .join('\n') + '\n',
    );
    const out = `${dir}/ids.pmtiles`;
    await tileCommand([src], { output: out, minzoom: 0, maxzoom: 0, budget: 500_000, quiet: true });
    const tile = await referenceReader(out).getZxy(0, 0, 0);
    const raw = new Uint8Array(tile!.data);
    expect(validateTile(raw)).toEqual([]);
    const layer = new VectorTile(new PbfReader(raw)).layers.ids!;
    const got = new Map<unknown, unknown>();
    for (let i = 0; i < layer.length; i++) got.set(layer.feature(i).properties.i, layer.feature(i).id);
    expect([...got.keys()].sort()).toEqual(ids.map((_, i) => i));
    for (const [i, id] of ids.entries()) expect(got.get(i)).toBe(id);
  });

  it('reads GeoJSONSeq bigger than its read blocks: lines across block edges, one longer than a block, UTF-8', async () => {
    // the reader hands 4 MiB blocks cut at line ends to the workers; ~9 MB here, one line of 5 MB
    const big = `${dir}/big.geojsonl`;
    const lines: string[] = [];
    const N = 30_000;
    for (let i = 0; i < N; i++) {
      const name = i % 1000 === 7 ? `Zürich – ${i} ✓` : `p${i}-${'x'.repeat(120 + (i % 50))}`;
      lines.push(
        JSON.stringify({
          type: 'Feature',
          id: i,
          properties: { name },
          geometry: { type: 'Point', coordinates: [-170 + (i % 340), -80 + (i % 160)] },
        }),
      );
      if (i === 12_345)
        lines.push(
          JSON.stringify({
            type: 'Feature',
            id: N,
            properties: { name: 'long', blob: 'y'.repeat(5 * 2 ** 20) },
            geometry: { type: 'Point', coordinates: [1, 1] },
          }),
        );
    }
    writeFileSync(big, lines.join('\n') + '\n');
    const out = `${dir}/big.pmtiles`;
    const stats = await tileCommand([big], {
      output: out,
      minzoom: 0,
      maxzoom: 0,
      budget: 500_000,
      quiet: true,
    });
    expect(stats.features).toBe(N + 1);
    const tile = await referenceReader(out).getZxy(0, 0, 0);
    // the reference reader returns tiles decompressed
    const layer = new VectorTile(new PbfReader(new Uint8Array(tile!.data))).layers.big!;
    const names = new Map<number | undefined, unknown>();
    for (let i = 0; i < layer.length; i++) {
      const f = layer.feature(i);
      names.set(f.id, f.properties.name);
    }
    expect(names.size).toBe(N + 1);
    expect(names.get(5007)).toBe('Zürich – 5007 ✓');
    expect(names.get(29_999)).toBe(`p29999-${'x'.repeat(120 + (29_999 % 50))}`);
    expect(names.get(N)).toBe('long');

    // an error past the block edges still names its line
    writeFileSync(big, lines.join('\n') + '\n{"type": oops}\n');
    const r = await runCli(['tile', big, '-o', `${dir}/big2.pmtiles`, '-z', '0']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`big.geojsonl line ${N + 2}: invalid JSON`);
  });

  it('drops features to keep every tile under the budget and says how many', async () => {
    const dense = `${dir}/dense.geojsonl`;
    const lines: string[] = [];
    for (let i = 0; i < 20000; i++) {
      lines.push(
        JSON.stringify({
          type: 'Feature',
          properties: { name: `feature number ${i} with a long unique label ${i * 7919}` },
          geometry: {
            type: 'Point',
            coordinates: [7.4 + (i % 200) * 0.0001, 43.7 + Math.floor(i / 200) * 0.0001],
          },
        }),
      );
    }
    writeFileSync(dense, lines.join('\n'));
    const out = `${dir}/dense.pmtiles`;
    const stats = await tileCommand([dense], {
      output: out,
      minzoom: 14,
      maxzoom: 14,
      budget: 20_000,
      quiet: true,
    });
    expect(stats.dropped.features).toBeGreaterThan(0);
    const ours = await PMTilesReader.open(fileSource(out));
    for await (const e of ours.entries()) expect(e.length).toBeLessThanOrEqual(20_000);
    await ours.close();
    const r = await runCli([
      'tile',
      dense,
      '-o',
      `${dir}/dense2.pmtiles`,
      '-Z',
      '14',
      '-z',
      '14',
      '--budget',
      '20000',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/size budget: dropped \d+ features in \d+ tiles/);
  });
});

describe('weft tile: bad input', () => {
  it('names the file and line of invalid JSON, exits non-zero, leaves no archive', async () => {
    const bad = `${dir}/bad.geojsonl`;
    writeFileSync(
      bad,
      '{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,2]}}\n{"type": oops}\n',
    );
    const out = `${dir}/bad.pmtiles`;
    const r = await runCli(['tile', bad, '-o', out]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.split('\n')[0]).toMatch(/^weft: .*bad\.geojsonl line 2: invalid JSON/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('bad.pmtiles'))).toEqual([]);
  });

  it('rejects coordinates out of range with the position', async () => {
    const bad = `${dir}/range.geojson`;
    writeFileSync(
      bad,
      JSON.stringify({
        type: 'FeatureCollection',
        features: [
          fixture().features[0],
          { type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [200, 10] } },
        ],
      }),
    );
    const r = await runCli(['tile', bad, '-o', `${dir}/range.pmtiles`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/range\.geojson feature 1: coordinate out of range: \[200, 10\]/);
  });

  it('rejects empty input, missing files, unwritable outputs and bad zooms clearly', async () => {
    writeFileSync(`${dir}/empty.geojson`, '');
    let r = await runCli(['tile', `${dir}/empty.geojson`, '-o', `${dir}/e.pmtiles`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/empty\.geojson: empty input/);
    writeFileSync(`${dir}/nofeatures.geojson`, '{"type":"FeatureCollection","features":[]}');
    r = await runCli(['tile', `${dir}/nofeatures.geojson`, '-o', `${dir}/e.pmtiles`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no features/);
    r = await runCli(['tile', `${dir}/missing.geojson`, '-o', `${dir}/e.pmtiles`]);
    expect(r.stderr).toMatch(/missing\.geojson: cannot read input \(no such file\)/);
    r = await runCli(['tile', `${dir}/empty.geojson`, '-o', `${dir}/no/such/dir/out.pmtiles`]);
    expect(r.stderr).toMatch(/cannot write the output/);
    r = await runCli(['tile', `${dir}/empty.geojson`, '-o', `${dir}/x.pmtiles`, '-z', '40']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/zoom must be an integer/);
    for (const bad of ['0', '10', 'fast', '2.5']) {
      r = await runCli(['tile', `${dir}/nofeatures.geojson`, '-o', `${dir}/x.pmtiles`, '--gzip-level', bad]);
      expect(r.code, bad).toBe(1);
      expect(r.stderr).toMatch(/^weft: --gzip-level must be an integer from 1 to 9/);
    }
    expect(existsSync(`${dir}/e.pmtiles`)).toBe(false);
  });

  it('--gzip-level 1 writes the same tiles, compressed at the fastest level', async () => {
    const src = `${dir}/levels.geojson`;
    writeFileSync(src, JSON.stringify(fixture()));
    const outs = { 1: `${dir}/level1.pmtiles`, 6: `${dir}/level6.pmtiles` };
    for (const [level, out] of Object.entries(outs)) {
      const r = await runCli(['tile', src, '-o', out, '-z', '8', '-q', '--gzip-level', level]);
      expect(r.code, r.stderr).toBe(0);
    }
    const read = async (path: string) => {
      const reader = await PMTilesReader.open(fileSource(path));
      const tiles = new Map<number, Uint8Array>();
      for await (const e of reader.entries()) {
        const [z, x, y] = tileIdToZxy(e.tileId);
        tiles.set(e.tileId, (await reader.getTile(z, x, y))!);
      }
      await reader.close();
      return tiles;
    };
    const [fast, normal] = [await read(outs[1]), await read(outs[6])];
    expect([...fast.keys()]).toEqual([...normal.keys()]);
    for (const [id, bytes] of fast) {
      expect(Buffer.from(gunzipSync(bytes)).equals(gunzipSync(normal.get(id)!))).toBe(true);
      // the gzip header's XFL byte: 4 = fastest (level 1), 0 = default levels
      expect(bytes[8]).toBe(4);
      expect(normal.get(id)![8]).toBe(0);
    }
  });
});

describe.skipIf(!HAS_SHARED)('weft tile on Natural Earth', () => {
  it('tiles countries and places; the reference reader returns every tile', async () => {
    const out = `${dir}/ne.pmtiles`;
    const stats = await tileCommand(
      [
        sharedPath('naturalearth/ne_110m_admin_0_countries.geojson'),
        sharedPath('naturalearth/ne_110m_populated_places_simple.geojson'),
      ],
      { output: out, minzoom: 0, maxzoom: 5, budget: 500_000, quiet: true },
    );
    expect(stats.features).toBe(177 + 243);
    const tiles = await allTiles(out);
    expect(tiles.length).toBe(stats.tiles);
    const z0 = tiles.find((t) => t.z === 0)!;
    expect(features(z0.tile, 'ne_110m_admin_0_countries').length).toBeGreaterThan(150);
  });
});

describe('weft tile: external sort', () => {
  it('spills sorted runs to disk when over the memory budget and writes the same archive', async () => {
    const seq = `${dir}/many.geojsonl`;
    const lines: string[] = [];
    for (let i = 0; i < 30000; i++) {
      lines.push(
        JSON.stringify({
          type: 'Feature',
          id: i,
          properties: { i },
          geometry: { type: 'Point', coordinates: [7 + (i % 300) * 0.003, 43 + Math.floor(i / 300) * 0.003] },
        }),
      );
    }
    writeFileSync(seq, lines.join('\n'));
    mkdirSync(`${dir}/mem`);
    mkdirSync(`${dir}/disk`);
    const a = await runEngineOn(seq, `${dir}/mem/many.pmtiles`, undefined);
    const b = await runEngineOn(seq, `${dir}/disk/many.pmtiles`, 1);
    expect(b.spilled).toBe(true);
    expect(a.spilled).toBe(false);
    expect(readFileSync(`${dir}/disk/many.pmtiles`).equals(readFileSync(`${dir}/mem/many.pmtiles`))).toBe(
      true,
    );
    expect(readdirSync(`${dir}/disk`)).toEqual(['many.pmtiles']);
    // the encode stage reads the in-memory runs in shared memory and the spilled ones through the merge; either
    // way, tiles are encoded natively when the encoder is built, and JavaScript gives the same bytes without it
    const native = !nativeTileEncoderError();
    expect(a.stats.nativeTiles).toBe(native ? a.stats.tiles : 0);
    expect(b.stats.nativeTiles).toBe(native ? b.stats.tiles : 0);
    process.env.WEFT_NATIVE_TILES = '0';
    try {
      mkdirSync(`${dir}/js-mem`);
      mkdirSync(`${dir}/js-disk`);
      const c = await runEngineOn(seq, `${dir}/js-mem/many.pmtiles`, undefined);
      const d = await runEngineOn(seq, `${dir}/js-disk/many.pmtiles`, 1);
      expect([c.stats.nativeTiles, d.stats.nativeTiles]).toEqual([0, 0]);
      for (const out of ['js-mem', 'js-disk'])
        expect(
          readFileSync(`${dir}/${out}/many.pmtiles`).equals(readFileSync(`${dir}/mem/many.pmtiles`)),
        ).toBe(true);
    } finally {
      delete process.env.WEFT_NATIVE_TILES;
    }
  });
});

async function runEngineOn(
  input: string,
  output: string,
  sortMemoryMiB: number | undefined,
): Promise<{ spilled: boolean; stats: EngineStats }> {
  const lines: string[] = [];
  const progress = new Progress({ write: (s: string) => lines.push(s), isTTY: false } as any, false);
  const stats = await runEngine(readGeojsonInputs([{ path: input, source: 'many' }]), {
    output,
    profile: {
      module: new URL('../../pipeline/profiles/geojson.ts', import.meta.url).href,
      options: { minzoom: 0, maxzoom: 12 },
    },
    minzoom: 0,
    maxzoom: 12,
    sortMemoryMiB,
    progress,
  });
  return { spilled: lines.some((l) => /spilled to disk/.test(l)), stats };
}
