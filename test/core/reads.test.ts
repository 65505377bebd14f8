// The write path's reads in one round trip, on real PostgreSQL and on PGlite: reads combined into one statement
// (JSON per read) load exactly the rows, times and nulls that the same reads sent one by one load, and a command's
// write transaction sends the head lock, one read and one write (BEGIN and COMMIT aside).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, Queryable, Statement } from '../../core/db/adapter.js';
import { executeCommand, type CommandEnvelope } from '../../core/domain/execute.js';
import { threadIdFor } from '../../core/domain/ids.js';
import { ProjectionState, emptyKeys, runReads, voteKey } from '../../core/projections/state.js';
import { freshPglite, freshPostgres, postgresUnavailable, type TestDb } from '../db/helpers.js';

const T0 = Date.parse('2025-03-01T10:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000);
const REGION = 'testland';
const env = (command: Record<string, unknown>, s: number, extra: Partial<CommandEnvelope> = {}) => ({
  command,
  actor: 'tester',
  at: at(s),
  ...extra,
});

/** A Queryable (or Db) that counts the statements sent through it. */
/** Counts what is sent through `q`: messages (a query, or a batch of statements), statements, batches with COMMIT. */
function counting<Q extends Queryable>(
  q: Q,
  counter: { n: number; statements?: number; commits?: number },
): Q {
  return new Proxy(q, {
    get(target, prop, receiver) {
      if (prop === 'query')
        return (sql: string, params?: unknown[]) => {
          counter.n += 1;
          counter.statements = (counter.statements ?? 0) + 1;
          return target.query(sql, params);
        };
      if (prop === 'batch' && target.batch)
        return (statements: readonly Statement[], options?: { commit?: boolean }) => {
          counter.n += 1;
          counter.statements = (counter.statements ?? 0) + statements.length;
          if (options?.commit) counter.commits = (counter.commits ?? 0) + 1;
          return target.batch!(statements, options);
        };
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}

/** The state's rows, comparable with toEqual. */
function rowsOf(s: ProjectionState) {
  return {
    roles: [...s.roles],
    nodes: [...s.nodes],
    threads: [...s.threads],
    proposals: [...s.proposals],
    votes: [...s.votes],
    stats: [...s.regionStats],
    threadsOfR1: s.threadsOfRole('r1'),
  };
}

function suite(kind: string, open: () => Promise<TestDb>, skip?: string) {
  describe.skipIf(skip)(`reads in one round trip on ${kind}${skip ? ` (${skip})` : ''}`, () => {
    let t: TestDb;
    let db: Db;
    beforeAll(async () => {
      t = await open();
      db = t.db;
      const commands = [
        env(
          { type: 'RegisterRole', roleId: 'r1', regionId: REGION, name: 'One', area: [7.4261, 43.7372] },
          0,
        ),
        env(
          { type: 'RegisterRole', roleId: 'r2', regionId: REGION, name: 'Two', area: [7.4262, 43.7373] },
          1,
        ),
        env(
          {
            type: 'CreateNode',
            nodeId: 'n1',
            regionId: REGION,
            title: 'Steps',
            point: [7.42, 43.735],
            authorRoleId: 'r1',
          },
          2,
        ),
        env({ type: 'EngageThread', roleId: 'r1', nodeId: 'n1' }, 3),
        env(
          {
            type: 'OpenProposal',
            proposalId: 'p1',
            nodeId: 'n1',
            authorRoleId: 'r2',
            title: 'Benches',
            closesAt: at(3600).toISOString(),
          },
          5,
        ),
        env({ type: 'CastVote', proposalId: 'p1', roleId: 'r2', choice: 'yes' }, 6),
      ];
      for (const c of commands) await executeCommand(db, c, { salt: 'reads-test-salt' });
    });
    afterAll(async () => {
      await t?.cleanup();
    });

    it('loads the same rows combined as one by one, in one statement', async () => {
      const keys = emptyKeys();
      for (const id of ['r1', 'r2', 'r404']) keys.roles.add(id);
      for (const id of ['n1', 'n404']) keys.nodes.add(id);
      keys.threads.add(threadIdFor('r1', 'n1'));
      keys.threads.add('t404');
      keys.proposals.add('p1');
      keys.votes.add(voteKey('p1', 'r2'));
      keys.votes.add(voteKey('p1', 'r1'));
      keys.threadsOfRoles.add('r1');

      const apart = new ProjectionState();
      const reads = apart.reads(keys);
      expect(reads.length).toBe(7); // statistics, roles, nodes, threads, proposals, threads of roles, votes
      for (const r of reads) r.apply((await db.query(r.sql, r.params)).rows);

      const together = new ProjectionState();
      const counter = { n: 0 };
      await runReads(counting(db, counter), together.reads(keys));
      expect(counter.n).toBe(1);
      expect(rowsOf(together)).toEqual(rowsOf(apart));
      // what the comparison covers: rows with times and nulls, and rows known not to exist
      const thread = together.thread(threadIdFor('r1', 'n1'))!;
      expect(thread.spun_at).toBe(at(3).toISOString());
      expect(thread.faded_at).toBeNull();
      expect(together.role('r1')!.public_lon).toBeNull();
      expect(together.roles.get('r404')).toBeNull();
      expect(together.vote('p1', 'r2')!.choice).toBe('yes');
      expect(together.stats(REGION)!.votes).toBe(1);
      // nothing left to load
      expect(together.reads(keys)).toEqual([]);
    });

    it('sends the head lock, one read and one write for a command: on PostgreSQL in 2 messages, COMMIT in the last', async () => {
      const counter = { n: 0, statements: 0, commits: 0 };
      const wrapped: Db = {
        ...db,
        kind: db.kind,
        location: db.location,
        query: db.query.bind(db),
        exec: db.exec.bind(db),
        close: db.close.bind(db),
        transaction: (fn) => db.transaction((tx) => fn(counting(tx, counter))),
      };
      const r = await executeCommand(
        wrapped,
        env(
          { type: 'CreateNode', regionId: REGION, title: 'New', point: [7.421, 43.735], authorRoleId: 'r2' },
          7,
          {
            idempotencyKey: 'reads-test-key',
          },
        ),
      );
      expect(r.events).toHaveLength(1);
      expect(counter.statements).toBe(3);
      // PostgreSQL: BEGIN, the lock and the read in one message; the write and COMMIT in another
      expect(counter.n).toBe(db.kind === 'postgres' ? 2 : 3);
      expect(counter.commits).toBe(db.kind === 'postgres' ? 1 : 0);
      // the key is read in the same statement: a repeat replays
      counter.n = 0;
      const again = await executeCommand(
        wrapped,
        env(
          { type: 'CreateNode', regionId: REGION, title: 'New', point: [7.421, 43.735], authorRoleId: 'r2' },
          7,
          {
            idempotencyKey: 'reads-test-key',
          },
        ),
      );
      expect(again).toEqual({ ...r, replayed: true });
    });
  });
}

const pgSkip = await postgresUnavailable();
suite('PostgreSQL', () => freshPostgres({ migrate: true }), pgSkip);
suite('PGlite', () => freshPglite({ migrate: true }));
