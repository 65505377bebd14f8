// `make bench-analytics`: the analytics export of EVENTS events (default 1 M) on PostgreSQL — a full export,
// an incremental one after 10 k more events, a no-op one, a full re-export checked byte for byte — with times,
// peak memory, file sizes next to the database's own table sizes, and every ready-made query over the result.
// The events are generated in SQL (INSERT … SELECT generate_series) after a seeded community: engagements (75 %),
// votes (20 %) and new threads (5 %) from the community's roles to its nodes over 60 days, with their timeline rows.
//   DATABASE_URL  use this database (default: a fresh weft_bench_<random> on the local server, dropped after)
//   EVENTS        synthetic events (default 1000000)
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { openDb } from '../core/db/open.js';
import type { Db } from '../core/db/adapter.js';
import { repoRoot } from '../core/paths.js';
import { seedCommunity } from '../core/seed/seed.js';
import { builtinPlaces } from '../core/seed/places.js';
import { loadSeedRegion } from '../core/seed/region.js';
import { exportAnalytics, type ExportResult } from '../pipeline/analytics/export.js';
import { listQueries, resolveQuery, runQuery } from '../pipeline/analytics/query.js';
import { benchDatabase } from './pg.js';

const TOTAL = Number(process.env.EVENTS ?? 1_000_000);
const MORE = 10_000;
const STREAMS = 50_000;
const log = (s: string) => process.stderr.write(`${s}\n`);
const mb = (b: number) => `${(b / 1024 ** 2).toFixed(1)} MB`;

/** Appends `n` synthetic events (and their timeline rows) after the current head, in one transaction. */
async function generate(db: Db, n: number, salt: string): Promise<void> {
  await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ h: number }>('SELECT position AS h FROM event_log_head FOR UPDATE');
    const h = rows[0]!.h;
    await tx.query(
      `WITH g AS (
         SELECT i,
           'monaco-r' || lpad((1 + (i * 7919) % 300)::text, 4, '0') AS role,
           'monaco-n' || lpad((1 + (i * 104729) % 120)::text, 4, '0') AS node,
           CASE WHEN i % 20 < 15 THEN 'ThreadRenewed' WHEN i % 20 < 19 THEN 'VoteCast' ELSE 'ThreadSpun' END AS type,
           timestamptz '2025-06-01T00:00:00Z' + make_interval(secs => (i - 1) * 5184000.0 / $3) AS at
         FROM generate_series($2::bigint + 1, $2::bigint + $1) AS i)
       INSERT INTO events (position, event_id, stream_id, stream_type, stream_version, type, payload, metadata,
                           occurred_at, recorded_at)
       SELECT i, md5($4 || i)::uuid,
         CASE WHEN type = 'VoteCast' THEN 'proposal:bench-p' ELSE 'thread:bench-t' END || (i % ${STREAMS}),
         CASE WHEN type = 'VoteCast' THEN 'proposal' ELSE 'thread' END,
         (i / ${STREAMS})::int + 1,
         type,
         CASE WHEN type = 'VoteCast'
           THEN jsonb_build_object('proposalId', 'bench-p' || (i % ${STREAMS}), 'roleId', role,
                  'choice', (ARRAY['yes', 'no', 'abstain'])[1 + i % 3], 'previousChoice', NULL)
           ELSE jsonb_build_object('threadId', 'bench-t' || (i % ${STREAMS}), 'roleId', role, 'nodeId', node)
         END,
         jsonb_build_object('actor', role, 'idempotencyKey', 'bench-' || i),
         at, at
       FROM g`,
      [n, h, TOTAL, salt],
    );
    await tx.query(
      `INSERT INTO proj_timeline (position, occurred_at, region_id, stream_type, stream_id, type, actor, summary, lon, lat)
       SELECT e.position, e.occurred_at, 'monaco', e.stream_type, e.stream_id, e.type, e.metadata->>'actor',
              e.type || ' by ' || (e.metadata->>'actor'), n.lon, n.lat
       FROM events e LEFT JOIN proj_nodes n ON n.node_id = e.payload->>'nodeId'
       WHERE e.position > $1`,
      [h],
    );
    await tx.query('UPDATE event_log_head SET position = $1', [h + n]);
  });
}

/** sha256 of every file under `dir` but weft.duckdb (whose views name the folder). */
function hashTree(dir: string): string {
  const lines: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d).sort()) {
      const abs = path.join(d, f);
      if (statSync(abs).isDirectory()) walk(abs);
      else if (f !== 'weft.duckdb')
        lines.push(
          `${path.relative(dir, abs)} ${createHash('sha256').update(readFileSync(abs)).digest('hex')}`,
        );
    }
  };
  walk(dir);
  return lines.join('\n');
}

/** Runs `fn`, sampling the process's resident memory (DuckDB's native memory included). */
async function measured<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; s: number; cpuS: number; peakMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  try {
    const result = await fn();
    const cpu = process.cpuUsage(cpu0);
    return {
      result,
      s: (performance.now() - t0) / 1000,
      cpuS: (cpu.user + cpu.system) / 1e6,
      peakMb: Math.round(peak / 1024 ** 2),
    };
  } finally {
    clearInterval(timer);
  }
}

function describe(label: string, r: { result: ExportResult; s: number; cpuS: number; peakMb: number }): void {
  const written = r.result.files.filter((f) => f.changed);
  log(
    `${label}: ${r.s.toFixed(1)} s (reading the database ${(r.result.readMs / 1000).toFixed(1)} s; ` +
      `this process's CPU ${r.cpuS.toFixed(1)} s), peak RSS ${r.peakMb} MB, ${r.result.to - r.result.from} events read, ` +
      `${written.length} files written (${mb(written.reduce((s, f) => s + f.bytes, 0))}), ` +
      `${r.result.files.length - written.length} unchanged`,
  );
}

const { url, fresh, drop } = await benchDatabase();
const out = path.join(repoRoot(), 'bench/out/analytics');
rmSync(out, { recursive: true, force: true });
const db = await openDb({ url });
try {
  const version = (await db.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v.split(' on ')[0];
  log(`bench-analytics on ${version} (${fresh ? 'fresh database' : db.location}), ${TOTAL} synthetic events`);
  const region = loadSeedRegion('monaco');
  const now = new Date('2025-06-01T00:00:00Z');
  const seeded = await seedCommunity(db, {
    region,
    places: await builtinPlaces(region),
    seed: 1,
    now,
    salt: 'bench',
  });
  const t0 = performance.now();
  await generate(db, TOTAL, 'a');
  await db.exec('ANALYZE events; ANALYZE proj_timeline');
  const events = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0]!.n;
  log(
    `seeded ${seeded.events} events, generated ${TOTAL} more in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${events} events`,
  );
  const sizes = (
    await db.query<{ events: number; timeline: number }>(
      `SELECT pg_total_relation_size('events')::bigint AS events, pg_total_relation_size('proj_timeline')::bigint AS timeline`,
    )
  ).rows[0]!;

  const fullDir = path.join(out, 'full');
  const full = await measured(() => exportAnalytics(db, { out: fullDir }));
  describe('full export', full);
  const table = (n: string) => full.result.tables.find((t) => t.name === n)!;
  for (const t of full.result.tables)
    log(
      `  ${t.name.padEnd(13)} ${String(t.rows).padStart(9)} rows ${String(t.files).padStart(4)} files ${mb(t.bytes).padStart(9)}`,
    );
  log(`  PostgreSQL: events ${mb(sizes.events)}, proj_timeline ${mb(sizes.timeline)} (tables with indexes)`);

  const noop = await measured(() => exportAnalytics(db, { out: fullDir }));
  describe('incremental export, nothing new', noop);

  await generate(db, MORE, 'b');
  const inc = await measured(() => exportAnalytics(db, { out: fullDir }));
  describe(`incremental export after ${MORE} more events`, inc);

  const againDir = path.join(out, 'again');
  const again = await measured(() => exportAnalytics(db, { out: againDir }));
  describe('full re-export elsewhere', again);
  const identical = hashTree(fullDir) === hashTree(againDir);
  log(`  incremental + full re-export byte-identical: ${identical}`);

  const queries: Record<string, number> = {};
  for (const q of [
    'SELECT day, type, count(*) AS n FROM events GROUP BY ALL ORDER BY ALL',
    ...listQueries().map((x) => x.name),
  ]) {
    const { sql, source } = resolveQuery(q);
    const r = await measured(() => runQuery(fullDir, sql, source));
    const label = source === 'query' ? 'events per day and type' : path.basename(source, '.sql');
    queries[label] = Number(r.s.toFixed(2));
    log(`query ${label}: ${r.s.toFixed(2)} s, ${r.result.rows.length} rows, peak RSS ${r.peakMb} MB`);
  }

  const report = {
    server: version,
    events,
    loadAverage: Number(loadavg()[0]!.toFixed(1)),
    cores: cpus().length,
    fullExportSeconds: Number(full.s.toFixed(1)),
    fullExportReadSeconds: Number((full.result.readMs / 1000).toFixed(1)),
    fullExportCpuSeconds: Number(full.cpuS.toFixed(1)),
    fullExportEventsPerSec: Math.round(events / full.s),
    fullExportPeakRssMb: full.peakMb,
    noopExportSeconds: Number(noop.s.toFixed(1)),
    incrementalEvents: MORE,
    incrementalExportSeconds: Number(inc.s.toFixed(1)),
    reExportSeconds: Number(again.s.toFixed(1)),
    reExportIdentical: identical,
    eventsParquetMb: Number((table('events').bytes / 1024 ** 2).toFixed(1)),
    eventsFiles: table('events').files,
    timelineParquetMb: Number((table('timeline').bytes / 1024 ** 2).toFixed(1)),
    allParquetMb: Number((full.result.tables.reduce((s, t) => s + t.bytes, 0) / 1024 ** 2).toFixed(1)),
    postgresEventsMb: Number((sizes.events / 1024 ** 2).toFixed(1)),
    postgresTimelineMb: Number((sizes.timeline / 1024 ** 2).toFixed(1)),
    querySeconds: queries,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  if (!identical) process.exitCode = 1;
} finally {
  await db.close();
  await drop();
}
