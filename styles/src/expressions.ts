// Small builders for MapLibre style expressions, so the styles read as design decisions rather than JSON.
import type { ExpressionSpecification } from '@maplibre/maplibre-gl-style-spec';

export type Expr = ExpressionSpecification;
/** [zoom, value] anchors of a piecewise-linear function of zoom */
export type Stops = readonly (readonly [number, number])[];

export const get = (field: string): Expr => ['get', field];

/** true when the feature's `kind` is one of `kinds` */
export const kindIn = (...kinds: string[]): Expr => ['in', ['get', 'kind'], ['literal', kinds]];

/** true when boolean `field` is true (absent counts as false) */
export const isTrue = (field: string): Expr => ['==', ['get', field], true];

/** A value interpolated linearly over zoom; a stop's value may itself depend on the feature. */
export function byZoom(stops: readonly (readonly [number, number | Expr])[]): Expr {
  return ['interpolate', ['linear'], ['zoom'], ...stops.flat()] as unknown as Expr;
}

/** A number interpolated exponentially over zoom (line widths: doubling per zoom level looks right at base ~1.5). */
export function byZoomExp(base: number, stops: readonly (readonly [number, unknown])[]): Expr {
  return ['interpolate', ['exponential', base], ['zoom'], ...stops.flat()] as unknown as Expr;
}

/** The value of a piecewise-linear function at zoom z (held flat outside its anchors). */
export function at(stops: Stops, z: number): number {
  const first = stops[0]!;
  const last = stops[stops.length - 1]!;
  if (z <= first[0]) return first[1];
  if (z >= last[0]) return last[1];
  for (let i = 1; i < stops.length; i++) {
    const [z1, v1] = stops[i]!;
    const [z0, v0] = stops[i - 1]!;
    if (z <= z1) return Math.round((v0 + ((v1 - v0) * (z - z0)) / (z1 - z0)) * 100) / 100;
  }
  return last[1];
}

/**
 * A `match` on `kind`: each entry maps a list of kinds to a value; `fallback` for the rest. Entries whose value
 * equals the fallback are left out.
 */
export function matchKind<T>(entries: readonly (readonly [readonly string[], T])[], fallback: T): Expr {
  const out: unknown[] = ['match', ['get', 'kind']];
  for (const [kinds, value] of entries) {
    if (value === fallback) continue;
    out.push(kinds.length === 1 ? kinds[0] : [...kinds], value);
  }
  if (out.length === 2) return fallback as unknown as Expr;
  out.push(fallback);
  return out as unknown as Expr;
}
