// The activity overlay (pipeline/profiles/activity.ts): threads as lines whose opacity is their `fade`; nodes as
// circles sized by their count (cells below z12) or live threads, coloured and faded by `fade`; a ring on nodes with
// open proposals; cell counts below z12; from z13 each node's title with its kind (and open proposals) below it.
// No background: it draws over any base.
import type { LayerSpecification, StyleSpecification } from '@maplibre/maplibre-gl-style-spec';
import { GLYPHS_URL } from './base.js';
import { byZoomExp, get, type Expr } from './expressions.js';
import { FONT } from './fonts.js';
import { ACTIVITY as C } from './palette.js';

/** The vector source of the activity tiles (the server rewrites `{region}`). */
export const ACTIVITY_SOURCE = 'activity';
export const ACTIVITY_TILEJSON = '/tiles/{region}/activity.json';

/** Layer ids the viewer relies on (click and hover handling, the list of nodes in view). */
export const ACTIVITY_LAYERS = {
  threads: 'activity-threads',
  proposals: 'activity-proposals',
  nodes: 'activity-nodes',
  counts: 'activity-counts',
  labels: 'activity-labels',
} as const;

/** Metadata key on a layer of this style: where the merged style puts it relative to the base's layers. */
export const PLACEMENT_KEY = 'weft:placement';
/** …under the base's labels (lines), rather than on top of everything (the default). */
export const BELOW_LABELS = 'below-labels';

/** Below this zoom `nodes` holds grid cells (count ≥ 1) rather than single nodes (NODE_DETAIL_ZOOM). */
const DETAIL_ZOOM = 12;

const src = { source: ACTIVITY_SOURCE } as const;
const count: Expr = ['coalesce', get('count'), 1];
const threads: Expr = ['coalesce', get('threads'), 0];
const proposals: Expr = ['coalesce', get('open_proposals'), 0];
const fade: Expr = ['coalesce', get('fade'), 1];

/** A node's radius at z14 in px: cells grow with their count, single nodes with their live threads. */
const radiusAt14: Expr = [
  'case',
  ['>', count, 1],
  ['min', 26, ['+', 8, ['*', 2.4, ['sqrt', count]]]],
  ['min', 20, ['+', 5, ['*', 1.8, ['sqrt', threads]]]],
];

/** The radius over zoom, `extra` px wider (the proposal ring). */
function radius(extra: number): Expr {
  const scaled = (k: number): Expr => ['+', ['*', k, radiusAt14], extra];
  return byZoomExp(1.2, [
    [6, scaled(0.6)],
    [14, scaled(1)],
    [18, scaled(1.4)],
  ]);
}

const fadeColour: Expr = ['interpolate', ['linear'], fade, 0, C.faint, 1, C.strong];
const fadeOpacity: Expr = ['interpolate', ['linear'], fade, 0, 0.45, 1, 1];

const layers: LayerSpecification[] = [
  {
    id: ACTIVITY_LAYERS.threads,
    type: 'line',
    ...src,
    'source-layer': 'threads',
    metadata: { [PLACEMENT_KEY]: BELOW_LABELS },
    layout: { 'line-cap': 'round' },
    paint: {
      'line-color': C.strong,
      'line-opacity': get('fade'),
      'line-width': byZoomExp(1.5, [
        [12, 1],
        [16, 2.5],
        [18, 4],
      ]),
    },
  },
  {
    id: ACTIVITY_LAYERS.proposals,
    type: 'circle',
    ...src,
    'source-layer': 'nodes',
    filter: ['>', proposals, 0],
    paint: {
      'circle-radius': radius(4),
      'circle-color': 'rgba(0, 0, 0, 0)',
      'circle-stroke-color': C.proposal,
      'circle-stroke-width': 2.5,
      'circle-opacity': fadeOpacity,
      'circle-stroke-opacity': fadeOpacity,
    },
  },
  {
    id: ACTIVITY_LAYERS.nodes,
    type: 'circle',
    ...src,
    'source-layer': 'nodes',
    paint: {
      'circle-radius': radius(0),
      'circle-color': fadeColour,
      'circle-opacity': fadeOpacity,
      'circle-stroke-color': C.nodeStroke,
      'circle-stroke-width': 1.5,
      'circle-stroke-opacity': fadeOpacity,
    },
  },
  {
    id: ACTIVITY_LAYERS.counts,
    type: 'symbol',
    ...src,
    'source-layer': 'nodes',
    maxzoom: DETAIL_ZOOM,
    filter: ['>', count, 1],
    layout: {
      'text-field': ['to-string', count],
      'text-font': FONT.bold,
      'text-size': 12,
      'text-allow-overlap': true,
      'text-ignore-placement': true,
    },
    paint: { 'text-color': C.countText, 'text-halo-color': C.countHalo, 'text-halo-width': 1.2 },
  },
  {
    id: ACTIVITY_LAYERS.labels,
    type: 'symbol',
    ...src,
    'source-layer': 'nodes',
    minzoom: 13,
    filter: ['has', 'title'],
    layout: {
      'text-field': [
        'format',
        get('title'),
        {},
        '\n',
        {},
        [
          'concat',
          ['coalesce', get('kind'), ''],
          [
            'case',
            ['>', proposals, 0],
            [
              'concat',
              ' · ',
              ['to-string', proposals],
              ['case', ['>', proposals, 1], ' proposals', ' proposal'],
            ],
            '',
          ],
        ],
        { 'font-scale': 0.85, 'text-font': ['literal', FONT.italic] },
      ],
      'text-font': FONT.bold,
      'text-size': 12,
      'text-variable-anchor': ['top', 'bottom', 'left', 'right'],
      'text-radial-offset': 1.2,
      'text-max-width': 10,
      'text-optional': true,
    },
    paint: { 'text-color': C.labelText, 'text-halo-color': C.labelHalo, 'text-halo-width': 1.5 },
  },
];

/** The activity overlay alone: one vector source `activity`, our glyphs, no background. */
export function activityStyle(): StyleSpecification {
  return {
    version: 8,
    name: 'weft activity',
    metadata: { 'weft:id': 'weft-activity', 'weft:schema': 'weft-activity-1' },
    sources: { [ACTIVITY_SOURCE]: { type: 'vector', url: ACTIVITY_TILEJSON } },
    glyphs: GLYPHS_URL,
    layers,
  };
}
