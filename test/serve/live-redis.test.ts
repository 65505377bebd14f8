// Two servers on one Redis and one PostgreSQL database, as two `weft serve` processes would run: whichever server
// a write goes through, every client of either server receives its delta exactly once and in order; presence
// counts are shared through Redis and broadcast across servers.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBus } from '../../core/bus/redis.js';
import { executeCommand } from '../../core/domain/execute.js';
import { need } from '../../serve/context.js';
import { LiveClient } from '../../serve/live/client.js';
import {
  createLiveModule,
  type LiveModule,
  type OutboxService,
  type PresenceService,
} from '../../serve/live/module.js';
import { freshPostgres, type TestDb } from '../db/helpers.js';
import { redisAnswers } from '../bus/redis-server.js';
import { startTestServer, type TestServer } from './server.js';

const URL = 'redis://127.0.0.1:6379';
// a region of its own: other test files may use the same Redis (channels are per region)
const REGION = `t${randomBytes(5).toString('hex')}`;
const skip = !(await redisAnswers());
if (skip) console.warn('skipping the two-server live test: no Redis on 127.0.0.1:6379');

describe.skipIf(skip)('live deltas across two servers on one Redis', () => {
  let testDb: TestDb;
  const servers: TestServer[] = [];
  const buses: RedisBus[] = [];
  const clients: LiveClient[] = [];
  let role: string;

  const write = async (i: 0 | 1, command: Record<string, unknown>) => {
    const s = servers[i]!;
    const r = await executeCommand(s.db, { command, actor: 'operator:test' });
    need<OutboxService>(s.ctx, 'outbox').nudge();
    return { ids: r.ids, position: r.events[0]!.position };
  };

  beforeAll(async () => {
    testDb = await freshPostgres();
    const dbs = [testDb.db, await testDb.reopen()];
    for (const db of dbs) {
      const bus = new RedisBus(URL, { log: () => {} });
      await bus.ready();
      buses.push(bus);
      servers.push(
        await startTestServer({
          db,
          bus,
          env: { REDIS_URL: URL },
          modules: [(ctx) => createLiveModule(ctx, { publisher: { pollMs: 100 } })],
        }),
      );
    }
    role = (await write(0, { type: 'RegisterRole', regionId: REGION, name: 'Ana', area: [7.42, 43.735] })).ids
      .roleId!;
  });

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => {});
    for (const s of servers) await s.stop();
    for (const b of buses) await b.close();
    await testDb?.cleanup();
  });

  const connect = async (i: number) => {
    const c = await LiveClient.connect(servers[i]!.url, { region: REGION });
    clients.push(c);
    await c.waitFor((m) => m.type === 'hello');
    return c;
  };

  it('delivers each server’s writes to the clients of both, exactly once each, in order', async () => {
    const [a, b] = [await connect(0), await connect(1)];
    const written: number[] = [];
    for (let i = 0; i < 30; i++) {
      const via = (i % 2) as 0 | 1;
      const { position } = await write(via, {
        type: 'CreateNode',
        regionId: REGION,
        title: `via server ${via} #${i}`,
        point: [7.41 + i * 0.0005, 43.73],
        authorRoleId: role,
      });
      written.push(position);
    }
    for (const c of [a, b]) await c.delta(written.at(-1)!, 5000);
    await new Promise((r) => setTimeout(r, 300)); // room for any duplicate to arrive
    for (const c of [a, b]) expect(c.deltas().map((d) => d.position)).toEqual(written);
    // both servers' clients got the very same texts
    expect(a.received.filter((r) => r.message.type === 'delta').map((r) => r.text)).toEqual(
      b.received.filter((r) => r.message.type === 'delta').map((r) => r.text),
    );
    // every entry was published once, by one server or the other
    const { rows } = await servers[0]!.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL',
    );
    expect(rows[0]!.n).toBe(0);
    const published = servers.map(
      (s) => (s.modules.find((m) => m.name === 'live') as LiveModule).publisher.published,
    );
    expect(published[0]! + published[1]!).toBeGreaterThanOrEqual(written.length + 1);
  });

  it('shares presence counts between the servers', async () => {
    const [a, b] = [await connect(0), await connect(1)];
    const { ids } = await write(0, {
      type: 'CreateNode',
      regionId: REGION,
      title: 'Watched from two servers',
      point: [7.42, 43.74],
      authorRoleId: role,
    });
    const nodeId = ids.nodeId!;
    const seen = (c: LiveClient, count: number) =>
      c.waitFor(
        (m) => m.type === 'presence' && m.nodeId === nodeId && m.count === count,
        5000,
        c.received.length,
      );
    let next = [seen(a, 1), seen(b, 1)];
    a.send({ type: 'look', nodeId });
    await Promise.all(next);
    next = [seen(a, 2), seen(b, 2)];
    b.send({ type: 'look', nodeId });
    await Promise.all(next);
    for (const s of servers) expect(await need<PresenceService>(s.ctx, 'presence').count(nodeId)).toBe(2);
    const bSeesOne = seen(b, 1);
    await a.close(); // its look goes with it
    await bSeesOne;
    expect(await need<PresenceService>(servers[1]!.ctx, 'presence').count(nodeId)).toBe(1);
  });
});
