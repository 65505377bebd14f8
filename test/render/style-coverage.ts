// Render test helper: what a style reads against what an archive holds — per style layer, the features its filter
// matches in every tile of its zoom range (MapLibre's own filter code), plus source layers, fields and kinds that
// one side has and the other lacks.
import {
  featureFilter,
  type FilterSpecification,
  type LayerSpecification,
} from '@maplibre/maplibre-gl-style-spec';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import type { PMTilesReader } from '../../pipeline/pmtiles/reader.js';
import { tileIdToZxy } from '../../pipeline/pmtiles/tileid.js';

export interface StyleLayerMatch {
  id: string;
  sourceLayer: string;
  type: string;
  /** features its filter accepts, summed over the tiles in its zoom range (each tile evaluated at its zoom) */
  matched: number;
}

export interface TileLayerContent {
  /** features summed over all tiles */
  features: number;
  /** property names seen */
  fields: string[];
  /** `kind` values with their feature counts (all tiles) */
  kinds: Record<string, number>;
}

export interface StyleCoverage {
  styleLayers: StyleLayerMatch[];
  tileLayers: Record<string, TileLayerContent>;
  /** source layers the style reads that no tile contains */
  missingSourceLayers: string[];
  /** layers in the tiles that no style layer reads */
  unreadTileLayers: string[];
  /** style layers (of source layers we do have) whose filter matches nothing in their zoom range */
  unmatchedStyleLayers: string[];
  /** per source layer: fields the style's filters and properties read that no feature of ours has */
  fieldsNotInTiles: Record<string, string[]>;
  /** per source layer: `kind` values of ours that no filter or property of its style layers mentions */
  kindsNotInStyle: Record<string, string[]>;
}

type SourceLayerSpec = Extract<LayerSpecification, { 'source-layer'?: string }>;

const LEGACY_OPS = new Set(['==', '!=', '<', '>', '<=', '>=', 'in', '!in', 'has', '!has']);

/** Every string literal inside a JSON value. */
function stringsIn(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === 'string') out.add(value);
  else if (Array.isArray(value)) for (const v of value) stringsIn(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) stringsIn(v, out);
  return out;
}

/** Feature property names an expression, a legacy filter or a `{token}` string reads. */
function fieldsRead(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    for (const m of value.matchAll(/\{([^}]+)\}/g)) out.add(m[1]!);
  } else if (Array.isArray(value)) {
    const [op, arg] = value as unknown[];
    if ((op === 'get' || op === 'has') && typeof arg === 'string' && value.length === 2) out.add(arg);
    else if (typeof op === 'string' && LEGACY_OPS.has(op) && typeof arg === 'string' && !arg.startsWith('$'))
      out.add(arg);
    for (const v of value) fieldsRead(v, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (k !== 'type' || typeof v !== 'string') fieldsRead(v, out);
  }
  return out;
}

/** Reads every tile of the archive once and evaluates every style layer of `sourceId` against it. */
export async function styleCoverage(
  layers: LayerSpecification[],
  sourceId: string,
  reader: PMTilesReader,
): Promise<StyleCoverage> {
  const styleLayers = layers.filter(
    (l): l is SourceLayerSpec & { 'source-layer': string } =>
      'source' in l && l.source === sourceId && typeof (l as SourceLayerSpec)['source-layer'] === 'string',
  );
  const filters = styleLayers.map((l) =>
    featureFilter(l.filter as FilterSpecification | undefined, 'filter'),
  );
  const matched = styleLayers.map(() => 0);
  const content = new Map<string, { features: number; fields: Set<string>; kinds: Map<string, number> }>();
  const maxZoom = reader.header.maxZoom;

  for await (const entry of reader.entries()) {
    for (let i = 0; i < entry.runLength; i++) {
      const [z, x, y] = tileIdToZxy(entry.tileId + i);
      const bytes = await reader.getTileDecompressed(z, x, y);
      if (!bytes) continue;
      const tile = new VectorTile(new PbfReader(bytes));
      for (const [name, layer] of Object.entries(tile.layers)) {
        let c = content.get(name);
        if (!c) content.set(name, (c = { features: 0, fields: new Set(), kinds: new Map() }));
        c.features += layer.length;
        for (let f = 0; f < layer.length; f++) {
          const props = layer.feature(f).properties;
          for (const k of Object.keys(props)) c.fields.add(k);
          if (typeof props.kind === 'string') c.kinds.set(props.kind, (c.kinds.get(props.kind) ?? 0) + 1);
        }
      }
      styleLayers.forEach((l, s) => {
        const layer = tile.layers[l['source-layer']];
        const min = l.minzoom ?? 0;
        const max = l.maxzoom ?? 24;
        // tiles of the archive's last zoom are overzoomed: evaluate them at the first zoom the layer shows
        const zoom = z === maxZoom ? Math.max(z, min) : z;
        if (!layer || zoom < min || zoom >= max) return;
        const { filter, needGeometry } = filters[s]!;
        for (let f = 0; f < layer.length; f++) {
          const feature = layer.feature(f);
          const candidate = {
            type: feature.type,
            id: feature.id,
            properties: feature.properties,
            ...(needGeometry ? { geometry: feature.loadGeometry() } : {}),
          };
          if (filter({ zoom }, candidate)) matched[s]!++; // no canonical tile: 'within' and 'distance' filters are not used by the style
        }
      });
    }
  }

  const tileLayers: Record<string, TileLayerContent> = {};
  for (const [name, c] of [...content].sort(([a], [b]) => a.localeCompare(b))) {
    tileLayers[name] = {
      features: c.features,
      fields: [...c.fields].sort(),
      kinds: Object.fromEntries([...c.kinds].sort((a, b) => b[1] - a[1])),
    };
  }
  const read = new Set(styleLayers.map((l) => l['source-layer']));
  const fieldsNotInTiles: Record<string, string[]> = {};
  const kindsNotInStyle: Record<string, string[]> = {};
  for (const sourceLayer of read) {
    const ofLayer = styleLayers.filter((l) => l['source-layer'] === sourceLayer);
    const parts = ofLayer.map((l) => [
      l.filter,
      'layout' in l ? l.layout : undefined,
      'paint' in l ? l.paint : undefined,
    ]);
    const have = content.get(sourceLayer);
    if (!have) continue;
    const lacking = [...fieldsRead(parts)].filter((f) => !have.fields.has(f)).sort();
    if (lacking.length) fieldsNotInTiles[sourceLayer] = lacking;
    const mentioned = stringsIn(parts);
    const unstyled = [...have.kinds.keys()].filter((k) => !mentioned.has(k)).sort();
    if (unstyled.length) kindsNotInStyle[sourceLayer] = unstyled;
  }
  return {
    styleLayers: styleLayers.map((l, s) => ({
      id: l.id,
      sourceLayer: l['source-layer'],
      type: l.type,
      matched: matched[s]!,
    })),
    tileLayers,
    missingSourceLayers: [...read].filter((n) => !content.has(n)).sort(),
    unreadTileLayers: [...content.keys()].filter((n) => !read.has(n)).sort(),
    unmatchedStyleLayers: styleLayers
      .filter((l, s) => content.has(l['source-layer']) && matched[s] === 0)
      .map((l) => l.id),
    fieldsNotInTiles,
    kindsNotInStyle,
  };
}
