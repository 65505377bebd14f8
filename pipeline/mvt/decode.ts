// MVT decoder of our own (for `weft inspect` and tests): tile bytes → layers of features in tile coordinates.
import { UserError } from '../../core/errors.js';
import { ProtoError, ProtoReader, WIRE_BYTES, WIRE_VARINT } from './protobuf-reader.js';
import type { Flat, PropertyValue, TileGeometry } from './types.js';

export interface DecodedFeature {
  id?: number;
  /** 0 unknown, 1 point, 2 linestring, 3 polygon */
  type: number;
  properties: Record<string, PropertyValue>;
  /**
   * Geometry parts in tile units: for points one part with every point; for lines one part per line; for
   * polygons one part per ring, without the closing point.
   */
  parts: Flat[];
}

export interface DecodedLayer {
  name: string;
  version: number;
  extent: number;
  keys: string[];
  values: PropertyValue[];
  features: DecodedFeature[];
}

/** Twice the signed area of a ring by the surveyor's formula (positive = exterior in MVT 2.x). */
export function ringArea2(ring: Flat): number {
  const n = ring.length >> 1;
  let sum = 0;
  for (let i = 0, j = n - 1; i < n; j = i++)
    sum += ring[2 * j]! * ring[2 * i + 1]! - ring[2 * i]! * ring[2 * j + 1]!;
  return sum;
}

/** A decoded feature's geometry as a `TileGeometry` (rings grouped into polygons by the sign of their area). */
export function toTileGeometry(f: DecodedFeature): TileGeometry | null {
  if (f.type === 1) return { type: 'Point', points: f.parts.flat() };
  if (f.type === 2) return { type: 'LineString', lines: f.parts };
  if (f.type === 3) {
    const polygons: Flat[][] = [];
    for (const ring of f.parts) {
      const a = ringArea2(ring);
      if (a > 0 || polygons.length === 0) polygons.push([ring]);
      else if (a < 0) polygons[polygons.length - 1]!.push(ring);
    }
    return { type: 'Polygon', polygons };
  }
  return null;
}

/** Decodes command integers into parts (lenient: stops at the first malformed command). */
export function decodeCommands(type: number, geometry: number[]): Flat[] {
  const parts: Flat[] = [];
  let x = 0;
  let y = 0;
  let part: Flat | null = null;
  for (let i = 0; i < geometry.length;) {
    const cmd = geometry[i++]!;
    const id = cmd & 7;
    const count = Math.floor(cmd / 8);
    if (id === 1 || id === 2) {
      if (i + 2 * count > geometry.length) break;
      for (let k = 0; k < count; k++) {
        const dx = geometry[i++]!;
        const dy = geometry[i++]!;
        x += dx & 1 ? -(dx + 1) / 2 : dx / 2;
        y += dy & 1 ? -(dy + 1) / 2 : dy / 2;
        if (part === null || (id === 1 && type !== 1)) parts.push((part = []));
        part.push(x, y);
      }
    } else if (id !== 7) break;
  }
  return parts;
}

function readValue(r: ProtoReader, end: number): PropertyValue {
  let v: PropertyValue = '';
  const outer = r.end;
  r.end = end;
  while (r.pos < end) {
    r.next();
    if (r.field === 1 && r.wire === WIRE_BYTES) v = r.string();
    else if (r.field === 2 && r.wire === 5) v = r.float();
    else if (r.field === 3 && r.wire === 1) v = r.double();
    else if (r.field === 4 && r.wire === WIRE_VARINT) v = r.int64();
    else if (r.field === 5 && r.wire === WIRE_VARINT) v = r.varint();
    else if (r.field === 6 && r.wire === WIRE_VARINT) v = r.sint64();
    else if (r.field === 7 && r.wire === WIRE_VARINT) v = r.varint() !== 0;
    else r.skip();
  }
  r.end = outer;
  return v;
}

interface RawFeature {
  id?: number;
  type: number;
  tags: number[];
  geometry: number[];
}

function readFeature(r: ProtoReader, end: number): RawFeature {
  const f: RawFeature = { type: 0, tags: [], geometry: [] };
  const outer = r.end;
  r.end = end;
  while (r.pos < end) {
    r.next();
    if (r.field === 1 && r.wire === WIRE_VARINT) f.id = r.varint();
    else if (r.field === 2 && (r.wire === WIRE_BYTES || r.wire === WIRE_VARINT)) r.uint32s(f.tags);
    else if (r.field === 3 && r.wire === WIRE_VARINT) f.type = r.varint();
    else if (r.field === 4 && (r.wire === WIRE_BYTES || r.wire === WIRE_VARINT)) r.uint32s(f.geometry);
    else r.skip();
  }
  r.end = outer;
  return f;
}

function readLayer(r: ProtoReader, end: number): DecodedLayer {
  const layer: DecodedLayer = { name: '', version: 1, extent: 4096, keys: [], values: [], features: [] };
  const raw: RawFeature[] = [];
  const outer = r.end;
  r.end = end;
  while (r.pos < end) {
    r.next();
    if (r.field === 15 && r.wire === WIRE_VARINT) layer.version = r.varint();
    else if (r.field === 1 && r.wire === WIRE_BYTES) layer.name = r.string();
    else if (r.field === 2 && r.wire === WIRE_BYTES) raw.push(readFeature(r, r.bytesEnd()));
    else if (r.field === 3 && r.wire === WIRE_BYTES) layer.keys.push(r.string());
    else if (r.field === 4 && r.wire === WIRE_BYTES) layer.values.push(readValue(r, r.bytesEnd()));
    else if (r.field === 5 && r.wire === WIRE_VARINT) layer.extent = r.varint();
    else r.skip();
  }
  r.end = outer;
  for (const f of raw) {
    const properties: Record<string, PropertyValue> = {};
    for (let i = 0; i + 1 < f.tags.length; i += 2) {
      const k = layer.keys[f.tags[i]!];
      const v = layer.values[f.tags[i + 1]!];
      if (k !== undefined && v !== undefined) properties[k] = v;
    }
    const feature: DecodedFeature = { type: f.type, properties, parts: decodeCommands(f.type, f.geometry) };
    if (f.id !== undefined) feature.id = f.id;
    layer.features.push(feature);
  }
  return layer;
}

/**
 * Decodes an (uncompressed) vector tile. Lenient about content (unknown fields skipped, bad tag indices and
 * malformed commands ignored); throws a UserError when the protobuf itself is broken. Use `validateTile` for checks.
 */
export function decodeTile(bytes: Uint8Array, what = 'tile'): DecodedLayer[] {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    throw new UserError(`${what}: gzip-compressed; decompress it before decoding`);
  }
  const r = new ProtoReader(bytes);
  const layers: DecodedLayer[] = [];
  try {
    while (!r.done) {
      r.next();
      if (r.field === 3 && r.wire === WIRE_BYTES) layers.push(readLayer(r, r.bytesEnd()));
      else r.skip();
    }
  } catch (err) {
    if (err instanceof ProtoError) throw new UserError(`${what}: malformed protobuf: ${err.message}`);
    throw err;
  }
  return layers;
}
