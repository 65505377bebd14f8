// The fade job on a real PostgreSQL: the fade story with a controllable clock, and runs racing each other on
// separate connections never emit a second ThreadFaded or NodeHidden.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../core/audit.js';
import type { Db } from '../../core/db/adapter.js';
import { runFadeJob } from '../../jobs/fade.js';
import { freshPostgres, postgresUnavailable, resetDb, type TestDb } from '../db/helpers.js';
import { fadeScenario } from './fade-scenario.js';
import { at, countEvents, createNodes, duplicated, engage, registerRoles } from './support.js';

const why = await postgresUnavailable();
if (why) console.warn(`skipped: the fade job on PostgreSQL (${why})`);

describe.skipIf(Boolean(why))('the fade job on PostgreSQL', () => {
  let tdb: TestDb;
  let db: Db;
  beforeAll(async () => {
    tdb = await freshPostgres();
    db = tdb.db;
  });
  afterAll(async () => {
    await tdb?.cleanup();
  });

  it('fades a thread once after seven days, however often it runs, and spares a renewed one', async () => {
    await fadeScenario(db);
  });

  it('concurrent runs on separate connections fade each thread and hide each node exactly once', async () => {
    await resetDb(db);
    const t0 = new Date('2025-04-01T08:00:00.000Z');
    const roles = Array.from({ length: 120 }, (_, i) => `r${i}`);
    const nodes = Array.from({ length: 12 }, (_, i) => `n${i}`);
    await registerRoles(db, roles, t0);
    await createNodes(db, nodes, 'r0', t0);
    const threads = await engage(
      db,
      roles.map((r, i) => [r, nodes[i % nodes.length]!]),
      at(t0, 1),
    );
    // one node stays live: its threads are renewed later
    const renewed = roles.filter((_, i) => i % nodes.length === 0);
    await engage(
      db,
      renewed.map((r) => [r, 'n0']),
      at(t0, 4),
    );

    const others = await Promise.all([tdb.reopen(), tdb.reopen()]);
    const T = at(t0, 9);
    const results = await Promise.all([
      runFadeJob({ db, now: T, batchSize: 7 }),
      runFadeJob({ db: others[0]!, now: T, batchSize: 5 }),
      runFadeJob({ db: others[1]!, now: at(t0, 9.5), batchSize: 11 }),
    ]);
    const fadedNow = threads.length - renewed.length;
    expect(await countEvents(db, 'ThreadFaded')).toBe(fadedNow);
    expect(await duplicated(db, 'ThreadFaded')).toEqual([]);
    expect(await countEvents(db, 'NodeHidden')).toBe(nodes.length - 1);
    expect(await duplicated(db, 'NodeHidden')).toEqual([]);
    // what the runs report adds up to what the store holds: no run counted an event another run appended
    expect(results.reduce((n, r) => n + r.fadedThreads, 0)).toBe(fadedNow);
    expect(results.reduce((n, r) => n + r.hiddenNodes, 0)).toBe(nodes.length - 1);
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM proj_threads WHERE faded');
    expect(rows[0]!.n).toBe(fadedNow);

    // a later run at the same or a later T finds nothing left to do
    expect(await runFadeJob({ db, now: at(t0, 10) })).toMatchObject({ fadedThreads: 0, hiddenNodes: 0 });
    expect(await countEvents(db, 'ThreadFaded')).toBe(fadedNow);
    expect((await listAudit(db, { action: 'job.fade' })).length).toBe(4);
  });
});
