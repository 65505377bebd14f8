// The analytics commands end to end on a real PostgreSQL + PostGIS database: `weft analytics export` (full, then
// incremental) equals the database table by table, `weft analytics query` prints tables, CSV and JSON, and bad
// input fails with one clear line.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { executeCommands } from '../../core/domain/execute.js';
import { freshPostgres, postgresUnavailable, type TestDb } from '../db/helpers.js';
import { exportAnalytics } from '../../pipeline/analytics/export.js';
import { runQuery } from '../../pipeline/analytics/query.js';
import { compareWithDatabase, hashTree, SEED_NOW, seedSmall } from './support.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function weft(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  return runCli(args, { env });
}

const unavailable = await postgresUnavailable();
if (unavailable) console.warn(`skipping the analytics tests on PostgreSQL: ${unavailable}`);

describe.skipIf(Boolean(unavailable))('weft analytics on PostgreSQL', () => {
  let t: TestDb;
  let tmp: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await freshPostgres();
    tmp = mkdtempSync(path.join(tmpdir(), 'weft-analytics-pg-'));
    env = { DATABASE_URL: t.url! };
    await seedSmall(t.db);
  });
  afterAll(async () => {
    await t?.cleanup();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('exports with the database’s totals, then only what is new', async () => {
    const dir = path.join(tmp, 'out');
    const r1 = await weft(['analytics', 'export', '--out', dir, '-q'], env);
    expect(r1.stderr).toBe('');
    expect(r1.code).toBe(0);
    expect(r1.stdout).toMatch(/^exported to .*out\/ \(full: no earlier export here\)/);
    expect(r1.stdout).toMatch(/events\s+\d+ rows/);
    await compareWithDatabase(t.db, dir);
    const before = hashTree(dir);

    const at = new Date(SEED_NOW.getTime() + 26 * 3_600_000);
    await executeCommands(t.db, [
      {
        actor: 'monaco-r0005',
        at,
        command: { type: 'EngageThread', roleId: 'monaco-r0005', nodeId: 'monaco-n0003' },
      },
    ]);
    const r2 = await weft(['analytics', 'export', '--out', dir], env);
    expect(r2.code).toBe(0);
    expect(r2.stdout).toMatch(/\(incremental: continuing after event \d+\)/);
    expect(r2.stdout).toMatch(/events\s+\d+ rows\s+\(1 read\)/);
    expect(r2.stderr).toMatch(/^analytics export \(incremental/);
    await compareWithDatabase(t.db, dir);
    const after = hashTree(dir);
    const changed = Object.keys(after).filter((k) => after[k] !== before[k]);
    // the new day's event and timeline files, and the whole-table projections that the engagement changed
    expect(changed).toContain('events/day=2025-06-02/events.parquet');
    expect(changed).toContain('timeline/day=2025-06-02/timeline.parquet');
    expect(changed.filter((k) => k.startsWith('events/'))).toEqual(['events/day=2025-06-02/events.parquet']);
  });

  it('queries an export as a table, CSV or JSON, by name, file or SQL', async () => {
    const dir = path.join(tmp, 'out');
    const list = await weft(['analytics', 'list'], {});
    expect(list.code).toBe(0);
    expect(list.stdout.trim().split('\n')).toHaveLength(5);

    const json = await weft(
      ['analytics', 'query', 'most-engaged-nodes', '--dir', dir, '--format', 'json'],
      {},
    );
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as { node_id: string; engagements: number }[];
    const { rows: top } = await t.db.query<{ node_id: string; e: number }>(
      `SELECT node_id, sum(engagements)::int AS e FROM proj_threads GROUP BY node_id ORDER BY e DESC, node_id LIMIT 1`,
    );
    expect(rows[0]).toMatchObject({ node_id: top[0]!.node_id, engagements: top[0]!.e });

    const csv = await weft(
      ['analytics', 'query', 'SELECT count(*) AS n, \'a,"b"\' AS s FROM events', '-d', dir, '-f', 'csv'],
      {},
    );
    const n = (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events')).rows[0]!.n;
    expect(csv.stdout).toBe(`n,s\r\n${n},"a,""b"""\r\n`);

    const file = path.join(repo, 'sql/analytics/proposal-participation.sql');
    const table = await weft(['analytics', 'query', file, '-d', dir], {});
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^proposal_id\s+│ region_id\s+│ title/);
    const proposals = (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM proj_proposals'))
      .rows[0]!.n;
    expect(lines.at(-1)).toBe(`(${proposals} rows)`);
  });

  it('exports an empty database: empty files and views of the right shape', async () => {
    const empty = await freshPostgres();
    try {
      const dir = path.join(tmp, 'empty-db');
      const r = await exportAnalytics(empty.db, { out: dir });
      expect(r.to).toBe(0);
      expect(r.tables.find((x) => x.name === 'events')).toMatchObject({ rows: 0, files: 0 });
      expect(r.tables.find((x) => x.name === 'threads')).toMatchObject({ rows: 0, files: 1 });
      const out = await runQuery(
        dir,
        'SELECT (SELECT count(*) FROM events) AS e, (SELECT count(*) FROM threads) AS t',
      );
      expect(out.rows).toEqual([[0, 0]]);
      const cols = await runQuery(dir, 'DESCRIBE events');
      expect(cols.rows.map((r) => r[0])).toEqual([
        'position',
        'event_id',
        'stream_id',
        'stream_type',
        'stream_version',
        'type',
        'actor',
        'payload',
        'occurred_at',
        'recorded_at',
        'day',
      ]);
      for (const q of [
        'activity-per-day-region',
        'most-engaged-nodes',
        'proposal-participation',
        'threads-alive-vs-faded',
      ])
        expect(
          (await runQuery(dir, readFileSync(path.join(repo, `sql/analytics/${q}.sql`), 'utf8'))).rows,
        ).toEqual([]);
    } finally {
      await empty.cleanup();
    }
  });

  it('fails in one clear line on bad input', async () => {
    const dir = path.join(tmp, 'out');
    const since = await weft(
      ['analytics', 'export', '--since', 'yesterday', '--out', path.join(tmp, 'x')],
      env,
    );
    expect(since.code).toBe(1);
    expect(since.stderr).toBe('weft: --since: "yesterday" is not a day (YYYY-MM-DD)\n');
    const sql = await weft(['analytics', 'query', 'SELECT nope FROM events', '-d', dir], {});
    expect(sql.code).toBe(1);
    expect(sql.stderr).toMatch(/^weft: query: Binder Error: Referenced column "nope" not found/);
    expect(sql.stderr.trim().split('\n')).toHaveLength(1);
    const empty = path.join(tmp, 'empty');
    mkdirSync(empty);
    const none = await weft(['analytics', 'query', 'SELECT 1', '-d', empty], {});
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      `weft: --dir: ${empty} holds no analytics export (run weft analytics export first)\n`,
    );
    const missing = await weft(['analytics', 'query', 'no-such-query', '-d', dir], {});
    expect(missing.stderr).toMatch(/^weft: no-such-query: no such file and no ready-made query of that name/);
    const format = await weft(['analytics', 'query', 'SELECT 1', '-d', dir, '-f', 'xml'], {});
    expect(format.code).not.toBe(0);
    expect(format.stderr).toMatch(/must be table, csv or json, got "xml"/);
  });
});
