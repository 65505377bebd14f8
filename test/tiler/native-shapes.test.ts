// The native scanner's lines and polygons (native/geojson.c: LineString, MultiLineString, Polygon, MultiPolygon
// Features, their records simplified, clipped, quantised and encoded in C) against the JavaScript map stage they
// short-cut: for varied newline-delimited GeoJSON (shapes of every size and place, degenerate ones, holes, multi
// geometries, every kind of property and id, several engine and profile settings, random shapes and damaged lines)
// the map stage gives the same records, statistics and errors with the scanner as without it.
import { afterEach, describe, expect, it } from 'vitest';
import { createProfile } from '../../pipeline/profiles/geojson.js';
import { mapNdjsonBytes, type MapContext } from '../../pipeline/tiler/map-stage.js';
import {
  nativeScanner,
  nativeScannerError,
  SCAN_POINTS,
  SCAN_SHAPES,
} from '../../pipeline/tiler/native-points.js';
import { DEFAULT_TILING, type TilingOptions } from '../../pipeline/tiler/tile-feature.js';
import type { Profile } from '../../pipeline/tiler/types.js';
import { projectX, projectY } from '../../pipeline/tiler/project.js';
import { ringArea } from '../../pipeline/tiler/simplify.js';
import { random } from '../helpers/random.js';
import { mergeRuns } from '../helpers/runs.js';

const encoder = new TextEncoder();

function context(
  options: Record<string, unknown> = {},
  engine: Partial<MapContext> = {},
  tiling: Partial<TilingOptions> = {},
): MapContext {
  const maxzoom = (options.maxzoom as number | undefined) ?? 14;
  return {
    profile: createProfile({ minzoom: 0, maxzoom, ...options }),
    tiling: { ...DEFAULT_TILING, maxzoom, ...tiling },
    minzoom: 0,
    maxzoom,
    ...engine,
  };
}

const origin = { input: 'test.geojsonl', source: 'test', firstLine: 3, firstSeq: 1000 };

interface Outcome {
  error?: string;
  result?: { stats: unknown; tileIds: number[]; records: string[] };
  scanned: number;
  scannedShapes: number;
}

function run(ctx: MapContext, bytes: Uint8Array, env: Record<string, string>): Outcome {
  for (const [k, v] of Object.entries(env)) process.env[k] = v;
  try {
    const { runs, scanned, scannedShapes, ...r } = mapNdjsonBytes(ctx, bytes, origin);
    return { result: { stats: r, ...mergeRuns(runs) }, scanned, scannedShapes };
  } catch (err) {
    return { error: (err as Error).message, scanned: 0, scannedShapes: 0 };
  } finally {
    for (const k of Object.keys(env)) delete process.env[k];
  }
}

/** The map stage's outcome with the scanner, without it (WEFT_NATIVE_POINTS=0), and with points only. */
function both(text: string | Uint8Array, ctx = context()) {
  const bytes = typeof text === 'string' ? encoder.encode(text) : text;
  const native = run(ctx, bytes, {});
  const js = run(ctx, bytes, { WEFT_NATIVE_POINTS: '0' });
  const pointsOnly = run(ctx, bytes, { WEFT_NATIVE_SHAPES: '0' });
  return { native, js, pointsOnly };
}

/** The first record where two outcomes differ (small enough for a readable failure), or undefined. */
function firstDifference(a: Outcome, b: Outcome): unknown {
  const ra = a.result!;
  const rb = b.result!;
  const n = Math.max(ra.records.length, rb.records.length);
  for (let i = 0; i < n; i++)
    if (ra.tileIds[i] !== rb.tileIds[i] || ra.records[i] !== rb.records[i])
      return {
        record: i,
        of: [ra.records.length, rb.records.length],
        tileId: [ra.tileIds[i], rb.tileIds[i]],
        bytes: [ra.records[i], rb.records[i]],
      };
  return undefined;
}

/** Asserts the outcomes agree: the same error, or the same statistics and records. */
function expectSame(a: Outcome, b: Outcome, label = ''): void {
  expect(a.error, label).toEqual(b.error);
  if (b.error) return;
  expect(a.result!.stats, label).toEqual(b.result!.stats);
  expect(firstDifference(a, b), label).toBeUndefined();
}

/** Asserts the three ways agree (records, statistics, error) and returns how many shapes went native. */
function same(text: string | Uint8Array, ctx = context(), label = ''): number {
  const { native, js, pointsOnly } = both(text, ctx);
  expectSame(native, js, label);
  expectSame(pointsOnly, js, label);
  expect(pointsOnly.scannedShapes).toBe(0);
  expect(js.scannedShapes + js.scanned).toBe(0);
  return native.scannedShapes;
}

// ---- input ---------------------------------------------------------------------------------------------------------

type Pos = number[];

const feature = (geometry: string, props = '{}', extra = '') =>
  `{"type":"Feature"${extra},"geometry":${geometry},"properties":${props}}`;
const g = (type: string, coords: unknown) => `{"type":"${type}","coordinates":${text(coords)}}`;
/** Coordinates as JSON text: numbers as they are (shortest round trip) */
const text = (coords: unknown): string => JSON.stringify(coords);

const clampLon = (v: number) => Math.max(-180, Math.min(180, v));
const clampLat = (v: number) => Math.max(-90, Math.min(90, v));

/** A random walk of n positions from (lon, lat), steps up to `step` degrees; some repeated, some collinear. */
function walk(rnd: () => number, lon: number, lat: number, n: number, step: number): Pos[] {
  const out: Pos[] = [[clampLon(lon), clampLat(lat)]];
  let heading = rnd() * 2 * Math.PI;
  for (let i = 1; i < n; i++) {
    const r = rnd();
    if (r < 0.05) out.push([...out[i - 1]!]);
    else {
      if (r > 0.2) heading += (rnd() - 0.5) * 1.5;
      const d = step * (0.2 + rnd());
      out.push([
        clampLon(out[i - 1]![0]! + Math.cos(heading) * d),
        clampLat(out[i - 1]![1]! + Math.sin(heading) * d),
      ]);
    }
  }
  return out;
}

/** A ring around (lon, lat): n jittered vertices, closed (or not), either orientation. */
function ring(rnd: () => number, lon: number, lat: number, n: number, r: number, closed = true): Pos[] {
  const out: Pos[] = [];
  const dir = rnd() < 0.5 ? 1 : -1;
  for (let i = 0; i < n; i++) {
    const a = (dir * i * 2 * Math.PI) / n;
    const rr = r * (0.6 + 0.4 * rnd());
    out.push([clampLon(lon + Math.cos(a) * rr), clampLat(lat + Math.sin(a) * rr * 0.7)]);
  }
  if (closed && n) out.push([...out[0]!]);
  return out;
}

/** Rounds coordinates to d decimals (the way real data comes), keeping them in range. */
const round = (ps: Pos[], d: number): Pos[] => ps.map((p) => p.map((v) => Number(v.toFixed(d))));

/** A random shape of about `size` degrees near (lon, lat): any of the four types, holes, repeats, 3D positions. */
function randomShape(rnd: () => number, lon: number, lat: number, size: number): string {
  const d = Math.floor(rnd() * 10);
  const n = () => 1 + Math.floor(rnd() ** 2 * 60);
  const line = () =>
    round(walk(rnd, lon + (rnd() - 0.5) * size, lat + (rnd() - 0.5) * size, 1 + n(), size / 5), d);
  const poly = () => {
    const cx = lon + (rnd() - 0.5) * size;
    const cy = lat + (rnd() - 0.5) * size;
    const rings = [round(ring(rnd, cx, cy, 3 + n(), size, rnd() < 0.9), d)];
    for (let h = rnd() < 0.3 ? Math.floor(rnd() * 3) + 1 : 0; h > 0; h--)
      rings.push(round(ring(rnd, cx + (rnd() - 0.5) * size * 0.5, cy, 3 + n(), size * 0.3 * rnd()), d));
    return rings;
  };
  const third = (ps: unknown): unknown =>
    Array.isArray(ps) && typeof ps[0] === 'number'
      ? [...ps, Math.round(rnd() * 100)]
      : (ps as unknown[]).map(third);
  const r = rnd();
  let geometry: string;
  if (r < 0.3) geometry = g('LineString', line());
  else if (r < 0.45) geometry = g('MultiLineString', Array.from({ length: 1 + Math.floor(rnd() * 4) }, line));
  else if (r < 0.8) geometry = g('Polygon', poly());
  else geometry = g('MultiPolygon', Array.from({ length: 1 + Math.floor(rnd() * 3) }, poly));
  if (rnd() < 0.05)
    geometry = geometry.replace(
      /"coordinates":(.*)}$/,
      (_, c) => `"coordinates":${text(third(JSON.parse(c)))}}`,
    );
  return geometry;
}

/** Property values of every kind the scanner encodes itself, as JSON text. */
const VALUES = [
  '"plain"',
  '""',
  '"caf\\u00e9 \\"quoted\\" back\\\\slash \\/ \\b\\f\\n\\r\\t"',
  '"😀 \\ud83d\\ude00 Zürich 東京"',
  '0',
  '-0',
  '1',
  '128',
  '-1',
  '-4503599627370497',
  '9007199254740992',
  '1e21',
  '0.5',
  '0.1',
  '3.4028234663852886e38',
  '123456789.125',
  'true',
  'false',
  'null',
];
const KEYS = ['kind', 'name', 'rank', 'größe', 'k\\u00e9y', 'x'];
const IDS = [
  '',
  ',"id":7',
  ',"id":"42"',
  ',"id":"0042"',
  ',"id":"abc"',
  ',"id":-3',
  ',"id":1.5',
  ',"id":1e300',
];

function randomProps(rnd: () => number): string {
  if (rnd() < 0.1) return 'null';
  const used = new Set<string>();
  const members: string[] = [];
  for (let j = Math.floor(rnd() * 5); j > 0; j--) {
    const k = KEYS[Math.floor(rnd() * KEYS.length)]!;
    if (used.has(k)) continue;
    used.add(k);
    members.push(`"${k}":${VALUES[Math.floor(rnd() * VALUES.length)]!}`);
  }
  return `{${members.join(',')}}`;
}

/** A Feature line with random properties, id and member order. */
function randomFeature(rnd: () => number, geometry: string): string {
  const props = randomProps(rnd);
  const id = IDS[Math.floor(rnd() * IDS.length)]!;
  const r = rnd();
  if (r < 0.1) {
    // members in another order, the geometry's too, and whitespace
    const swapped = geometry.replace(/^\{("type":"\w+"),("coordinates":.*)\}$/, '{ $2 , $1 }');
    return ` {"properties":${props}${id},"geometry":${swapped},"type":"Feature","bbox":[1,2,3,4]}\r`;
  }
  return feature(geometry, props, id);
}

/** Varied shapes at `size` degrees over the world, or around (lon, lat). */
function shapes(seed: string, count: number, size: number, at?: [number, number]): string[] {
  const rnd = random(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const lon = at ? at[0] + (rnd() - 0.5) * size * 4 : rnd() * 360 - 180;
    const lat = at ? at[1] + (rnd() - 0.5) * size * 4 : rnd() * 170 - 85;
    out.push(randomFeature(rnd, randomShape(rnd, lon, lat, size)));
  }
  return out;
}

/** Longitude of world x (exact for the dyadic x used here). */
const lonOf = (x: number) => (x - 0.5) * 360;

/** A latitude whose projection is exactly world y (bisection over the doubles projectY maps near it). */
function latOf(y: number): number {
  let lo = -85.0511287798066;
  let hi = 85.0511287798066; // projectY decreases
  for (let i = 0; i < 2000 && lo < hi; i++) {
    const mid = (lo + hi) / 2;
    const m = projectY(mid);
    if (m === y) return mid;
    if (mid === lo || mid === hi) break;
    if (m > y) lo = mid;
    else hi = mid;
  }
  throw new Error(`no latitude projects to ${y}`);
}

/**
 * A square polygon at `lon` (on the equator) whose side is exactly a pixel at zoom z - 1 (extent 4096) and whose
 * area is exactly the tiny-area cut there: kept, not cut (the cut takes smaller ones).
 */
function exactAreaSquare(z: number, lon: number): string {
  const side = 2 ** -(8 + z - 1);
  const x = lon / 360 + 0.5;
  const lat = latOf(0.5 - side);
  const ring: Pos[] = [
    [lon, 0],
    [lonOf(x + side), 0],
    [lonOf(x + side), lat],
    [lon, lat],
    [lon, 0],
  ];
  const projected = ring.flatMap(([a, b]) => [projectX(a!), projectY(b!), 0]);
  expect(Math.abs(ringArea(projected))).toBe((4096 / 256 / (2 ** (z - 1) * 4096)) ** 2);
  return feature(g('Polygon', [ring]));
}

/**
 * Shapes on the tile grid: vertices exactly on tile edges and on the edges of the buffered clip strips (64/4096 of
 * a tile either side) at several zooms, at half quantisation units (where Math.round's rule shows), segments along
 * the edges; and small ones at the antimeridian, the poles and the Mercator limit.
 */
function gridShapes(maxzoom = 14): string[] {
  const out: string[] = [];
  // about half a tile at the highest zoom
  const dl = 180 / 2 ** maxzoom;
  for (const z of [1, 3, 6, 10, 14]) {
    const n = 2 ** z;
    const tile = (k: number) => lonOf(k / n);
    const a = Math.floor(n / 2 + n / 7);
    const edge = tile(a);
    const strip = tile(a - 64 / 4096);
    const stripR = tile(a + 64 / 4096);
    const half = (j: number) => lonOf((a + (j + 0.5) / 4096) / n);
    const lat = 10 / (z + 1);
    // lines that touch a strip's edge from outside and come back (each touch ends a piece there)
    const zigzag = (x: number, out: number) =>
      feature(
        g(
          'LineString',
          [0, 1, 2, 3, 4, 5].map((i) => [i % 2 ? x + out : x, lat + (i * dl) / 4]),
        ),
      );
    out.push(
      zigzag(edge, -dl / 2),
      zigzag(edge, dl / 2),
      zigzag(strip, -dl / 2),
      zigzag(stripR, dl / 2),
      exactAreaSquare(z, edge),
      feature(
        g('LineString', [
          [edge - dl, lat],
          [edge, lat],
          [edge + dl, lat + dl],
        ]),
      ),
      feature(
        g('LineString', [
          [edge, lat - dl],
          [edge, lat + dl],
        ]),
      ),
      feature(
        g('LineString', [
          [strip, lat - dl],
          [strip, lat],
          [stripR, lat],
          [stripR, lat + dl],
          [strip, lat + dl],
        ]),
      ),
      feature(
        g('LineString', [
          [half(-3), 0],
          [half(-1), 0.0001],
          [half(0), 0],
          [half(2), 0.0001],
          [half(-130), 0],
        ]),
      ),
      feature(
        g('Polygon', [
          [
            [edge, lat],
            [edge + dl, lat],
            [edge + dl, lat + dl],
            [edge, lat + dl],
            [edge, lat],
          ],
        ]),
      ),
      feature(
        g('Polygon', [
          [
            [strip, lat],
            [stripR, lat],
            [stripR, lat + dl],
            [strip, lat + dl],
            [strip, lat],
          ],
        ]),
      ),
      feature(
        g('Polygon', [
          [
            [half(-5), 0],
            [half(5), 0],
            [half(5), dl / 2],
            [half(-5), dl / 2],
            [half(-5), 0],
          ],
          [
            [half(-2), dl / 8],
            [half(-2), dl / 4],
            [half(2), dl / 4],
            [half(2), dl / 8],
            [half(-2), dl / 8],
          ],
        ]),
      ),
    );
  }
  const e = 0.001;
  out.push(
    feature(
      g('LineString', [
        [179.99, 10],
        [180, 10.0005],
        [180, 10.001],
        [179.999, 10.002],
      ]),
    ),
    feature(
      g('LineString', [
        [-180, -85.0511287798066],
        [-180 + e, -85.06],
        [-180 + 2 * e, -90],
        [-180 + 3 * e, -85.05112877980659],
      ]),
    ),
    feature(
      g('LineString', [
        [180 - e, 90],
        [180, 90],
        [180, 89.9999],
      ]),
    ),
    feature(
      g('Polygon', [
        [
          [180 - e, 85],
          [180, 85],
          [180, 90],
          [180 - e, 90],
          [180 - e, 85],
        ],
      ]),
    ),
    feature(
      g('Polygon', [
        [
          [-180, 0],
          [-180 + e, 0],
          [-180 + e, e],
          [-180, e],
          [-180, 0],
        ],
      ]),
    ),
    feature(
      g('Polygon', [
        [
          [-180, -90],
          [-180 + e, -90],
          [-180 + e, -89.999],
          [-180, -90],
        ],
      ]),
    ),
    feature(
      g('MultiPolygon', [
        [
          [
            [180 - e, -e],
            [180, -e],
            [180, e],
            [180 - e, -e],
          ],
        ],
        [
          [
            [-180, -e],
            [-180 + e, e],
            [-180, e],
            [-180, -e],
          ],
        ],
      ]),
    ),
  );
  return out;
}

/**
 * Degenerate and special shapes, `s` degrees to a unit (a power of two keeps dyadic longitudes exact): single
 * points, repeats, zero-length and zero-area parts, collinear runs, unclosed rings, holes outside and bigger than
 * their exterior, equal-distance vertices (ties in Douglas–Peucker).
 */
function oddShapes(s: number, at: [number, number] = [7.375, 43.75]): string[] {
  const [x0, y0] = at;
  const P = (x: number, y: number): Pos => [x0 + x * s, y0 + y * s];
  const p = P(0, 0);
  const q = P(0.01, 0);
  const sq = (x: number, y: number, w: number, cw = true) =>
    cw
      ? [P(x, y), P(x + w, y), P(x + w, y + w), P(x, y + w), P(x, y)]
      : [P(x, y), P(x, y + w), P(x + w, y + w), P(x + w, y), P(x, y)];
  return [
    feature(g('LineString', [p])),
    feature(g('LineString', [p, p])),
    feature(g('LineString', [p, p, p, q, q])),
    feature(g('LineString', [P(0, 0), P(1, 0), P(2, 0), P(3, 0), P(1.5, 0)])),
    feature(g('LineString', [P(1e-7, 1e-7), P(2e-7, 1e-7), P(3e-7, 2e-7)])),
    feature(g('MultiLineString', [[p], [p, P(0.01, 0.01)], [P(1, 1), P(1, 1)]])),
    feature(g('Polygon', [[p]])),
    feature(g('Polygon', [[p, p]])),
    feature(g('Polygon', [[p, q, P(0, 0.01)]])),
    feature(g('Polygon', [[p, p, p, p]])),
    feature(g('Polygon', [[P(0, 0), P(1, 0), P(2, 0), P(0, 0)]])),
    feature(g('Polygon', [[P(0, 0), P(1, 1), P(2, 2), P(1, 1), P(0, 0)]])),
    feature(g('Polygon', [sq(0, 0, 1), sq(0.25, 0.25, 0.5, false), sq(5, 5, 1), sq(-1, -1, 3)])),
    feature(g('Polygon', [sq(10, 10, 1, false), sq(10.4, 10.4, 0.0001)])),
    feature(
      g('MultiPolygon', [[sq(0, 0, 1)], [[p]], [sq(20, 20, 0.00001)], [sq(2, 2, 1), sq(2.1, 2.1, 0.2)]]),
    ),
    // W shapes whose two peaks lie exactly as far from the baseline (dyadic longitudes, one latitude)
    feature(g('LineString', [P(0, 0), P(22.5, 10), P(45, 0), P(67.5, 10), P(90, 0)])),
    feature(
      g('LineString', [
        P(0, 0),
        P(11.25, 1),
        P(22.5, 0.001),
        P(33.75, 1),
        P(45, 0),
        P(56.25, 0.5),
        P(67.5, 0),
      ]),
    ),
    feature(g('Polygon', [[P(0, 0), P(22.5, 10), P(45, 0), P(67.5, 10), P(90, 0), P(45, -20), P(0, 0)]])),
    feature(g('LineString', [P(0, 0), P(1.40625, 0.25), P(2.8125, 0), P(4.21875, 0.25), P(5.625, 0)])),
  ];
}

/** Shapes across the whole world, for low zooms: the antimeridian, the poles, the Mercator limit. */
function worldShapes(): string[] {
  return [
    feature(
      g('LineString', [
        [-180, 0],
        [180, 0],
      ]),
    ),
    feature(
      g('LineString', [
        [180, -90],
        [180, 90],
        [-180, 90],
        [-180, -90],
      ]),
    ),
    feature(
      g('LineString', [
        [-180, -85.0511287798066],
        [-170, -86],
        [-160, -90],
        [-150, -85.05112877980659],
      ]),
    ),
    feature(
      g('Polygon', [
        [
          [-180, -90],
          [180, -90],
          [180, 90],
          [-180, 90],
          [-180, -90],
        ],
      ]),
    ),
    feature(
      g('Polygon', [
        [
          [170, 80],
          [180, 80],
          [180, 90],
          [170, 90],
          [170, 80],
        ],
      ]),
    ),
    feature(
      g('Polygon', [
        [
          [-180, 0],
          [-179, 0],
          [-179, 1],
          [-180, 1],
          [-180, 0],
        ],
      ]),
    ),
    feature(
      g('MultiPolygon', [
        [
          [
            [179, -1],
            [180, -1],
            [180, 1],
            [179, -1],
          ],
        ],
        [
          [
            [-180, -1],
            [-179, 1],
            [-180, 1],
            [-180, -1],
          ],
        ],
      ]),
    ),
    ...oddShapes(1, [0, 0]),
  ];
}

// ---- tests -----------------------------------------------------------------------------------------------------

describe('the native scanner on lines and polygons', () => {
  afterEach(() => {
    delete process.env.WEFT_NATIVE_POINTS;
    delete process.env.WEFT_NATIVE_SHAPES;
  });

  it('is built and takes the four shape types only when asked', () => {
    expect(nativeScannerError()).toBe('');
    const lines = [
      feature(g('Point', [1, 2])),
      feature(
        g('LineString', [
          [1, 2],
          [3, 4],
        ]),
      ),
      feature(
        g('MultiLineString', [
          [
            [1, 2],
            [3, 4],
          ],
          [[5, 6]],
        ]),
      ),
      feature(
        g('Polygon', [
          [
            [1, 2],
            [3, 4],
            [5, 2],
            [1, 2],
          ],
        ]),
      ),
      feature(
        g('MultiPolygon', [
          [
            [
              [1, 2],
              [3, 4],
              [5, 2],
              [1, 2],
            ],
          ],
        ]),
      ),
      feature(g('MultiPoint', [[1, 2]])),
    ];
    const scanner = nativeScanner()!;
    const kinds = (flags?: number) => {
      const { items } = scanner.scanPoints(encoder.encode(lines.join('\n')), flags);
      return Array.from({ length: lines.length }, (_, i) => items[i * scanner.ITEM_SIZE]);
    };
    expect(kinds()).toEqual([1, 0, 0, 0, 0, 0]);
    expect(kinds(SCAN_POINTS)).toEqual([1, 0, 0, 0, 0, 0]);
    expect(kinds(SCAN_SHAPES)).toEqual([0, 2, 3, 4, 5, 0]);
    expect(kinds(SCAN_POINTS | SCAN_SHAPES)).toEqual([1, 2, 3, 4, 5, 0]);
    const { coords, parts, items } = scanner.scanPoints(encoder.encode(lines.join('\n')), SCAN_SHAPES);
    expect([...coords]).toEqual([
      1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 2, 1, 2, 1, 2, 3, 4, 5, 2, 1, 2,
    ]);
    expect([...parts]).toEqual([2, 2, 2, 1, 1, 4, 1, 1, 4]);
    const at = (i: number, k: number) => items[i * scanner.ITEM_SIZE + k];
    expect([at(1, 2), at(1, 3), at(1, 8)]).toEqual([0, 2, 0]);
    expect([at(4, 2), at(4, 3), at(4, 8)]).toEqual([9, 13, 6]);
  });

  it('gives the same records and statistics as JSON.parse for varied shapes', () => {
    const lines = [
      ...shapes('small', 1500, 0.01),
      ...shapes('town', 500, 0.002, [7.42, 43.73]),
      ...shapes('tiny', 300, 0.00001),
      ...oddShapes(2 ** -10),
    ];
    // with points, blank lines, record separators and lines for JavaScript in between
    const text = lines
      .map((l, i) =>
        i % 97 === 0
          ? `\n${l}`
          : i % 89 === 0
            ? `\u001e${l}`
            : i % 41 === 0
              ? `${feature(g('Point', [i / 100, 1]), '{"a":1}')}\n${l}`
              : i % 43 === 0
                ? `${feature(g('MultiPoint', [[i / 100, 1]]))}\n${l}`
                : l,
      )
      .join('\n');
    expect(same(text)).toBe(lines.length);
  });

  it('gives the same records on the tile grid: edges, buffers, half units, antimeridian and poles', () => {
    const lines = [...gridShapes(), ...oddShapes(2 ** -10)];
    expect(same(lines.join('\n'))).toBe(lines.length);
    for (const [tiling, label] of [
      [{ buffer: 0 }, 'no buffer'],
      [{ extent: 512, buffer: 8 }, 'extent 512'],
      [{ extent: 8192, buffer: 128, tolerance: 1 }, 'extent 8192'],
    ] as const)
      expect(same(lines.join('\n'), context({}, {}, tiling), label)).toBe(lines.length);
  });

  it('gives the same records for shapes spanning many tiles, at lower zooms', () => {
    const lines = [
      ...shapes('large', 300, 30),
      ...shapes('huge', 40, 200),
      ...worldShapes(),
      ...gridShapes(6),
    ];
    expect(same(lines.join('\n'), context({ maxzoom: 6 }))).toBe(lines.length);
    const medium = [...shapes('medium', 300, 1), ...shapes('edge', 100, 2, [180, 0])];
    expect(same(medium.join('\n'), context({ maxzoom: 10 }))).toBe(medium.length);
  });

  it('follows the engine and the profile: clip bounds, zooms, tiling, layer', () => {
    const lines = [...shapes('engine', 400, 0.05, [10, 50]), ...oddShapes(2 ** -10), ...gridShapes()];
    const text = lines.join('\n');
    const cases: [string, MapContext][] = [
      ['clip', context({}, { clip: [9, 49, 11, 51] })],
      ['clip on tile edges', context({}, { clip: [0, 0, 22.5, 40.97989806962013] })],
      ['zooms 3-9', context({ maxzoom: 9 }, { minzoom: 3 })],
      ['profile minzoom above the engine range', context({ minzoom: 12, maxzoom: 14 }, { maxzoom: 11 })],
      ['tiling maxzoom below the engine maxzoom', context({ maxzoom: 12 }, {}, { maxzoom: 8 })],
      ['tolerance 0', context({ maxzoom: 10 }, {}, { tolerance: 0 })],
      ['tolerance 16, buffer 256', context({ maxzoom: 10 }, {}, { tolerance: 16, buffer: 256 })],
      ['layer', context({ layer: 'shapes', maxzoom: 8 })],
    ];
    for (const [label, ctx] of cases) {
      const n = same(text, ctx, label);
      if (label !== 'profile minzoom above the engine range') expect(n, label).toBe(lines.length);
    }
  });

  it('writes a separate run when points and shapes go to different layers', () => {
    const base = context({ maxzoom: 10 });
    const generic = base.profile;
    const profile: Profile = {
      ...generic,
      map: (f, source) =>
        generic.map(f, source).map((lf) => ({ ...lf, layer: lf.geometry.type === 'Point' ? 'pts' : 'shp' })),
      points: { ...generic.points!, layer: () => 'pts' },
      shapes: { ...generic.shapes!, layer: () => 'shp' },
    };
    const rnd = random('layers');
    const lines = shapes('layers', 200, 0.05, [10, 50]).flatMap((l) => [
      l,
      feature(g('Point', [10 + rnd(), 50 + rnd()]), randomProps(rnd)),
    ]);
    const ctx = { ...base, profile };
    expect(same(lines.join('\n'), ctx)).toBe(200);
    expect(mapNdjsonBytes(ctx, encoder.encode(lines.join('\n')), origin).runs).toHaveLength(3);
    // a profile without `shapes` leaves them to JavaScript
    const { shapes: _, ...pointsOnly } = generic;
    expect(same(lines.join('\n'), { ...base, profile: pointsOnly })).toBe(0);
  });

  it('counts every kind of property and id as JavaScript does', () => {
    const rnd = random('props');
    const lines: string[] = [];
    for (let i = 0; i < 600; i++) {
      const geometry = g(
        i % 2 ? 'LineString' : 'Polygon',
        i % 2
          ? [
              [i / 100, 1],
              [i / 100 + 0.01, 1.01],
            ]
          : [
              [
                [i / 100, 1],
                [i / 100 + 0.01, 1],
                [i / 100, 1.01],
                [i / 100, 1],
              ],
            ],
      );
      lines.push(randomFeature(rnd, geometry));
      if (i % 5 === 0) lines.push(feature(g('Point', [i / 100, 2]), randomProps(rnd), IDS[i % IDS.length]));
    }
    expect(same(lines.join('\n'))).toBe(600);
  });

  it('leaves what it does not reproduce to JavaScript, with the same errors and line numbers', () => {
    const line = feature(
      g('LineString', [
        [1, 2],
        [3, 4],
      ]),
    );
    const left = [
      feature(g('LineString', [])),
      feature(g('LineString', [[]])),
      feature(g('MultiLineString', [])),
      feature(
        g('MultiLineString', [
          [
            [1, 2],
            [3, 4],
          ],
          [],
        ]),
      ),
      feature(g('Polygon', [])),
      feature(g('Polygon', [[]])),
      feature(g('MultiPolygon', [[]])),
      feature(
        g('LineString', [
          [1, 2],
          [3, 4, '5'],
        ]),
      ),
      feature(
        g('LineString', [
          [1, 2],
          [3, '4'],
        ]),
      ),
      feature(g('LineString', [[1, 2], [3]])),
      feature(g('LineString', [[1, 2], 3])),
      feature(g('LineString', [[1, 2], [[3, 4]]])),
      feature(
        g('Polygon', [
          [1, 2],
          [3, 4],
        ]),
      ),
      feature(
        g('MultiPolygon', [
          [
            [1, 2],
            [3, 4],
          ],
        ]),
      ),
      feature(g('Point', [[1, 2]])),
      '{"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]],"bbox":[1,2,3,4]},"properties":{}}',
      '{"type":"Feature","geometry":{"type":"GeometryCollection","geometries":[' +
        g('LineString', [
          [1, 2],
          [3, 4],
        ]) +
        ']},"properties":{}}',
      feature(
        g('LineString', [
          [1, 2],
          [3, 4],
        ]),
        '{"nested":{"a":1}}',
      ),
      feature(
        g('Polygon', [
          [
            [1, 2],
            [3, 4],
            [1, 2],
          ],
        ]),
        '{"list":[1]}',
      ),
      '{"type":"FeatureCollection","features":[' + line + ',' + line + ']}',
      g('LineString', [
        [1, 2],
        [3, 4],
      ]),
      '{"type":"Feature","geometry":{"coordinates":[[1,2],[3,4]],"type":"Polygon"},"properties":{}}',
    ];
    const scanner = nativeScanner()!;
    for (const l of left) {
      const { items } = scanner.scanPoints(encoder.encode(l), SCAN_POINTS | SCAN_SHAPES);
      expect(items[0], l).toBe(0);
      // mapped (or refused) by JavaScript, as without the scanner
      const { native, js } = both([line, l, line].join('\n'));
      expectSame(native, js, l);
      expect(native.scannedShapes, l).toBe(js.error ? 0 : 2);
    }
    // out-of-zoom features with bad coordinates raise nothing in JavaScript: the same here
    const bad = feature(
      g('LineString', [
        [1, 2],
        [300, 4],
      ]),
    );
    expect(same([line, bad].join('\n'), context({ minzoom: 15, maxzoom: 16 }, { maxzoom: 14 }))).toBe(1);
    const errors = [
      feature(
        g('LineString', [
          [1, 2],
          [180.5, 4],
        ]),
      ),
      feature(
        g('LineString', [
          [1, 2],
          [-180.0000001, 4],
        ]),
      ),
      feature(
        g('Polygon', [
          [
            [1, 2],
            [3, 90.5],
            [1, 3],
            [1, 2],
          ],
        ]),
      ),
      feature(
        g('MultiPolygon', [
          [
            [
              [1, 2],
              [3, 4],
              [1, -91],
              [1, 2],
            ],
          ],
        ]),
      ),
      '{"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,1e999]]},"properties":{}}',
      feature(
        g('LineString', [
          [1, 2],
          [3, 4],
        ]),
        '{"a":01}',
      ),
      feature(
        g('LineString', [
          [1, 2],
          [3, 4],
        ]),
      ) + ' trailing',
      feature(
        g('LineString', [
          [1, 2],
          ['3', 4],
        ]),
      ),
      feature(g('MultiLineString', [[[1, 2]], 5])),
      '{"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]},"properties":[1]}',
    ];
    for (const e of errors) {
      const { native, js } = both([line, line, e, line].join('\n'));
      expect(js.error, e).toMatch(/^test\.geojsonl line 5: /);
      expect(native.error, e).toBe(js.error);
    }
  });

  it('keeps to JavaScript on a few thousand random shapes of every size', () => {
    const rnd = random('fuzz shapes');
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const size = 10 ** (-6 + rnd() * 5);
      lines.push(randomFeature(rnd, randomShape(rnd, rnd() * 360 - 180, rnd() * 180 - 90, size)));
    }
    expect(same(lines.join('\n'))).toBe(lines.length);
    const big: string[] = [];
    for (let i = 0; i < 500; i++) {
      const size = 10 ** (-2 + rnd() * 4);
      big.push(randomFeature(rnd, randomShape(rnd, rnd() * 360 - 180, rnd() * 180 - 90, size)));
    }
    expect(same(big.join('\n'), context({ maxzoom: 7 }, {}, { buffer: 128 }))).toBe(big.length);
  });

  it('survives damaged lines: takes only what JSON.parse reads as the same shape, leaves the rest', () => {
    const rnd = random('damage');
    const base = [...shapes('damage base', 300, 0.01), ...oddShapes(2 ** -10)];
    const scanner = nativeScanner()!;
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const types = ['', 'Point', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon'];
    let taken = 0;
    const all: Uint8Array[] = [];
    for (let group = 0; group < 300; group++) {
      const lines: Uint8Array[] = [];
      for (let i = 0; i < 50; i++) {
        const b = encoder.encode(base[Math.floor(rnd() * base.length)]!);
        const damaged = b.slice(0, rnd() < 0.3 ? Math.floor(rnd() * b.length) : b.length);
        for (let k = Math.floor(rnd() * 4); k > 0; k--)
          damaged[Math.floor(rnd() * damaged.length)] =
            rnd() < 0.5 ? Math.floor(rnd() * 256) : '[]{},-0.e"'.charCodeAt(Math.floor(rnd() * 10));
        lines.push(damaged.filter((c) => c !== 10));
      }
      all.push(...lines);
      const chunk = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
      const { items, coords, parts } = scanner.scanPoints(chunk, SCAN_POINTS | SCAN_SHAPES);
      for (let k = 0; k < items.length; k += scanner.ITEM_SIZE) {
        const kind = items[k]!;
        if (kind < 2) continue;
        taken++;
        const f = JSON.parse(decoder.decode(lines[items[k + 1]!]!)) as {
          type: string;
          geometry: { type: string; coordinates: unknown };
        };
        expect([f.type, f.geometry.type]).toEqual(['Feature', types[kind]]);
        // the positions and the structure as the scan gives them
        const flat: number[] = [];
        const counts: number[] = [];
        const visit = (c: unknown, depth: number) => {
          const a = c as unknown[];
          if (depth === 0) return void flat.push(a[0] as number, a[1] as number);
          counts.push(a.length);
          for (const e of a) visit(e, depth - 1);
        };
        const depth = { LineString: 1, MultiLineString: 2, Polygon: 2, MultiPolygon: 3 }[f.geometry.type]!;
        visit(f.geometry.coordinates, depth);
        expect([...coords.subarray(2 * items[k + 2]!, 2 * items[k + 3]!)]).toEqual(flat);
        expect([...parts.subarray(items[k + 8]!, items[k + 8]! + counts.length)]).toEqual(counts);
      }
    }
    expect(taken).toBeGreaterThan(2000); // undamaged and harmlessly damaged lines are still taken
    // and mapping them gives what JavaScript gives (its error on the first bad line, if any)
    for (let i = 0; i < all.length; i += 500) {
      const chunk = Buffer.concat(all.slice(i, i + 500).flatMap((l) => [l, Buffer.from('\n')]));
      const { native, js } = both(chunk);
      expectSame(native, js);
    }
  });
});
