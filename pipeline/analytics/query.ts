// `weft analytics query`: runs SQL — typed in, a file, or a ready-made query of sql/analytics/ by name — on an
// export's views (events, timeline, roles, nodes, threads, proposals, votes, region_stats, audit_log).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../core/errors.js';
import { repoRoot } from '../../core/paths.js';
import { createViews } from './catalog.js';
import { duckMessage, openDuck } from './duck.js';
import { readState, STATE_FILE } from './state.js';
import { wkbToWkt } from './wkt.js';

export interface ReadyQuery {
  /** The file name without .sql, e.g. "most-engaged-nodes". */
  name: string;
  file: string;
  /** The question it answers: its first line's comment. */
  question: string;
  sql: string;
}

export interface QueryOutput {
  columns: string[];
  /** DuckDB type names, e.g. BIGINT, VARCHAR, TIMESTAMP WITH TIME ZONE. */
  types: string[];
  /** JSON-safe values: numbers, strings (also times and big numbers), booleans, objects, null. */
  rows: unknown[][];
}

/** The ready-made queries' folder: <repo>/sql/analytics. */
export function readyQueriesDir(): string {
  return path.join(repoRoot(), 'sql', 'analytics');
}

/** Every ready-made query, by name; each file must start with a `-- question` line. */
export function listQueries(dir = readyQueriesDir()): ReadyQuery[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      const sql = readFileSync(file, 'utf8');
      const first = sql.split('\n', 1)[0]!;
      if (!first.startsWith('--'))
        throw new Error(`${file}: the first line must be a "-- what it answers" comment`);
      return { name: f.slice(0, -4), file, question: first.slice(2).trim(), sql };
    });
}

/** The SQL an argument stands for: a file, a ready-made query's name, or SQL itself. */
export function resolveQuery(arg: string, dir = readyQueriesDir()): { sql: string; source: string } {
  if (existsSync(arg) && statSync(arg).isFile()) return { sql: readFileSync(arg, 'utf8'), source: arg };
  const name = arg.replace(/\.sql$/i, '');
  if (/^[A-Za-z0-9_-]+$/.test(name) && existsSync(path.join(dir, `${name}.sql`))) {
    const file = path.join(dir, `${name}.sql`);
    return { sql: readFileSync(file, 'utf8'), source: path.relative(process.cwd(), file) || file };
  }
  if (/\.sql$/i.test(arg) || /^[A-Za-z0-9_-]+$/.test(arg)) {
    throw new UserError(
      `${arg}: no such file and no ready-made query of that name (weft analytics list shows them)`,
    );
  }
  return { sql: arg, source: 'query' };
}

const NUMERIC_TEXT = /^(BIGINT|HUGEINT|UBIGINT|UHUGEINT|DECIMAL)/;

/** A value of the library's JSON form made friendlier: big integers as numbers when exact, JSON parsed. */
function jsonValue(value: unknown, type: string): unknown {
  if (typeof value === 'string' && NUMERIC_TEXT.test(type)) {
    const n = Number(value);
    if (type.startsWith('DECIMAL') ? Number.isFinite(n) : Number.isSafeInteger(n)) return n;
  }
  if (typeof value === 'string' && type === 'JSON') {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value;
}

/** Runs SQL (its last statement's rows are the result) on the export in `dir`. */
export async function runQuery(dir: string, sql: string, source = 'query'): Promise<QueryOutput> {
  const state = readState(dir);
  if (!state) {
    const why = existsSync(path.join(dir, STATE_FILE))
      ? `holds an analytics export this weft cannot read (run weft analytics export --out ${dir} again)`
      : 'holds no analytics export (run weft analytics export first)';
    throw new UserError(`--dir: ${dir} ${why}`);
  }
  const duck = await openDuck();
  try {
    await createViews(duck, dir, state);
    let reader;
    try {
      reader = await duck.conn.runAndReadAll(sql);
    } catch (err) {
      throw new UserError(`${source}: ${duckMessage(err)}`, 'bad_query');
    }
    const columns = reader.columnNames();
    const types = reader
      .columnTypes()
      .map((t, i) => (reader.columnLogicalType(i).alias === 'JSON' ? 'JSON' : t.toString()));
    const rows = reader.getRowsJson().map((row) => row.map((v, i) => jsonValue(v, types[i]!)));
    // geometry as WKT rather than escaped WKB bytes
    const geometry = types.flatMap((t, i) => (t.startsWith('GEOMETRY') ? [i] : []));
    if (geometry.length) {
      const raw = reader.getRowsJS();
      raw.forEach((row, r) => {
        for (const i of geometry) {
          const v = row[i];
          if (v instanceof Uint8Array) rows[r]![i] = wkbToWkt(v);
        }
      });
    }
    return { columns, types, rows };
  } finally {
    duck.close();
  }
}
