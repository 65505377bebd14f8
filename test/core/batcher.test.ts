// The CommandBatcher (group commit) on real PostgreSQL and on PGlite: concurrent commands share transactions yet
// end exactly as if run one by one (results, events, projections), a refusal fails only its own command,
// idempotency keys hold inside a batch, and a transaction that dies takes all of its commands with it.
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../core/db/adapter.js';
import { CommandBatcher } from '../../core/domain/batcher.js';
import {
  executeCommand,
  type CommandEnvelope,
  type CommandResult,
  type ExecContext,
} from '../../core/domain/execute.js';
import { UserError } from '../../core/errors.js';
import { headPosition, readEvents } from '../../core/eventstore.js';
import { dumpProjections } from '../../core/projections/projector.js';
import { describeError } from '../../serve/http.js';
import {
  ADMIN_URL,
  freshPglite,
  freshPostgres,
  postgresUnavailable,
  resetDb,
  type TestDb,
} from '../db/helpers.js';

const T0 = Date.parse('2025-03-01T10:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000);
const REGION = 'testland';

/** Ids and event ids from counters, so two runs of the same commands give the same ids. */
function deterministic(): ExecContext {
  const counters = new Map<string, number>();
  let events = 0;
  return {
    salt: 'batcher-test-salt',
    newId: (prefix) => {
      const n = (counters.get(prefix) ?? 0) + 1;
      counters.set(prefix, n);
      return `${prefix}x${n}`;
    },
    newEventId: () => `00000000-0000-4000-8000-${String(++events).padStart(12, '0')}`,
  };
}

const env = (command: Record<string, unknown>, s: number, extra: Partial<CommandEnvelope> = {}) => ({
  command,
  actor: 'tester',
  at: at(s),
  ...extra,
});
const role = (roleId: string, s: number) =>
  env({ type: 'RegisterRole', roleId, regionId: REGION, name: `Role ${roleId}`, area: [7.4261, 43.7372] }, s);
const node = (s: number, authorRoleId = 'r1', nodeId?: string, extra: Partial<CommandEnvelope> = {}) =>
  env(
    {
      type: 'CreateNode',
      ...(nodeId ? { nodeId } : {}),
      regionId: REGION,
      title: `Node ${s}`,
      point: [7.42 + s * 0.0001, 43.735],
      authorRoleId,
    },
    s,
    extra,
  );

type Outcome = { ok: true; result: CommandResult } | { ok: false; name: string; message: string };

async function settle(promises: Promise<CommandResult>[]): Promise<Outcome[]> {
  const settled = await Promise.allSettled(promises);
  return settled.map((s) =>
    s.status === 'fulfilled'
      ? { ok: true, result: s.value }
      : { ok: false, name: (s.reason as Error).name, message: (s.reason as Error).message },
  );
}

async function count(db: Db, table: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]!.n;
}

/** What the store holds: events without their recording time (the transaction's clock), and projections. */
async function snapshot(db: Db) {
  const events = (await readEvents(db, { limit: 10_000 })).map(({ recordedAt: _r, ...e }) => e);
  return { events, projections: await dumpProjections(db) };
}

/** Runs `envelopes` one by one with executeCommand (after `setup`), as the reference. */
async function oneByOne(db: Db, setup: CommandEnvelope[], envelopes: CommandEnvelope[]) {
  await resetDb(db);
  const ctx = deterministic();
  for (const e of setup) await executeCommand(db, e, ctx);
  const outcomes: Outcome[] = [];
  for (const e of envelopes) outcomes.push(...(await settle([executeCommand(db, e, ctx)])));
  return { outcomes, store: await snapshot(db) };
}

/** The same, all submitted to a batcher in one tick. */
async function batched(db: Db, setup: CommandEnvelope[], envelopes: CommandEnvelope[], maxBatch?: number) {
  await resetDb(db);
  const ctx = deterministic();
  for (const e of setup) await executeCommand(db, e, ctx);
  const outboxBefore = await count(db, 'outbox');
  const batcher = new CommandBatcher(db, { ...ctx, maxBatch });
  const outcomes = await settle(envelopes.map((e) => batcher.submit(e)));
  await batcher.close();
  return {
    outcomes,
    store: await snapshot(db),
    stats: batcher.stats,
    outboxRows: (await count(db, 'outbox')) - outboxBefore,
  };
}

function suite(kind: string, open: () => Promise<TestDb>, skip?: string) {
  describe.skipIf(skip)(`CommandBatcher on ${kind}${skip ? ` (${skip})` : ''}`, () => {
    let t: TestDb;
    beforeAll(async () => {
      t = await open();
    });
    afterAll(async () => {
      await t?.cleanup();
    });
    beforeEach(async () => {
      await resetDb(t.db);
    });

    it('commits concurrent commands in fewer transactions, with the results of one-by-one execution', async () => {
      const setup = [role('r1', 0)];
      // later commands read what earlier ones in the same batch staged (r2, n1, p1)
      const commands = [
        role('r2', 1),
        node(2, 'r1', 'n1'),
        env({ type: 'EngageThread', roleId: 'r1', nodeId: 'n1' }, 3),
        env({ type: 'EngageThread', roleId: 'r2', nodeId: 'n1' }, 4),
        env(
          {
            type: 'OpenProposal',
            proposalId: 'p1',
            nodeId: 'n1',
            authorRoleId: 'r1',
            title: 'Benches',
            closesAt: at(3600).toISOString(),
          },
          5,
        ),
        env({ type: 'CastVote', proposalId: 'p1', roleId: 'r2', choice: 'yes' }, 6),
        env({ type: 'CastVote', proposalId: 'p1', roleId: 'r2', choice: 'no' }, 7),
        ...Array.from({ length: 5 }, (_, i) => node(10 + i, i % 2 ? 'r1' : 'r2')),
      ];
      const ref = await oneByOne(t.db, setup, commands);
      expect(ref.outcomes.every((o) => o.ok)).toBe(true);

      const one = await batched(t.db, setup, commands);
      expect(one.stats).toEqual({ transactions: 1, commands: commands.length, largest: commands.length });
      expect(one.outboxRows).toBe(1);
      expect(one.outcomes).toEqual(ref.outcomes);
      expect(one.store).toEqual(ref.store);

      // a cap on the batch: 12 commands in transactions of 5, 5 and 2
      const capped = await batched(t.db, setup, commands, 5);
      expect(capped.stats).toEqual({ transactions: 3, commands: 12, largest: 5 });
      expect(capped.outboxRows).toBe(3);
      expect(capped.outcomes).toEqual(ref.outcomes);
      expect(capped.store).toEqual(ref.store);
    });

    it('fails a refused command alone; the others in its batch commit', async () => {
      const setup = [role('r1', 0), node(1, 'r1', 'n1', { idempotencyKey: 'k-used' })];
      const commands = [
        node(2),
        env({ type: 'CastVote', proposalId: 'p404', roleId: 'r1', choice: 'yes' }, 3), // no such proposal
        node(4),
        node(5, 'r404'), // no such role
        node(6, 'r1', 'n9', { idempotencyKey: 'k-used' }), // the key was used for another request
        node(7),
      ];
      const ref = await oneByOne(t.db, setup, commands);
      const got = await batched(t.db, setup, commands);
      expect(got.stats.transactions).toBe(1);
      expect(got.outboxRows).toBe(1);
      expect(got.outcomes.map((o) => (o.ok ? 'ok' : o.name))).toEqual([
        'ok',
        'RejectedError',
        'ok',
        'RejectedError',
        'ConflictError',
        'ok',
      ]);
      expect(got.outcomes).toEqual(ref.outcomes);
      expect(got.store).toEqual(ref.store);
      // gap-free positions: the refusals took none
      const positions = got.outcomes.flatMap((o) => (o.ok ? o.result.events.map((e) => e.position) : []));
      expect(positions).toEqual([3, 4, 5]);
      expect(await headPosition(t.db)).toBe(5);
    });

    it('keeps idempotency keys inside a batch: a repeat replays, another request under the key conflicts', async () => {
      const setup = [role('r1', 0), node(1, 'r1', undefined, { idempotencyKey: 'k-old' })];
      const vote404 = env({ type: 'CastVote', proposalId: 'p404', roleId: 'r1', choice: 'yes' }, 2, {
        idempotencyKey: 'k3',
      });
      const commands = [
        node(3, 'r1', undefined, { idempotencyKey: 'k1' }),
        node(3, 'r1', undefined, { idempotencyKey: 'k1' }), // the same request again: the first result
        node(4, 'r1', undefined, { idempotencyKey: 'k1' }), // another request under k1: conflict
        node(1, 'r1', undefined, { idempotencyKey: 'k-old' }), // replayed from the store
        vote404, // refused: k3 is not taken
        node(5, 'r1', undefined, { idempotencyKey: 'k3' }), // so k3 runs now
        node(5, 'r1', undefined, { idempotencyKey: 'k3' }),
      ];
      const ref = await oneByOne(t.db, setup, commands);
      const got = await batched(t.db, setup, commands);
      expect(got.stats.transactions).toBe(1);
      expect(got.outcomes).toEqual(ref.outcomes);
      expect(got.store).toEqual(ref.store);
      const [a, b, c, old, v, k3, k3again] = got.outcomes as Outcome[];
      expect(a).toMatchObject({ ok: true, result: { replayed: false } });
      expect(b).toEqual({ ok: true, result: { ...(a as { result: CommandResult }).result, replayed: true } });
      expect(c).toMatchObject({ ok: false, name: 'ConflictError' });
      expect(old).toMatchObject({ ok: true, result: { replayed: true, ids: { nodeId: 'nx1' } } });
      expect(v).toMatchObject({ ok: false, name: 'RejectedError' });
      expect(k3).toMatchObject({ ok: true, result: { replayed: false } });
      expect(k3again).toMatchObject({ ok: true, result: { replayed: true } });
      expect((k3again as { result: CommandResult }).result.ids).toEqual(
        (k3 as { result: CommandResult }).result.ids,
      );
      // two new nodes, two keys stored; a later batch replays them from the store
      expect(await count(t.db, 'idempotency_keys')).toBe(3);
      const batcher = new CommandBatcher(t.db);
      const again = await batcher.submit(node(3, 'r1', undefined, { idempotencyKey: 'k1' }));
      expect(again).toEqual({ ...(a as { result: CommandResult }).result, replayed: true });
      await batcher.close();
    });

    it('rejects invalid commands at submit, beyond a full queue, and once closed', async () => {
      await executeCommand(t.db, role('r1', 0));
      const batcher = new CommandBatcher(t.db);
      await expect(batcher.submit(env({ type: 'CreateNode', title: '' }, 1))).rejects.toThrow(/^command\./);
      await expect(batcher.submit({ ...node(1), at: 'not a time' })).rejects.toThrow(/not a valid time/);
      expect(batcher.stats.transactions).toBe(0);
      const pending = [batcher.submit(node(2)), batcher.submit(node(3))];
      await batcher.close(); // waits for the submitted ones
      expect((await Promise.all(pending)).map((r) => r.events[0]!.position)).toEqual([2, 3]);
      const late = batcher.submit(node(4));
      await expect(late).rejects.toBeInstanceOf(UserError);
      await expect(late).rejects.toMatchObject({ code: 'unavailable' });
      expect(await headPosition(t.db)).toBe(3);
      // a bounded queue: past maxQueue waiting commands, submit() refuses at once
      const small = new CommandBatcher(t.db, { maxQueue: 2 });
      const three = await settle([small.submit(node(5)), small.submit(node(6)), small.submit(node(7))]);
      expect(three.map((o) => (o.ok ? o.result.events[0]!.position : o.message))).toEqual([
        4,
        5,
        '2 writes are waiting; nothing was written, retry later',
      ]);
      await small.close();
    });
  });
}

const noPostgres = await postgresUnavailable();
suite('PostgreSQL', () => freshPostgres(), noPostgres);
suite('PGlite', () => freshPglite());

describe.skipIf(noPostgres)('CommandBatcher beside other sessions (PostgreSQL)', () => {
  let t: TestDb;
  let name: string;
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>, url = ADMIN_URL): Promise<T> => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end().catch(() => {});
    }
  };
  /** Polls until a backend of the test database waits for a lock in a statement matching `like`. */
  const waitingOn = async (like: string): Promise<void> => {
    for (let i = 0; i < 200; i++) {
      const n = await admin(async (c) => {
        const { rows } = await c.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = $1 AND wait_event_type = 'Lock' AND query LIKE $2`,
          [name, like],
        );
        return rows[0].n as number;
      });
      if (n > 0) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no backend of ${name} waits on ${like}`);
  };

  beforeAll(async () => {
    t = await freshPostgres();
    name = new URL(t.url!).pathname.slice(1);
  });
  afterAll(async () => {
    await admin((c) => c.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`)).catch(() => {});
    await t?.cleanup();
  });

  it('groups the commands that arrive while a transaction is in flight into the next one', async () => {
    await resetDb(t.db);
    await executeCommand(t.db, role('r1', 0));
    const outbox = await count(t.db, 'outbox');
    // another writer holds the head lock: the batcher's first transaction waits for it
    const holder = new pg.Client({ connectionString: t.url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT position FROM event_log_head WHERE id FOR UPDATE');
    const batcher = new CommandBatcher(t.db);
    const first = batcher.submit(node(1));
    await waitingOn('%event_log_head%');
    // five more, each in its own turn of the event loop, as requests arrive
    const later: Promise<CommandResult>[] = [];
    for (let i = 2; i <= 6; i++) {
      later.push(batcher.submit(node(i)));
      await new Promise((r) => setImmediate(r));
    }
    await holder.query('COMMIT');
    await holder.end();
    const results = await Promise.all([first, ...later]);
    expect(results.map((r) => r.events[0]!.position)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(batcher.stats).toEqual({ transactions: 2, commands: 6, largest: 5 });
    const { rows } = await t.db.query<{ first_position: number; last_position: number }>(
      'SELECT first_position, last_position FROM outbox ORDER BY id OFFSET $1',
      [outbox],
    );
    expect(rows).toEqual([
      { first_position: 2, last_position: 2 },
      { first_position: 3, last_position: 7 },
    ]);
    await batcher.close();
  });

  it('fails every command of a batch that dies mid-transaction, and stores none of them', async () => {
    await resetDb(t.db);
    await executeCommand(t.db, role('r1', 0));
    await executeCommand(t.db, node(1));
    const head = await headPosition(t.db);
    const outbox = await count(t.db, 'outbox');
    // another session holds the region's statistics row: the batch stages its events, writes them, and then
    // waits in commit() to update that row — mid-transaction, its events already inserted
    const holder = new pg.Client({ connectionString: t.url });
    await holder.connect();
    holder.on('error', () => {});
    await holder.query('BEGIN');
    await holder.query('SELECT * FROM proj_region_stats WHERE region_id = $1 FOR UPDATE', [REGION]);

    const batcher = new CommandBatcher(t.db);
    const first = [2, 3, 4, 5].map((s) => batcher.submit(node(s)));
    // settled from the start: the kill below may fail them before the test awaits them
    const firstSettled = Promise.allSettled(first);
    await waitingOn('WITH w0 AS (INSERT INTO events%'); // commit(): one statement (data-modifying CTEs)
    // it is inside commit(): its events are written (uncommitted), it waits for the statistics row
    const inserting = await admin(async (c) => {
      const { rows } = await c.query(
        `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid)
         WHERE a.wait_event_type = 'Lock' AND l.relation = 'events'::regclass AND l.mode = 'RowExclusiveLock'`,
      );
      return rows[0].n as number;
    }, t.url);
    expect(inserting).toBe(1);
    // these wait for the next transaction
    const second = [6, 7].map((s) => batcher.submit(node(s)));
    const secondSettled = Promise.allSettled(second);
    // the database goes away: no new connections, every session killed
    await admin(async (c) => {
      await c.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
      await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
    });
    const firstOutcomes = await firstSettled;
    const secondOutcomes = await secondSettled;
    for (const o of [...firstOutcomes, ...secondOutcomes]) {
      expect(o.status).toBe('rejected');
      // what the API makes of it: 503, nothing written
      expect(describeError((o as PromiseRejectedResult).reason)).toMatchObject({
        status: 503,
        code: 'db_unavailable',
      });
    }
    // the commands of one batch fail with one error: that transaction's
    const reasons = firstOutcomes.map((o) => (o as PromiseRejectedResult).reason);
    expect(new Set(reasons).size).toBe(1);
    expect(batcher.stats).toEqual({ transactions: 2, commands: 6, largest: 4 });
    await holder.end().catch(() => {});

    // back up: nothing of either batch is in the store, and the batcher works again
    await admin((c) => c.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`));
    expect(await headPosition(t.db)).toBe(head);
    expect(await count(t.db, 'events')).toBe(head);
    expect(await count(t.db, 'outbox')).toBe(outbox);
    const after = await batcher.submit(node(8));
    expect(after.events[0]!.position).toBe(head + 1);
    await batcher.close();
  });
});
