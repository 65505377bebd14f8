// The activity build on a real PostgreSQL + PostGIS server (a fresh database per run), and the CLI command.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freshPostgres, postgresUnavailable } from '../db/helpers.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { referenceReader } from '../pmtiles/reference.js';
import { activitySuite } from './suite.js';
import { at, HOUR } from './support.js';

const unavailable = await postgresUnavailable();
if (unavailable) {
  console.warn(`skipping the activity build on PostgreSQL: ${unavailable}`);
  describe.skip(`weft build activity on postgres (${unavailable})`, () => it('needs PostgreSQL', () => {}));
} else {
  activitySuite('postgres', () => freshPostgres());

  describe('weft build activity (CLI, PostgreSQL)', () => {
    const dir = tempDir('weft-activity-cli-');

    it('builds dist/<region>/activity.pmtiles as of --at, and names a bad --at in one line', async () => {
      const t = await freshPostgres();
      try {
        const T = Date.parse('2025-02-01T10:00:00.000Z');
        await at(t.db, T - HOUR, [
          { type: 'RegisterRole', roleId: 'cli-r', regionId: 'monaco', name: 'Cli', area: [7.42, 43.735] },
          {
            type: 'CreateNode',
            nodeId: 'cli-n',
            regionId: 'monaco',
            title: 'Harbour',
            kind: 'place',
            point: [7.425, 43.735],
            authorRoleId: 'cli-r',
          },
          { type: 'EngageThread', roleId: 'cli-r', nodeId: 'cli-n' },
        ]);
        const env = { DATABASE_URL: t.url! };
        const ok = await runCli(
          ['build', 'activity', '--region', 'monaco', '--at', '2025-02-01T10:00:00Z', '-o', dir, '-q'],
          { env },
        );
        expect(ok.stderr).toBe('');
        expect(ok.code).toBe(0);
        expect(existsSync(`${dir}/activity.pmtiles`)).toBe(true);
        expect(existsSync(`${dir}/activity.stats.json`)).toBe(true);
        const meta = (await referenceReader(`${dir}/activity.pmtiles`).getMetadata()) as Record<
          string,
          unknown
        >;
        expect(meta.published_at).toBe('2025-02-01T10:00:00.000Z');
        expect(meta.event_position).toBe(3);

        const bad = await runCli(
          ['build', 'activity', '--region', 'monaco', '--at', 'yesterday-ish', '-o', dir],
          {
            env,
          },
        );
        expect(bad.code).toBe(1);
        expect(bad.stderr.split('\n')[0]).toBe(
          'weft: --at: not a valid time: yesterday-ish (use ISO 8601, e.g. 2025-06-01T12:00:00Z)',
        );
      } finally {
        await t.cleanup();
      }
    });
  });
}
