// Our reader on hand-made archives: every internal compression, nested leaves, runs, zstd refused, a bounded cache.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import { Compression } from '../../pipeline/pmtiles/header.js';
import { PMTilesReader, fileSource, type RangeSource } from '../../pipeline/pmtiles/reader.js';
import { tileIdToZxy } from '../../pipeline/pmtiles/tileid.js';
import { tempDir } from '../helpers/tmp.js';
import { craftArchive, compressWith, type CraftTile } from './craft.js';
import { referenceReader, referenceTile } from './reference.js';

const dir = tempDir('weft-pmtiles-reader-');
const enc = new TextEncoder();

/** A RangeSource over bytes in memory that counts reads. */
function memorySource(bytes: Uint8Array, key = 'memory.pmtiles'): RangeSource & { reads: number } {
  const s = {
    key,
    reads: 0,
    size: async () => bytes.length,
    read: async (offset: number, length: number) => {
      s.reads++;
      return bytes.slice(offset, offset + length);
    },
  };
  return s;
}

// 60 tiles at ids 0–99 with gaps, one run of 5 (ids 200–204)
const tiles: CraftTile[] = [];
for (let id = 0; id < 100; id++) if (id % 5 !== 3) tiles.push({ tileId: id, data: enc.encode(`tile-${id}`) });
tiles.push({ tileId: 200, data: enc.encode('run'), runLength: 5 });
const expected = (id: number): string | undefined => {
  if (id >= 200 && id < 205) return 'run';
  if (id < 100 && id % 5 !== 3) return `tile-${id}`;
  return undefined;
};

/** id of the fourth tile entry */
const e3Id = () => tiles[3]!.tileId;

describe('PMTilesReader', () => {
  for (const internal of [Compression.None, Compression.Gzip, Compression.Brotli]) {
    for (const leafLevels of [0, 1, 2] as const) {
      it(`reads internal compression ${Compression[internal]} with ${leafLevels} level(s) of leaf directories`, async () => {
        const path = join(dir, `c${internal}-l${leafLevels}.pmtiles`);
        const metadata = { name: 'crafted', levels: leafLevels };
        writeFileSync(
          path,
          craftArchive({
            tiles,
            internal,
            leafLevels,
            leafSize: 7,
            metadata: enc.encode(JSON.stringify(metadata)),
          }),
        );
        const r = await PMTilesReader.openFile(path);
        const ref = referenceReader(path);
        for (let id = 0; id < 210; id++) {
          const [z, x, y] = tileIdToZxy(id);
          const want = expected(id);
          const got = await r.getTile(z, x, y);
          expect(got && new TextDecoder().decode(got), `tile ${id}`).toBe(want);
          // the reference package agrees
          const theirs = await referenceTile(ref, z, x, y);
          expect(theirs && new TextDecoder().decode(theirs), `reference tile ${id}`).toBe(want);
        }
        const seen: number[] = [];
        for await (const e of r.entries()) for (let i = 0; i < e.runLength; i++) seen.push(e.tileId + i);
        expect(seen).toEqual([...Array(210).keys()].filter((id) => expected(id) !== undefined));
        expect(await r.metadata()).toEqual(metadata);
        await r.close();
      });
    }
  }

  it('refuses zstd internals on open, and zstd tiles only when asked to decompress them', async () => {
    const zstdInternal = craftArchive({
      tiles,
      internal: Compression.None,
      header: { internalCompression: Compression.Zstd },
    });
    await expect(PMTilesReader.open(memorySource(zstdInternal, 'z.pmtiles'))).rejects.toThrow(
      'z.pmtiles: root directory: unsupported compression: zstd',
    );
    const zstdTiles = craftArchive({ tiles, tileCompression: Compression.Zstd });
    const r = await PMTilesReader.open(memorySource(zstdTiles, 't.pmtiles'));
    expect(await r.getTile(0, 0, 0)).toEqual(enc.encode('tile-0'));
    await expect(r.getTileDecompressed(0, 0, 0)).rejects.toThrow(
      't.pmtiles: tile 0/0/0: unsupported compression: zstd',
    );
    await expect(r.getTileDecompressed(0, 0, 0)).rejects.toBeInstanceOf(UserError);
  });

  it('decompresses gzip and brotli tiles', async () => {
    for (const c of [Compression.Gzip, Compression.Brotli]) {
      const compressed = tiles.map((t) => ({ ...t, data: compressWith(c, t.data) }));
      const r = await PMTilesReader.open(
        memorySource(craftArchive({ tiles: compressed, tileCompression: c })),
      );
      expect(await r.getTileDecompressed(2, 1, 1)).toEqual(enc.encode('tile-7'));
      expect(await r.getTile(2, 1, 1)).toEqual(compressWith(c, enc.encode('tile-7')));
    }
  });

  it('keeps a bounded cache of leaf directories', async () => {
    // 60 tiles in leaves of 2 → 30 leaves; cache of 4
    const src = memorySource(craftArchive({ tiles, leafLevels: 1, leafSize: 2 }));
    const r = await PMTilesReader.open(src, { cacheDirectories: 4 });
    const [z, x, y] = tileIdToZxy(50);
    await r.getTile(z, x, y);
    const before = src.reads;
    await r.getTile(z, x, y); // leaf cached: only the tile is read
    expect(src.reads - before).toBe(1);
    for (let id = 0; id < 100; id += 4) {
      const [zz, xx, yy] = tileIdToZxy(id);
      await r.getTile(zz, xx, yy);
    }
    const after = src.reads;
    await r.getTile(z, x, y); // evicted by then: leaf and tile are read again
    expect(src.reads - after).toBe(2);
  });

  it('rejects bad z/x/y and names missing files', async () => {
    const r = await PMTilesReader.open(memorySource(craftArchive({ tiles })));
    await expect(r.getTile(3, 8, 0)).rejects.toThrow('tile 3/8/0 does not exist at zoom 3');
    expect(await r.getTile(3, 7, 7)).toBeUndefined();
    const missing = join(dir, 'missing.pmtiles');
    await expect(PMTilesReader.openFile(missing)).rejects.toThrow(`${missing}: cannot read (ENOENT)`);
    await expect(fileSource(missing).size()).rejects.toBeInstanceOf(UserError);
  });

  it('rejects directories that point outside the file and garbage directories', async () => {
    const far = craftArchive({ tiles, leafLevels: 1, leafSize: 10, header: { leafDirectoryOffset: 10_000 } });
    await expect(PMTilesReader.open(memorySource(far, 'far.pmtiles'))).rejects.toThrow(
      /^far\.pmtiles: leaf directories \(offset 10000, length \d+\) ends at byte \d+, beyond the file length \d+$/,
    );
    const badTile = craftArchive({ tiles, mutateEntries: (e) => void (e[3]!.offset = 1e6) });
    const r = await PMTilesReader.open(memorySource(badTile, 'bad.pmtiles'));
    const [z, x, y] = tileIdToZxy(e3Id());
    await expect(r.getTile(z, x, y)).rejects.toThrow(
      /^bad\.pmtiles: tile 1\/1\/0 \(offset \d+, length 6\) reaches beyond the file length/,
    );
    const garbage = craftArchive({ tiles, internal: Compression.None });
    garbage.fill(0xff, 127, 140);
    await expect(PMTilesReader.open(memorySource(garbage, 'g.pmtiles'))).rejects.toThrow(
      /g\.pmtiles: root directory: directory/,
    );
  });
});
