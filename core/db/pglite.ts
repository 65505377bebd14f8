// The `db` adapter on PGlite with PostGIS: embedded PostgreSQL in WebAssembly, data in a folder (or memory).
import { mkdirSync } from 'node:fs';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import type { Transaction } from '@electric-sql/pglite';
import { postgis } from '@electric-sql/pglite-postgis';
import type { Db, Queryable, QueryResult } from './adapter.js';
import { parseInt8 } from './adapter.js';

function wrap(target: PGlite | Transaction): Queryable {
  return {
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      const r = await target.query<T>(sql, params as unknown[] | undefined);
      return { rows: r.rows, rowCount: r.affectedRows || r.rows.length };
    },
    async exec(sql: string): Promise<void> {
      await target.exec(sql);
    },
  };
}

/** Opens (creating when missing) a PGlite database in `dataDir`, or in memory when it is undefined. */
export async function openPglite(dataDir?: string): Promise<Db> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create({
    dataDir,
    extensions: { postgis },
    parsers: { [pgliteTypes.INT8]: parseInt8, [pgliteTypes.NUMERIC]: Number },
  });
  const direct = wrap(db);
  return {
    kind: 'pglite',
    location: dataDir ?? 'memory',
    query: direct.query,
    exec: direct.exec,
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return db.transaction((tx) => fn(wrap(tx)));
    },
    async close(): Promise<void> {
      if (!db.closed) await db.close();
    },
  };
}
