// The `db` adapter on a real PostgreSQL + PostGIS server, through a `pg` connection pool (DATABASE_URL).
import pg from 'pg';
import type { Db, Queryable, QueryResult } from './adapter.js';
import { parseInt8 } from './adapter.js';

const INT8 = 20;
const NUMERIC = 1700;

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8) return parseInt8;
    if (oid === NUMERIC) return Number;
    return pg.types.getTypeParser(oid, format);
  },
};

/** The URL with any password masked, for messages. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

function wrap(client: pg.PoolClient | pg.Pool): Queryable {
  return {
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      const r = await client.query(sql, params as unknown[] | undefined);
      return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
    },
    async exec(sql: string): Promise<void> {
      await client.query(sql);
    },
  };
}

/**
 * A transaction's connection that sends BEGIN with its first statement: in the same message (one round trip, the
 * simple query protocol) when that statement has no parameters, else just before it. A transaction that sends
 * nothing sends no BEGIN (and needs no COMMIT).
 */
function beginning(client: pg.PoolClient): Queryable & { begun(): boolean } {
  const inner = wrap(client);
  let begun = false;
  return {
    begun: () => begun,
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      if (begun) return inner.query<T>(sql, params);
      begun = true;
      if (params?.length) {
        await client.query('BEGIN');
        return inner.query<T>(sql, params);
      }
      // BEGIN's result, then the statement's
      const results = (await client.query(`BEGIN;\n${sql}`)) as unknown as pg.QueryResult[];
      const r = results.at(-1)!;
      return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
    },
    async exec(sql: string): Promise<void> {
      if (!begun) {
        begun = true;
        sql = `BEGIN;\n${sql}`;
      }
      await client.query(sql);
    },
  };
}

export interface PostgresOptions {
  /** Pool size (default 10). */
  max?: number;
}

export function openPostgres(url: string, options: PostgresOptions = {}): Db {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, types });
  // a server-side kill of an idle pooled connection must not crash the process; the pool drops that client
  pool.on('error', () => {});
  const direct = wrap(pool);
  return {
    kind: 'postgres',
    location: describeUrl(url),
    query: direct.query,
    exec: direct.exec,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      const onError = (err: Error) => {
        broken = err;
      };
      client.on('error', onError);
      try {
        const tx = beginning(client);
        const result = await fn(tx);
        if (tx.begun()) await client.query('COMMIT');
        return result;
      } catch (err) {
        broken ??= err instanceof Error ? err : new Error(String(err));
        try {
          await client.query('ROLLBACK');
          broken = undefined; // the connection itself is fine
        } catch {
          // the connection is gone: the server rolled the transaction back
        }
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    async close(): Promise<void> {
      await pool.end();
    },
  };
}
