// PostgreSQL-only behaviours: a connection killed mid-transaction, concurrent migrations from several processes,
// BEGIN sent with a transaction's first statement.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../core/db/adapter.js';
import { migrate } from '../../core/db/migrate.js';
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
