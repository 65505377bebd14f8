// weft.json is the base style and the activity overlay in one: the union of their sources, the base's layers with
// the overlay's line layers slipped under the base's first label layer (threads run under street and place names)
// and the rest of the overlay on top. Pure; styles/build.ts writes the result and a test checks it matches.
import type { LayerSpecification, StyleSpecification } from '@maplibre/maplibre-gl-style-spec';
import { BELOW_LABELS, PLACEMENT_KEY } from './activity.js';

function placement(layer: LayerSpecification): unknown {
  const m = layer.metadata as Record<string, unknown> | undefined;
  return m?.[PLACEMENT_KEY];
}

/** Merges `overlay` into `base`; throws when they share a source or layer id or disagree on the glyphs. */
export function mergeStyles(
  base: StyleSpecification,
  overlay: StyleSpecification,
  root: Pick<StyleSpecification, 'name' | 'metadata'>,
): StyleSpecification {
  for (const id of Object.keys(overlay.sources))
    if (id in base.sources) throw new Error(`mergeStyles: source "${id}" is in both styles`);
  const ids = new Set(base.layers.map((l) => l.id));
  for (const l of overlay.layers)
    if (ids.has(l.id)) throw new Error(`mergeStyles: layer "${l.id}" is in both styles`);
  if (overlay.glyphs && base.glyphs && overlay.glyphs !== base.glyphs)
    throw new Error('mergeStyles: the styles load glyphs from different URLs');
  const firstLabel = base.layers.findIndex((l) => l.type === 'symbol');
  const at = firstLabel < 0 ? base.layers.length : firstLabel;
  const below = overlay.layers.filter((l) => placement(l) === BELOW_LABELS);
  const above = overlay.layers.filter((l) => placement(l) !== BELOW_LABELS);
  return {
    version: 8,
    ...root,
    sources: { ...base.sources, ...overlay.sources },
    glyphs: base.glyphs ?? overlay.glyphs,
    layers: [...base.layers.slice(0, at), ...below, ...base.layers.slice(at), ...above],
  };
}
