// Read queries on the projections that other parts build on, e.g. the activity build's bbox query.
import type { Queryable } from './db/adapter.js';
import { fade } from './fade.js';
import {
  TABLES,
  fromDbRow,
  selectList,
  type NodeRow,
  type ProposalRow,
  type RegionStatsRow,
  type ThreadRow,
} from './projections/tables.js';

export type BBox = [west: number, south: number, east: number, north: number];

const ENVELOPE = 'ST_MakeEnvelope($1, $2, $3, $4, 4326)';

/** The SQL of the bbox query on threads (the activity build's): lines intersecting the envelope (GiST). */
export const THREADS_IN_BBOX_SQL = `SELECT ${selectList(TABLES.threads)} FROM ${TABLES.threads.table}
  WHERE ST_Intersects(geom, ${ENVELOPE}) ORDER BY thread_id`;
/** The SQL of the bbox query on nodes: points inside the envelope (GiST). */
export const NODES_IN_BBOX_SQL = `SELECT ${selectList(TABLES.nodes)} FROM ${TABLES.nodes.table}
  WHERE ST_Intersects(geom, ${ENVELOPE}) ORDER BY node_id`;

export async function threadsInBbox(q: Queryable, bbox: BBox): Promise<ThreadRow[]> {
  const { rows } = await q.query(THREADS_IN_BBOX_SQL, bbox);
  return rows.map((r) => fromDbRow<ThreadRow>(r));
}

export async function nodesInBbox(q: Queryable, bbox: BBox): Promise<NodeRow[]> {
  const { rows } = await q.query(NODES_IN_BBOX_SQL, bbox);
  return rows.map((r) => fromDbRow<NodeRow>(r));
}

export interface ActivityAt {
  /** Visible nodes in the bbox. */
  nodes: NodeRow[];
  /** Threads in the bbox that have not faded at T, with their fade at T (0 < fade ≤ 1). */
  threads: (ThreadRow & { fade: number })[];
}

/** What the activity layer shows at time T: visible nodes and live threads (fade > 0), fade computed once. */
export async function activityAt(q: Queryable, bbox: BBox, T: Date | string): Promise<ActivityAt> {
  const nodes = (await nodesInBbox(q, bbox)).filter((n) => !n.hidden);
  const threads = (await threadsInBbox(q, bbox))
    .map((t) => ({ ...t, fade: t.faded ? 0 : fade(T, t.last_activity_at) }))
    .filter((t) => t.fade > 0);
  return { nodes, threads };
}

export async function proposalsOfNode(q: Queryable, nodeId: string): Promise<ProposalRow[]> {
  const { rows } = await q.query(
    `SELECT ${selectList(TABLES.proposals)} FROM ${TABLES.proposals.table} WHERE node_id = $1 ORDER BY opened_at, proposal_id`,
    [nodeId],
  );
  return rows.map((r) => fromDbRow<ProposalRow>(r));
}

export async function regionStats(q: Queryable, regionId?: string): Promise<RegionStatsRow[]> {
  const { rows } = await q.query(
    `SELECT ${selectList(TABLES.regionStats)} FROM ${TABLES.regionStats.table}
     WHERE $1::text IS NULL OR region_id = $1 ORDER BY region_id`,
    [regionId ?? null],
  );
  return rows.map((r) => fromDbRow<RegionStatsRow>(r));
}
