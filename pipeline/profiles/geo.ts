// Pure geometry for profiles: Web Mercator (EPSG:3857) projection, areas and lengths, label points, box clipping.
import type { Position, SourceGeometry } from '../tiler/types.js';

export const EARTH_RADIUS = 6378137;
/** Web Mercator circumference at the equator, in metres (2πR) */
export const CIRCUMFERENCE = 2 * Math.PI * EARTH_RADIUS;
const DEG = Math.PI / 180;
const MAX_LAT = 85.0511287798066;

export function mercatorX(lon: number): number {
  return EARTH_RADIUS * lon * DEG;
}

export function mercatorY(lat: number): number {
  const l = lat > MAX_LAT ? MAX_LAT : lat < -MAX_LAT ? -MAX_LAT : lat;
  return EARTH_RADIUS * Math.log(Math.tan(Math.PI / 4 + (l * DEG) / 2));
}

export function lonFromMercator(x: number): number {
  return x / EARTH_RADIUS / DEG;
}

export function latFromMercator(y: number): number {
  return (2 * Math.atan(Math.exp(y / EARTH_RADIUS)) - Math.PI / 2) / DEG;
}

/** Unsigned area of one ring in Web Mercator square metres. */
function ringMercatorArea(ring: Position[]): number {
  let sum = 0;
  const n = ring.length;
  if (n < 3) return 0;
  let px = mercatorX(ring[n - 1]![0]!);
  let py = mercatorY(ring[n - 1]![1]!);
  for (let i = 0; i < n; i++) {
    const x = mercatorX(ring[i]![0]!);
    const y = mercatorY(ring[i]![1]!);
    sum += (px - x) * (py + y);
    px = x;
    py = y;
  }
  return Math.abs(sum / 2);
}

/** Area in Web Mercator square metres of a polygonal geometry (outer rings minus holes); 0 for others. */
export function mercatorArea(g: SourceGeometry): number {
  if (g.type === 'Polygon') return polygonArea(g.coordinates);
  if (g.type === 'MultiPolygon') {
    let a = 0;
    for (const p of g.coordinates) a += polygonArea(p);
    return a;
  }
  return 0;
}

function polygonArea(rings: Position[][]): number {
  let a = 0;
  for (let i = 0; i < rings.length; i++) a += (i === 0 ? 1 : -1) * ringMercatorArea(rings[i]!);
  return Math.max(0, a);
}

/** Length in Web Mercator metres of a lineal geometry; 0 for others. */
export function mercatorLength(g: SourceGeometry): number {
  const line = (coords: Position[]): number => {
    let len = 0;
    for (let i = 1; i < coords.length; i++) {
      const dx = mercatorX(coords[i]![0]!) - mercatorX(coords[i - 1]![0]!);
      const dy = mercatorY(coords[i]![1]!) - mercatorY(coords[i - 1]![1]!);
      len += Math.sqrt(dx * dx + dy * dy);
    }
    return len;
  };
  if (g.type === 'LineString') return line(g.coordinates);
  if (g.type === 'MultiLineString') return g.coordinates.reduce((s, c) => s + line(c), 0);
  return 0;
}

/**
 * The lowest zoom at which an area covers `minPixels` square pixels (256-pixel tiles), as Shortbread's reference
 * implementation computes it: floor(log2(minPixels·C² / (2^16·area)) / 2).
 */
export function zoomForArea(areaM2: number, minPixels: number): number {
  if (!(areaM2 > 0)) return Infinity;
  return Math.floor(Math.log2((minPixels * CIRCUMFERENCE * CIRCUMFERENCE) / (65536 * areaM2)) / 2);
}

/** The lowest zoom at which a line is `minPixels` pixels long (256-pixel tiles). */
export function zoomForLength(lengthM: number, minPixels: number): number {
  if (!(lengthM > 0)) return Infinity;
  return Math.floor(Math.log2((CIRCUMFERENCE * minPixels) / (256 * lengthM)));
}

function pointInPolygon(x: number, y: number, rings: Position[][]): boolean {
  let inside = false;
  for (const ring of rings) {
    for (let i = 0, n = ring.length, j = n - 1; i < n; j = i++) {
      const xi = ring[i]![0]!;
      const yi = ring[i]![1]!;
      const xj = ring[j]![0]!;
      const yj = ring[j]![1]!;
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
  }
  return inside;
}

/**
 * A label point inside a polygon: the centroid of its largest part when that lies inside, else the middle of
 * the widest inside stretch of the horizontal line through the centroid (a cheap point-on-surface).
 */
export function labelPoint(g: SourceGeometry): Position | undefined {
  let rings: Position[][] | undefined;
  if (g.type === 'Polygon') rings = g.coordinates;
  else if (g.type === 'MultiPolygon') {
    let best = -1;
    for (const p of g.coordinates) {
      const a = p[0] ? ringMercatorArea(p[0]) : 0;
      if (a > best) {
        best = a;
        rings = p;
      }
    }
  } else if (g.type === 'Point') return g.coordinates;
  if (!rings || !rings[0] || rings[0].length < 3) return undefined;
  const outer = rings[0];
  // centroid of the outer ring (planar, in degrees: fine for label placement)
  let a = 0;
  let cx = 0;
  let cy = 0;
  const x0 = outer[0]![0]!;
  const y0 = outer[0]![1]!;
  for (let i = 0, n = outer.length, j = n - 1; i < n; j = i++) {
    const xi = outer[i]![0]! - x0;
    const yi = outer[i]![1]! - y0;
    const xj = outer[j]![0]! - x0;
    const yj = outer[j]![1]! - y0;
    const f = xj * yi - xi * yj;
    a += f;
    cx += (xj + xi) * f;
    cy += (yj + yi) * f;
  }
  if (a === 0) return [x0, y0];
  cx = cx / (3 * a) + x0;
  cy = cy / (3 * a) + y0;
  if (pointInPolygon(cx, cy, rings)) return [cx, cy];
  // scanline through cy: crossings of all rings, sorted; inside stretches are [x0,x1], [x2,x3], …
  const xs: number[] = [];
  for (const ring of rings) {
    for (let i = 0, n = ring.length, j = n - 1; i < n; j = i++) {
      const yi = ring[i]![1]!;
      const yj = ring[j]![1]!;
      if (yi > cy !== yj > cy) {
        const xi = ring[i]![0]!;
        const xj = ring[j]![0]!;
        xs.push(xi + ((cy - yi) * (xj - xi)) / (yj - yi));
      }
    }
  }
  xs.sort((p, q) => p - q);
  let bestWidth = -1;
  let bx = outer[0]![0]!;
  for (let i = 0; i + 1 < xs.length; i += 2) {
    const w = xs[i + 1]! - xs[i]!;
    if (w > bestWidth) {
      bestWidth = w;
      bx = (xs[i]! + xs[i + 1]!) / 2;
    }
  }
  return bestWidth >= 0 ? [bx, cy] : [outer[0]![0]!, outer[0]![1]!];
}

/**
 * Clips a ring of flat coordinates (x0, y0, x1, y1, …; closed or not) to an axis-aligned box
 * (Sutherland–Hodgman); returns a closed ring of flat coordinates, or undefined when nothing is left.
 */
export function clipRing(
  ring: ArrayLike<number>,
  box: readonly [number, number, number, number],
): number[] | undefined {
  let n = ring.length;
  if (n >= 4 && ring[0] === ring[n - 2] && ring[1] === ring[n - 1]) n -= 2; // drop the closing point
  let pts: ArrayLike<number> = ring;
  let len = n;
  for (let edge = 0; edge < 4; edge++) {
    if (len < 6) return undefined;
    const axis = edge < 2 ? 0 : 1;
    const value = box[edge === 0 ? 0 : edge === 1 ? 2 : edge === 2 ? 1 : 3];
    const keepGreater = edge === 0 || edge === 2;
    const out: number[] = [];
    let px = pts[len - 2]!;
    let py = pts[len - 1]!;
    let pv = axis === 0 ? px : py;
    let prevIn = keepGreater ? pv >= value : pv <= value;
    for (let i = 0; i < len; i += 2) {
      const cx = pts[i]!;
      const cy = pts[i + 1]!;
      const cv = axis === 0 ? cx : cy;
      const curIn = keepGreater ? cv >= value : cv <= value;
      if (curIn !== prevIn) {
        const t = (value - pv) / (cv - pv);
        if (axis === 0) out.push(value, py + t * (cy - py));
        else out.push(px + t * (cx - px), value);
      }
      if (curIn) out.push(cx, cy);
      px = cx;
      py = cy;
      pv = cv;
      prevIn = curIn;
    }
    pts = out;
    len = out.length;
  }
  if (len < 6) return undefined;
  let area = 0;
  for (let i = 0, j = len - 2; i < len; j = i, i += 2)
    area += (pts[j]! - pts[i]!) * (pts[j + 1]! + pts[i + 1]!);
  if (area === 0) return undefined;
  const closed = pts as number[];
  closed.push(closed[0]!, closed[1]!);
  return closed;
}

/** Clips polygons ([outer, ...holes], flat rings) to a box; drops polygons whose outer ring vanishes. */
export function clipPolygons(
  polygons: ArrayLike<number>[][],
  box: readonly [number, number, number, number],
): number[][][] {
  const out: number[][][] = [];
  for (const rings of polygons) {
    const outer = rings[0] && clipRing(rings[0], box);
    if (!outer) continue;
    const clipped = [outer];
    for (let i = 1; i < rings.length; i++) {
      const hole = clipRing(rings[i]!, box);
      if (hole) clipped.push(hole);
    }
    out.push(clipped);
  }
  return out;
}
