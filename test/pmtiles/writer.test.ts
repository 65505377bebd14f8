// The writer, checked through the reference reader (`pmtiles` npm package): tiles, header, metadata, dedup, runs,
// leaf directories, determinism, and clean failure (abort, unwritable paths).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import { deserializeDirectory } from '../../pipeline/pmtiles/directory.js';
import { Compression, HEADER_BYTES, TileType } from '../../pipeline/pmtiles/header.js';
import { PMTilesReader } from '../../pipeline/pmtiles/reader.js';
import { firstTileIdOfZoom, tileIdToZxy, zxyToTileId } from '../../pipeline/pmtiles/tileid.js';
import { verifyArchive } from '../../pipeline/pmtiles/verify.js';
import { PMTilesWriter, type WriterOptions } from '../../pipeline/pmtiles/writer.js';
import { tempDir } from '../helpers/tmp.js';
import { referenceReader, referenceTile } from './reference.js';

const dir = tempDir('weft-pmtiles-writer-');
const enc = new TextEncoder();
const raw: WriterOptions = {
  tileType: TileType.Unknown,
  tileCompression: Compression.None,
  metadata: { name: 'test' },
};

/** Writes `tiles` (id → bytes, ascending) and returns the archive path and the writer's result. */
async function write(name: string, tiles: [number, Uint8Array][], options: WriterOptions = raw) {
  const path = join(dir, name);
  const w = new PMTilesWriter(path, options);
  for (const [id, data] of tiles) w.addTile(id, data);
  return { path, result: await w.finish() };
}

describe('PMTilesWriter', () => {
  it('writes an archive the reference reader reads back byte for byte, with equal header and metadata', async () => {
    // z0–3, every tile; some contents repeat (dedup) and some repeat on consecutive ids (runs)
    const tiles: [number, Uint8Array][] = [];
    const expected = new Map<string, Uint8Array>();
    for (let id = 0; id < firstTileIdOfZoom(4); id++) {
      const [z, x, y] = tileIdToZxy(id);
      const text = id >= 30 && id < 40 ? 'run' : id % 11 === 0 ? 'repeated' : `tile ${z}/${x}/${y}`;
      tiles.push([id, enc.encode(text)]);
      expected.set(`${z}/${x}/${y}`, enc.encode(text));
    }
    const metadata = { name: 'ü-test', attribution: '© OpenStreetMap contributors', vector_layers: [] };
    const { path, result } = await write('small.pmtiles', tiles, { ...raw, metadata });
    const ref = referenceReader(path);
    for (const [zxy, bytes] of expected) {
      const [z, x, y] = zxy.split('/').map(Number) as [number, number, number];
      expect(await referenceTile(ref, z, x, y), zxy).toEqual(bytes);
    }
    expect(await ref.getZxy(4, 0, 0)).toBeUndefined();
    expect(await ref.getMetadata()).toEqual(metadata);

    const ours = await PMTilesReader.openFile(path);
    const { etag: _etag, ...refHeader } = await ref.getHeader();
    expect(refHeader).toEqual(ours.header);
    await ours.close();

    // 85 tiles; ids 30–39 are one run; multiples of 11 outside it share one content
    const multiplesOf11 = [0, 11, 22, 44, 55, 66, 77];
    expect(result.addressedTiles).toBe(85);
    expect(result.tileEntries).toBe(85 - 9);
    expect(result.tileContents).toBe(85 - 10 - multiplesOf11.length + 2);
    const h = refHeader;
    expect([h.numAddressedTiles, h.numTileEntries, h.numTileContents]).toEqual([
      result.addressedTiles,
      result.tileEntries,
      result.tileContents,
    ]);
    expect(h.clustered).toBe(true);
    expect(h.internalCompression).toBe(Compression.Gzip);
    expect([h.minZoom, h.maxZoom]).toEqual([0, 3]);
    expect(h.leafDirectoryLength).toBe(0);
    expect(result.bytes).toBe(readFileSync(path).length);
    expect((await verifyArchive(path)).summary).toBe('ok: 85 tiles (70 unique), z0–3, unknown, none');
  });

  it('records the tile compression and keeps the stored bytes (gzip tiles)', async () => {
    const tiles: [number, Uint8Array][] = [];
    for (let i = 0; i < 50; i++)
      tiles.push([zxyToTileId(6, i, 7), new Uint8Array(gzipSync(enc.encode(`tile ${i}`)))]);
    const stored = new Map(tiles);
    tiles.sort((a, b) => a[0] - b[0]);
    const { path } = await write('gzip.pmtiles', tiles, {
      tileType: TileType.Png,
      tileCompression: Compression.Gzip,
      metadata: {},
      bounds: [-10, -5, 10, 5],
      center: [1, 2, 6],
      minZoom: 2,
      maxZoom: 8,
    });
    const ref = referenceReader(path);
    const ours = await PMTilesReader.openFile(path);
    for (let i = 0; i < 50; i++) {
      expect(await referenceTile(ref, 6, i, 7)).toEqual(enc.encode(`tile ${i}`));
      expect(await ours.getTile(6, i, 7)).toEqual(stored.get(zxyToTileId(6, i, 7)));
      expect(await ours.getTileDecompressed(6, i, 7)).toEqual(enc.encode(`tile ${i}`));
    }
    const h = await ref.getHeader();
    expect(h.tileCompression).toBe(Compression.Gzip);
    expect(h.tileType).toBe(TileType.Png);
    expect([h.minZoom, h.maxZoom, h.centerZoom]).toEqual([2, 8, 6]);
    expect([h.minLon, h.minLat, h.maxLon, h.maxLat, h.centerLon, h.centerLat]).toEqual([
      -10, -5, 10, 5, 1, 2,
    ]);
    await ours.close();
  });

  it('derives zooms and bounds from the tiles when not given', async () => {
    // tiles 10/511/511 … 10/513/513 around the origin, plus one at z8
    const tiles: [number, Uint8Array][] = [[zxyToTileId(8, 128, 128), enc.encode('z8')]];
    for (const x of [511, 512, 513])
      for (const y of [511, 512, 513]) tiles.push([zxyToTileId(10, x, y), enc.encode(`${x}/${y}`)]);
    tiles.sort((a, b) => a[0] - b[0]);
    const { path } = await write('derived.pmtiles', tiles);
    const h = await referenceReader(path).getHeader();
    expect([h.minZoom, h.maxZoom]).toEqual([8, 10]);
    expect(h.minLon).toBeCloseTo(-0.3515625, 6);
    expect(h.maxLon).toBeCloseTo(0.703125, 6);
    expect(h.minLat).toBeCloseTo(-0.7031, 3);
    expect(h.maxLat).toBeCloseTo(0.3516, 3);
    expect(h.centerZoom).toBe(8);
  });

  it('writes ≥ 100,000 tiles with leaf directories that verify and read back through the reference reader', async () => {
    // z0–9 complete (349,525 ids) would be slow to sample fully; take every tile of z0–8 plus part of z9
    const count = 120_000;
    const content = (id: number): Uint8Array => {
      if (id % 1000 < 40) return enc.encode('ocean'); // runs of 40 identical tiles
      if (id % 97 === 0) return enc.encode('shared'); // scattered duplicates
      return enc.encode(`t${id}`);
    };
    const tiles: [number, Uint8Array][] = [];
    for (let id = 0; id < count; id++) tiles.push([id, content(id)]);
    const { path, result } = await write('large.pmtiles', tiles);

    const ref = referenceReader(path);
    const h = await ref.getHeader();
    expect(h.rootDirectoryOffset + h.rootDirectoryLength).toBeLessThanOrEqual(16_384);
    expect(h.rootDirectoryOffset).toBe(HEADER_BYTES);
    expect(h.leafDirectoryLength).toBeGreaterThan(0);
    const root = deserializeDirectory(
      gunzipSync(
        readFileSync(path).subarray(h.rootDirectoryOffset, h.rootDirectoryOffset + h.rootDirectoryLength),
      ),
    );
    expect(root.length).toBeGreaterThan(1);
    expect(root.every((e) => e.runLength === 0)).toBe(true);

    expect(result.addressedTiles).toBe(count);
    expect(result.tileEntries).toBeLessThan(count - 39 * 100); // the runs collapsed
    expect(result.tileContents).toBeLessThan(result.tileEntries); // and 'shared' was stored once
    expect(h.numAddressedTiles).toBe(count);

    const samples = [0, 1, 2, count - 2, count - 1];
    for (let id = 3; id < count; id += 89) samples.push(id);
    for (const id of samples) {
      const [z, x, y] = tileIdToZxy(id);
      expect(await referenceTile(ref, z, x, y), `tile ${id}`).toEqual(content(id));
    }
    const [lz, lx, ly] = tileIdToZxy(count);
    expect(await ref.getZxy(lz, lx, ly)).toBeUndefined();

    // our reader walks every entry and finds the same tiles
    const ours = await PMTilesReader.openFile(path);
    let addressed = 0;
    let next = 0;
    for await (const e of ours.entries()) {
      expect(e.tileId).toBe(next);
      next = e.tileId + e.runLength;
      addressed += e.runLength;
    }
    expect(addressed).toBe(count);
    for (const id of samples.slice(0, 200)) expect(await ours.getTileById(id)).toEqual(content(id));
    await ours.close();

    const v = await verifyArchive(path);
    expect(v.problems).toEqual([]);
    expect(v.summary).toBe(`ok: ${count} tiles (${result.tileContents} unique), z0–9, unknown, none`);
  });

  it('writes the same bytes for the same calls', async () => {
    const tiles: [number, Uint8Array][] = [];
    for (let id = 0; id < 30_000; id++) tiles.push([id * 2, enc.encode(`t${id % 5000}`)]);
    const options: WriterOptions = {
      ...raw,
      metadata: { name: 'same', vector_layers: [{ id: 'a', fields: {} }] },
    };
    const a = await write('same-a.pmtiles', tiles, options);
    const b = await write('same-b.pmtiles', tiles, options);
    const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
    expect(sha(a.path)).toBe(sha(b.path));
    expect(a.result).toEqual(b.result);
  });

  it('streams tile bytes past memoryBytes into the archive, tile data before the leaf directories', async () => {
    // small tiles, a few repeated (enough entries for leaf directories), and one larger than the 4 MiB buffer
    const big = new Uint8Array(5 * 2 ** 20).map((_, i) => (i * 7919) & 255);
    const tiles: [number, Uint8Array][] = [];
    for (let id = 0; id < 40_000; id++)
      tiles.push([id, id === 777 ? big : enc.encode(`tile ${id % 3000} of ${id}`)]);
    const sub = join(dir, 'streamed');
    mkdirSync(sub);
    const written = async (name: string, memoryBytes: number | undefined) => {
      const path = join(sub, name);
      const w = new PMTilesWriter(path, { ...raw, memoryBytes });
      for (const [id, data] of tiles) w.addTile(id, data);
      const result = await w.finish();
      const h = await referenceReader(path).getHeader();
      return { path, result, h, sha: createHash('sha256').update(readFileSync(path)).digest('hex') };
    };
    const memory = await written('in-memory.pmtiles', undefined);
    const atOnce = await written('streamed-at-once.pmtiles', 0);
    const midway = await written('streamed-midway.pmtiles', 200_000);
    expect(readdirSync(sub).sort()).toEqual([
      'in-memory.pmtiles',
      'streamed-at-once.pmtiles',
      'streamed-midway.pmtiles',
    ]);

    // in memory: the usual order; streamed: the root padded to 16 KiB, metadata, tile data, then the leaves
    expect(memory.h.leafDirectoryLength).toBeGreaterThan(0);
    expect(memory.h.tileDataOffset).toBe(memory.h.leafDirectoryOffset + memory.h.leafDirectoryLength!);
    expect(atOnce.h.jsonMetadataOffset).toBe(16_384);
    expect(atOnce.h.tileDataOffset).toBe(16_384 + atOnce.h.jsonMetadataLength);
    expect(atOnce.h.leafDirectoryOffset).toBe(atOnce.h.tileDataOffset + atOnce.h.tileDataLength!);
    expect(atOnce.h.leafDirectoryLength).toBeGreaterThan(0);
    expect(atOnce.result.bytes).toBe(readFileSync(atOnce.path).length);
    // where the switch happened does not show
    expect(midway.sha).toBe(atOnce.sha);
    expect(atOnce.sha).not.toBe(memory.sha);

    for (const archive of [memory, atOnce]) {
      const ref = referenceReader(archive.path);
      expect(await ref.getMetadata()).toEqual(raw.metadata);
      for (const id of [0, 1, 776, 777, 778, 20_000, 39_999]) {
        const [z, x, y] = tileIdToZxy(id);
        const got = await referenceTile(ref, z, x, y);
        expect(got && Buffer.from(got).equals(tiles[id]![1]), `tile ${id}`).toBe(true);
      }
      expect((await verifyArchive(archive.path)).problems).toEqual([]);
    }
    expect({ ...atOnce.result, bytes: 0 }).toEqual({ ...memory.result, bytes: 0 });
  });

  it('writes an archive without tiles that readers accept', async () => {
    const { path, result } = await write('none.pmtiles', []);
    expect(result).toMatchObject({ addressedTiles: 0, tileEntries: 0, tileContents: 0 });
    expect(await referenceReader(path).getZxy(0, 0, 0)).toBeUndefined();
    expect((await verifyArchive(path)).problems).toEqual([]);
  });

  it('leaves nothing behind on abort', async () => {
    const sub = join(dir, 'abort');
    mkdirSync(sub);
    const path = join(sub, 'aborted.pmtiles');
    const w = new PMTilesWriter(path, raw);
    for (let id = 0; id < 1000; id++) w.addTile(id, enc.encode(`t${id}`));
    await w.abort();
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(sub)).toEqual([]);
    expect(() => w.addTile(5000, enc.encode('late'))).toThrow(/after abort/);

    // an abort that arrives while finish() is under way wins too
    const w2 = new PMTilesWriter(path, raw);
    for (let id = 0; id < 1000; id++) w2.addTile(id, enc.encode(`t${id}`));
    const finishing = w2.finish();
    finishing.catch(() => {}); // awaited below; the abort may fail it first
    await w2.abort();
    await expect(finishing).rejects.toThrow();
    expect(readdirSync(sub)).toEqual([]);

    // and so does one whose tiles were streaming into the archive
    const w3 = new PMTilesWriter(path, { ...raw, memoryBytes: 0 });
    for (let id = 0; id < 1000; id++) w3.addTile(id, new Uint8Array(8192).fill(id & 255));
    expect(readdirSync(sub)).toHaveLength(1);
    await w3.abort();
    expect(readdirSync(sub)).toEqual([]);
  });

  it('rejects tile ids that do not ascend and empty tiles, and removes its files after a failed finish', async () => {
    const sub = join(dir, 'order');
    mkdirSync(sub);
    const w = new PMTilesWriter(join(sub, 'order.pmtiles'), raw);
    w.addTile(5, enc.encode('a'));
    expect(() => w.addTile(5, enc.encode('b'))).toThrow(/strictly ascending: 5 after 5/);
    expect(() => w.addTile(3, enc.encode('b'))).toThrow(/strictly ascending/);
    expect(() => w.addTile(6, new Uint8Array(0))).toThrow(/is empty/);
    await w.abort();

    const bad = new PMTilesWriter(join(sub, 'bad-metadata.pmtiles'), {
      ...raw,
      metadata: { big: 10n } as object,
    });
    bad.addTile(0, enc.encode('x'));
    await expect(bad.finish()).rejects.toThrow(/BigInt/);
    expect(readdirSync(sub)).toEqual([]);
  });

  it('names the path when the output cannot be written', () => {
    const missing = join(dir, 'no-such-dir', 'out.pmtiles');
    expect(() => new PMTilesWriter(missing, raw)).toThrow(UserError);
    expect(() => new PMTilesWriter(missing, raw)).toThrow(`cannot write ${missing}: ENOENT`);
    expect(() => new PMTilesWriter(dir, raw)).toThrow(`cannot write ${dir}: it is a directory`);
  });
});
