// The bus contract on the in-process bus, plus what only it shows: one process only, buses on a shared hub.
import { describe, expect, it } from 'vitest';
import { MemoryBus, MemoryHub } from '../../core/bus/memory.js';
import { busContract, channelName, Collector } from './contract.js';

const hubs = new WeakMap<MemoryBus, MemoryHub>();

busContract('memory', {
  open: (options) => {
    const hub = new MemoryHub();
    const bus = new MemoryBus({ hub, log: options?.log });
    hubs.set(bus, hub);
    return bus;
  },
  // Two memory buses meet only through a shared hub: within one process, as two servers in one test would.
  openPeer: (first) => new MemoryBus({ hub: hubs.get(first as MemoryBus) }),
  childEnv: { BUS_CHILD_KIND: 'memory' },
});

describe('memory bus', () => {
  it('is one process only: two buses without a shared hub do not see each other', async () => {
    const a = new MemoryBus();
    const b = new MemoryBus();
    const channel = channelName('isolated');
    const atA = new Collector();
    const atB = new Collector();
    await a.subscribe(channel, atA.handler);
    await b.subscribe(channel, atB.handler);
    await a.publish(channel, 'from a');
    await atA.waitFor(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(atB.got).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it('a closed bus on a shared hub stops receiving while the others go on', async () => {
    const hub = new MemoryHub();
    const a = new MemoryBus({ hub });
    const b = new MemoryBus({ hub });
    const channel = channelName('hub-close');
    const atB = new Collector();
    await b.subscribe(channel, atB.handler);
    await a.publish(channel, 'one');
    await atB.waitFor(1);
    await b.close();
    const atC = new Collector();
    const c = new MemoryBus({ hub });
    await c.subscribe(channel, atC.handler);
    await a.publish(channel, 'two');
    expect(await atC.waitFor(1)).toEqual(['two']);
    expect(atB.messages).toEqual(['one']);
    await Promise.all([a.close(), c.close()]);
  });
});
