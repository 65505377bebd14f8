// The native point scanner (native/geojson.c → build/native/geojson.node): plain point Features of
// newline-delimited GeoJSON, position, id and encoded properties, without a JavaScript object per feature; and the
// writer of their records.
// Optional: without it (or with WEFT_NATIVE_POINTS=0) every line is parsed by JSON.parse, with the same result.
import { loadAddon } from './native.js';
import type { RecordBatch } from './records.js';

export interface PointScan {
  /** ITEM_SIZE numbers per non-blank line; see native/geojson.c */
  items: Float64Array;
  props: Uint8Array;
  /** per signature: [key, type, key, type, …] */
  signatures: string[][];
}

export interface PointScanner {
  scanPoints(chunk: Uint8Array): PointScan;
  ITEM_SIZE: number;
  /**
   * The records of scanned points as a run sorted by tile id (see native/geojson.c): POINT_SIZE numbers per point,
   * [wx, wy, zmin, zmax, seq, id (NaN: none), propsStart, propsEnd]; ranges per zoom [x0, y0, x1, y1].
   */
  writePoints(
    points: Float64Array,
    props: Uint8Array,
    layer: Uint8Array,
    ranges: Int32Array,
    extent: number,
    buffer: number,
  ): RecordBatch;
  POINT_SIZE: number;
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
