// Remembers the partner signatures seen within the timestamp window, so a captured request cannot be sent
// again: in Redis (SET NX PX, shared by every instance) when configured, and always in process too (so a
// signature seen while Redis was down is still refused after it comes back).
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { throttledWarning, tryRedis } from './redis-try.js';

export interface ReplayCacheOptions {
  /** How long a signature is remembered (at least the whole ± window: 2 × 300 s). */
  ttlMs: number;
  redis?: Redis;
  prefix?: string;
  logger: Logger;
  now?: () => number;
}

export class ReplayCache {
  private readonly seen = new Map<string, number>();
  private nextSweep = 0;
  private readonly warn: (error: string) => void;
  private readonly now: () => number;

  constructor(private readonly options: ReplayCacheOptions) {
    this.warn = throttledWarning(options.logger, 'replay cache');
    this.now = options.now ?? Date.now;
  }

  /** True the first time `id` is presented within the TTL; false for a replay. Remembers it either way. */
  async first(id: string): Promise<boolean> {
    const now = this.now();
    this.sweep(now);
    const expires = this.seen.get(id);
    if (expires !== undefined && expires > now) return false;
    this.seen.set(id, now + this.options.ttlMs);
    const { redis, ttlMs } = this.options;
    if (!redis) return true;
    const key = `${this.options.prefix ?? 'weft:'}sig:${id}`;
    const r = await tryRedis(redis, (c) => c.set(key, '1', 'PX', ttlMs, 'NX'));
    if (!r.ok) {
      this.warn(r.error);
      return true;
    }
    return r.value === 'OK';
  }

  private sweep(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + 10_000;
    for (const [k, exp] of this.seen) if (exp <= now) this.seen.delete(k);
  }

  get size(): number {
    return this.seen.size;
  }
}
