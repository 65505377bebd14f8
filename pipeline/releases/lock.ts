// One release operation per region at a time: a transaction holding a PostgreSQL advisory lock on the region,
// so that concurrent publishes and promotions never interleave their tag changes.
import type { Db, Queryable } from '../../core/db/adapter.js';

/** Runs `fn` in a transaction that first takes the region's release lock (released at commit or rollback). */
export function withReleaseLock<T>(db: Db, region: string, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`weft.releases/${region}`]);
    return fn(tx);
  });
}
