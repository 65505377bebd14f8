// Opens the `db` adapter the environment asks for: PostgreSQL when DATABASE_URL is set, else embedded PGlite.
import { UserError, errorMessage } from '../errors.js';
import { defaultPgliteDir } from '../paths.js';
import type { Db } from './adapter.js';
import { migrate } from './migrate.js';
import { openPglite } from './pglite.js';
import { describeUrl, openPostgres } from './postgres.js';

export interface OpenOptions {
  /** A postgres:// URL; default: $DATABASE_URL. */
  url?: string;
  /** PGlite's folder when there is no URL; default: $WEFT_DATA_DIR or <repo>/.data/pglite. */
  dataDir?: string;
  /** Apply pending migrations (default true). */
  migrate?: boolean;
}

export async function openDb(options: OpenOptions = {}): Promise<Db> {
  const url = options.url ?? (process.env.DATABASE_URL || undefined);
  const db = url ? openPostgres(url) : await openPglite(options.dataDir ?? defaultPgliteDir());
  if (url) {
    try {
      await db.query('SELECT 1');
    } catch (err) {
      await db.close().catch(() => {});
      throw new UserError(
        `cannot connect to DATABASE_URL ${describeUrl(url)}: ${errorMessage(err)}`,
        'db_unavailable',
      );
    }
  }
  if (options.migrate !== false) {
    try {
      await migrate(db);
    } catch (err) {
      await db.close().catch(() => {});
      if (err instanceof UserError) throw err;
      throw new UserError(`migrating ${db.location} failed: ${errorMessage(err)}`, 'migration_failed');
    }
  }
  return db;
}
