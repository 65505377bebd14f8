// The shapefile reader on the real OSM water polygons (shipped zip), checked against the file's own .shx index
// and .dbf grid cells, plus its failures on damaged input.
import { readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../core/errors.js';
import {
  readDbf,
  readShp,
  ringSignedArea,
  shapefileFromZip,
  unzipEntries,
} from '../../pipeline/osm/shapefile.js';
import { sharedFile } from './fixtures.js';

const zipFile = sharedFile('coastline/water-polygons-split-3857.zip');

/** A minimal zip writer (deflate), to make test archives without the reader's code. */
function makeZip(entries: Record<string, Uint8Array>): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of Object.entries(entries)) {
    const packed = deflateRawSync(data);
    const n = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(n.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, n, packed);
    centrals.push(central, n);
    offset += 30 + n.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Object.keys(entries).length, 8);
  end.writeUInt16LE(Object.keys(entries).length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

describe('zip reader', () => {
  it('inflates the entries it is asked for', () => {
    const zip = makeZip({ 'a.shp': Buffer.from('shape bytes'), 'b.txt': Buffer.from('readme') });
    const got = unzipEntries(zip, (n) => n.endsWith('.shp'));
    expect([...got.keys()]).toEqual(['a.shp']);
    expect(Buffer.from(got.get('a.shp')!).toString()).toBe('shape bytes');
  });

  it('fails clearly on damaged archives', () => {
    const zip = makeZip({ 'a.shp': Buffer.alloc(1000, 7) });
    expect(() => unzipEntries(zip.subarray(0, 40), () => true, 'cut.zip')).toThrow(
      /cut\.zip: not a zip archive/,
    );
    const bad = Buffer.from(zip);
    bad.fill(0xff, 30 + 5, 30 + 15); // scramble the deflate stream
    expect(() => unzipEntries(bad, () => true, 'bad.zip')).toThrow(UserError);
    expect(() => shapefileFromZip(makeZip({ 'x.txt': Buffer.from('x') }), 'noshp.zip')).toThrow(
      'noshp.zip: no .shp file inside',
    );
  });
});

describe.skipIf(!zipFile)('shapefile reader on the OSM water polygons', () => {
  const { shp, dbf } = shapefileFromZip(new Uint8Array(readFileSync(zipFile!)), zipFile);
  const shx = unzipEntries(new Uint8Array(readFileSync(zipFile!)), (n) => n.endsWith('.shx')).get(
    'water_polygons.shx',
  )!;

  it('reads every record the .shx index lists, at the offsets it gives', () => {
    const records = [...readShp(shp)];
    const view = new DataView(shx.buffer, shx.byteOffset, shx.byteLength);
    const count = (shx.byteLength - 100) / 8;
    expect(records.length).toBe(count);
    records.forEach((r, i) => expect(r.index).toBe(i));
    // the .shx content lengths sum to the .shp body: our walk consumed exactly those records
    let end = 0;
    for (let i = 0; i < count; i++)
      end = Math.max(end, (view.getInt32(100 + i * 8, false) + 4 + view.getInt32(104 + i * 8, false)) * 2);
    expect(end).toBe(shp.byteLength);
  });

  it('puts each polygon inside the grid cell its .dbf row names (x, y of a 128×128 split)', () => {
    const table = readDbf(dbf!);
    expect(table.fields.map((f) => f.name)).toEqual(['x', 'y']);
    const records = [...readShp(shp)];
    expect(table.rows.length).toBe(records.length);
    const cell = (2 * Math.PI * 6378137) / 128;
    const slack = 1000; // the split polygons overlap their cell slightly
    for (const r of records) {
      const { x, y } = table.rows[r.index] as { x: number; y: number };
      expect(r.bbox[0]).toBeGreaterThanOrEqual(x * cell - slack);
      expect(r.bbox[2]).toBeLessThanOrEqual((x + 1) * cell + slack);
      expect(r.bbox[1]).toBeGreaterThanOrEqual(y * cell - slack);
      expect(r.bbox[3]).toBeLessThanOrEqual((y + 1) * cell + slack);
      // outer rings are clockwise, holes counter-clockwise (shapefile convention), and rings are closed
      for (const [outer, ...holes] of r.polygons) {
        expect(ringSignedArea(outer!)).toBeLessThan(0);
        for (const h of holes) expect(ringSignedArea(h)).toBeGreaterThan(0);
        expect([outer![0], outer![1]]).toEqual([outer!.at(-2), outer!.at(-1)]);
      }
    }
  });

  it('skips records and rings outside a filter box', () => {
    const all = [...readShp(shp)];
    const b = all[0]!.bbox;
    const box = [b[0], b[1], b[0] + 10, b[1] + 10];
    const some = [...readShp(shp, box)];
    expect(some.length).toBeGreaterThan(0);
    expect(some.length).toBeLessThan(all.length);
    expect([...readShp(shp, [0, 0, 1, 1])]).toEqual([]);
  });

  it('fails clearly on a truncated .shp', () => {
    expect(() => [...readShp(shp.subarray(0, 5000), undefined, 'cut.shp')]).toThrow(
      /cut\.shp: record 0 is truncated/,
    );
    expect(() => [...readShp(new Uint8Array(200), undefined, 'zero.shp')]).toThrow(
      /zero\.shp: not a shapefile/,
    );
  });
});
