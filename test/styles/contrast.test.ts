// Contrast of both styles, computed from the built style files: every label's text colours against its halo
// (WCAG 2 text contrast ≥ 4.5:1, every branch of a colour expression), and the activity's marks against the base's
// ground colours (WCAG non-text contrast ≥ 3:1 at full freshness).
import { readFileSync } from 'node:fs';
import type { Color, LayerSpecification, StyleSpecification } from '@maplibre/maplibre-gl-style-spec';
import { describe, expect, it } from 'vitest';
import { STYLES_DIR } from '../../styles/build.js';
import { ACTIVITY_LAYERS } from '../../styles/src/activity.js';
import { coloursIn } from './style-reads.js';
import { contrast } from './wcag.js';

const read = (name: string) => JSON.parse(readFileSync(`${STYLES_DIR}${name}`, 'utf8')) as StyleSpecification;
type Painted = LayerSpecification & { paint?: Record<string, unknown>; layout?: Record<string, unknown> };
const rgb = (c: Color): [number, number, number] => [c.r, c.g, c.b];

/** Each text layer's worst text/halo pair. */
function labelContrasts(style: StyleSpecification): { id: string; ratio: number; pairs: number }[] {
  const out: { id: string; ratio: number; pairs: number }[] = [];
  for (const l of style.layers as Painted[]) {
    if (l.type !== 'symbol' || !l.layout?.['text-field']) continue;
    const text = coloursIn(l.paint?.['text-color'] ?? '#000000');
    const halo = coloursIn(l.paint?.['text-halo-color'] ?? 'rgba(0, 0, 0, 0)');
    const width = Number(l.paint?.['text-halo-width'] ?? 0);
    // a missing or transparent halo has nothing to contrast against: fail the layer
    const usable =
      width > 0 && halo.length > 0 && halo.every((h) => h.a === 1) && text.every((t) => t.a === 1);
    let ratio = usable ? Infinity : 0;
    for (const t of text) for (const h of halo) ratio = Math.min(ratio, contrast(rgb(t), rgb(h)));
    out.push({ id: l.id, ratio: Math.round(ratio * 100) / 100, pairs: text.length * halo.length });
  }
  return out;
}

describe('contrast', () => {
  it('computes WCAG ratios (known values)', () => {
    expect(contrast([0, 0, 0], [1, 1, 1])).toBeCloseTo(21, 5);
    expect(contrast([1, 1, 1], [1, 1, 1])).toBe(1);
    // #777777 on white is the classic just-failing grey (4.48:1)
    const g = 0x77 / 255;
    expect(contrast([g, g, g], [1, 1, 1])).toBeCloseTo(4.48, 2);
    // the layer check catches a weak text colour in any branch, and a missing halo
    const layer = (id: string, paint: Record<string, unknown>) =>
      ({
        id,
        type: 'symbol',
        source: 's',
        'source-layer': 'l',
        layout: { 'text-field': 'x' },
        paint,
      }) as const;
    const fake = {
      version: 8,
      sources: {},
      layers: [
        layer('grey', {
          'text-color': ['case', true, '#000000', '#777777'],
          'text-halo-color': '#ffffff',
          'text-halo-width': 1,
        }),
        layer('no-halo', { 'text-color': '#000000' }),
      ],
    } as unknown as StyleSpecification;
    expect(labelContrasts(fake).map((l) => [l.id, l.ratio])).toEqual([
      ['grey', 4.48],
      ['no-halo', 0],
    ]);
  });

  for (const file of ['base.json', 'activity.json', 'weft.json'])
    it(`${file}: every label's text colours reach 4.5:1 against its halo`, () => {
      const labels = labelContrasts(read(file));
      expect(labels.length).toBeGreaterThan(file === 'activity.json' ? 1 : 8);
      for (const l of labels) {
        expect(l.pairs, l.id).toBeGreaterThan(0);
        expect(l.ratio, l.id).toBeGreaterThanOrEqual(4.5);
      }
      console.log(`${file}: lowest label contrast ${Math.min(...labels.map((l) => l.ratio))}:1`);
    });

  it('the activity marks stand out from the base ground (≥ 3:1 at fade 1)', () => {
    const weft = read('weft.json');
    const layer = (id: string) => weft.layers.find((l) => l.id === id) as Painted;
    const ground = [
      ...coloursIn(layer('background').paint!['background-color']),
      ...coloursIn(layer('landuse').paint!['fill-color']),
      ...coloursIn(layer('landcover').paint!['fill-color']),
      ...coloursIn(layer('ocean').paint!['fill-color']),
      ...coloursIn(layer('buildings').paint!['fill-color']),
      ...coloursIn(layer('street').paint!['line-color']),
    ];
    expect(ground.length).toBeGreaterThan(15);
    // the colour a node and a thread have at fade 1 (the last stop of the fade ramp), and the proposal ring
    const nodeRamp = layer(ACTIVITY_LAYERS.nodes).paint!['circle-color'] as unknown[];
    const fresh = coloursIn(nodeRamp.at(-1));
    expect(fresh).toHaveLength(1);
    const thread = coloursIn(layer(ACTIVITY_LAYERS.threads).paint!['line-color']);
    const ring = coloursIn(layer(ACTIVITY_LAYERS.proposals).paint!['circle-stroke-color']);
    for (const [name, marks] of Object.entries({ node: fresh, thread, ring }))
      for (const m of marks)
        for (const g of ground)
          expect(contrast(rgb(m), rgb(g)), `${name} vs ${g.toString()}`).toBeGreaterThanOrEqual(3);
  });
});
