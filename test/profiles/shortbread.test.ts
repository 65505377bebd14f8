// The Shortbread profile's rules, feature by feature, and documented defaults for tag values the schema lacks.
import { describe, expect, it } from 'vitest';
import * as shortbreadModule from '../../pipeline/profiles/shortbread.js';
import { mapShortbread, shortbreadProfile } from '../../pipeline/profiles/shortbread.js';
import type {
  LayerFeature,
  ProfileModule,
  SourceFeature,
  SourceGeometry,
} from '../../pipeline/tiler/types.js';

const pt: SourceGeometry = { type: 'Point', coordinates: [7.42, 43.73] };
const line: SourceGeometry = {
  type: 'LineString',
  coordinates: [
    [7.42, 43.73],
    [7.421, 43.731],
  ],
};
const area = (size = 0.001): SourceGeometry => ({
  type: 'MultiPolygon',
  coordinates: [
    [
      [
        [7.42, 43.73],
        [7.42 + size, 43.73],
        [7.42 + size, 43.73 + size],
        [7.42, 43.73 + size],
        [7.42, 43.73],
      ],
    ],
  ],
});

const map = (geometry: SourceGeometry, properties: Record<string, unknown>) =>
  mapShortbread({ geometry, properties });
const inLayer = (out: LayerFeature[], layer: string) => out.filter((f) => f.layer === layer);

describe('Shortbread profile', () => {
  it('splits streets into the zoom bands of their fields', () => {
    const out = map(line, {
      highway: 'motorway_link',
      oneway: 'yes',
      surface: 'asphalt',
      bicycle: 'no',
      layer: '1',
    });
    const streets = inLayer(out, 'streets').map((f) => [f.minzoom, f.maxzoom, f.properties]);
    expect(streets).toEqual([
      [5, 10, { kind: 'motorway', rail: false }],
      [
        11,
        13,
        { kind: 'motorway', rail: false, link: true, tunnel: false, bridge: false, surface: 'asphalt' },
      ],
      [
        14,
        14,
        {
          kind: 'motorway',
          rail: false,
          link: true,
          tunnel: false,
          bridge: false,
          surface: 'asphalt',
          oneway: true,
          oneway_reverse: false,
          bicycle: 'no',
          horse: '',
        },
      ],
    ]);
    const footway = inLayer(map(line, { highway: 'footway' }), 'streets');
    expect(footway.map((f) => [f.minzoom, f.maxzoom])).toEqual([
      [13, 13],
      [14, 14],
    ]);
  });

  it('handles railways: service tracks later, never oneway, rail=true', () => {
    const main = inLayer(map(line, { railway: 'rail' }), 'streets');
    expect(main[0]).toMatchObject({ minzoom: 8, properties: { kind: 'rail', rail: true } });
    const yard = inLayer(map(line, { railway: 'rail', service: 'yard', oneway: 'yes' }), 'streets');
    expect(yard[0]!.minzoom).toBe(10);
    expect(yard.at(-1)!.properties).toMatchObject({ oneway: false, service: 'yard' });
  });

  it('orders streets by the reference z_order: bridges above, tunnels below, then class', () => {
    const z = (tags: Record<string, unknown>) => inLayer(map(line, tags), 'streets')[0]!.sortKey!;
    expect(z({ highway: 'motorway', bridge: 'yes' })).toBeGreaterThan(z({ highway: 'motorway' }));
    expect(z({ highway: 'motorway' })).toBeGreaterThan(z({ highway: 'motorway', tunnel: 'yes' }));
    expect(z({ highway: 'residential', layer: '1' })).toBeGreaterThan(z({ highway: 'motorway' }));
    expect(z({ highway: 'primary' })).toBeGreaterThan(z({ highway: 'residential' }));
    expect(z({ highway: 'residential', layer: 'garbage' })).toBe(z({ highway: 'residential' }));
  });

  it('labels streets with names and multi-line refs', () => {
    const [label] = inLayer(
      map(line, { highway: 'trunk', ref: 'A 8;E 80', 'name:de': 'Küstenstraße' }),
      'street_labels',
    );
    expect(label).toMatchObject({
      minzoom: 12,
      properties: {
        kind: 'trunk',
        ref: 'A 8\nE 80',
        ref_rows: 2,
        ref_cols: 4,
        name: 'Küstenstraße',
        tunnel: false,
      },
    });
    expect(inLayer(map(line, { highway: 'residential' }), 'street_labels')).toEqual([]);
    expect(inLayer(map(line, { highway: 'residential', area: 'yes', name: 'x' }), 'streets')).toEqual([]);
  });

  it('fills name, name_en and name_de from one another', () => {
    const props = (tags: Record<string, unknown>) =>
      inLayer(map(pt, { place: 'town', ...tags }), 'place_labels')[0]?.properties;
    expect(props({ name: 'Wien', 'name:en': 'Vienna' })).toMatchObject({
      name: 'Wien',
      name_en: 'Vienna',
      name_de: 'Wien',
    });
    expect(props({ 'name:de': 'Mailand' })).toMatchObject({
      name: 'Mailand',
      name_en: 'Mailand',
      name_de: 'Mailand',
    });
    expect(props({})).toBeUndefined();
  });

  it('labels places with kind, capital status and population', () => {
    const place = (tags: Record<string, unknown>) =>
      inLayer(map(pt, { name: 'X', ...tags }), 'place_labels')[0];
    expect(place({ place: 'city', capital: 'yes', population: '36371' })).toMatchObject({
      minzoom: 4,
      sortKey: -36371,
      properties: { kind: 'capital', population: 36371 },
    });
    expect(place({ place: 'village', capital: '4' })!.properties).toMatchObject({
      kind: 'state_capital',
      population: 100,
    });
    expect(place({ place: 'suburb', capital: 'yes', population: 'about 900' })).toMatchObject({
      minzoom: 10,
      properties: { kind: 'suburb', population: 1000 },
    });
  });

  it('fills the POI attributes of selected features only', () => {
    const poi = (tags: Record<string, unknown>, g: SourceGeometry = pt) =>
      inLayer(map(g, tags), 'pois')[0]?.properties;
    expect(poi({ amenity: 'restaurant', cuisine: 'italian', sport: 'golf', name: 'Da Mario' })).toEqual({
      amenity: 'restaurant',
      cuisine: 'italian',
      name: 'Da Mario',
      name_en: 'Da Mario',
      name_de: 'Da Mario',
    });
    expect(poi({ amenity: 'recycling', 'recycling:paper': 'yes', 'recycling:clothes': 'no' })).toEqual({
      amenity: 'recycling',
      'recycling:glass_bottles': false,
      'recycling:paper': true,
      'recycling:clothes': false,
      'recycling:scrap_metal': false,
    });
    expect(poi({ amenity: 'bank', atm: 'yes' })).toEqual({ amenity: 'bank', atm: true });
    expect(
      poi({ amenity: 'place_of_worship', religion: 'christian', denomination: 'catholic' }),
    ).toMatchObject({
      religion: 'christian',
      denomination: 'catholic',
    });
    expect(poi({ man_made: 'tower', 'tower:type': 'communication' })).toEqual({
      man_made: 'tower',
      'tower:type': 'communication',
    });
    expect(poi({ shop: 'bakery', amenity: 'cafe', 'addr:housenumber': '7' })).toEqual({
      shop: 'bakery',
      amenity: 'cafe',
      housenumber: '7',
    });
    expect(poi({ leisure: 'pitch', sport: 'soccer' }, area())).toEqual({ leisure: 'pitch', sport: 'soccer' });
  });

  it('puts addresses in addresses unless the feature is a POI', () => {
    expect(
      inLayer(map(pt, { 'addr:housenumber': '12', 'addr:housename': 'Villa' }), 'addresses')[0],
    ).toMatchObject({
      minzoom: 14,
      properties: { housenumber: '12', housename: 'Villa' },
    });
    const building = map(area(), { building: 'yes', 'addr:housenumber': '3' });
    expect(building.map((f) => [f.layer, f.geometry.type])).toEqual([
      ['buildings', 'MultiPolygon'],
      ['addresses', 'Point'],
    ]);
    expect(map(pt, { shop: 'bakery', 'addr:housenumber': '1' }).map((f) => f.layer)).toEqual(['pois']);
  });

  it('maps buildings (not building=no) with dummy=1 from z14', () => {
    expect(map(area(), { building: 'house' })).toEqual([
      { layer: 'buildings', geometry: area(), properties: { dummy: 1 }, minzoom: 14, maxzoom: 14 },
    ]);
    expect(map(area(), { building: 'no' })).toEqual([]);
  });

  it('maps water polygons with way_area, size-dependent zooms and a label point inside', () => {
    const lake = map(area(0.1), { natural: 'water', name: 'Lac' });
    const [poly] = inLayer(lake, 'water_polygons');
    const [label] = inLayer(lake, 'water_polygons_labels');
    expect(poly!.properties.kind).toBe('water');
    expect(poly!.properties.way_area).toBeGreaterThan(1e8);
    expect(label).toMatchObject({ geometry: { type: 'Point' }, properties: { kind: 'water', name: 'Lac' } });
    const [x, y] = (label!.geometry as { coordinates: number[] }).coordinates;
    expect(x).toBeGreaterThan(7.42);
    expect(x).toBeLessThan(7.52);
    expect(y).toBeGreaterThan(43.73);
    expect(label!.sortKey).toBe(-poly!.properties.way_area!);
    // a small pond appears later than a big lake
    const pond = inLayer(map(area(0.0005), { natural: 'water' }), 'water_polygons')[0]!;
    expect(pond.minzoom).toBeGreaterThan(poly!.minzoom);
    expect(
      inLayer(map(area(0.1), { natural: 'water', water: 'river' }), 'water_polygons')[0]!.properties.kind,
    ).toBe('river');
    expect(inLayer(map(area(0.1), { waterway: 'riverbank' }), 'water_polygons')[0]!.properties.kind).toBe(
      'river',
    );
  });

  it('maps boundary lines and labels', () => {
    const boundary = (tags: Record<string, unknown>) =>
      map(line, { '@layer': 'boundaries', disputed: 'no', ...tags });
    expect(boundary({ admin_level: '2', natural: 'coastline' })).toEqual([
      {
        layer: 'boundaries',
        geometry: line,
        properties: { admin_level: 2, maritime: true, disputed: false },
        minzoom: 0,
        maxzoom: 14,
      },
    ]);
    expect(boundary({ admin_level: '4', disputed: 'yes' })[0]).toMatchObject({
      minzoom: 7,
      properties: { admin_level: 4, maritime: false, disputed: true },
    });
    expect(boundary({ admin_level: '8' })).toEqual([]);
    const [label] = map(area(0.01), { boundary: 'administrative', admin_level: '2', name: 'Monaco' });
    expect(label).toMatchObject({
      layer: 'boundary_labels',
      minzoom: 5,
      properties: { admin_level: 2, name: 'Monaco' },
    });
    expect(label!.geometry.type).toBe('Point');
    expect(label!.properties.way_area).toBeGreaterThan(100); // hectares of a ~1.1 km square
    expect(label!.properties.way_area).toBeLessThan(300);
    expect(map(area(0.01), { boundary: 'administrative', admin_level: '8', name: 'Commune' })).toEqual([]);
  });

  it('maps the ocean features of the coastline reader', () => {
    expect(map(area(), { '@layer': 'ocean' })).toEqual([
      { layer: 'ocean', geometry: area(), properties: {}, minzoom: 0, maxzoom: 14 },
    ]);
  });

  it.each([
    [line, { highway: 'proposed', name: 'Future Road' }],
    [line, { highway: 'construction' }],
    [pt, { place: 'plot', name: 'Lot 5' }],
    [pt, { amenity: 'bbq' }],
    [pt, { natural: 'tree' }],
    [area(), { leisure: 'marina', name: 'Port Hercule de Monaco' }],
    [area(), { landuse: 'military' }],
    [line, { aerialway: 'zip_line' }],
    [line, { waterway: 'drain' }],
    [area(), { natural: 'coastline' }],
    [pt, {}],
    [{ type: 'GeometryCollection', geometries: [pt] } as SourceGeometry, { building: 'yes' }],
  ])('emits nothing for tag values the schema does not list: %#', (geometry, tags) => {
    expect(map(geometry, tags)).toEqual([]);
  });

  it('loads as the engine loads profiles in its workers', () => {
    const mod: ProfileModule = shortbreadModule;
    expect(
      mod.createProfile(undefined).map({ geometry: area(), properties: { building: 'yes' } })[0]!.layer,
    ).toBe('buildings');
  });

  it('is deterministic and keeps every feature within z0–14', () => {
    const f: SourceFeature = {
      geometry: line,
      properties: { highway: 'primary', name: 'Boulevard Albert 1er' },
    };
    expect(shortbreadProfile.map(f)).toEqual(shortbreadProfile.map(f));
    for (const out of shortbreadProfile.map(f)) {
      expect(out.minzoom).toBeGreaterThanOrEqual(0);
      expect(out.maxzoom).toBeLessThanOrEqual(14);
      expect(out.minzoom).toBeLessThanOrEqual(out.maxzoom);
    }
  });
});
