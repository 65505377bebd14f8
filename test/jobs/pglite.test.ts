// The fade job on the embedded database (PGlite with PostGIS): the same fade story as on PostgreSQL.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { freshPglite, type TestDb } from '../db/helpers.js';
import { fadeScenario } from './fade-scenario.js';

describe('the fade job on PGlite', () => {
  let tdb: TestDb;
  beforeAll(async () => {
    tdb = await freshPglite();
  }, 300_000);
  afterAll(async () => {
    await tdb?.cleanup();
  });

  it('fades a thread once after seven days, however often it runs, and spares a renewed one', async () => {
    await fadeScenario(tdb.db);
  }, 300_000);
});
