// The secret salt of home coarsening: $WEFT_HOME_SALT, or a random one kept in this database's private settings.
import type { Queryable } from '../db/adapter.js';

export async function homeSalt(q: Queryable): Promise<string> {
  const fromEnv = process.env.WEFT_HOME_SALT;
  if (fromEnv) return fromEnv;
  await q.query(
    `INSERT INTO private_settings (key, value) VALUES ('home_salt', gen_random_uuid()::text || gen_random_uuid()::text)
     ON CONFLICT (key) DO NOTHING`,
  );
  const { rows } = await q.query<{ value: string }>(
    `SELECT value FROM private_settings WHERE key = 'home_salt'`,
  );
  return rows[0]!.value;
}
