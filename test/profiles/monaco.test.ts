// Spot checks of the Shortbread mapping against facts of the real Monaco extract, and the layer contract
// (every emitted layer, field and type is declared in shortbreadLayers) over all of Monaco and Andorra.
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportFeatures } from '../../pipeline/osm/osmium.js';
import { readRegionFeatures } from '../../pipeline/osm/read.js';
import { mapShortbread, shortbreadLayers } from '../../pipeline/profiles/shortbread.js';
import { loadRegion } from '../../pipeline/region.js';
import type { LayerFeature, SourceFeature } from '../../pipeline/tiler/types.js';
import { hasOsmium, sharedFile } from '../osm/fixtures.js';

const monacoPbf = sharedFile('osm/monaco-latest.osm.pbf');
const coastline = sharedFile('coastline/water-polygons-split-3857.zip');
const andorraPbf = sharedFile('osm/andorra-latest.osm.pbf');

async function mapRegion(id: string, pbf: string, coast: string | null): Promise<LayerFeature[]> {
  const out: LayerFeature[] = [];
  for await (const batch of readRegionFeatures(loadRegion(id), {
    source: {
      cacheDir: mkdtempSync(path.join(os.tmpdir(), 'weft-cache-')),
      searchPath: [path.dirname(pbf)],
      download: false,
    },
    coastline: coast,
    log: () => {},
  })) {
    for (const f of batch) for (const lf of mapShortbread(f)) out.push(lf);
  }
  return out;
}

function pointInRings(x: number, y: number, rings: number[][][]): boolean {
  let c = false;
  for (const ring of rings) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i]!;
      const [xj, yj] = ring[j]!;
      if (yi! > y !== yj! > y && x < ((xj! - xi!) * (y - yi!)) / (yj! - yi!) + xi!) c = !c;
    }
  }
  return c;
}

function polygonsOf(f: { geometry: LayerFeature['geometry'] }): number[][][][] {
  const g = f.geometry;
  if (g.type === 'Polygon') return [g.coordinates];
  if (g.type === 'MultiPolygon') return g.coordinates;
  return [];
}

function checkContract(features: LayerFeature[]) {
  const specs = new Map(shortbreadLayers.map((l) => [l.id, l]));
  const typeOf = { String: 'string', Number: 'number', Boolean: 'boolean' } as Record<string, string>;
  const pointLayers = /labels|^pois$|^addresses$|^public_transport$/;
  for (const f of features) {
    const spec = specs.get(f.layer);
    expect(spec, f.layer).toBeDefined();
    expect(f.minzoom).toBeGreaterThanOrEqual(spec!.minzoom);
    expect(f.maxzoom).toBeLessThanOrEqual(spec!.maxzoom);
    expect(f.minzoom).toBeLessThanOrEqual(f.maxzoom);
    for (const [k, v] of Object.entries(f.properties)) {
      expect(spec!.fields[k], `${f.layer}.${k}`).toBeDefined();
      expect(typeof v, `${f.layer}.${k}`).toBe(typeOf[spec!.fields[k]!]);
      if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
    }
    if (pointLayers.test(f.layer) && f.layer !== 'street_labels' && f.layer !== 'water_lines_labels') {
      expect(f.geometry.type, f.layer).toBe('Point');
    }
  }
}

describe.skipIf(!hasOsmium || !monacoPbf)('Shortbread on the real Monaco extract', () => {
  let features: LayerFeature[] = [];
  let raw: SourceFeature[] = [];
  beforeAll(async () => {
    features = await mapRegion('monaco', monacoPbf!, coastline ?? null);
    for await (const b of exportFeatures(monacoPbf!, { attributes: ['type', 'id'] })) raw.push(...b);
  });
  const layer = (name: string) => features.filter((f) => f.layer === name);

  it('has Boulevard Albert 1er as a primary street with its label', () => {
    const streets = layer('streets').filter((f) => f.properties.kind === 'primary');
    const boulevard = layer('street_labels').filter((f) => f.properties.name === 'Boulevard Albert 1er');
    expect(boulevard.length).toBeGreaterThan(0);
    expect(boulevard.every((f) => f.properties.kind === 'primary' && f.minzoom === 12)).toBe(true);
    // the same geometries are in streets, as kind=primary from z8
    for (const label of boulevard) {
      const same = streets.filter((s) => s.geometry === label.geometry);
      expect(same.map((s) => [s.minzoom, s.maxzoom])).toEqual([
        [8, 10],
        [11, 13],
        [14, 14],
      ]);
    }
  });

  it('draws Port Hercule as sea (ocean) with its piers in pier_polygons, the marina itself unmapped', () => {
    if (!coastline) return;
    const marina = raw.find(
      (f) => f.properties.name === 'Port Hercule de Monaco' && f.properties['@type'] === 'relation',
    )!;
    expect(marina.properties.leisure).toBe('marina');
    // the middle of the basin: average of the marina's outer ring vertices (an independent, crude centre)
    const outer = polygonsOf(marina)[0]![0]!;
    const cx = outer.reduce((s, p) => s + p[0]!, 0) / outer.length;
    const cy = outer.reduce((s, p) => s + p[1]!, 0) / outer.length;
    const ocean = layer('ocean');
    expect(ocean.length).toBeGreaterThan(0);
    expect(ocean.some((o) => polygonsOf(o).some((rings) => pointInRings(cx, cy, rings)))).toBe(true);
    // a Monaco building is not in the sea
    const palace = raw.find((f) => f.properties.name === "L'Hercule" && f.geometry.type === 'MultiPolygon')!;
    const [bx, by] = polygonsOf(palace)[0]![0]![0]!;
    expect(ocean.some((o) => polygonsOf(o).some((rings) => pointInRings(bx!, by!, rings)))).toBe(false);
    // piers inside the marina's bounding box
    const xs = outer.map((p) => p[0]!);
    const ys = outer.map((p) => p[1]!);
    const piers = layer('pier_polygons').filter((f) => {
      const [x, y] = polygonsOf(f)[0]![0]![0]!;
      return x! >= Math.min(...xs) && x! <= Math.max(...xs) && y! >= Math.min(...ys) && y! <= Math.max(...ys);
    });
    expect(piers.length).toBeGreaterThan(3);
    expect(piers.every((p) => p.properties.kind === 'pier' && p.minzoom === 12)).toBe(true);
    // leisure=marina is not a Shortbread value: nothing named Port Hercule is emitted
    expect(features.some((f) => f.properties.name === 'Port Hercule de Monaco')).toBe(false);
  });

  it("has the buildings, L'Hercule among them", () => {
    const buildings = layer('buildings');
    const osmBuildings = raw.filter(
      (f) => f.geometry.type === 'MultiPolygon' && f.properties.building && f.properties.building !== 'no',
    );
    expect(buildings.length).toBe(osmBuildings.length);
    expect(buildings.length).toBeGreaterThan(1000);
    expect(buildings.every((b) => b.minzoom === 14 && b.properties.dummy === 1)).toBe(true);
    const hercule = raw.find((f) => f.properties['@id'] === 213203114 && f.geometry.type === 'MultiPolygon')!;
    expect(buildings.some((b) => JSON.stringify(b.geometry) === JSON.stringify(hercule.geometry))).toBe(true);
  });

  it('has water: fountains and ponds as water polygons, named ones labelled', () => {
    const water = layer('water_polygons');
    expect(water.filter((f) => f.properties.kind === 'water').length).toBeGreaterThanOrEqual(10);
    const casino = layer('water_polygons_labels').find((f) => f.properties.name === 'Fontaine du Casino');
    expect(casino).toMatchObject({ geometry: { type: 'Point' }, properties: { kind: 'water' } });
  });

  it('has Monaco as a capital, its country boundary and public transport', () => {
    expect(layer('place_labels').find((f) => f.properties.name === 'Monaco')).toMatchObject({
      minzoom: 4,
      properties: { kind: 'capital', population: 36371 },
    });
    expect(layer('boundaries').some((f) => f.properties.admin_level === 2 && f.minzoom === 0)).toBe(true);
    expect(layer('public_transport').some((f) => f.properties.kind === 'bus_stop')).toBe(true);
  });

  it('emits only declared layers, fields and types, within the declared zooms', () => {
    checkContract(features);
    const emitted = new Set(features.map((f) => f.layer));
    for (const l of [
      'ocean',
      'streets',
      'street_labels',
      'buildings',
      'water_polygons',
      'pois',
      'land',
      'sites',
    ]) {
      expect(emitted).toContain(l);
    }
  });
});

describe.skipIf(!hasOsmium || !andorraPbf)('Shortbread on the real Andorra extract', () => {
  it('emits only declared layers, fields and types, within the declared zooms', async () => {
    const features = await mapRegion('andorra', andorraPbf!, null);
    checkContract(features);
    const emitted = new Set(features.map((f) => f.layer));
    for (const l of ['aerialways', 'water_lines', 'water_lines_labels', 'dam_lines', 'boundary_labels'])
      expect(emitted).toContain(l);
  });
});
