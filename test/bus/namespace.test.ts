// WEFT_NAMESPACE: deployments sharing one Redis or NATS keep their messages apart. The whole bus contract holds
// inside a namespace (on Redis), and on Redis and NATS a namespaced bus neither sees nor is seen by another
// namespace or the bare names, while its handlers get the channel names they subscribed to.
import { afterAll, describe, expect, it } from 'vitest';
import type { Bus } from '../../core/bus/adapter.js';
import { NamespacedBus } from '../../core/bus/namespace.js';
import { openBus } from '../../core/bus/open.js';
import { RedisBus } from '../../core/bus/redis.js';
import { busContract, channelName, Collector } from './contract.js';

const REDIS = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const NATS = process.env.NATS_URL || 'nats://127.0.0.1:4222';
const quiet = () => {};

busContract('redis, namespace ns-contract', {
  open: (options) => new NamespacedBus(new RedisBus(REDIS, { log: options?.log ?? quiet }), 'ns-contract'),
  openPeer: () => new NamespacedBus(new RedisBus(REDIS, { log: quiet }), 'ns-contract'),
  childEnv: { BUS_CHILD_KIND: 'redis', REDIS_URL: REDIS, WEFT_NAMESPACE: 'ns-contract' },
});

for (const [kind, env] of [
  ['redis', { REDIS_URL: REDIS }],
  ['nats', { NATS_URL: NATS }],
] as const) {
  describe(`namespaces on ${kind}`, () => {
    const opened: Bus[] = [];
    const open = (namespace?: string): Bus => {
      const bus = openBus({ ...env, WEFT_NAMESPACE: namespace }, { log: quiet });
      opened.push(bus);
      return bus;
    };
    afterAll(async () => {
      await Promise.all(opened.map((b) => b.close()));
    });

    it('delivers within a namespace only, under the bare channel name', async () => {
      const staging = [open('staging'), open('staging')];
      const prod = open('prod');
      const bare = open();
      await Promise.all([...staging, prod, bare].map((b) => b.ready(5000)));
      const channel = channelName('ns');
      const got = {
        staging: new Collector(),
        stagingPrefix: new Collector(),
        prod: new Collector(),
        bare: new Collector(),
        bareAll: new Collector(),
      };
      await staging[1]!.subscribe(channel, got.staging.handler);
      await staging[1]!.subscribePrefix(`${channel.split('.')[0]}.`, got.stagingPrefix.handler);
      await prod.subscribe(channel, got.prod.handler);
      await bare.subscribe(channel, got.bare.handler);
      // what a bare deployment would see of staging's traffic if the names were not kept apart
      await bare.subscribePrefix('staging.', got.bareAll.handler);

      await staging[0]!.publish(channel, 'from staging');
      await prod.publish(channel, 'from prod');
      await bare.publish(channel, 'from bare');
      await got.staging.waitFor(1);
      await got.stagingPrefix.waitFor(1);
      await got.prod.waitFor(1);
      await got.bare.waitFor(1);
      await got.bareAll.waitFor(1);
      await new Promise((r) => setTimeout(r, 200)); // anything misrouted would have arrived by now
      expect(got.staging.got).toEqual([{ message: 'from staging', channel }]);
      expect(got.stagingPrefix.got).toEqual([{ message: 'from staging', channel }]);
      expect(got.prod.got).toEqual([{ message: 'from prod', channel }]);
      expect(got.bare.got).toEqual([{ message: 'from bare', channel }]);
      // on the wire, staging's channel carries its namespace
      expect(got.bareAll.got).toEqual([{ message: 'from staging', channel: `staging.${channel}` }]);
    });
  });
}

describe('WEFT_NAMESPACE values', () => {
  it('refuses what is not one lowercase token, naming the setting', () => {
    for (const bad of ['', 'Prod', 'a.b', 'a b', 'x'.repeat(33), '-lead']) {
      if (bad === '') continue; // unset: the bare names
      expect(() => openBus({ WEFT_NAMESPACE: bad })).toThrow(/^WEFT_NAMESPACE '.*': must be 1–32 of a-z/);
    }
    const bus = openBus({ WEFT_NAMESPACE: 'blue-2' });
    expect(bus.location).toBe('memory (namespace blue-2)');
    return bus.close();
  });
});
