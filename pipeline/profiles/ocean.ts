// Ocean polygons for the Shortbread "ocean" layer: the OSM water polygons shapefile (EPSG:3857, split grid),
// cut to the region's bbox and reprojected to WGS84. The source is WEFT_COASTLINE, the region's `coastline`
// field, or `<repo>/../shared/data/coastline/water-polygons-split-3857.zip`; when none exists the layer is skipped.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LAYER_KEY } from '../osm/boundaries.js';
import { sharedDataDir } from '../osm/paths.js';
import { readShp, shapefileFromZip } from '../osm/shapefile.js';
import type { Region } from '../region.js';
import type { SourceFeature } from '../tiler/types.js';
import { clipPolygons, latFromMercator, lonFromMercator, mercatorX, mercatorY } from './geo.js';

export const OCEAN_FILE = 'water-polygons-split-3857.zip';

export interface CoastlineChoice {
  /** the file to read, when one is configured or found */
  path?: string;
  /** where the choice came from */
  from: 'WEFT_COASTLINE' | 'region' | 'shared' | 'none';
}

/** Picks the coastline source: WEFT_COASTLINE (empty = none), else the region's field, else the shared fixture. */
export function chooseCoastline(
  region: Pick<Region, 'coastline'>,
  env: NodeJS.ProcessEnv = process.env,
): CoastlineChoice {
  if (env.WEFT_COASTLINE !== undefined) {
    return env.WEFT_COASTLINE
      ? { path: path.resolve(env.WEFT_COASTLINE), from: 'WEFT_COASTLINE' }
      : { from: 'none' };
  }
  if (region.coastline) return { path: region.coastline, from: 'region' };
  const shared = sharedDataDir();
  const file = shared && path.join(shared, 'coastline', OCEAN_FILE);
  return file && existsSync(file) ? { path: file, from: 'shared' } : { from: 'none' };
}

/** A flat Web Mercator ring → WGS84 positions. */
function unproject(ring: number[]): number[][] {
  const out: number[][] = new Array(ring.length / 2);
  for (let i = 0; i < ring.length; i += 2)
    out[i / 2] = [lonFromMercator(ring[i]!), latFromMercator(ring[i + 1]!)];
  return out;
}

/**
 * Ocean features intersecting the bbox, clipped to it, in WGS84; properties `{ "@layer": "ocean" }`.
 * Reads a .zip holding a shapefile, or a .shp (with its .dbf beside it, unused).
 */
export function readOceanPolygons(
  file: string,
  bbox: readonly [number, number, number, number],
): SourceFeature[] {
  const bytes = new Uint8Array(readFileSync(file));
  const shp = /\.zip$/i.test(file) ? shapefileFromZip(bytes, file).shp : bytes;
  const box = [mercatorX(bbox[0]), mercatorY(bbox[1]), mercatorX(bbox[2]), mercatorY(bbox[3])] as const;
  const out: SourceFeature[] = [];
  for (const record of readShp(shp, box, file)) {
    const clipped = clipPolygons(record.polygons, box);
    if (clipped.length === 0) continue;
    const coordinates = clipped.map((rings) => rings.map(unproject));
    out.push({
      geometry:
        coordinates.length === 1
          ? { type: 'Polygon', coordinates: coordinates[0]! }
          : { type: 'MultiPolygon', coordinates },
      properties: { [LAYER_KEY]: 'ocean' },
    });
  }
  return out;
}

/** The region's ocean features, or [] with a logged note when no coastline source is available. */
export function readRegionOcean(
  region: Pick<Region, 'bbox' | 'coastline' | 'id'>,
  opts: { coastline?: string | null; log?: (line: string) => void } = {},
): SourceFeature[] {
  const log = opts.log ?? (() => {});
  const choice: CoastlineChoice =
    opts.coastline === null
      ? { from: 'none' }
      : opts.coastline !== undefined
        ? { path: opts.coastline, from: 'WEFT_COASTLINE' }
        : chooseCoastline(region);
  if (!choice.path) {
    log(
      `ocean: no coastline water polygons configured (WEFT_COASTLINE or the region's "coastline"); layer skipped`,
    );
    return [];
  }
  if (!existsSync(choice.path)) {
    log(`ocean: coastline file ${choice.path} (from ${choice.from}) is absent; layer skipped`);
    return [];
  }
  const features = readOceanPolygons(choice.path, region.bbox);
  log(`ocean: ${features.length} water polygon${features.length === 1 ? '' : 's'} from ${choice.path}`);
  return features;
}
