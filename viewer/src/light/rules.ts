// The light path's drawing rules for protomaps-leaflet: the Shortbread base (water, land, buildings, streets,
// boundaries, labels) and the activity overlay (threads by fade, nodes by activity, proposals ringed), in the same
// palette as the full viewer's styles, kept small. Colours meet WCAG contrast for labels (text ≥ 4.5:1 on land).
import {
  CenteredTextSymbolizer,
  CircleSymbolizer,
  LineLabelSymbolizer,
  LineSymbolizer,
  PolygonSymbolizer,
  type Feature,
  type LabelRule,
  type PaintRule,
} from 'protomaps-leaflet';

export const COLOURS = {
  land: '#f3f0ea',
  water: '#a9cbe8',
  waterLine: '#7fb0dc',
  green: '#d3e6c5',
  residential: '#ebe6df',
  industrial: '#e6e0e8',
  building: '#d8cfc6',
  buildingEdge: '#b9ada2',
  street: '#ffffff',
  streetCasing: '#c8beb3',
  major: '#f7d58b',
  majorCasing: '#d2a24c',
  rail: '#8c8c8c',
  boundary: '#8a6fa0',
  label: '#2b2b2b',
  labelHalo: '#ffffff',
  node: '#b0124f',
  nodeEdge: '#ffffff',
  proposal: '#e08a00',
  thread: '#b0124f',
} as const;

const kind = (f: Feature): string => String(f.props.kind ?? '');
const num = (f: Feature, key: string): number => {
  const v = f.props[key];
  return typeof v === 'number' ? v : Number(v ?? 0) || 0;
};
const kindIn =
  (...kinds: string[]) =>
  (_z: number, f: Feature) =>
    kinds.includes(kind(f));

const MAJOR = ['motorway', 'trunk', 'primary', 'secondary'];
const MINOR = ['tertiary', 'unclassified', 'residential', 'living_street', 'service', 'pedestrian'];
const GREEN = [
  'forest',
  'wood',
  'park',
  'grass',
  'meadow',
  'garden',
  'cemetery',
  'village_green',
  'recreation_ground',
];

/** Street width in px by zoom (and major/minor). */
function streetWidth(major: boolean) {
  return (z: number) => (major ? 1.5 : 0.6) * Math.max(1, 2 ** ((z - 12) * 0.6));
}

export function basePaintRules(): PaintRule[] {
  return [
    { dataSource: 'base', dataLayer: 'ocean', symbolizer: new PolygonSymbolizer({ fill: COLOURS.water }) },
    {
      dataSource: 'base',
      dataLayer: 'land',
      symbolizer: new PolygonSymbolizer({
        fill: (_z, f) =>
          f && GREEN.includes(kind(f))
            ? COLOURS.green
            : f && ['industrial', 'railway', 'commercial', 'retail'].includes(kind(f))
              ? COLOURS.industrial
              : COLOURS.residential,
      }),
    },
    {
      dataSource: 'base',
      dataLayer: 'sites',
      symbolizer: new PolygonSymbolizer({ fill: COLOURS.green, opacity: 0.6 }),
    },
    {
      dataSource: 'base',
      dataLayer: 'water_polygons',
      symbolizer: new PolygonSymbolizer({ fill: COLOURS.water }),
    },
    {
      dataSource: 'base',
      dataLayer: 'water_lines',
      symbolizer: new LineSymbolizer({ color: COLOURS.waterLine, width: (z) => (z >= 14 ? 2 : 1) }),
    },
    {
      dataSource: 'base',
      dataLayer: 'pier_polygons',
      symbolizer: new PolygonSymbolizer({ fill: COLOURS.land }),
    },
    {
      dataSource: 'base',
      dataLayer: 'buildings',
      symbolizer: new PolygonSymbolizer({ fill: COLOURS.building, stroke: COLOURS.buildingEdge, width: 0.5 }),
    },
    {
      dataSource: 'base',
      dataLayer: 'street_polygons',
      symbolizer: new PolygonSymbolizer({ fill: COLOURS.street, stroke: COLOURS.streetCasing, width: 0.5 }),
    },
    {
      dataSource: 'base',
      dataLayer: 'streets',
      filter: kindIn(...MINOR),
      symbolizer: new LineSymbolizer({
        color: COLOURS.streetCasing,
        width: (z) => streetWidth(false)(z) + 1.2,
      }),
    },
    {
      dataSource: 'base',
      dataLayer: 'streets',
      filter: kindIn(...MINOR),
      symbolizer: new LineSymbolizer({ color: COLOURS.street, width: streetWidth(false) }),
    },
    {
      dataSource: 'base',
      dataLayer: 'streets',
      filter: kindIn(...MAJOR),
      symbolizer: new LineSymbolizer({
        color: COLOURS.majorCasing,
        width: (z) => streetWidth(true)(z) + 1.4,
      }),
    },
    {
      dataSource: 'base',
      dataLayer: 'streets',
      filter: kindIn(...MAJOR),
      symbolizer: new LineSymbolizer({ color: COLOURS.major, width: streetWidth(true) }),
    },
    {
      dataSource: 'base',
      dataLayer: 'streets',
      filter: kindIn('rail', 'light_rail', 'tram', 'subway', 'narrow_gauge'),
      symbolizer: new LineSymbolizer({ color: COLOURS.rail, width: 1, dash: [3, 3] }),
    },
    {
      dataSource: 'base',
      dataLayer: 'boundaries',
      symbolizer: new LineSymbolizer({ color: COLOURS.boundary, width: 1.5, dash: [6, 3] }),
    },
  ];
}

export function activityPaintRules(): PaintRule[] {
  return [
    {
      dataSource: 'activity',
      dataLayer: 'threads',
      symbolizer: new LineSymbolizer({
        color: COLOURS.thread,
        width: 1.5,
        opacity: (_z, f) => (f ? Math.max(0.15, num(f, 'fade')) : 1),
      }),
    },
    {
      dataSource: 'activity',
      dataLayer: 'nodes',
      symbolizer: new CircleSymbolizer({
        radius: (_z, f) => (f ? Math.min(12, 4 + Math.sqrt(num(f, 'threads') + num(f, 'count'))) : 5),
        fill: COLOURS.node,
        stroke: (_z, f) => (f && num(f, 'open_proposals') > 0 ? COLOURS.proposal : COLOURS.nodeEdge),
        width: 2,
        opacity: (_z, f) => (f ? Math.max(0.35, num(f, 'fade') || 1) : 1),
      }),
    },
  ];
}

const halo = { fill: COLOURS.label, stroke: COLOURS.labelHalo, width: 2.5 };

export function labelRules(withBase: boolean): LabelRule[] {
  const rules: LabelRule[] = [];
  if (withBase)
    rules.push(
      {
        dataSource: 'base',
        dataLayer: 'place_labels',
        symbolizer: new CenteredTextSymbolizer({
          labelProps: ['name'],
          font: '600 13px sans-serif',
          ...halo,
        }),
      },
      {
        dataSource: 'base',
        dataLayer: 'street_labels',
        minzoom: 14,
        symbolizer: new LineLabelSymbolizer({ labelProps: ['name'], font: '400 11px sans-serif', ...halo }),
      },
    );
  return rules;
}
