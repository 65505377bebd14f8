// The `db` adapter on a real PostgreSQL + PostGIS server, through a `pg` connection pool (DATABASE_URL).
import { createRequire } from 'node:module';
import pg from 'pg';
import type { Db, Queryable, QueryResult, Row, Statement } from './adapter.js';
import { parseInt8 } from './adapter.js';

/** pg's own conversion of a parameter to the text it sends (arrays, dates, JSON, buffers). */
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as {
  prepareValue(value: unknown): unknown;
};

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

/**
 * A parameter as an SQL literal: the text pg would send for it in the extended protocol, quoted (an untyped literal
 * takes its type from its context as a parameter does), or NULL.
 */
function literal(value: unknown): string {
  const text = prepareValue(value);
  if (text === null || text === undefined) return 'NULL';
  // bytea in hex; escapeLiteral makes the backslash safe whatever standard_conforming_strings says
  return pg.escapeLiteral(Buffer.isBuffer(text) ? `\\x${text.toString('hex')}` : String(text));
}

/**
 * The statement with its `$n` parameters written in as literals, for the simple query protocol (which has no
 * parameters but takes several statements in one message). Like combineWrites, it assumes no `$n` inside the SQL's
 * own string literals.
 */
export function inlineParams(sql: string, params: readonly unknown[] = []): string {
  // a statement without parameters is sent as it is (any `$n` in it is the SQL's own)
  if (!params.length) return sql;
  return sql.replace(/\$(\d+)/g, (whole, n: string) => {
    const i = Number(n) - 1;
    if (i >= params.length) throw new Error(`${whole} has no parameter (${params.length} given)`);
    return literal(params[i]);
  });
}

/** The results of one simple-query message, those of `skipFirst` leading and `skipLast` trailing statements dropped. */
function results(
  r: pg.QueryResult | pg.QueryResult[],
  skipFirst: number,
  skipLast: number,
): QueryResult<Row>[] {
  const all = Array.isArray(r) ? r : [r];
  return all
    .slice(skipFirst, all.length - skipLast)
    .map((x) => ({ rows: x.rows as Row[], rowCount: x.rowCount ?? x.rows.length }));
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
    async batch(statements: readonly Statement[], options?: { commit?: boolean }) {
      if (options?.commit) throw new Error('batch: commit is for a transaction');
      if (!statements.length) return [];
      const text = statements.map((st) => inlineParams(st.sql, st.params)).join(';\n');
      return results(await client.query(text), 0, 0);
    },
  };
}

/**
 * A transaction's connection that sends BEGIN with its first statement: in the same message (one round trip, the
 * simple query protocol) when that statement has no parameters or is a batch, else just before it. A transaction
 * that sends nothing sends no BEGIN (and needs no COMMIT); one whose batch carried COMMIT has ended.
 */
function beginning(client: pg.PoolClient): Queryable & { begun(): boolean; committed(): boolean } {
  const inner = wrap(client);
  let begun = false;
  let committed = false;
  const open = () => {
    if (committed) throw new Error('the transaction has committed: nothing more can be sent in it');
  };
  async function batch(statements: readonly Statement[], options?: { commit?: boolean }) {
    open();
    const commit = options?.commit === true;
    if (!statements.length && !commit) return [];
    const parts = statements.map((st) => inlineParams(st.sql, st.params));
    const first = begun ? 0 : 1;
    if (!begun) parts.unshift('BEGIN');
    if (commit) parts.push('COMMIT');
    begun = true;
    const r = await client.query(parts.join(';\n'));
    if (commit) committed = true;
    return results(r, first, commit ? 1 : 0);
  }
  return {
    begun: () => begun,
    committed: () => committed,
    batch,
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      open();
      if (begun) return inner.query<T>(sql, params);
      // without parameters the statement rides with BEGIN in one message
      if (!params?.length) return (await batch([{ sql }]))[0] as QueryResult<T>;
      begun = true;
      await client.query('BEGIN');
      return inner.query<T>(sql, params);
    },
    async exec(sql: string): Promise<void> {
      open();
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
    batch: direct.batch,
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
        if (tx.begun() && !tx.committed()) await client.query('COMMIT');
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
