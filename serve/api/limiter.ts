// Write rate limits: fixed windows counted per bucket (client address, its /24 or /48 network, a partner), in
// Redis when configured (one Lua call: INCR + PEXPIRE per bucket, shared by every server instance), else in
// process. A Redis failure falls back to the in-process count and is logged; it never fails the write.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { throttledWarning, tryRedis } from './redis-try.js';

export interface Bucket {
  /** e.g. 'ip', 'network', 'partner' (named in the 429 message) */
  scope: string;
  /** the counted identity, e.g. '203.0.113.7' */
  id: string;
  limit: number;
}

export type LimitDecision = { allowed: true } | { allowed: false; scope: string; retryAfterS: number };

/** The fixed window `now` falls in, and the seconds until it ends (at least 1). */
export function windowOf(nowMs: number, windowMs: number): { index: number; retryAfterS: number } {
  const index = Math.floor(nowMs / windowMs);
  return { index, retryAfterS: Math.max(1, Math.ceil(((index + 1) * windowMs - nowMs) / 1000)) };
}

/** The first bucket whose count went over its limit, or allowed. */
export function decide(buckets: Bucket[], counts: number[], retryAfterS: number): LimitDecision {
  for (const [i, b] of buckets.entries()) {
    if ((counts[i] ?? 0) > b.limit) return { allowed: false, scope: b.scope, retryAfterS };
  }
  return { allowed: true };
}

/** In-process counts of the current window only (older windows are dropped whole). */
export class MemoryCounter {
  private index = -1;
  private counts = new Map<string, number>();

  hit(keys: string[], index: number): number[] {
    if (index !== this.index) {
      this.index = index;
      this.counts = new Map();
    }
    return keys.map((k) => {
      const n = (this.counts.get(k) ?? 0) + 1;
      this.counts.set(k, n);
      return n;
    });
  }

  get size(): number {
    return this.counts.size;
  }
}

const HIT_SCRIPT = `local out = {}
for i, k in ipairs(KEYS) do
  local n = redis.call('INCR', k)
  if n == 1 then redis.call('PEXPIRE', k, ARGV[1]) end
  out[i] = n
end
return out`;

export interface RateLimiterOptions {
  windowMs: number;
  redis?: Redis;
  /** Redis key prefix (default 'weft:') */
  prefix?: string;
  logger: Logger;
  now?: () => number;
}

export class RateLimiter {
  private readonly memory = new MemoryCounter();
  private readonly warn: (error: string) => void;
  private readonly now: () => number;
  private readonly prefix: string;

  constructor(private readonly options: RateLimiterOptions) {
    this.warn = throttledWarning(options.logger, 'rate limiter');
    this.now = options.now ?? Date.now;
    this.prefix = options.prefix ?? 'weft:';
  }

  /** Counts one request in every bucket and says whether it may go on. */
  async hit(buckets: Bucket[]): Promise<LimitDecision> {
    const { windowMs, redis } = this.options;
    const { index, retryAfterS } = windowOf(this.now(), windowMs);
    const keys = buckets.map((b) => `${this.prefix}rl:${b.scope}:${b.id}:${index}`);
    if (redis) {
      const r = await tryRedis(redis, (c) => c.eval(HIT_SCRIPT, keys.length, ...keys, windowMs + 1000));
      if (r.ok) return decide(buckets, (r.value as number[]).map(Number), retryAfterS);
      this.warn(r.error);
    }
    return decide(buckets, this.memory.hit(keys, index), retryAfterS);
  }
}
