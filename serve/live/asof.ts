// The projection rows a batch of events needs for its deltas, as they stood right after the batch's first event;
// the rest of the batch is then applied with the projections' own reducer. A row whose last_position is ≤ P is
// exactly its state at P (every change of a row moves its last_position); a row changed after P is folded again
// from its streams' events up to P (the same rule as pipeline/activity-state.ts). So a delta depends only on the
// event log, never on when it is computed: live and replay give the same bytes.
import type { Queryable } from '../../core/db/adapter.js';
import { streamId } from '../../core/domain/ids.js';
import type { StoredEvent } from '../../core/domain/schemas.js';
import { rowToEvent } from '../../core/eventstore.js';
import { applyEvent, keysForEvents } from '../../core/projections/reduce.js';
import { ProjectionState, voteKey } from '../../core/projections/state.js';
import {
  TABLES,
  fromDbRow,
  selectList,
  type NodeRow,
  type ProposalRow,
  type RoleRow,
  type ThreadRow,
  type VoteRow,
} from '../../core/projections/tables.js';
import type { DeltaView } from './deltas.js';

/**
 * Events as readEvents() returns them (times as ISO text with milliseconds, straight from the server): the live
 * path reads through readEvents, replay through this list, and both must give identical strings.
 */
const iso = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${col}`;
export const EVENT_SELECT = `position, event_id, stream_id, stream_type, stream_version, type, payload, metadata, ${iso(
  'occurred_at',
)}, ${iso('recorded_at')}`;

/** A ProjectionState with the indexes the deltas need (threads and proposals by node). */
export class LiveState implements DeltaView {
  private readonly threadsByNode = new Map<string, Set<string>>();
  private readonly proposalsByNode = new Map<string, Set<string>>();

  constructor(readonly state: ProjectionState) {
    for (const t of state.threads.values()) if (t) this.indexThread(t);
    for (const p of state.proposals.values()) if (p) this.indexProposal(p);
  }

  private indexThread(t: ThreadRow): void {
    let s = this.threadsByNode.get(t.node_id);
    if (!s) this.threadsByNode.set(t.node_id, (s = new Set()));
    s.add(t.thread_id);
  }

  private indexProposal(p: ProposalRow): void {
    let s = this.proposalsByNode.get(p.node_id);
    if (!s) this.proposalsByNode.set(p.node_id, (s = new Set()));
    s.add(p.proposal_id);
  }

  /** Applies the next event with the projections' reducer (keeping the indexes). */
  apply(e: StoredEvent): void {
    applyEvent(this.state, e);
    if (e.type === 'ThreadSpun') {
      const t = this.state.thread(e.payload.threadId);
      if (t) this.indexThread(t);
    } else if (e.type === 'ProposalOpened') {
      const p = this.state.proposal(e.payload.proposalId);
      if (p) this.indexProposal(p);
    }
  }

  node(id: string): NodeRow | undefined {
    return this.state.node(id);
  }
  thread(id: string): ThreadRow | undefined {
    return this.state.thread(id);
  }
  proposal(id: string): ProposalRow | undefined {
    return this.state.proposal(id);
  }
  role(id: string): RoleRow | undefined {
    return this.state.role(id);
  }
  threadsOfNode(nodeId: string): ThreadRow[] {
    const ids = this.threadsByNode.get(nodeId);
    return ids ? [...ids].map((id) => this.state.thread(id)).filter((t): t is ThreadRow => !!t) : [];
  }
  proposalsOfNode(nodeId: string): ProposalRow[] {
    const ids = this.proposalsByNode.get(nodeId);
    return ids ? [...ids].map((id) => this.state.proposal(id)).filter((p): p is ProposalRow => !!p) : [];
  }
  threadsOfRole(roleId: string): ThreadRow[] {
    return [...this.state.threads.values()].filter((t): t is ThreadRow => !!t && t.role_id === roleId);
  }
}

/** The nodes whose features these events change (directly, or through a thread or proposal of theirs). */
async function touchedNodes(q: Queryable, events: readonly StoredEvent[]): Promise<Set<string>> {
  const nodes = new Set<string>();
  const proposals = new Set<string>();
  const roles = new Set<string>();
  for (const e of events) {
    switch (e.type) {
      case 'NodeCreated':
      case 'NodeHidden':
      case 'NodeRestored':
      case 'ThreadSpun':
      case 'ThreadRenewed':
      case 'ThreadFaded':
      case 'ProposalOpened':
        nodes.add(e.payload.nodeId);
        break;
      case 'VoteCast':
      case 'ProposalClosed':
        proposals.add(e.payload.proposalId);
        break;
      case 'RoleHomePlaced':
      case 'RoleHomeCleared':
        roles.add(e.payload.roleId);
        break;
      case 'RoleRegistered':
        break;
    }
  }
  if (proposals.size) {
    const { rows } = await q.query<{ node_id: string }>(
      'SELECT DISTINCT node_id FROM proj_proposals WHERE proposal_id = ANY($1::text[])',
      [[...proposals]],
    );
    for (const r of rows) nodes.add(r.node_id);
  }
  if (roles.size) {
    const { rows } = await q.query<{ node_id: string }>(
      'SELECT DISTINCT node_id FROM proj_threads WHERE role_id = ANY($1::text[])',
      [[...roles]],
    );
    for (const r of rows) nodes.add(r.node_id);
  }
  return nodes;
}

/**
 * The rows for `events` (sorted by position) as of the first event's position P: the reducer's keys, plus every
 * thread and proposal of each touched node (for its counts) — none for a node the batch creates, which has none
 * at its creation (later ones in the batch come from the reducer). Loaded into an authoritative state: a row not
 * loaded does not exist for the reducer, so everything it needs must be here. A node the batch creates is not
 * read at all: at P it does not exist yet, or (created by the first event) it is exactly what the reducer makes of
 * its NodeCreated — so a batch of new nodes, the commonest write, needs no read.
 */
export async function stateAtFirst(q: Queryable, events: readonly StoredEvent[]): Promise<LiveState> {
  const first = events[0]!;
  const P = first.position;
  const keys = keysForEvents(events);
  const nodes = await touchedNodes(q, events);
  const created = new Set(events.flatMap((e) => (e.type === 'NodeCreated' ? [e.payload.nodeId] : [])));
  for (const n of nodes) keys.nodes.add(n);
  for (const n of created) keys.nodes.delete(n);
  const counted = [...nodes].filter((n) => !created.has(n));
  const state = new ProjectionState(true);
  const select = (name: 'roles' | 'nodes' | 'threads' | 'proposals', where: string, params: unknown[]) =>
    q.query(`SELECT ${selectList(TABLES[name])} FROM ${TABLES[name].table} WHERE ${where}`, params);
  if (keys.roles.size) {
    const { rows } = await select('roles', 'role_id = ANY($1::text[])', [[...keys.roles]]);
    for (const r of rows) state.putRole(fromDbRow<RoleRow>(r));
  }
  if (keys.nodes.size) {
    const { rows } = await select('nodes', 'node_id = ANY($1::text[])', [[...keys.nodes]]);
    for (const r of rows) state.putNode(fromDbRow<NodeRow>(r));
  }
  if (keys.threads.size || counted.length || keys.threadsOfRoles.size) {
    const { rows } = await select(
      'threads',
      'thread_id = ANY($1::text[]) OR node_id = ANY($2::text[]) OR role_id = ANY($3::text[])',
      [[...keys.threads], counted, [...keys.threadsOfRoles]],
    );
    for (const r of rows) state.putThread(fromDbRow<ThreadRow>(r));
  }
  if (keys.proposals.size || counted.length) {
    const { rows } = await select('proposals', 'proposal_id = ANY($1::text[]) OR node_id = ANY($2::text[])', [
      [...keys.proposals],
      counted,
    ]);
    for (const r of rows) state.putProposal(fromDbRow<ProposalRow>(r));
  }
  if (keys.votes.size) {
    const pairs = [...keys.votes].map((k) => k.split('\u0000') as [string, string]);
    const { rows } = await q.query(
      `SELECT ${selectList(TABLES.votes, 'v')} FROM ${TABLES.votes.table} v
       JOIN unnest($1::text[], $2::text[]) AS k(p, r) ON v.proposal_id = k.p AND v.role_id = k.r`,
      [pairs.map((x) => x[0]), pairs.map((x) => x[1])],
    );
    for (const r of rows) state.putVote(fromDbRow<VoteRow>(r));
  }
  await rewindTo(q, state, P);
  for (const n of created) state.nodes.set(n, null);
  // (its other effects, the region's statistics and the timeline, are not read by deltas)
  if (first.type === 'NodeCreated') applyEvent(state, first);
  return new LiveState(state);
}

const stale = <R extends { last_position: number }>(map: Map<string, R | null>, P: number): string[] =>
  [...map.entries()].filter(([, r]) => r && r.last_position > P).map(([k]) => k);

/** Replaces every row of `state` changed after P by its state at P (or null when it did not exist yet). */
async function rewindTo(q: Queryable, state: ProjectionState, P: number): Promise<void> {
  const roles = stale(state.roles, P);
  const nodes = stale(state.nodes, P);
  const threads = stale(state.threads, P);
  const proposals = stale(state.proposals, P);
  const votes = stale(state.votes, P);
  if (!roles.length && !nodes.length && !threads.length && !proposals.length && !votes.length) return;

  // the streams these rows depend on: a thread on its role (its start) and node; a node on every thread to it
  // and every proposal on it; a proposal (and its votes) on its node and its voters
  const streams = new Set<string>();
  for (const id of roles) streams.add(streamId('role', id));
  const threadRefs = new Map<string, { role_id: string; node_id: string }>();
  for (const id of threads) threadRefs.set(id, state.threads.get(id)!);
  const proposalIds = new Set(proposals);
  for (const k of votes) proposalIds.add(state.votes.get(k)!.proposal_id);
  const nodeIds = new Set(nodes);
  if (nodeIds.size) {
    const ids = [...nodeIds];
    const t = await q.query<{ thread_id: string; role_id: string; node_id: string }>(
      'SELECT thread_id, role_id, node_id FROM proj_threads WHERE node_id = ANY($1::text[])',
      [ids],
    );
    for (const r of t.rows) threadRefs.set(r.thread_id, r);
    const p = await q.query<{ proposal_id: string }>(
      'SELECT proposal_id FROM proj_proposals WHERE node_id = ANY($1::text[])',
      [ids],
    );
    for (const r of p.rows) proposalIds.add(r.proposal_id);
  }
  for (const [id, t] of threadRefs) {
    streams.add(streamId('thread', id)).add(streamId('role', t.role_id)).add(streamId('node', t.node_id));
  }
  if (proposalIds.size) {
    const ids = [...proposalIds];
    const p = await q.query<{ proposal_id: string; node_id: string }>(
      'SELECT proposal_id, node_id FROM proj_proposals WHERE proposal_id = ANY($1::text[])',
      [ids],
    );
    for (const r of p.rows) streams.add(streamId('proposal', r.proposal_id)).add(streamId('node', r.node_id));
    const v = await q.query<{ role_id: string }>(
      'SELECT DISTINCT role_id FROM proj_votes WHERE proposal_id = ANY($1::text[])',
      [ids],
    );
    for (const r of v.rows) streams.add(streamId('role', r.role_id));
  }
  for (const id of nodes) streams.add(streamId('node', id));

  const { rows } = await q.query(
    `SELECT ${EVENT_SELECT} FROM events WHERE position <= $1 AND stream_id = ANY($2::text[]) ORDER BY position`,
    [P, [...streams]],
  );
  const past = new ProjectionState(true);
  for (const r of rows) applyEvent(past, rowToEvent(r));

  for (const id of roles) state.roles.set(id, past.role(id) ?? null);
  for (const id of nodes) state.nodes.set(id, past.node(id) ?? null);
  for (const id of threads) state.threads.set(id, past.thread(id) ?? null);
  for (const id of proposals) state.proposals.set(id, past.proposal(id) ?? null);
  for (const k of votes) {
    const [p, r] = k.split('\u0000') as [string, string];
    state.votes.set(voteKey(p, r), past.vote(p, r) ?? null);
  }
}
