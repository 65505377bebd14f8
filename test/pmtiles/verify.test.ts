// verifyArchive on our own archives and on hand-broken ones: one clear line per problem, nothing thrown.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Compression, TileType } from '../../pipeline/pmtiles/header.js';
import { zxyToTileId } from '../../pipeline/pmtiles/tileid.js';
import { verifyArchive } from '../../pipeline/pmtiles/verify.js';
import { PMTilesWriter } from '../../pipeline/pmtiles/writer.js';
import { tempDir } from '../helpers/tmp.js';
import { craftArchive, type CraftOptions, type CraftTile } from './craft.js';
import { samplePointTile } from './mvt-sample.js';

const dir = tempDir('weft-pmtiles-verify-');
const enc = new TextEncoder();
let n = 0;

async function verifyBytes(bytes: Uint8Array) {
  const path = join(dir, `case-${n++}.pmtiles`);
  writeFileSync(path, bytes);
  return verifyArchive(path);
}

const tiles: CraftTile[] = [];
for (let id = 0; id < 40; id++) tiles.push({ tileId: id, data: enc.encode(`t${id}`) });
const craft = (o: Partial<CraftOptions> = {}) => craftArchive({ tiles, header: { maxZoom: 3 }, ...o });

const vectorMetadata = { vector_layers: [{ id: 'places', fields: { name: 'String' } }] };

async function writeMvt(name: string, tilesByZxy: [number, number, number, Uint8Array][]): Promise<string> {
  const path = join(dir, name);
  const w = new PMTilesWriter(path, {
    tileType: TileType.Mvt,
    tileCompression: Compression.Gzip,
    metadata: vectorMetadata,
  });
  const sorted = tilesByZxy
    .map(([z, x, y, t]) => [zxyToTileId(z, x, y), t] as const)
    .sort((a, b) => a[0] - b[0]);
  for (const [id, t] of sorted) w.addTile(id, new Uint8Array(gzipSync(t)));
  await w.finish();
  return path;
}

describe('verifyArchive', () => {
  it('accepts a valid vector archive and summarises it', async () => {
    const tile = samplePointTile('places', [{ id: 1, x: 100, y: 200, props: { name: 'A' } }]);
    const other = samplePointTile('places', [{ id: 2, x: 10, y: 20, props: { name: 'B' } }]);
    const path = await writeMvt('mvt.pmtiles', [
      [0, 0, 0, tile],
      [1, 0, 0, other],
      [1, 1, 0, tile],
      [2, 1, 1, other],
    ]);
    expect(await verifyArchive(path)).toEqual({
      problems: [],
      summary: 'ok: 4 tiles (2 unique), z0–2, mvt, gzip',
    });
  });

  it('reports invalid vector tiles and undecompressable tiles by z/x/y', async () => {
    const good = samplePointTile('places', [{ id: 1, x: 100, y: 200, props: { name: 'A' } }]);
    const path = join(dir, 'bad-mvt.pmtiles');
    const w = new PMTilesWriter(path, {
      tileType: TileType.Mvt,
      tileCompression: Compression.Gzip,
      metadata: vectorMetadata,
    });
    w.addTile(0, new Uint8Array(gzipSync(good)));
    w.addTile(1, new Uint8Array(gzipSync(new Uint8Array([0x1a, 0x05, 0x0a, 0x10])))); // layer message cut short
    w.addTile(2, enc.encode('not gzip at all'));
    await w.finish();
    const { problems } = await verifyArchive(path);
    expect(problems.some((p) => p.startsWith('tile 1/0/0: '))).toBe(true);
    expect(problems).toContainEqual(expect.stringMatching(/^tile 1\/0\/1: cannot decompress \(gzip\)/));
    expect(problems.some((p) => p.startsWith('tile 0/0/0'))).toBe(false);
  });

  it('gives one clear line for empty, foreign, short, v2 and v4 files', async () => {
    expect((await verifyBytes(new Uint8Array(0))).problems).toEqual(['file is empty']);
    expect((await verifyBytes(enc.encode('garbage '.repeat(40)))).problems).toEqual([
      'not a PMTiles archive (bad magic)',
    ]);
    expect((await verifyBytes(enc.encode('PMTil'))).problems).toEqual([
      'not a PMTiles archive (5 bytes, shorter than the 127-byte header)',
    ]);
    const v4 = craft();
    v4[7] = 4;
    expect((await verifyBytes(v4)).problems).toEqual(['PMTiles version 4 is not supported (only version 3)']);
    expect((await verifyArchive(join(dir, 'nope.pmtiles'))).problems).toEqual(['cannot read (ENOENT)']);
    expect((await verifyBytes(craft())).problems).toEqual([]);
  });

  it('finds truncation, wrong counts, overlaps and zooms outside the header', async () => {
    const whole = craft();
    expect((await verifyBytes(whole.subarray(0, whole.length - 3))).problems).toEqual([
      expect.stringMatching(
        /^tile data \(offset \d+, length \d+\) ends at byte \d+, beyond the file length \d+$/,
      ),
    ]);
    expect(
      (await verifyBytes(craft({ header: { maxZoom: 3, numAddressedTiles: 99, numTileContents: 7 } })))
        .problems,
    ).toEqual([
      'header says 99 addressed tiles but the directories have 40',
      'header says 7 tile contents but the directories have 40',
    ]);
    const overlap = (await verifyBytes(craft({ header: { maxZoom: 3, jsonMetadataOffset: 130 } }))).problems;
    expect(overlap.some((p) => /^root directory \(bytes 127–\d+\) overlaps metadata/.test(p))).toBe(true);
    expect((await verifyBytes(craft({ header: { maxZoom: 1 } }))).problems[0]).toMatch(
      /^root directory, entry 5 \(tile id 5\): tile 2\/0\/0 is outside the header's zoom range z0–1$/,
    );
  });

  it('finds bad directory entries: order, bounds, lengths, clustering, leaves', async () => {
    const p = async (mutate: CraftOptions['mutateEntries'], extra: Partial<CraftOptions> = {}) =>
      (await verifyBytes(craft({ mutateEntries: mutate, ...extra }))).problems;
    // (deltas are unsigned, so a directory can at worst repeat an id)
    expect(await p((e) => void (e[3]!.tileId = 2))).toContain(
      'root directory, entry 3 (tile id 2): tile ids are not ascending (tile 2 is already addressed)',
    );
    expect(await p((e) => void (e[2]!.runLength = 5))).toContain(
      'root directory, entry 3 (tile id 3): tile ids are not ascending (tile 6 is already addressed)',
    );
    expect(await p((e) => void (e[39]!.offset = 1000))).toContainEqual(
      expect.stringMatching(
        /^root directory, entry 39 \(tile id 39\): tile \(offset 1000, length 3\) lies outside the tile data section/,
      ),
    );
    expect(await p((e) => void (e[39]!.length = 0))).toContain(
      'root directory, entry 39 (tile id 39): length is 0',
    );
    expect(await p((e) => void (e[0]!.offset = 2))).toContainEqual(
      expect.stringMatching(/^archive says clustered but tile 0\/0\/0 is at offset 2/),
    );
    // leaves: a leaf entry pointing past the leaf section, and a leaf whose tiles start before its entry's id
    const leafy = craftArchive({ tiles, leafLevels: 1, leafSize: 8, header: { maxZoom: 3 } });
    expect((await verifyBytes(leafy)).problems).toEqual([]);
    const badLeaf = craftArchive({
      tiles,
      leafLevels: 1,
      leafSize: 8,
      header: { maxZoom: 3, leafDirectoryLength: 20 },
    });
    expect(
      (await verifyBytes(badLeaf)).problems.some((x) => /lies outside the leaf directories section/.test(x)),
    ).toBe(true);
  });

  it('checks the metadata', async () => {
    const notJson = (await verifyBytes(craft({ metadata: enc.encode('{oops') }))).problems;
    expect(notJson).toEqual([expect.stringMatching(/^metadata is not valid UTF-8 JSON: /)]);
    const array = (await verifyBytes(craft({ metadata: enc.encode('[]') }))).problems;
    expect(array).toEqual(['metadata is not a JSON object']);
    const mvt = samplePointTile('places', [{ id: 1, x: 1, y: 1, props: {} }]);
    const noLayers = craftArchive({
      tiles: [{ tileId: 0, data: mvt }],
      tileType: TileType.Mvt,
      header: { maxZoom: 0 },
    });
    expect((await verifyBytes(noLayers)).problems).toEqual([
      'metadata has no vector_layers array (required for MVT archives)',
    ]);
  });

  it('refuses zstd with a clear line', async () => {
    const zstd = craft({
      internal: Compression.None,
      header: { maxZoom: 3, internalCompression: Compression.Zstd },
    });
    expect((await verifyBytes(zstd)).problems).toEqual([
      'unsupported compression: zstd (internal compression)',
    ]);
    const zstdTiles = craft({ tileCompression: Compression.Zstd });
    expect((await verifyBytes(zstdTiles)).problems).toEqual(['tiles: unsupported compression: zstd']);
  });

  it('reads the tile data of a real written archive in windows', async () => {
    // > 8 MiB of tile data so the verifier reads more than one window
    const path = join(dir, 'big.pmtiles');
    const w = new PMTilesWriter(path, {
      tileType: TileType.Png,
      tileCompression: Compression.None,
      metadata: {},
    });
    const body = new Uint8Array(70_000);
    for (let id = 0; id < 150; id++) {
      body[0] = id;
      w.addTile(id, body);
    }
    await w.finish();
    expect((await verifyArchive(path)).summary).toBe('ok: 150 tiles (150 unique), z0–4, png, none');
    expect(readFileSync(path).length).toBeGreaterThan(10_000_000);
  });
});
