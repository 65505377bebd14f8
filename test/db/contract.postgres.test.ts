// The db contract suite on a real PostgreSQL + PostGIS server (a fresh database per run).
import { describe, it } from 'vitest';
import { contractSuite } from './contract.js';
import { freshPostgres, postgresUnavailable } from './helpers.js';

const unavailable = await postgresUnavailable();
if (unavailable) {
  console.warn(`skipping the PostgreSQL contract suite: ${unavailable}`);
  describe.skip(`db contract: postgres (${unavailable})`, () => it('needs PostgreSQL', () => {}));
} else {
  contractSuite('postgres', () => freshPostgres());
}
