// Map stage (runs in worker threads): source features → profile → per zoom: tile → encode geometry → records.
// Plain Point, LineString, MultiLineString, Polygon and MultiPolygon Features of GeoJSON lines can skip the objects:
// native/geojson.c scans them and writes their records (from positions projected here).
import { isAscii } from 'node:buffer';
import { encodeGeometry } from '../mvt/encode.js';
import { zxyToTileId } from '../pmtiles/tileid.js';
import { layerNameBytes, RecordWriter, type RecordBatch } from './records.js';
import {
  checkPosition,
  GeometryError,
  projectGeometry,
  tileAtZoom,
  type TilingOptions,
} from './tile-feature.js';
import {
  nativeScanner,
  nativeShapes,
  SCAN_POINTS,
  SCAN_SHAPES,
  type PointScan,
  type PointScanner,
} from './native-points.js';
import { projectX, projectY, worldToTile } from './project.js';
import type { LayerFeature, PointProfile, Profile, ShapeProfile, SourceFeature } from './types.js';

export interface LayerStats {
  count: number;
  minzoom: number;
  maxzoom: number;
  fields: Record<string, string>;
}

export interface MapResult {
  /** sorted runs of records: the one written here, then, when features were scanned, the one written natively */
  runs: RecordBatch[];
  features: number;
  /** of which point features read by the native scanner */
  scanned: number;
  /** and line and polygon features read by the native scanner */
  scannedShapes: number;
  layers: Record<string, LayerStats>;
  /** world-coordinate bounds of what was mapped: minX, minY, maxX, maxY */
  world: [number, number, number, number];
}

export interface MapContext {
  profile: Profile;
  tiling: TilingOptions;
  minzoom: number;
  maxzoom: number;
  /** only tiles intersecting these bounds [w, s, e, n] are written (e.g. the region's bbox) */
  clip?: [number, number, number, number];
}

/** Per zoom, the inclusive tile range [x0, y0, x1, y1] of the clip bounds (all tiles without). */
function tileRanges(ctx: MapContext): Int32Array {
  const r = new Int32Array(4 * (ctx.maxzoom + 1));
  for (let z = 0; z <= ctx.maxzoom; z++) {
    const n = 2 ** z;
    if (!ctx.clip) {
      r.set([0, 0, n - 1, n - 1], 4 * z);
      continue;
    }
    const [w, s, e, north] = ctx.clip;
    const [x0, y0] = worldToTile(projectX(w), projectY(north), z);
    const [x1, y1] = worldToTile(projectX(e), projectY(s), z);
    r.set([x0, y0, x1, y1], 4 * z);
  }
  return r;
}

/**
 * Per zoom, what tileAtZoom (tile-feature.ts) derives from it and the tiling options, computed as it computes them:
 * [n, sqTol, pixel, minArea, atMax (1 or 0)] (`size` numbers each); the native shape writer takes them as they are.
 */
function zoomParams(ctx: MapContext, size: number): Float64Array {
  const opts = ctx.tiling;
  const r = new Float64Array(size * (ctx.maxzoom + 1));
  for (let z = 0; z <= ctx.maxzoom; z++) {
    const n = 2 ** z;
    const scale = n * opts.extent;
    const atMax = z >= opts.maxzoom;
    const tol = atMax ? 1 : opts.tolerance;
    const k = size * z;
    r[k] = n;
    r[k + 1] = (tol / scale) ** 2;
    r[k + 2] = opts.extent / 256 / scale;
    r[k + 3] = atMax ? 0 : (opts.extent / 256 / scale) ** 2;
    r[k + 4] = atMax ? 1 : 0;
  }
  return r;
}

/** Where a feature came from, for error messages: input name and a describer of item i (e.g. its line). */
export interface BatchOrigin {
  input: string;
  source: string;
  /** sequence number of the first feature of the batch (global input order) */
  firstSeq: number;
  position(i: number): string;
}

export class InputError extends Error {}

const typeName = (v: unknown): string =>
  typeof v === 'string' ? 'String' : typeof v === 'number' ? 'Number' : 'Boolean';

/** Maps features one at a time into records, so that parsed input dies young instead of piling up. */
export class Mapper {
  private readonly out = new RecordWriter();
  private readonly layers: Record<string, LayerStats> = {};
  private readonly world: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  private readonly ranges: Int32Array;
  features = 0;
  /** features that came through addScanned */
  scanned = 0;
  /** features that came through addScannedShape */
  scannedShapes = 0;
  /**
   * the scan whose points addScanned and whose lines and polygons addScannedShape collect; their records are
   * written natively at finish()
   */
  private scan:
    | {
        writer: PointScanner;
        points: PointProfile | undefined;
        shapes: ShapeProfile | undefined;
        result: PointScan;
        pointLayer: string;
        shapeLayer: string;
        pointList: Float64Array;
        count: number;
        shapeList: Float64Array;
        shapeCount: number;
      }
    | undefined;

  constructor(
    private readonly ctx: MapContext,
    private readonly origin: { input: string; source: string },
  ) {
    this.ranges = tileRanges(ctx);
  }

  private inRange(z: number, x: number, y: number): boolean {
    const r = this.ranges;
    const k = 4 * z;
    return x >= r[k]! && x <= r[k + 2]! && y >= r[k + 1]! && y <= r[k + 3]!;
  }

  add(feature: SourceFeature, seq: number, where: () => string): void {
    const { ctx, origin } = this;
    this.features++;
    let mapped;
    try {
      mapped = ctx.profile.map(feature, origin.source);
    } catch (err) {
      throw new InputError(`${origin.input} ${where()}: ${(err as Error).message}`);
    }
    for (const lf of mapped) {
      const zmin = Math.max(ctx.minzoom, lf.minzoom);
      const zmax = Math.min(ctx.maxzoom, lf.maxzoom);
      if (zmin > zmax) continue;
      const stats = this.stats(lf, zmin, zmax);
      this.out.feature(seq, lf.sortKey ?? 0, layerNameBytes(lf.layer), lf.id, lf.properties);
      const g0 = lf.geometry;
      if (g0 && g0.type === 'Point') {
        const p = g0.coordinates;
        this.checkPoint(p, where);
        this.addPoint(stats, p[0]!, p[1]!, zmin, zmax);
        continue;
      }
      let projected;
      try {
        projected = projectGeometry(lf.geometry);
      } catch (err) {
        if (err instanceof GeometryError) throw new InputError(`${origin.input} ${where()}: ${err.message}`);
        throw err;
      }
      if (!projected.length) continue;
      stats.count++;
      for (const g of projected) {
        this.extendWorld(g.minX, g.minY);
        this.extendWorld(g.maxX, g.maxY);
        for (let z = zmin; z <= zmax; z++) {
          tileAtZoom(g, z, ctx.tiling, (x, y, geom) => {
            if (!this.inRange(z, x, y)) return;
            const enc = encodeGeometry(geom);
            if (!enc) return;
            this.out.add(zxyToTileId(z, x, y), enc.type, enc.commands);
          });
        }
      }
    }
  }

  private checkPoint(p: number[], where: () => string): void {
    try {
      checkPosition(p);
    } catch (err) {
      throw new InputError(`${this.origin.input} ${where()}: ${(err as Error).message}`);
    }
  }

  private extendWorld(wx: number, wy: number): void {
    const w = this.world;
    if (wx < w[0]) w[0] = wx;
    if (wy < w[1]) w[1] = wy;
    if (wx > w[2]) w[2] = wx;
    if (wy > w[3]) w[3] = wy;
  }

  /** The common case, a single point, without the general clip path: the tiles whose buffered area holds it. */
  private addPoint(stats: LayerStats, lon: number, lat: number, zmin: number, zmax: number): void {
    stats.count++;
    const wx = projectX(lon);
    const wy = projectY(lat);
    this.extendWorld(wx, wy);
    const { extent, buffer } = this.ctx.tiling;
    const buf = buffer / extent;
    for (let z = zmin; z <= zmax; z++) {
      const n = 2 ** z;
      const tx = wx * n;
      const ty = wy * n;
      const x0 = Math.max(0, Math.floor(tx - buf));
      const x1 = Math.min(n - 1, Math.floor(tx + buf));
      const y0 = Math.max(0, Math.floor(ty - buf));
      const y1 = Math.min(n - 1, Math.floor(ty + buf));
      for (let x = x0; x <= x1; x++) {
        const qx = Math.round((tx - x) * extent);
        for (let y = y0; y <= y1; y++) {
          if (!this.inRange(z, x, y)) continue;
          const qy = Math.round((ty - y) * extent);
          this.out.addPoint(
            zxyToTileId(z, x, y),
            ((qx << 1) ^ (qx >> 31)) >>> 0,
            ((qy << 1) ^ (qy >> 31)) >>> 0,
          );
        }
      }
    }
  }

  private stats(lf: LayerFeature, zmin: number, zmax: number): LayerStats {
    const stats = this.layerStats(lf.layer, zmin, zmax);
    const fields = stats.fields;
    for (const k in lf.properties) {
      const t = typeName(lf.properties[k]);
      const prev = fields[k];
      if (prev !== t) fields[k] = prev === undefined ? t : 'Mixed';
    }
    return stats;
  }

  private layerStats(layer: string, zmin: number, zmax: number): LayerStats {
    let stats = this.layers[layer];
    if (!stats) this.layers[layer] = stats = { count: 0, minzoom: zmin, maxzoom: zmax, fields: {} };
    if (zmin < stats.minzoom) stats.minzoom = zmin;
    if (zmax > stats.maxzoom) stats.maxzoom = zmax;
    return stats;
  }

  /**
   * A point Feature of the scan (startScan), its properties encoded in the scan's `props[start .. end)`, mapped as
   * add() would map it through the profile's `points`: the same statistics now, and at finish() the same records,
   * written natively as a second run (no object made).
   * `fields` is its properties' [key, type, key, type, …]; `fieldsDone` says they were counted for this layer
   * already. Returns whether they are now (false when the point is outside the zooms written).
   */
  addScanned(
    seq: number,
    where: () => string,
    lon: number,
    lat: number,
    rawId: number,
    start: number,
    end: number,
    fields: string[],
    fieldsDone: boolean,
  ): boolean {
    const { ctx, scan } = this;
    if (!scan?.points) throw new Error('addScanned: no scan of points started');
    const points = scan.points;
    this.features++;
    this.scanned++;
    const zmin = Math.max(ctx.minzoom, points.minzoom(lon, lat));
    const zmax = Math.min(ctx.maxzoom, points.maxzoom);
    if (zmin > zmax) return fieldsDone;
    const stats = this.layerStats(scan.pointLayer, zmin, zmax);
    if (!fieldsDone) countFields(stats, fields);
    if (!(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90)) this.checkPoint([lon, lat], where);
    stats.count++;
    const wx = projectX(lon);
    const wy = projectY(lat);
    this.extendWorld(wx, wy);
    const size = scan.writer.POINT_SIZE;
    if ((scan.count + 1) * size > scan.pointList.length) scan.pointList = grown(scan.pointList);
    const pt = scan.pointList;
    const k = scan.count++ * size;
    pt[k] = wx;
    pt[k + 1] = wy;
    pt[k + 2] = zmin;
    pt[k + 3] = zmax;
    pt[k + 4] = seq;
    pt[k + 5] = points.id(rawId) ?? NaN;
    pt[k + 6] = start;
    pt[k + 7] = end;
    return true;
  }

  /**
   * A line or polygon Feature of the scan (startScan) of `kind` (native-points.ts), positions
   * `coords[2 * coordStart .. 2 * coordEnd)`, structure `parts[partsStart …]`, properties encoded in the scan's
   * `props[start .. end)`, mapped as add() would map it through the profile's `shapes`: the same statistics now
   * (its positions projected here, in place), and at finish() the same records, written natively. `fields` and
   * `fieldsDone` and what it returns are as in addScanned.
   */
  addScannedShape(
    seq: number,
    kind: number,
    coordStart: number,
    coordEnd: number,
    partsStart: number,
    rawId: number,
    start: number,
    end: number,
    fields: string[],
    fieldsDone: boolean,
  ): boolean {
    const { ctx, scan } = this;
    if (!scan?.shapes) throw new Error('addScannedShape: no scan of shapes started');
    const shapes = scan.shapes;
    this.features++;
    this.scannedShapes++;
    const zmin = Math.max(ctx.minzoom, shapes.minzoom);
    const zmax = Math.min(ctx.maxzoom, shapes.maxzoom);
    if (zmin > zmax) return fieldsDone;
    const stats = this.layerStats(scan.shapeLayer, zmin, zmax);
    if (!fieldsDone) countFields(stats, fields);
    stats.count++;
    // projectGeometry's projection and bounds (the scan took only positions within ±180, ±90)
    const c = scan.result.coords;
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    for (let i = 2 * coordStart, e = 2 * coordEnd; i < e; i += 2) {
      const x = projectX(c[i]!);
      const y = projectY(c[i + 1]!);
      c[i] = x;
      c[i + 1] = y;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
    this.extendWorld(minX, minY);
    this.extendWorld(maxX, maxY);
    const size = scan.writer.SHAPE_SIZE;
    if ((scan.shapeCount + 1) * size > scan.shapeList.length) scan.shapeList = grown(scan.shapeList);
    const sh = scan.shapeList;
    const k = scan.shapeCount++ * size;
    sh[k] = kind;
    sh[k + 1] = zmin;
    sh[k + 2] = zmax;
    sh[k + 3] = seq;
    sh[k + 4] = shapes.id(rawId) ?? NaN;
    sh[k + 5] = start;
    sh[k + 6] = end;
    sh[k + 7] = coordStart;
    sh[k + 8] = coordEnd;
    sh[k + 9] = partsStart;
    sh[k + 10] = minX;
    sh[k + 11] = minY;
    sh[k + 12] = maxX;
    sh[k + 13] = maxY;
    return true;
  }

  /**
   * Before addScanned and addScannedShape: the native writer of their records, the profile (its `points` for
   * addScanned, its `shapes` for addScannedShape) and the scan.
   */
  startScan(writer: PointScanner, profile: Profile, result: PointScan): void {
    const { points, shapes } = profile;
    const source = this.origin.source;
    this.scan = {
      writer,
      points,
      shapes,
      result,
      pointLayer: points ? points.layer(source) : '',
      shapeLayer: shapes ? shapes.layer(source) : '',
      pointList: new Float64Array(0),
      count: 0,
      shapeList: new Float64Array(0),
      shapeCount: 0,
    };
  }

  finish(): MapResult {
    const scan = this.scan;
    const runs = [this.out.finish()];
    if (scan && (scan.count || scan.shapeCount)) {
      const { writer } = scan;
      const points = scan.pointList.subarray(0, scan.count * writer.POINT_SIZE);
      const shapes = scan.shapeList.subarray(0, scan.shapeCount * writer.SHAPE_SIZE);
      const none = new Float64Array(0);
      if (!scan.count || !scan.shapeCount || scan.pointLayer === scan.shapeLayer) {
        runs.push(this.writeRecords(scan, points, shapes, scan.count ? scan.pointLayer : scan.shapeLayer));
      } else {
        runs.push(this.writeRecords(scan, points, none, scan.pointLayer));
        runs.push(this.writeRecords(scan, none, shapes, scan.shapeLayer));
      }
    }
    return {
      runs,
      features: this.features,
      scanned: this.scanned,
      scannedShapes: this.scannedShapes,
      layers: this.layers,
      world: this.world,
    };
  }

  private writeRecords(
    scan: NonNullable<Mapper['scan']>,
    points: Float64Array,
    shapes: Float64Array,
    layer: string,
  ): RecordBatch {
    const { writer, result } = scan;
    const { extent, buffer } = this.ctx.tiling;
    const zooms = shapes.length ? zoomParams(this.ctx, writer.ZOOM_SIZE) : new Float64Array(0);
    return writer.writeRecords(
      points,
      shapes,
      result.coords,
      result.parts,
      result.props,
      layerNameBytes(layer),
      this.ranges,
      zooms,
      extent,
      buffer,
    );
  }
}

/** Adds a signature's fields ([key, type, key, type, …]) to a layer's, as Mapper.stats does. */
function countFields(stats: LayerStats, fields: string[]): void {
  const f = stats.fields;
  for (let i = 0; i < fields.length; i += 2) {
    const k = fields[i]!;
    const t = fields[i + 1]!;
    const prev = f[k];
    if (prev !== t) f[k] = prev === undefined ? t : 'Mixed';
  }
}

/** A bigger copy of a growing list. */
function grown(list: Float64Array): Float64Array {
  const bigger = new Float64Array(Math.max(1024, list.length * 2));
  bigger.set(list);
  return bigger;
}

/** Maps a batch of already-parsed features. */
export function mapFeatures(ctx: MapContext, features: SourceFeature[], origin: BatchOrigin): MapResult {
  const m = new Mapper(ctx, origin);
  for (let i = 0; i < features.length; i++)
    m.add(features[i]!, origin.firstSeq + i, () => origin.position(i));
  return m.finish();
}

/** Parses and maps newline-delimited GeoJSON line by line. */
export function mapNdjson(
  ctx: MapContext,
  text: string,
  origin: { input: string; source: string; firstLine: number; firstSeq: number },
): MapResult {
  const m = new Mapper(ctx, origin);
  let seq = origin.firstSeq;
  forEachNdjson(text, origin.input, origin.firstLine, (f, line) => m.add(f, seq++, () => `line ${line}`));
  return m.finish();
}

/** Calls fn for every feature of newline-delimited GeoJSON (GeoJSONSeq; RS separators allowed), naming bad lines. */
export function forEachNdjson(
  text: string,
  input: string,
  firstLine: number,
  fn: (f: SourceFeature, line: number) => void,
): void {
  let start = 0;
  let line = firstLine;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    parseLine(text, start, end, input, line, fn);
    start = end + 1;
    line++;
  }
}

/** The features of one line, text[start .. end) (RS and whitespace before it skipped; a blank line has none). */
function parseLine(
  text: string,
  start: number,
  end: number,
  input: string,
  line: number,
  fn: (f: SourceFeature, line: number) => void,
): void {
  let s = start;
  while (s < end && (text.charCodeAt(s) === 0x1e || text.charCodeAt(s) <= 0x20)) s++;
  if (s === end) return;
  let obj: unknown;
  try {
    obj = JSON.parse(text.slice(s, end));
  } catch (err) {
    throw new InputError(`${input} line ${line}: invalid JSON (${(err as Error).message})`);
  }
  let features: SourceFeature[];
  try {
    features = toFeatures(obj);
  } catch (err) {
    throw new InputError(`${input} line ${line}: ${(err as Error).message}`);
  }
  for (const f of features) fn(f, line);
}

const utf8 = new TextDecoder();
const utf8KeepBom = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * UTF-8 bytes → string; ASCII (most GeoJSON) is copied byte for byte, which is several times faster than decoding.
 * A byte order mark is dropped only where the text starts (`atStart`).
 */
export function decodeText(bytes: Uint8Array, atStart = true): string {
  if (isAscii(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  return (atStart ? utf8 : utf8KeepBom).decode(bytes);
}

/**
 * Maps a chunk of newline-delimited GeoJSON given as bytes: when native/geojson.c is built and the profile maps
 * points (`profile.points`) or lines and polygons (`profile.shapes`, unless WEFT_NATIVE_SHAPES=0), plain Features
 * of those go from the native scan straight to records, and every other line is parsed here as mapNdjson parses
 * it; otherwise the whole chunk goes through mapNdjson. Either way the records, statistics and errors are the same.
 */
export function mapNdjsonBytes(
  ctx: MapContext,
  bytes: Uint8Array,
  origin: { input: string; source: string; firstLine: number; firstSeq: number },
): MapResult {
  const { points, shapes } = ctx.profile;
  const flags =
    (points ? SCAN_POINTS : 0) | (shapes && nativeShapes() && ctx.maxzoom <= 30 ? SCAN_SHAPES : 0);
  const scanner = flags ? nativeScanner() : null;
  if (!scanner) return mapNdjson(ctx, decodeText(bytes), origin);
  const scan = scanner.scanPoints(bytes, flags);
  const { items, signatures } = scan;
  const size = scanner.ITEM_SIZE;
  // per signature: whether its fields are counted in the points' layer, in the shapes' layer
  const counted = new Array<boolean>(signatures.length).fill(false);
  const countedShapes = new Array<boolean>(signatures.length).fill(false);
  const m = new Mapper(ctx, origin);
  m.startScan(scanner, ctx.profile, scan);
  let seq = origin.firstSeq;
  for (let k = 0; k < items.length; k += size) {
    const line = origin.firstLine + items[k + 1]!;
    const where = () => `line ${line}`;
    const kind = items[k]!;
    if (kind === 1) {
      const sig = items[k + 7]!;
      counted[sig] = m.addScanned(
        seq++,
        where,
        items[k + 2]!,
        items[k + 3]!,
        items[k + 4]!,
        items[k + 5]!,
        items[k + 6]!,
        signatures[sig]!,
        counted[sig]!,
      );
      continue;
    }
    if (kind !== 0) {
      const sig = items[k + 7]!;
      countedShapes[sig] = m.addScannedShape(
        seq++,
        kind,
        items[k + 2]!,
        items[k + 3]!,
        items[k + 8]!,
        items[k + 4]!,
        items[k + 5]!,
        items[k + 6]!,
        signatures[sig]!,
        countedShapes[sig]!,
      );
      continue;
    }
    // a line the scan left alone, decoded by itself as the chunk would be (a BOM dropped only at its start)
    const start = items[k + 2]!;
    const text = decodeText(bytes.subarray(start, items[k + 3]!), start === 0);
    parseLine(text, 0, text.length, origin.input, line, (f) => m.add(f, seq++, where));
  }
  return m.finish();
}

/** A GeoJSON object → features: a Feature, a FeatureCollection, or a bare geometry. Null geometries are skipped. */
export function toFeatures(obj: unknown): SourceFeature[] {
  if (!obj || typeof obj !== 'object') throw new Error('not a GeoJSON object');
  const o = obj as Record<string, unknown>;
  switch (o.type) {
    case 'Feature': {
      if (o.geometry === null) return [];
      if (!o.geometry || typeof o.geometry !== 'object') throw new Error('feature has no geometry');
      const props = o.properties;
      if (props !== null && props !== undefined && (typeof props !== 'object' || Array.isArray(props))) {
        throw new Error('feature properties must be an object');
      }
      return [
        {
          id: o.id as number | string | undefined,
          geometry: o.geometry as SourceFeature['geometry'],
          properties: (props ?? {}) as Record<string, unknown>,
        },
      ];
    }
    case 'FeatureCollection': {
      if (!Array.isArray(o.features)) throw new Error('FeatureCollection has no "features" array');
      const out: SourceFeature[] = [];
      o.features.forEach((f, i) => {
        try {
          out.push(...toFeatures(f));
        } catch (err) {
          throw new Error(`feature ${i}: ${(err as Error).message}`);
        }
      });
      return out;
    }
    case 'Point':
    case 'MultiPoint':
    case 'LineString':
    case 'MultiLineString':
    case 'Polygon':
    case 'MultiPolygon':
    case 'GeometryCollection':
      return [{ geometry: o as unknown as SourceFeature['geometry'], properties: {} }];
    default:
      throw new Error(`unsupported GeoJSON type ${JSON.stringify(o.type)}`);
  }
}
