// Shared by the analytics tests: a small seeded community, a plain DuckDB session (no project code), the
// database-versus-Parquet comparison of every exported table, and file hashes.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { expect } from 'vitest';
import type { Db } from '../../core/db/adapter.js';
import { seedCommunity, type SeedResult } from '../../core/seed/seed.js';
import { builtinPlaces } from '../../core/seed/places.js';
import { loadSeedRegion } from '../../core/seed/region.js';

export const SEED_NOW = new Date('2025-06-01T00:00:00Z');

/** A small deterministic community (the seed's realism, fewer rows: PGlite is slow to write). */
export async function seedSmall(db: Db, region = 'monaco'): Promise<SeedResult> {
  const r = loadSeedRegion(region);
  return seedCommunity(db, {
    region: r,
    places: await builtinPlaces(r),
    seed: 7,
    now: SEED_NOW,
    roles: 50,
    nodes: 20,
    proposals: 5,
    salt: 'analytics-test',
  });
}

/** A fresh in-memory DuckDB with nothing of ours: only @duckdb/node-api and plain SQL. */
export async function plainDuck() {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  return {
    async rows(sql: string): Promise<Record<string, unknown>[]> {
      return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
    },
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/** Each PostgreSQL table and the Parquet files it is exported to (written out here, not taken from the code). */
export const EXPORTED: { table: string; files: string; key: string }[] = [
  { table: 'events', files: 'events/day=*/events.parquet', key: 'position' },
  { table: 'proj_timeline', files: 'timeline/day=*/timeline.parquet', key: 'position' },
  { table: 'proj_roles', files: 'roles.parquet', key: 'role_id' },
  { table: 'proj_nodes', files: 'nodes.parquet', key: 'node_id' },
  { table: 'proj_threads', files: 'threads.parquet', key: 'thread_id' },
  { table: 'proj_proposals', files: 'proposals.parquet', key: 'proposal_id' },
  { table: 'proj_votes', files: 'votes.parquet', key: 'proposal_id, role_id' },
  { table: 'proj_region_stats', files: 'region_stats.parquet', key: 'region_id' },
  { table: 'audit_log', files: 'audit_log.parquet', key: 'id' },
];

/** Columns that are deliberately not exported as they are: metadata (only its actor goes out), geom (as WKB). */
const NOT_EXPORTED = new Set([
  'events.metadata',
  'proj_roles.geom',
  'proj_nodes.geom',
  'proj_threads.geom',
  'proj_timeline.geom',
]);

const q = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * For every table and every column: the row count and a per-column aggregate (sum of numbers, count of true,
 * sum of epoch seconds, total UTF-8 bytes and distinct values of text) in PostgreSQL equal those of the
 * Parquet files read by plain DuckDB. Returns the row counts.
 */
export async function compareWithDatabase(db: Db, dir: string): Promise<Record<string, number>> {
  const duck = await plainDuck();
  const counts: Record<string, number> = {};
  try {
    for (const { table, files } of EXPORTED) {
      const glob = q(path.join(dir, files));
      const src = `read_parquet(${glob}, hive_partitioning = false)`;
      const { rows: cols } = await db.query<{ column_name: string; data_type: string }>(
        `SELECT column_name, data_type FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
        [table],
      );
      const pgCount = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
      const [dc] = await duck.rows(`SELECT count(*)::INTEGER AS n FROM ${src}`);
      expect(dc!.n, `${table}: rows`).toBe(pgCount);
      counts[table] = pgCount;
      const parquetCols = new Set(
        (await duck.rows(`DESCRIBE SELECT * FROM ${src}`)).map((r) => r.column_name as string),
      );
      for (const { column_name: name, data_type: t } of cols) {
        if (NOT_EXPORTED.has(`${table}.${name}`)) continue;
        expect(parquetCols.has(name), `${table}.${name} is in the export`).toBe(true);
        const c = `"${name}"`;
        let pg: string;
        let dk: string;
        if (t === 'double precision') {
          pg = `sum(${c})::float8`;
          dk = `sum(${c})::DOUBLE`;
        } else if (t === 'integer' || t === 'bigint') {
          pg = `sum(${c})::text`;
          dk = `sum(${c})::VARCHAR`;
        } else if (t === 'boolean') {
          pg = `count(*) FILTER (WHERE ${c})::text`;
          dk = `(count(*) FILTER (WHERE ${c}))::VARCHAR`;
        } else if (t.startsWith('timestamp')) {
          // exact to the microsecond: whole seconds and microseconds summed apart
          pg = `sum(floor(extract(epoch FROM ${c}))::bigint)::text || '/' || sum(mod(extract(microseconds FROM ${c})::bigint, 1000000))::text`;
          dk = `sum(epoch_us(${c}) // 1000000)::VARCHAR || '/' || sum(epoch_us(${c}) % 1000000)::VARCHAR`;
        } else if (t === 'text' || t === 'uuid') {
          pg = `sum(octet_length(${c}::text))::text || '/' || count(DISTINCT ${c})::text`;
          dk = `sum(strlen(${c}::VARCHAR))::VARCHAR || '/' || count(DISTINCT ${c})::VARCHAR`;
        } else if (t === 'jsonb') {
          // the same JSON, whitespace aside: the number of members, elements and nested arrays
          pg = `sum(length(regexp_replace(${c}::text, '[^:,\\[]', '', 'g')))::text`;
          dk = `sum(length(regexp_replace(${c}::VARCHAR, '[^:,\\[]', '', 'g')))::VARCHAR`;
        } else {
          throw new Error(`${table}.${name}: no comparison for type ${t}`);
        }
        const a = (await db.query<{ v: unknown }>(`SELECT ${pg} AS v FROM ${table}`)).rows[0]!.v ?? null;
        const [b] = await duck.rows(`SELECT ${dk} AS v FROM ${src}`);
        const bv = b!.v ?? null;
        // doubles summed in another order differ in the last bits only
        if (typeof a === 'number')
          expect(Math.abs((bv as number) - a), `${table}.${name}`).toBeLessThanOrEqual(
            1e-9 * Math.max(1, Math.abs(a)),
          );
        else expect(bv, `${table}.${name}`).toBe(a);
      }
    }
  } finally {
    duck.close();
  }
  return counts;
}

/** sha256 of every file under `dir` (relative paths), except those `skip` matches. */
export function hashTree(dir: string, skip: (rel: string) => boolean = () => false): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const abs = path.join(d, name);
      const rel = path.relative(dir, abs);
      if (statSync(abs).isDirectory()) walk(abs);
      else if (!skip(rel)) out[rel] = createHash('sha256').update(readFileSync(abs)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** Modification times of every file under `dir`. */
export function mtimes(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const abs = path.join(d, name);
      if (statSync(abs).isDirectory()) walk(abs);
      else out[path.relative(dir, abs)] = statSync(abs).mtimeMs;
    }
  };
  walk(dir);
  return out;
}
