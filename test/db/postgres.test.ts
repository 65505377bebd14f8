// PostgreSQL-only behaviours: a connection killed mid-transaction, concurrent migrations from several processes,
// BEGIN sent with a transaction's first statement, several statements (and COMMIT) in one message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../core/db/adapter.js';
import { migrate } from '../../core/db/migrate.js';
import { inlineParams } from '../../core/db/postgres.js';
import { WriteSession, appendToStream, headPosition } from '../../core/eventstore.js';
import { seedCommunity } from '../../core/seed/seed.js';
import { builtinPlaces } from '../../core/seed/places.js';
import { loadSeedRegion } from '../../core/seed/region.js';
import { exportEvents, importEvents } from '../../core/transfer.js';
import { freshPostgres, postgresUnavailable, resetDb, type TestDb } from './helpers.js';

const unavailable = await postgresUnavailable();
if (unavailable) console.warn(`skipping the PostgreSQL tests: ${unavailable}`);

async function counts(db: Db): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of [
    'events',
    'outbox',
    'idempotency_keys',
    'proj_roles',
    'proj_nodes',
    'proj_threads',
    'proj_timeline',
    'proj_region_stats',
  ]) {
    out[t] = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`)).rows[0]!.n;
  }
  return out;
}

const ZERO = {
  events: 0,
  outbox: 0,
  idempotency_keys: 0,
  proj_roles: 0,
  proj_nodes: 0,
  proj_threads: 0,
  proj_timeline: 0,
  proj_region_stats: 0,
};

describe.skipIf(Boolean(unavailable))('postgres: crash safety and concurrent start-up', () => {
  let t: TestDb;
  let killer: Db;
  beforeAll(async () => {
    t = await freshPostgres();
    killer = await t.reopen();
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('a connection killed after the writes but before COMMIT leaves nothing behind', async () => {
    await resetDb(t.db);
    let pid = 0;
    let written!: () => void;
    const ready = new Promise<void>((resolve) => (written = resolve));
    let inside: Record<string, number> = {};
    const run = t.db.transaction(async (tx) => {
      pid = (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const session = await WriteSession.open(tx);
      await session.stage({
        event: {
          type: 'RoleRegistered',
          payload: { roleId: 'a', regionId: 'x', name: 'A', areaPoint: [1, 2] },
        },
        metadata: { actor: 't' },
        occurredAt: new Date().toISOString(),
      });
      await session.commit();
      inside = (
        await tx.query<{ e: number; p: number; o: number }>(
          'SELECT (SELECT count(*)::int FROM events) e, (SELECT count(*)::int FROM proj_roles) p, (SELECT count(*)::int FROM outbox) o',
        )
      ).rows[0]!;
      written();
      await tx.query('SELECT pg_sleep(60)');
    });
    run.catch(() => {}); // awaited below; the kill may fail it before the test gets there
    await ready;
    expect(inside).toEqual({ e: 1, p: 1, o: 1 }); // really written inside the transaction
    const killed = await killer.query<{ ok: boolean }>('SELECT pg_terminate_backend($1) AS ok', [pid]);
    expect(killed.rows[0]!.ok).toBe(true);
    await expect(run).rejects.toThrow(/terminat|Connection/i);
    expect(await counts(t.db)).toEqual(ZERO);
    expect(await headPosition(t.db)).toBe(0);
    // the pool recovers and positions stay gap-free
    const r = await appendToStream(t.db, {
      events: [
        { type: 'RoleRegistered', payload: { roleId: 'b', regionId: 'x', name: 'B', areaPoint: [1, 2] } },
      ],
      actor: 't',
    });
    expect(r.positions).toEqual([1]);
  });

  it('a connection killed in the middle of writing projections leaves nothing half-applied', async () => {
    await resetDb(t.db);
    const region = loadSeedRegion('monaco');
    await seedCommunity(t.db, {
      region,
      places: await builtinPlaces(region),
      seed: 11,
      now: new Date('2025-05-01T00:00:00Z'),
      salt: 's',
    });
    const lines: string[] = [];
    await exportEvents(t.db, (l) => void lines.push(l.trimEnd()));
    await resetDb(t.db);
    const dbName = new URL(t.url!).pathname.slice(1);
    const importer = await t.reopen();
    const run = importEvents(importer, lines, { name: 'big' });
    run.catch(() => {}); // awaited below; the kill may fail it before the test gets there
    // watch the importing backend and kill it while it writes projection rows
    let killedDuring = '';
    for (let i = 0; i < 4000 && !killedDuring; i++) {
      const { rows } = await killer.query<{ pid: number; query: string }>(
        `SELECT pid, query FROM pg_stat_activity
         WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid() AND query LIKE 'INSERT INTO proj_%'`,
        [dbName],
      );
      if (rows[0]) {
        await killer.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
        killedDuring = rows[0].query.slice(0, 40);
      } else {
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    expect(killedDuring).toMatch(/^INSERT INTO proj_/);
    await expect(run).rejects.toThrow();
    expect(await counts(t.db)).toEqual(ZERO);
    expect(await headPosition(t.db)).toBe(0);
    // the same import then succeeds in full
    const again = await importEvents(t.db, lines, { name: 'big' });
    expect(again.imported).toBe(lines.length);
  });

  it('sends BEGIN with the first statement: in one round trip without parameters, still all or nothing', async () => {
    await resetDb(t.db);
    const outboxRows = async () =>
      (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox')).rows[0]!.n;
    const insert = `INSERT INTO outbox (first_position, last_position, topics) VALUES (1, 1, '{}')`;
    // a first statement without parameters (BEGIN in the same message) and one with: both inside the transaction
    for (const first of [() => insert, () => insert.replace('(1, 1,', '($1, 1,')]) {
      const sql = first();
      await expect(
        t.db.transaction(async (tx) => {
          const r = await tx.query(sql, sql.includes('$1') ? [1] : undefined);
          expect(r.rowCount).toBe(1); // the statement's own result, not BEGIN's
          expect((await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox')).rows[0]!.n).toBe(1);
          throw new Error('undo');
        }),
      ).rejects.toThrow('undo');
      expect(await outboxRows()).toBe(0);
    }
    const r = await t.db.transaction((tx) => tx.query<{ n: number }>('SELECT 41 + 1 AS n'));
    expect(r).toEqual({ rows: [{ n: 42 }], rowCount: 1 });
    // a failing first statement leaves the connection usable (rolled back)
    await expect(t.db.transaction((tx) => tx.query('SELECT 1 / 0'))).rejects.toThrow(/division by zero/);
    await t.db.transaction(async (tx) => {
      await tx.query(insert);
    });
    expect(await outboxRows()).toBe(1);
    // a transaction that sends nothing
    expect(await t.db.transaction(async () => 'nothing')).toBe('nothing');
  });

  it('batch: parameters written as literals read back exactly as sent as parameters', async () => {
    const values: unknown[] = [
      null,
      42,
      -1.5e-7,
      "it's a \\ back'slash\n'); DROP TABLE events; --",
      'ünïcødé ✓ $2 $1',
      new Date('2026-05-04T03:02:01.234Z'),
      ['a,b', 'c"d', "e'f", '{g}', 'h\\i', null, ''],
      [1, 2, 9007199254740991],
      JSON.stringify({ q: "o'k", n: [1, null], s: '\\' }),
      true,
      Buffer.from([0, 1, 254, 255]),
    ];
    const sql = `SELECT $1::text AS n, $2::int AS i, $3::float8 AS f, $4::text AS q, $5::text AS u,
      $6::timestamptz AS d, $7::text[] AS a, $8::bigint[] AS b, $9::jsonb AS j, $10::boolean AS t, $11::bytea AS y`;
    const sent = await t.db.query(sql, values);
    const [inlined] = await t.db.batch!([{ sql, params: values }]);
    expect(inlined!.rows).toEqual(sent.rows);
    expect(sent.rows[0]).toMatchObject({ n: null, i: 42, u: 'ünïcødé ✓ $2 $1', t: true });
    expect(sent.rows[0]!.a).toEqual(values[6]);
    // an untyped literal takes its type from its place, as a parameter does
    const [typed] = await t.db.batch!([
      { sql: 'SELECT position + $1 AS p FROM event_log_head WHERE position < $2', params: [5, 1_000_000] },
    ]);
    expect(typed!.rows).toEqual((await t.db.query('SELECT position + 5 AS p FROM event_log_head')).rows);
    expect(() => inlineParams('SELECT $2', [1])).toThrow(/\$2 has no parameter/);
  });

  it('batch: statements in order in one message; with commit the transaction ends there, all or nothing', async () => {
    await resetDb(t.db);
    const outboxRows = async (db: Db = t.db) =>
      (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox')).rows[0]!.n;
    const insert = {
      sql: 'INSERT INTO outbox (first_position, last_position, topics) VALUES ($1, $1, $2::text[])',
      params: [1, ['region:x']],
    };
    const count = { sql: 'SELECT count(*)::int AS n FROM outbox' };
    // each statement sees what the ones before it wrote; COMMIT rides along: another connection sees the row
    // before the transaction's function has returned, and nothing more can be sent in it
    let seenOutside = -1;
    await t.db.transaction(async (tx) => {
      const r = await tx.batch!([insert, count, insert], { commit: true });
      expect(r.map((x) => x.rowCount)).toEqual([1, 1, 1]);
      expect(r[1]!.rows).toEqual([{ n: 1 }]);
      seenOutside = await outboxRows(killer);
      await expect(tx.query('SELECT 1')).rejects.toThrow(/has committed/);
    });
    expect(seenOutside).toBe(2);
    // a failing statement stops the message: nothing of it stays, COMMIT included, and the pool goes on
    await expect(
      t.db.transaction((tx) => tx.batch!([insert, { sql: 'SELECT 1 / 0' }, insert], { commit: true })),
    ).rejects.toThrow(/division by zero/);
    expect(await outboxRows()).toBe(2);
    // without commit the transaction goes on and rolls back as a whole when it throws
    await expect(
      t.db.transaction(async (tx) => {
        await tx.batch!([insert]);
        expect(await outboxRows(tx as Db)).toBe(3);
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(await outboxRows()).toBe(2);
    // outside a transaction: one implicit transaction, and commit is refused
    expect((await t.db.batch!([count, count])).map((x) => x.rows[0])).toEqual([{ n: 2 }, { n: 2 }]);
    await expect(t.db.batch!([count], { commit: true })).rejects.toThrow(/commit is for a transaction/);
  });

  it('several processes starting at once migrate a fresh database exactly once', async () => {
    const fresh = await freshPostgres({ migrate: false });
    try {
      const handles = [fresh.db, await fresh.reopen(), await fresh.reopen(), await fresh.reopen()];
      const results = await Promise.all(handles.map((h) => migrate(h)));
      expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, 0, 4]);
      const { rows } = await fresh.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM schema_migrations',
      );
      expect(rows[0]!.n).toBe(4);
    } finally {
      await fresh.cleanup();
    }
  });
});
