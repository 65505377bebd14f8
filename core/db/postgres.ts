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
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
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
