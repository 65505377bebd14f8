// One feature through the per-zoom tiling steps: project (once), simplify at the zoom's tolerance, drop what is
// below a pixel, clip to every covering tile with a buffer, quantise to tile coordinates.
import type { Flat, TileGeometry } from '../mvt/types.js';
import { computeImportance, ringArea } from './simplify.js';
import { projectX, projectY } from './project.js';
import { clipLine, clipPoints, clipRing, type Axis } from './clip.js';
import type { Position, SourceGeometry } from './types.js';

/** A geometry projected to world coordinates [0,1]²; parts are flat triples x, y, importance. */
export interface ProjectedGeometry {
  type: 1 | 2 | 3;
  parts: number[][];
  /** polygons only: the number of rings of each polygon (its first ring is the exterior) */
  polygonRings: number[];
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export interface TilingOptions {
  extent: number;
  /** buffer around each tile, in tile units */
  buffer: number;
  /** simplification tolerance in tile units below the maximum zoom */
  tolerance: number;
  /** the archive's maximum zoom: full detail there, no tiny-feature dropping */
  maxzoom: number;
}

export const DEFAULT_TILING: TilingOptions = { extent: 4096, buffer: 64, tolerance: 4, maxzoom: 14 };

export class GeometryError extends Error {}

export function checkPosition(p: Position): void {
  if (!Array.isArray(p) || p.length < 2) throw new GeometryError('a position must be an array [lon, lat]');
  const lon = p[0];
  const lat = p[1];
  if (typeof lon !== 'number' || typeof lat !== 'number' || !Number.isFinite(lon) || !Number.isFinite(lat)) {
    throw new GeometryError(`position is not numeric: ${JSON.stringify(p).slice(0, 60)}`);
  }
  if (lon < -180 || lon > 180 || lat < -90 || lat > 90) {
    throw new GeometryError(
      `coordinate out of range: [${lon}, ${lat}] (longitude −180…180, latitude −90…90)`,
    );
  }
}

function projectPath(coords: Position[], closed: boolean): number[] {
  const out: number[] = new Array(coords.length * 3);
  let k = 0;
  for (let i = 0; i < coords.length; i++) {
    const p = coords[i]!;
    checkPosition(p);
    out[k++] = projectX(p[0]!);
    out[k++] = projectY(p[1]!);
    out[k++] = 0;
  }
  out.length = k;
  if (closed && k >= 3 && (out[0] !== out[k - 3] || out[1] !== out[k - 2])) out.push(out[0]!, out[1]!, 0);
  if (k >= 6) computeImportance(out, 0, out.length / 3 - 1);
  else if (k === 3) out[2] = 1;
  return out;
}

/** Projects a GeoJSON geometry; a GeometryCollection gives one result per geometry type it contains. */
export function projectGeometry(geom: SourceGeometry): ProjectedGeometry[] {
  if (!geom || typeof geom !== 'object') throw new GeometryError('missing geometry');
  const points: number[][] = [];
  const lines: number[][] = [];
  const rings: number[][] = [];
  const polygonRings: number[] = [];
  const addPolygon = (poly: Position[][]): void => {
    if (!Array.isArray(poly)) throw new GeometryError('a polygon must be an array of rings');
    for (const ring of poly) {
      if (!Array.isArray(ring)) throw new GeometryError('a ring must be an array of positions');
    }
    polygonRings.push(poly.length);
    for (const ring of poly) rings.push(projectPath(ring, true));
  };
  const visit = (g: SourceGeometry): void => {
    switch (g.type) {
      case 'Point':
        points.push(projectPath([g.coordinates], false));
        break;
      case 'MultiPoint':
        points.push(projectPath(g.coordinates, false));
        break;
      case 'LineString':
        lines.push(projectPath(g.coordinates, false));
        break;
      case 'MultiLineString':
        for (const l of g.coordinates) lines.push(projectPath(l, false));
        break;
      case 'Polygon':
        addPolygon(g.coordinates);
        break;
      case 'MultiPolygon':
        for (const p of g.coordinates) addPolygon(p);
        break;
      case 'GeometryCollection':
        for (const c of g.geometries) visit(c);
        break;
      default:
        throw new GeometryError(`unknown geometry type "${String((g as { type?: unknown }).type)}"`);
    }
  };
  try {
    visit(geom);
  } catch (err) {
    if (err instanceof GeometryError) throw err;
    throw new GeometryError(`malformed ${geom.type} coordinates`);
  }
  const out: ProjectedGeometry[] = [];
  if (points.length) out.push(withBounds(1, [points.flat()], []));
  if (lines.length) out.push(withBounds(2, lines, []));
  if (rings.length) out.push(withBounds(3, rings, polygonRings));
  return out;
}

function withBounds(type: 1 | 2 | 3, parts: number[][], polygonRings: number[]): ProjectedGeometry {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const part of parts) {
    for (let i = 0; i < part.length; i += 3) {
      const x = part[i]!;
      const y = part[i + 1]!;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
  }
  return { type, parts, polygonRings, minX, minY, maxX, maxY };
}

/** Simplified pairs of the geometry at squared tolerance `sqTol`; polygons grouped as [polygon][ring]. */
function simplify(g: ProjectedGeometry, sqTol: number, minArea: number): number[][][] | null {
  if (g.type === 1) {
    const src = g.parts[0]!;
    const pts: number[] = [];
    for (let i = 0; i < src.length; i += 3) pts.push(src[i]!, src[i + 1]!);
    return [[pts]];
  }
  if (g.type === 2) {
    const lines: number[][] = [];
    for (const part of g.parts) {
      const l = filterPath(part, sqTol);
      if (l.length >= 4) lines.push(l);
    }
    return lines.length ? [lines] : null;
  }
  const polygons: number[][][] = [];
  let r = 0;
  for (const count of g.polygonRings) {
    const rings: number[][] = [];
    for (let i = 0; i < count; i++, r++) {
      const part = g.parts[r]!;
      // a whole ring smaller than the tolerance (or the tiny-area cut) disappears
      if (minArea > 0 && Math.abs(ringArea(part)) < minArea) {
        if (i === 0) {
          r += count - i;
          break;
        }
        continue;
      }
      const ring = filterPath(part, sqTol);
      if (ring.length < 8) {
        if (i === 0) {
          r += count - i;
          break;
        }
        continue;
      }
      rings.push(ring);
    }
    if (rings.length) polygons.push(rings);
  }
  return polygons.length ? polygons : null;
}

function filterPath(part: number[], sqTol: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < part.length; i += 3) {
    if (part[i + 2]! > sqTol) out.push(part[i]!, part[i + 1]!);
  }
  return out;
}

function clipGroups(type: 1 | 2 | 3, groups: number[][][], k1: number, k2: number, axis: Axis): number[][][] {
  if (type === 1) {
    const pts = clipPoints(groups[0]![0]!, k1, k2, axis);
    return pts.length ? [[pts]] : [];
  }
  if (type === 2) {
    const out: number[][] = [];
    for (const line of groups[0]!) clipLine(line, k1, k2, axis, out);
    return out.length ? [out] : [];
  }
  const polys: number[][][] = [];
  for (const poly of groups) {
    const exterior = clipRing(poly[0]!, k1, k2, axis);
    if (!exterior) continue;
    const rings = [exterior];
    for (let i = 1; i < poly.length; i++) {
      const hole = clipRing(poly[i]!, k1, k2, axis);
      if (hole) rings.push(hole);
    }
    polys.push(rings);
  }
  return polys;
}

function quantise(
  type: 1 | 2 | 3,
  groups: number[][][],
  n: number,
  x: number,
  y: number,
  extent: number,
): TileGeometry {
  const q = (part: number[], closed: boolean): Flat => {
    const len = closed ? part.length - 2 : part.length;
    const out: Flat = new Array(len);
    for (let i = 0; i < len; i += 2) {
      out[i] = Math.round((part[i]! * n - x) * extent);
      out[i + 1] = Math.round((part[i + 1]! * n - y) * extent);
    }
    return out;
  };
  if (type === 1) return { type: 'Point', points: q(groups[0]![0]!, false) };
  if (type === 2) return { type: 'LineString', lines: groups[0]!.map((l) => q(l, false)) };
  return { type: 'Polygon', polygons: groups.map((poly) => poly.map((r) => q(r, true))) };
}

/**
 * Tiles a projected geometry at zoom z: calls emit(x, y, geometry) for every tile it touches (after simplification,
 * tiny-feature dropping and clipping with the buffer). Returns the number of tiles emitted.
 */
export function tileAtZoom(
  g: ProjectedGeometry,
  z: number,
  opts: TilingOptions,
  emit: (x: number, y: number, geom: TileGeometry) => void,
): number {
  const n = 2 ** z;
  const scale = n * opts.extent; // world units → tile units at this zoom
  const atMax = z >= opts.maxzoom;
  const tol = atMax ? 1 : opts.tolerance;
  const sqTol = (tol / scale) ** 2;
  // below the maximum zoom, drop lines and polygons smaller than one pixel (a 256-px tile: extent/256 units)
  if (!atMax && g.type !== 1) {
    const pixel = opts.extent / 256 / scale;
    if (g.maxX - g.minX < pixel && g.maxY - g.minY < pixel) return 0;
  }
  const minArea = atMax ? 0 : (opts.extent / 256 / scale) ** 2;
  const groups = simplify(g, sqTol, g.type === 3 ? minArea : 0);
  if (!groups) return 0;

  const buf = opts.buffer / opts.extent; // in tile widths
  const clampT = (v: number): number => (v < 0 ? 0 : v > n - 1 ? n - 1 : v);
  const x0 = clampT(Math.floor((g.minX - buf / n) * n));
  const x1 = clampT(Math.floor((g.maxX + buf / n) * n));
  const y0 = clampT(Math.floor((g.minY - buf / n) * n));
  const y1 = clampT(Math.floor((g.maxY + buf / n) * n));
  if (x0 === x1 && y0 === y1) {
    emit(x0, y0, quantise(g.type, groups, n, x0, y0, opts.extent));
    return 1;
  }
  // split the covered tile range in halves, clipping as we go: each vertex is clipped O(log tiles) times
  let emitted = 0;
  const split = (parts: number[][][], ax: number, ay: number, bx: number, by: number): void => {
    if (ax === bx && ay === by) {
      emit(ax, ay, quantise(g.type, parts, n, ax, ay, opts.extent));
      emitted++;
      return;
    }
    if (bx - ax >= by - ay) {
      const mid = (ax + bx + 1) >> 1;
      const left = clipGroups(g.type, parts, (ax - buf) / n, (mid + buf) / n, 0);
      if (left.length) split(left, ax, ay, mid - 1, by);
      const right = clipGroups(g.type, parts, (mid - buf) / n, (bx + 1 + buf) / n, 0);
      if (right.length) split(right, mid, ay, bx, by);
    } else {
      const mid = (ay + by + 1) >> 1;
      const top = clipGroups(g.type, parts, (ay - buf) / n, (mid + buf) / n, 1);
      if (top.length) split(top, ax, ay, bx, mid - 1);
      const bottom = clipGroups(g.type, parts, (mid - buf) / n, (by + 1 + buf) / n, 1);
      if (bottom.length) split(bottom, ax, mid, bx, by);
    }
  };
  // the outermost clip trims what lies beyond the covered range (e.g. past the grid's edges)
  const outer = clipGroups(g.type, groups, (x0 - buf) / n, (x1 + 1 + buf) / n, 0);
  if (outer.length) {
    const both = clipGroups(g.type, outer, (y0 - buf) / n, (y1 + 1 + buf) / n, 1);
    if (both.length) split(both, x0, y0, x1, y1);
  }
  return emitted;
}
