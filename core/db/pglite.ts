// The `db` adapter on PGlite with PostGIS: embedded PostgreSQL in WebAssembly, data in a folder (or memory).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import type { Transaction } from '@electric-sql/pglite';
import { postgis } from '@electric-sql/pglite-postgis';
import { UserError } from '../errors.js';
import type { Db, Queryable, QueryResult } from './adapter.js';
import { parseInt8 } from './adapter.js';

function wrap(target: PGlite | Transaction): Queryable {
  return {
    async query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      const r = await target.query<T>(sql, params as unknown[] | undefined);
      return { rows: r.rows, rowCount: r.affectedRows || r.rows.length };
    },
    async exec(sql: string): Promise<void> {
      await target.exec(sql);
    },
  };
}

const LOCK_FILE = '.weft-lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the folder for this process: PGlite is one process's database, and two processes writing one folder
 * corrupt it. A lock left by a process that is gone is taken over. Returns the function that releases it.
 */
function lockFolder(dataDir: string): () => void {
  const file = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      const release = () => {
        try {
          if (readFileSync(file, 'utf8') === String(process.pid)) rmSync(file, { force: true });
        } catch {
          // already gone
        }
      };
      process.once('exit', release);
      return () => {
        process.off('exit', release);
        release();
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(pid) && pid !== process.pid && alive(pid))
        throw new UserError(
          `the embedded database in ${dataDir} is in use by process ${pid} (a running weft serve?): stop it ` +
            'first, or use PostgreSQL (DATABASE_URL) to run several processes at once',
          'db_busy',
        );
      rmSync(file, { force: true });
    }
  }
  throw new UserError(`cannot lock the embedded database in ${dataDir}`, 'db_busy');
}

/** Opens (creating when missing) a PGlite database in `dataDir`, or in memory when it is undefined. */
export async function openPglite(dataDir?: string): Promise<Db> {
  let unlock = () => {};
  if (dataDir) {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockFolder(dataDir);
  }
  let db: PGlite;
  try {
    db = await PGlite.create({
      dataDir,
      extensions: { postgis },
      parsers: { [pgliteTypes.INT8]: parseInt8, [pgliteTypes.NUMERIC]: Number },
    });
  } catch (err) {
    unlock();
    throw err;
  }
  const direct = wrap(db);
  return {
    kind: 'pglite',
    location: dataDir ?? 'memory',
    query: direct.query,
    exec: direct.exec,
    transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      return db.transaction((tx) => fn(wrap(tx)));
    },
    async close(): Promise<void> {
      if (!db.closed) await db.close();
      unlock();
    },
  };
}
