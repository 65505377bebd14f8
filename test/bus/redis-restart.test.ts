// A Redis restart under a live bus: the same RedisBus notices the loss, refuses publishes while Redis is down,
// reconnects, re-subscribes its channels and prefixes, and receives what is published after the restart.
// It briefly (~0.3 s) takes down the machine's Redis with CI's own start command, so it lives in a file of its
// own, waits until no other client uses Redis before it starts, and always starts Redis again, even on failure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusError, type BusState } from '../../core/bus/adapter.js';
import { RedisBus } from '../../core/bus/redis.js';
import { channelName, Collector } from './contract.js';
import {
  cannotRestartRedis,
  ensureRedisRunning,
  redisRunId,
  restartRedis,
  waitForRedisIdle,
} from './redis-server.js';

const URL = 'redis://127.0.0.1:6379';
const skipReason = await cannotRestartRedis();
if (skipReason) console.warn(`skipping the Redis restart test: ${skipReason}`);

function waitForState(states: BusState[], want: BusState, from: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (states.slice(from).includes(want)) return resolve();
      if (Date.now() > until)
        return reject(new Error(`bus did not become ${want}; states: ${states.join(', ')}`));
      setTimeout(check, 10);
    };
    check();
  });
}

describe.skipIf(skipReason !== undefined)('redis bus across a Redis restart', () => {
  const logged: string[] = [];
  let bus: RedisBus;
  let peer: RedisBus;

  beforeAll(async () => {
    // Other test files may be using Redis right now (the suite runs files in parallel): let them finish first.
    if (!(await waitForRedisIdle()))
      console.warn('Redis still has other clients after 90 s; restarting anyway');
    bus = new RedisBus(URL, { log: (level, m) => logged.push(`${level} ${m}`) });
    peer = new RedisBus(URL, { log: () => {} });
    await Promise.all([bus.ready(), peer.ready()]);
  });

  afterAll(async () => {
    await ensureRedisRunning();
    await Promise.all([bus?.close(), peer?.close()]);
  });

  it('keeps its subscriptions: messages published after the restart arrive on the same Bus', async () => {
    const channel = channelName('restart');
    const root = channelName('restart-prefix');
    const exact = new Collector();
    const byPrefix = new Collector();
    await bus.subscribe(channel, exact.handler);
    await bus.subscribePrefix(`${root}.`, byPrefix.handler);
    const states: BusState[] = [];
    bus.onStateChange((s) => states.push(s));

    await peer.publish(channel, 'before');
    expect(await exact.waitFor(1)).toEqual(['before']);
    const runBefore = await redisRunId();

    let refused: unknown;
    const { downMs } = await restartRedis(async () => {
      await waitForState(states, 'disconnected', 0, 5000);
      refused = await bus.publish(channel, 'while down').catch((e: unknown) => e);
    });
    console.log(`Redis was down for ${downMs} ms`);
    expect(await redisRunId()).not.toBe(runBefore); // a real restart: a new server process
    expect(refused).toBeInstanceOf(BusError);
    expect((refused as BusError).code).toBe('bus_unavailable');

    // The same Bus objects come back by themselves: no re-creation, no new subscribe() call.
    await waitForState(states, 'connected', states.indexOf('disconnected'), 15_000);
    await peer.ready(15_000);
    expect(bus.isConnected()).toBe(true);
    expect(await bus.ping()).toBe(true);

    const after = Array.from({ length: 100 }, (_, i) => `after-${i}`);
    for (const m of after) await peer.publish(channel, m);
    await peer.publish(`${root}.x`, 'prefix after');
    await bus.publish(channel, 'own after'); // its publisher connection is back too
    expect(await exact.waitFor(102, 10_000)).toEqual(['before', ...after, 'own after']);
    expect(await byPrefix.waitFor(1)).toEqual(['prefix after']);
    expect(states).toEqual(['disconnected', 'connected']);
    expect(logged.some((l) => l.startsWith('warn') && l.includes('connection lost'))).toBe(true);
  });
});
