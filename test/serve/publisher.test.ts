// The outbox publisher's database side on real PostgreSQL: one claim statement takes the advisory lock, the
// oldest unpublished entries (marked published, uncommitted, committed without waiting for the disk) and their
// events; a rolled-back claim leaves its
// entries unpublished; a second publisher waits while the first holds the lock; and a batch of new nodes is
// translated without reading the projections, to the same deltas as one event at a time.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db, Queryable } from '../../core/db/adapter.js';
import { executeCommand, executeCommands } from '../../core/domain/execute.js';
import { readEvents } from '../../core/eventstore.js';
import { claimOutbox, pendingOutbox } from '../../core/outbox.js';
import { TABLES, fromDbRow, selectList } from '../../core/projections/tables.js';
import { stateAtFirst } from '../../serve/live/asof.js';
import { OUTBOX_LOCK_KEY } from '../../serve/live/publisher.js';
import { translateEvents } from '../../serve/live/translate.js';
import { freshPostgres, postgresUnavailable, resetDb, type TestDb } from '../db/helpers.js';

const REGION = 'monaco';
const AREA: [number, number] = [7.42, 43.735];
const unavailable = await postgresUnavailable();

/** A Queryable that counts the statements sent through it. */
function counting(q: Queryable): Queryable & { count: number } {
  const c = {
    count: 0,
    query: ((sql: string, params?: unknown[]) => {
      c.count += 1;
      return q.query(sql, params);
    }) as Queryable['query'],
    exec: (sql: string) => q.exec(sql),
  };
  return c;
}

describe.skipIf(unavailable)('outbox claim and translation (PostgreSQL)', () => {
  let t: TestDb;
  let db: Db;
  let roleId: string;

  const node = async (title: string) =>
    (
      await executeCommand(db, {
        command: {
          type: 'CreateNode',
          regionId: REGION,
          title,
          point: [7.421, 43.736],
          authorRoleId: roleId,
        },
        actor: 'operator:test',
      })
    ).events[0]!.position;

  beforeAll(async () => {
    t = await freshPostgres({ migrate: true });
    db = t.db;
  });
  afterAll(async () => {
    await t?.cleanup();
  });
  beforeEach(async () => {
    await resetDb(db);
    const r = await executeCommand(db, {
      command: { type: 'RegisterRole', regionId: REGION, name: 'Admin', area: AREA },
      actor: 'operator:test',
    });
    roleId = r.ids.roleId!;
    // the role's entry is not what these tests look at
    await db.query('UPDATE outbox SET published_at = now()');
  });

  it('takes the lock, the oldest entries (marked published) and their events in one statement', async () => {
    const positions = [await node('a'), await node('b'), await node('c')];
    const pending = await pendingOutbox(db);
    expect(pending.map((e) => e.firstPosition)).toEqual(positions);
    const claim = await db.transaction(async (tx) => {
      const q = counting(tx);
      const c = await claimOutbox(q, { lockKey: OUTBOX_LOCK_KEY, limit: 2, maxEvents: 100 });
      expect(q.count).toBe(1);
      // its commit does not wait for the disk (a lost mark only publishes again)
      const sc = await tx.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
      expect(sc.rows[0]!.synchronous_commit).toBe('off');
      return c;
    });
    // for that transaction alone
    await db.transaction(async (tx) => {
      const sc = await tx.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
      expect(sc.rows[0]!.synchronous_commit).toBe('on');
    });
    expect(claim.entries).toEqual(pending.slice(0, 2));
    expect(claim.events).toEqual(await readEvents(db, { after: positions[0]! - 1, limit: 2 }));
    // committed: only the third is still pending, the claimed ones count one attempt
    expect((await pendingOutbox(db)).map((e) => e.id)).toEqual([pending[2]!.id]);
    const { rows } = await db.query<{ attempts: number }>(
      'SELECT attempts FROM outbox WHERE id = ANY($1::bigint[]) ORDER BY id',
      [pending.map((e) => e.id)],
    );
    expect(rows.map((r) => r.attempts)).toEqual([1, 1, 0]);
  });

  it('leaves the entries unpublished when the transaction rolls back (a failed publish)', async () => {
    await node('a');
    await node('b');
    const before = await pendingOutbox(db);
    await expect(
      db.transaction(async (tx) => {
        const c = await claimOutbox(tx, { lockKey: OUTBOX_LOCK_KEY, limit: 10, maxEvents: 100 });
        expect(c.entries).toHaveLength(2);
        throw new Error('the bus is down');
      }),
    ).rejects.toThrow('the bus is down');
    expect(await pendingOutbox(db)).toEqual(before);
  });

  it('makes a second publisher wait while the first holds the lock, then gives it what the first left', async () => {
    await node('a');
    const pending = await pendingOutbox(db);
    let release!: () => void;
    let claimed!: () => void;
    const isClaimed = new Promise<void>((r) => (claimed = r));
    const first = db.transaction(async (tx) => {
      const c = await claimOutbox(tx, { lockKey: OUTBOX_LOCK_KEY, limit: 10, maxEvents: 100 });
      claimed();
      await new Promise<void>((r) => (release = r));
      return c;
    });
    await isClaimed;
    await node('b'); // committed while the first publisher holds the lock
    let secondDone = false;
    const second = db
      .transaction((tx) => claimOutbox(tx, { lockKey: OUTBOX_LOCK_KEY, limit: 10, maxEvents: 100 }))
      .finally(() => (secondDone = true));
    // it waits on the lock (seen from the server), not finishing while the first holds it
    const waiting = async () =>
      (
        await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`,
        )
      ).rows[0]!.n;
    for (let i = 0; i < 100 && (await waiting()) === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await waiting()).toBe(1);
    expect(secondDone).toBe(false);
    release();
    expect((await first).entries.map((e) => e.id)).toEqual(pending.map((e) => e.id));
    // then it claims the entry committed meanwhile, and nothing the first took
    const got = await second;
    expect(got.entries).toHaveLength(1);
    expect(got.entries[0]!.id).toBeGreaterThan(pending[0]!.id);
    expect(got.events?.map((e) => e.position)).toEqual([got.entries[0]!.firstPosition]);
    expect(await pendingOutbox(db)).toEqual([]);
  });

  it('brings no events when there are more than maxEvents (the publisher reads them in chunks)', async () => {
    await executeCommands(db, [
      {
        command: {
          type: 'CreateNode',
          regionId: REGION,
          title: 'x',
          point: [7.421, 43.736],
          authorRoleId: roleId,
        },
        actor: 'operator:test',
      },
      {
        command: {
          type: 'CreateNode',
          regionId: REGION,
          title: 'y',
          point: [7.422, 43.736],
          authorRoleId: roleId,
        },
        actor: 'operator:test',
      },
    ]);
    const claim = await db.transaction((tx) =>
      claimOutbox(tx, { lockKey: OUTBOX_LOCK_KEY, limit: 10, maxEvents: 1 }),
    );
    expect(claim.entries).toHaveLength(1);
    expect(claim.entries[0]!.lastPosition - claim.entries[0]!.firstPosition).toBe(1);
    expect(claim.events).toBeUndefined();
  });

  it('translates new nodes without reading the projections, exactly as the stored rows say', async () => {
    const p1 = await node('first');
    const p2 = await node('second');
    const events = await readEvents(db, { after: p1 - 1, limit: 2 });
    const q = counting(db);
    const state = await stateAtFirst(q, events);
    expect(q.count).toBe(0);
    const nodeId = (events[0]!.payload as { nodeId: string }).nodeId;
    const { rows } = await db.query(
      `SELECT ${selectList(TABLES.nodes)} FROM ${TABLES.nodes.table} WHERE node_id = $1`,
      [nodeId],
    );
    expect(state.node(nodeId)).toEqual(fromDbRow(rows[0]!));
    // the second does not exist yet at the first's position
    expect(state.node((events[1]!.payload as { nodeId: string }).nodeId)).toBeUndefined();
    // a batch gives the same deltas as its events one at a time (with a thread spun since, the stored row of the
    // first node is newer than both positions)
    await executeCommand(db, {
      command: { type: 'EngageThread', roleId, nodeId },
      actor: 'operator:test',
    });
    const together = await translateEvents(db, events);
    const apart = [
      ...(await translateEvents(db, events.slice(0, 1))),
      ...(await translateEvents(db, events.slice(1))),
    ];
    expect(together.map((d) => d.text)).toEqual(apart.map((d) => d.text));
    expect(together.map((d) => d.position)).toEqual([p1, p2]);
  });
});
