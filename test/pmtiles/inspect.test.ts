// inspectArchive: the archive overview and one tile's layers and features, on archives written here.
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import { Compression, TileType } from '../../pipeline/pmtiles/header.js';
import { inspectArchive } from '../../pipeline/pmtiles/inspect.js';
import { zxyToTileId } from '../../pipeline/pmtiles/tileid.js';
import { PMTilesWriter } from '../../pipeline/pmtiles/writer.js';
import { tempDir } from '../helpers/tmp.js';
import { samplePointTile } from './mvt-sample.js';

const dir = tempDir('weft-pmtiles-inspect-');

async function vectorArchive(): Promise<string> {
  const path = join(dir, 'vector.pmtiles');
  const w = new PMTilesWriter(path, {
    tileType: TileType.Mvt,
    tileCompression: Compression.Gzip,
    metadata: {
      name: 'demo',
      attribution: '© OpenStreetMap contributors',
      vector_layers: [{ id: 'places', fields: { name: 'String', kind: 'String' }, minzoom: 0, maxzoom: 2 }],
    },
  });
  const small = samplePointTile('places', [{ id: 1, x: 5, y: 5, props: { name: 'A' } }]);
  const big = samplePointTile(
    'places',
    Array.from({ length: 50 }, (_, i) => ({
      id: i + 1,
      x: i * 40,
      y: 4000 - i * 30,
      props: { name: `P${i}`, kind: 'town' },
    })),
  );
  const tiles = new Map<number, Uint8Array>([
    [zxyToTileId(0, 0, 0), small],
    [zxyToTileId(1, 0, 0), small],
    [zxyToTileId(1, 0, 1), small],
    [zxyToTileId(2, 1, 2), big],
  ]);
  for (const id of [...tiles.keys()].sort((a, b) => a - b))
    w.addTile(id, new Uint8Array(gzipSync(tiles.get(id)!)));
  await w.finish();
  return path;
}

describe('inspectArchive', () => {
  it('describes header, metadata, vector layers, tiles per zoom and the largest tiles', async () => {
    const path = await vectorArchive();
    const text = await inspectArchive(path);
    expect(text).toContain(`archive   ${path}`);
    expect(text).toContain('format    PMTiles v3, clustered');
    expect(text).toContain('tiles     mvt, tile compression gzip, internal compression gzip');
    expect(text).toContain('zooms     z0–2');
    expect(text).toContain('counts    4 addressed tiles, 2 entries, 2 unique contents');
    expect(text).toContain('"attribution": "© OpenStreetMap contributors"');
    expect(text).toContain('  places z0–2: fields name (String), kind (String)');
    expect(text).toMatch(/ {2}z0 +1 tiles +1 entries/);
    expect(text).toMatch(/ {2}z1 +2 tiles +0 entries/); // 0/0/0, 1/0/0 and 1/0/1 are one run starting at z0
    expect(text).toMatch(/ {2}z2 +1 tiles +1 entries/);
    const largest = text.split('largest tiles')[1]!.split('\n')[1]!;
    expect(largest.trim().startsWith('2/1/2 ')).toBe(true);
    expect(text).toMatch(/0\/0\/0 .*\(and the next 2 tiles\)/);
  });

  it('describes one vector tile: layers, feature counts and the first features', async () => {
    const path = await vectorArchive();
    const text = await inspectArchive(path, '2/1/2');
    expect(text).toContain('tile      2/1/2');
    expect(text).toContain('layers    1');
    expect(text).toContain('  places: 50 features (50 Point), extent 4096, version 2');
    expect(text).toContain('    #0 id 1, Point, 1 points, {"name":"P0","kind":"town"}');
    expect(text).toContain('    #2 id 3, Point, 1 points, {"name":"P2","kind":"town"}');
    expect(text).not.toContain('#3 ');
  });

  it('refuses bad tile names and tiles that are not there, with a UserError', async () => {
    const path = await vectorArchive();
    await expect(inspectArchive(path, '2/4/0')).rejects.toThrow(/^bad tile "2\/4\/0": expected z\/x\/y/);
    await expect(inspectArchive(path, 'zoom')).rejects.toBeInstanceOf(UserError);
    await expect(inspectArchive(path, '2/0/0')).rejects.toThrow(`${path}: tile 2/0/0 is not in the archive`);
    await expect(inspectArchive(join(dir, 'missing.pmtiles'))).rejects.toThrow(
      /missing\.pmtiles: cannot read \(ENOENT\)/,
    );
  });

  it('shows size and type for non-vector tiles', async () => {
    const path = join(dir, 'raster.pmtiles');
    const w = new PMTilesWriter(path, {
      tileType: TileType.Png,
      tileCompression: Compression.None,
      metadata: {},
    });
    w.addTile(0, new Uint8Array(321).fill(7));
    await w.finish();
    const text = await inspectArchive(path, '0/0/0');
    expect(text).toContain('type      png');
    expect(text).toContain('size      321 bytes stored (none), 321 bytes uncompressed');
    expect(text).not.toContain('layers');
  });
});
