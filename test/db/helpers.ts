// Test databases: a fresh PostgreSQL database per run (dropped after), or PGlite in a temp folder; and a reset.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Db } from '../../core/db/adapter.js';
import { openDb } from '../../core/db/open.js';

/** The server's maintenance connection (CI: local PostgreSQL, trust auth, database `test`). */
export const ADMIN_URL = process.env.WEFT_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDb {
  db: Db;
  /** postgres URL of the fresh database (postgres only) */
  url?: string;
  /** Opens another, independent handle on the same database. */
  reopen: () => Promise<Db>;
  cleanup: () => Promise<void>;
}

/** Why PostgreSQL + PostGIS cannot be used here, or undefined when they can. */
export async function postgresUnavailable(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    const { rows } = await client.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'`);
    if (!rows.length) return 'PostGIS is not installed on the local PostgreSQL (run scripts/setup.sh)';
    return undefined;
  } catch (err) {
    return `no PostgreSQL at ${ADMIN_URL}: ${(err as Error).message}`;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Runs `fn` on a connection to the server's maintenance database (create, drop, alter databases). */
export async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh database weft_test_<random> on the local server, migrated; cleanup() drops it. */
export async function freshPostgres(options: { migrate?: boolean; poolMax?: number } = {}): Promise<TestDb> {
  const name = `weft_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const open = () => openDb({ url: url.toString(), migrate: options.migrate });
  const handles: Db[] = [];
  const db = await open();
  handles.push(db);
  return {
    db,
    url: url.toString(),
    reopen: async () => {
      const h = await openDb({ url: url.toString(), migrate: false });
      handles.push(h);
      return h;
    },
    cleanup: async () => {
      for (const h of handles) await h.close().catch(() => {});
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** PGlite with PostGIS in a temp folder, migrated; cleanup() closes it and removes the folder. */
export async function freshPglite(options: { migrate?: boolean } = {}): Promise<TestDb> {
  const dir = mkdtempSync(path.join(tmpdir(), 'weft-pglite-'));
  const db = await openDb({ url: '', dataDir: path.join(dir, 'data'), migrate: options.migrate });
  return {
    db,
    reopen: async () => {
      throw new Error('PGlite is a single connection');
    },
    cleanup: async () => {
      await db.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Empties the event store and every projection (bypassing the append-only triggers: tests only). */
export async function resetDb(db: Db): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.exec(`SET LOCAL session_replication_role = replica;
      TRUNCATE events, outbox, idempotency_keys, audit_log, projection_checkpoints, role_homes_private,
        proj_roles, proj_nodes, proj_threads, proj_proposals, proj_votes, proj_timeline, proj_region_stats;
      UPDATE event_log_head SET position = 0;`);
  });
}
