// The bus contract on a real Redis (REDIS_URL, default 127.0.0.1:6379), plus what only Redis shows: one Redis
// subscription per channel however many handlers, plain text from other Redis clients, an unreachable server.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusError } from '../../core/bus/adapter.js';
import { RedisBus } from '../../core/bus/redis.js';
import { busContract, channelName, Collector, runChild } from './contract.js';

const URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const quiet = () => {};

busContract('redis', {
  open: (options) => new RedisBus(URL, { log: options?.log ?? quiet }),
  openPeer: () => new RedisBus(URL, { log: quiet }),
  childEnv: { BUS_CHILD_KIND: 'redis', REDIS_URL: URL },
});

describe('redis bus', () => {
  let raw: Redis;
  let bus: RedisBus;
  beforeAll(async () => {
    raw = new Redis(URL, { lazyConnect: true });
    await raw.connect();
    bus = new RedisBus(URL, { log: quiet });
    await bus.ready();
  });
  afterAll(async () => {
    await bus.close();
    raw.disconnect();
  });

  it('holds one Redis subscription per channel, however many handlers, and drops it with the last', async () => {
    const channel = channelName('numsub');
    const numsub = async () => Number(((await raw.pubsub('NUMSUB', channel)) as [string, number])[1]);
    const offs = await Promise.all([1, 2, 3].map(() => bus.subscribe(channel, () => {})));
    expect(await numsub()).toBe(1);
    await offs[0]!();
    await offs[1]!();
    expect(await numsub()).toBe(1);
    await offs[2]!();
    expect(await numsub()).toBe(0);
  });

  it('a prefix is one PSUBSCRIBE pattern', async () => {
    const prefix = `${channelName('numpat')}.`;
    const before = Number(await raw.pubsub('NUMPAT'));
    const off = await bus.subscribePrefix(prefix, () => {});
    expect(Number(await raw.pubsub('NUMPAT'))).toBe(before + 1);
    await off();
    expect(Number(await raw.pubsub('NUMPAT'))).toBe(before);
  });

  it('strings travel verbatim (readable with redis-cli), bytes with a 0x00 tag; plain text from others arrives', async () => {
    const channel = channelName('wire');
    const sniffer = new Redis(URL);
    const seen: Buffer[] = [];
    sniffer.on('messageBuffer', (_c: Buffer, m: Buffer) => seen.push(m));
    await sniffer.subscribe(channel);
    const c = new Collector();
    await bus.subscribe(channel, c.handler);
    await bus.publish(channel, '{"op":"add"}');
    await bus.publish(channel, Uint8Array.of(7, 8));
    await raw.publish(channel, 'from another client');
    expect(await c.waitFor(3)).toEqual(['{"op":"add"}', Buffer.from([7, 8]), 'from another client']);
    for (let i = 0; i < 100 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    expect(seen.map((b) => b.toString('hex'))).toEqual([
      Buffer.from('{"op":"add"}').toString('hex'),
      '000708',
      Buffer.from('from another client').toString('hex'),
    ]);
    sniffer.disconnect();
  });

  it('an unreachable Redis: ready() and publish() fail clearly, nothing crashes, close() is clean', async () => {
    const logged: string[] = [];
    const dead = new RedisBus('redis://:secret@127.0.0.1:1', {
      log: (level, m) => logged.push(`${level} ${m}`),
    });
    expect(dead.location).toBe('redis://127.0.0.1:1');
    const err = await dead.ready(400).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusError);
    expect((err as BusError).code).toBe('bus_unavailable');
    expect((err as BusError).message).toContain('redis://127.0.0.1:1');
    expect(dead.state).toBe('connecting');
    expect(await dead.ping(200)).toBe(false);
    const pubErr = await dead.publish('weft-test.dead', 'm').catch((e: unknown) => e);
    expect((pubErr as BusError).code).toBe('bus_unavailable');
    // A subscription made while down is kept for when Redis comes (here: never).
    await dead.subscribe('weft-test.dead', () => {});
    expect(logged.some((l) => l.startsWith('warn') && l.includes('ECONNREFUSED'))).toBe(true);
    expect(logged.join('\n')).not.toContain('secret');
    await dead.close();
    expect(dead.state).toBe('closed');
  });

  it('a process whose Redis is unreachable still exits by itself after close()', async () => {
    const res = await runChild({
      BUS_CHILD_KIND: 'redis',
      REDIS_URL: 'redis://127.0.0.1:1',
      BUS_CHILD_MODE: 'unreachable',
    });
    expect(res.killed, `the child did not exit; stderr: ${res.stderr}`).toBe(false);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('not ready bus_unavailable');
    expect(res.stdout).toContain('publish bus_unavailable');
    expect(res.stdout).toContain('closed');
    expect(res.lingerMs, 'the child lingered after close(): something was left open').toBeLessThan(1000);
  });
});
