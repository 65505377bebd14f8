// The bus contract on a real NATS server (NATS_URL, default nats://127.0.0.1:4222), plus what only NATS shows:
// the server's max_payload as the limit, prefixes as `>` subjects readable by any NATS client, an unreachable server.
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusError } from '../../core/bus/adapter.js';
import { DEFAULT_NATS_URL, NatsBus } from '../../core/bus/nats.js';
import { busContract, channelName, Collector, runChild } from './contract.js';

const URL = process.env.NATS_URL || DEFAULT_NATS_URL;
const quiet = () => {};

busContract('nats', {
  open: (options) => new NatsBus(URL, { log: options?.log ?? quiet }),
  openPeer: () => new NatsBus(URL, { log: quiet }),
  childEnv: { BUS_CHILD_KIND: 'nats', NATS_URL: URL },
});

describe('nats bus', () => {
  let raw: NatsConnection;
  let bus: NatsBus;
  beforeAll(async () => {
    raw = await connect({ servers: URL });
    bus = new NatsBus(URL, { log: quiet });
    await bus.ready();
  });
  afterAll(async () => {
    await bus.close();
    await raw.close();
  });

  it("takes the server's max_payload less the one-byte tag as its limit", () => {
    expect(raw.info?.max_payload).toBeGreaterThan(0);
    expect(bus.maxMessageBytes).toBe(raw.info!.max_payload - 1);
  });

  it('a prefix is a `>` subject: messages from a plain NATS client arrive, strings as strings', async () => {
    const root = channelName('raw');
    const c = new Collector();
    await bus.subscribePrefix(`${root}.`, c.handler);
    raw.publish(`${root}.a.b`, new TextEncoder().encode('plain text'));
    await raw.flush();
    await c.waitFor(1);
    expect(c.got).toEqual([{ message: 'plain text', channel: `${root}.a.b` }]);
  });

  it('an unreachable server: ready() and publish() fail clearly, nothing crashes, close() is clean', async () => {
    const logged: string[] = [];
    const dead = new NatsBus('nats://127.0.0.1:1', { log: (level, m) => logged.push(`${level} ${m}`) });
    const err = await dead.ready(400).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusError);
    expect((err as BusError).code).toBe('bus_unavailable');
    expect((err as BusError).message).toContain('nats://127.0.0.1:1');
    expect(await dead.ping(200)).toBe(false);
    const pubErr = await dead.publish('weft-test.dead', 'm').catch((e: unknown) => e);
    expect((pubErr as BusError).code).toBe('bus_unavailable');
    await dead.subscribe('weft-test.dead', () => {});
    expect(logged.some((l) => l.startsWith('warn') && l.includes('connecting failed'))).toBe(true);
    await dead.close();
    expect(dead.state).toBe('closed');
  });

  it('a process whose NATS is unreachable still exits by itself after close()', async () => {
    const res = await runChild({
      BUS_CHILD_KIND: 'nats',
      NATS_URL: 'nats://127.0.0.1:1',
      BUS_CHILD_MODE: 'unreachable',
    });
    expect(res.killed, `the child did not exit; stderr: ${res.stderr}`).toBe(false);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('not ready bus_unavailable');
    expect(res.stdout).toContain('publish bus_unavailable');
    expect(res.lingerMs, 'the child lingered after close(): something was left open').toBeLessThan(1000);
  });
});
