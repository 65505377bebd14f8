// The generic profile behind `weft tile`: every input feature goes to one layer (named after its input or --layer),
// properties kept as they are (objects and arrays as JSON text), and points thinned below the base zoom like
// tippecanoe's drop rate so low zooms show an even sample instead of overflowing.
import type { PropertyValue } from '../mvt/types.js';
import type { LayerFeature, Profile, SourceFeature } from '../tiler/types.js';

export interface GeojsonProfileOptions {
  /** put every feature in this layer instead of the input's own */
  layer?: string;
  minzoom: number;
  maxzoom: number;
  /** each zoom below the base zoom keeps 1/dropRate of the points; 1 disables thinning */
  dropRate?: number;
  /** zoom from which every point is kept (default maxzoom) */
  baseZoom?: number;
}

export function createProfile(options: unknown): Profile {
  const opts = options as GeojsonProfileOptions;
  const rate = opts.dropRate ?? 2.5;
  const base = opts.baseZoom ?? opts.maxzoom;
  const logRate = Math.log(rate);
  const layer = (source: string | undefined): string => opts.layer ?? source ?? 'features';
  const id = (raw: number): number | undefined => (Number.isNaN(raw) ? undefined : featureId(raw));
  return {
    name: 'geojson',
    map(f: SourceFeature, source?: string): LayerFeature[] {
      let minzoom = opts.minzoom;
      const g = f.geometry;
      if (rate > 1 && (g.type === 'Point' || g.type === 'MultiPoint')) {
        minzoom = Math.max(minzoom, thinnedMinzoom(g.coordinates, base, logRate));
      }
      return [
        {
          layer: opts.layer ?? source ?? 'features',
          geometry: g,
          properties: flattenProperties(f.properties),
          id: featureId(f.id),
          minzoom,
          maxzoom: opts.maxzoom,
        },
      ];
    },
    // what map() gives a point, for the engine's scanned points (it must stay the same as above)
    points: {
      layer,
      minzoom: (lon, lat) =>
        rate > 1 ? Math.max(opts.minzoom, thinnedMinzoom([lon, lat], base, logRate)) : opts.minzoom,
      maxzoom: opts.maxzoom,
      id,
    },
    // and what it gives a line or polygon, for the engine's scanned shapes
    shapes: { layer, minzoom: opts.minzoom, maxzoom: opts.maxzoom, id },
  };
}

/** The lowest zoom at which a point is kept: z > base + log(u)/log(rate) for a stable pseudo-random u in (0,1]. */
export function thinnedMinzoom(coords: unknown, base: number, logRate: number): number {
  const u = (hashCoords(coords) + 1) / 4294967296;
  const z = Math.floor(base + Math.log(u) / logRate) + 1;
  return Math.min(base, Math.max(0, z));
}

function hashCoords(coords: unknown): number {
  const flat = (Array.isArray(coords) && Array.isArray(coords[0]) ? coords[0] : coords) as number[];
  let h = 0x811c9dc5;
  for (let i = 0; i < 2; i++) {
    const v = Math.round((flat[i] ?? 0) * 1e7);
    h = Math.imul(h ^ (v & 0xffff), 0x01000193);
    h = Math.imul(h ^ ((v >>> 16) & 0xffff), 0x01000193);
  }
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}

export function flattenProperties(props: Record<string, unknown>): Record<string, PropertyValue> {
  const out: Record<string, PropertyValue> = {};
  for (const k in props) {
    const v = props[k];
    if (v === null || v === undefined) continue;
    if (typeof v === 'string' || typeof v === 'boolean') out[k] = v;
    else if (typeof v === 'number') {
      if (Number.isFinite(v)) out[k] = v;
    } else out[k] = JSON.stringify(v);
  }
  return out;
}

function featureId(id: unknown): number | undefined {
  if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return id;
  if (typeof id === 'string' && /^\d{1,15}$/.test(id)) return Number(id);
  return undefined;
}
