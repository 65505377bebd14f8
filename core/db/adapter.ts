// The `db` adapter: the one narrow interface every database implementation (PostgreSQL, PGlite) provides.
export type Row = Record<string, unknown>;

export interface QueryResult<T> {
  rows: T[];
  /** Rows returned or affected. */
  rowCount: number;
}

/** One statement with its `$n` parameters. */
export interface Statement {
  sql: string;
  params?: readonly unknown[];
}

/** Anything SQL can be sent to: the database itself or an open transaction. */
export interface Queryable {
  /** One statement with `$n` parameters. int8 and numeric come back as numbers, timestamptz as Date, json(b) parsed. */
  query<T = Row>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
  /** A script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Optional, where a round trip costs something (PostgreSQL): several statements in one message, run in order,
   * each seeing what the ones before it did; the first that fails stops the rest and fails the call. Results in
   * order, rows parsed as query() parses them. Outside a transaction the message is one implicit transaction (all
   * or nothing). In a transaction, `commit` puts COMMIT in the same message: when the call resolves the transaction
   * has committed, and nothing more may be sent in it.
   */
  batch?(statements: readonly Statement[], options?: { commit?: boolean }): Promise<QueryResult<Row>[]>;
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Where the data lives, for messages (URL without password, or the folder). */
  readonly location: string;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** PostgreSQL's SQLSTATE of an error, when it has one. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export const UNIQUE_VIOLATION = '23505';

/** Parses int8 text to a number, refusing values a double cannot hold exactly. */
export function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`int8 value ${text} does not fit a JavaScript number`);
  return n;
}
