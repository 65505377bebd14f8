// Our MapLibre styles (styles/*.json): current with their sources in styles/src, valid under the style spec, wired by
// the serving conventions ({region} URLs, our glyphs, no sprite), weft.json = base + activity, and reading only
// source layers and fields that our profiles' vector_layers declare.
import { readFileSync } from 'node:fs';
import {
  validateStyleMin,
  type LayerSpecification,
  type StyleSpecification,
} from '@maplibre/maplibre-gl-style-spec';
import { describe, expect, it } from 'vitest';
import { activityLayers } from '../../pipeline/profiles/activity.js';
import { shortbreadLayers } from '../../pipeline/profiles/shortbread.js';
import type { VectorLayerSpec } from '../../pipeline/tiler/types.js';
import { buildStyles, STYLES_DIR } from '../../styles/build.js';
import { ACTIVITY_LAYERS, BELOW_LABELS, PLACEMENT_KEY } from '../../styles/src/activity.js';
import { FONTSTACKS } from '../../styles/src/fonts.js';
import { mergeStyles } from '../../styles/src/merge.js';
import { layerFields } from './style-reads.js';

const FILES = ['base.json', 'activity.json', 'weft.json'] as const;
const read = (name: string) => JSON.parse(readFileSync(`${STYLES_DIR}${name}`, 'utf8')) as StyleSpecification;
const styles = Object.fromEntries(FILES.map((f) => [f, read(f)])) as Record<
  (typeof FILES)[number],
  StyleSpecification
>;

/** source id → the profile's vector_layers */
const SCHEMAS: Record<string, VectorLayerSpec[]> = { base: shortbreadLayers, activity: activityLayers };

type SourceLayer = LayerSpecification & {
  source: string;
  'source-layer': string;
  minzoom?: number;
  maxzoom?: number;
};
const sourceLayers = (s: StyleSpecification) =>
  s.layers.filter((l): l is SourceLayer => 'source' in l && typeof l.source === 'string');

describe('styles/*.json', () => {
  it('are what styles/build.ts makes from styles/src (run `npx tsx styles/build.ts` after editing a style)', () => {
    const built = buildStyles();
    for (const f of FILES) expect(styles[f], f).toEqual(JSON.parse(JSON.stringify(built[f])));
  });

  it('validate against the MapLibre style spec', () => {
    for (const f of FILES)
      expect(
        validateStyleMin(styles[f]).map((e) => e.message),
        f,
      ).toEqual([]);
    // the validator does look inside expressions: a wrong type in one is reported
    const broken = structuredClone(styles['weft.json']);
    const nodes = broken.layers.find((l) => l.id === ACTIVITY_LAYERS.nodes) as {
      paint: Record<string, unknown>;
    };
    nodes.paint['circle-radius'] = ['concat', ['get', 'title'], 'px'];
    expect(validateStyleMin(broken).length).toBeGreaterThan(0);
  });

  it('follow the serving conventions: {region} TileJSON URLs, our glyphs, no sprite, no attribution of their own', () => {
    const base = { type: 'vector', url: '/tiles/{region}/base.json' };
    const activity = { type: 'vector', url: '/tiles/{region}/activity.json' };
    expect(styles['base.json'].sources).toEqual({ base });
    expect(styles['activity.json'].sources).toEqual({ activity });
    expect(styles['weft.json'].sources).toEqual({ base, activity });
    for (const f of FILES) {
      const s = styles[f];
      expect(s.glyphs, f).toBe('/fonts/{fontstack}/{range}.pbf');
      expect(s.sprite, f).toBeUndefined();
      expect(JSON.stringify(s), f).not.toMatch(/OpenStreetMap|attribution|https?:/);
      expect(new Set(s.layers.map((l) => l.id)).size, f).toBe(s.layers.length);
    }
    expect(styles['activity.json'].layers.some((l) => l.type === 'background')).toBe(false);
    expect(styles['weft.json'].metadata).toMatchObject({ 'weft:id': 'weft' });
  });

  it('name only fontstacks we build glyphs for', () => {
    const fonts = new Set<string>();
    // `text-font` in layouts (a list of names) and in `format` sections (['literal', names])
    const collect = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(collect);
      else if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) {
          if (k !== 'text-font') collect(x);
          else if (Array.isArray(x) && x[0] === 'literal') (x[1] as string[]).forEach((f) => fonts.add(f));
          else (x as string[]).forEach((f) => fonts.add(f));
        }
    };
    collect(styles['weft.json'].layers);
    expect([...fonts].sort()).toEqual(Object.keys(FONTSTACKS).sort());
  });

  it('weft.json is base + activity: threads under the base labels, the other activity layers on top', () => {
    const weft = styles['weft.json'];
    const base = styles['base.json'];
    const activity = styles['activity.json'];
    expect(weft).toEqual(
      mergeStyles(base, activity, { name: weft.name, metadata: weft.metadata as Record<string, unknown> }),
    );
    const ids = weft.layers.map((l) => l.id);
    // every layer of both, each style's own order kept
    expect(ids.filter((id) => base.layers.some((l) => l.id === id))).toEqual(base.layers.map((l) => l.id));
    expect(ids.filter((id) => activity.layers.some((l) => l.id === id))).toEqual(
      activity.layers.map((l) => l.id),
    );
    const firstLabel = ids.indexOf(base.layers.find((l) => l.type === 'symbol')!.id);
    expect(ids.indexOf(ACTIVITY_LAYERS.threads)).toBe(firstLabel - 1);
    for (const id of [
      ACTIVITY_LAYERS.nodes,
      ACTIVITY_LAYERS.proposals,
      ACTIVITY_LAYERS.counts,
      ACTIVITY_LAYERS.labels,
    ])
      expect(ids.indexOf(id), id).toBeGreaterThan(ids.indexOf('place-labels-settlement'));
    expect(ids.at(-1)).toBe(ACTIVITY_LAYERS.labels);
    const below = activity.layers.filter(
      (l) => (l.metadata as Record<string, unknown>)?.[PLACEMENT_KEY] === BELOW_LABELS,
    );
    expect(below.map((l) => l.id)).toEqual([ACTIVITY_LAYERS.threads]);
    // merging refuses clashes
    expect(() => mergeStyles(base, base, {})).toThrow(/in both styles/);
  });

  it('read only source layers and fields our profiles declare, within the zooms the tiles carry them', () => {
    const weft = styles['weft.json'];
    const used = new Map<string, Set<string>>();
    for (const l of sourceLayers(weft)) {
      const schema = SCHEMAS[l.source];
      expect(schema, `${l.id}: source ${l.source}`).toBeDefined();
      const spec = schema!.find((s) => s.id === l['source-layer']);
      expect(
        spec,
        `${l.id}: source-layer ${l['source-layer']} is not in the ${l.source} profile`,
      ).toBeDefined();
      const fields = layerFields(l);
      for (const f of fields)
        expect(Object.keys(spec!.fields), `${l.id} reads "${f}" of ${l['source-layer']}`).toContain(f);
      // visible somewhere the data is: overzoomed above the archive's maxzoom, never below the layer's minzoom
      expect(l.maxzoom ?? 24, `${l.id} ends before ${spec!.id} starts`).toBeGreaterThan(spec!.minzoom);
      const key = `${l.source}/${l['source-layer']}`;
      used.set(key, new Set([...(used.get(key) ?? []), ...fields]));
    }
    // the walk finds what the style reads (a vacuous walk would pass the loop above)
    expect([...used.get('base/streets')!].sort()).toEqual(['bridge', 'kind', 'link', 'rail', 'tunnel']);
    expect(used.get('base/boundaries')).toEqual(new Set(['admin_level', 'maritime', 'disputed']));
    expect(used.get('activity/threads')).toEqual(new Set(['fade']));
    expect(used.get('activity/nodes')).toEqual(
      new Set(['count', 'threads', 'fade', 'open_proposals', 'title', 'kind']),
    );
    // the base map draws every layer the Shortbread profile writes, except the ones we leave to other zooms/uses
    const drawn = new Set([...used.keys()].filter((k) => k.startsWith('base/')).map((k) => k.slice(5)));
    const undrawn = shortbreadLayers.map((l) => l.id).filter((id) => !drawn.has(id));
    expect(undrawn).toEqual(['street_labels_points']);
    expect(new Set([...used.keys()].filter((k) => k.startsWith('activity/')))).toEqual(
      new Set(activityLayers.map((l) => `activity/${l.id}`)),
    );
  });

  it('threads take their opacity from fade; nodes are sized by count and threads and coloured by fade', () => {
    const layer = (id: string) =>
      styles['activity.json'].layers.find((l) => l.id === id) as LayerSpecification & {
        paint: Record<string, unknown>;
      };
    expect(layer(ACTIVITY_LAYERS.threads).paint['line-opacity']).toEqual(['get', 'fade']);
    const nodes = layer(ACTIVITY_LAYERS.nodes).paint;
    expect(JSON.stringify(nodes['circle-radius'])).toMatch(/"count".*"threads"/);
    expect(JSON.stringify(nodes['circle-color'])).toContain('"fade"');
    expect(JSON.stringify(nodes['circle-opacity'])).toContain('"fade"');
    const proposals = layer(ACTIVITY_LAYERS.proposals) as unknown as { filter: unknown };
    expect(JSON.stringify(proposals.filter)).toContain('open_proposals');
    const counts = layer(ACTIVITY_LAYERS.counts) as unknown as { maxzoom: number };
    expect(counts.maxzoom).toBe(12);
  });
});
