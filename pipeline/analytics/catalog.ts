// Views over an export folder's Parquet files, one per table (events, timeline, roles, nodes, …): created in a
// query session, and kept in <dir>/weft.duckdb for analysts' own tools (DuckDB CLI, Python, DBeaver).
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { openDuck, sqlIdent, sqlString, type Duck } from './duck.js';
import type { ExportState } from './state.js';
import { TABLES, type TableSpec } from './tables.js';

export const CATALOG_FILE = 'weft.duckdb';

/** Where a positioned table's file for one day lives, relative to the export folder. */
export function dayFile(spec: TableSpec, day: string): string {
  return path.join(spec.name, `day=${day}`, `${spec.name}.parquet`);
}

/** Where a whole-table file lives, relative to the export folder. */
export function tableFile(spec: TableSpec): string {
  return `${spec.name}.parquet`;
}

/** The statement creating a table's view over the files in `dir` (an absolute path), with its comment. */
export function viewSql(spec: TableSpec, dir: string, days: readonly string[]): string[] {
  const name = sqlIdent(spec.name);
  let body: string;
  if (!spec.positioned) {
    body = `SELECT * FROM read_parquet(${sqlString(path.join(dir, tableFile(spec)))})`;
  } else if (days.length) {
    const glob = path.join(dir, spec.name, 'day=*', `${spec.name}.parquet`);
    body = `SELECT * FROM read_parquet(${sqlString(glob)}, hive_partitioning = true, hive_types = {'day': DATE})`;
  } else {
    // no events yet: an empty view of the same shape
    const cols = spec.columns.map((c) => `CAST(NULL AS ${c.type}) AS ${sqlIdent(c.name)}`);
    body = `SELECT ${cols.join(', ')}, CAST(NULL AS DATE) AS day WHERE false`;
  }
  return [
    `CREATE OR REPLACE VIEW ${name} AS ${body}`,
    `COMMENT ON VIEW ${name} IS ${sqlString(spec.describe)}`,
  ];
}

/** Creates every table's view in a session. */
export async function createViews(duck: Duck, dir: string, state: ExportState): Promise<void> {
  const abs = path.resolve(dir);
  for (const spec of TABLES) {
    for (const sql of viewSql(spec, abs, state.days[spec.name] ?? [])) await duck.run(sql);
  }
}

/** (Re)writes <dir>/weft.duckdb: the views, with absolute paths so it opens from any working directory. */
export async function writeCatalog(dir: string, state: ExportState): Promise<string> {
  const file = path.join(dir, CATALOG_FILE);
  const tmp = `${file}.tmp`;
  for (const f of [tmp, `${tmp}.wal`]) rmSync(f, { force: true });
  const duck = await openDuck({ file: tmp });
  try {
    await createViews(duck, dir, state);
    await duck.run('CHECKPOINT');
  } finally {
    duck.close();
  }
  if (existsSync(`${tmp}.wal`)) rmSync(`${tmp}.wal`);
  // DuckDB writes the same bytes for the same views: an unchanged catalog is left untouched
  if (existsSync(file) && readFileSync(tmp).equals(readFileSync(file))) rmSync(tmp);
  else renameSync(tmp, file);
  return file;
}
