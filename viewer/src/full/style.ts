// Pure transformations of the server's MapLibre style for the full viewer: which source is base and which activity,
// nodes addressable by their `id` (promoteId, for feature state), layers left out on request, the live GeoJSON
// sources and layers that deltas feed, and the offline form whose sources point into an opened pack.
import type { LayerName } from '../boot/params.js';

// A small structural view of the style spec (the viewer does not need the full types here).
export interface StyleSource {
  type: string;
  url?: string;
  tiles?: string[];
  promoteId?: string | Record<string, string>;
  attribution?: string;
  [key: string]: unknown;
}
export interface StyleLayer {
  id: string;
  type: string;
  source?: string;
  'source-layer'?: string;
  layout?: Record<string, unknown>;
  paint?: Record<string, unknown>;
  filter?: unknown;
  [key: string]: unknown;
}
export interface Style {
  version: number;
  sources: Record<string, StyleSource>;
  layers: StyleLayer[];
  glyphs?: string;
  sprite?: unknown;
  [key: string]: unknown;
}

export const LIVE = {
  nodes: 'weft-live-nodes',
  threads: 'weft-live-threads',
  presence: 'weft-presence',
} as const;

export const LIVE_COLOURS = { node: '#b0124f', edge: '#ffffff', proposal: '#e08a00', presence: '#1b4f8a' };

/** 'base', 'activity' or undefined for a style source, from its id and URLs. */
export function sourceKind(id: string, source: StyleSource): 'base' | 'activity' | undefined {
  if (source.type !== 'vector') return undefined;
  const text = [id, source.url ?? '', ...(source.tiles ?? [])].join(' ');
  if (/activity/i.test(text)) return 'activity';
  if (/base|shortbread|osm/i.test(text)) return 'base';
  return undefined;
}

/** The ids of the style's base and activity sources. */
export function kindsOf(style: Style): { base: string[]; activity: string[] } {
  const out = { base: [] as string[], activity: [] as string[] };
  for (const [id, s] of Object.entries(style.sources)) {
    const k = sourceKind(id, s);
    if (k) out[k].push(id);
  }
  return out;
}

export interface PrepareOptions {
  layers: readonly LayerName[];
  /** offline: archive URLs (pmtiles://…) to use for each kind of source, and no network glyphs */
  offline?: { base?: string; activity?: string };
  /** a glyphs URL to use instead of the style's (e.g. a caching protocol) */
  glyphs?: string;
  /** attribution for base sources that carry none */
  attribution: string;
}

/** A new style: activity nodes promoted by `id`, layers left out per options, live sources and layers added. */
export function prepareStyle(input: Style, o: PrepareOptions): Style {
  const style = JSON.parse(JSON.stringify(input)) as Style;
  const kinds = kindsOf(style);
  const drop = new Set<string>();
  if (!o.layers.includes('base')) kinds.base.forEach((id) => drop.add(id));
  if (!o.layers.includes('activity')) kinds.activity.forEach((id) => drop.add(id));
  for (const id of kinds.activity) {
    const s = style.sources[id]!;
    s.promoteId = { nodes: 'id' };
    if (o.offline) {
      if (o.offline.activity)
        style.sources[id] = { type: 'vector', url: o.offline.activity, promoteId: s.promoteId };
      else drop.add(id);
    }
  }
  for (const id of kinds.base) {
    const s = style.sources[id]!;
    if (!s.attribution) s.attribution = o.attribution;
    if (o.offline) {
      if (o.offline.base)
        style.sources[id] = { type: 'vector', url: o.offline.base, attribution: s.attribution };
      else drop.add(id);
    }
  }
  for (const id of drop) delete style.sources[id];
  style.layers = style.layers.filter((l) => !l.source || !drop.has(l.source));
  if (o.glyphs && style.glyphs) style.glyphs = o.glyphs;
  if (o.layers.includes('live')) addLiveLayers(style);
  return style;
}

function firstTextFont(style: Style): string[] | undefined {
  for (const l of style.layers) {
    const f = l.layout?.['text-font'];
    if (Array.isArray(f) && f.every((x) => typeof x === 'string')) return f as string[];
  }
  return undefined;
}

const empty = () => ({ type: 'geojson', data: { type: 'FeatureCollection', features: [] } });

/**
 * The live sources (GeoJSON fed by deltas, promoteId id) and their layers, on top of everything: threads, nodes,
 * copies of the style's node label layers, presence rings and counts.
 */
export function addLiveLayers(style: Style): void {
  style.sources[LIVE.threads] = { ...empty(), promoteId: 'id' };
  style.sources[LIVE.nodes] = { ...empty(), promoteId: 'id' };
  style.sources[LIVE.presence] = { ...empty(), promoteId: 'id' };
  style.layers.push(
    {
      id: LIVE.threads,
      type: 'line',
      source: LIVE.threads,
      paint: {
        'line-color': LIVE_COLOURS.node,
        'line-width': 2,
        'line-opacity': ['max', 0.15, ['coalesce', ['get', 'fade'], 1]],
      },
    },
    {
      id: LIVE.nodes,
      type: 'circle',
      source: LIVE.nodes,
      paint: {
        'circle-color': LIVE_COLOURS.node,
        'circle-radius': ['min', 12, ['+', 5, ['sqrt', ['coalesce', ['get', 'threads'], 0]]]],
        'circle-stroke-color': [
          'case',
          ['>', ['coalesce', ['get', 'open_proposals'], 0], 0],
          LIVE_COLOURS.proposal,
          LIVE_COLOURS.edge,
        ],
        'circle-stroke-width': 2,
        'circle-opacity': ['max', 0.35, ['coalesce', ['get', 'fade'], 1]],
      },
    },
    {
      id: `${LIVE.presence}-ring`,
      type: 'circle',
      source: LIVE.presence,
      paint: {
        'circle-radius': 14,
        'circle-color': 'rgba(0,0,0,0)',
        'circle-stroke-color': LIVE_COLOURS.presence,
        'circle-stroke-width': 3,
      },
    },
  );
  // the style's own node labels, drawn for the live nodes too (a tile node a delta changed keeps its label)
  if (style.glyphs) {
    const activity = kindsOf(style).activity;
    for (const l of style.layers.filter(
      (l) => l.type === 'symbol' && l.source && activity.includes(l.source) && l['source-layer'] === 'nodes',
    )) {
      const { 'source-layer': _sourceLayer, metadata: _metadata, ...rest } = l;
      style.layers.push({ ...rest, id: `${LIVE.nodes}-${l.id}`, source: LIVE.nodes });
    }
  }
  const font = firstTextFont(style);
  if (style.glyphs && font)
    style.layers.push({
      id: `${LIVE.presence}-count`,
      type: 'symbol',
      source: LIVE.presence,
      layout: {
        'text-field': ['to-string', ['get', 'count']],
        'text-font': font,
        'text-size': 12,
        'text-offset': [1.4, -1.4],
        'text-allow-overlap': true,
      },
      paint: { 'text-color': '#ffffff', 'text-halo-color': LIVE_COLOURS.presence, 'text-halo-width': 3 },
    });
}

/** Every absolute URL the style needs from the network (sources, glyphs, sprite): for the offline check. */
export function networkUrls(style: Style): string[] {
  const out: string[] = [];
  for (const s of Object.values(style.sources)) {
    if (s.url && /^https?:/.test(s.url)) out.push(s.url);
    for (const t of s.tiles ?? []) if (/^https?:/.test(t)) out.push(t);
  }
  if (style.glyphs && /^https?:/.test(style.glyphs)) out.push(style.glyphs);
  if (typeof style.sprite === 'string' && /^https?:/.test(style.sprite)) out.push(style.sprite);
  return out;
}
