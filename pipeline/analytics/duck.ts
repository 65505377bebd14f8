// DuckDB sessions for analytics (@duckdb/node-api): opening with fixed settings, SQL quoting, reading results.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

export interface Duck {
  conn: DuckDBConnection;
  /** Runs one or more statements, ignoring results. */
  run(sql: string): Promise<void>;
  /** Runs SQL and returns the last statement's rows as plain JS values (BIGINT as bigint). */
  rows<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** Closes the session (again: nothing). */
  close(): void;
}

export interface DuckOptions {
  /** A database file, or undefined for an in-memory session. */
  file?: string;
  /** Where DuckDB may spill when a sort or table does not fit in memory. */
  tempDir?: string;
  /** Keep geometry columns as the WKB BLOBs they are in the file (no GeoParquet → GEOMETRY conversion). */
  rawGeometry?: boolean;
}

/** A session in UTC (days and times never depend on the machine's time zone). */
export async function openDuck(options: DuckOptions = {}): Promise<Duck> {
  const config: Record<string, string> = {};
  if (options.tempDir) config.temp_directory = options.tempDir;
  const instance = await DuckDBInstance.create(options.file ?? ':memory:', config);
  const conn = await instance.connect();
  // (a setting of the session, not of the instance: ICU, which provides it, loads with the first connection)
  await conn.run(`SET TimeZone = 'UTC'`);
  if (options.rawGeometry) await conn.run('SET enable_geoparquet_conversion = false');
  let open = true;
  return {
    conn,
    async run(sql) {
      await conn.run(sql);
    },
    async rows<T>(sql: string): Promise<T[]> {
      const reader = await conn.runAndReadAll(sql);
      return reader.getRowObjectsJS() as T[];
    },
    close() {
      if (!open) return;
      open = false;
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/** A SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** A quoted SQL identifier. */
export function sqlIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/** DuckDB's error text without its caret diagram: the first line. */
export function duckMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.trim();
}
