// `weft publish / promote / rollback / releases` as a user runs them: exit codes, stdout, one-line errors on stderr.
// The audit log goes to a fresh PostgreSQL database when one is reachable, else to PGlite in a temp folder (slower).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../core/db/open.js';
import { listAudit } from '../../core/audit.js';
import { freshPostgres, postgresUnavailable, type TestDb } from '../db/helpers.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { makeArchive } from './fixtures.js';

const dir = tempDir('weft-releases-cli-');
const pgMissing = await postgresUnavailable();
if (pgMissing) console.warn(`note: the CLI release tests use PGlite (${pgMissing})`);

describe('weft release commands', () => {
  let pg: TestDb | undefined;
  let env: Record<string, string>;
  let base: string;
  let activity: string;
  let release = '';

  beforeAll(async () => {
    if (!pgMissing) pg = await freshPostgres();
    env = {
      WEFT_BLOB_DIR: join(dir, 'blob'),
      WEFT_DATA_DIR: join(dir, 'pglite'),
      DATABASE_URL: pg?.url ?? '',
      S3_ENDPOINT: '',
    };
    base = await makeArchive(dir, 'base', 4);
    activity = await makeArchive(dir, 'activity', 3);
  });
  afterAll(async () => {
    await pg?.cleanup();
  });

  it('publish uploads to the configured store and tells how to promote', async () => {
    const r = await runCli(
      [
        'publish',
        '--region',
        'monaco',
        '--base',
        base,
        '--activity',
        activity,
        '--at',
        '2025-06-01T10:00:00Z',
      ],
      { env: { ...env } },
    );
    expect(r.stderr).toContain('uploaded tiles/monaco/base-');
    expect(r.code).toBe(0);
    const m =
      /published release (20250601T100000Z-[0-9a-f]{16}) of monaco to (.*) \(stage staging: 2 uploaded, 0 already stored\)/.exec(
        r.stdout,
      );
    expect(m?.[2]).toBe(join(dir, 'blob'));
    release = m![1]!;
    expect(r.stdout).toContain(`promote it with: weft promote --region monaco --release ${release}`);
    const list = await runCli(['releases', '--region', 'monaco', '--json'], { env });
    expect(list.code).toBe(0);
    const records = list.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records).toMatchObject([
      { release, stage: 'staging', current: false, at: '2025-06-01T10:00:00.000Z' },
    ]);
  });

  it('promote makes it prod; the listing marks it; rollback has nowhere to go and says so on one line', async () => {
    const p = await runCli(['promote', '--region', 'monaco', '--release', release, '--actor', 'bob'], {
      env,
    });
    expect(p.code).toBe(0);
    expect(p.stdout).toBe(`release ${release} of monaco is prod\n`);
    const table = await runCli(['releases', '--region', 'monaco'], { env });
    expect(table.stdout.split('\n')[1]).toMatch(
      new RegExp(`^${release}  prod \\*  2025-06-01T10:00:00.000Z  `),
    );
    const back = await runCli(['rollback', '--region', 'monaco'], { env });
    expect(back.code).toBe(1);
    expect(back.stderr).toBe(
      `weft: cannot roll back region monaco: its prod release ${release} was promoted when nothing was in prod, ` +
        `so there is no earlier release\n`,
    );
    const missing = await runCli(
      ['promote', '--region', 'monaco', '--release', '20990101T000000Z-0000000000000000'],
      {
        env,
      },
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /^weft: release 20990101T000000Z-0000000000000000 of region monaco not found in .*\n$/,
    );
    if (pg) {
      const rows = await listAudit(pg.db, { action: 'release.promote' });
      expect(rows.map((x) => [x.subject, x.actor])).toEqual([[`monaco/${release}`, 'bob']]);
    } else {
      const db = await openDb({ url: '', dataDir: env.WEFT_DATA_DIR });
      try {
        expect((await listAudit(db, { action: 'release.promote' })).map((x) => x.actor)).toEqual(['bob']);
      } finally {
        await db.close();
      }
    }
  });

  it('a bad --at is a usage error', async () => {
    const r = await runCli(['publish', '--region', 'monaco', '--at', 'yesterday'], { env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `option '--at <time>' argument 'yesterday' is invalid. must be an ISO 8601 time`,
    );
  });
});
