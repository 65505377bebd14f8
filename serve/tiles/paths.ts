// The hot path's URL shapes under /tiles/, parsed by hand (no regular expressions, no splitting):
//   /tiles/{region}/{layer}/{z}/{x}/{y}.mvt (or .pbf)     a tile
//   /tiles/{region}/{layer}.pmtiles                        the current prod archive
//   /tiles/{region}/{layer}-{sha256}.pmtiles               a content-addressed archive

export type TilesPath =
  | { kind: 'tile'; region: string; layer: string; z: number; x: number; y: number }
  /** a path of the tile shape whose z/x/y or extension does not parse */
  | { kind: 'bad-tile'; region: string; layer: string }
  | { kind: 'archive'; region: string; layer: string; sha256: string | undefined };

const PREFIX = '/tiles/';
const SLASH = 47;
const DOT = 46;

/** Reads a run of 1–9 decimal digits of `p` from `i` up to `stop` (exclusive); -1 when it is not one. */
function digits(p: string, i: number, stop: number): number {
  if (stop <= i || stop - i > 9) return -1;
  let n = 0;
  for (; i < stop; i++) {
    const c = p.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** The hot-path route a path names, or undefined when it is none of them (Express may still answer it). */
export function parseTilesPath(p: string): TilesPath | undefined {
  if (!p.startsWith(PREFIX)) return undefined;
  const r = p.indexOf('/', PREFIX.length);
  if (r <= PREFIX.length) return undefined;
  const region = p.slice(PREFIX.length, r);
  const l = p.indexOf('/', r + 1);
  if (l < 0) {
    if (!p.endsWith('.pmtiles')) return undefined;
    const name = p.slice(r + 1, p.length - '.pmtiles'.length);
    const dash = name.indexOf('-');
    if (dash < 0) return { kind: 'archive', region, layer: name, sha256: undefined };
    return { kind: 'archive', region, layer: name.slice(0, dash), sha256: name.slice(dash + 1) };
  }
  const layer = p.slice(r + 1, l);
  const zEnd = p.indexOf('/', l + 1);
  const xEnd = zEnd < 0 ? -1 : p.indexOf('/', zEnd + 1);
  const dot = xEnd < 0 ? -1 : p.indexOf('.', xEnd + 1);
  const bad = { kind: 'bad-tile', region, layer } as const;
  if (dot < 0 || p.charCodeAt(p.length - 4) !== DOT || dot !== p.length - 4) return bad;
  const ext = p.slice(dot + 1);
  if (ext !== 'mvt' && ext !== 'pbf') return bad;
  const z = digits(p, l + 1, zEnd);
  const x = digits(p, zEnd + 1, xEnd);
  const y = digits(p, xEnd + 1, dot);
  if (z < 0 || x < 0 || y < 0 || p.charCodeAt(xEnd) !== SLASH) return bad;
  return { kind: 'tile', region, layer, z, x, y };
}
