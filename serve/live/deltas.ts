// Live deltas, pure: one stored event and the projection rows as they stood right after it → the messages of the
// live protocol, one per region the event changes. Each DIFF is MapLibre's GeoJSONSourceDiff over two sources
// (`nodes`, `threads`) with the activity tiles' fields (pipeline/profiles/activity.ts), computed at the event's time.
//
// Every changed feature that is visible after the event goes in `add` whole (MapLibre's add replaces a feature of
// the same id, so it is an upsert that also works for a feature the client only had from tiles); a feature that
// is no longer visible goes in `remove`. Lists are sorted by id, so the same event and rows give the same bytes
// whether computed live or replayed from the store.
import { fade, toMillis } from '../../core/fade.js';
import type { StoredEvent } from '../../core/domain/schemas.js';
import type { NodeRow, ProposalRow, RoleRow, ThreadRow } from '../../core/projections/tables.js';
import { epochSeconds, tileFade } from '../../pipeline/profiles/activity.js';

export type LonLat = [number, number];
/** [west, south, east, north] */
export type BBox = [number, number, number, number];

export interface NodeFeature {
  type: 'Feature';
  id: string;
  geometry: { type: 'Point'; coordinates: LonLat };
  properties: {
    id: string;
    title: string;
    kind: string;
    fade: number;
    threads: number;
    open_proposals: number;
    last_activity: number;
  };
}

export interface ThreadFeature {
  type: 'Feature';
  id: string;
  geometry: { type: 'LineString'; coordinates: [LonLat, LonLat] };
  properties: { id: string; node_id: string; fade: number; last_activity: number };
}

export interface FeatureDiff {
  id: string;
  newGeometry?: NodeFeature['geometry'] | ThreadFeature['geometry'];
  addOrUpdateProperties?: { key: string; value: unknown }[];
  removeProperties?: string[];
}

export interface SourceDiff<F> {
  add?: F[];
  update?: FeatureDiff[];
  remove?: string[];
}

export interface DeltaMessage {
  type: 'delta';
  region: string;
  position: number;
  event: string;
  /** the event's time, ISO 8601 */
  at: string;
  diffs: { nodes?: SourceDiff<NodeFeature>; threads?: SourceDiff<ThreadFeature> };
}

/** One message for one region, with what the server needs to route it. */
export interface Delta {
  region: string;
  position: number;
  /** The extent of every feature the message adds or removes; null when it touches no feature. */
  bbox: BBox | null;
  message: DeltaMessage;
}

/** The rows a translation reads, as they stood right after the event. */
export interface DeltaView {
  node(id: string): NodeRow | undefined;
  thread(id: string): ThreadRow | undefined;
  proposal(id: string): ProposalRow | undefined;
  role(id: string): RoleRow | undefined;
  /** Every thread to the node (faded ones included). */
  threadsOfNode(nodeId: string): ThreadRow[];
  /** Every proposal on the node. */
  proposalsOfNode(nodeId: string): ProposalRow[];
  /** Every thread of the role. */
  threadsOfRole(roleId: string): ThreadRow[];
}

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A node is drawn at T when it is not hidden and has had activity within the fade period. */
export function nodeVisible(n: NodeRow, T: number): boolean {
  return !n.hidden && fade(T, n.last_activity_at) > 0;
}

/** A thread is drawn at T when it has not faded, its fade is above 0, and its node is drawn. */
export function threadLive(t: ThreadRow, T: number): boolean {
  return !t.faded && fade(T, t.last_activity_at) > 0;
}

function proposalOpen(p: ProposalRow, T: number): boolean {
  return !p.closed && toMillis(p.closes_at) > T;
}

export function nodeFeature(n: NodeRow, view: DeltaView, T: number): NodeFeature {
  let threads = 0;
  for (const t of view.threadsOfNode(n.node_id)) if (threadLive(t, T)) threads += 1;
  let open = 0;
  for (const p of view.proposalsOfNode(n.node_id)) if (proposalOpen(p, T)) open += 1;
  return {
    type: 'Feature',
    id: n.node_id,
    geometry: { type: 'Point', coordinates: [n.lon, n.lat] },
    properties: {
      id: n.node_id,
      title: n.title,
      kind: n.kind,
      fade: tileFade(fade(T, n.last_activity_at)),
      threads,
      open_proposals: open,
      last_activity: epochSeconds(toMillis(n.last_activity_at)),
    },
  };
}

export function threadFeature(t: ThreadRow, T: number): ThreadFeature {
  return {
    type: 'Feature',
    id: t.thread_id,
    geometry: {
      type: 'LineString',
      coordinates: [
        [t.from_lon, t.from_lat],
        [t.to_lon, t.to_lat],
      ],
    },
    properties: {
      id: t.thread_id,
      node_id: t.node_id,
      fade: tileFade(fade(T, t.last_activity_at)),
      last_activity: epochSeconds(toMillis(t.last_activity_at)),
    },
  };
}

/** Collects one region's changes: features to add (upsert) or remove, and the extent they cover. */
class RegionChanges {
  readonly nodesAdd = new Map<string, NodeFeature>();
  readonly nodesRemove = new Set<string>();
  readonly threadsAdd = new Map<string, ThreadFeature>();
  readonly threadsRemove = new Set<string>();
  bbox: BBox | null = null;

  private extend(points: readonly LonLat[]): void {
    for (const [x, y] of points) {
      if (!this.bbox) this.bbox = [x, y, x, y];
      else {
        const b = this.bbox;
        if (x < b[0]) b[0] = x;
        if (y < b[1]) b[1] = y;
        if (x > b[2]) b[2] = x;
        if (y > b[3]) b[3] = y;
      }
    }
  }

  /** The node as it is drawn now: added when visible, else removed. */
  node(n: NodeRow, view: DeltaView, T: number): void {
    this.extend([[n.lon, n.lat]]);
    if (nodeVisible(n, T)) {
      this.nodesRemove.delete(n.node_id);
      this.nodesAdd.set(n.node_id, nodeFeature(n, view, T));
    } else {
      this.nodesAdd.delete(n.node_id);
      this.nodesRemove.add(n.node_id);
    }
  }

  /** The thread as it is drawn now (its node `node`): added when live and its node visible, else removed. */
  thread(t: ThreadRow, node: NodeRow | undefined, T: number): void {
    this.extend([
      [t.from_lon, t.from_lat],
      [t.to_lon, t.to_lat],
    ]);
    if (node && nodeVisible(node, T) && threadLive(t, T)) {
      this.threadsRemove.delete(t.thread_id);
      this.threadsAdd.set(t.thread_id, threadFeature(t, T));
    } else {
      this.threadsAdd.delete(t.thread_id);
      this.threadsRemove.add(t.thread_id);
    }
  }

  removeThread(t: ThreadRow): void {
    this.extend([
      [t.from_lon, t.from_lat],
      [t.to_lon, t.to_lat],
    ]);
    this.threadsAdd.delete(t.thread_id);
    this.threadsRemove.add(t.thread_id);
  }

  diffs(): DeltaMessage['diffs'] {
    const out: DeltaMessage['diffs'] = {};
    const nodes = diffOf(this.nodesAdd, this.nodesRemove);
    const threads = diffOf(this.threadsAdd, this.threadsRemove);
    if (nodes) out.nodes = nodes;
    if (threads) out.threads = threads;
    return out;
  }
}

function diffOf<F>(add: Map<string, F>, remove: Set<string>): SourceDiff<F> | undefined {
  if (!add.size && !remove.size) return undefined;
  const d: SourceDiff<F> = {};
  if (add.size) d.add = [...add.keys()].sort(byId).map((id) => add.get(id)!);
  if (remove.size) d.remove = [...remove].sort(byId);
  return d;
}

/**
 * The region an event belongs to (the one its outbox topic names), read from the rows after the event — the
 * same answer the projections' reducer gives.
 */
export function regionOfEvent(e: StoredEvent, view: DeltaView): string | undefined {
  switch (e.type) {
    case 'RoleRegistered':
      return e.payload.regionId;
    case 'RoleHomePlaced':
    case 'RoleHomeCleared':
      return view.role(e.payload.roleId)?.region_id;
    case 'NodeCreated':
      return e.payload.regionId;
    case 'NodeHidden':
    case 'NodeRestored':
    case 'ProposalOpened':
      return view.node(e.payload.nodeId)?.region_id;
    case 'ThreadSpun':
    case 'ThreadRenewed':
    case 'ThreadFaded':
      return view.thread(e.payload.threadId)?.region_id ?? view.node(e.payload.nodeId)?.region_id;
    case 'VoteCast':
    case 'ProposalClosed':
      return view.proposal(e.payload.proposalId)?.region_id;
  }
}

/**
 * The messages for one event: one for its own region (even when nothing visible changed, so that a client's
 * position moves on), and one for every other region whose features it changed (a role's new home moves its
 * threads, which may lead into other regions). Sorted by region.
 */
export function deltasForEvent(e: StoredEvent, view: DeltaView): Delta[] {
  const home = regionOfEvent(e, view);
  const T = toMillis(e.occurredAt);
  const regions = new Map<string, RegionChanges>();
  const changes = (region: string): RegionChanges => {
    let c = regions.get(region);
    if (!c) regions.set(region, (c = new RegionChanges()));
    return c;
  };
  if (home) changes(home);
  const sortedThreads = (rows: ThreadRow[]) => [...rows].sort((a, b) => byId(a.thread_id, b.thread_id));

  switch (e.type) {
    case 'RoleRegistered':
      break;
    case 'RoleHomePlaced':
    case 'RoleHomeCleared':
      // only the start of its threads moved: every drawn one is sent again with its new geometry
      for (const t of sortedThreads(view.threadsOfRole(e.payload.roleId))) {
        const node = view.node(t.node_id);
        if (node && nodeVisible(node, T) && threadLive(t, T)) changes(t.region_id).thread(t, node, T);
      }
      break;
    case 'NodeCreated':
    case 'NodeRestored': {
      const n = view.node(e.payload.nodeId);
      if (!n) break;
      const c = changes(n.region_id);
      c.node(n, view, T);
      if (e.type === 'NodeRestored' && nodeVisible(n, T)) {
        for (const t of sortedThreads(view.threadsOfNode(n.node_id))) if (threadLive(t, T)) c.thread(t, n, T);
      }
      break;
    }
    case 'NodeHidden': {
      const n = view.node(e.payload.nodeId);
      if (!n) break;
      const c = changes(n.region_id);
      c.node(n, view, T);
      for (const t of sortedThreads(view.threadsOfNode(n.node_id))) if (!t.faded) c.removeThread(t);
      break;
    }
    case 'ThreadSpun':
    case 'ThreadRenewed':
    case 'ThreadFaded': {
      const t = view.thread(e.payload.threadId);
      const n = view.node(e.payload.nodeId);
      if (!t || !n) break;
      const c = changes(t.region_id);
      if (e.type === 'ThreadFaded') c.removeThread(t);
      else c.thread(t, n, T);
      c.node(n, view, T);
      break;
    }
    case 'ProposalOpened': {
      const n = view.node(e.payload.nodeId);
      if (n) changes(n.region_id).node(n, view, T);
      break;
    }
    case 'VoteCast':
    case 'ProposalClosed': {
      const p = view.proposal(e.payload.proposalId);
      const n = p ? view.node(p.node_id) : undefined;
      if (n) changes(n.region_id).node(n, view, T);
      break;
    }
  }

  return [...regions.keys()].sort(byId).map((region) => {
    const c = regions.get(region)!;
    return {
      region,
      position: e.position,
      bbox: c.bbox,
      message: {
        type: 'delta',
        region,
        position: e.position,
        event: e.type,
        at: e.occurredAt,
        diffs: c.diffs(),
      },
    };
  });
}

/** True when a subscription's bbox (none: the whole region) wants a delta with this extent. */
export function bboxWants(sub: BBox | undefined, extent: BBox | null): boolean {
  if (!sub || !extent) return true;
  return extent[0] <= sub[2] && extent[2] >= sub[0] && extent[1] <= sub[3] && extent[3] >= sub[1];
}
