// The projection tables: row shapes (as kept in memory) and column specs, the single source for load and flush.
export interface RoleRow {
  role_id: string;
  version: number;
  region_id: string;
  name: string;
  area_lon: number;
  area_lat: number;
  public_lon: number | null;
  public_lat: number | null;
  inaccuracy_m: number | null;
  located: boolean;
  created_at: string;
  updated_at: string;
  last_position: number;
}

export interface NodeRow {
  node_id: string;
  version: number;
  region_id: string;
  title: string;
  kind: string;
  author_role_id: string;
  lon: number;
  lat: number;
  hidden: boolean;
  hidden_reason: string | null;
  hidden_at: string | null;
  created_at: string;
  last_activity_at: string;
  thread_count: number;
  proposal_count: number;
  last_position: number;
}

export interface ThreadRow {
  thread_id: string;
  version: number;
  role_id: string;
  node_id: string;
  region_id: string;
  from_lon: number;
  from_lat: number;
  to_lon: number;
  to_lat: number;
  spun_at: string;
  last_activity_at: string;
  engagements: number;
  faded: boolean;
  faded_at: string | null;
  last_position: number;
}

export interface ProposalRow {
  proposal_id: string;
  version: number;
  node_id: string;
  region_id: string;
  author_role_id: string;
  title: string;
  body: string;
  lon: number;
  lat: number;
  opened_at: string;
  closes_at: string;
  closed: boolean;
  closed_at: string | null;
  votes_yes: number;
  votes_no: number;
  votes_abstain: number;
  last_position: number;
}

export interface VoteRow {
  proposal_id: string;
  role_id: string;
  choice: string;
  cast_at: string;
  changes: number;
  last_position: number;
}

export interface TimelineRow {
  position: number;
  occurred_at: string;
  region_id: string;
  stream_type: string;
  stream_id: string;
  type: string;
  actor: string;
  summary: string;
  lon: number | null;
  lat: number | null;
}

export interface RegionStatsRow {
  region_id: string;
  roles: number;
  located_roles: number;
  nodes: number;
  hidden_nodes: number;
  threads: number;
  faded_threads: number;
  engagements: number;
  proposals: number;
  closed_proposals: number;
  votes: number;
  events: number;
  first_activity_at: string;
  last_activity_at: string;
  last_position: number;
}

export interface TableSpec {
  table: string;
  key: readonly string[];
  /** Column name → SQL type, in table order (generated geometry columns excluded). */
  columns: Readonly<Record<string, string>>;
}

const T = 'timestamptz';
const F = 'double precision';

// prettier-ignore
export const TABLES = {
  roles: {
    table: 'proj_roles',
    key: ['role_id'],
    columns: {
      role_id: 'text', version: 'integer', region_id: 'text', name: 'text', area_lon: F, area_lat: F,
      public_lon: F, public_lat: F, inaccuracy_m: 'integer', located: 'boolean', created_at: T, updated_at: T,
      last_position: 'bigint',
    },
  },
  nodes: {
    table: 'proj_nodes',
    key: ['node_id'],
    columns: {
      node_id: 'text', version: 'integer', region_id: 'text', title: 'text', kind: 'text', author_role_id: 'text',
      lon: F, lat: F, hidden: 'boolean', hidden_reason: 'text', hidden_at: T, created_at: T, last_activity_at: T,
      thread_count: 'integer', proposal_count: 'integer', last_position: 'bigint',
    },
  },
  threads: {
    table: 'proj_threads',
    key: ['thread_id'],
    columns: {
      thread_id: 'text', version: 'integer', role_id: 'text', node_id: 'text', region_id: 'text', from_lon: F,
      from_lat: F, to_lon: F, to_lat: F, spun_at: T, last_activity_at: T, engagements: 'integer', faded: 'boolean',
      faded_at: T, last_position: 'bigint',
    },
  },
  proposals: {
    table: 'proj_proposals',
    key: ['proposal_id'],
    columns: {
      proposal_id: 'text', version: 'integer', node_id: 'text', region_id: 'text', author_role_id: 'text',
      title: 'text', body: 'text', lon: F, lat: F, opened_at: T, closes_at: T, closed: 'boolean', closed_at: T,
      votes_yes: 'integer', votes_no: 'integer', votes_abstain: 'integer', last_position: 'bigint',
    },
  },
  votes: {
    table: 'proj_votes',
    key: ['proposal_id', 'role_id'],
    columns: {
      proposal_id: 'text', role_id: 'text', choice: 'text', cast_at: T, changes: 'integer', last_position: 'bigint',
    },
  },
  timeline: {
    table: 'proj_timeline',
    key: ['position'],
    columns: {
      position: 'bigint', occurred_at: T, region_id: 'text', stream_type: 'text', stream_id: 'text', type: 'text',
      actor: 'text', summary: 'text', lon: F, lat: F,
    },
  },
  regionStats: {
    table: 'proj_region_stats',
    key: ['region_id'],
    columns: {
      region_id: 'text', roles: 'integer', located_roles: 'integer', nodes: 'integer', hidden_nodes: 'integer',
      threads: 'integer', faded_threads: 'integer', engagements: 'integer', proposals: 'integer',
      closed_proposals: 'integer', votes: 'integer', events: 'integer', first_activity_at: T, last_activity_at: T,
      last_position: 'bigint',
    },
  },
} as const satisfies Record<string, TableSpec>;

export type TableName = keyof typeof TABLES;

/** The checkpoint row of the core projector (all tables above move together). */
export const CORE_PROJECTOR = 'core';

/** A row read from PostgreSQL → its in-memory shape (timestamps as ISO strings). */
export function fromDbRow<R>(row: Record<string, unknown>): R {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = v instanceof Date ? v.toISOString() : v;
  return out as R;
}

export function selectList(spec: TableSpec, alias?: string): string {
  return Object.keys(spec.columns)
    .map((c) => (alias ? `${alias}.${c}` : c))
    .join(', ');
}

/**
 * INSERT … SELECT FROM unnest(one array per column) [ON CONFLICT (key) DO UPDATE SET every column]:
 * the fastest bulk write both PostgreSQL and PGlite accept as plain parameters.
 */
export function upsertSql(spec: TableSpec, update = true): string {
  const cols = Object.keys(spec.columns);
  const arrays = cols.map((c, i) => `$${i + 1}::${spec.columns[c]}[]`).join(', ');
  const insert = `INSERT INTO ${spec.table} (${cols.join(', ')}) SELECT * FROM unnest(${arrays})`;
  if (!update) return insert;
  const set = cols.filter((c) => !spec.key.includes(c)).map((c) => `${c} = EXCLUDED.${c}`);
  return `${insert} ON CONFLICT (${spec.key.join(', ')}) DO UPDATE SET ${set.join(', ')}`;
}

/** The parameters of upsertSql for these rows: one array per column. */
export function columnArrays(spec: TableSpec, rows: readonly object[]): unknown[][] {
  return Object.keys(spec.columns).map((c) => rows.map((r) => (r as Record<string, unknown>)[c] ?? null));
}
