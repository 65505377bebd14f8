// Which tile features the live sources now own, and the layer filters that hide the tiles' copies of them. A node
// or thread that a live delta added, changed or removed is drawn from the live GeoJSON sources only (or not at
// all, once removed), so it never shows twice or in its old state. Tile nodes carry `properties.id`; tile threads
// only their numeric MVT id (pipeline/profiles/activity.ts threadFeatureId), computed here from the string id the
// deltas use. Pure (no DOM, no MapLibre): unit-tested.
import type { GeoJsonDiff } from './live.js';

/** Every feature id a diff touches (added, updated or removed), as strings. */
export function idsTouched(diff: GeoJsonDiff | undefined): string[] {
  if (!diff) return [];
  const out: string[] = [];
  for (const f of diff.add ?? []) {
    const id = (f as { id?: unknown }).id;
    if (typeof id === 'string' || typeof id === 'number') out.push(String(id));
  }
  for (const u of diff.update ?? []) {
    const id = (u as { id?: unknown }).id;
    if (typeof id === 'string' || typeof id === 'number') out.push(String(id));
  }
  for (const id of diff.remove ?? []) out.push(String(id));
  return out;
}

/**
 * A thread's MVT feature id in the activity tiles: the first 13 hex digits of its id ("t-" + hex), as a number.
 * Undefined for an id of another shape (the tiles hash those with sha256; such ids do not occur in practice).
 */
export function threadTileId(threadId: string): number | undefined {
  const m = /^t-([0-9a-f]{13})/.exec(threadId);
  return m ? Number.parseInt(m[1]!, 16) : undefined;
}

/** The ids the live sources own: node ids (strings) and thread tile ids (numbers). */
export class Owned {
  readonly nodes = new Set<string>();
  readonly threads = new Set<number>();

  /** Records the ids of a delta's diffs; true when something new is owned (the filters must change). */
  take(diffs: { nodes?: GeoJsonDiff; threads?: GeoJsonDiff }): boolean {
    let changed = false;
    for (const id of idsTouched(diffs.nodes))
      if (!this.nodes.has(id)) {
        this.nodes.add(id);
        changed = true;
      }
    for (const id of idsTouched(diffs.threads)) {
      const n = threadTileId(id);
      if (n !== undefined && !this.threads.has(n)) {
        this.threads.add(n);
        changed = true;
      }
    }
    return changed;
  }
}

type Filter = unknown;

function classifyChildren(children: Filter[]): 'legacy' | 'expression' | 'neutral' {
  let out: 'legacy' | 'expression' | 'neutral' = 'neutral';
  for (const c of children) {
    const k = classifyFilter(c);
    if (k === 'legacy') return 'legacy';
    if (k === 'expression') out = 'expression';
  }
  return out;
}

/**
 * Whether a style filter is written in the legacy filter syntax, as an expression, or could be either (MapLibre's
 * own rule, style-spec `isExpressionFilter`): the hiding filter must be written in the same syntax.
 */
export function classifyFilter(filter: Filter): 'legacy' | 'expression' | 'neutral' {
  if (typeof filter === 'boolean') return 'neutral';
  if (!Array.isArray(filter) || filter.length === 0) return 'legacy';
  switch (filter[0]) {
    case 'has':
      if (filter.length < 2 || filter[1] === '$id' || filter[1] === '$type') return 'legacy';
      return filter.length === 2 ? 'neutral' : 'expression';
    case 'in':
      return filter.length >= 3 && (typeof filter[1] !== 'string' || Array.isArray(filter[2]))
        ? 'expression'
        : 'legacy';
    case '!in':
    case '!has':
    case 'none':
      return 'legacy';
    case '==':
    case '!=':
    case '>':
    case '>=':
    case '<':
    case '<=':
      return filter.length !== 3 || Array.isArray(filter[1]) || Array.isArray(filter[2])
        ? 'expression'
        : 'legacy';
    case 'any':
    case 'all':
      return classifyChildren(filter.slice(1) as Filter[]);
    default:
      return 'expression';
  }
}

/**
 * A layer's filter that also leaves out the owned features: nodes by their `id` property, threads by their
 * feature id. The original filter when nothing is owned.
 */
export function hidingFilter(
  original: Filter | undefined,
  kind: 'nodes' | 'threads',
  ids: readonly (string | number)[],
): Filter | undefined {
  if (!ids.length) return original;
  const legacy = original !== undefined && classifyFilter(original) === 'legacy';
  const exclude = legacy
    ? ['!in', kind === 'nodes' ? 'id' : '$id', ...ids]
    : ['!', ['in', kind === 'nodes' ? ['get', 'id'] : ['id'], ['literal', [...ids]]]];
  return original === undefined ? exclude : ['all', original, exclude];
}

/** A style layer as far as hiding goes. */
export interface TileLayer {
  id: string;
  source?: string;
  'source-layer'?: string;
  filter?: Filter;
}

/**
 * The new filter of every activity layer drawing nodes or threads, so that the owned features are left out.
 * `layers` holds the layers as the style was prepared (their original filters).
 */
export function ownedFilters(
  layers: readonly TileLayer[],
  activitySources: readonly string[],
  owned: Owned,
): Map<string, Filter | undefined> {
  const out = new Map<string, Filter | undefined>();
  const nodes = [...owned.nodes];
  const threads = [...owned.threads];
  for (const l of layers) {
    if (!l.source || !activitySources.includes(l.source)) continue;
    const sl = l['source-layer'];
    if (sl === 'nodes') out.set(l.id, hidingFilter(l.filter, 'nodes', nodes));
    else if (sl === 'threads') out.set(l.id, hidingFilter(l.filter, 'threads', threads));
  }
  return out;
}
