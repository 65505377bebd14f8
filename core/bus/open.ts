// Opens the configured bus: Redis pub/sub when REDIS_URL is set, else NATS when NATS_URL is set, else the
// in-process bus (one process only); with WEFT_NAMESPACE, inside that deployment's namespace.
import type { Bus, BusLogger } from './adapter.js';
import { MemoryBus } from './memory.js';
import { checkNamespace, NamespacedBus } from './namespace.js';
import { NatsBus } from './nats.js';
import { RedisBus } from './redis.js';

type Env = Record<string, string | undefined>;

export interface OpenBusOptions {
  log?: BusLogger;
}

/** Which bus the environment asks for, and where. */
export function busConfig(env: Env = process.env): { kind: Bus['kind']; url?: string } {
  if (env.REDIS_URL) return { kind: 'redis', url: env.REDIS_URL };
  if (env.NATS_URL) return { kind: 'nats', url: env.NATS_URL };
  return { kind: 'memory' };
}

/**
 * The bus the environment asks for. It connects in the background (retrying until closed); await `ready()`
 * before relying on it, and `close()` it on shutdown.
 */
export function openBus(env: Env = process.env, options: OpenBusOptions = {}): Bus {
  const config = busConfig(env);
  const namespace = env.WEFT_NAMESPACE ? checkNamespace(env.WEFT_NAMESPACE) : undefined;
  const bus =
    config.kind === 'redis'
      ? new RedisBus(config.url!, { log: options.log })
      : config.kind === 'nats'
        ? new NatsBus(config.url!, { log: options.log })
        : new MemoryBus({ log: options.log });
  return namespace ? new NamespacedBus(bus, namespace) : bus;
}
