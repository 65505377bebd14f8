// The API's public reads from the projections: one node with its live threads and its proposals.
import type { Queryable } from '../../core/db/adapter.js';
import { FADE_PERIOD_MS, fade } from '../../core/fade.js';
import { proposalsOfNode } from '../../core/queries.js';
import { fromDbRow } from '../../core/projections/tables.js';

/** The most threads listed for one node (the most recently active first). */
export const MAX_THREADS = 500;

export interface NodeView {
  node: {
    id: string;
    title: string;
    kind: string;
    point: [number, number];
    regionId: string;
    createdAt: string;
    lastActivityAt: string;
    hidden: boolean;
  };
  threads: { id: string; roleId: string; fade: number; lastActivityAt: string }[];
  proposals: {
    id: string;
    title: string;
    body: string;
    closesAt: string;
    closed: boolean;
    tally: { yes: number; no: number; abstain: number };
  }[];
}

/** The node as the viewer shows it at `now`, or undefined when there is no such node. */
export async function nodeView(q: Queryable, nodeId: string, now: Date): Promise<NodeView | undefined> {
  const [nodes, threads, proposals] = await Promise.all([
    q.query(
      `SELECT node_id, title, kind, lon, lat, region_id, created_at, last_activity_at, hidden
       FROM proj_nodes WHERE node_id = $1`,
      [nodeId],
    ),
    q.query(
      `SELECT thread_id, role_id, last_activity_at FROM proj_threads
       WHERE node_id = $1 AND NOT faded AND last_activity_at > $2
       ORDER BY last_activity_at DESC, thread_id LIMIT ${MAX_THREADS}`,
      [nodeId, new Date(now.getTime() - FADE_PERIOD_MS).toISOString()],
    ),
    proposalsOfNode(q, nodeId),
  ]);
  const n = nodes.rows[0] ? fromDbRow<Record<string, unknown>>(nodes.rows[0]) : undefined;
  if (!n) return undefined;
  const nowIso = now.toISOString();
  return {
    node: {
      id: n.node_id as string,
      title: n.title as string,
      kind: n.kind as string,
      point: [n.lon as number, n.lat as number],
      regionId: n.region_id as string,
      createdAt: n.created_at as string,
      lastActivityAt: n.last_activity_at as string,
      hidden: n.hidden as boolean,
    },
    threads: threads.rows
      .map((r) => fromDbRow<{ thread_id: string; role_id: string; last_activity_at: string }>(r))
      .map((t) => ({
        id: t.thread_id,
        roleId: t.role_id,
        fade: fade(now, t.last_activity_at),
        lastActivityAt: t.last_activity_at,
      }))
      .filter((t) => t.fade > 0),
    proposals: proposals.map((p) => ({
      id: p.proposal_id,
      title: p.title,
      body: p.body,
      closesAt: p.closes_at,
      closed: p.closed || p.closes_at <= nowIso,
      tally: { yes: p.votes_yes, no: p.votes_no, abstain: p.votes_abstain },
    })),
  };
}
