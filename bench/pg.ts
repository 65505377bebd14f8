// The database a PostgreSQL benchmark runs on: DATABASE_URL when set, else a fresh weft_bench_<random> database on
// the local server (WEFT_BENCH_ADMIN_URL names the server's admin connection), dropped by `drop()`.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const ADMIN_URL = process.env.WEFT_BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export interface BenchDatabase {
  url: string;
  /** true when the benchmark created the database (and `drop()` removes it) */
  fresh: boolean;
  drop(): Promise<void>;
}

export async function benchDatabase(): Promise<BenchDatabase> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, fresh: false, drop: async () => {} };
  const name = `weft_bench_${randomBytes(5).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    fresh: true,
    drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
