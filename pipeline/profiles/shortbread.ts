// The Shortbread 1.0 vector tile schema as a Profile: OSM features (osmium export: tags as properties) → layers,
// fields, kinds and zoom ranges of ../shared/data/styles/shortbread-schema-1.0.md, plus `shortbreadLayers`.
//
// Documented choices where the schema is silent (following the reference implementation, shortbread-tilemaker):
// - Tag values the schema does not list are not emitted (e.g. highway=proposed, place=plot, amenity=bbq).
// - name/name_en/name_de fall back to one another (name ← name:en ← name:de, name_en ← name:en ← name ← name:de, …).
// - Closed ways are areas when osmium's export config says so (pipeline/osm/export-config.json); streets stay lines
//   unless tagged area=yes (then street_polygons).
// - Label points of areas are the centroid of the largest part, or a point on its surface when that is outside.
// - Water polygons and river/canal lines start at the zoom where they are ≥ 0.01 (0.1 from z10) px² / 0.25 px long.
// - Streets carry their fields in zoom bands, as the schema's "Zoom" column says: kind/rail from the layer's min zoom,
//   link/tunnel/bridge/surface/tracktype/service from 11, oneway/oneway_reverse/bicycle/horse at 14.
// - Sort keys: streets, street_polygons and street_labels by the reference z_order; water_lines by layer;
//   place_labels by population and water_polygons_labels/boundary_labels by way_area, both descending.
import { boundaryLine, type BoundaryMembership } from '../osm/boundaries.js';
import type { PropertyValue } from '../mvt/types.js';
import type {
  LayerFeature,
  Profile,
  SourceFeature,
  SourceGeometry,
  VectorLayerSpec,
} from '../tiler/types.js';
import { labelPoint, mercatorArea, mercatorLength, zoomForArea, zoomForLength } from './geo.js';

const MAX_ZOOM = 14;
const S = 'String';
const N = 'Number';
const B = 'Boolean';
const NAMES = { name: S, name_en: S, name_de: S };

/** Shortbread 1.0's layers with their fields (TileJSON vector_layers) and the lowest zoom any feature appears at. */
export const shortbreadLayers: VectorLayerSpec[] = [
  { id: 'ocean', description: 'Oceans (from the OSM water polygons)', minzoom: 0, maxzoom: 14, fields: {} },
  { id: 'water_polygons', minzoom: 4, maxzoom: 14, fields: { kind: S, way_area: N } },
  { id: 'water_polygons_labels', minzoom: 4, maxzoom: 14, fields: { kind: S, way_area: N, ...NAMES } },
  { id: 'water_lines', minzoom: 9, maxzoom: 14, fields: { kind: S, tunnel: B, bridge: B } },
  { id: 'water_lines_labels', minzoom: 12, maxzoom: 14, fields: { kind: S, ...NAMES, tunnel: B, bridge: B } },
  { id: 'dam_lines', minzoom: 12, maxzoom: 14, fields: { kind: S } },
  { id: 'dam_polygons', minzoom: 12, maxzoom: 14, fields: { kind: S } },
  { id: 'pier_lines', minzoom: 12, maxzoom: 14, fields: { kind: S } },
  { id: 'pier_polygons', minzoom: 12, maxzoom: 14, fields: { kind: S } },
  { id: 'boundaries', minzoom: 0, maxzoom: 14, fields: { admin_level: N, maritime: B, disputed: B } },
  { id: 'boundary_labels', minzoom: 2, maxzoom: 14, fields: { admin_level: N, way_area: N, ...NAMES } },
  { id: 'place_labels', minzoom: 4, maxzoom: 14, fields: { kind: S, ...NAMES, population: N } },
  { id: 'land', minzoom: 7, maxzoom: 14, fields: { kind: S } },
  { id: 'sites', minzoom: 14, maxzoom: 14, fields: { kind: S } },
  { id: 'buildings', minzoom: 14, maxzoom: 14, fields: { dummy: N } },
  { id: 'addresses', minzoom: 14, maxzoom: 14, fields: { housename: S, housenumber: S } },
  {
    id: 'streets',
    minzoom: 5,
    maxzoom: 14,
    fields: {
      kind: S,
      link: B,
      rail: B,
      tunnel: B,
      bridge: B,
      oneway: B,
      oneway_reverse: B,
      tracktype: S,
      surface: S,
      service: S,
      bicycle: S,
      horse: S,
    },
  },
  {
    id: 'street_polygons',
    minzoom: 11,
    maxzoom: 14,
    fields: { kind: S, bridge: B, rail: B, service: S, surface: S, tunnel: B },
  },
  { id: 'streets_polygons_labels', minzoom: 14, maxzoom: 14, fields: { kind: S, ...NAMES } },
  {
    id: 'street_labels',
    minzoom: 10,
    maxzoom: 14,
    fields: { kind: S, ref: S, ref_rows: N, ref_cols: N, ...NAMES, tunnel: B },
  },
  { id: 'street_labels_points', minzoom: 12, maxzoom: 14, fields: { kind: S, ref: S, ...NAMES } },
  { id: 'bridges', minzoom: 12, maxzoom: 14, fields: { kind: S } },
  { id: 'aerialways', minzoom: 12, maxzoom: 14, fields: { kind: S } },
  { id: 'ferries', minzoom: 10, maxzoom: 14, fields: { kind: S, ...NAMES } },
  { id: 'public_transport', minzoom: 11, maxzoom: 14, fields: { kind: S, ...NAMES, iata: S } },
  {
    id: 'pois',
    minzoom: 14,
    maxzoom: 14,
    fields: {
      amenity: S,
      leisure: S,
      tourism: S,
      shop: S,
      man_made: S,
      historic: S,
      emergency: S,
      highway: S,
      office: S,
      ...NAMES,
      housename: S,
      housenumber: S,
      cuisine: S,
      sport: S,
      vending: S,
      information: S,
      'tower:type': S,
      religion: S,
      denomination: S,
      'recycling:glass_bottles': B,
      'recycling:paper': B,
      'recycling:clothes': B,
      'recycling:scrap_metal': B,
      atm: B,
    },
  },
];

type Tags = Record<string, unknown>;
type Props = Record<string, PropertyValue>;

const set = (...values: string[]) => new Set(values);
const table = <T>(entries: Record<string, T>) => new Map(Object.entries(entries));

function tag(t: Tags, key: string): string | undefined {
  const v = t[key];
  return typeof v === 'string' ? v : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Shared attribute rules

const BRIDGE_VALUES = set(
  'yes',
  'viaduct',
  'boardwalk',
  'cantilever',
  'covered',
  'low_water_crossing',
  'movable',
  'trestle',
);

function isTunnel(t: Tags): boolean {
  const tunnel = t.tunnel;
  return tunnel === 'yes' || tunnel === 'building_passage' || t.covered === 'yes';
}

function isBridge(t: Tags): boolean {
  const bridge = tag(t, 'bridge');
  return bridge !== undefined && BRIDGE_VALUES.has(bridge);
}

/** OSM layer as a number clamped to −7…7 (0 when absent or not a number). */
function layerNumber(t: Tags): number {
  const v = tag(t, 'layer');
  if (v === undefined) return 0;
  const n = Number(v);
  return Number.isFinite(n) ? Math.max(-7, Math.min(7, n)) : 0;
}

/** Adds name, name_en, name_de (each falling back to the others); returns false when the feature has no name. */
function addNames(t: Tags, out: Props): boolean {
  const name = tag(t, 'name') || undefined;
  const en = tag(t, 'name:en') || undefined;
  const de = tag(t, 'name:de') || undefined;
  const n = name ?? en ?? de;
  if (n === undefined) return false;
  out.name = n;
  out.name_en = en ?? name ?? de!;
  out.name_de = de ?? name ?? en!;
  return true;
}

function hasName(t: Tags): boolean {
  return !!(tag(t, 'name') || tag(t, 'name:en') || tag(t, 'name:de'));
}

/** The reference implementation's z_order: bridges above, tunnels below, ±14 per layer, then road class. */
const ROAD_CLASS = table<number>({
  motorway: 10,
  trunk: 9,
  primary: 8,
  secondary: 7,
  tertiary: 6,
  unclassified: 5,
  residential: 5,
  road: 5,
  motorway_link: 5,
  trunk_link: 5,
  primary_link: 5,
  secondary_link: 5,
  tertiary_link: 5,
  busway: 5,
  bus_guideway: 5,
  living_street: 4,
  pedestrian: 4,
  service: 3,
  footway: 2,
  bridleway: 2,
  cycleway: 2,
  path: 2,
  track: 2,
  steps: 1,
  platform: 1,
});

function zOrder(t: Tags, rail: boolean, ignoreBridge: boolean): number {
  const Z_STEP = 14;
  let z = 0;
  if (!ignoreBridge && isBridge(t)) z += Z_STEP;
  else if (isTunnel(t)) z -= Z_STEP;
  z += layerNumber(t) * Z_STEP;
  const railway = t.railway;
  let cls = 0;
  if (rail && railway === 'rail') cls = t.service === undefined ? 13 : 12;
  else if (
    rail &&
    (railway === 'subway' ||
      railway === 'light_rail' ||
      railway === 'tram' ||
      railway === 'funicular' ||
      railway === 'monorail')
  )
    cls = 11;
  else {
    const highway = tag(t, 'highway');
    cls = (highway !== undefined && ROAD_CLASS.get(highway)) || 0;
  }
  return z + cls;
}

// ---------------------------------------------------------------------------------------------------------------
// Tables from the schema: value → [kind, minzoom]

type KindZoom = readonly [kind: string, minzoom: number];

/** streets: highway value → [kind, minzoom, link] */
const STREET_HIGHWAY = table<readonly [string, number, boolean]>({
  motorway: ['motorway', 5, false],
  motorway_link: ['motorway', 5, true],
  trunk: ['trunk', 6, false],
  trunk_link: ['trunk', 6, true],
  primary: ['primary', 8, false],
  primary_link: ['primary', 8, true],
  secondary: ['secondary', 9, false],
  secondary_link: ['secondary', 9, true],
  tertiary: ['tertiary', 10, false],
  tertiary_link: ['tertiary', 10, true],
  unclassified: ['unclassified', 12, false],
  residential: ['residential', 12, false],
  busway: ['busway', 12, false],
  bus_guideway: ['bus_guideway', 12, false],
  living_street: ['living_street', 13, false],
  service: ['service', 13, false],
  pedestrian: ['pedestrian', 13, false],
  track: ['track', 13, false],
  footway: ['footway', 13, false],
  steps: ['steps', 13, false],
  path: ['path', 13, false],
  cycleway: ['cycleway', 13, false],
});
const STREET_AEROWAY = table<KindZoom>({ runway: ['runway', 11], taxiway: ['taxiway', 13] });
const STREET_RAILWAY = table<KindZoom>({
  rail: ['rail', 8],
  narrow_gauge: ['narrow_gauge', 8],
  tram: ['tram', 10],
  light_rail: ['light_rail', 10],
  funicular: ['funicular', 10],
  subway: ['subway', 10],
  monorail: ['monorail', 10],
});

/** street_labels: highway/aeroway/railway value → minzoom (kind is the tag's value) */
const LABEL_ZOOM = table<number>({
  motorway: 10,
  motorway_link: 13,
  trunk: 12,
  trunk_link: 13,
  primary: 12,
  primary_link: 13,
  secondary: 13,
  secondary_link: 13,
  tertiary: 13,
  tertiary_link: 14,
  unclassified: 14,
  residential: 14,
  living_street: 14,
  busway: 14,
  bus_guideway: 14,
  service: 14,
  pedestrian: 14,
  track: 14,
  footway: 14,
  steps: 14,
  path: 14,
  cycleway: 14,
});
const LABEL_AEROWAY_ZOOM = table<number>({ runway: 11, taxiway: 13 });
const LABEL_RAILWAY_ZOOM = table<number>({
  rail: 10,
  narrow_gauge: 10,
  tram: 10,
  light_rail: 10,
  funicular: 10,
  subway: 10,
  monorail: 10,
});

const LAND_LANDUSE = table<KindZoom>({
  forest: ['forest', 7],
  grass: ['grass', 11],
  meadow: ['meadow', 11],
  orchard: ['orchard', 11],
  vineyard: ['vineyard', 11],
  allotments: ['allotments', 11],
  cemetery: ['cemetery', 13],
  village_green: ['village_green', 11],
  recreation_ground: ['recreation_ground', 11],
  greenhouse_horticulture: ['greenhouse_horticulture', 11],
  plant_nursery: ['plant_nursery', 11],
  residential: ['residential', 10],
  industrial: ['industrial', 10],
  commercial: ['commercial', 10],
  garages: ['garages', 10],
  retail: ['retail', 10],
  railway: ['railway', 10],
  landfill: ['landfill', 10],
  quarry: ['quarry', 11],
  brownfield: ['brownfield', 10],
  greenfield: ['greenfield', 10],
  farmyard: ['farmyard', 10],
  farmland: ['farmland', 10],
});
const LAND_NATURAL = table<KindZoom>({
  wood: ['forest', 7],
  sand: ['sand', 10],
  beach: ['beach', 10],
  heath: ['heath', 11],
  scrub: ['scrub', 11],
  grassland: ['grassland', 11],
  bare_rock: ['bare_rock', 11],
  scree: ['scree', 11],
  shingle: ['shingle', 11],
});
const LAND_WETLAND = table<KindZoom>({
  swamp: ['swamp', 11],
  bog: ['bog', 11],
  string_bog: ['string_bog', 11],
  wet_meadow: ['wet_meadow', 11],
  marsh: ['marsh', 11],
});
const LAND_LEISURE = table<KindZoom>({
  golf_course: ['golf_course', 11],
  park: ['park', 11],
  garden: ['garden', 11],
  playground: ['playground', 11],
  miniature_golf: ['miniature_golf', 11],
});

const SITE_AMENITY = set(
  'university',
  'college',
  'school',
  'hospital',
  'prison',
  'parking',
  'bicycle_parking',
);

const PLACE = table<readonly [minzoom: number, population: number]>({
  city: [6, 100000],
  town: [7, 5000],
  village: [10, 100],
  hamlet: [10, 50],
  suburb: [10, 1000],
  quarter: [10, 500],
  neighbourhood: [10, 100],
  isolated_dwelling: [10, 5],
  farm: [10, 5],
  island: [10, 0],
  locality: [10, 0],
});
const CAPITAL_PLACES = set('city', 'town', 'village', 'hamlet');

const AERIALWAY = table<string>({
  cable_car: 'cable_car',
  gondola: 'gondola',
  goods: 'goods',
  chair_lift: 'chair_lift',
  drag_lift: 'drag_lift',
  't-bar': 't-bar',
  'j-bar': 'j-bar',
  platter: 'platter',
  rope_tow: 'rope-tow',
});

const PIER = set('pier', 'breakwater', 'groyne');

const POI_VALUES: ReadonlyArray<readonly [string, Set<string>]> = [
  [
    'amenity',
    set(
      'arts_centre',
      'atm',
      'bank',
      'bar',
      'bench',
      'bicycle_rental',
      'biergarten',
      'cafe',
      'car_rental',
      'car_sharing',
      'car_wash',
      'cinema',
      'clinic',
      'college',
      'community_centre',
      'courthouse',
      'dentist',
      'doctors',
      'dog_park',
      'drinking_water',
      'embassy',
      'fast_food',
      'fire_station',
      'food_court',
      'fountain',
      'grave_yard',
      'hospital',
      'hunting_stand',
      'library',
      'marketplace',
      'nightclub',
      'nursing_home',
      'pharmacy',
      'place_of_worship',
      'playground',
      'police',
      'post_box',
      'post_office',
      'prison',
      'pub',
      'public_building',
      'recycling',
      'restaurant',
      'school',
      'shelter',
      'telephone',
      'theatre',
      'toilets',
      'townhall',
      'university',
      'vending_machine',
      'veterinary',
      'waste_basket',
    ),
  ],
  ['emergency', set('defibrillator', 'fire_hydrant', 'phone')],
  ['highway', set('emergency_access_point')],
  [
    'historic',
    set(
      'archaeological_site',
      'battlefield',
      'castle',
      'fort',
      'memorial',
      'monument',
      'ruins',
      'wayside_cross',
      'wayside_shrine',
    ),
  ],
  [
    'leisure',
    set('golf_course', 'ice_rink', 'pitch', 'sports_centre', 'stadium', 'swimming_pool', 'water_park'),
  ],
  [
    'man_made',
    set(
      'lighthouse',
      'surveillance',
      'tower',
      'wastewater_plant',
      'water_well',
      'water_works',
      'watermill',
      'windmill',
    ),
  ],
  ['office', set('diplomatic')],
  [
    'shop',
    set(
      'alcohol',
      'bakery',
      'beauty',
      'beverages',
      'bicycle',
      'books',
      'butcher',
      'car',
      'chemist',
      'clothes',
      'computer',
      'convenience',
      'department_store',
      'doityourself',
      'dry_cleaning',
      'florist',
      'furniture',
      'garden_centre',
      'general',
      'gift',
      'greengrocer',
      'hairdresser',
      'hardware',
      'jewelry',
      'kiosk',
      'laundry',
      'mall',
      'mobile_phone',
      'newsagent',
      'optician',
      'outdoor',
      'shoes',
      'sports',
      'stationery',
      'supermarket',
      'toys',
      'travel_agency',
      'video',
    ),
  ],
  [
    'tourism',
    set(
      'artwork',
      'alpine_hut',
      'bed_and_breakfast',
      'camp_site',
      'caravan_site',
      'chalet',
      'guest_house',
      'hostel',
      'hotel',
      'information',
      'motel',
      'picnic_site',
      'theme_park',
      'viewpoint',
      'zoo',
    ),
  ],
];
const CATERING = set('restaurant', 'fast_food', 'pub', 'bar', 'cafe');
const RECYCLING_FIELDS = [
  'recycling:glass_bottles',
  'recycling:paper',
  'recycling:clothes',
  'recycling:scrap_metal',
];

// ---------------------------------------------------------------------------------------------------------------
// The mapping

function emit(
  out: LayerFeature[],
  layer: string,
  geometry: SourceGeometry,
  properties: Props,
  minzoom: number,
  sortKey?: number,
  maxzoom = MAX_ZOOM,
): void {
  if (!(minzoom <= maxzoom)) return;
  const f: LayerFeature = { layer, geometry, properties, minzoom: Math.max(0, minzoom), maxzoom };
  if (sortKey !== undefined) f.sortKey = sortKey;
  out.push(f);
}

function point(coordinates: number[] | undefined): SourceGeometry | undefined {
  return coordinates ? { type: 'Point', coordinates } : undefined;
}

/** place_labels (nodes only, as in the reference implementation) */
function placeLabel(t: Tags, g: SourceGeometry, out: LayerFeature[]): void {
  const place = tag(t, 'place');
  if (place === undefined) return;
  const spec = PLACE.get(place);
  if (!spec) return;
  const props: Props = {};
  if (!addNames(t, props)) return;
  let [minzoom, population] = spec;
  let kind = place;
  if (CAPITAL_PLACES.has(place)) {
    if (t.capital === 'yes') {
      kind = 'capital';
      minzoom = 4;
    } else if (t.capital === '4') {
      kind = 'state_capital';
      minzoom = 4;
    }
  }
  const pop = tag(t, 'population');
  if (pop !== undefined && /^\d+$/.test(pop)) population = Number(pop);
  props.kind = kind;
  props.population = population;
  emit(out, 'place_labels', g, props, minzoom, -population);
}

/** public_transport: stops and stations (areas as a label point) */
function publicTransport(t: Tags, g: SourceGeometry, out: LayerFeature[]): void {
  let kind: string | undefined;
  let minzoom = 14;
  const railway = t.railway;
  const aeroway = t.aeroway;
  if (aeroway === 'aerodrome') [kind, minzoom] = ['aerodrome', 11];
  else if (aeroway === 'helipad') [kind, minzoom] = ['helipad', 13];
  else if (railway === 'station' || railway === 'halt') [kind, minzoom] = [railway, 13];
  else if (railway === 'tram_stop') [kind, minzoom] = ['tram_stop', 14];
  else if (t.amenity === 'bus_station') [kind, minzoom] = ['bus_station', 13];
  else if (t.highway === 'bus_stop') [kind, minzoom] = ['bus_stop', 14];
  else if (t.amenity === 'ferry_terminal') [kind, minzoom] = ['ferry_terminal', 12];
  else if (t.aerialway === 'station') [kind, minzoom] = ['aerialway_station', 13];
  if (kind === undefined) return;
  const props: Props = { kind };
  addNames(t, props);
  const iata = tag(t, 'iata');
  if (iata) props.iata = iata;
  emit(out, 'public_transport', g, props, minzoom);
}

/** pois; returns true when the feature was emitted (then it is not repeated in addresses) */
function poi(t: Tags, g: SourceGeometry, out: LayerFeature[]): boolean {
  let props: Props | undefined;
  for (const [key, values] of POI_VALUES) {
    const v = t[key];
    if (typeof v === 'string' && values.has(v)) (props ??= {})[key] = v;
  }
  if (!props) return false;
  addNames(t, props);
  const housename = tag(t, 'addr:housename');
  const housenumber = tag(t, 'addr:housenumber');
  if (housename) props.housename = housename;
  if (housenumber) props.housenumber = housenumber;
  const copy = (key: string) => {
    const v = tag(t, key);
    if (v) props![key] = v;
  };
  const amenity = props.amenity as string | undefined;
  if (amenity !== undefined) {
    if (CATERING.has(amenity)) copy('cuisine');
    else if (amenity === 'vending_machine') copy('vending');
    else if (amenity === 'place_of_worship') {
      copy('religion');
      copy('denomination');
    } else if (amenity === 'recycling') for (const k of RECYCLING_FIELDS) props[k] = t[k] === 'yes';
    else if (amenity === 'bank') props.atm = t.atm === 'yes';
  }
  if (props.leisure === 'pitch' || props.leisure === 'sports_centre') copy('sport');
  if (props.tourism === 'information') copy('information');
  if (props.man_made === 'tower') copy('tower:type');
  emit(out, 'pois', g, props, 14);
  return true;
}

function address(t: Tags, g: SourceGeometry, out: LayerFeature[]): void {
  const housename = tag(t, 'addr:housename');
  const housenumber = tag(t, 'addr:housenumber');
  if (!housename && !housenumber) return;
  const props: Props = {};
  if (housename) props.housename = housename;
  if (housenumber) props.housenumber = housenumber;
  emit(out, 'addresses', g, props, 14);
}

function mapPoint(t: Tags, g: SourceGeometry, out: LayerFeature[]): void {
  placeLabel(t, g, out);
  if (t.highway === 'motorway_junction') {
    const props: Props = { kind: 'motorway_junction' };
    const ref = tag(t, 'ref');
    if (ref) props.ref = ref;
    addNames(t, props);
    emit(out, 'street_labels_points', g, props, 12);
  }
  publicTransport(t, g, out);
  if (!poi(t, g, out)) address(t, g, out);
}

function streets(t: Tags, g: SourceGeometry, out: LayerFeature[]): void {
  if (t.area === 'yes') return; // street areas go to street_polygons
  let kind: string | undefined;
  let minzoom = 0;
  let link = false;
  let rail = false;
  const highway = tag(t, 'highway');
  const railway = tag(t, 'railway');
  const aeroway = tag(t, 'aeroway');
  if (highway !== undefined) {
    const s = STREET_HIGHWAY.get(highway);
    if (s) [kind, minzoom, link] = s;
  }
  if (kind === undefined && railway !== undefined) {
    const s = STREET_RAILWAY.get(railway);
    if (s) {
      [kind, minzoom] = s;
      rail = true;
      if ((railway === 'rail' || railway === 'narrow_gauge') && t.service !== undefined) minzoom = 10;
    }
  }
  if (kind === undefined && aeroway !== undefined) {
    const s = STREET_AEROWAY.get(aeroway);
    if (s) [kind, minzoom] = s;
  }
  if (kind === undefined) return;
  const z = zOrder(t, rail, false);
  // zoom bands: the schema gives each field the zoom it appears from (object literals, not spreads: hot path)
  if (minzoom <= 10) emit(out, 'streets', g, { kind, rail }, minzoom, z, 10);
  const tunnel = isTunnel(t);
  const bridge = isBridge(t);
  const surface = tag(t, 'surface') ?? '';
  const tracktype = tag(t, 'tracktype');
  const service = tag(t, 'service');
  if (minzoom <= 13) {
    const mid: Props = { kind, rail, link, tunnel, bridge, surface };
    if (tracktype !== undefined) mid.tracktype = tracktype;
    if (service !== undefined) mid.service = service;
    emit(out, 'streets', g, mid, Math.max(minzoom, 11), z, 13);
  }
  const oneway = t.oneway;
  const full: Props = {
    kind,
    rail,
    link,
    tunnel,
    bridge,
    surface,
    oneway: !rail && (oneway === 'yes' || oneway === '1' || oneway === 'true' || oneway === '-1'),
    oneway_reverse: !rail && oneway === '-1',
    bicycle: tag(t, 'bicycle') ?? '',
    horse: tag(t, 'horse') ?? '',
  };
  if (tracktype !== undefined) full.tracktype = tracktype;
  if (service !== undefined) full.service = service;
  emit(out, 'streets', g, full, 14, z);

  // street_labels: named or numbered streets, railways, runways and taxiways
  let labelZoom: number | undefined;
  let labelKind: string | undefined;
  if (highway !== undefined && (labelZoom = LABEL_ZOOM.get(highway)) !== undefined) labelKind = highway;
  else if (rail && railway !== undefined && (labelZoom = LABEL_RAILWAY_ZOOM.get(railway)) !== undefined)
    labelKind = railway;
  else if (aeroway !== undefined && (labelZoom = LABEL_AEROWAY_ZOOM.get(aeroway)) !== undefined)
    labelKind = aeroway;
  if (labelKind === undefined || labelZoom === undefined) return;
  const props: Props = { kind: labelKind };
  const named = addNames(t, props);
  const ref = tag(t, 'ref');
  if (!named && !ref) return;
  let rows = 0;
  let cols = 0;
  let refs = '';
  if (ref) {
    for (const part of ref.split(';')) {
      const r = part.trim();
      if (!r) continue;
      refs = rows === 0 ? r : `${refs}\n${r}`;
      rows++;
      if (r.length > cols) cols = r.length;
    }
  }
  props.ref = refs;
  props.ref_rows = rows;
  props.ref_cols = cols;
  props.tunnel = tunnel;
  emit(out, 'street_labels', g, props, labelZoom, zOrder(t, rail, true));
}

function waterLines(t: Tags, g: SourceGeometry, out: LayerFeature[]): void {
  const kind = t.waterway;
  let minzoom: number;
  let labelZoom: number;
  if (kind === 'river' || kind === 'canal') {
    const byLength = zoomForLength(mercatorLength(g), 0.25);
    minzoom = Math.max(9, byLength);
    labelZoom = Math.max(12, byLength);
  } else if (kind === 'stream' || kind === 'ditch') {
    minzoom = 14;
    labelZoom = 14;
  } else return;
  const layer = layerNumber(t);
  const props: Props = { kind, tunnel: isTunnel(t), bridge: isBridge(t) };
  emit(out, 'water_lines', g, props, minzoom, layer);
  const label: Props = { kind };
  if (addNames(t, label)) {
    label.tunnel = props.tunnel!;
    label.bridge = props.bridge!;
    emit(out, 'water_lines_labels', g, label, labelZoom, layer);
  }
}

function mapLine(t: Tags, g: SourceGeometry, out: LayerFeature[]): void {
  if (t.highway !== undefined || t.railway !== undefined || t.aeroway !== undefined) streets(t, g, out);
  const waterway = t.waterway;
  if (waterway !== undefined) {
    if (waterway === 'dam') emit(out, 'dam_lines', g, { kind: 'dam' }, 12);
    else waterLines(t, g, out);
  }
  const manMade = tag(t, 'man_made');
  if (manMade !== undefined && PIER.has(manMade)) emit(out, 'pier_lines', g, { kind: manMade }, 12);
  const aerialway = tag(t, 'aerialway');
  if (aerialway !== undefined) {
    const kind = AERIALWAY.get(aerialway);
    if (kind) emit(out, 'aerialways', g, { kind }, 12);
  }
  if (t.route === 'ferry') {
    const props: Props = { kind: 'ferry' };
    addNames(t, props);
    emit(out, 'ferries', g, props, t.motor_vehicle === 'no' ? 12 : 10);
  }
}

function waterPolygons(t: Tags, g: SourceGeometry, out: LayerFeature[]): void {
  const natural = t.natural;
  const waterway = t.waterway;
  const landuse = t.landuse;
  const isRiver = (natural === 'water' && t.water === 'river') || waterway === 'riverbank';
  let kind: string;
  let minzoom: number;
  const area = mercatorArea(g);
  if (
    landuse === 'reservoir' ||
    landuse === 'basin' ||
    (natural === 'water' && !isRiver) ||
    natural === 'glacier'
  ) {
    kind = landuse === 'reservoir' || landuse === 'basin' ? landuse : (natural as string);
    minzoom = Math.max(4, zoomForArea(area, 0.01));
    if (minzoom >= 10) minzoom = Math.max(10, zoomForArea(area, 0.1));
  } else if (isRiver) {
    kind = 'river';
    minzoom = Math.max(4, zoomForArea(area, 0.1));
  } else if (waterway === 'dock' || waterway === 'canal') {
    kind = waterway;
    minzoom = Math.max(10, zoomForArea(area, 0.1));
  } else return;
  if (minzoom > MAX_ZOOM) return;
  emit(out, 'water_polygons', g, { kind, way_area: area }, minzoom);
  if (hasName(t)) {
    const at = point(labelPoint(g));
    const props: Props = { kind, way_area: area };
    addNames(t, props);
    if (at) emit(out, 'water_polygons_labels', at, props, minzoom, -area);
  }
}

function land(t: Tags, g: SourceGeometry, out: LayerFeature[]): void {
  const landuse = tag(t, 'landuse');
  const natural = tag(t, 'natural');
  let spec: KindZoom | undefined;
  if (landuse === 'forest' || natural === 'wood') spec = ['forest', 7];
  if (!spec && landuse !== undefined) spec = LAND_LANDUSE.get(landuse);
  if (!spec && natural !== undefined) spec = LAND_NATURAL.get(natural);
  if (!spec) {
    const wetland = tag(t, 'wetland');
    if (wetland !== undefined) spec = LAND_WETLAND.get(wetland);
  }
  if (!spec && t.amenity === 'grave_yard') spec = ['grave_yard', 13];
  if (!spec) {
    const leisure = tag(t, 'leisure');
    if (leisure !== undefined) spec = LAND_LEISURE.get(leisure);
  }
  if (spec) emit(out, 'land', g, { kind: spec[0] }, spec[1]);
}

function sites(t: Tags, g: SourceGeometry, out: LayerFeature[]): void {
  const amenity = tag(t, 'amenity');
  let kind: string | undefined;
  if (amenity !== undefined && SITE_AMENITY.has(amenity)) kind = amenity;
  else if (t.leisure === 'sports_centre') kind = 'sports_centre';
  else if (t.landuse === 'construction') kind = 'construction';
  else if (t.military === 'danger_area') kind = 'danger_area';
  if (kind) emit(out, 'sites', g, { kind }, 14);
}

function streetPolygons(t: Tags, g: SourceGeometry, out: LayerFeature[]): void {
  const highway = t.highway;
  const areaAeroway = t['area:aeroway'];
  let kind: string;
  let minzoom: number;
  if (highway === 'pedestrian' || highway === 'service') [kind, minzoom] = [highway, 14];
  else if (areaAeroway === 'runway') [kind, minzoom] = ['runway', 11];
  else if (areaAeroway === 'taxiway') [kind, minzoom] = ['taxiway', 13];
  else return;
  const props: Props = {
    kind,
    bridge: isBridge(t),
    rail: false,
    service: tag(t, 'service') ?? '',
    surface: tag(t, 'surface') ?? '',
    tunnel: isTunnel(t),
  };
  emit(out, 'street_polygons', g, props, minzoom, zOrder(t, false, false));
  if (hasName(t)) {
    const at = point(labelPoint(g));
    const label: Props = { kind };
    addNames(t, label);
    if (at) emit(out, 'streets_polygons_labels', at, label, 14);
  }
}

function boundaryLabel(t: Tags, g: SourceGeometry, out: LayerFeature[]): void {
  if (t.boundary !== 'administrative') return;
  const level = t.admin_level;
  if (level !== '2' && level !== '4') return;
  const props: Props = { admin_level: Number(level) };
  if (!addNames(t, props)) return;
  const area = mercatorArea(g);
  const km2 = area / 1e6;
  let minzoom = 5;
  if (level === '2' && km2 >= 2e6) minzoom = 2;
  else if (km2 >= 7e5) minzoom = 3;
  else if (km2 >= 1e5) minzoom = 4;
  props.way_area = area / 1e4; // hectares, as the schema says
  const at = point(labelPoint(g));
  if (at) emit(out, 'boundary_labels', at, props, minzoom, -area);
}

function mapArea(t: Tags, g: SourceGeometry, out: LayerFeature[]): void {
  if (t.waterway !== undefined || t.natural !== undefined || t.landuse !== undefined) {
    waterPolygons(t, g, out);
    if (t.waterway === 'dam') emit(out, 'dam_polygons', g, { kind: 'dam' }, 12);
  }
  const manMade = tag(t, 'man_made');
  if (manMade !== undefined) {
    if (PIER.has(manMade)) emit(out, 'pier_polygons', g, { kind: manMade }, 12);
    else if (manMade === 'bridge') emit(out, 'bridges', g, { kind: 'bridge' }, 12);
  }
  land(t, g, out);
  sites(t, g, out);
  if (t.highway !== undefined || t['area:aeroway'] !== undefined) streetPolygons(t, g, out);
  if (t.boundary !== undefined) boundaryLabel(t, g, out);
  const building = t.building;
  if (building !== undefined && building !== 'no') emit(out, 'buildings', g, { dummy: 1 }, 14);

  // point layers of areas: one label point, computed only when some layer wants it
  if (
    t.railway !== undefined ||
    t.aeroway !== undefined ||
    t.amenity !== undefined ||
    t.highway !== undefined ||
    t.aerialway !== undefined ||
    t.shop !== undefined ||
    t.tourism !== undefined ||
    t.leisure !== undefined ||
    t.historic !== undefined ||
    t.man_made !== undefined ||
    t.emergency !== undefined ||
    t.office !== undefined ||
    t['addr:housenumber'] !== undefined ||
    t['addr:housename'] !== undefined
  ) {
    const scratch: LayerFeature[] = [];
    const placeholder: SourceGeometry = { type: 'Point', coordinates: [0, 0] };
    publicTransport(t, placeholder, scratch);
    if (!poi(t, placeholder, scratch)) address(t, placeholder, scratch);
    if (scratch.length === 0) return;
    const at = point(labelPoint(g));
    if (at) for (const f of scratch) out.push({ ...f, geometry: at });
  }
}

function mapSynthetic(kind: unknown, t: Tags, g: SourceGeometry, out: LayerFeature[]): void {
  if (kind === 'ocean') emit(out, 'ocean', g, {}, 0);
  else if (kind === 'boundaries') {
    const level = Number(t.admin_level);
    if (level !== 2 && level !== 4) return;
    const props: Props = {
      admin_level: level,
      maritime: t.maritime === 'yes' || t.natural === 'coastline',
      disputed: t.disputed === 'yes',
    };
    emit(out, 'boundaries', g, props, level === 2 ? 0 : 7);
  }
}

/** Maps one source feature to its Shortbread layer features (none for unknown tags). Pure and deterministic. */
export function mapShortbread(feature: SourceFeature): LayerFeature[] {
  const out: LayerFeature[] = [];
  const t = feature.properties as Tags;
  const g = feature.geometry;
  const synthetic = t['@layer'];
  if (synthetic !== undefined) {
    mapSynthetic(synthetic, t, g, out);
    return out;
  }
  switch (g.type) {
    case 'Point':
      mapPoint(t, g, out);
      break;
    case 'LineString':
    case 'MultiLineString':
      mapLine(t, g, out);
      break;
    case 'Polygon':
    case 'MultiPolygon':
      mapArea(t, g, out);
      break;
    default:
      break;
  }
  return out;
}

export const shortbreadProfile: Profile = { name: 'shortbread-1.0', map: mapShortbread };

export interface ShortbreadOptions {
  /** boundary relation membership of ways, as [way id, admin level or 0, disputed] (see osm/boundaries.ts) */
  boundaries?: [number, number, boolean][];
}

/**
 * The engine's worker entry (ProfileModule). With boundary membership, every member way also yields its synthetic
 * boundary line (the workers see osmium's raw export, so the line is made here rather than in the reader).
 */
export function createProfile(options?: unknown): Profile {
  const entries = (options as ShortbreadOptions | undefined)?.boundaries;
  if (!entries?.length) return shortbreadProfile;
  const members = new Map<number, BoundaryMembership>();
  for (const [id, level, disputed] of entries) {
    members.set(id, level ? { adminLevel: level, disputed } : { disputed });
  }
  return {
    name: 'shortbread-1.0',
    map(feature: SourceFeature): LayerFeature[] {
      const out = mapShortbread(feature);
      const line = boundaryLine(feature, members);
      if (line) out.push(...mapShortbread(line));
      return out;
    },
  };
}

/** Membership as the structured-cloneable option above. */
export function boundaryOption(
  members: ReadonlyMap<number, BoundaryMembership>,
): [number, number, boolean][] {
  return [...members].map(([id, m]) => [id, m.adminLevel ?? 0, m.disputed]);
}
