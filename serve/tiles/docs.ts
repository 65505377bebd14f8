// The JSON documents about what is served: TileJSON 3.0.0 for one prod archive, and the region list with each
// region's prod release — pure functions of the release, the archive's header and metadata, and the public URL.
import type { Header } from '../../pipeline/pmtiles/header.js';
import type { Region } from '../../pipeline/region.js';
import type { ReleaseLayer } from '../../pipeline/releases/manifest.js';
import type { ProdArchive, ProdRelease } from '../releases.js';

export const OSM_ATTRIBUTION = '© OpenStreetMap contributors';

/** URLs of one region's layer, relative to the server's public base. */
export const urls = {
  archive: (region: string, layer: string) => `/tiles/${region}/${layer}.pmtiles`,
  immutable: (a: ProdArchive) => `/tiles/${a.region}/${a.layer}-${a.sha256}.pmtiles`,
  tilejson: (region: string, layer: string) => `/tiles/${region}/${layer}.json`,
  tiles: (region: string, layer: string) => `/tiles/${region}/${layer}/{z}/{x}/{y}.mvt`,
};

interface VectorLayer {
  id: string;
  fields: Record<string, string>;
  [k: string]: unknown;
}

function vectorLayers(metadata: Record<string, unknown>): VectorLayer[] {
  const v = metadata.vector_layers;
  if (!Array.isArray(v)) return [];
  return v
    .filter((l): l is Record<string, unknown> => !!l && typeof l === 'object' && typeof l.id === 'string')
    .map((l) => ({ ...l, id: l.id as string, fields: (l.fields as Record<string, string>) ?? {} }));
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v : undefined;
}

/** The attribution to show: the archive's own; base archives always credit OpenStreetMap. */
export function attributionOf(layer: ReleaseLayer, metadata: Record<string, unknown>): string {
  const own = text(metadata.attribution);
  if (layer !== 'base') return own ?? '';
  if (!own) return OSM_ATTRIBUTION;
  return own.includes('OpenStreetMap') ? own : `${own}; ${OSM_ATTRIBUTION}`;
}

export interface TileJsonInput {
  base: string;
  region: Region;
  layer: ReleaseLayer;
  release: ProdRelease;
  header: Header;
  metadata: unknown;
}

/** TileJSON 3.0.0 for a region's prod archive of one layer. */
export function tileJson(i: TileJsonInput): Record<string, unknown> {
  const md = (i.metadata && typeof i.metadata === 'object' ? i.metadata : {}) as Record<string, unknown>;
  const h = i.header;
  const archive = i.release.archives[i.layer]!;
  return {
    tilejson: '3.0.0',
    name: text(md.name) ?? `${i.region.name} ${i.layer}`,
    ...(text(md.description) ? { description: md.description } : {}),
    version: '1.0.0',
    attribution: attributionOf(i.layer, md),
    scheme: 'xyz',
    tiles: [i.base + urls.tiles(i.region.id, i.layer)],
    vector_layers: vectorLayers(md),
    minzoom: h.minZoom,
    maxzoom: h.maxZoom,
    bounds: [h.minLon, h.minLat, h.maxLon, h.maxLat],
    center: [h.centerLon, h.centerLat, h.centerZoom],
    // Not TileJSON: where the same tiles are as one archive, and which release they belong to.
    pmtiles: i.base + urls.immutable(archive),
    release: i.release.id,
  };
}

/** One region's entry in GET /regions. */
export function regionEntry(
  base: string,
  region: Region,
  release: ProdRelease | undefined,
): Record<string, unknown> {
  return {
    id: region.id,
    name: region.name,
    bbox: region.bbox,
    center: region.center,
    minzoom: region.minzoom,
    maxzoom: region.maxzoom,
    release: release
      ? {
          id: release.id,
          at: release.manifest.at,
          eventPosition: release.manifest.eventPosition,
          archives: Object.fromEntries(
            Object.values(release.archives).map((a) => [
              a.layer,
              {
                sha256: a.sha256,
                size: a.size,
                url: base + urls.immutable(a),
                latest: base + urls.archive(region.id, a.layer),
                tilejson: base + urls.tilejson(region.id, a.layer),
                tiles: base + urls.tiles(region.id, a.layer),
              },
            ]),
          ),
        }
      : null,
  };
}
