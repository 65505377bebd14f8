// `weft analytics export`: the events and every projection as Parquet files (events and timeline one file per
// UTC day), plus weft.duckdb with views over them. Incremental: only events after the last export's position
// are read, and only the days they fall on are rewritten (old rows + new, in position order) — so an
// incremental export leaves exactly the files a full re-export would write, byte for byte.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import type { Db, Queryable } from '../../core/db/adapter.js';
import { UserError } from '../../core/errors.js';
import { dayFile, tableFile, writeCatalog } from './catalog.js';
import { openDuck, sqlIdent, sqlString, type Duck } from './duck.js';
import { geoMetadata, type BBox } from './geoparquet.js';
import { readState, STATE_FILE, STATE_FORMAT, stateText, type ExportState } from './state.js';
import { schemaDigest, TABLES, type TableSpec } from './tables.js';

export interface ExportOptions {
  /** The export folder (default: ./analytics). */
  out?: string;
  /** Only events (and timeline rows) that occurred on or after this UTC day, YYYY-MM-DD. */
  since?: string;
  /** Ignore the previous export's state: read everything again. */
  full?: boolean;
  /** Rows per read from the database. */
  pageSize?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface FileReport {
  /** Relative to the export folder. */
  file: string;
  bytes: number;
  /** False when the file already had exactly these bytes (it was left untouched). */
  changed: boolean;
}

export interface TableReport {
  name: string;
  /** Rows in the table's files after the export. */
  rows: number;
  /** Rows read from the database by this export. */
  read: number;
  files: number;
  bytes: number;
}

export interface ExportResult {
  dir: string;
  mode: 'full' | 'incremental';
  /** Why the export was full, or what it continued from. */
  reason: string;
  /** Events after this position were read… */
  from: number;
  /** …up to this one (the database's last event when the export began). */
  to: number;
  tables: TableReport[];
  /** The Parquet files written or checked by this export. */
  files: FileReport[];
  /** Parquet files of an earlier export that are gone now (days no longer in the export). */
  removed: string[];
  catalog: string;
  ms: number;
  /** Of which reading the database (into staged JSON lines). */
  readMs: number;
}

const PAGE = 50_000;
const ROW_GROUP = 100_000;
const DAY_DIR = /^day=(\d{4}-\d{2}-\d{2})$/;

/** Checks a --since value: a calendar day YYYY-MM-DD. */
export function parseSinceDay(value: string): string {
  const ok =
    /^\d{4}-\d{2}-\d{2}$/.test(value) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value);
  if (!ok) throw new UserError(`--since: "${value}" is not a day (YYYY-MM-DD)`);
  return value;
}

interface Plan {
  mode: 'full' | 'incremental';
  reason: string;
  from: number;
}

/** Full or incremental, and from which position (pure). */
export function planExport(
  previous: ExportState | undefined,
  db: { head: number; eventIdAtPrevious: string | null },
  since: string | null,
  missingFile: string | undefined,
  full: boolean,
  schema = schemaDigest(),
): Plan {
  const start = (reason: string): Plan => ({ mode: 'full', reason, from: 0 });
  if (full) return start('--full');
  if (!previous) return start('no earlier export here');
  if (previous.schema !== schema)
    return start("the export's tables or columns changed since the earlier export");
  if (previous.since !== since) return start(`--since differs from the earlier export's (${previous.since})`);
  if (previous.position > db.head) return start('the database has fewer events than the earlier export');
  if (previous.position > 0 && db.eventIdAtPrevious !== previous.eventId)
    return start('the earlier export came from another database');
  if (missingFile) return start(`${missingFile} of the earlier export is missing`);
  return {
    mode: 'incremental',
    reason: `continuing after event ${previous.position}`,
    from: previous.position,
  };
}

/** The columns read from PostgreSQL: plain values (JSON as its text), turned into JSON lines here. */
function readColumns(spec: TableSpec) {
  return spec.columns
    .filter((c) => c.pg !== null)
    .map((c, i) => {
      const raw = (c.staged ?? c.type) === 'JSON';
      const expr = c.pg ?? sqlIdent(c.name);
      const sql = `${raw ? `(${expr})::text` : expr} AS c${i}`;
      return { name: c.name, key: `c${i}`, raw, sql, prefix: `${JSON.stringify(c.name)}:` };
    });
}

/** A value as JSON text; `raw` values already are JSON (PostgreSQL's text of a json/jsonb value). */
function jsonText(v: unknown, raw: boolean): string {
  if (typeof v === 'string') return raw ? v : JSON.stringify(v);
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return String(v); // numbers, booleans, null
}

/** One row as a JSON line; JSON columns are embedded as the text PostgreSQL gave (building JSON in SQL is slow). */
function lineOf(spec: TableSpec, cols: ReturnType<typeof readColumns>, row: Record<string, unknown>): string {
  if (spec.coarsen) {
    const obj: Record<string, unknown> = {};
    for (const c of cols) {
      const v = row[c.key] ?? null;
      obj[c.name] = c.raw && typeof v === 'string' ? JSON.parse(v) : v;
    }
    return JSON.stringify(spec.coarsen(obj));
  }
  const parts: string[] = [];
  for (const c of cols) parts.push(c.prefix + jsonText(row[c.key] ?? null, c.raw));
  return `{${parts.join(',')}}`;
}

/** Reads a table's rows from the database into newline-delimited JSON files; returns the row count. */
async function stageRows(
  q: Queryable,
  spec: TableSpec,
  staging: string,
  range: { from: number; to: number; since: string | null },
  pageSize: number,
): Promise<number> {
  let page = 0;
  let count = 0;
  const cols = readColumns(spec);
  const write = (rows: Record<string, unknown>[]) => {
    if (!rows.length) return;
    const text = rows.map((r) => lineOf(spec, cols, r)).join('\n');
    writeFileSync(path.join(staging, `${spec.name}-${String(page++).padStart(6, '0')}.ndjson`), `${text}\n`);
    count += rows.length;
  };
  // an empty file, so that the table's glob always matches
  writeFileSync(path.join(staging, `${spec.name}-empty.ndjson`), '');
  const select = cols.map((c) => c.sql).join(', ');
  if (spec.positioned) {
    const pos = sqlIdent(spec.positioned.position);
    const sinceSql = range.since ? ` AND ${sqlIdent(spec.positioned.dayOf)} >= $3::timestamptz` : '';
    for (let at = range.from; at < range.to; at += pageSize) {
      const params: unknown[] = [at, Math.min(range.to, at + pageSize)];
      if (range.since) params.push(`${range.since}T00:00:00Z`);
      const { rows } = await q.query<Record<string, unknown>>(
        `SELECT ${select} FROM ${sqlIdent(spec.source)} WHERE ${pos} > $1 AND ${pos} <= $2${sinceSql}`,
        params,
      );
      write(rows);
    }
    return count;
  }
  const order = spec.orderBy.map(sqlIdent).join(', ');
  for (;;) {
    const { rows } = await q.query<Record<string, unknown>>(
      `SELECT ${select} FROM ${sqlIdent(spec.source)} ORDER BY ${order} LIMIT $1 OFFSET $2`,
      [pageSize, count],
    );
    write(rows);
    if (rows.length < pageSize) return count;
  }
}

/** The columns in their final types, from the staged ones (`duck` expressions) or from an earlier file. */
function finalColumns(spec: TableSpec, staged: boolean): string {
  return spec.columns
    .map((c) => `CAST(${(staged && c.duck) || sqlIdent(c.name)} AS ${c.type}) AS ${sqlIdent(c.name)}`)
    .join(', ');
}

function stageTable(spec: TableSpec): string {
  return sqlIdent(`stage_${spec.name}`);
}

async function loadStaged(duck: Duck, spec: TableSpec, staging: string): Promise<void> {
  const columns = spec.columns
    .filter((c) => c.pg !== null)
    .map((c) => `${sqlString(c.name)}: ${sqlString(c.staged ?? c.type)}`)
    .join(', ');
  const glob = path.join(staging, `${spec.name}-*.ndjson`);
  const source = `read_json(${sqlString(glob)}, format = 'newline_delimited', columns = {${columns}})`;
  if (!spec.positioned) {
    await duck.run(
      `CREATE TEMP TABLE ${stageTable(spec)} AS SELECT ${finalColumns(spec, true)} FROM ${source}`,
    );
    return;
  }
  // positioned rows carry their UTC day, sorted by it: each day's rows are then a contiguous run
  const dayOf = sqlIdent(spec.positioned.dayOf);
  await duck.run(
    `CREATE TEMP TABLE ${stageTable(spec)} AS
     SELECT *, strftime(CAST(${dayOf} AS DATE), '%Y-%m-%d') AS __day FROM (SELECT ${finalColumns(spec, true)} FROM ${source})
     ORDER BY __day, ${sqlIdent(spec.positioned.position)}`,
  );
  // the staged lines are in DuckDB now
  for (const f of readdirSync(staging)) if (f.startsWith(`${spec.name}-`)) rmSync(path.join(staging, f));
}

function sameBytes(a: string, b: string): boolean {
  if (!existsSync(b) || statSync(a).size !== statSync(b).size) return false;
  return readFileSync(a).equals(readFileSync(b));
}

/** Writes the rows of `select` in the table's order to one Parquet file (left untouched when unchanged). */
async function writeParquet(duck: Duck, spec: TableSpec, select: string, file: string): Promise<boolean> {
  const order = spec.orderBy.map(sqlIdent).join(', ');
  await duck.run(`CREATE OR REPLACE TEMP TABLE __out AS ${select} ORDER BY ${order}`);
  let kv = '';
  if (spec.geometry) {
    const [x0, y0, x1, y1] = spec.geometry.bbox;
    const [b] = await duck.rows<{ x0: number | null; y0: number; x1: number; y1: number }>(
      `SELECT min(${x0}) AS x0, min(${y0}) AS y0, max(${x1}) AS x1, max(${y1}) AS y1
       FROM __out WHERE geometry IS NOT NULL`,
    );
    const bbox: BBox | null = b!.x0 === null ? null : [b!.x0, b!.y0, b!.x1, b!.y1];
    kv = `, KV_METADATA {geo: ${sqlString(geoMetadata(spec.geometry, bbox))}}`;
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  await duck.run(
    `COPY __out TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP}${kv})`,
  );
  await duck.run('DROP TABLE __out');
  if (sameBytes(tmp, file)) {
    rmSync(tmp);
    return false;
  }
  renameSync(tmp, file);
  return true;
}

/** The days with a file of a positioned table in `dir`. */
function daysOnDisk(dir: string, spec: TableSpec): string[] {
  const base = path.join(dir, spec.name);
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .map((d) => DAY_DIR.exec(d)?.[1])
    .filter((d): d is string => !!d && existsSync(path.join(dir, dayFile(spec, d))))
    .sort();
}

/** Holds <dir>/.export.lock while an export runs; a lock left by a process that is gone is taken over. */
function lock(dir: string): () => void {
  const file = path.join(dir, '.export.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(file, 'utf8'));
      let alive = false;
      try {
        process.kill(pid, 0);
        alive = Number.isSafeInteger(pid) && pid > 0;
      } catch {
        alive = false;
      }
      if (alive) throw new UserError(`--out: another export (process ${pid}) is writing to ${dir}`);
      rmSync(file, { force: true });
    }
  }
  throw new UserError(`--out: cannot lock ${dir} for the export`);
}

export async function exportAnalytics(db: Db, options: ExportOptions = {}): Promise<ExportResult> {
  const t0 = performance.now();
  const log = options.log ?? (() => {});
  const dir = path.resolve(options.out ?? 'analytics');
  const since = options.since === undefined ? null : parseSinceDay(options.since);
  const pageSize = options.pageSize ?? PAGE;
  mkdirSync(dir, { recursive: true });
  const unlock = lock(dir);
  const staging = path.join(dir, `.staging-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(staging);
  try {
    const previous = options.full ? undefined : readState(dir);
    // every day file the earlier export wrote must still be there to be appended to
    const missing = previous
      ? TABLES.filter((s) => s.positioned)
          .flatMap((s) => (previous.days[s.name] ?? []).map((d) => dayFile(s, d)))
          .find((f) => !existsSync(path.join(dir, f)))
      : undefined;

    // read: one consistent snapshot of the database
    const snapshot = await db.transaction(async (tx) => {
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      const { rows } = await tx.query<{ head: number; event_id: string | null }>(
        `SELECT h.head, (SELECT event_id::text FROM events WHERE position = h.head) AS event_id
         FROM (SELECT coalesce(max(position), 0)::bigint AS head FROM events) h`,
      );
      const head = rows[0]!.head;
      let eventIdAtPrevious: string | null = null;
      if (previous && previous.position > 0 && previous.position <= head) {
        const r = await tx.query<{ event_id: string }>(
          'SELECT event_id::text AS event_id FROM events WHERE position = $1',
          [previous.position],
        );
        eventIdAtPrevious = r.rows[0]?.event_id ?? null;
      }
      const plan = planExport(previous, { head, eventIdAtPrevious }, since, missing, !!options.full);
      const span = head > plan.from ? `events ${plan.from + 1}–${head}` : `no events after ${plan.from}`;
      log(`analytics export (${plan.mode}: ${plan.reason}), ${span} → ${dir}`);
      const read: Record<string, number> = {};
      for (const spec of TABLES) {
        read[spec.name] = await stageRows(tx, spec, staging, { from: plan.from, to: head, since }, pageSize);
      }
      return { head, headEventId: rows[0]!.event_id, plan, read };
    });
    const { plan, read } = snapshot;
    const readMs = performance.now() - t0;

    // write: DuckDB turns the staged rows into Parquet
    const duck = await openDuck({ tempDir: path.join(staging, 'duckdb'), rawGeometry: true });
    const files: FileReport[] = [];
    const removed: string[] = [];
    const days: Record<string, string[]> = {};
    try {
      for (const spec of TABLES) {
        await loadStaged(duck, spec, staging);
        const stage = stageTable(spec);
        const record = (rel: string, changed: boolean) =>
          files.push({ file: rel, bytes: statSync(path.join(dir, rel)).size, changed });
        if (!spec.positioned) {
          const rel = tableFile(spec);
          record(rel, await writeParquet(duck, spec, `SELECT * FROM ${stage}`, path.join(dir, rel)));
          await duck.run(`DROP TABLE ${stage}`);
          continue;
        }
        const pos = sqlIdent(spec.positioned.position);
        const touched = (
          await duck.rows<{ day: string }>(`SELECT DISTINCT __day AS day FROM ${stage} ORDER BY day`)
        ).map((r) => r.day);
        for (const day of touched) {
          const rel = dayFile(spec, day);
          const file = path.join(dir, rel);
          const fresh = `SELECT * EXCLUDE (__day) FROM ${stage} WHERE __day = '${day}'`;
          const select =
            plan.mode === 'incremental' && existsSync(file)
              ? `SELECT ${finalColumns(spec, false)} FROM read_parquet(${sqlString(file)}, hive_partitioning = false)
                 WHERE ${pos} <= ${plan.from} UNION ALL ${fresh}`
              : fresh;
          record(rel, await writeParquet(duck, spec, select, file));
        }
        const kept = plan.mode === 'incremental' ? (previous?.days[spec.name] ?? []) : [];
        days[spec.name] = [...new Set([...kept, ...touched])].sort();
        // a full export removes the days it no longer has (e.g. before a new --since)
        for (const day of daysOnDisk(dir, spec)) {
          if (days[spec.name]!.includes(day)) continue;
          const rel = dayFile(spec, day);
          rmSync(path.join(dir, rel));
          try {
            rmdirSync(path.dirname(path.join(dir, rel)));
          } catch {
            // the folder holds something else too: leave it
          }
          removed.push(rel);
        }
        await duck.run(`DROP TABLE ${stage}`);
        log(`  ${spec.name}: ${read[spec.name]} rows read, ${touched.length} day files written`);
      }

      const tables: TableReport[] = [];
      for (const spec of TABLES) {
        const rels = spec.positioned ? days[spec.name]!.map((d) => dayFile(spec, d)) : [tableFile(spec)];
        let rows = 0;
        if (rels.length) {
          const list = rels.map((r) => sqlString(path.join(dir, r))).join(', ');
          const [r] = await duck.rows<{ n: bigint | null }>(
            `SELECT sum(num_rows)::BIGINT AS n FROM parquet_file_metadata([${list}])`,
          );
          rows = Number(r!.n ?? 0);
        }
        const bytes = rels.reduce((s, r) => s + statSync(path.join(dir, r)).size, 0);
        tables.push({ name: spec.name, rows, read: read[spec.name]!, files: rels.length, bytes });
      }

      const state: ExportState = {
        format: STATE_FORMAT,
        position: snapshot.head,
        eventId: snapshot.headEventId,
        since,
        schema: schemaDigest(),
        days,
      };
      duck.close();
      const catalog = await writeCatalog(dir, state);
      const stateFile = path.join(dir, STATE_FILE);
      const text = stateText(state);
      if (!existsSync(stateFile) || readFileSync(stateFile, 'utf8') !== text) {
        writeFileSync(`${stateFile}.tmp`, text);
        renameSync(`${stateFile}.tmp`, stateFile);
      }
      return {
        dir,
        mode: plan.mode,
        reason: plan.reason,
        from: plan.from,
        to: snapshot.head,
        tables,
        files,
        removed,
        catalog,
        ms: performance.now() - t0,
        readMs,
      };
    } finally {
      duck.close();
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
    unlock();
  }
}
