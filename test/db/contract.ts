// The `db` contract suite: one set of behaviours every database adapter (PostgreSQL, PGlite) must show.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../core/db/adapter.js';
import { loadMigrations, migrate } from '../../core/db/migrate.js';
import {
  ConflictError,
  appendToStream,
  checkpoint,
  headPosition,
  readEvents,
  withWriteSession,
} from '../../core/eventstore.js';
import { executeCommand, executeCommands, type CommandEnvelope } from '../../core/domain/execute.js';
import { RejectedError } from '../../core/domain/decide.js';
import { fadeSweep } from '../../core/domain/fade-sweep.js';
import { threadIdFor } from '../../core/domain/ids.js';
import { parseStoredEvent } from '../../core/domain/schemas.js';
import { areaPoint } from '../../core/privacy/home.js';
import { catchUp, dumpProjections, rebuildProjections } from '../../core/projections/projector.js';
import {
  NODES_IN_BBOX_SQL,
  THREADS_IN_BBOX_SQL,
  nodesInBbox,
  threadsInBbox,
  type BBox,
} from '../../core/queries.js';
import { seedCommunity } from '../../core/seed/seed.js';
import { builtinPlaces } from '../../core/seed/places.js';
import { loadSeedRegion } from '../../core/seed/region.js';
import { exportEvents, importEvents } from '../../core/transfer.js';
import { fade } from '../../core/fade.js';
import { claimOutbox, pendingOutbox } from '../../core/outbox.js';
import { resetDb, type TestDb } from './helpers.js';

const T0 = new Date('2025-03-01T10:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (ms: number) => new Date(T0.getTime() + ms);
const SALT = 'contract-test-salt';

async function count(db: Db, table: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0]!.n;
}

async function streamVersion(db: Db, streamId: string): Promise<number> {
  const { rows } = await db.query<{ v: number }>(
    'SELECT coalesce(max(stream_version), 0)::int AS v FROM events WHERE stream_id = $1',
    [streamId],
  );
  return rows[0]!.v;
}

async function exportText(db: Db, since = 0): Promise<string> {
  const lines: string[] = [];
  await exportEvents(db, (l) => void lines.push(l), { since });
  return lines.join('');
}

const roleEvent = (roleId: string, regionId = 'testland') => ({
  type: 'RoleRegistered',
  payload: { roleId, regionId, name: `Role ${roleId}`, areaPoint: [7.425, 43.735] },
});

function cmd(
  command: Record<string, unknown>,
  actor = 'tester',
  when = T0,
  extra: Partial<CommandEnvelope> = {},
) {
  return { command, actor, at: when, ...extra };
}

/** A role, a node by it, and the role's thread to the node. */
async function community(db: Db, ids = { role: 'r1', node: 'n1' }) {
  await executeCommands(
    db,
    [
      cmd({
        type: 'RegisterRole',
        roleId: ids.role,
        regionId: 'testland',
        name: 'Ada',
        area: [7.4261, 43.7372],
      }),
      cmd({
        type: 'CreateNode',
        nodeId: ids.node,
        regionId: 'testland',
        title: 'Market',
        kind: 'place',
        point: [7.42, 43.735],
        authorRoleId: ids.role,
      }),
      cmd({ type: 'EngageThread', roleId: ids.role, nodeId: ids.node }),
    ],
    { salt: SALT },
  );
}

/** Liang–Barsky: does the segment a–b touch the rectangle? (independent of PostGIS) */
function segmentTouchesBox(a: [number, number], b: [number, number], [w, s, e, n]: BBox): boolean {
  let t0 = 0;
  let t1 = 1;
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const clip = (p: number, q: number) => {
    if (p === 0) return q >= 0;
    const r = q / p;
    if (p < 0) {
      if (r > t1) return false;
      if (r > t0) t0 = r;
    } else {
      if (r < t0) return false;
      if (r < t1) t1 = r;
    }
    return true;
  };
  return clip(-dx, a[0] - w) && clip(dx, e - a[0]) && clip(-dy, a[1] - s) && clip(dy, n - a[1]);
}

export function contractSuite(label: string, factory: () => Promise<TestDb>): void {
  describe(`db contract: ${label}`, () => {
    let t: TestDb;
    let db: Db;
    beforeAll(async () => {
      t = await factory();
      db = t.db;
    });
    afterAll(async () => {
      await t?.cleanup();
    });
    beforeEach(async () => {
      await resetDb(db);
    });

    describe('migrations', () => {
      it('are applied once, recorded, and a second run applies nothing', async () => {
        const again = await migrate(db);
        expect(again.applied).toEqual([]);
        expect(again.present).toBe(loadMigrations().length);
        const { rows } = await db.query<{ version: number; checksum: string }>(
          'SELECT version, checksum FROM schema_migrations ORDER BY version',
        );
        expect(rows.map((r) => [r.version, r.checksum])).toEqual(
          loadMigrations().map((m) => [m.version, m.checksum]),
        );
        const v = await db.query<{ v: string }>('SELECT postgis_lib_version() AS v');
        expect(v.rows[0]!.v).toMatch(/^3\./);
      });

      it('make the events table append-only', async () => {
        await appendToStream(db, { events: [roleEvent('a')], actor: 'tester' });
        await expect(db.query(`UPDATE events SET type = 'X'`)).rejects.toThrow(/append-only/);
        await expect(db.query('DELETE FROM events')).rejects.toThrow(/append-only/);
        await expect(db.query('TRUNCATE events CASCADE')).rejects.toThrow(/append-only/);
        expect(await count(db, 'events')).toBe(1);
      });
    });

    describe('appends', () => {
      it('commit events, projection rows, outbox rows and the checkpoint together', async () => {
        const r1 = await appendToStream(db, {
          events: [roleEvent('a')],
          expectedVersion: 0,
          actor: 'tester',
        });
        expect(r1).toEqual({ streamId: 'role:a', version: 1, positions: [1], replayed: false });
        const r2 = await appendToStream(db, {
          events: [
            {
              type: 'RoleHomePlaced',
              payload: { roleId: 'a', publicPoint: [7.43, 43.74], inaccuracyM: 250, exactConsent: false },
            },
          ],
          expectedVersion: 1,
          actor: 'a',
          requestId: 'req-1',
        });
        expect(r2).toEqual({ streamId: 'role:a', version: 2, positions: [2], replayed: false });
        const events = await readEvents(db);
        expect(events.map((e) => [e.position, e.streamId, e.version, e.type])).toEqual([
          [1, 'role:a', 1, 'RoleRegistered'],
          [2, 'role:a', 2, 'RoleHomePlaced'],
        ]);
        expect(events[1]!.metadata).toEqual({ actor: 'a', requestId: 'req-1' });
        const pending = await pendingOutbox(db);
        expect(pending.map((o) => [o.firstPosition, o.lastPosition, o.topics])).toEqual([
          [1, 1, ['region:testland']],
          [2, 2, ['region:testland']],
        ]);
        // the publisher's claim: the oldest entry, its events, marked published when the transaction commits
        const claim = await db.transaction((tx) => claimOutbox(tx, { lockKey: 7, limit: 1, maxEvents: 100 }));
        expect(claim.entries.map((o) => o.id)).toEqual([pending[0]!.id]);
        expect(claim.events?.map((e) => [e.position, e.type])).toEqual([[1, 'RoleRegistered']]);
        expect((await pendingOutbox(db)).map((o) => o.id)).toEqual([pending[1]!.id]);
        const role = await db.query(
          'SELECT version, located, public_lon, public_lat, last_position FROM proj_roles',
        );
        expect(role.rows).toEqual([
          { version: 2, located: true, public_lon: 7.43, public_lat: 43.74, last_position: 2 },
        ]);
        expect(await headPosition(db)).toBe(2);
        expect(await checkpoint(db)).toBe(2);
      });

      it('fail with a conflict on a stale expected version and write nothing', async () => {
        await appendToStream(db, { events: [roleEvent('a')], expectedVersion: 0, actor: 'tester' });
        await expect(
          appendToStream(db, {
            events: [{ type: 'RoleHomeCleared', payload: { roleId: 'a' } }],
            expectedVersion: 0,
            actor: 't',
          }),
        ).rejects.toBeInstanceOf(ConflictError);
        await expect(
          appendToStream(db, { events: [roleEvent('a')], expectedVersion: 0, actor: 'tester' }),
        ).rejects.toThrow(/role:a is at version 1, not the expected 0/);
        expect(await headPosition(db)).toBe(1);
        expect(await count(db, 'outbox')).toBe(1);
      });

      it('return the first result for a repeated idempotency key and append nothing', async () => {
        const req = { events: [roleEvent('a')], expectedVersion: 0, actor: 'tester', idempotencyKey: 'k-1' };
        const first = await appendToStream(db, req);
        const second = await appendToStream(db, req);
        expect(second).toEqual({ ...first, replayed: true });
        expect(await headPosition(db)).toBe(1);
        expect((await readEvents(db))[0]!.metadata.idempotencyKey).toBe('k-1');
        await expect(appendToStream(db, { ...req, events: [roleEvent('b')] })).rejects.toThrow(
          /idempotency key k-1 was used for a different request/,
        );
        // commands too: the retry of a vote after the proposal closed still gets the first answer
        await community(db);
        const open = cmd({
          type: 'OpenProposal',
          proposalId: 'p1',
          nodeId: 'n1',
          authorRoleId: 'r1',
          title: 'Benches',
          closesAt: at(DAY).toISOString(),
        });
        await executeCommand(db, open);
        const vote = cmd(
          { type: 'CastVote', proposalId: 'p1', roleId: 'r1', choice: 'yes' },
          'r1',
          at(HOUR),
          { idempotencyKey: 'vote-1' },
        );
        const v1 = await executeCommand(db, vote);
        const v2 = await executeCommand(db, { ...vote, at: at(2 * DAY) });
        expect(v2).toEqual({ ...v1, replayed: true });
        expect(await count(db, "events WHERE type = 'VoteCast'")).toBe(1);
      });

      it('leave nothing behind when the transaction fails after staging', async () => {
        await expect(
          withWriteSession(db, async (s) => {
            await s.stage({
              event: roleEvent('a') as never,
              metadata: { actor: 't' },
              occurredAt: T0.toISOString(),
            });
            await s.commit();
            throw new Error('boom after the writes');
          }),
        ).rejects.toThrow('boom');
        for (const table of ['events', 'outbox', 'proj_roles', 'proj_timeline', 'proj_region_stats']) {
          expect(await count(db, table), table).toBe(0);
        }
        expect(await headPosition(db)).toBe(0);
        // and the store goes on gap-free
        const r = await appendToStream(db, { events: [roleEvent('b')], actor: 't' });
        expect(r.positions).toEqual([1]);
      });

      it('from many concurrent writers to one stream give no gaps and no duplicate versions', async () => {
        await community(db);
        const thread = threadIdFor('r1', 'n1');
        const stream = `thread:${thread}`;
        const renew = { type: 'ThreadRenewed', payload: { threadId: thread, roleId: 'r1', nodeId: 'n1' } };
        let conflicts = 0;
        const writer = async () => {
          for (let i = 0; i < 3; i++) {
            for (;;) {
              const v = await streamVersion(db, stream);
              try {
                await appendToStream(db, { events: [renew], expectedVersion: v, actor: 'r1' });
                break;
              } catch (err) {
                if (!(err instanceof ConflictError)) throw err;
                conflicts += 1;
              }
            }
          }
        };
        await Promise.all(Array.from({ length: 12 }, writer));
        const versions = (await readEvents(db, { streamId: stream, limit: 100 })).map((e) => e.version);
        expect(versions).toEqual(Array.from({ length: 37 }, (_, i) => i + 1));
        const positions = (await readEvents(db, { limit: 100 })).map((e) => e.position);
        expect(positions).toEqual(Array.from({ length: positions.length }, (_, i) => i + 1));
        const row = await db.query('SELECT version, engagements FROM proj_threads');
        expect(row.rows).toEqual([{ version: 37, engagements: 37 }]);
        expect(conflicts).toBeGreaterThanOrEqual(0);
      });

      it('racing with the same expected version: exactly one wins, the others get a clean conflict', async () => {
        await community(db);
        const thread = threadIdFor('r1', 'n1');
        const renew = { type: 'ThreadRenewed', payload: { threadId: thread, roleId: 'r1', nodeId: 'n1' } };
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, () =>
            appendToStream(db, { events: [renew], expectedVersion: 1, actor: 'r1' }),
          ),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(failures).toHaveLength(7);
        for (const f of failures) expect(f.reason).toBeInstanceOf(ConflictError);
        expect(await streamVersion(db, `thread:${thread}`)).toBe(2);
      });
    });

    describe('command handlers', () => {
      it('need an existing role and a visible node for a thread; engaging again renews it', async () => {
        await community(db);
        const again = await executeCommand(
          db,
          cmd({ type: 'EngageThread', roleId: 'r1', nodeId: 'n1' }, 'r1', at(HOUR)),
        );
        expect(again.events.map((e) => e.type)).toEqual(['ThreadRenewed']);
        await expect(
          executeCommand(db, cmd({ type: 'EngageThread', roleId: 'r9', nodeId: 'n1' })),
        ).rejects.toThrow(/role r9 does not exist/);
        await expect(
          executeCommand(db, cmd({ type: 'EngageThread', roleId: 'r1', nodeId: 'n9' })),
        ).rejects.toThrow(/node n9 does not exist/);
        await executeCommand(
          db,
          cmd({ type: 'HideNode', nodeId: 'n1', reason: 'moderation' }, 'operator:mod'),
        );
        await expect(
          executeCommand(db, cmd({ type: 'EngageThread', roleId: 'r1', nodeId: 'n1' })),
        ).rejects.toBeInstanceOf(RejectedError);
        const thread = await db.query('SELECT engagements, last_activity_at FROM proj_threads');
        expect(thread.rows).toEqual([{ engagements: 2, last_activity_at: at(HOUR) }]);
      });

      it('allow one vote per role per proposal, changeable until close, none after', async () => {
        await community(db);
        await executeCommand(
          db,
          cmd({ type: 'RegisterRole', roleId: 'r2', regionId: 'testland', name: 'Bo', area: [7.42, 43.73] }),
        );
        await executeCommand(
          db,
          cmd(
            {
              type: 'OpenProposal',
              proposalId: 'p1',
              nodeId: 'n1',
              authorRoleId: 'r1',
              title: 'Benches',
              closesAt: at(DAY).toISOString(),
            },
            'r1',
          ),
        );
        const vote = (role: string, choice: string, when: number) =>
          executeCommand(
            db,
            cmd({ type: 'CastVote', proposalId: 'p1', roleId: role, choice }, role, at(when)),
          );
        expect((await vote('r1', 'yes', HOUR)).events).toHaveLength(1);
        const same = await vote('r1', 'yes', 2 * HOUR);
        expect(same.events).toHaveLength(0);
        expect(same.note).toMatch(/already voted yes/);
        await vote('r1', 'no', 3 * HOUR);
        await vote('r2', 'yes', 4 * HOUR);
        const tally = await db.query('SELECT votes_yes, votes_no, votes_abstain, closed FROM proj_proposals');
        expect(tally.rows).toEqual([{ votes_yes: 1, votes_no: 1, votes_abstain: 0, closed: false }]);
        const changed = (await readEvents(db)).filter((e) => e.type === 'VoteCast').map((e) => e.payload);
        expect(changed[1]).toMatchObject({ roleId: 'r1', choice: 'no', previousChoice: 'yes' });
        await expect(vote('r2', 'no', DAY)).rejects.toThrow(
          /closed at 2025-03-02T10:00:00.000Z; no more votes/,
        );
        await expect(
          executeCommand(db, cmd({ type: 'CloseProposal', proposalId: 'p1' }, 'r2', at(5 * HOUR))),
        ).rejects.toThrow(/only its author/);
        const closed = await executeCommand(
          db,
          cmd({ type: 'CloseProposal', proposalId: 'p1' }, 'system:close', at(DAY)),
        );
        expect(closed.events.map((e) => e.type)).toEqual(['ProposalClosed']);
        const payload = (await readEvents(db)).at(-1)!.payload;
        expect(payload).toEqual({ proposalId: 'p1', tally: { yes: 1, no: 1, abstain: 0 } });
        await expect(vote('r1', 'yes', 5 * HOUR)).rejects.toThrow(/is closed; no more votes/);
        expect(await count(db, 'proj_votes')).toBe(2);
      });

      it('roll back the whole batch when one command is rejected', async () => {
        await expect(
          executeCommands(db, [
            cmd({
              type: 'RegisterRole',
              roleId: 'r1',
              regionId: 'testland',
              name: 'Ada',
              area: [7.42, 43.73],
            }),
            cmd({ type: 'EngageThread', roleId: 'r1', nodeId: 'missing' }),
          ]),
        ).rejects.toThrow(/node missing does not exist/);
        expect(await headPosition(db)).toBe(0);
        expect(await count(db, 'proj_roles')).toBe(0);
      });

      it('validate input with errors naming the field', async () => {
        await expect(
          executeCommand(
            db,
            cmd({ type: 'CreateNode', regionId: 'testland', title: ' ', point: [7, 43], authorRoleId: 'r1' }),
          ),
        ).rejects.toThrow(/^command\.title: must not be empty$/);
        await expect(
          executeCommand(
            db,
            cmd({
              type: 'CreateNode',
              regionId: 'testland',
              title: 'x',
              point: [200, 43],
              authorRoleId: 'r1',
            }),
          ),
        ).rejects.toThrow(/^command\.point\.0: /);
        await expect(executeCommand(db, cmd({ type: 'Teleport' }))).rejects.toThrow(/^command\.type: /);
        await expect(
          appendToStream(db, {
            events: [{ type: 'RoleRegistered', payload: { roleId: 'a', regionId: 'x', name: 'n' } }],
            actor: 't',
          }),
        ).rejects.toThrow(/^payload\.areaPoint: /);
      });

      it('keep the exact home private: threads start at the area point, then at a public point within the radius', async () => {
        await community(db);
        const start = await db.query<{ x: number; y: number }>(
          'SELECT ST_X(ST_StartPoint(geom)) x, ST_Y(ST_StartPoint(geom)) y FROM proj_threads',
        );
        expect([start.rows[0]!.x, start.rows[0]!.y]).toEqual(areaPoint([7.4261, 43.7372]));
        const home: [number, number] = [7.428123, 43.739871];
        await expect(
          executeCommand(
            db,
            cmd({ type: 'PlaceRoleHome', roleId: 'r1', point: home, inaccuracyM: 0 }, 'r1'),
            { salt: SALT },
          ),
        ).rejects.toThrow(/exactConsent/);
        await executeCommand(
          db,
          cmd({ type: 'PlaceRoleHome', roleId: 'r1', point: home, inaccuracyM: 250 }, 'r1'),
          { salt: SALT },
        );
        const d = await db.query<{ d: number; same: boolean }>(
          `SELECT ST_Distance(ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, r.geom::geography) AS d,
                  ST_Equals(r.geom, ST_StartPoint(t.geom)) AS same
           FROM proj_roles r JOIN proj_threads t USING (role_id)`,
          home,
        );
        expect(d.rows[0]!.same).toBe(true);
        expect(d.rows[0]!.d).toBeGreaterThan(250 / 4 - 1);
        expect(d.rows[0]!.d).toBeLessThanOrEqual(250);
        const priv = await db.query('SELECT lon, lat FROM role_homes_private');
        expect(priv.rows).toEqual([{ lon: home[0], lat: home[1] }]);
        const exported = await exportText(db);
        expect(exported).not.toContain('7.428123');
        expect(exported).not.toContain('43.739871');
        await executeCommand(db, cmd({ type: 'ClearRoleHome', roleId: 'r1' }, 'r1'));
        expect(await count(db, 'role_homes_private')).toBe(0);
        const back = await db.query<{ x: number }>('SELECT ST_X(ST_StartPoint(geom)) x FROM proj_threads');
        expect(back.rows[0]!.x).toBe(areaPoint([7.4261, 43.7372])[0]);
      });

      it('fade threads and hide nodes only once seven days passed, deterministically and once', async () => {
        await community(db);
        await expect(
          executeCommand(
            db,
            cmd({ type: 'HideNode', nodeId: 'n1', reason: 'faded' }, 'system:fade', at(6 * DAY)),
          ),
        ).rejects.toThrow(/fades out only after 7 days/);
        expect(await fadeSweep(db, at(7 * DAY - 1))).toEqual({ fadedThreads: 0, hiddenNodes: 0 });
        expect(await fadeSweep(db, at(7 * DAY))).toEqual({ fadedThreads: 1, hiddenNodes: 1 });
        expect(await fadeSweep(db, at(8 * DAY))).toEqual({ fadedThreads: 0, hiddenNodes: 0 });
        const types = (await readEvents(db)).map((e) => e.type);
        expect(types.slice(-2)).toEqual(['ThreadFaded', 'NodeHidden']);
        const stats = await db.query('SELECT threads, faded_threads, hidden_nodes FROM proj_region_stats');
        expect(stats.rows).toEqual([{ threads: 1, faded_threads: 1, hidden_nodes: 1 }]);
        const audit = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM audit_log WHERE action = 'fade.sweep'`,
        );
        expect(audit.rows[0]!.n).toBe(1);
      });
    });

    describe('seed, export, import and rebuild', () => {
      const now = new Date('2025-06-01T12:00:00.000Z');
      const seed = async (seedNo = 5) => {
        const region = loadSeedRegion('monaco');
        return seedCommunity(db, {
          region,
          places: await builtinPlaces(region),
          seed: seedNo,
          now,
          roles: 60,
          nodes: 25,
          proposals: 5,
          salt: SALT,
        });
      };

      it('seed → export → import into an empty database → export gives the same events and projections', async () => {
        const result = await seed();
        expect(result.roles).toBe(60);
        const threads = await db.query<{ last_activity_at: Date }>(
          'SELECT last_activity_at FROM proj_threads',
        );
        const fades = threads.rows.map((r) => fade(now, r.last_activity_at));
        expect(fades.filter((f) => f === 0).length).toBeGreaterThan(0);
        expect(fades.filter((f) => f > 0.2 && f < 0.8).length).toBeGreaterThan(0);
        expect(fades.filter((f) => f > 0.9).length).toBeGreaterThan(0);
        const bbox = loadSeedRegion('monaco').bbox;
        const nodes = await db.query<{ lon: number; lat: number }>('SELECT lon, lat FROM proj_nodes');
        for (const n of nodes.rows) {
          expect(n.lon >= bbox[0] && n.lon <= bbox[2] && n.lat >= bbox[1] && n.lat <= bbox[3]).toBe(true);
        }
        const a = await exportText(db);
        const lines = a.trimEnd().split('\n');
        expect(lines).toHaveLength(result.events);
        for (const l of lines.slice(0, 50)) parseStoredEvent(JSON.parse(l));
        const projA = await dumpProjections(db);

        await resetDb(db);
        const imported = await importEvents(db, lines, { name: 'seed.ndjson' });
        expect(imported).toMatchObject({
          imported: result.events,
          skipped: 0,
          firstPosition: 1,
          lastPosition: result.events,
        });
        expect(await exportText(db)).toBe(a);
        expect(await dumpProjections(db)).toEqual(projA);
        // importing the same file again changes nothing
        expect(await importEvents(db, lines)).toMatchObject({ imported: 0, skipped: result.events });
        expect(await exportText(db)).toBe(a);
        // and the same seed gives the same events
        await resetDb(db);
        await seed();
        expect(await exportText(db)).toBe(a);
        expect(await exportText(db, result.events - 3)).toBe(lines.slice(-3).join('\n') + '\n');
      });

      it('rebuild and a resumed catch-up give the same projection rows as incremental projection', async () => {
        await seed(9);
        const incremental = await dumpProjections(db);
        expect(incremental.threads.length).toBeGreaterThan(50);
        const r = await rebuildProjections(db);
        expect(r.events).toBe(await headPosition(db));
        expect(await dumpProjections(db)).toEqual(incremental);
        // a projector starting from zero and interrupted after two batches resumes from its checkpoint
        await db.exec(`TRUNCATE proj_roles, proj_nodes, proj_threads, proj_proposals, proj_votes, proj_timeline,
          proj_region_stats; UPDATE projection_checkpoints SET position = 0`);
        let batches = 0;
        await expect(
          catchUp(db, {
            batchSize: 300,
            onProgress: () => {
              if (++batches === 3) throw new Error('interrupted');
            },
          }),
        ).rejects.toThrow('interrupted');
        expect(await checkpoint(db)).toBe(600);
        // an append while the projections lag catches them up first, in its own transaction
        await executeCommand(
          db,
          cmd(
            { type: 'RegisterRole', roleId: 'late', regionId: 'monaco', name: 'Late', area: [7.42, 43.73] },
            'late',
            now,
          ),
        );
        const head = await headPosition(db);
        expect(await checkpoint(db)).toBe(head);
        expect(await catchUp(db)).toBe(0);
        const after = await dumpProjections(db);
        await rebuildProjections(db);
        expect(await dumpProjections(db)).toEqual(after);
        expect(after.roles.length).toBe(incremental.roles.length + 1);
      });

      it('import reports a malformed line by its number and applies nothing from the file', async () => {
        await seed(3);
        const lines = (await exportText(db)).trimEnd().split('\n').slice(0, 40);
        await resetDb(db);
        const bad = [...lines.slice(0, 10), '{"position": 11, oops', ...lines.slice(10)];
        await expect(importEvents(db, bad, { name: 'f.ndjson' })).rejects.toThrow(
          /^f\.ndjson:11: not valid JSON/,
        );
        const wrongField = lines.map((l, i) =>
          i === 4 ? l.replace(/"name":"[^"]*"/, '"name":""').replace(/"title":"[^"]*"/, '"title":""') : l,
        );
        await expect(importEvents(db, wrongField, { name: 'f.ndjson' })).rejects.toThrow(
          /^f\.ndjson:5: payload\.(name|title): must not be empty$/,
        );
        const gap = lines.filter((_, i) => i !== 0);
        await expect(importEvents(db, gap, { name: 'g' })).rejects.toThrow(/^g:\d+: /);
        expect(await headPosition(db)).toBe(0);
        expect(await count(db, 'events')).toBe(0);
        expect(await count(db, 'proj_timeline')).toBe(0);
      });
    });

    describe('spatial queries', () => {
      it('find nodes and threads in a bbox (checked without PostGIS) using the GiST indexes', async () => {
        const region = loadSeedRegion('monaco');
        await seedCommunity(db, {
          region,
          places: await builtinPlaces(region),
          seed: 4,
          now: T0,
          roles: 80,
          nodes: 30,
          proposals: 0,
          salt: SALT,
        });
        const box: BBox = [7.418, 43.729, 7.426, 43.736];
        const all = await db.query<{ node_id: string; lon: number; lat: number }>(
          'SELECT node_id, lon, lat FROM proj_nodes ORDER BY node_id',
        );
        const expectedNodes = all.rows
          .filter((n) => n.lon >= box[0] && n.lon <= box[2] && n.lat >= box[1] && n.lat <= box[3])
          .map((n) => n.node_id);
        expect(expectedNodes.length).toBeGreaterThan(0);
        expect((await nodesInBbox(db, box)).map((n) => n.node_id)).toEqual(expectedNodes);
        const threads = await db.query<{
          thread_id: string;
          from_lon: number;
          from_lat: number;
          to_lon: number;
          to_lat: number;
        }>('SELECT thread_id, from_lon, from_lat, to_lon, to_lat FROM proj_threads ORDER BY thread_id');
        const expectedThreads = threads.rows
          .filter((r) => segmentTouchesBox([r.from_lon, r.from_lat], [r.to_lon, r.to_lat], box))
          .map((r) => r.thread_id);
        expect(expectedThreads.length).toBeLessThan(threads.rows.length);
        expect((await threadsInBbox(db, box)).map((r) => r.thread_id)).toEqual(expectedThreads);

        // EXPLAIN: the bbox queries can use the GiST indexes (sequential scans switched off to prove usability)
        for (const [sql, index] of [
          [THREADS_IN_BBOX_SQL, 'proj_threads_geom_gist'],
          [NODES_IN_BBOX_SQL, 'proj_nodes_geom_gist'],
        ] as const) {
          const plan = await db.transaction(async (tx) => {
            await tx.query('SET LOCAL enable_seqscan = off');
            const literal = sql.replace(/\$(\d)/g, (_, i: string) => String(box[Number(i) - 1]));
            const { rows } = await tx.query<Record<string, unknown>>(`EXPLAIN (FORMAT JSON) ${literal}`);
            return JSON.stringify(rows);
          });
          expect(plan).toContain(index);
        }
      });
    });
  });
}
