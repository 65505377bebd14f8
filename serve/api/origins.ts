// The 'origins' service (OriginPolicy): browser origins registered by partners may call the write API (CORS).
// The list is read from the database at most every few seconds; if the database is down the last list stands.
import type { Queryable } from '../../core/db/adapter.js';
import type { Logger } from 'pino';
import { errorMessage } from '../../core/errors.js';
import type { OriginPolicy } from '../ops.js';
import { partnerOrigins } from './credentials.js';

export function createOriginPolicy(
  db: Queryable,
  logger: Logger,
  options: { ttlMs?: number; now?: () => number } = {},
): OriginPolicy & { refresh(): Promise<void> } {
  const ttl = options.ttlMs ?? 10_000;
  const now = options.now ?? Date.now;
  let origins = new Set<string>();
  let loadedAt = -Infinity;
  let warnedAt = -Infinity;
  let loading: Promise<void> | undefined;
  const refresh = (): Promise<void> =>
    (loading ??= partnerOrigins(db)
      .then(
        (list) => {
          origins = new Set(list);
          loadedAt = now();
        },
        (err: unknown) => {
          // keep the last list; try again after a second rather than on every request, warn once a minute
          const t = now();
          loadedAt = t - ttl + 1000;
          if (t - warnedAt >= 60_000) {
            warnedAt = t;
            logger.warn({ component: 'api' }, `reading partner origins failed: ${errorMessage(err)}`);
          }
        },
      )
      .finally(() => {
        loading = undefined;
      }));
  return {
    refresh,
    async allowed(origin: string): Promise<boolean> {
      if (now() - loadedAt >= ttl) await refresh();
      return origins.has(origin);
    },
  };
}
