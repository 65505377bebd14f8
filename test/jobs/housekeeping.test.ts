// Housekeeping on the local blob folder and on a real S3 server (s3rver): it keeps prod, the previous prod and the
// N newest releases, deletes older staging and retired releases — never an archive a kept release shares — and
// writes one audit row. What is left is checked without our adapter (files on disk, a plain S3 client).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../core/audit.js';
import type { Db } from '../../core/db/adapter.js';
import { planReleases } from '../../jobs/housekeeping-plan.js';
import { runHousekeeping } from '../../jobs/housekeeping.js';
import type { ReleaseEntry } from '../../pipeline/releases/catalog.js';
import { currentProdRelease, listReleases } from '../../pipeline/releases/catalog.js';
import { manifestKey } from '../../pipeline/releases/manifest.js';
import { promoteRelease, rollbackRelease } from '../../pipeline/releases/promote.js';
import { publishRelease, type PublishResult } from '../../pipeline/releases/publish.js';
import { startS3rver, type RunningS3 } from '../blob/s3rver.js';
import { freshPostgres, postgresUnavailable, type TestDb } from '../db/helpers.js';
import { tempDir } from '../helpers/tmp.js';
import { localSubject, makeArchive, s3Subject, type Subject } from '../releases/fixtures.js';

const why = await postgresUnavailable();
if (why) console.warn(`skipped: housekeeping (${why})`);

const dir = tempDir('weft-housekeeping-');
let tdb: TestDb;
let server: RunningS3 | undefined;
let base: string;
const activity: string[] = [];

async function exists(s: Subject, key: string): Promise<boolean> {
  return s.rawBytes(key).then(
    () => true,
    () => false,
  );
}

function housekeepingSuite(name: string, subject: () => Promise<Subject>, day: string): void {
  describe(`housekeeping on ${name}`, () => {
    let s: Subject;
    let db: Db;
    const region = 'monaco';
    const r: PublishResult[] = [];
    const T = (h: number) => new Date(`${day}T${String(h).padStart(2, '0')}:00:00.000Z`);

    beforeAll(async () => {
      s = await subject();
      db = tdb.db;
      const ctx = { blob: s.store, db, region };
      // R1..R6 share one base archive; R6 publishes R4's activity archive again (same key) at a later T
      const acts = [activity[0], activity[1], activity[2], activity[3], activity[4], activity[3]];
      for (const [i, act] of acts.entries())
        r.push(await publishRelease({ ...ctx, at: T(i + 1), base, activity: act }));
      // R1 prod, then R2 (R1 retired), then R3 (R2 retired): weeks ago
      for (const [i, rel] of r.slice(0, 3).entries())
        await promoteRelease({
          ...ctx,
          release: rel.release,
          now: new Date(Date.parse(`${day}T00:00:00Z`) - (30 - i) * 86_400_000),
        });
    });
    afterAll(async () => {
      await s?.close();
    });

    it('a dry run says what would go and deletes nothing', async () => {
      const before = (await listReleases(s.store, region)).length;
      const res = await runHousekeeping({
        db,
        blob: s.store,
        regions: [region],
        policy: { keepRecent: 2 },
        dryRun: true,
      });
      expect(res.regions[0]!.removed.sort()).toEqual([r[0]!.release, r[3]!.release].sort());
      expect((await listReleases(s.store, region)).length).toBe(before);
      for (const rel of r) expect(await exists(s, rel.manifestKey)).toBe(true);
    });

    it('keeps prod, the previous prod and the newest releases; deletes the rest but never a shared archive', async () => {
      const res = await runHousekeeping({ db, blob: s.store, regions: [region], policy: { keepRecent: 2 } });
      const decisions = Object.fromEntries(res.regions[0]!.releases.map((d) => [d.id, d]));
      expect(decisions[r[2]!.release]!.why).toContain('prod');
      expect(decisions[r[1]!.release]!.why).toContain('previous prod');
      expect(decisions[r[5]!.release]!.why).toContain('one of the 2 newest');
      expect(decisions[r[4]!.release]!.why).toContain('one of the 2 newest');
      expect(decisions[r[0]!.release]).toMatchObject({ keep: false, stage: 'retired' });
      expect(decisions[r[3]!.release]).toMatchObject({ keep: false, stage: 'staging' });

      const file = (rel: PublishResult, layer: 'base' | 'activity') =>
        rel.manifest.files.find((f) => f.layer === layer)!.key;
      // gone: the two manifests and R1's own activity archive
      for (const key of [r[0]!.manifestKey, r[3]!.manifestKey, file(r[0]!, 'activity')])
        expect(await exists(s, key), key).toBe(false);
      // kept: every kept release's manifest and archives, including R4's activity that R6 shares, and the base
      for (const rel of [r[1]!, r[2]!, r[4]!, r[5]!])
        for (const key of [rel.manifestKey, file(rel, 'base'), file(rel, 'activity')])
          expect(await exists(s, key), key).toBe(true);
      expect(file(r[3]!, 'activity')).toBe(file(r[5]!, 'activity'));
      expect(res.regions[0]!.sparedShared).toEqual(
        expect.arrayContaining([file(r[3]!, 'activity'), file(r[0]!, 'base')]),
      );
      expect((await listReleases(s.store, region)).map((e) => e.id).sort()).toEqual(
        [r[1]!, r[2]!, r[4]!, r[5]!].map((x) => x.release).sort(),
      );

      // the audit row says what was kept and why, and what went
      const row = (await listAudit(db, { action: 'job.housekeeping' }))[0]!;
      expect(row.details).toMatchObject({
        dryRun: false,
        keepRecent: 2,
        regions: {
          monaco: { removed: expect.arrayContaining([r[0]!.release, r[3]!.release]), deletedObjects: 3 },
        },
      });
      // prod is untouched and a rollback to the kept previous prod still works
      expect((await currentProdRelease(s.store, region))?.release).toBe(r[2]!.release);
      await rollbackRelease({ blob: s.store, db, region });
      expect((await currentProdRelease(s.store, region))?.release).toBe(r[1]!.release);
      await promoteRelease({ blob: s.store, db, region, release: r[2]!.release });
    });

    it('a second run deletes nothing more; an archive no manifest names goes once it is old enough', async () => {
      const again = await runHousekeeping({
        db,
        blob: s.store,
        regions: [region],
        policy: { keepRecent: 2 },
      });
      expect(again.regions[0]!.deleted).toEqual([]);
      const orphan = `tiles/${region}/activity-${'0'.repeat(64)}.pmtiles`;
      await s.store.put(orphan, Buffer.from('left by a publish that failed'), { tags: { stage: 'staging' } });
      const young = await runHousekeeping({
        db,
        blob: s.store,
        regions: [region],
        policy: { keepRecent: 2 },
      });
      expect(young.regions[0]!.deleted).toEqual([]);
      expect(await exists(s, orphan)).toBe(true);
      const old = await runHousekeeping({
        db,
        blob: s.store,
        regions: [region],
        policy: { keepRecent: 2 },
        orphanGraceMs: 0,
      });
      expect(old.regions[0]!.deleted).toEqual([orphan]);
      expect(await exists(s, orphan)).toBe(false);
      // the kept releases are all still whole
      for (const rel of [r[1]!, r[2]!, r[4]!, r[5]!])
        for (const f of rel.manifest.files) expect(await exists(s, f.key), f.key).toBe(true);
    });
  });
}

describe.skipIf(Boolean(why))('housekeeping', () => {
  beforeAll(async () => {
    const started = await Promise.all([
      freshPostgres(),
      startS3rver(join(dir, 's3rver')),
      makeArchive(dir, 'base', 6),
      ...Array.from({ length: 5 }, (_, i) => makeArchive(dir, `activity${i}`, 2 + i)),
    ]);
    tdb = started[0] as TestDb;
    server = started[1] as RunningS3;
    base = started[2] as string;
    activity.push(...(started.slice(3) as string[]));
  });
  afterAll(async () => {
    await server?.stop();
    await tdb?.cleanup();
  });

  housekeepingSuite('the local folder', async () => localSubject(join(dir, 'blob')), '2025-06-01');
  housekeepingSuite('S3 (s3rver)', async () => s3Subject(server!, 'weft-housekeeping'), '2025-06-02');
});

describe('which releases housekeeping keeps', () => {
  const entry = (
    id: string,
    stage: string | undefined,
    tags: Record<string, string> = {},
    readable = true,
  ): ReleaseEntry =>
    ({
      id,
      key: manifestKey('r', id),
      tags: { ...(stage ? { stage } : {}), ...tags },
      stage,
      ...(readable ? { manifest: { files: [] } } : { problem: 'not JSON' }),
    }) as unknown as ReleaseEntry;
  const now = new Date('2025-06-30T00:00:00Z');

  it('keeps a release retired less than 14 days ago, lets an older one go', () => {
    const plan = planReleases(
      [
        entry('20250601T000000Z-a', 'retired', { retired: '2025-06-10T00:00:00.000Z' }),
        entry('20250602T000000Z-b', 'retired', { retired: '2025-06-20T00:00:00.000Z' }),
        entry('20250603T000000Z-c', 'prod', {
          promoted: '2025-06-20T00:00:00.000Z',
          previous: '20250602T000000Z-b',
        }),
      ],
      now,
      { keepRecent: 0, retiredGraceMs: 14 * 86_400_000 },
    );
    expect(plan.map((d) => [d.id, d.keep])).toEqual([
      ['20250603T000000Z-c', true],
      ['20250602T000000Z-b', true],
      ['20250601T000000Z-a', false],
    ]);
    expect(plan[1]!.why).toEqual([
      'previous prod',
      'retired 2025-06-20T00:00:00.000Z, less than 14 days ago',
    ]);
  });

  it('without a previous tag, the most recently retired release is the previous prod', () => {
    const plan = planReleases(
      [
        entry('20250601T000000Z-a', 'retired', { retired: '2025-01-01T00:00:00.000Z' }),
        entry('20250602T000000Z-b', 'retired', { retired: '2025-01-02T00:00:00.000Z' }),
        entry('20250603T000000Z-c', 'prod', { promoted: '2025-01-02T00:00:00.000Z' }),
      ],
      now,
      { keepRecent: 1, retiredGraceMs: 0 },
    );
    expect(plan.filter((d) => d.keep).map((d) => d.id)).toEqual(['20250603T000000Z-c', '20250602T000000Z-b']);
  });

  it('leaves alone what it cannot read or that has no stage', () => {
    const plan = planReleases(
      [entry('20250101T000000Z-a', 'staging', {}, false), entry('20250102T000000Z-b', undefined)],
      now,
      { keepRecent: 0, retiredGraceMs: 0 },
    );
    expect(plan.every((d) => d.keep)).toBe(true);
    expect(plan.map((d) => d.why[0])).toEqual([
      'no stage tag, left alone',
      'unreadable manifest, left alone (not JSON)',
    ]);
  });
});
