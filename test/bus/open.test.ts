// openBus(): which bus the environment asks for — Redis over NATS over the in-process default.
import { afterEach, describe, expect, it } from 'vitest';
import type { Bus } from '../../core/bus/adapter.js';
import { MemoryBus } from '../../core/bus/memory.js';
import { NatsBus } from '../../core/bus/nats.js';
import { busConfig, openBus } from '../../core/bus/open.js';
import { RedisBus } from '../../core/bus/redis.js';

const REDIS = 'redis://127.0.0.1:6379';
const NATS = 'nats://127.0.0.1:4222';

describe('openBus', () => {
  const opened: Bus[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((b) => b.close()));
  });
  const open = (env: Record<string, string | undefined>) => {
    const bus = openBus(env, { log: () => {} });
    opened.push(bus);
    return bus;
  };

  it('chooses Redis when REDIS_URL is set, even with NATS_URL', async () => {
    expect(busConfig({ REDIS_URL: REDIS, NATS_URL: NATS })).toEqual({ kind: 'redis', url: REDIS });
    const bus = open({ REDIS_URL: REDIS, NATS_URL: NATS });
    expect(bus).toBeInstanceOf(RedisBus);
    expect(bus.location).toBe('redis://127.0.0.1:6379');
    await bus.ready();
  });

  it('chooses NATS when only NATS_URL is set', async () => {
    expect(busConfig({ NATS_URL: NATS, REDIS_URL: '' })).toEqual({ kind: 'nats', url: NATS });
    const bus = open({ NATS_URL: NATS });
    expect(bus).toBeInstanceOf(NatsBus);
    await bus.ready();
  });

  it('falls back to the in-process bus, connected at once', () => {
    expect(busConfig({})).toEqual({ kind: 'memory' });
    const bus = open({ REDIS_URL: '', NATS_URL: '' });
    expect(bus).toBeInstanceOf(MemoryBus);
    expect(bus.kind).toBe('memory');
    expect(bus.isConnected()).toBe(true);
  });
});
