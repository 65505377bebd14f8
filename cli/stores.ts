// Opens the configured stores for a command and closes them afterwards; the adapters load only when a command runs.
import type { BlobStore } from '../core/blob/adapter.js';
import type { Db } from '../core/db/adapter.js';

/** Opens the database (PostgreSQL or embedded PGlite, migrated unless told not to), runs `fn`, closes it. */
export async function withDb<T>(fn: (db: Db) => Promise<T>, migrate = true): Promise<T> {
  const { openDb } = await import('../core/db/open.js');
  const db = await openDb({ migrate });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** Opens the blob store and the database, runs `fn`, closes both. */
export async function withStores<T>(fn: (db: Db, blob: BlobStore) => Promise<T>): Promise<T> {
  const { openBlobStore } = await import('../core/blob/open.js');
  const blob = openBlobStore();
  try {
    return await withDb((db) => fn(db, blob));
  } finally {
    await blob.close();
  }
}
