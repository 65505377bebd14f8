// Calls to Redis that must never fail a request: bounded in time, and on any failure the caller falls back to
// in-process state; the failure is logged as a warning at most once a minute per purpose.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { errorMessage } from '../../core/errors.js';

/** How long a Redis call may take before the in-process fallback answers instead. */
export const REDIS_TIMEOUT_MS = 250;
const WARN_EVERY_MS = 60_000;

export type Attempt<T> = { ok: true; value: T } | { ok: false; error: string };

/** Runs `fn` on the client within `timeoutMs`; never rejects. */
export function tryRedis<T>(
  redis: Redis,
  fn: (r: Redis) => Promise<T>,
  timeoutMs = REDIS_TIMEOUT_MS,
): Promise<Attempt<T>> {
  return new Promise((resolve) => {
    const timer = setTimeout(
      () => resolve({ ok: false, error: `no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    let p: Promise<T>;
    try {
      p = fn(redis);
    } catch (err) {
      clearTimeout(timer);
      resolve({ ok: false, error: errorMessage(err) });
      return;
    }
    p.then(
      (value) => {
        clearTimeout(timer);
        resolve({ ok: true, value });
      },
      (err: unknown) => {
        clearTimeout(timer);
        resolve({ ok: false, error: errorMessage(err) });
      },
    );
  });
}

/** A warning logger that speaks at most once a minute (a Redis outage would otherwise log every request). */
export function throttledWarning(logger: Logger, what: string): (error: string) => void {
  let last = -Infinity;
  return (error) => {
    const now = Date.now();
    if (now - last < WARN_EVERY_MS) return;
    last = now;
    logger.warn({ component: 'api' }, `${what}: Redis unavailable (${error}); using in-process state`);
  };
}
