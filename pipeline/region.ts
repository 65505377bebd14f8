// Region files (`regions/<id>.json`): their schema, validated with zod, and the loader behind `--region ID|PATH`.
//
// A region file is one JSON object:
//   id        lowercase id, letters/digits/-/_ (the output goes to dist/<id>/)
//   name      human-readable name
//   bbox      [west, south, east, north] in WGS84 degrees
//   polygon   optional GeoJSON Polygon or MultiPolygon (WGS84) to cut the extract to, inside bbox
//   minzoom   optional, default 0; maxzoom optional, default 14 (0 ≤ minzoom ≤ maxzoom ≤ 14)
//   center    optional [lon, lat, zoom]; default: the centre of bbox at max(minzoom, 12) clamped to maxzoom
//   source    { url: Geofabrik (or any http/https) download URL of an .osm.pbf,
//               sha256?: 64 hex digits, checked on every use of the file,
//               file?: the local file name to look for (default: the last segment of url) }
//   coastline optional path (relative to the region file) of the water-polygons shapefile (.zip or .shp)
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UserError } from '../core/errors.js';
import { repoRoot } from './osm/paths.js';

const lon = z.number().min(-180).max(180);
const lat = z.number().min(-85.05112878).max(85.05112878);
const position = z.tuple([lon, lat]).rest(z.number());
const ring = z.array(position).min(4, 'a ring needs at least 4 positions');

const polygonSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('Polygon'), coordinates: z.array(ring).min(1) }),
  z.object({ type: z.literal('MultiPolygon'), coordinates: z.array(z.array(ring).min(1)).min(1) }),
]);

const zoom = z.number().int('must be an integer').min(0).max(14);

export const regionSchema = z
  .object({
    id: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9_-]*$/,
        'must be lowercase letters, digits, "-" or "_", starting with a letter or digit',
      ),
    name: z.string().min(1, 'must not be empty'),
    bbox: z
      .tuple([lon, lat, lon, lat])
      .refine(
        ([w, s, e, n]) => w < e && s < n,
        'must be [west, south, east, north] with west < east and south < north',
      ),
    polygon: polygonSchema.optional(),
    minzoom: zoom.default(0),
    maxzoom: zoom.default(14),
    center: z.tuple([lon, lat, z.number().min(0).max(22)]).optional(),
    source: z
      .object({
        url: z
          .string()
          .url('must be a URL')
          .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL'),
        sha256: z
          .string()
          .regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits')
          .optional(),
        file: z
          .string()
          .regex(/^[^/\\]+$/, 'must be a plain file name (no directories)')
          .optional(),
      })
      .strict(),
    coastline: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.minzoom > r.maxzoom)
      ctx.addIssue({ code: 'custom', path: ['minzoom'], message: 'must not exceed maxzoom' });
    if (r.center) {
      const [x, y] = r.center;
      const [w, s, e, n] = r.bbox;
      if (x < w || x > e || y < s || y > n) {
        ctx.addIssue({ code: 'custom', path: ['center'], message: 'must lie inside bbox' });
      }
    }
  });

export type RegionFile = z.input<typeof regionSchema>;

export interface Region {
  id: string;
  name: string;
  bbox: [number, number, number, number];
  polygon?:
    { type: 'Polygon'; coordinates: number[][][] } | { type: 'MultiPolygon'; coordinates: number[][][][] };
  minzoom: number;
  maxzoom: number;
  center: [number, number, number];
  source: { url: string; sha256?: string; file: string };
  /** absolute path of the coastline shapefile named by the region file, if any */
  coastline?: string;
  /** absolute path of the region file this came from (undefined for parsed objects) */
  definedIn?: string;
}

/** Validates a parsed region object; `origin` names it in errors (a file path or "region"). */
export function parseRegion(value: unknown, origin = 'region'): Region {
  const result = regionSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const more = result.error.issues.length > 1 ? ` (+${result.error.issues.length - 1} more)` : '';
    const at = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      const field = [...at, issue.keys[0]].join('.');
      throw new UserError(`${origin}: field "${field}": unknown field${more}`, 'bad_region');
    }
    const field = at.length ? at.join('.') : '(top level)';
    const message = /received undefined$/.test(issue.message) ? 'is required' : issue.message;
    throw new UserError(`${origin}: field "${field}": ${message}${more}`, 'bad_region');
  }
  const r = result.data;
  const [w, s, e, n] = r.bbox;
  const centerZoom = Math.min(r.maxzoom, Math.max(r.minzoom, 12));
  const fileName = r.source.file ?? decodeURIComponent(new URL(r.source.url).pathname.split('/').pop() ?? '');
  if (!fileName)
    throw new UserError(
      `${origin}: field "source.file": required when source.url has no file name`,
      'bad_region',
    );
  return {
    id: r.id,
    name: r.name,
    bbox: [w, s, e, n],
    ...(r.polygon ? { polygon: r.polygon as Region['polygon'] } : {}),
    minzoom: r.minzoom,
    maxzoom: r.maxzoom,
    center: r.center ? [r.center[0], r.center[1], r.center[2]] : [(w + e) / 2, (s + n) / 2, centerZoom],
    source: { url: r.source.url, ...(r.source.sha256 ? { sha256: r.source.sha256 } : {}), file: fileName },
    ...(r.coastline ? { coastline: r.coastline } : {}),
  };
}

/** The folder holding the shipped region files. */
export function regionsDir(): string {
  return path.join(repoRoot(), 'regions');
}

/** Region ids shipped in `regions/`. */
export function listRegionIds(dir = regionsDir()): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** Loads `regions/<id>.json` when given an id, or the file at a path (anything with a "/" or ending in .json). */
export function loadRegion(idOrPath: string): Region {
  const isPath = idOrPath.includes('/') || idOrPath.includes(path.sep) || idOrPath.endsWith('.json');
  const file = isPath ? path.resolve(idOrPath) : path.join(regionsDir(), `${idOrPath}.json`);
  if (!existsSync(file)) {
    if (isPath) throw new UserError(`region file not found: ${file}`, 'not_found');
    const known = listRegionIds();
    throw new UserError(
      `unknown region "${idOrPath}": no ${path.relative(process.cwd(), file) || file}` +
        ` (known: ${known.length ? known.join(', ') : 'none'}; or pass a path to a region file)`,
      'not_found',
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message})`, 'bad_region');
  }
  const region = parseRegion(value, file);
  if (!isPath && region.id !== idOrPath) {
    throw new UserError(
      `${file}: field "id": is "${region.id}" but the file is named ${idOrPath}.json`,
      'bad_region',
    );
  }
  if (region.coastline) region.coastline = path.resolve(path.dirname(file), region.coastline);
  region.definedIn = file;
  return region;
}
