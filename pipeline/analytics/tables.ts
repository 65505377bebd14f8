// What the analytics export writes: each Parquet table's columns (a whitelist: nothing else leaves the database),
// the PostgreSQL expression each is read from, its DuckDB type, its row order, and how it is laid out on disk.
// Never read: role_homes_private (exact homes), private_settings, idempotency keys, request ids.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { withoutAddresses } from './coarsen.js';

export interface ColumnSpec {
  name: string;
  /** The DuckDB type the column has in the Parquet file. */
  type: string;
  /** A PostgreSQL expression giving a JSON-encodable value (default: the column of the same name; null: not
   * read from PostgreSQL, only computed by `duck`). */
  pg?: string | null;
  /** The type read_json parses the staged value as (default: `type`). */
  staged?: string;
  /** A DuckDB expression over the staged columns giving the final value (default: the staged column). */
  duck?: string;
}

export interface GeometrySpec {
  /** GeoParquet geometry type of every non-null value. */
  type: 'Point' | 'LineString';
  /** DuckDB expressions (over the final columns) of each row's bounding box, for the file's `geo` bbox. */
  bbox: [xmin: string, ymin: string, xmax: string, ymax: string];
  /** A struct column {xmin, ymin, xmax, ymax} declared as the GeoParquet 1.1 bbox covering. */
  covering?: string;
}

export interface TableSpec {
  /** File, folder and view name. */
  name: string;
  /** The PostgreSQL table read. */
  source: string;
  /** What a row is, for the view's comment. */
  describe: string;
  columns: ColumnSpec[];
  /** The unique row order in every file. */
  orderBy: string[];
  /**
   * Append-only tables keyed by event position: exported incrementally (only positions after the last export
   * are read), one file per UTC day of `dayOf` under <name>/day=YYYY-MM-DD/. Others are rewritten whole.
   */
  positioned?: { position: string; dayOf: string };
  /** A column `geometry` (WKB, EPSG:4326 lon/lat) with GeoParquet metadata. */
  geometry?: GeometrySpec;
  /** Coarsens each row in JS before it is staged (e.g. drops IP addresses from free-form JSON). */
  coarsen?: (row: Record<string, unknown>) => Record<string, unknown>;
}

/** An instant as ISO 8601 UTC with microseconds: text that does not depend on the session's time zone. */
export function pgInstant(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** A geometry as little-endian WKB in hex, made by PostGIS (from the coordinates, the way the projections'
 * generated geom columns are made, so that the export does not depend on which tables keep one). */
export function pgWkbHex(geometry: string): string {
  return `encode(ST_AsBinary(${geometry}, 'NDR'), 'hex')`;
}

const text = (name: string): ColumnSpec => ({ name, type: 'VARCHAR' });
const int = (name: string): ColumnSpec => ({ name, type: 'INTEGER' });
const big = (name: string): ColumnSpec => ({ name, type: 'BIGINT' });
const dbl = (name: string, pg?: string): ColumnSpec => ({ name, type: 'DOUBLE', pg });
const bool = (name: string): ColumnSpec => ({ name, type: 'BOOLEAN' });
const instant = (name: string): ColumnSpec => ({ name, type: 'TIMESTAMPTZ', pg: pgInstant(name) });
const json = (name: string, pg?: string): ColumnSpec => ({ name, type: 'JSON', pg });
const wkb = (pg: string): ColumnSpec => ({
  name: 'geometry',
  type: 'BLOB',
  pg: pgWkbHex(pg),
  staged: 'VARCHAR',
  duck: 'from_hex(geometry)',
});
const pointBox: GeometrySpec['bbox'] = ['lon', 'lat', 'lon', 'lat'];

export const EVENTS: TableSpec = {
  name: 'events',
  source: 'events',
  describe: 'every event of the event store, in position order (metadata reduced to the actor)',
  columns: [
    big('position'),
    text('event_id'),
    text('stream_id'),
    text('stream_type'),
    int('stream_version'),
    text('type'),
    { name: 'actor', type: 'VARCHAR', pg: `metadata->>'actor'` },
    json('payload'),
    instant('occurred_at'),
    instant('recorded_at'),
  ],
  orderBy: ['position'],
  positioned: { position: 'position', dayOf: 'occurred_at' },
};

export const TIMELINE: TableSpec = {
  name: 'timeline',
  source: 'proj_timeline',
  describe: 'one row per event with its region, a summary and where it happened',
  columns: [
    big('position'),
    instant('occurred_at'),
    text('region_id'),
    text('stream_type'),
    text('stream_id'),
    text('type'),
    text('actor'),
    text('summary'),
    dbl('lon'),
    dbl('lat'),
    wkb('ST_SetSRID(ST_MakePoint(lon, lat), 4326)'),
  ],
  orderBy: ['position'],
  positioned: { position: 'position', dayOf: 'occurred_at' },
  geometry: { type: 'Point', bbox: pointBox },
};

export const ROLES: TableSpec = {
  name: 'roles',
  source: 'proj_roles',
  describe: 'participants with their public position only: the area point, or the jittered public home',
  columns: [
    text('role_id'),
    int('version'),
    text('region_id'),
    text('name'),
    dbl('area_lon'),
    dbl('area_lat'),
    dbl('public_lon'),
    dbl('public_lat'),
    int('inaccuracy_m'),
    bool('located'),
    instant('created_at'),
    instant('updated_at'),
    big('last_position'),
    // where the role's threads start: the public home when placed, else the area's collective point
    dbl('lon', 'COALESCE(public_lon, area_lon)'),
    dbl('lat', 'COALESCE(public_lat, area_lat)'),
    wkb('ST_SetSRID(ST_MakePoint(COALESCE(public_lon, area_lon), COALESCE(public_lat, area_lat)), 4326)'),
  ],
  orderBy: ['role_id'],
  geometry: { type: 'Point', bbox: pointBox },
};

export const NODES: TableSpec = {
  name: 'nodes',
  source: 'proj_nodes',
  describe: 'places and topics on the map with their thread and proposal counts',
  columns: [
    text('node_id'),
    int('version'),
    text('region_id'),
    text('title'),
    text('kind'),
    text('author_role_id'),
    dbl('lon'),
    dbl('lat'),
    bool('hidden'),
    text('hidden_reason'),
    instant('hidden_at'),
    instant('created_at'),
    instant('last_activity_at'),
    int('thread_count'),
    int('proposal_count'),
    big('last_position'),
    wkb('ST_SetSRID(ST_MakePoint(lon, lat), 4326)'),
  ],
  orderBy: ['node_id'],
  geometry: { type: 'Point', bbox: pointBox },
};

export const THREADS: TableSpec = {
  name: 'threads',
  source: 'proj_threads',
  describe: "lines from a role's public position (or area point) to a node, with engagements and fading",
  columns: [
    text('thread_id'),
    int('version'),
    text('role_id'),
    text('node_id'),
    text('region_id'),
    dbl('from_lon'),
    dbl('from_lat'),
    dbl('to_lon'),
    dbl('to_lat'),
    instant('spun_at'),
    instant('last_activity_at'),
    int('engagements'),
    bool('faded'),
    instant('faded_at'),
    big('last_position'),
    wkb('ST_SetSRID(ST_MakeLine(ST_MakePoint(from_lon, from_lat), ST_MakePoint(to_lon, to_lat)), 4326)'),
    {
      name: 'bbox',
      type: 'STRUCT(xmin DOUBLE, ymin DOUBLE, xmax DOUBLE, ymax DOUBLE)',
      pg: null,
      duck:
        'struct_pack(xmin := least(from_lon, to_lon), ymin := least(from_lat, to_lat), ' +
        'xmax := greatest(from_lon, to_lon), ymax := greatest(from_lat, to_lat))',
    },
  ],
  orderBy: ['thread_id'],
  geometry: {
    type: 'LineString',
    bbox: ['bbox.xmin', 'bbox.ymin', 'bbox.xmax', 'bbox.ymax'],
    covering: 'bbox',
  },
};

export const PROPOSALS: TableSpec = {
  name: 'proposals',
  source: 'proj_proposals',
  describe: 'proposals on nodes with their closing times and tallies',
  columns: [
    text('proposal_id'),
    int('version'),
    text('node_id'),
    text('region_id'),
    text('author_role_id'),
    text('title'),
    text('body'),
    dbl('lon'),
    dbl('lat'),
    instant('opened_at'),
    instant('closes_at'),
    bool('closed'),
    instant('closed_at'),
    int('votes_yes'),
    int('votes_no'),
    int('votes_abstain'),
    big('last_position'),
    wkb('ST_SetSRID(ST_MakePoint(lon, lat), 4326)'),
  ],
  orderBy: ['proposal_id'],
  geometry: { type: 'Point', bbox: pointBox },
};

export const VOTES: TableSpec = {
  name: 'votes',
  source: 'proj_votes',
  describe: "each role's current vote on a proposal and how often it changed",
  columns: [
    text('proposal_id'),
    text('role_id'),
    text('choice'),
    instant('cast_at'),
    int('changes'),
    big('last_position'),
  ],
  orderBy: ['proposal_id', 'role_id'],
};

export const REGION_STATS: TableSpec = {
  name: 'region_stats',
  source: 'proj_region_stats',
  describe: 'per-region totals',
  columns: [
    text('region_id'),
    int('roles'),
    int('located_roles'),
    int('nodes'),
    int('hidden_nodes'),
    int('threads'),
    int('faded_threads'),
    int('engagements'),
    int('proposals'),
    int('closed_proposals'),
    int('votes'),
    int('events'),
    instant('first_activity_at'),
    instant('last_activity_at'),
    big('last_position'),
  ],
  orderBy: ['region_id'],
};

export const AUDIT_LOG: TableSpec = {
  name: 'audit_log',
  source: 'audit_log',
  describe: 'what automation and operators did: migrations, seeds, fades, imports, publishes, promotions',
  columns: [big('id'), instant('at'), text('actor'), text('action'), text('subject'), json('details')],
  orderBy: ['id'],
  coarsen: (row) => ({
    ...row,
    actor: withoutAddresses(row.actor, isIP),
    subject: withoutAddresses(row.subject, isIP),
    details: withoutAddresses(row.details, isIP),
  }),
};

/** Every exported table: the events, every projection, the audit log. */
export const TABLES: readonly TableSpec[] = [
  EVENTS,
  TIMELINE,
  ROLES,
  NODES,
  THREADS,
  PROPOSALS,
  VOTES,
  REGION_STATS,
  AUDIT_LOG,
];

/** A digest of every table's name, columns, types and order: it changes whenever the files' layout does. */
export function schemaDigest(tables: readonly TableSpec[] = TABLES): string {
  const shape = tables.map((t) => [t.name, t.orderBy, t.columns.map((c) => [c.name, c.type, c.pg, c.duck])]);
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 16);
}
