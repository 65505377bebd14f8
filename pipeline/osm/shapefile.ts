// A small ESRI shapefile reader (.shp polygons and .dbf attributes, optionally inside a .zip) — enough for
// the OSM water polygons; no projection handling (the caller knows the CRS). Rings are flat coordinate arrays.
import { inflateRawSync } from 'node:zlib';
import { UserError } from '../../core/errors.js';

/** A ring as flat coordinates x0, y0, x1, y1, … (closed: the last point repeats the first, as in the file). */
export type Ring = Float64Array;

export interface ShapeRecord {
  /** 0-based record number (also the row of the .dbf) */
  index: number;
  bbox: [number, number, number, number];
  /** polygons as [outer, ...holes]; with a filter, only rings whose bbox meets it */
  polygons: Ring[][];
}

const SHAPE_NULL = 0;
const POLYGON_TYPES = new Set([5, 15, 25]); // Polygon, PolygonZ, PolygonM (Z/M values are ignored)

/** Shoelace signed area (positive = counter-clockwise with y up). */
export function ringSignedArea(ring: Ring): number {
  let sum = 0;
  const n = ring.length;
  for (let i = 0, j = n - 2; i < n; j = i, i += 2)
    sum += (ring[j]! - ring[i]!) * (ring[j + 1]! + ring[i + 1]!);
  return sum / 2;
}

function pointInRing(x: number, y: number, ring: Ring): boolean {
  let inside = false;
  const n = ring.length;
  for (let i = 0, j = n - 2; i < n; j = i, i += 2) {
    const xi = ring[i]!;
    const yi = ring[i + 1]!;
    const xj = ring[j]!;
    const yj = ring[j + 1]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function reversed(ring: Ring): Ring {
  const out = new Float64Array(ring.length);
  for (let i = 0, n = ring.length; i < n; i += 2) {
    out[n - 2 - i] = ring[i]!;
    out[n - 1 - i] = ring[i + 1]!;
  }
  return out;
}

/** Groups shapefile rings (outer rings clockwise, holes counter-clockwise) into polygons. */
export function groupRings(rings: Ring[]): Ring[][] {
  const polygons: Ring[][] = [];
  const holes: Ring[] = [];
  for (const ring of rings) {
    if (ring.length < 8) continue;
    if (ringSignedArea(ring) <= 0) polygons.push([ring]);
    else holes.push(ring);
  }
  for (const hole of holes) {
    const owner =
      polygons.length === 1
        ? polygons[0]
        : (polygons.find((p) => pointInRing(hole[0]!, hole[1]!, p[0]!)) ?? polygons[polygons.length - 1]);
    if (owner) owner.push(hole);
    else polygons.push([reversed(hole)]); // a lone counter-clockwise ring: treat it as an outer ring
  }
  return polygons;
}

function ringMeets(ring: Ring, box: readonly number[]): boolean {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let i = 0, n = ring.length; i < n; i += 2) {
    const x = ring[i]!;
    const y = ring[i + 1]!;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  return x0 <= box[2]! && x1 >= box[0]! && y0 <= box[3]! && y1 >= box[1]!;
}

function intersects(a: readonly number[], b: readonly number[]): boolean {
  return a[0]! <= b[2]! && a[2]! >= b[0]! && a[1]! <= b[3]! && a[3]! >= b[1]!;
}

/** Reads the polygon records of a .shp, skipping (without decoding) those outside `filter` when given. */
export function* readShp(shp: Uint8Array, filter?: readonly number[], name = '.shp'): Generator<ShapeRecord> {
  const view = new DataView(shp.buffer, shp.byteOffset, shp.byteLength);
  if (shp.byteLength < 100 || view.getInt32(0, false) !== 9994) {
    throw new UserError(`${name}: not a shapefile (bad file code)`, 'bad_input');
  }
  const fileType = view.getInt32(32, true);
  if (fileType !== SHAPE_NULL && !POLYGON_TYPES.has(fileType)) {
    throw new UserError(`${name}: shape type ${fileType} is not supported (polygons only)`, 'bad_input');
  }
  let offset = 100;
  let index = 0;
  while (offset + 8 <= shp.byteLength) {
    const length = view.getInt32(offset + 4, false) * 2;
    const start = offset + 8;
    const end = start + length;
    if (end > shp.byteLength)
      throw new UserError(`${name}: record ${index} is truncated at byte ${offset}`, 'bad_input');
    const type = view.getInt32(start, true);
    if (type !== SHAPE_NULL) {
      if (!POLYGON_TYPES.has(type))
        throw new UserError(`${name}: record ${index} has shape type ${type}`, 'bad_input');
      const bbox: [number, number, number, number] = [
        view.getFloat64(start + 4, true),
        view.getFloat64(start + 12, true),
        view.getFloat64(start + 20, true),
        view.getFloat64(start + 28, true),
      ];
      if (!filter || intersects(bbox, filter)) {
        const numParts = view.getInt32(start + 36, true);
        const numPoints = view.getInt32(start + 40, true);
        const partsAt = start + 44;
        const pointsAt = partsAt + numParts * 4;
        if (pointsAt + numPoints * 16 > end) {
          throw new UserError(`${name}: record ${index} points overrun the record`, 'bad_input');
        }
        // one aligned copy of the record's points, then a view per ring
        const points = new Float64Array(
          new Uint8Array(shp.subarray(pointsAt, pointsAt + numPoints * 16)).buffer,
        );
        const rings: Ring[] = [];
        for (let p = 0; p < numParts; p++) {
          const from = view.getInt32(partsAt + p * 4, true);
          const to = p + 1 < numParts ? view.getInt32(partsAt + (p + 1) * 4, true) : numPoints;
          if (from < 0 || to > numPoints || from >= to) continue;
          const ring = points.subarray(from * 2, to * 2);
          if (filter && !ringMeets(ring, filter)) continue; // holes or outers away from the area of interest
          rings.push(ring);
        }
        yield { index, bbox, polygons: groupRings(rings) };
      }
    }
    offset = end;
    index++;
  }
}

export interface DbfField {
  name: string;
  type: string;
  length: number;
  decimals: number;
}

/** Reads a dBase III table (.dbf): field descriptors and rows (numbers for N/F fields, trimmed strings otherwise). */
export function readDbf(
  dbf: Uint8Array,
  name = '.dbf',
): { fields: DbfField[]; rows: Array<Record<string, string | number | null>> } {
  const view = new DataView(dbf.buffer, dbf.byteOffset, dbf.byteLength);
  if (dbf.byteLength < 32) throw new UserError(`${name}: too short for a dBase header`, 'bad_input');
  const count = view.getUint32(4, true);
  const headerLength = view.getUint16(8, true);
  const recordLength = view.getUint16(10, true);
  const latin1 = new TextDecoder('latin1');
  const fields: DbfField[] = [];
  for (let at = 32; at + 32 <= headerLength && dbf[at] !== 0x0d; at += 32) {
    const raw = latin1.decode(dbf.subarray(at, at + 11));
    fields.push({
      name: raw.replace(/\0.*$/s, ''),
      type: String.fromCharCode(dbf[at + 11]!),
      length: dbf[at + 16]!,
      decimals: dbf[at + 17]!,
    });
  }
  const rows: Array<Record<string, string | number | null>> = [];
  for (let r = 0; r < count; r++) {
    const base = headerLength + r * recordLength;
    if (base + recordLength > dbf.byteLength)
      throw new UserError(`${name}: row ${r} is truncated`, 'bad_input');
    let at = base + 1; // skip the deletion flag
    const row: Record<string, string | number | null> = {};
    for (const f of fields) {
      const text = latin1.decode(dbf.subarray(at, at + f.length)).trim();
      at += f.length;
      if (f.type === 'N' || f.type === 'F') row[f.name] = text === '' ? null : Number(text);
      else row[f.name] = text;
    }
    rows.push(row);
  }
  return { fields, rows };
}

/** The entries of a zip archive (stored or deflated, no zip64) whose names pass `want`, inflated natively. */
export function unzipEntries(
  zip: Uint8Array,
  want: (name: string) => boolean,
  name = '.zip',
): Map<string, Uint8Array> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let eocd = -1;
  for (let i = zip.byteLength - 22; i >= Math.max(0, zip.byteLength - 22 - 65535); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new UserError(`${name}: not a zip archive (no end of central directory)`, 'bad_input');
  const count = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  if (at === 0xffffffff) throw new UserError(`${name}: zip64 archives are not supported`, 'bad_input');
  const decoder = new TextDecoder();
  const out = new Map<string, Uint8Array>();
  for (let e = 0; e < count; e++) {
    if (at + 46 > zip.byteLength || view.getUint32(at, true) !== 0x02014b50) {
      throw new UserError(`${name}: corrupt zip central directory (entry ${e})`, 'bad_input');
    }
    const method = view.getUint16(at + 10, true);
    const compressed = view.getUint32(at + 20, true);
    const size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const entry = decoder.decode(zip.subarray(at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
    if (!want(entry)) continue;
    if (local + 30 > zip.byteLength || view.getUint32(local, true) !== 0x04034b50) {
      throw new UserError(`${name}: corrupt zip entry ${entry}`, 'bad_input');
    }
    const dataAt = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const data = zip.subarray(dataAt, dataAt + compressed);
    if (data.byteLength < compressed)
      throw new UserError(`${name}: zip entry ${entry} is truncated`, 'bad_input');
    let bytes: Uint8Array;
    if (method === 0) bytes = data;
    else if (method === 8) {
      try {
        bytes = inflateRawSync(data);
      } catch (err) {
        throw new UserError(
          `${name}: zip entry ${entry} does not inflate (${(err as Error).message})`,
          'bad_input',
        );
      }
    } else throw new UserError(`${name}: zip entry ${entry} uses compression method ${method}`, 'bad_input');
    if (bytes.byteLength !== size)
      throw new UserError(`${name}: zip entry ${entry} has the wrong size`, 'bad_input');
    out.set(entry, bytes);
  }
  return out;
}

/** The .shp and .dbf bytes of the first shapefile inside a zip archive. */
export function shapefileFromZip(
  zip: Uint8Array,
  name = '.zip',
): { shp: Uint8Array; dbf?: Uint8Array; base: string } {
  const files = unzipEntries(zip, (f) => /\.(shp|dbf)$/i.test(f), name);
  const shpName = [...files.keys()].find((f) => /\.shp$/i.test(f));
  if (!shpName) throw new UserError(`${name}: no .shp file inside`, 'bad_input');
  const base = shpName.slice(0, -4);
  const dbfName = [...files.keys()].find((f) => f.toLowerCase() === `${base.toLowerCase()}.dbf`);
  return { shp: files.get(shpName)!, ...(dbfName ? { dbf: files.get(dbfName)! } : {}), base };
}
