// The projections' working set in memory: rows loaded on demand in bulk, changed by the reducers, flushed in bulk.
import type { Queryable } from '../db/adapter.js';
import {
  TABLES,
  columnArrays,
  fromDbRow,
  selectList,
  upsertSql,
  type NodeRow,
  type ProposalRow,
  type RegionStatsRow,
  type RoleRow,
  type TableName,
  type ThreadRow,
  type TimelineRow,
  type VoteRow,
} from './tables.js';

/** What a batch of events or commands needs in memory. */
export interface Keys {
  roles: Set<string>;
  nodes: Set<string>;
  threads: Set<string>;
  proposals: Set<string>;
  /** voteKey(proposalId, roleId) */
  votes: Set<string>;
  /** every thread of these roles (a role's new home moves their start) */
  threadsOfRoles: Set<string>;
}

export function emptyKeys(): Keys {
  return {
    roles: new Set(),
    nodes: new Set(),
    threads: new Set(),
    proposals: new Set(),
    votes: new Set(),
    threadsOfRoles: new Set(),
  };
}

export function voteKey(proposalId: string, roleId: string): string {
  return `${proposalId}\u0000${roleId}`;
}

const FLUSH_CHUNK = 5000;

type Keyed = 'roles' | 'nodes' | 'threads' | 'proposals' | 'votes' | 'regionStats';

export class ProjectionState {
  /** A loaded id maps to its row, or to null when it is known not to exist. */
  readonly roles = new Map<string, RoleRow | null>();
  readonly nodes = new Map<string, NodeRow | null>();
  readonly threads = new Map<string, ThreadRow | null>();
  readonly proposals = new Map<string, ProposalRow | null>();
  readonly votes = new Map<string, VoteRow | null>();
  readonly regionStats = new Map<string, RegionStatsRow>();
  timeline: TimelineRow[] = [];
  private readonly threadIdsByRole = new Map<string, Set<string>>();
  private readonly threadsLoadedForRole = new Set<string>();
  private statsLoaded = false;
  private readonly dirty: Record<Keyed, Set<string>> = {
    roles: new Set(),
    nodes: new Set(),
    threads: new Set(),
    proposals: new Set(),
    votes: new Set(),
    regionStats: new Set(),
  };

  /**
   * @param authoritative the state holds every row there is (a rebuild from empty): nothing is ever loaded.
   */
  constructor(readonly authoritative = false) {
    if (authoritative) this.statsLoaded = true;
  }

  role(id: string): RoleRow | undefined {
    return this.roles.get(id) ?? undefined;
  }
  node(id: string): NodeRow | undefined {
    return this.nodes.get(id) ?? undefined;
  }
  thread(id: string): ThreadRow | undefined {
    return this.threads.get(id) ?? undefined;
  }
  proposal(id: string): ProposalRow | undefined {
    return this.proposals.get(id) ?? undefined;
  }
  vote(proposalId: string, roleId: string): VoteRow | undefined {
    return this.votes.get(voteKey(proposalId, roleId)) ?? undefined;
  }
  stats(regionId: string): RegionStatsRow | undefined {
    return this.regionStats.get(regionId);
  }
  /** Every thread of a role (loaded with keys.threadsOfRoles). */
  threadsOfRole(roleId: string): ThreadRow[] {
    if (!this.authoritative && !this.threadsLoadedForRole.has(roleId)) {
      throw new Error(`internal: threads of role ${roleId} were not loaded`);
    }
    const ids = this.threadIdsByRole.get(roleId);
    return ids ? [...ids].map((id) => this.threads.get(id)!).filter(Boolean) : [];
  }

  putRole(row: RoleRow): void {
    this.roles.set(row.role_id, row);
    this.dirty.roles.add(row.role_id);
  }
  putNode(row: NodeRow): void {
    this.nodes.set(row.node_id, row);
    this.dirty.nodes.add(row.node_id);
  }
  putThread(row: ThreadRow): void {
    if (this.threads.get(row.thread_id) !== row) {
      this.threads.set(row.thread_id, row);
      this.indexThread(row);
    }
    this.dirty.threads.add(row.thread_id);
  }
  putProposal(row: ProposalRow): void {
    this.proposals.set(row.proposal_id, row);
    this.dirty.proposals.add(row.proposal_id);
  }
  putVote(row: VoteRow): void {
    const k = voteKey(row.proposal_id, row.role_id);
    this.votes.set(k, row);
    this.dirty.votes.add(k);
  }
  putStats(row: RegionStatsRow): void {
    this.regionStats.set(row.region_id, row);
    this.dirty.regionStats.add(row.region_id);
  }
  addTimeline(row: TimelineRow): void {
    this.timeline.push(row);
  }

  private indexThread(row: ThreadRow): void {
    let set = this.threadIdsByRole.get(row.role_id);
    if (!set) this.threadIdsByRole.set(row.role_id, (set = new Set()));
    set.add(row.thread_id);
  }

  /**
   * Loads every row `keys` name that is not in memory yet (and every region's statistics the first time): one
   * statement for all of it (runReads).
   */
  async load(q: Queryable, keys: Keys): Promise<void> {
    await runReads(q, this.reads(keys));
  }

  /**
   * The reads load() sends, for a caller that sends them with its own (runReads): each applies its rows to this
   * state, in this order, exactly as load() does.
   */
  reads(keys: Keys): RowRead[] {
    if (this.authoritative) return [];
    const reads: RowRead[] = [];
    if (!this.statsLoaded) {
      reads.push({
        sql: `SELECT ${selectList(TABLES.regionStats)} FROM ${TABLES.regionStats.table}`,
        params: [],
        times: timeColumns('regionStats'),
        size: 1,
        apply: (rows) => {
          for (const r of rows) {
            const row = fromDbRow<RegionStatsRow>(r);
            if (!this.regionStats.has(row.region_id)) this.regionStats.set(row.region_id, row);
          }
          this.statsLoaded = true;
        },
      });
    }
    this.readById(reads, 'roles', keys.roles, this.roles, (r: RoleRow) => r.role_id);
    this.readById(reads, 'nodes', keys.nodes, this.nodes, (r: NodeRow) => r.node_id);
    this.readById(reads, 'threads', keys.threads, this.threads, (r: ThreadRow) => r.thread_id);
    this.readById(reads, 'proposals', keys.proposals, this.proposals, (r: ProposalRow) => r.proposal_id);
    const roles = [...keys.threadsOfRoles].filter((id) => !this.threadsLoadedForRole.has(id));
    if (roles.length) {
      reads.push({
        sql: `SELECT ${selectList(TABLES.threads)} FROM ${TABLES.threads.table} WHERE role_id = ANY($1::text[])`,
        params: [roles],
        times: timeColumns('threads'),
        size: roles.length,
        apply: (rows) => {
          for (const r of rows) {
            const row = fromDbRow<ThreadRow>(r);
            if (!this.threads.get(row.thread_id)) this.threads.set(row.thread_id, row);
            this.indexThread(this.threads.get(row.thread_id)!);
          }
          for (const id of roles) this.threadsLoadedForRole.add(id);
        },
      });
    }
    const votes = [...keys.votes].filter((k) => !this.votes.has(k));
    if (votes.length) {
      const pairs = votes.map((k) => k.split('\u0000') as [string, string]);
      reads.push({
        sql: `SELECT ${selectList(TABLES.votes, 'v')} FROM ${TABLES.votes.table} v
         JOIN unnest($1::text[], $2::text[]) AS k(p, r) ON v.proposal_id = k.p AND v.role_id = k.r`,
        params: [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
        times: timeColumns('votes'),
        size: votes.length,
        apply: (rows) => {
          for (const k of votes) this.votes.set(k, null);
          for (const r of rows) {
            const row = fromDbRow<VoteRow>(r);
            this.votes.set(voteKey(row.proposal_id, row.role_id), row);
          }
        },
      });
    }
    return reads;
  }

  private readById<R extends object>(
    reads: RowRead[],
    name: 'roles' | 'nodes' | 'threads' | 'proposals',
    ids: Set<string>,
    map: Map<string, R | null>,
    idOf: (r: R) => string,
  ): void {
    const missing = [...ids].filter((id) => !map.has(id));
    if (!missing.length) return;
    const spec = TABLES[name];
    reads.push({
      sql: `SELECT ${selectList(spec)} FROM ${spec.table} WHERE ${spec.key[0]} = ANY($1::text[])`,
      params: [missing],
      times: timeColumns(name),
      size: missing.length,
      apply: (rows) => {
        for (const id of missing) map.set(id, null);
        for (const r of rows) {
          const row = fromDbRow<R>(r);
          map.set(idOf(row), row);
          if (name === 'threads') this.indexThread(row as unknown as ThreadRow);
        }
      },
    });
  }

  /** Writes every changed row (upserts) and the new timeline rows; the state stays usable afterwards. */
  async flush(q: Queryable): Promise<void> {
    for (const w of this.takeWrites()) await q.query(w.sql, w.params);
  }

  /**
   * The statements flush() would send (one upsert per changed table, then the timeline, in chunks), for a caller
   * that sends them itself; the rows count as written (taken from the dirty sets) once this returns.
   */
  takeWrites(): RowWrite[] {
    const names: Keyed[] = ['roles', 'nodes', 'threads', 'proposals', 'votes', 'regionStats'];
    const writes: RowWrite[] = [];
    for (const name of names) {
      const keys = this.dirty[name];
      if (!keys.size) continue;
      const map = this[name] as Map<string, object | null>;
      // copies: the reducers may change the rows again while they are being written
      writes.push(
        ...rowWrites(
          name,
          [...keys].map((k) => ({ ...map.get(k)! })),
          true,
        ),
      );
      keys.clear();
    }
    const timeline = this.takeTimeline();
    if (timeline.length) writes.push(...rowWrites('timeline', timeline, false));
    return writes;
  }

  /** Writes only the new timeline rows. */
  async flushTimeline(q: Queryable): Promise<void> {
    const timeline = this.takeTimeline();
    if (timeline.length) await writeRows(q, 'timeline', timeline, false);
  }

  private takeTimeline(): TimelineRow[] {
    const rows = this.timeline;
    this.timeline = [];
    return rows;
  }

  /** How many rows wait to be flushed (to bound memory in long rebuilds). */
  pendingRows(): number {
    let n = this.timeline.length;
    for (const set of Object.values(this.dirty)) n += set.size;
    return n;
  }
}

/** One read: its SQL and parameters, its timestamptz columns, how many ids it asks for, what to do with its rows. */
export interface RowRead {
  sql: string;
  params: unknown[];
  /** Columns of type timestamptz: they reach apply() as Date whether read alone or combined. */
  times: readonly string[];
  size: number;
  apply(rows: Record<string, unknown>[]): void;
}

function timeColumns(name: TableName): string[] {
  const columns: Readonly<Record<string, string>> = TABLES[name].columns;
  return Object.keys(columns).filter((c) => columns[c] === 'timestamptz');
}

/** Ids a combined read asks for at most; a larger load (a catch-up, an import) sends its reads one by one. */
const COMBINE_IDS = 1000;

/**
 * Sends reads and applies their rows in order: two or more small ones as one statement (one round trip), each read
 * a scalar subquery aggregating its rows to JSON (`SELECT (SELECT json_agg(r) FROM (…) r) AS r0, …`, parameters
 * renumbered). One statement has one snapshot, as separate ones have under the head lock (every writer of what
 * they read holds it). JSON brings numbers, booleans, text, arrays and jsonb as the driver does; timestamptz
 * columns come as text and are turned back into Date, so apply() sees the same rows either way.
 */
export async function runReads(q: Queryable, reads: readonly RowRead[]): Promise<void> {
  const combined = reads.length >= 2 ? combineReads(reads) : undefined;
  if (!combined) {
    for (const r of reads) r.apply((await q.query(r.sql, r.params)).rows);
    return;
  }
  const { rows } = await q.query(combined.sql, combined.params);
  combined.apply(rows);
}

/**
 * Reads as the one statement runReads sends (for a caller that sends it with others), with what to do with its
 * rows; undefined when there is nothing to read or too much for one statement.
 */
export function combineReads(
  reads: readonly RowRead[],
): { sql: string; params: unknown[]; apply(rows: Record<string, unknown>[]): void } | undefined {
  const size = reads.reduce((n, r) => n + r.size, 0);
  if (!reads.length || size > COMBINE_IDS) return undefined;
  const params: unknown[] = [];
  const columns = reads.map((r, i) => {
    const offset = params.length;
    params.push(...r.params);
    const sql = r.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
    return `(SELECT coalesce(json_agg(r), '[]'::json) FROM (${sql}) r) AS r${i}`;
  });
  return {
    sql: `SELECT ${columns.join(',\n')}`,
    params,
    apply(rows) {
      reads.forEach((r, i) => {
        const got = rows[0]![`r${i}`] as Record<string, unknown>[];
        if (r.times.length)
          for (const row of got)
            for (const c of r.times) if (typeof row[c] === 'string') row[c] = new Date(row[c] as string);
        r.apply(got);
      });
    },
  };
}

/** One statement of a flush: its SQL, parameters and how many rows it writes. */
export interface RowWrite {
  sql: string;
  params: unknown[];
  rows: number;
}

function rowWrites(name: TableName, rows: object[], update: boolean): RowWrite[] {
  const spec = TABLES[name];
  const sql = upsertSql(spec, update);
  const out: RowWrite[] = [];
  for (let i = 0; i < rows.length; i += FLUSH_CHUNK) {
    const chunk = rows.slice(i, i + FLUSH_CHUNK);
    out.push({ sql, params: columnArrays(spec, chunk), rows: chunk.length });
  }
  return out;
}

async function writeRows(q: Queryable, name: TableName, rows: object[], update: boolean): Promise<void> {
  for (const w of rowWrites(name, rows, update)) await q.query(w.sql, w.params);
}
