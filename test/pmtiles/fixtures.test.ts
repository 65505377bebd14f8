// Our reader and verifier against the reference fixtures in ../shared/data/pmtiles, cross-checked tile by tile
// with the reference reader (`pmtiles` npm package); skipped with a note when ../shared is absent.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import { PMTilesReader } from '../../pipeline/pmtiles/reader.js';
import { tileIdToZxy } from '../../pipeline/pmtiles/tileid.js';
import { verifyArchive } from '../../pipeline/pmtiles/verify.js';
import { HAS_SHARED, noteSkip, sharedPath } from '../helpers/shared.js';
import { referenceReader, referenceTile, sameBytes } from './reference.js';

noteSkip('PMTiles reference fixtures');
const dir = sharedPath('pmtiles');
const REJECTED: Record<string, string> = {
  'empty.pmtiles': 'file is empty',
  'invalid.pmtiles': 'not a PMTiles archive (bad magic)',
  'invalid_v4.pmtiles': 'PMTiles version 4 is not supported (only version 3)',
};
const archives = HAS_SHARED
  ? [
      ...readdirSync(dir).filter((f) => f.endsWith('.pmtiles')),
      ...readdirSync(`${dir}/pmtiles-rs`)
        .filter((f) => f.endsWith('.pmtiles'))
        .map((f) => `pmtiles-rs/${f}`),
    ]
  : [];
const valid = archives.filter((f) => !(f in REJECTED));

describe.skipIf(!HAS_SHARED)('reference fixtures', () => {
  it('are all accounted for', () => {
    expect(valid).toContain('pmtiles-rs/leaf.pmtiles');
    expect(valid).toContain('pmtiles-rs/single_tile_brotli.pmtiles');
    expect(archives).toEqual(expect.arrayContaining(Object.keys(REJECTED)));
  });

  for (const name of valid) {
    it(`${name}: opens and every tile matches the reference reader`, async () => {
      const path = `${dir}/${name}`;
      const ours = await PMTilesReader.openFile(path);
      const ref = referenceReader(path);
      const { etag: _etag, ...refHeader } = await ref.getHeader();
      expect(ours.header).toEqual(refHeader);
      expect(await ours.metadata()).toEqual(await ref.getMetadata());

      let entries = 0;
      let addressed = 0;
      for await (const e of ours.entries()) {
        entries++;
        addressed += e.runLength;
        for (let i = 0; i < Math.min(e.runLength, 3); i++) {
          const [z, x, y] = tileIdToZxy(e.tileId + i);
          const mine = await ours.getTileDecompressed(z, x, y);
          expect(mine, `${z}/${x}/${y}`).toBeDefined();
          expect(sameBytes(mine, await referenceTile(ref, z, x, y)), `${z}/${x}/${y}`).toBe(true);
        }
      }
      const h = ours.header;
      if (h.numTileEntries) expect(entries).toBe(h.numTileEntries);
      if (h.numAddressedTiles) expect(addressed).toBe(h.numAddressedTiles);

      // and both agree on which tiles are absent, over every tile of the low zooms
      for (let z = h.minZoom; z <= Math.min(h.maxZoom, 4); z++) {
        for (let x = 0; x < 2 ** z; x++) {
          for (let y = 0; y < 2 ** z; y++) {
            expect((await ours.getTile(z, x, y)) === undefined, `${z}/${x}/${y}`).toBe(
              (await ref.getZxy(z, x, y)) === undefined,
            );
          }
        }
      }
      await ours.close();
    });

    it(`${name}: passes verify (container always; tile contents per MVT 2.1)`, async () => {
      const { problems, summary } = await verifyArchive(`${dir}/${name}`);
      if (name.startsWith('protomaps_vector_ODbL_firenze')) {
        // This real archive's tiles repeat points (zero-length segments, which MVT 2.1 forbids): verify reports
        // them per tile, and nothing about the container.
        expect(problems.length).toBeGreaterThan(0);
        expect(problems.filter((p) => !/^(tile \d+\/\d+\/\d+: |… and \d+ more problems$)/.test(p))).toEqual(
          [],
        );
        expect(problems.some((p) => p.includes('zero-length'))).toBe(true);
      } else {
        expect(problems).toEqual([]);
        expect(summary).toMatch(/^ok: \d+ tiles \(\d+ unique\), /);
      }
    });
  }

  it('the stamen tiles and the brotli tile are the expected PNGs (pmtiles-rs/z_x_y.png)', async () => {
    const stamen = await PMTilesReader.openFile(`${dir}/stamen_toner_raster_CC-BY_ODbL_z3.pmtiles`);
    for (const [z, x, y] of [
      [0, 0, 0],
      [2, 2, 2],
      [3, 4, 5],
    ] as const) {
      const png = new Uint8Array(readFileSync(`${dir}/pmtiles-rs/${z}_${x}_${y}.png`));
      const tile = await stamen.getTileDecompressed(z, x, y);
      expect(tile?.length, `${z}/${x}/${y}`).toBe(png.length);
      expect(sameBytes(tile, png), `${z}/${x}/${y}`).toBe(true);
    }
    await stamen.close();
    const brotli = await PMTilesReader.openFile(`${dir}/pmtiles-rs/single_tile_brotli.pmtiles`);
    expect(brotli.header.internalCompression).toBe(3);
    expect(
      sameBytes(await brotli.getTileDecompressed(0, 0, 0), readFileSync(`${dir}/pmtiles-rs/0_0_0.png`)),
    ).toBe(true);
    await brotli.close();
  });

  it('leaf.pmtiles is read through its leaf directory', async () => {
    const r = await PMTilesReader.openFile(`${dir}/pmtiles-rs/leaf.pmtiles`);
    expect(r.header.leafDirectoryLength).toBeGreaterThan(0);
    expect((await r.rootDirectory()).every((e) => e.runLength === 0)).toBe(true);
    const bodies: string[] = [];
    for await (const e of r.entries()) bodies.push(new TextDecoder().decode(await r.getTileById(e.tileId)));
    expect(bodies).toEqual(['0', '1', '2', '3', '4']);
    await r.close();
  });

  for (const [name, message] of Object.entries(REJECTED)) {
    it(`${name} is rejected: "${message}"`, async () => {
      const path = `${dir}/${name}`;
      const err = await PMTilesReader.openFile(path).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).message).toBe(`${path}: ${message}`);
      expect(await verifyArchive(path)).toEqual({ problems: [message], summary: '' });
    });
  }
});
