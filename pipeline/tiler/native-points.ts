// The native GeoJSON scanner (native/geojson.c → build/native/geojson.node): plain Point, LineString,
// MultiLineString, Polygon and MultiPolygon Features of newline-delimited GeoJSON, positions, id and encoded
// properties, without a JavaScript object per feature; and the writer of their records (points placed, shapes
// simplified, clipped, quantised and encoded as the JavaScript map stage does it, from positions projected here).
// Optional: without it (or with WEFT_NATIVE_POINTS=0) every line is parsed by JSON.parse, with the same result;
// WEFT_NATIVE_SHAPES=0 leaves the shapes to JSON.parse and keeps the points native.
import { loadAddon } from '../../core/native.js';
import type { RecordBatch } from './records.js';

export interface PointScan {
  /** ITEM_SIZE numbers per non-blank line; see native/geojson.c */
  items: Float64Array;
  props: Uint8Array;
  /** per signature: [key, type, key, type, …] */
  signatures: string[][];
  /** the scanned shapes' positions, lon, lat pairs (projected in place by the map stage before writeRecords) */
  coords: Float64Array;
  /** the scanned shapes' structure: counts in the nesting of their coordinates */
  parts: Uint32Array;
}

/** The scan's flags: which Features it takes. */
export const SCAN_POINTS = 1;
export const SCAN_SHAPES = 2;

/** Item kinds of the scan besides 0 (a line left to JavaScript) and 1 (a Point). */
export const KIND_LINESTRING = 2;
export const KIND_MULTILINESTRING = 3;
export const KIND_POLYGON = 4;
export const KIND_MULTIPOLYGON = 5;

export interface PointScanner {
  /** flags: SCAN_POINTS (the default), SCAN_SHAPES, or both */
  scanPoints(chunk: Uint8Array, flags?: number): PointScan;
  ITEM_SIZE: number;
  /**
   * The records of scanned features as one run sorted by tile id (see native/geojson.c): POINT_SIZE numbers per
   * point, [wx, wy, zmin, zmax, seq, id (NaN: none), propsStart, propsEnd]; SHAPE_SIZE numbers per shape, [kind,
   * zmin, zmax, seq, id, propsStart, propsEnd, coordStart, coordEnd, partsStart, minX, minY, maxX, maxY] with its
   * coords projected to world coordinates; ranges per zoom [x0, y0, x1, y1]; zooms per zoom ZOOM_SIZE numbers,
   * [n, sqTol, pixel, minArea, atMax] as tileAtZoom computes them.
   */
  writeRecords(
    points: Float64Array,
    shapes: Float64Array,
    coords: Float64Array,
    parts: Uint32Array,
    props: Uint8Array,
    layer: Uint8Array,
    ranges: Int32Array,
    zooms: Float64Array,
    extent: number,
    buffer: number,
  ): RecordBatch;
  POINT_SIZE: number;
  SHAPE_SIZE: number;
  ZOOM_SIZE: number;
}

const addon = () => loadAddon<PointScanner>('geojson', 'gcc');

/** The scanner, or null when it is not built or switched off. */
export function nativeScanner(): PointScanner | null {
  if (process.env.WEFT_NATIVE_POINTS === '0') return null;
  return addon().module;
}

/** Why the scanner is not used ('' when it is). */
export function nativeScannerError(): string {
  if (process.env.WEFT_NATIVE_POINTS === '0') return 'switched off by WEFT_NATIVE_POINTS=0';
  return addon().error;
}

/** Whether the scanner (when there is one) takes shapes too: WEFT_NATIVE_SHAPES=0 leaves them to JSON.parse. */
export function nativeShapes(): boolean {
  return process.env.WEFT_NATIVE_SHAPES !== '0';
}
