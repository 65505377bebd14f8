// The activity schema: layers `nodes` (points; counts per grid cell below NODE_DETAIL_ZOOM) and `threads` (lines
// from a role's public position to a node), with fade, counts and times as fields. Pure; knows nothing of tiles.
//
// Fields (vector_layers below says the same to clients):
//   nodes    id, title, kind          the node (on single-node points only)
//            count                     nodes in the point: 1 from NODE_DETAIL_ZOOM up, the cell's count below
//            fade                      0 < fade ≤ 1: the node's freshest activity under the fade rule at T (its live
//                                      threads' maximum, or its creation/restoration when that is later); cells: max
//            threads                   live threads to the node (the ones drawn at T); cells: sum
//            open_proposals            proposals on the node not closed and not past their closing time at T; cells: sum
//            last_activity             epoch seconds (integer, UTC) of the node's last activity; cells: max
//   threads  fade                      the fade rule at T, rounded up to 1/1000 (a live thread never shows 0)
//            node_id                   the node it leads to
//            last_activity             epoch seconds (integer, UTC) of its last engagement
//            the MVT feature id (not a field): threadFeatureId(thread id), stable across builds
// Threads appear from THREADS_MINZOOM up, where a town's threads spread over several tiles; below it the nodes
// layer's cells count them (`threads`), which keeps low-zoom tiles small. Density is shown by threads and counts
// alone: no heatmap, no density field.
import { createHash } from 'node:crypto';
import type { PropertyValue } from '../mvt/types.js';
import { projectX, projectY, unprojectX, unprojectY } from '../tiler/project.js';
import type { LayerFeature, Profile, SourceFeature, VectorLayerSpec } from '../tiler/types.js';

/** From this zoom up every visible node is its own point; below it, nodes are counted per grid cell. */
export const NODE_DETAIL_ZOOM = 12;
/** The side of an aggregation cell in pixels of a 256-px tile (64 px: 4 × 4 cells per tile). */
export const CLUSTER_CELL_PX = 64;
/** Threads appear from this zoom; below it the nodes layer's cells carry their count (`threads`). */
export const THREADS_MINZOOM = 12;
/**
 * The activity archive's highest zoom (a region's maxzoom caps it further). Points and two-point lines need no
 * finer grid than z13's (a tile unit is under 1 m), and clients overzoom vector tiles: a z14 level would cut the
 * same lines into as many pieces again as z12 and z13 together (measured: 3.6 M records instead of 1.9 M for
 * 350 k threads), nearly doubling the build for nothing a map can show.
 */
export const ACTIVITY_MAXZOOM = 13;
const MAX_ZOOM = ACTIVITY_MAXZOOM;

/** The input names (chunk sources) the activity build feeds the engine. */
export const ACTIVITY_SOURCES = { nodes: 'nodes', clusters: 'clusters', threads: 'threads' } as const;

export const activityLayers: VectorLayerSpec[] = [
  {
    id: 'nodes',
    description: `Places and topics (nodes); below z${NODE_DETAIL_ZOOM} counted per ${CLUSTER_CELL_PX}-px cell`,
    minzoom: 0,
    maxzoom: MAX_ZOOM,
    fields: {
      id: 'String',
      title: 'String',
      kind: 'String',
      count: 'Number',
      fade: 'Number',
      threads: 'Number',
      open_proposals: 'Number',
      last_activity: 'Number',
    },
  },
  {
    id: 'threads',
    description: 'Threads from a role’s public position (or its area’s point) to a node, fading over 7 days',
    minzoom: THREADS_MINZOOM,
    maxzoom: MAX_ZOOM,
    fields: { fade: 'Number', node_id: 'String', last_activity: 'Number' },
  },
];

/** A visible node at T, as the tiles show it. */
export interface ActivityNode {
  id: string;
  title: string;
  kind: string;
  lon: number;
  lat: number;
  /** 0 < fade ≤ 1 */
  fade: number;
  threads: number;
  openProposals: number;
  /** epoch seconds */
  lastActivity: number;
}

/** A live thread at T. */
export interface ActivityThread {
  id: string;
  nodeId: string;
  from: [number, number];
  to: [number, number];
  /** 0 < fade ≤ 1 */
  fade: number;
  /** epoch seconds */
  lastActivity: number;
}

/** A grid cell's nodes at one zoom: one point at the members' centroid. */
export interface NodeCluster {
  z: number;
  lon: number;
  lat: number;
  count: number;
  fade: number;
  threads: number;
  openProposals: number;
  lastActivity: number;
  /** the member, when the cell holds exactly one */
  single?: ActivityNode;
}

/**
 * A thread's MVT feature id: the first 52 bits of its id's hex digest (thread ids are "t-" + 24 hex digits of a
 * sha256, see core/domain/ids.ts), a safe integer; other ids are hashed first. Stable for the thread's lifetime.
 */
export function threadFeatureId(threadId: string): number {
  const m = /^t-([0-9a-f]{13})/.exec(threadId);
  const hex = m ? m[1]! : createHash('sha256').update(threadId).digest('hex').slice(0, 13);
  return Number.parseInt(hex, 16);
}

/** The fade as written to tiles: rounded up to 1/1000, so a live thread (fade > 0) never shows 0. */
export function tileFade(f: number): number {
  if (!(f > 0)) return 0;
  return Math.min(1, Math.max(0.001, Math.ceil(f * 1000 - 1e-9) / 1000));
}

/** Milliseconds → whole epoch seconds (floor). */
export function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/**
 * Counts nodes per grid cell of CLUSTER_CELL_PX pixels at zoom z. `nodes` must come in a fixed order (the build
 * passes them sorted by id): the centroid is a floating-point mean, so its bits depend on the order of the sum.
 * Cells come out ordered by row, then column.
 */
export function clusterNodes(
  nodes: readonly ActivityNode[],
  z: number,
  cellPx = CLUSTER_CELL_PX,
): NodeCluster[] {
  const perTile = 256 / cellPx;
  const side = 2 ** z * perTile;
  const cells = new Map<number, { sx: number; sy: number; c: NodeCluster }>();
  for (const n of nodes) {
    const wx = projectX(n.lon);
    const wy = projectY(n.lat);
    const cx = Math.min(side - 1, Math.floor(wx * side));
    const cy = Math.min(side - 1, Math.floor(wy * side));
    const key = cy * side + cx;
    const cell = cells.get(key);
    if (!cell) {
      cells.set(key, {
        sx: wx,
        sy: wy,
        c: {
          z,
          lon: 0,
          lat: 0,
          count: 1,
          fade: n.fade,
          threads: n.threads,
          openProposals: n.openProposals,
          lastActivity: n.lastActivity,
          single: n,
        },
      });
      continue;
    }
    const c = cell.c;
    cell.sx += wx;
    cell.sy += wy;
    c.count += 1;
    if (n.fade > c.fade) c.fade = n.fade;
    c.threads += n.threads;
    c.openProposals += n.openProposals;
    if (n.lastActivity > c.lastActivity) c.lastActivity = n.lastActivity;
    delete c.single;
  }
  return [...cells.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, { sx, sy, c }]) => {
      if (c.single) {
        c.lon = c.single.lon;
        c.lat = c.single.lat;
      } else {
        c.lon = unprojectX(sx / c.count);
        c.lat = unprojectY(sy / c.count);
      }
      return c;
    });
}

// ---- source features (what the build hands the engine) -------------------------------------------------------------

export function nodeFeature(n: ActivityNode): SourceFeature {
  return {
    geometry: { type: 'Point', coordinates: [n.lon, n.lat] },
    properties: {
      id: n.id,
      title: n.title,
      kind: n.kind,
      count: 1,
      fade: tileFade(n.fade),
      threads: n.threads,
      open_proposals: n.openProposals,
      last_activity: n.lastActivity,
    },
  };
}

export function clusterFeature(c: NodeCluster): SourceFeature {
  const single = c.single ? { id: c.single.id, title: c.single.title, kind: c.single.kind } : {};
  return {
    geometry: { type: 'Point', coordinates: [c.lon, c.lat] },
    properties: {
      z: c.z,
      ...single,
      count: c.count,
      fade: tileFade(c.fade),
      threads: c.threads,
      open_proposals: c.openProposals,
      last_activity: c.lastActivity,
    },
  };
}

export function threadFeature(t: ActivityThread): SourceFeature {
  return {
    id: threadFeatureId(t.id),
    geometry: { type: 'LineString', coordinates: [t.from, t.to] },
    properties: { node_id: t.nodeId, fade: tileFade(t.fade), last_activity: t.lastActivity },
  };
}

// ---- the profile ----------------------------------------------------------------------------------------------------

function pick(props: Record<string, unknown>, keys: readonly string[]): Record<string, PropertyValue> {
  const out: Record<string, PropertyValue> = {};
  for (const k of keys) {
    const v = props[k];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  return out;
}

const NODE_KEYS = ['id', 'title', 'kind', 'count', 'fade', 'threads', 'open_proposals', 'last_activity'];
const THREAD_KEYS = ['node_id', 'fade', 'last_activity'];

/** Later activity draws on top (features in a tile layer are written in ascending sort key). */
function sortKey(props: Record<string, unknown>): number {
  return typeof props.last_activity === 'number' ? props.last_activity : 0;
}

/** The activity profile: `source` says which kind of feature the build sent (see ACTIVITY_SOURCES). */
export function createProfile(_options: unknown): Profile {
  return {
    name: 'activity',
    map(f: SourceFeature, source?: string): LayerFeature[] {
      const p = f.properties;
      switch (source) {
        case ACTIVITY_SOURCES.nodes:
          return [
            {
              layer: 'nodes',
              geometry: f.geometry,
              properties: pick(p, NODE_KEYS),
              minzoom: NODE_DETAIL_ZOOM,
              maxzoom: MAX_ZOOM,
              sortKey: sortKey(p),
            },
          ];
        case ACTIVITY_SOURCES.clusters: {
          const z = p.z as number;
          return [
            {
              layer: 'nodes',
              geometry: f.geometry,
              properties: pick(p, NODE_KEYS),
              minzoom: z,
              maxzoom: z,
              sortKey: sortKey(p),
            },
          ];
        }
        case ACTIVITY_SOURCES.threads:
          return [
            {
              layer: 'threads',
              geometry: f.geometry,
              properties: pick(p, THREAD_KEYS),
              id: f.id as number,
              minzoom: THREADS_MINZOOM,
              maxzoom: MAX_ZOOM,
              sortKey: sortKey(p),
            },
          ];
        default:
          throw new Error(`activity profile: unknown input "${String(source)}"`);
      }
    },
  };
}
