// The activity as it stood at publish time T: the projections' rows, except those changed by events recorded after
// T, which are folded again from the events up to T with the projections' own reducers.
//
// "As of T" means the event log as it stood at T: events 1..P, where P is the position before the first event
// recorded after T (positions commit in order, and recorded_at is the appending transaction's time, so nothing
// after that event can have been committed at T). A projection row whose last_position is ≤ P is exactly its state
// at P (every change of a row moves its last_position). Rows with a later last_position are the few touched since
// T: their state at P comes from replaying, up to P, the streams they depend on. So a build at T reads the same
// rows however many events were appended after T.
import type { Queryable } from '../core/db/adapter.js';
import { streamId } from '../core/domain/ids.js';
import { UserError } from '../core/errors.js';
import { checkpoint, headPosition, rowToEvent } from '../core/eventstore.js';
import { FADE_PERIOD_MS, toMillis } from '../core/fade.js';
import { applyEvent } from '../core/projections/reduce.js';
import { ProjectionState } from '../core/projections/state.js';

export interface PublishCut {
  /** T, ISO 8601 with milliseconds (UTC). */
  at: string;
  /** The last event position that counts at T (0: none). */
  position: number;
  /** The event log's head when the build read it. */
  head: number;
}

/** A node as of P (hidden or not). */
export interface NodeAt {
  node_id: string;
  title: string;
  kind: string;
  lon: number;
  lat: number;
  hidden: boolean;
  lastActivityMs: number;
}

/** A thread as of P, one of those that may be live at T (not faded, last activity within 7 days before T). */
export interface ThreadAt {
  thread_id: string;
  node_id: string;
  from_lon: number;
  from_lat: number;
  to_lon: number;
  to_lat: number;
  lastActivityMs: number;
}

/** Compares strings by UTF-16 code units: the same order everywhere (SQL's ORDER BY depends on collation). */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Finds P for T. Call inside the snapshot transaction the build reads in. */
export async function publishCut(q: Queryable, T: Date): Promise<PublishCut> {
  const head = await headPosition(q);
  const { rows } = await q.query<{ first: number | null }>(
    'SELECT min(position) AS first FROM events WHERE recorded_at > $1',
    [T.toISOString()],
  );
  const first = rows[0]?.first ?? null;
  const position = first === null ? head : first - 1;
  const done = await checkpoint(q);
  if (done < position) {
    throw new UserError(
      `the projections stop at event ${done} but events up to ${position} count at ${T.toISOString()}: ` +
        'run `weft projections rebuild` first',
      'projections_behind',
    );
  }
  return { at: T.toISOString(), position, head };
}

/** A SQL string literal (for the cursor's query, which takes no bind parameters). */
function literal(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

const EVENT_COLUMNS =
  'position, event_id, stream_id, stream_type, stream_version, type, payload, metadata, occurred_at, recorded_at';

interface Refolded {
  nodes: Map<string, NodeAt | null>;
  threads: Map<string, (ThreadAt & { faded: boolean }) | null>;
  /** proposal id → its node when it is open at T, else null */
  proposals: Map<string, string | null>;
  events: number;
}

/** Rows of the region changed after P, folded again from their streams' events up to P. */
async function refold(q: Queryable, regionId: string, P: number, T: number): Promise<Refolded> {
  const out: Refolded = { nodes: new Map(), threads: new Map(), proposals: new Map(), events: 0 };
  type Ref = { thread_id: string; role_id: string; node_id: string };
  const staleThreads = (
    await q.query<Ref>(
      'SELECT thread_id, role_id, node_id FROM proj_threads WHERE region_id = $1 AND last_position > $2',
      [regionId, P],
    )
  ).rows;
  const staleNodes = (
    await q.query<{ node_id: string }>(
      'SELECT node_id FROM proj_nodes WHERE region_id = $1 AND last_position > $2',
      [regionId, P],
    )
  ).rows.map((r) => r.node_id);
  const staleProposals = (
    await q.query<{ proposal_id: string; node_id: string }>(
      'SELECT proposal_id, node_id FROM proj_proposals WHERE region_id = $1 AND last_position > $2',
      [regionId, P],
    )
  ).rows;
  if (!staleThreads.length && !staleNodes.length && !staleProposals.length) return out;

  // the streams these rows depend on: a node's last activity on every thread to it; a thread on its role (its
  // start) and node; a proposal on its node and its voters (the reducers need them present)
  const threads = new Map(staleThreads.map((t) => [t.thread_id, t]));
  if (staleNodes.length) {
    const { rows } = await q.query<Ref>(
      'SELECT thread_id, role_id, node_id FROM proj_threads WHERE node_id = ANY($1::text[])',
      [staleNodes],
    );
    for (const t of rows) threads.set(t.thread_id, t);
  }
  const streams = new Set<string>();
  for (const t of threads.values()) {
    streams
      .add(streamId('thread', t.thread_id))
      .add(streamId('role', t.role_id))
      .add(streamId('node', t.node_id));
  }
  for (const n of staleNodes) streams.add(streamId('node', n));
  if (staleProposals.length) {
    const ids = staleProposals.map((p) => p.proposal_id);
    for (const p of staleProposals)
      streams.add(streamId('proposal', p.proposal_id)).add(streamId('node', p.node_id));
    const { rows } = await q.query<{ role_id: string }>(
      'SELECT DISTINCT role_id FROM proj_votes WHERE proposal_id = ANY($1::text[])',
      [ids],
    );
    for (const r of rows) streams.add(streamId('role', r.role_id));
  }
  const { rows } = await q.query(
    `SELECT ${EVENT_COLUMNS} FROM events WHERE position <= $1 AND stream_id = ANY($2::text[]) ORDER BY position`,
    [P, [...streams].sort(byCodeUnits)],
  );
  const state = new ProjectionState(true);
  for (const r of rows) applyEvent(state, rowToEvent(r));
  out.events = rows.length;

  for (const t of staleThreads) {
    const row = state.thread(t.thread_id);
    out.threads.set(
      t.thread_id,
      row
        ? {
            thread_id: row.thread_id,
            node_id: row.node_id,
            from_lon: row.from_lon,
            from_lat: row.from_lat,
            to_lon: row.to_lon,
            to_lat: row.to_lat,
            lastActivityMs: toMillis(row.last_activity_at),
            faded: row.faded,
          }
        : null,
    );
  }
  for (const id of staleNodes) {
    const row = state.node(id);
    out.nodes.set(
      id,
      row
        ? {
            node_id: row.node_id,
            title: row.title,
            kind: row.kind,
            lon: row.lon,
            lat: row.lat,
            hidden: row.hidden,
            lastActivityMs: toMillis(row.last_activity_at),
          }
        : null,
    );
  }
  for (const p of staleProposals) {
    const row = state.proposal(p.proposal_id);
    out.proposals.set(p.proposal_id, row && isOpen(row.closed, row.closes_at, T) ? row.node_id : null);
  }
  return out;
}

/** A proposal counts as open at T when it is not closed and its closing time is still ahead. */
function isOpen(closed: boolean, closesAt: string | Date, T: number): boolean {
  return !closed && toMillis(closesAt) > T;
}

/**
 * One region's activity state as of a publish cut. Read it inside one REPEATABLE READ transaction (the build
 * does): the projections, the events and the cut then all come from the same snapshot.
 */
export class ActivitySnapshot {
  private constructor(
    private readonly q: Queryable,
    readonly regionId: string,
    readonly cut: PublishCut,
    private readonly refolded: Refolded,
  ) {}

  static async open(q: Queryable, regionId: string, cut: PublishCut): Promise<ActivitySnapshot> {
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(regionId)) throw new UserError(`bad region id "${regionId}"`);
    return new ActivitySnapshot(q, regionId, cut, await refold(q, regionId, cut.position, toMillis(cut.at)));
  }

  /** How many rows were folded again from events (changed after T), and from how many events. */
  get refoldedCounts(): { nodes: number; threads: number; proposals: number; events: number } {
    const r = this.refolded;
    return { nodes: r.nodes.size, threads: r.threads.size, proposals: r.proposals.size, events: r.events };
  }

  /** Every node of the region that existed at P, hidden ones included, sorted by id (code units). */
  async nodes(): Promise<NodeAt[]> {
    const { rows } = await this.q.query<{
      node_id: string;
      title: string;
      kind: string;
      lon: number;
      lat: number;
      hidden: boolean;
      last_ms: number;
      last_position: number;
    }>(
      `SELECT node_id, title, kind, lon, lat, hidden,
         (extract(epoch FROM last_activity_at) * 1000)::float8 AS last_ms, last_position
       FROM proj_nodes WHERE region_id = $1`,
      [this.regionId],
    );
    const out: NodeAt[] = [];
    for (const r of rows) {
      if (r.last_position > this.cut.position) {
        const at = this.refolded.nodes.get(r.node_id);
        if (at) out.push(at);
        continue;
      }
      out.push({
        node_id: r.node_id,
        title: r.title,
        kind: r.kind,
        lon: r.lon,
        lat: r.lat,
        hidden: r.hidden,
        lastActivityMs: r.last_ms,
      });
    }
    return out.sort((a, b) => byCodeUnits(a.node_id, b.node_id));
  }

  /** Open proposals at T per node id. */
  async openProposals(): Promise<Map<string, number>> {
    const { rows } = await this.q.query<{ node_id: string; n: number }>(
      `SELECT node_id, count(*)::int AS n FROM proj_proposals
       WHERE region_id = $1 AND last_position <= $2 AND NOT closed AND closes_at > $3 GROUP BY node_id`,
      [this.regionId, this.cut.position, this.cut.at],
    );
    const out = new Map(rows.map((r) => [r.node_id, r.n]));
    for (const nodeId of this.refolded.proposals.values()) {
      if (nodeId !== null) out.set(nodeId, (out.get(nodeId) ?? 0) + 1);
    }
    return out;
  }

  /**
   * The threads that may be live at T (as of P: not faded, last activity after T − 7 days), in pages of
   * `pageSize`, in thread id order (code units; a server-side cursor, so memory stays bounded).
   */
  async *threads(pageSize = 20_000): AsyncGenerator<ThreadAt[]> {
    const cutoff = new Date(toMillis(this.cut.at) - FADE_PERIOD_MS).toISOString();
    const P = this.cut.position;
    const cursor = 'weft_activity_threads';
    // the cursor's query takes no bind parameters: the values are a checked region id, an integer and an ISO time
    await this.q.exec(
      `DECLARE ${cursor} NO SCROLL CURSOR FOR
       SELECT thread_id, node_id, from_lon, from_lat, to_lon, to_lat,
         (extract(epoch FROM last_activity_at) * 1000)::float8 AS last_ms, last_position
       FROM proj_threads
       WHERE region_id = ${literal(this.regionId)}
         AND (last_position > ${Math.trunc(P)} OR (NOT faded AND last_activity_at > ${literal(cutoff)}::timestamptz))
       ORDER BY thread_id COLLATE "C"`,
    );
    const cutoffMs = toMillis(cutoff);
    try {
      for (;;) {
        const { rows } = await this.q.query<{
          thread_id: string;
          node_id: string;
          from_lon: number;
          from_lat: number;
          to_lon: number;
          to_lat: number;
          last_ms: number;
          last_position: number;
        }>(`FETCH FORWARD ${Math.trunc(pageSize)} FROM ${cursor}`);
        if (!rows.length) break;
        const page: ThreadAt[] = [];
        for (const r of rows) {
          if (r.last_position > P) {
            const at = this.refolded.threads.get(r.thread_id);
            if (at && !at.faded && at.lastActivityMs > cutoffMs) {
              page.push({
                thread_id: at.thread_id,
                node_id: at.node_id,
                from_lon: at.from_lon,
                from_lat: at.from_lat,
                to_lon: at.to_lon,
                to_lat: at.to_lat,
                lastActivityMs: at.lastActivityMs,
              });
            }
            continue;
          }
          page.push({
            thread_id: r.thread_id,
            node_id: r.node_id,
            from_lon: r.from_lon,
            from_lat: r.from_lat,
            to_lon: r.to_lon,
            to_lat: r.to_lat,
            lastActivityMs: r.last_ms,
          });
        }
        if (page.length) yield page;
        if (rows.length < pageSize) break;
      }
    } finally {
      await this.q.exec(`CLOSE ${cursor}`).catch(() => {});
    }
  }
}
