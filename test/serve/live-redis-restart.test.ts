// Live deltas across a Redis restart (the Redis bus): a client that stays connected gets every delta exactly once
// and in order (the server catches it up from the event store when the bus is back); writes made while Redis is
// down stay in the outbox and are published afterwards; a client that was away resumes with `since` and gets
// exactly the 100 events it missed, then live ones. It stops the machine's Redis with CI's own start command, so
// it runs alone (the Makefile runs *restart*.test.ts files after the rest) and always starts Redis again.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusState } from '../../core/bus/adapter.js';
import { RedisBus } from '../../core/bus/redis.js';
import { executeCommand } from '../../core/domain/execute.js';
import { need } from '../../serve/context.js';
import { LiveClient } from '../../serve/live/client.js';
import { createLiveModule, type OutboxService } from '../../serve/live/module.js';
import {
  cannotRestartRedis,
  ensureRedisRunning,
  redisRunId,
  restartRedis,
  waitForRedisIdle,
} from '../bus/redis-server.js';
import { startTestServer, type TestServer } from './server.js';

const URL = 'redis://127.0.0.1:6379';
const REGION = `r${randomBytes(5).toString('hex')}`;
const skipReason = await cannotRestartRedis();
if (skipReason) console.warn(`skipping the live Redis restart test: ${skipReason}`);

describe.skipIf(skipReason !== undefined)('live deltas across a Redis restart', () => {
  let s: TestServer;
  let bus: RedisBus;
  let role: string;
  const clients: LiveClient[] = [];

  const write = async (title: string, i: number) => {
    const r = await executeCommand(s.db, {
      command: {
        type: 'CreateNode',
        regionId: REGION,
        title,
        point: [7.41 + (i % 50) * 0.0005, 43.73],
        authorRoleId: role,
      },
      actor: 'operator:test',
    });
    need<OutboxService>(s.ctx, 'outbox').nudge();
    return r.events[0]!.position;
  };
  const unpublished = async () =>
    (await s.db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL'))
      .rows[0]!.n;

  beforeAll(async () => {
    if (!(await waitForRedisIdle()))
      console.warn('Redis still has other clients after 90 s; restarting anyway');
    bus = new RedisBus(URL, { log: () => {} });
    await bus.ready();
    s = await startTestServer({
      bus,
      modules: [(ctx) => createLiveModule(ctx, { publisher: { pollMs: 100, maxBackoffMs: 500 } })],
    });
    const r = await executeCommand(s.db, {
      command: { type: 'RegisterRole', regionId: REGION, name: 'Ana', area: [7.42, 43.735] },
      actor: 'operator:test',
    });
    role = r.ids.roleId!;
  });

  afterAll(async () => {
    await ensureRedisRunning();
    for (const c of clients) await c.close().catch(() => {});
    await s?.stop();
    await bus?.close();
  });

  it('loses nothing and duplicates nothing; a resumed client gets exactly the 100 it missed', async () => {
    const steady = await LiveClient.connect(s.url, { region: REGION });
    const away = await LiveClient.connect(s.url, { region: REGION });
    clients.push(steady, away);
    const start = await write('before', 0);
    await Promise.all([steady.delta(start), away.delta(start)]);
    await away.close();

    const missed: number[] = [];
    for (let i = 0; i < 50; i++) missed.push(await write(`before the restart ${i}`, i));
    await steady.delta(missed.at(-1)!);
    const states: BusState[] = [];
    bus.onStateChange((st) => states.push(st));
    const runBefore = await redisRunId();

    let pendingWhileDown = 0;
    await restartRedis(async () => {
      // the bus notices, then writes go on: the publisher cannot publish them and keeps them in the outbox
      for (let i = 0; i < 100 && !states.includes('disconnected'); i++)
        await new Promise((r) => setTimeout(r, 20));
      for (let i = 50; i < 100; i++) missed.push(await write(`while Redis is down ${i}`, i));
      pendingWhileDown = await unpublished();
    });
    expect(await redisRunId()).not.toBe(runBefore);
    expect(states).toContain('disconnected');
    expect(pendingWhileDown).toBeGreaterThan(0);

    // the steady client is caught up (from the store when the bus is back, or by the republished deltas)
    await steady.delta(missed.at(-1)!, 20_000);
    await bus.ready(15_000);
    for (let i = 0; i < 100 && (await unpublished()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await unpublished()).toBe(0);
    // the server noticed the bus coming back and caught its subscribers up from the store
    expect(s.logs.some((l) => String(l.msg).includes('bus is back'))).toBe(true);

    const back = await LiveClient.connect(s.url, { region: REGION, since: start });
    clients.push(back);
    const caught = await back.waitFor((m) => m.type === 'caught-up', 10_000);
    expect(caught.message).toEqual({ type: 'caught-up', position: missed.at(-1) });
    expect(back.deltas().map((d) => d.position)).toEqual(missed);

    const after = await write('after the restart', 0);
    await Promise.all([steady.delta(after, 5000), back.delta(after, 5000)]);
    await new Promise((r) => setTimeout(r, 300)); // room for a late duplicate
    expect(steady.deltas().map((d) => d.position)).toEqual([start, ...missed, after]);
    expect(back.deltas().map((d) => d.position)).toEqual([...missed, after]);
    // the same text whichever way a delta came (live, caught up after the restart, or replayed)
    const byPos = new Map(
      steady.received.map((r) => [(r.message as { position?: number }).position, r.text]),
    );
    for (const r of back.received.filter((x) => x.message.type === 'delta'))
      expect(r.text).toBe(byPos.get((r.message as { position: number }).position));
  });
});
