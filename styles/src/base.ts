// Our base map style for the Shortbread 1.0 tiles weft builds (pipeline/profiles/shortbread.ts): land cover and use,
// water and ocean, streets by kind and zoom with casings (tunnels faded, bridges on top), rail, buildings,
// boundaries, and labels for water, streets, POIs and places. Only source layers, fields and kinds our archives
// carry; glyphs from our own Noto Sans build; no sprite (markers are circles).
import type { LayerSpecification, StyleSpecification } from '@maplibre/maplibre-gl-style-spec';
import { FONT } from './fonts.js';
import {
  at,
  byZoom,
  byZoomExp,
  get,
  isTrue,
  kindIn,
  matchKind,
  type Expr,
  type Stops,
} from './expressions.js';
import { BASE as C } from './palette.js';

/** The vector source of the base map (the server rewrites `{region}`). */
export const BASE_SOURCE = 'base';
export const BASE_TILEJSON = '/tiles/{region}/base.json';
export const GLYPHS_URL = '/fonts/{fontstack}/{range}.pbf';

const src = { source: BASE_SOURCE } as const;

// ---- streets --------------------------------------------------------------------------------------------------

/** Street classes: the kinds each covers, its fill and casing colours and its fill width over zoom. */
interface StreetClass {
  kinds: string[];
  fill: string;
  casing: string;
  width: Stops;
}

// prettier-ignore
const STREET_CLASSES: StreetClass[] = [
  { kinds: ['motorway'], fill: C.motorway, casing: C.motorwayCasing,
    width: [[5, 0.8], [10, 2], [12, 3], [14, 5.5], [16, 10], [18, 20]] },
  { kinds: ['trunk'], fill: C.trunk, casing: C.trunkCasing,
    width: [[6, 0.7], [10, 1.8], [12, 2.8], [14, 5], [16, 9], [18, 18]] },
  { kinds: ['primary'], fill: C.primary, casing: C.primaryCasing,
    width: [[8, 0.6], [10, 1.4], [12, 2.5], [14, 4.5], [16, 8], [18, 16]] },
  { kinds: ['secondary'], fill: C.secondary, casing: C.secondaryCasing,
    width: [[9, 0.5], [10, 1.1], [12, 2.1], [14, 4], [16, 7.5], [18, 14]] },
  { kinds: ['tertiary'], fill: C.minor, casing: C.minorCasing,
    width: [[10, 0.7], [12, 1.7], [14, 3.5], [16, 6.5], [18, 12]] },
  { kinds: ['unclassified', 'residential', 'busway', 'bus_guideway'], fill: C.minor, casing: C.minorCasing,
    width: [[12, 0.7], [14, 2.6], [16, 5.5], [18, 10]] },
  { kinds: ['living_street', 'pedestrian'], fill: C.pedestrian, casing: C.minorCasing,
    width: [[13, 0.7], [14, 2.2], [16, 5], [18, 9]] },
  { kinds: ['service'], fill: C.minor, casing: C.minorCasing,
    width: [[13, 0.5], [14, 1.3], [16, 3], [18, 6]] },
  { kinds: ['runway'], fill: C.runway, casing: C.runway,
    width: [[11, 2], [14, 12], [18, 45]] },
  { kinds: ['taxiway'], fill: C.runway, casing: C.runway,
    width: [[13, 1], [14, 3], [18, 14]] },
];

const STREET_KINDS = STREET_CLASSES.flatMap((c) => c.kinds);
const PATH_KINDS = ['footway', 'path', 'steps', 'cycleway', 'track'];
/** street_labels' kinds are highway values: roads, their `_link` ramps and paths (not rail, runways, taxiways) */
const STREET_LABEL_KINDS = [
  ...STREET_KINDS.filter((k) => k !== 'runway' && k !== 'taxiway'),
  ...['motorway', 'trunk', 'primary', 'secondary', 'tertiary'].map((k) => `${k}_link`),
  ...PATH_KINDS,
];
/** Zooms at which street widths are given to MapLibre (it interpolates between them). */
const WIDTH_ZOOMS = [5, 8, 10, 12, 14, 16, 18];
/** How much wider than the fill a casing is (both sides together), over zoom. */
const CASING_EXTRA: Stops = [
  [5, 0.4],
  [8, 0.8],
  [10, 1],
  [12, 1.2],
  [14, 1.4],
  [16, 2],
  [18, 3],
];
/** Links (ramps) are drawn narrower than their road. */
const LINK_SCALE = 0.65;

function streetWidth(extra: Stops | undefined): Expr {
  return byZoomExp(
    1.4,
    WIDTH_ZOOMS.map((z) => {
      const byKind = matchKind(
        STREET_CLASSES.map((c) => [c.kinds, at(c.width, z) + (extra ? at(extra, z) : 0)] as const),
        0,
      );
      return [z, ['*', ['case', isTrue('link'), LINK_SCALE, 1], byKind]] as const;
    }),
  );
}

const streetFill = matchKind(
  STREET_CLASSES.map((c) => [c.kinds, c.fill] as const),
  C.minor,
);
const streetCasing = matchKind(
  STREET_CLASSES.map((c) => [c.kinds, c.casing] as const),
  C.minorCasing,
);

type Level = 'tunnel' | 'ground' | 'bridge';

/** Filter for streets (not paths, not rail) at a level: tunnels, bridges, or neither. */
function streetFilter(kinds: string[], level: Level): Expr {
  const parts: Expr[] = [kindIn(...kinds), ['!', isTrue('rail')]];
  if (level === 'tunnel') parts.push(isTrue('tunnel'));
  else if (level === 'bridge') parts.push(isTrue('bridge'));
  else parts.push(['!', isTrue('tunnel')], ['!', isTrue('bridge')]);
  return ['all', ...parts] as Expr;
}

function streetLayers(level: Level): LayerSpecification[] {
  const prefix = level === 'ground' ? 'street' : `street-${level}`;
  const faded = level === 'tunnel';
  return [
    {
      id: `${prefix}-casing`,
      type: 'line',
      ...src,
      'source-layer': 'streets',
      minzoom: 8,
      filter: streetFilter(STREET_KINDS, level),
      layout: { 'line-cap': level === 'ground' ? 'round' : 'butt', 'line-join': 'round' },
      paint: {
        'line-color': streetCasing,
        'line-width': streetWidth(CASING_EXTRA),
        ...(faded ? { 'line-opacity': 0.5 } : {}),
      },
    },
    {
      id: prefix,
      type: 'line',
      ...src,
      'source-layer': 'streets',
      filter: streetFilter(STREET_KINDS, level),
      layout: { 'line-cap': 'round', 'line-join': 'round' },
      paint: {
        'line-color': streetFill,
        'line-width': streetWidth(undefined),
        ...(faded ? { 'line-opacity': 0.6 } : {}),
      },
    },
  ];
}

// ---- layers ------------------------------------------------------------------------------------------------------

const landcover = matchKind<string>(
  [
    [['forest'], C.forest],
    [
      [
        'grass',
        'meadow',
        'grassland',
        'village_green',
        'recreation_ground',
        'heath',
        'scrub',
        'orchard',
        'vineyard',
        'allotments',
        'plant_nursery',
      ],
      C.green,
    ],
    [['park', 'garden', 'golf_course', 'miniature_golf', 'playground'], C.park],
    [['cemetery'], C.cemetery],
    [['sand', 'beach'], C.sand],
    [['bare_rock', 'scree', 'shingle'], C.rock],
    [['swamp', 'bog', 'string_bog', 'wet_meadow', 'marsh'], C.wetland],
  ],
  C.green,
);
const LANDCOVER_KINDS = [
  'forest',
  'grass',
  'meadow',
  'grassland',
  'village_green',
  'recreation_ground',
  'heath',
  'scrub',
  'orchard',
  'vineyard',
  'allotments',
  'plant_nursery',
  'park',
  'garden',
  'golf_course',
  'miniature_golf',
  'playground',
  'cemetery',
  'sand',
  'beach',
  'bare_rock',
  'scree',
  'shingle',
  'swamp',
  'bog',
  'string_bog',
  'wet_meadow',
  'marsh',
];
const landuse = matchKind<string>(
  [
    [['residential'], C.residential],
    [['commercial', 'retail'], C.commercial],
    [['industrial', 'railway', 'garages', 'landfill', 'quarry', 'brownfield'], C.industrial],
    [['farmland', 'farmyard', 'greenfield', 'greenhouse_horticulture'], C.farmland],
  ],
  C.residential,
);
const LANDUSE_KINDS = [
  'residential',
  'commercial',
  'retail',
  'industrial',
  'railway',
  'garages',
  'landfill',
  'quarry',
  'brownfield',
  'farmland',
  'farmyard',
  'greenfield',
  'greenhouse_horticulture',
];

const site = matchKind<string>(
  [
    [['university', 'college', 'school'], C.education],
    [['hospital'], C.hospital],
    [['parking', 'bicycle_parking'], C.parking],
    [['construction'], C.construction],
    [['sports_centre'], C.sport],
    [['danger_area', 'prison'], C.danger],
  ],
  C.parking,
);

/** The colour of a POI's dot and label, by its main tag. */
const poiColour: Expr = [
  'case',
  ['has', 'amenity'],
  C.poi.amenity,
  ['has', 'shop'],
  C.poi.shop,
  ['has', 'tourism'],
  C.poi.tourism,
  ['has', 'leisure'],
  C.poi.leisure,
  ['has', 'historic'],
  C.poi.historic,
  C.poi.other,
];

const halo = { 'text-halo-color': C.halo, 'text-halo-width': 1.5, 'text-halo-blur': 0.5 } as const;

const layers: LayerSpecification[] = [
  { id: 'background', type: 'background', paint: { 'background-color': C.land } },
  { id: 'ocean', type: 'fill', ...src, 'source-layer': 'ocean', paint: { 'fill-color': C.water } },
  {
    id: 'landuse',
    type: 'fill',
    ...src,
    'source-layer': 'land',
    filter: kindIn(...LANDUSE_KINDS),
    paint: {
      'fill-color': landuse,
      'fill-opacity': byZoom([
        [10, 0.6],
        [13, 1],
      ]),
    },
  },
  {
    id: 'landcover',
    type: 'fill',
    ...src,
    'source-layer': 'land',
    filter: kindIn(...LANDCOVER_KINDS),
    paint: { 'fill-color': landcover },
  },
  {
    id: 'sites',
    type: 'fill',
    ...src,
    'source-layer': 'sites',
    paint: { 'fill-color': site },
  },
  {
    id: 'water-polygons',
    type: 'fill',
    ...src,
    'source-layer': 'water_polygons',
    paint: { 'fill-color': C.water },
  },
  {
    id: 'water-lines',
    type: 'line',
    ...src,
    'source-layer': 'water_lines',
    filter: ['!', isTrue('tunnel')],
    layout: { 'line-cap': 'round', 'line-join': 'round' },
    paint: {
      'line-color': C.waterLine,
      'line-width': byZoomExp(1.4, [
        [9, matchKind([[['river', 'canal'], 0.8]], 0.3)],
        [14, matchKind([[['river', 'canal'], 3.5]], 1.2)],
        [18, matchKind([[['river', 'canal'], 12]], 3)],
      ]),
    },
  },
  {
    id: 'dam-polygons',
    type: 'fill',
    ...src,
    'source-layer': 'dam_polygons',
    paint: { 'fill-color': C.dam },
  },
  {
    id: 'dam-lines',
    type: 'line',
    ...src,
    'source-layer': 'dam_lines',
    paint: {
      'line-color': C.dam,
      'line-width': byZoom([
        [12, 1],
        [18, 6],
      ]),
    },
  },
  {
    id: 'pier-polygons',
    type: 'fill',
    ...src,
    'source-layer': 'pier_polygons',
    paint: { 'fill-color': C.pier },
  },
  {
    id: 'pier-lines',
    type: 'line',
    ...src,
    'source-layer': 'pier_lines',
    paint: {
      'line-color': C.pier,
      'line-width': byZoom([
        [12, 1],
        [18, 8],
      ]),
    },
  },
  {
    id: 'street-polygons',
    type: 'fill',
    ...src,
    'source-layer': 'street_polygons',
    paint: {
      'fill-color': matchKind([[['runway', 'taxiway'], C.runway]], C.pedestrian),
      'fill-outline-color': C.minorCasing,
    },
  },
  ...streetLayers('tunnel'),
  {
    id: 'buildings',
    type: 'fill',
    ...src,
    'source-layer': 'buildings',
    minzoom: 14,
    paint: {
      'fill-color': C.building,
      'fill-outline-color': C.buildingOutline,
      'fill-opacity': byZoom([
        [14, 0.75],
        [16, 1],
      ]),
    },
  },
  {
    id: 'paths',
    type: 'line',
    ...src,
    'source-layer': 'streets',
    filter: ['all', kindIn(...PATH_KINDS), ['!', isTrue('tunnel')]],
    paint: {
      'line-color': matchKind(
        [
          [['cycleway'], C.cycleway],
          [['track'], C.track],
        ],
        C.path,
      ),
      'line-width': byZoom([
        [13, 0.6],
        [16, 1.4],
        [18, 2.5],
      ]),
      'line-dasharray': [2, 1],
    },
  },
  ...streetLayers('ground'),
  {
    id: 'rail',
    type: 'line',
    ...src,
    'source-layer': 'streets',
    filter: isTrue('rail'),
    paint: {
      'line-color': C.rail,
      'line-width': byZoom([
        [8, 0.6],
        [14, matchKind([[['rail', 'narrow_gauge'], 2]], 1.4)],
        [18, 4],
      ]),
      'line-opacity': ['case', isTrue('tunnel'), 0.35, 1],
    },
  },
  {
    id: 'rail-dash',
    type: 'line',
    ...src,
    'source-layer': 'streets',
    minzoom: 13,
    filter: ['all', isTrue('rail'), kindIn('rail', 'narrow_gauge'), ['!', isTrue('tunnel')]],
    paint: {
      'line-color': C.railDash,
      'line-width': byZoom([
        [13, 0.8],
        [18, 2.5],
      ]),
      'line-dasharray': [3, 3],
    },
  },
  ...streetLayers('bridge'),
  {
    id: 'bridge-areas',
    type: 'fill',
    ...src,
    'source-layer': 'bridges',
    paint: { 'fill-color': C.pier, 'fill-outline-color': C.minorCasing },
  },
  {
    id: 'aerialways',
    type: 'line',
    ...src,
    'source-layer': 'aerialways',
    paint: { 'line-color': C.aerialway, 'line-width': 1, 'line-dasharray': [4, 2] },
  },
  {
    id: 'ferries',
    type: 'line',
    ...src,
    'source-layer': 'ferries',
    paint: {
      'line-color': C.ferry,
      'line-width': byZoom([
        [10, 0.8],
        [16, 1.6],
      ]),
      'line-dasharray': [3, 2],
    },
  },
  {
    id: 'boundaries-state',
    type: 'line',
    ...src,
    'source-layer': 'boundaries',
    filter: ['==', ['get', 'admin_level'], 4],
    paint: {
      'line-color': C.state,
      'line-width': byZoom([
        [7, 0.6],
        [14, 1.5],
      ]),
      'line-dasharray': [3, 2],
      'line-opacity': ['case', isTrue('maritime'), 0.5, 1],
    },
  },
  {
    id: 'boundaries-country',
    type: 'line',
    ...src,
    'source-layer': 'boundaries',
    filter: ['==', ['get', 'admin_level'], 2],
    layout: { 'line-join': 'round' },
    paint: {
      'line-color': C.country,
      'line-width': byZoom([
        [0, 0.6],
        [6, 1],
        [10, 1.6],
        [14, 2.5],
      ]),
      'line-dasharray': [4, 2],
      'line-opacity': ['case', isTrue('maritime'), 0.45, ['case', isTrue('disputed'), 0.7, 1]],
    },
  },

  // ---- labels (later layers are placed first) ----
  {
    id: 'housenumbers',
    type: 'symbol',
    ...src,
    'source-layer': 'addresses',
    minzoom: 17,
    layout: {
      'text-field': ['coalesce', get('housenumber'), get('housename')],
      'text-font': FONT.regular,
      'text-size': 10,
      'text-padding': 2,
    },
    paint: { 'text-color': C.addressText, ...halo },
  },
  {
    id: 'water-line-labels',
    type: 'symbol',
    ...src,
    'source-layer': 'water_lines_labels',
    layout: {
      'symbol-placement': 'line',
      'text-field': get('name'),
      'text-font': FONT.italic,
      'text-size': byZoom([
        [12, 11],
        [16, 13],
      ]),
      'text-max-angle': 30,
      'symbol-spacing': 300,
    },
    paint: { 'text-color': C.waterText, ...halo },
  },
  {
    id: 'water-polygon-labels',
    type: 'symbol',
    ...src,
    'source-layer': 'water_polygons_labels',
    layout: {
      'text-field': get('name'),
      'text-font': FONT.italic,
      'text-size': byZoom([
        [8, 11],
        [14, 13],
        [18, 15],
      ]),
      'text-max-width': 8,
    },
    paint: { 'text-color': C.waterText, ...halo },
  },
  {
    id: 'street-labels',
    type: 'symbol',
    ...src,
    'source-layer': 'street_labels',
    filter: kindIn(...STREET_LABEL_KINDS),
    layout: {
      'symbol-placement': 'line',
      'text-field': ['coalesce', get('name'), get('ref')],
      'text-font': FONT.regular,
      'text-size': byZoom([
        [12, 10],
        [15, 12],
        [18, 14],
      ]),
      'text-max-angle': 30,
      'symbol-spacing': 250,
      'text-rotation-alignment': 'map',
      'text-pitch-alignment': 'viewport',
    },
    paint: { 'text-color': C.streetText, ...halo },
  },
  {
    id: 'street-polygon-labels',
    type: 'symbol',
    ...src,
    'source-layer': 'streets_polygons_labels',
    layout: { 'text-field': get('name'), 'text-font': FONT.regular, 'text-size': 11, 'text-max-width': 8 },
    paint: { 'text-color': C.streetText, ...halo },
  },
  {
    id: 'poi-dots',
    type: 'circle',
    ...src,
    'source-layer': 'pois',
    minzoom: 15,
    filter: ['has', 'name'],
    paint: {
      'circle-color': poiColour,
      'circle-radius': byZoom([
        [15, 2.5],
        [18, 4],
      ]),
      'circle-stroke-color': C.halo,
      'circle-stroke-width': 1,
    },
  },
  {
    id: 'poi-labels',
    type: 'symbol',
    ...src,
    'source-layer': 'pois',
    minzoom: 16,
    filter: ['has', 'name'],
    layout: {
      'text-field': get('name'),
      'text-font': FONT.regular,
      'text-size': 11,
      'text-anchor': 'top',
      'text-offset': [0, 0.5],
      'text-max-width': 8,
      'text-optional': true,
    },
    paint: { 'text-color': poiColour, ...halo },
  },
  {
    id: 'transit-labels',
    type: 'symbol',
    ...src,
    'source-layer': 'public_transport',
    filter: [
      'any',
      kindIn('station', 'halt', 'ferry_terminal', 'aerodrome', 'bus_station', 'aerialway_station'),
      ['>=', ['zoom'], 16],
    ],
    layout: {
      'text-field': get('name'),
      'text-font': FONT.regular,
      'text-size': byZoom([
        [12, 10],
        [16, 12],
      ]),
      'text-max-width': 8,
    },
    paint: { 'text-color': C.text, ...halo },
  },
  {
    id: 'boundary-labels',
    type: 'symbol',
    ...src,
    'source-layer': 'boundary_labels',
    maxzoom: 11,
    layout: {
      'text-field': get('name'),
      'text-font': FONT.bold,
      'text-size': matchKindLevel(),
      'text-transform': 'uppercase',
      'text-letter-spacing': 0.1,
      'text-max-width': 7,
    },
    paint: { 'text-color': C.boundaryText, ...halo },
  },
  {
    id: 'place-labels-local',
    type: 'symbol',
    ...src,
    'source-layer': 'place_labels',
    filter: kindIn(
      'suburb',
      'quarter',
      'neighbourhood',
      'hamlet',
      'locality',
      'isolated_dwelling',
      'farm',
      'island',
    ),
    layout: {
      'text-field': get('name'),
      'text-font': FONT.regular,
      'text-size': byZoom([
        [10, matchKind([[['suburb'], 12]], 11)],
        [16, matchKind([[['suburb', 'quarter'], 15]], 13)],
      ]),
      'text-transform': matchKind([[['suburb', 'quarter', 'neighbourhood'], 'uppercase']], 'none'),
      'text-letter-spacing': matchKind([[['suburb', 'quarter', 'neighbourhood'], 0.08]], 0),
      'text-max-width': 8,
    },
    paint: { 'text-color': C.suburbText, ...halo },
  },
  {
    id: 'place-labels-settlement',
    type: 'symbol',
    ...src,
    'source-layer': 'place_labels',
    filter: kindIn('capital', 'state_capital', 'city', 'town', 'village'),
    layout: {
      'text-field': get('name'),
      'text-font': FONT.bold,
      'text-size': byZoom([
        [
          4,
          matchKind(
            [
              [['capital'], 12],
              [['state_capital', 'city'], 11],
            ],
            10,
          ),
        ],
        [
          10,
          matchKind(
            [
              [['capital', 'state_capital', 'city'], 17],
              [['town'], 14],
            ],
            12,
          ),
        ],
        [
          16,
          matchKind(
            [
              [['capital', 'state_capital', 'city'], 22],
              [['town'], 18],
            ],
            15,
          ),
        ],
      ]),
      'text-max-width': 8,
    },
    paint: { 'text-color': C.placeText, ...halo },
  },
];

/** Country names larger than state names, growing with zoom. */
function matchKindLevel(): Expr {
  return byZoom([
    [2, ['match', ['get', 'admin_level'], 2, 11, 9]],
    [8, ['match', ['get', 'admin_level'], 2, 15, 12]],
  ]);
}

/** The base style: one vector source `base` and our glyphs; the server rewrites `{region}` and makes URLs absolute. */
export function baseStyle(): StyleSpecification {
  return {
    version: 8,
    name: 'weft base',
    metadata: { 'weft:id': 'weft-base', 'weft:schema': 'shortbread-1.0' },
    sources: { [BASE_SOURCE]: { type: 'vector', url: BASE_TILEJSON } },
    glyphs: GLYPHS_URL,
    layers,
  };
}
