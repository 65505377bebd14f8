// The analytics export on a seeded PGlite database: totals equal the database's, the files open in plain DuckDB
// (GeoParquet geometry included), incremental exports append only new events, re-exports are byte-identical,
// no exact home or IP address leaves the database, and every ready-made query gives plausible answers.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAudit } from '../../core/audit.js';
import { canonicalJson } from '../../core/json.js';
import { executeCommands } from '../../core/domain/execute.js';
import { exportAnalytics, type ExportResult } from '../../pipeline/analytics/export.js';
import { listQueries, runQuery } from '../../pipeline/analytics/query.js';
import { TABLES } from '../../pipeline/analytics/tables.js';
import { freshPglite, type TestDb } from '../db/helpers.js';
import { compareWithDatabase, hashTree, mtimes, plainDuck, SEED_NOW, seedSmall } from './support.js';

const HOUR = 3_600_000;

describe('analytics export (PGlite, seeded monaco)', () => {
  let t: TestDb;
  let tmp: string;
  let dir: string;
  let first: ExportResult;
  let firstHashes: Record<string, string>;
  let seeded: Awaited<ReturnType<typeof seedSmall>>;

  beforeAll(async () => {
    t = await freshPglite();
    tmp = mkdtempSync(path.join(tmpdir(), 'weft-analytics-'));
    dir = path.join(tmp, 'a');
    seeded = await seedSmall(t.db);
    first = await exportAnalytics(t.db, { out: dir });
    firstHashes = hashTree(dir);
  });
  afterAll(async () => {
    await t?.cleanup();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('exports every projection table of the database', async () => {
    const { rows } = await t.db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name LIKE 'proj\\_%'`,
    );
    const sources = new Set(TABLES.map((s) => s.source));
    for (const r of rows) expect(sources.has(r.table_name), `${r.table_name} is exported`).toBe(true);
    expect(rows.length).toBeGreaterThanOrEqual(7);
  });

  it('has the row counts and column sums of the database, read by plain DuckDB', async () => {
    expect(first.mode).toBe('full');
    const counts = await compareWithDatabase(t.db, dir);
    expect(counts.events).toBe(seeded.events);
    expect(counts.proj_threads).toBe(seeded.threads);
    expect(counts.proj_roles).toBe(seeded.roles);
    expect(first.tables.find((x) => x.name === 'events')!.rows).toBe(seeded.events);
  });

  it('keeps every event exactly: ids, streams, actor, times and payload, in position order per day', async () => {
    const { rows: pg } = await t.db.query<Record<string, unknown>>(
      `SELECT position, event_id::text AS event_id, stream_id, type, metadata->>'actor' AS actor,
              occurred_at, recorded_at, payload FROM events ORDER BY position`,
    );
    const duck = await plainDuck();
    try {
      const files = path.join(dir, 'events/day=*/events.parquet');
      const got = await duck.rows(
        `SELECT position, event_id, stream_id, type, actor, epoch_ms(occurred_at) AS o, epoch_ms(recorded_at) AS r,
                payload::VARCHAR AS payload, filename
         FROM read_parquet('${files}', filename = true) ORDER BY position`,
      );
      expect(got.length).toBe(pg.length);
      for (let i = 0; i < pg.length; i++) {
        const a = pg[i]!;
        const b = got[i]!;
        expect(Number(b.position)).toBe(a.position);
        expect([b.event_id, b.stream_id, b.type, b.actor]).toEqual([
          a.event_id,
          a.stream_id,
          a.type,
          a.actor,
        ]);
        expect(Number(b.o)).toBe((a.occurred_at as Date).getTime());
        expect(Number(b.r)).toBe((a.recorded_at as Date).getTime());
        expect(canonicalJson(JSON.parse(b.payload as string))).toBe(canonicalJson(a.payload));
        // the file is the one of the event's UTC day
        const day = (a.occurred_at as Date).toISOString().slice(0, 10);
        expect(b.filename as string).toContain(`/day=${day}/`);
      }
      // within each file, rows are in position order (the file's own order, no ORDER BY)
      const order = await duck.rows(
        `SELECT count(*) AS bad FROM (
           SELECT position < lag(position) OVER (PARTITION BY filename ORDER BY file_row_number) AS back
           FROM read_parquet('${files}', filename = true, file_row_number = true)) WHERE back`,
      );
      expect(Number(order[0]!.bad)).toBe(0);
    } finally {
      duck.close();
    }
  });

  it('writes geometry as WKB with GeoParquet metadata that plain DuckDB reads, plus lon/lat and a bbox for lines', async () => {
    const duck = await plainDuck();
    try {
      const file = (f: string) => `'${path.join(dir, f)}'`;
      // GeoParquet 1.1 metadata, with the file's bbox and the covering column for lines
      const [kv] = await duck.rows(
        `SELECT decode(value) AS geo FROM parquet_kv_metadata(${file('threads.parquet')}) WHERE decode(key) = 'geo'`,
      );
      const geo = JSON.parse(kv!.geo as string);
      expect(geo).toMatchObject({
        version: '1.1.0',
        primary_column: 'geometry',
        columns: { geometry: { encoding: 'WKB', geometry_types: ['LineString'] } },
      });
      expect(geo.columns.geometry.covering.bbox.xmin).toEqual(['bbox', 'xmin']);
      // DuckDB recognises the column as geometry and decodes the WKB to the same points as the lon/lat columns
      const types = await duck.rows(`DESCRIBE SELECT geometry FROM ${file('nodes.parquet')}`);
      expect(types[0]!.column_type).toMatch(/^GEOMETRY/);
      const nodes = await duck.rows(
        `SELECT count(*) FILTER (WHERE ST_AsText(geometry) <> 'POINT (' || lon || ' ' || lat || ')') AS bad,
                count(*) AS n FROM ${file('nodes.parquet')}`,
      );
      expect(Number(nodes[0]!.n)).toBeGreaterThan(0);
      expect(Number(nodes[0]!.bad)).toBe(0);
      const lines = await duck.rows(
        `SELECT count(*) FILTER (WHERE ST_AsText(geometry) <>
                  'LINESTRING (' || from_lon || ' ' || from_lat || ', ' || to_lon || ' ' || to_lat || ')'
                  OR bbox.xmin <> least(from_lon, to_lon) OR bbox.ymax <> greatest(from_lat, to_lat)) AS bad
         FROM ${file('threads.parquet')}`,
      );
      expect(Number(lines[0]!.bad)).toBe(0);
      // the file bbox covers every row
      const [ext] = await duck.rows(
        `SELECT min(bbox.xmin) AS x0, min(bbox.ymin) AS y0, max(bbox.xmax) AS x1, max(bbox.ymax) AS y1
         FROM ${file('threads.parquet')}`,
      );
      expect(geo.columns.geometry.bbox).toEqual([ext!.x0, ext!.y0, ext!.x1, ext!.y1]);
      // and the same WKB bytes as PostGIS's own, as a plain BLOB when geometry conversion is off
      await duck.rows('SET enable_geoparquet_conversion = false');
      const wkb = await duck.rows(
        `SELECT node_id, hex(geometry) AS h FROM ${file('nodes.parquet')} ORDER BY node_id`,
      );
      const { rows: pg } = await t.db.query<{ node_id: string; h: string }>(
        `SELECT node_id, upper(encode(ST_AsBinary(geom, 'NDR'), 'hex')) AS h FROM proj_nodes ORDER BY node_id`,
      );
      expect(wkb.map((r) => [r.node_id, r.h])).toEqual(pg.map((r) => [r.node_id, r.h]));
    } finally {
      duck.close();
    }
  });

  it('opens weft.duckdb in a fresh DuckDB with views over the files', async () => {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(path.join(dir, 'weft.duckdb'), { access_mode: 'READ_ONLY' });
    const conn = await instance.connect();
    try {
      const views = (await conn.runAndReadAll(`SELECT view_name FROM duckdb_views() WHERE NOT internal`))
        .getRows()
        .flat();
      expect([...views].sort()).toEqual(TABLES.map((s) => s.name).sort());
      const r = (
        await conn.runAndReadAll(`SELECT count(*) AS n, count(DISTINCT day) AS d FROM events`)
      ).getRowObjectsJS();
      expect(Number(r[0]!.n)).toBe(seeded.events);
      expect(Number(r[0]!.d)).toBe(first.tables.find((x) => x.name === 'events')!.files);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });

  it('answers every ready-made query plausibly', async () => {
    const queries = listQueries();
    expect(queries.map((q) => q.name).sort()).toEqual([
      'activity-per-day-region',
      'automation-history',
      'most-engaged-nodes',
      'proposal-participation',
      'threads-alive-vs-faded',
    ]);
    const run = async (name: string) => {
      const q = queries.find((x) => x.name === name)!;
      expect(q.question.length).toBeGreaterThan(20);
      const out = await runQuery(dir, q.sql, q.file);
      expect(out.rows.length, `${name} returns rows`).toBeGreaterThan(0);
      return out.rows.map((r) => Object.fromEntries(out.columns.map((c, i) => [c, r[i]]))) as Record<
        string,
        any
      >[];
    };
    const one = async <T>(sql: string) => (await t.db.query<{ v: T }>(sql)).rows[0]!.v;

    const activity = await run('activity-per-day-region');
    expect(activity.reduce((s, r) => s + r.events, 0)).toBe(
      await one<number>('SELECT count(*)::int AS v FROM proj_timeline'),
    );
    expect(activity.reduce((s, r) => s + r.engagements, 0)).toBe(
      await one<number>('SELECT sum(engagements)::int AS v FROM proj_threads'),
    );
    expect(activity.every((r) => r.region_id === 'monaco' && r.active_roles <= 50)).toBe(true);
    expect(activity.length).toBeGreaterThanOrEqual(10); // the seed spreads 14 days

    // the fade rule replayed from the engagements agrees with the fade job at the seed's time
    const alive = await run('threads-alive-vs-faded');
    const last = alive.at(-1)!;
    expect(last.alive).toBe(await one<number>('SELECT count(*)::int AS v FROM proj_threads WHERE NOT faded'));
    expect(last.faded).toBe(seeded.fadedThreads);
    expect(last.alive + last.faded).toBe(seeded.threads);
    expect(alive.reduce((s, r) => s + r.fade_events_recorded, 0)).toBe(seeded.fadedThreads);
    expect(alive.every((r) => r.alive + r.faded === r.threads)).toBe(true);
    for (let i = 1; i < alive.length; i++)
      expect(alive[i]!.threads).toBeGreaterThanOrEqual(alive[i - 1]!.threads);
    // every day against the fade rule applied by brute force to the database's engagements (times in ms here)
    const { rows: engaged } = await t.db.query<{ thread: string; at: Date }>(
      `SELECT stream_id AS thread, occurred_at AS at FROM events WHERE type IN ('ThreadSpun', 'ThreadRenewed')`,
    );
    const lastAt = (await one<Date>('SELECT max(occurred_at) AS v FROM events')).getTime();
    const WEEK = 7 * 24 * HOUR;
    for (const row of alive) {
      const end = Date.parse(`${row.day}T00:00:00Z`) + 24 * HOUR;
      const judged = (ms: number) => (end <= lastAt ? ms < end : ms <= lastAt); // up to the day's last µs
      const latest = new Map<string, number>();
      for (const e of engaged) {
        const ms = e.at.getTime();
        if (judged(ms) && ms > (latest.get(e.thread) ?? -Infinity)) latest.set(e.thread, ms);
      }
      const at = Math.min(end, lastAt);
      const live = [...latest.values()].filter((l) =>
        end <= lastAt ? at - l <= WEEK : at - l < WEEK,
      ).length;
      expect([row.day, row.threads, row.alive], row.day).toEqual([row.day, latest.size, live]);
    }

    const top = await run('most-engaged-nodes');
    expect(top[0]!.engagements).toBe(
      await one<number>(
        'SELECT max(s)::int AS v FROM (SELECT sum(engagements) AS s FROM proj_threads GROUP BY node_id) x',
      ),
    );
    for (let i = 1; i < top.length; i++)
      expect(top[i]!.engagements).toBeLessThanOrEqual(top[i - 1]!.engagements);

    const proposals = await run('proposal-participation');
    expect(proposals.length).toBe(await one<number>('SELECT count(*)::int AS v FROM proj_proposals'));
    for (const p of proposals) {
      expect(p.voters).toBe(p.yes + p.no + p.abstain);
      expect(p.turnout).toBeGreaterThan(0);
      expect(p.turnout).toBeLessThanOrEqual(1);
      expect(['open', 'accepted', 'rejected', 'tied']).toContain(p.outcome);
    }
    expect(proposals.filter((p) => p.outcome !== 'open').length).toBe(
      await one<number>('SELECT count(*)::int AS v FROM proj_proposals WHERE closed'),
    );

    const history = await run('automation-history');
    const fades = history.filter((h) => h.action === 'fade.sweep');
    expect(fades.length).toBe(1);
    expect(fades[0]).toMatchObject({
      faded_threads: seeded.fadedThreads,
      hidden_nodes: seeded.hiddenNodes,
      outcome: 'done',
    });
  });

  it('re-exports unchanged data without touching a file', async () => {
    const before = mtimes(dir);
    const again = await exportAnalytics(t.db, { out: dir });
    expect(again.mode).toBe('incremental');
    expect(again.tables.find((x) => x.name === 'events')!.read).toBe(0);
    expect(again.files.every((f) => !f.changed)).toBe(true);
    expect(hashTree(dir)).toEqual(firstHashes);
    expect(mtimes(dir)).toEqual(before);
  });

  it('appends only new events incrementally, and gives the same files as a full export', async () => {
    const before = hashTree(dir);
    const headBefore = (await t.db.query<{ v: number }>('SELECT max(position)::int AS v FROM events'))
      .rows[0]!.v;
    // new engagements two hours after the seed's end (a day that has a file) and the next day (a new one)
    const at1 = new Date(SEED_NOW.getTime() + 2 * HOUR);
    const at2 = new Date(SEED_NOW.getTime() + 30 * HOUR);
    const roles = ['monaco-r0001', 'monaco-r0002', 'monaco-r0003'];
    await executeCommands(
      t.db,
      roles.map((roleId) => ({
        actor: roleId,
        at: at1,
        command: { type: 'EngageThread', roleId, nodeId: 'monaco-n0001' },
      })),
      { recordedAt: 'occurred' },
    );
    await executeCommands(
      t.db,
      [
        {
          actor: 'monaco-r0004',
          at: at2,
          command: { type: 'EngageThread', roleId: 'monaco-r0004', nodeId: 'monaco-n0002' },
        },
      ],
      { recordedAt: 'occurred' },
    );
    const head = (await t.db.query<{ v: number }>('SELECT max(position)::int AS v FROM events')).rows[0]!.v;
    expect(head).toBeGreaterThan(headBefore);

    const inc = await exportAnalytics(t.db, { out: dir });
    expect(inc.mode).toBe('incremental');
    expect(inc.from).toBe(headBefore);
    expect(inc.to).toBe(head);
    expect(inc.tables.find((x) => x.name === 'events')!.read).toBe(head - headBefore);
    const after = hashTree(dir);
    const day1 = 'events/day=2025-06-01/events.parquet';
    const day2 = 'events/day=2025-06-02/events.parquet';
    expect(after[day1]).not.toBe(before[day1]);
    expect(before[day2]).toBeUndefined();
    expect(after[day2]).toBeDefined();
    // the days without new events keep their bytes
    for (const [rel, hash] of Object.entries(before)) {
      if (/^(events|timeline)\/day=2025-05/.test(rel)) expect(after[rel], rel).toBe(hash);
    }
    // each event exactly once, and everything still equal to the database
    const duck = await plainDuck();
    try {
      const [r] = await duck.rows(
        `SELECT count(*) AS n, count(DISTINCT position) AS d, max(position) AS m
         FROM read_parquet('${path.join(dir, 'events/day=*/events.parquet')}')`,
      );
      expect([Number(r!.n), Number(r!.d), Number(r!.m)]).toEqual([head, head, head]);
    } finally {
      duck.close();
    }
    await compareWithDatabase(t.db, dir);

    // a full export elsewhere writes byte-identical Parquet files and state
    const other = path.join(tmp, 'b');
    const full = await exportAnalytics(t.db, { out: other });
    expect(full.mode).toBe('full');
    const notCatalog = (rel: string) => rel === 'weft.duckdb'; // its views name the folder's absolute path
    expect(hashTree(other, notCatalog)).toEqual(hashTree(dir, notCatalog));
    // and --full in place changes nothing, the catalog included
    const forced = await exportAnalytics(t.db, { out: dir, full: true });
    expect(forced.mode).toBe('full');
    expect(forced.files.filter((f) => f.changed)).toEqual([]);
    expect(hashTree(dir)).toEqual(after);
  });

  it('starts over when --since changes, and exports only the days since then', async () => {
    const out = path.join(tmp, 'since');
    await exportAnalytics(t.db, { out });
    const r = await exportAnalytics(t.db, { out, since: '2025-05-30' });
    expect(r.mode).toBe('full');
    expect(r.reason).toMatch(/--since/);
    expect(r.removed.some((f) => f.startsWith('events/day=2025-05-2'))).toBe(true);
    expect(existsSync(path.join(out, 'events/day=2025-05-29'))).toBe(false);
    const n = (
      await t.db.query<{ v: number }>(
        `SELECT count(*)::int AS v FROM events WHERE occurred_at >= '2025-05-30T00:00:00Z'`,
      )
    ).rows[0]!.v;
    expect(r.tables.find((x) => x.name === 'events')!.rows).toBe(n);
    // projections are the current state, whole
    expect(r.tables.find((x) => x.name === 'threads')!.rows).toBe(
      (await t.db.query<{ v: number }>('SELECT count(*)::int AS v FROM proj_threads')).rows[0]!.v,
    );
    await expect(exportAnalytics(t.db, { out, since: '30.05.2025' })).rejects.toThrow(
      /--since: "30.05.2025" is not a day/,
    );
  });

  it('lets no exact home and no IP address out', async () => {
    await writeAudit(t.db, {
      actor: 'operator:203.0.113.9',
      action: 'release.publish',
      subject: 'monaco/r1 from 198.51.100.23:443',
      details: {
        ip: '203.0.113.7',
        clientIp: '2001:db8::7',
        note: 'request from 198.51.100.24, via [2001:db8::8]:443',
        nested: { remoteAddress: '192.0.2.1', version: 'v1.2.3.4.5', at: '2025-06-01T10:00:00Z' },
        release: 'r1',
      },
    });
    const out = path.join(tmp, 'private');
    await exportAnalytics(t.db, { out });
    const duck = await plainDuck();
    try {
      const [audit] = await duck.rows(
        `SELECT string_agg(actor || ' ' || subject || ' ' || details::VARCHAR, ' ') AS s
         FROM read_parquet('${path.join(out, 'audit_log.parquet')}') WHERE action = 'release.publish'`,
      );
      const s = audit!.s as string;
      for (const ip of [
        '203.0.113.9',
        '198.51.100.23',
        '203.0.113.7',
        '2001:db8::7',
        '198.51.100.24',
        '2001:db8::8',
        '192.0.2.1',
      ])
        expect(s).not.toContain(ip);
      expect(s).toContain('[ip]');
      expect(s).toContain('v1.2.3.4.5');
      expect(s).toContain('2025-06-01T10:00:00Z');
      expect(s).toContain('"release":"r1"');

      // exact homes of roles that chose an inaccuracy radius appear nowhere; their public points do
      const { rows: homes } = await t.db.query<{ lon: number; lat: number; plon: number; plat: number }>(
        `SELECT h.lon, h.lat, r.public_lon AS plon, r.public_lat AS plat
         FROM role_homes_private h JOIN proj_roles r USING (role_id) WHERE r.inaccuracy_m > 0`,
      );
      expect(homes.length).toBeGreaterThan(3);
      const f = (p: string) => `'${path.join(out, p)}'`;
      const pairs = (col: 'lon' | 'plon', lat: 'lat' | 'plat') =>
        `(VALUES ${homes.map((h) => `(${h[col]}::DOUBLE, ${h[lat]}::DOUBLE)`).join(', ')}) AS h(x, y)`;
      const leaks = async (x: 'lon' | 'plon', y: 'lat' | 'plat') =>
        (
          await duck.rows(
            `SELECT
               (SELECT count(*) FROM ${f('roles.parquet')} r, ${pairs(x, y)}
                 WHERE (r.public_lon = h.x AND r.public_lat = h.y) OR (r.lon = h.x AND r.lat = h.y)) AS roles,
               (SELECT count(*) FROM ${f('threads.parquet')} t, ${pairs(x, y)} WHERE t.from_lon = h.x AND t.from_lat = h.y) AS threads,
               (SELECT count(*) FROM read_parquet(${f('timeline/*/*.parquet')}) t, ${pairs(x, y)} WHERE t.lon = h.x AND t.lat = h.y) AS timeline,
               (SELECT count(*) FROM read_parquet(${f('events/*/*.parquet')}) e, ${pairs(x, y)}
                 WHERE contains(e.payload::VARCHAR, '[' || h.x || ',' || h.y || ']')) AS events`,
          )
        )[0]!;
      const exact = await leaks('lon', 'lat');
      expect(Object.values(exact).map(Number)).toEqual([0, 0, 0, 0]);
      // the same check finds the public points (so it would find the exact ones if they were there)
      const pub = await leaks('plon', 'plat');
      for (const v of Object.values(pub)) expect(Number(v)).toBeGreaterThan(0);
      // and no column of any file is an address or a private value
      for (const spec of TABLES) {
        const glob = spec.positioned ? `${spec.name}/*/*.parquet` : `${spec.name}.parquet`;
        const cols = (await duck.rows(`DESCRIBE SELECT * FROM read_parquet(${f(glob)})`)).map(
          (r) => r.column_name as string,
        );
        for (const c of cols) expect(c).not.toMatch(/(^|_)(ip|home_hash|metadata|idempotency|request)/);
      }
    } finally {
      duck.close();
    }
  });
});
