// Applies the ordered, versioned migrations of sql/ (NNN_name.sql) once each, recorded in schema_migrations.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { sqlDir } from '../paths.js';
import type { Db } from './adapter.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

const FILE = /^(\d{3})_([a-z0-9_]+)\.sql$/;
/** Any constant: every migrating process takes this transaction-level advisory lock first. */
const LOCK_KEY = 0x77656674; // 'weft'

/** The migrations in `dir`, ordered by version; versions must be unique. */
export function loadMigrations(dir = sqlDir()): Migration[] {
  const out: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    const m = FILE.exec(file);
    if (!m) continue;
    const sql = readFileSync(path.join(dir, file), 'utf8');
    const version = Number(m[1]);
    if (out.some((x) => x.version === version)) throw new Error(`${dir}: two migrations numbered ${m[1]}`);
    out.push({ version, name: m[2]!, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return out;
}

export interface MigrateResult {
  applied: Migration[];
  /** How many were already applied. */
  present: number;
}

/**
 * Brings the database to the newest migration, all pending ones in one transaction (all or nothing).
 * Safe to run twice and from concurrent processes (an advisory lock serialises them).
 * An applied migration whose file changed since is an error: migrations are never edited, only added.
 */
export async function migrate(db: Db, migrations = loadMigrations()): Promise<MigrateResult> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version     integer     PRIMARY KEY,
      name        text        NOT NULL,
      checksum    text        NOT NULL,
      applied_at  timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await tx.query<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
    );
    const done = new Map(rows.map((r) => [r.version, r]));
    for (const m of migrations) {
      const had = done.get(m.version);
      if (had && had.checksum !== m.checksum) {
        throw new UserError(
          `migration ${String(m.version).padStart(3, '0')}_${m.name}.sql changed after it was applied to ${db.location}; ` +
            'add a new migration instead (or start from an empty database)',
          'migration_changed',
        );
      }
    }
    const known = new Set(migrations.map((m) => m.version));
    const unknown = rows.filter((r) => !known.has(r.version));
    if (unknown.length) {
      throw new UserError(
        `the database at ${db.location} has migration ${unknown[0]!.version} (${unknown[0]!.name}) that this weft does not know; upgrade weft`,
        'migration_unknown',
      );
    }
    const applied: Migration[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        m.checksum,
      ]);
      applied.push(m);
    }
    if (applied.length) {
      await tx.query(
        `INSERT INTO audit_log (actor, action, subject, details) VALUES ('system', 'db.migrate', $1, $2)`,
        [
          applied.map((m) => m.version).join(','),
          JSON.stringify({ applied: applied.map((m) => `${String(m.version).padStart(3, '0')}_${m.name}`) }),
        ],
      );
    }
    return { applied, present: done.size };
  });
}
