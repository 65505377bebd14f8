// Test helper: what a style layer reads from its features — the property names in its filter, layout and paint
// (expressions' get/has, `{token}` strings) — and the colour literals inside a property value.
import { Color, type LayerSpecification } from '@maplibre/maplibre-gl-style-spec';

/** Feature property names an expression (or `{field}` string) reads. */
export function fieldsRead(value: unknown, out = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    for (const m of value.matchAll(/\{([^}]+)\}/g)) out.add(m[1]!);
  } else if (Array.isArray(value)) {
    const [op, arg] = value as unknown[];
    if (op === 'literal') return out;
    if ((op === 'get' || op === 'has' || op === '!has') && typeof arg === 'string' && value.length === 2)
      out.add(arg);
    for (const v of value) fieldsRead(v, out);
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) fieldsRead(v, out);
  }
  return out;
}

/** Every field a layer reads in its filter, layout and paint. */
export function layerFields(layer: LayerSpecification): Set<string> {
  const l = layer as LayerSpecification & { filter?: unknown; layout?: unknown; paint?: unknown };
  return fieldsRead([l.filter, l.layout, l.paint]);
}

/** Colour literals anywhere inside a property value (every branch of an expression). */
export function coloursIn(value: unknown, out: Color[] = []): Color[] {
  if (typeof value === 'string') {
    const c = Color.parse(value);
    if (c) out.push(c);
  } else if (Array.isArray(value)) for (const v of value) coloursIn(v, out);
  return out;
}
