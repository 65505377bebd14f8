// WEFT_NAMESPACE on a shared Redis: a server's deltas travel on `<namespace>.deltas.…` (a deployment without the
// namespace hears nothing of them) and its presence keys live under `weft:<namespace>:`, while its own clients
// get their deltas and counts as usual.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NamespacedBus } from '../../core/bus/namespace.js';
import { RedisBus } from '../../core/bus/redis.js';
import { executeCommand } from '../../core/domain/execute.js';
import { need } from '../../serve/context.js';
import { LiveClient } from '../../serve/live/client.js';
import { createLiveModule, type OutboxService } from '../../serve/live/module.js';
import { redisAnswers } from '../bus/redis-server.js';
import { Collector } from '../bus/contract.js';
import { startTestServer, type TestServer } from './server.js';

const URL = 'redis://127.0.0.1:6379';
const REGION = `t${randomBytes(5).toString('hex')}`;
const NS = `ns-${randomBytes(4).toString('hex')}`;
const skip = !(await redisAnswers());

describe.skipIf(skip)('a server in a namespace on a shared Redis', () => {
  let server: TestServer;
  let bus: RedisBus;
  let bare: RedisBus;
  let raw: Redis;
  let client: LiveClient | undefined;

  beforeAll(async () => {
    bus = new RedisBus(URL, { log: () => {} });
    bare = new RedisBus(URL, { log: () => {} });
    await Promise.all([bus.ready(), bare.ready()]);
    raw = new Redis(URL);
    server = await startTestServer({
      bus: new NamespacedBus(bus, NS),
      env: { REDIS_URL: URL, WEFT_NAMESPACE: NS },
      modules: [(ctx) => createLiveModule(ctx, { publisher: { pollMs: 100 } })],
    });
  });
  afterAll(async () => {
    await client?.close().catch(() => {});
    await server?.stop();
    await bus?.close();
    await bare?.close();
    raw?.disconnect();
  });

  it('keeps its deltas and presence keys in its namespace', async () => {
    const heardBare = new Collector();
    const heardNamespaced = new Collector();
    await bare.subscribe(`deltas.region:${REGION}`, heardBare.handler);
    await bare.subscribePrefix(`${NS}.deltas.`, heardNamespaced.handler);
    client = await LiveClient.connect(server.url, { region: REGION });
    await client.waitFor((m) => m.type === 'hello');

    const role = await executeCommand(server.db, {
      command: { type: 'RegisterRole', regionId: REGION, name: 'Ns', area: [7.42, 43.735] },
      actor: 'operator:test',
    });
    const made = await executeCommand(server.db, {
      command: {
        type: 'CreateNode',
        regionId: REGION,
        title: 'In a namespace',
        point: [7.42, 43.74],
        authorRoleId: role.ids.roleId!,
      },
      actor: 'operator:test',
    });
    need<OutboxService>(server.ctx, 'outbox').nudge();
    const position = made.events[0]!.position;
    await client.delta(position, 5000);
    await heardNamespaced.waitFor(1);
    expect(heardNamespaced.got[0]!.channel).toBe(`${NS}.deltas.region:${REGION}`);
    await new Promise((r) => setTimeout(r, 200));
    expect(heardBare.got).toEqual([]);

    const nodeId = made.ids.nodeId!;
    const counted = client.waitFor(
      (m) => m.type === 'presence' && m.nodeId === nodeId && m.count === 1,
      5000,
    );
    client.send({ type: 'look', nodeId });
    await counted;
    expect(await raw.exists(`weft:${NS}:presence:node:${nodeId}`)).toBe(1);
    expect(await raw.exists(`weft:presence:node:${nodeId}`)).toBe(0);
    expect(await raw.hget(`weft:${NS}:presence:index`, nodeId)).toBe(REGION);
  });
});
