// Releases with the audit log on a real PostgreSQL: audit rows of publish/promote/rollback, and concurrent
// promotions of one region serialised by the release lock (exactly one prod release afterwards).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../core/audit.js';
import { LocalBlobStore } from '../../core/blob/local.js';
import { freshPostgres, postgresUnavailable, type TestDb } from '../db/helpers.js';
import { tempDir } from '../helpers/tmp.js';
import { currentProdRelease, listReleases } from '../../pipeline/releases/catalog.js';
import { promoteRelease, rollbackRelease } from '../../pipeline/releases/promote.js';
import { publishRelease } from '../../pipeline/releases/publish.js';
import { makeArchive, tagSnapshot } from './fixtures.js';

const why = await postgresUnavailable();
if (why) console.warn(`skipped: releases on PostgreSQL (${why})`);

describe.skipIf(Boolean(why))('releases on PostgreSQL', () => {
  const dir = tempDir('weft-releases-pg-');
  let tdb: TestDb;
  let base: string;
  const activity: string[] = [];
  beforeAll(async () => {
    tdb = await freshPostgres();
    base = await makeArchive(dir, 'base', 5);
    for (let i = 0; i < 3; i++) activity.push(await makeArchive(dir, `activity${i}`, 2 + i));
  });
  afterAll(async () => {
    await tdb?.cleanup();
  });

  it('writes an audit row for every publish, promote and rollback', async () => {
    const blob = new LocalBlobStore(join(dir, 'audit-blob'));
    const ctx = { blob, db: tdb.db, region: 'monaco', actor: 'alice' };
    const a = await publishRelease({
      ...ctx,
      at: new Date('2025-05-01T10:00:00Z'),
      base,
      activity: activity[0],
    });
    await promoteRelease({ ...ctx, release: a.release });
    const b = await publishRelease({
      ...ctx,
      at: new Date('2025-05-01T11:00:00Z'),
      base,
      activity: activity[1],
    });
    await promoteRelease({ ...ctx, release: b.release });
    await rollbackRelease(ctx);
    const rows = (await listAudit(tdb.db)).filter((r) => r.action.startsWith('release.')).reverse();
    expect(rows.map((r) => [r.action, r.subject, r.actor])).toEqual([
      ['release.publish', `monaco/${a.release}`, 'alice'],
      ['release.promote', `monaco/${a.release}`, 'alice'],
      ['release.publish', `monaco/${b.release}`, 'alice'],
      ['release.promote', `monaco/${b.release}`, 'alice'],
      ['release.rollback', `monaco/${a.release}`, 'alice'],
    ]);
    expect(rows[3]!.details).toMatchObject({ retired: [a.release], wasProd: false });
    expect(rows[0]!.details).toMatchObject({ files: a.manifest.files, at: '2025-05-01T10:00:00.000Z' });
  });

  it('two promotions racing for one region end with exactly one prod release, consistently tagged', async () => {
    const blob = new LocalBlobStore(join(dir, 'race-blob'));
    const other = await tdb.reopen();
    try {
      const ctx = { blob, region: 'monaco' };
      const ids: string[] = [];
      for (let i = 0; i < 3; i++)
        ids.push(
          (
            await publishRelease({
              ...ctx,
              db: tdb.db,
              at: new Date(`2025-05-02T1${i}:00:00Z`),
              base,
              activity: activity[i],
            })
          ).release,
        );
      await Promise.all([
        promoteRelease({ ...ctx, db: tdb.db, release: ids[1]! }),
        promoteRelease({ ...ctx, db: other, release: ids[2]! }),
      ]);
      const prod = (await listReleases(blob, 'monaco')).filter((r) => r.stage === 'prod');
      expect(prod).toHaveLength(1);
      const current = await currentProdRelease(blob, 'monaco');
      expect(current?.release).toBe(prod[0]!.id);
      const tags = await tagSnapshot(blob);
      const prodKeys = Object.keys(tags).filter((k) => tags[k]!.stage === 'prod');
      expect(prodKeys.sort()).toEqual(
        [...current!.files.map((f) => f.key), `releases/monaco/${current!.release}.json`].sort(),
      );
    } finally {
      await other.close();
    }
  });
});
