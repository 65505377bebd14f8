// Conformance of the Shortbread profile with the schema document itself (../shared/data/styles/shortbread-schema-1.0.md):
// the layer list, every layer's fields and types, and every row of the feature tables (tag → kind, min zoom).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mapShortbread, shortbreadLayers } from '../../pipeline/profiles/shortbread.js';
import type { LayerFeature, SourceFeature, SourceGeometry } from '../../pipeline/tiler/types.js';
import { sharedFile } from '../osm/fixtures.js';

const doc = sharedFile('styles/shortbread-schema-1.0.md');

/** The doc split into layer sections: name → markdown text. */
function sections(md: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = md.split(/^### Layer "([^"]+)"\s*$/m);
  for (let i = 1; i < parts.length; i += 2) out.set(parts[i]!, parts[i + 1]!.split(/^## /m)[0]!);
  return out;
}

/** Markdown tables of a section: arrays of rows (header first), cells trimmed. */
function tables(text: string): string[][][] {
  const out: string[][][] = [];
  let current: string[][] | undefined;
  for (const line of text.split('\n')) {
    if (line.trim().startsWith('|')) {
      const cells = line
        .trim()
        .replace(/^\||\|$/g, '')
        .split('|')
        .map((c) => c.trim());
      if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
      (current ??= []).push(cells);
    } else if (current) {
      out.push(current);
      current = undefined;
    }
  }
  if (current) out.push(current);
  return out;
}

const unquote = (s: string) => s.replace(/`/g, '').trim();
const TYPE: Record<string, string> = {
  string: 'String',
  float: 'Number',
  integer: 'Number',
  boolean: 'Boolean',
};

const square = (size = 1): SourceGeometry => ({
  type: 'MultiPolygon',
  coordinates: [
    [
      [
        [0, 0],
        [size, 0],
        [size, size],
        [0, size],
        [0, 0],
      ],
    ],
  ],
});
const line: SourceGeometry = {
  type: 'LineString',
  coordinates: [
    [0, 0],
    [1, 0],
    [1, 1],
  ],
};
const pt: SourceGeometry = { type: 'Point', coordinates: [0.5, 0.5] };

const RAIL = new Set(['rail', 'narrow_gauge', 'tram', 'light_rail', 'funicular', 'subway', 'monorail']);
const AEROWAY = new Set(['runway', 'taxiway']);

/** Tag combinations of an "OSM tag" cell: alternatives (", " or " or ") of conjunctions (" + "). */
function tagAlternatives(cell: string): Array<Record<string, string>> {
  return cell
    .split(/,\s*(?=\{\{)|\s+or\s+/)
    .map((alt) => {
      const tags: Record<string, string> = {};
      for (const m of alt.matchAll(/\{\{< tag "?([^\s">]+)"? (\S+)[^>]*>\}\}/g)) tags[m[1]!] = m[2]!;
      return tags;
    })
    .filter((t) => Object.keys(t).length > 0);
}

function firstZoom(cell: string): number {
  const m = /not below (\d+)/.exec(cell) ?? /(\d+)/.exec(cell);
  return Number(m![1]);
}

function geometryFor(layer: string, cell: string | undefined): SourceGeometry {
  if (cell === 'polygon') return square();
  if (cell === 'line') return line;
  if (cell === 'point') return pt;
  if (/polygon/.test(layer) || layer === 'bridges' || layer === 'land' || layer === 'sites') return square();
  if (/streets$|street_labels$|aerialways|ferries|water_lines/.test(layer)) return line;
  return pt;
}

function tagsForKind(layer: string, kind: string): Record<string, string> {
  if (layer === 'street_polygons' || layer === 'streets_polygons_labels') {
    return AEROWAY.has(kind) ? { 'area:aeroway': kind } : { highway: kind, area: 'yes' };
  }
  if (RAIL.has(kind)) return { railway: kind };
  if (AEROWAY.has(kind)) return { aeroway: kind };
  return { highway: kind };
}

describe.skipIf(!doc)('Shortbread 1.0 conformance with the schema document', () => {
  const md = doc ? readFileSync(doc, 'utf8') : '';
  const layers = sections(md);
  const specs = new Map(shortbreadLayers.map((l) => [l.id, l]));

  it('has exactly the layers of the schema', () => {
    expect([...specs.keys()].sort()).toEqual([...layers.keys()].sort());
    expect(layers.size).toBe(26);
  });

  it('has exactly the fields of each layer, with their types', () => {
    for (const [name, text] of layers) {
      const fields: Record<string, string> = {};
      for (const table of tables(text)) {
        const head = table[0]!.map((h) => h.toLowerCase());
        const nameCol = head.indexOf('field name');
        const typeCol = head.indexOf('type');
        if (nameCol < 0) continue;
        for (const row of table.slice(1))
          fields[unquote(row[nameCol]!)] = typeCol >= 0 ? TYPE[row[typeCol]!]! : 'String';
      }
      if (name === 'buildings') fields.dummy = 'Number'; // described in prose: "a number which is always 1"
      expect({ layer: name, fields: specs.get(name)!.fields }).toEqual({ layer: name, fields });
    }
  });

  it('maps every row of the feature tables to its kind at its zoom', () => {
    const checked: string[] = [];
    for (const [layer, text] of layers) {
      for (const table of tables(text)) {
        const head = table[0]!.map((h) => h.toLowerCase());
        const kindCol = head.findIndex((h) => h === 'value of `kind`');
        const zoomCol = head.indexOf('zoom');
        if (kindCol < 0 || zoomCol < 0) continue;
        const tagCol = head.indexOf('osm tag');
        const geomCol = head.indexOf('geometry');
        const popCol = head.indexOf('default population');
        for (const row of table.slice(1)) {
          const kind = unquote(row[kindCol]!);
          const zoom = firstZoom(row[zoomCol]!);
          const alternatives = tagCol >= 0 ? tagAlternatives(row[tagCol]!) : [tagsForKind(layer, kind)];
          expect(alternatives.length, `${layer} ${kind}: no tags parsed`).toBeGreaterThan(0);
          // "All other ferries" (after "route=ferry + motor_vehicle!=no", absent counting as not "no") have motor_vehicle=no
          if (/^All other ferries/.test(row[0]!)) for (const t of alternatives) t.motor_vehicle = 'no';
          for (const tags of alternatives) {
            const feature: SourceFeature = {
              geometry: geometryFor(layer, geomCol >= 0 ? row[geomCol] : undefined),
              properties: { ...tags, name: 'Somewhere' },
            };
            const out = mapShortbread(feature).filter((f) => f.layer === layer);
            const hit = out.find((f) => f.properties.kind === kind);
            expect(hit, `${layer}: ${JSON.stringify(tags)} → kind ${kind}`).toBeDefined();
            expect({
              layer,
              kind,
              minzoom: Math.min(...out.filter((f) => f.properties.kind === kind).map((f) => f.minzoom)),
            }).toEqual({
              layer,
              kind,
              minzoom: zoom,
            });
            if (popCol >= 0 && /^[\d,]+$/.test(row[popCol]!)) {
              expect(hit!.properties.population).toBe(Number(row[popCol]!.replace(/,/g, '')));
            }
            checked.push(`${layer}:${kind}`);
          }
        }
      }
    }
    expect(new Set(checked.map((c) => c.split(':')[0])).size).toBeGreaterThanOrEqual(16);
    expect(checked.length).toBeGreaterThan(150);
  });

  it('maps every listed POI tag to the pois layer at z14', () => {
    const pois = layers.get('pois')!;
    const listed = [...pois.matchAll(/^- \{\{< tag (\S+) (\S+) >\}\}/gm)].map((m) => [m[1]!, m[2]!] as const);
    expect(listed.length).toBeGreaterThan(130);
    for (const [key, value] of listed) {
      const out: LayerFeature[] = mapShortbread({ geometry: pt, properties: { [key]: value } });
      const poi = out.find((f) => f.layer === 'pois');
      expect(poi?.properties[key], `${key}=${value}`).toBe(value);
      expect(poi!.minzoom).toBe(14);
      // the same tag on an area gives a point
      const area = mapShortbread({ geometry: square(0.001), properties: { [key]: value } }).find(
        (f) => f.layer === 'pois',
      );
      expect(area?.geometry.type).toBe('Point');
    }
  });
});
