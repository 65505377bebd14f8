// The light path's nodes in view, from the activity tiles protomaps-leaflet already holds: each prepared tile's
// node points placed in world pixels (the tile's origin + the point × its scale) and kept when inside the view.
// Single nodes (with an id) are listed; below the detail zoom the tiles only count nodes per cell, and those counts
// are summed. Pure (no DOM, no Leaflet): unit-tested.

export interface PixelBounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** What this needs of protomaps-leaflet's PreparedTile. */
export interface TileOfFeatures {
  origin: { x: number; y: number };
  scale: number;
  data: Map<
    string,
    { geomType: number; geom: { x: number; y: number }[][]; props: Record<string, unknown> }[]
  >;
}

export interface NodeInView {
  props: Record<string, unknown>;
  /** world pixels at the view's zoom */
  x: number;
  y: number;
}

export interface InView {
  /** single nodes in view, each once */
  nodes: NodeInView[];
  /** nodes counted in cells (no id) in view */
  counted: number;
}

const POINT = 1;

export function nodesInView(tiles: readonly TileOfFeatures[], view: PixelBounds): InView {
  const seen = new Map<string, NodeInView>();
  let counted = 0;
  for (const t of tiles) {
    for (const f of t.data.get('nodes') ?? []) {
      if (f.geomType !== POINT) continue;
      const p = f.geom[0]?.[0];
      if (!p) continue;
      const x = t.origin.x + p.x * t.scale;
      const y = t.origin.y + p.y * t.scale;
      if (x < view.minX || x > view.maxX || y < view.minY || y > view.maxY) continue;
      const id = f.props.id;
      if (typeof id === 'string' && id) {
        if (!seen.has(id)) seen.set(id, { props: f.props, x, y });
      } else {
        const c = Number(f.props.count ?? 1);
        counted += Number.isFinite(c) && c > 0 ? c : 1;
      }
    }
  }
  return { nodes: [...seen.values()], counted };
}
