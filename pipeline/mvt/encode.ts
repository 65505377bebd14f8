// MVT 2.1 encoder: tile-unit geometries → command integers, and layers of features → a vector tile (protobuf bytes).
import { ProtoWriter, varintSize } from './protobuf-writer.js';
import type { PropertyValue, TileGeometry, TileLayer } from './types.js';

export const CMD_MOVE_TO = 1;
export const CMD_LINE_TO = 2;
export const CMD_CLOSE_PATH = 7;

/** A command geometry ready for a feature's `geometry` field. */
export interface EncodedGeometry {
  type: 1 | 2 | 3;
  commands: number[];
}

export interface EncodableFeature {
  /** unsigned integer id; written only when given */
  id?: number;
  type: 1 | 2 | 3;
  /** command integers (spec 4.3), e.g. from `encodeGeometry` */
  commands: ArrayLike<number>;
  properties: Record<string, PropertyValue>;
}

export interface EncodableLayer {
  name: string;
  /** default 4096 */
  extent?: number;
  features: EncodableFeature[];
}

const commandInteger = (id: number, count: number): number => count * 8 + id;

/** Zigzag of a 32-bit signed delta (spec 4.3.2), as an unsigned 32-bit number. */
const zigzag = (v: number): number => ((v << 1) ^ (v >> 31)) >>> 0;

// scratch coordinates of the ring or line being processed (grown on demand, never shrunk)
let pts = new Float64Array(1024);

function ensurePts(coords: number): void {
  if (pts.length >= coords) return;
  let n = pts.length * 2;
  while (n < coords) n *= 2;
  pts = new Float64Array(n);
}

/**
 * Copies a flat coordinate list into `pts`, rounded to integers, without consecutive duplicates.
 * With `ring`, also strips closing points equal to the first. Returns the number of points.
 */
function loadPoints(flat: number[], ring: boolean): number {
  const len = flat.length >> 1;
  ensurePts(len * 2);
  let n = 0;
  let px = NaN;
  let py = NaN;
  for (let i = 0; i < len; i++) {
    const x = Math.round(flat[2 * i]!);
    const y = Math.round(flat[2 * i + 1]!);
    if (x === px && y === py) continue;
    pts[2 * n] = px = x;
    pts[2 * n + 1] = py = y;
    n++;
  }
  if (ring) while (n > 1 && pts[2 * n - 2] === pts[0] && pts[2 * n - 1] === pts[1]) n--;
  return n;
}

/** Twice the signed area of the first `n` points of `pts` by the surveyor's formula (positive = clockwise, y down). */
function ringArea2(n: number): number {
  let sum = 0;
  let x0 = pts[2 * n - 2]!;
  let y0 = pts[2 * n - 1]!;
  for (let i = 0; i < n; i++) {
    const x1 = pts[2 * i]!;
    const y1 = pts[2 * i + 1]!;
    sum += x0 * y1 - x1 * y0;
    x0 = x1;
    y0 = y1;
  }
  return sum;
}

// cursor of the geometry being encoded
let cx = 0;
let cy = 0;

function pushPoint(out: number[], x: number, y: number): void {
  out.push(zigzag(x - cx), zigzag(y - cy));
  cx = x;
  cy = y;
}

/** Emits the `n` points in `pts` as MoveTo + LineTo(n-1) [+ ClosePath], optionally in reverse ring order. */
function pushPath(out: number[], n: number, reverse: boolean, close: boolean): void {
  out.push(commandInteger(CMD_MOVE_TO, 1));
  pushPoint(out, pts[0]!, pts[1]!);
  out.push(commandInteger(CMD_LINE_TO, n - 1));
  if (reverse) for (let i = n - 1; i >= 1; i--) pushPoint(out, pts[2 * i]!, pts[2 * i + 1]!);
  else for (let i = 1; i < n; i++) pushPoint(out, pts[2 * i]!, pts[2 * i + 1]!);
  if (close) out.push(commandInteger(CMD_CLOSE_PATH, 1));
}

function encodePoints(points: number[]): number[] | null {
  const count = points.length >> 1;
  if (count === 0) return null;
  const out: number[] = [commandInteger(CMD_MOVE_TO, count)];
  for (let i = 0; i < count; i++) pushPoint(out, Math.round(points[2 * i]!), Math.round(points[2 * i + 1]!));
  return out;
}

function encodeLines(lines: number[][]): number[] | null {
  const out: number[] = [];
  for (const line of lines) {
    const n = loadPoints(line, false);
    if (n >= 2) pushPath(out, n, false, false);
  }
  return out.length ? out : null;
}

function encodePolygons(polygons: number[][][]): number[] | null {
  const out: number[] = [];
  for (const polygon of polygons) {
    for (let r = 0; r < polygon.length; r++) {
      const n = loadPoints(polygon[r]!, true);
      const area2 = n >= 3 ? ringArea2(n) : 0;
      if (area2 === 0) {
        if (r === 0) break; // a degenerate exterior drops the polygon with its holes
        continue;
      }
      // exterior rings: positive area (clockwise in tile coordinates); holes: negative
      pushPath(out, n, r === 0 ? area2 < 0 : area2 > 0, true);
    }
  }
  return out.length ? out : null;
}

/**
 * Command-encodes a tile-unit geometry (spec 4.3): zigzag deltas, no zero-length segments, polygon rings oriented
 * by role (first ring of each polygon exterior and clockwise, the rest holes and counter-clockwise).
 * Coordinates are rounded to integers. Returns null when nothing drawable remains.
 */
export function encodeGeometry(geom: TileGeometry): EncodedGeometry | null {
  cx = 0;
  cy = 0;
  switch (geom.type) {
    case 'Point': {
      const commands = encodePoints(geom.points);
      return commands && { type: 1, commands };
    }
    case 'LineString': {
      const commands = encodeLines(geom.lines);
      return commands && { type: 2, commands };
    }
    case 'Polygon': {
      const commands = encodePolygons(geom.polygons);
      return commands && { type: 3, commands };
    }
    default:
      throw new TypeError(`unknown geometry type ${(geom as { type: unknown }).type}`);
  }
}

// ---- tile encoding ----

const VALUE_STRING = 1;
const VALUE_FLOAT = 2;
const VALUE_DOUBLE = 3;
const VALUE_UINT = 5;
const VALUE_SINT = 6;
const VALUE_BOOL = 7;

const writer = new ProtoWriter(1 << 20);

// per-layer dedup tables, reused between layers and calls
const keyIndex = new Map<string, number>();
const keyList: string[] = [];
const stringIndex = new Map<string, number>();
const numberIndex = new Map<number, number>();
const boolIndex = [-1, -1];
const valueKinds: number[] = [];
const valueList: PropertyValue[] = [];
let tags = new Uint32Array(256);

function resetTables(): void {
  keyIndex.clear();
  keyList.length = 0;
  stringIndex.clear();
  numberIndex.clear();
  boolIndex[0] = boolIndex[1] = -1;
  valueKinds.length = 0;
  valueList.length = 0;
}

/** Largest magnitude written as sint_value: its zigzag (2|v| - 1) must stay exact in a double. */
const MAX_SINT = 2 ** 52;

function numberKind(v: number): number {
  if (Number.isInteger(v)) {
    if (v >= 0 && v <= Number.MAX_SAFE_INTEGER) return VALUE_UINT;
    if (v < 0 && v >= -MAX_SINT) return VALUE_SINT;
  }
  return Math.fround(v) === v || Number.isNaN(v) ? VALUE_FLOAT : VALUE_DOUBLE;
}

function valueIndexOf(v: PropertyValue): number {
  let idx: number | undefined;
  if (typeof v === 'string') {
    idx = stringIndex.get(v);
    if (idx === undefined) {
      idx = valueList.length;
      stringIndex.set(v, idx);
      valueList.push(v);
      valueKinds.push(VALUE_STRING);
    }
  } else if (typeof v === 'number') {
    idx = numberIndex.get(v);
    if (idx === undefined) {
      idx = valueList.length;
      numberIndex.set(v, idx);
      valueList.push(v);
      valueKinds.push(numberKind(v));
    }
  } else {
    const b = v ? 1 : 0;
    idx = boolIndex[b]!;
    if (idx < 0) {
      idx = boolIndex[b] = valueList.length;
      valueList.push(v);
      valueKinds.push(VALUE_BOOL);
    }
  }
  return idx;
}

/** Fills `tags` for a feature's properties; returns the number of tag integers. */
function buildTags(properties: Record<string, PropertyValue>): number {
  let n = 0;
  for (const k in properties) {
    const v = properties[k];
    if (v === undefined || v === null) continue;
    const t = typeof v;
    if (t !== 'string' && t !== 'number' && t !== 'boolean') {
      throw new TypeError(
        `property "${k}" has a ${t} value; only strings, numbers and booleans fit in a tile`,
      );
    }
    let ki = keyIndex.get(k);
    if (ki === undefined) {
      ki = keyList.length;
      keyIndex.set(k, ki);
      keyList.push(k);
    }
    if (n + 2 > tags.length) {
      const next = new Uint32Array(tags.length * 2);
      next.set(tags);
      tags = next;
    }
    tags[n++] = ki;
    tags[n++] = valueIndexOf(v);
  }
  return n;
}

function packedSize(values: ArrayLike<number>, n: number): number {
  let size = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    size += v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
  }
  return size;
}

function writeValue(w: ProtoWriter, kind: number, v: PropertyValue): void {
  w.key(4, 2); // Layer.values
  const mark = w.beginMessage();
  writeValueFields(w, kind, v);
  w.endMessage(mark);
}

/** The fields of one Value message (spec 4.1), typed as the encoder types every value. */
function writeValueFields(w: ProtoWriter, kind: number, v: PropertyValue): void {
  switch (kind) {
    case VALUE_STRING:
      w.key(1, 2);
      w.string(v as string);
      break;
    case VALUE_FLOAT:
      w.key(2, 5);
      w.float(v as number);
      break;
    case VALUE_DOUBLE:
      w.key(3, 1);
      w.double(v as number);
      break;
    case VALUE_UINT:
      w.key(5, 0);
      w.varint(v as number);
      break;
    case VALUE_SINT:
      w.key(6, 0);
      w.varint(-2 * (v as number) - 1); // zigzag of a negative integer
      break;
    case VALUE_BOOL:
      w.key(7, 0);
      w.varint(v ? 1 : 0);
      break;
  }
}

/** One Value message's bytes (without a field key or length) for `v`: the engine stores values this way. */
export function writeValueMessage(w: ProtoWriter, v: PropertyValue): void {
  const kind = typeof v === 'string' ? VALUE_STRING : typeof v === 'boolean' ? VALUE_BOOL : numberKind(v);
  writeValueFields(w, kind, v);
}

function writeFeature(w: ProtoWriter, f: EncodableFeature): boolean {
  const commands = f.commands;
  const nc = commands.length;
  if (nc === 0) return false;
  const id = f.id;
  if (id !== undefined && !(Number.isSafeInteger(id) && id >= 0)) {
    throw new RangeError(`feature id ${id} is not an unsigned integer`);
  }
  const nt = buildTags(f.properties);
  const tagBytes = packedSize(tags, nt);
  const geomBytes = packedSize(commands, nc);
  const size =
    (id !== undefined ? 1 + varintSize(id) : 0) +
    (nt ? 1 + varintSize(tagBytes) + tagBytes : 0) +
    2 +
    1 +
    varintSize(geomBytes) +
    geomBytes;
  w.ensure(size + 16);
  const buf = w.buf;
  buf[w.pos++] = 0x12; // Layer.features
  w.varintUnchecked(size);
  if (id !== undefined) {
    buf[w.pos++] = 0x08; // Feature.id
    w.varintUnchecked(id);
  }
  if (nt) {
    buf[w.pos++] = 0x12; // Feature.tags, packed
    w.varintUnchecked(tagBytes);
    for (let i = 0; i < nt; i++) w.varintUnchecked(tags[i]!);
  }
  buf[w.pos++] = 0x18; // Feature.type
  buf[w.pos++] = f.type;
  buf[w.pos++] = 0x22; // Feature.geometry, packed
  w.varintUnchecked(geomBytes);
  for (let i = 0; i < nc; i++) w.varintUnchecked(commands[i]!);
  return true;
}

/**
 * Encodes layers into one MVT 2.1 tile: layer version 2, extent (default 4096), per-layer deduplicated keys and
 * typed values (1, "1" and true stay distinct), ids only where given. Empty layers (and features without commands)
 * are left out. The same input always gives the same bytes.
 */
export function encodeTile(layers: EncodableLayer[]): Uint8Array {
  const w = writer;
  w.reset();
  const names = new Set<string>();
  for (const layer of layers) {
    if (names.has(layer.name)) throw new Error(`duplicate layer name "${layer.name}" in one tile`);
    names.add(layer.name);
    const extent = layer.extent ?? 4096;
    if (!(Number.isInteger(extent) && extent > 0))
      throw new RangeError(`layer "${layer.name}" extent ${extent}`);
    const layerStart = w.pos;
    resetTables();
    w.key(3, 2); // Tile.layers
    const mark = w.beginMessage();
    w.key(15, 0); // Layer.version
    w.varint(2);
    w.key(1, 2); // Layer.name
    w.string(layer.name);
    let written = 0;
    for (const f of layer.features) if (writeFeature(w, f)) written++;
    if (written === 0) {
      w.pos = layerStart;
      continue;
    }
    for (const k of keyList) {
      w.key(3, 2); // Layer.keys
      w.string(k);
    }
    for (let i = 0; i < valueList.length; i++) writeValue(w, valueKinds[i]!, valueList[i]!);
    w.key(5, 0); // Layer.extent
    w.varint(extent);
    w.endMessage(mark);
  }
  resetTables();
  return w.result();
}

/** Encodes tile-unit features: `encodeGeometry` for each, features whose geometry vanished left out, then `encodeTile`. */
export function encodeLayers(layers: TileLayer[]): Uint8Array {
  const encodable: EncodableLayer[] = layers.map((layer) => {
    const features: EncodableFeature[] = [];
    for (const f of layer.features) {
      const g = encodeGeometry(f.geometry);
      if (!g) continue;
      features.push({ id: f.id, type: g.type, commands: g.commands, properties: f.properties });
    }
    return { name: layer.name, extent: layer.extent, features };
  });
  return encodeTile(encodable);
}
