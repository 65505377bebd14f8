// The release lifecycle (publish → promote → publish again → promote → rollback, a tampered object, a broken
// publish), run unchanged against every blob store; tags and bytes are checked without going through our adapter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../core/audit.js';
import type { Db } from '../../core/db/adapter.js';
import { currentProdRelease, listReleases, releaseStage } from '../../pipeline/releases/catalog.js';
import { archiveKey, manifestKey, type ReleaseManifest } from '../../pipeline/releases/manifest.js';
import { promoteRelease, PromotionRefused, rollbackRelease } from '../../pipeline/releases/promote.js';
import { PublishFailed, publishRelease, type PublishResult } from '../../pipeline/releases/publish.js';
import { readFileSync } from 'node:fs';
import { BreakingStore, sha256, tagSnapshot, type Subject } from './fixtures.js';

export interface Archives {
  base: string;
  activity: string[];
}

export function releaseSuite(
  name: string,
  setup: () => Promise<{ subject: Subject; db: Db; archives: Archives; day: string }>,
): void {
  describe(`releases on ${name}`, () => {
    let s: Subject;
    let db: Db;
    let archives: Archives;
    let day: string;
    let a: PublishResult;
    let b: PublishResult;
    const region = 'monaco';
    const at = (h: number) => new Date(`${day}T${String(h).padStart(2, '0')}:00:00.000Z`);
    const stageOfKey = async (key: string) => (await s.rawTags(key)).stage;

    beforeAll(async () => {
      ({ subject: s, db, archives, day } = await setup());
    });
    afterAll(async () => {
      await s?.close();
    });

    it('publish uploads content-addressed archives and a manifest, every object tagged staging', async () => {
      a = await publishRelease({
        blob: s.store,
        db,
        region,
        at: at(10),
        base: archives.base,
        activity: archives.activity[0],
      });
      const baseBytes = readFileSync(archives.base);
      const actBytes = readFileSync(archives.activity[0]!);
      expect(a.manifest.files).toEqual([
        {
          layer: 'base',
          key: archiveKey(region, 'base', sha256(baseBytes)),
          size: baseBytes.length,
          sha256: sha256(baseBytes),
        },
        {
          layer: 'activity',
          key: `tiles/monaco/activity-${sha256(actBytes)}.pmtiles`,
          size: actBytes.length,
          sha256: sha256(actBytes),
        },
      ]);
      expect(a.release).toMatch(new RegExp(`^${day.replace(/-/g, '')}T100000Z-[0-9a-f]{16}$`));
      expect(a.manifest).toMatchObject({ region, at: at(10).toISOString(), weft: expect.any(String) });
      expect(a.uploaded).toHaveLength(2);
      for (const f of a.manifest.files) {
        expect(sha256(await s.rawBytes(f.key))).toBe(f.sha256);
        expect(await stageOfKey(f.key)).toBe('staging');
      }
      const stored = JSON.parse((await s.rawBytes(a.manifestKey)).toString()) as ReleaseManifest;
      expect(stored).toEqual(a.manifest);
      expect(a.manifestKey).toBe(`releases/monaco/${a.release}.json`);
      expect(await s.rawTags(a.manifestKey)).toMatchObject({ stage: 'staging', release: a.release });
      expect(await releaseStage(s.store, a.manifestKey)).toBe('staging');
      // Nothing is in prod: a server asking the store's tags finds no release to serve.
      expect(await currentProdRelease(s.store, region)).toBeUndefined();
      const rows = (await listAudit(db, { action: 'release.publish' })).filter(
        (r) => r.subject === `monaco/${a.release}`,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        actor: 'operator',
        details: { release: a.release, uploaded: expect.any(Array) },
      });
    });

    it('publishing the same archives at the same T again gives the same id and uploads nothing', async () => {
      const counting = new BreakingStore(s.store, Infinity);
      const again = await publishRelease({
        blob: counting,
        db,
        region,
        at: at(10),
        base: archives.base,
        activity: archives.activity[0],
      });
      expect(again.release).toBe(a.release);
      expect(again.uploaded).toEqual([]);
      expect(again.skipped).toHaveLength(2);
      expect(counting.puts).toBe(0);
    });

    it('promote checks the bytes, then tags every object prod; the manifest names the stored sha256s', async () => {
      const r = await promoteRelease({ blob: s.store, db, region, release: a.release, actor: 'ci' });
      expect(r.retired).toEqual([]);
      const prod = await currentProdRelease(s.store, region);
      expect(prod?.release).toBe(a.release);
      for (const f of prod!.files) {
        const bytes = await s.rawBytes(f.key);
        expect(bytes.length).toBe(f.size);
        expect(sha256(bytes)).toBe(f.sha256);
        expect(await stageOfKey(f.key)).toBe('prod');
      }
      expect(await s.rawTags(a.manifestKey)).toMatchObject({ stage: 'prod', promoted: expect.any(String) });
      const rows = (await listAudit(db, { action: 'release.promote' })).filter(
        (x) => x.subject === `monaco/${a.release}`,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]!.actor).toBe('ci');
    });

    it('a second release shares the base object; staging and prod are told apart by their tags alone', async () => {
      b = await publishRelease({
        blob: s.store,
        db,
        region,
        at: at(11),
        base: archives.base,
        activity: archives.activity[1],
      });
      expect(b.release > a.release).toBe(true);
      const [bBase, bAct] = b.manifest.files;
      expect(bBase!.key).toBe(a.manifest.files[0]!.key);
      // The shared base stays prod (publishing never touches prod); the new activity and manifest are staging.
      expect(await stageOfKey(bBase!.key)).toBe('prod');
      expect(await stageOfKey(bAct!.key)).toBe('staging');
      expect(await stageOfKey(b.manifestKey)).toBe('staging');
      expect(b.uploaded).toEqual([bAct!.key]);
      expect((await currentProdRelease(s.store, region))?.release).toBe(a.release);
      const tags = await tagSnapshot(s.store);
      const staging = Object.keys(tags)
        .filter((k) => tags[k]!.stage === 'staging')
        .sort();
      const prod = Object.keys(tags)
        .filter((k) => tags[k]!.stage === 'prod')
        .sort();
      expect(staging).toEqual([bAct!.key, b.manifestKey].sort());
      expect(prod).toEqual([...a.manifest.files.map((f) => f.key), a.manifestKey].sort());
    });

    it('promoting the new release retires the previous prod one (the shared base stays prod)', async () => {
      const r = await promoteRelease({ blob: s.store, db, region, release: b.release });
      expect(r.retired).toEqual([a.release]);
      expect((await currentProdRelease(s.store, region))?.release).toBe(b.release);
      expect(await stageOfKey(b.manifestKey)).toBe('prod');
      expect(await stageOfKey(b.manifest.files[1]!.key)).toBe('prod');
      expect(await stageOfKey(b.manifest.files[0]!.key)).toBe('prod');
      expect(await stageOfKey(a.manifest.files[1]!.key)).toBe('retired');
      expect(await s.rawTags(a.manifestKey)).toMatchObject({ stage: 'retired', retired: expect.any(String) });
      expect((await s.rawTags(b.manifestKey)).previous).toBe(a.release);
      const list = await listReleases(s.store, region);
      expect(list.map((e) => [e.id, e.stage])).toEqual([
        [b.release, 'prod'],
        [a.release, 'retired'],
      ]);
    });

    it('rollback re-promotes the previous release and retires the current one; there is nothing before it', async () => {
      const r = await rollbackRelease({ blob: s.store, db, region });
      expect(r.release).toBe(a.release);
      expect(r.retired).toEqual([b.release]);
      expect((await currentProdRelease(s.store, region))?.release).toBe(a.release);
      expect(await stageOfKey(a.manifest.files[1]!.key)).toBe('prod');
      expect(await stageOfKey(b.manifest.files[1]!.key)).toBe('retired');
      expect(await stageOfKey(b.manifestKey)).toBe('retired');
      expect(await stageOfKey(a.manifest.files[0]!.key)).toBe('prod');
      const rows = await listAudit(db, { action: 'release.rollback' });
      expect(
        rows.some(
          (x) => x.subject === `monaco/${a.release}` && (x.details.retired as string[])[0] === b.release,
        ),
      ).toBe(true);
      await expect(rollbackRelease({ blob: s.store, db, region })).rejects.toThrow(
        new RegExp(
          `cannot roll back region monaco: its prod release ${a.release} was promoted when nothing was in prod`,
        ),
      );
      // Back to b for what follows: an explicit promotion.
      await promoteRelease({ blob: s.store, db, region, release: b.release });
      expect((await currentProdRelease(s.store, region))?.release).toBe(b.release);
    });

    it('an object altered in the store stops the promotion, naming it; no tag changes', async () => {
      const c = await publishRelease({
        blob: s.store,
        db,
        region,
        at: at(12),
        base: archives.base,
        activity: archives.activity[2],
      });
      const act = c.manifest.files[1]!;
      const original = await s.rawBytes(act.key);
      const flipped = Buffer.from(original);
      flipped[flipped.length >> 1]! ^= 0x01;
      await s.tamper(act.key, flipped);
      const before = await tagSnapshot(s.store);
      const err = await promoteRelease({ blob: s.store, db, region, release: c.release }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PromotionRefused);
      expect((err as Error).message).toBe(
        `refusing to promote release ${c.release} of region monaco: object '${act.key}' has sha256 ` +
          `${sha256(flipped)}, the manifest says ${act.sha256}; nothing was re-tagged`,
      );
      expect(await tagSnapshot(s.store)).toEqual(before);
      expect((await currentProdRelease(s.store, region))?.release).toBe(b.release);
      // A truncated object: refused on its size.
      await s.tamper(act.key, original.subarray(0, original.length - 7));
      await expect(promoteRelease({ blob: s.store, db, region, release: c.release })).rejects.toThrow(
        `object '${act.key}' has ${original.length - 7} bytes, the manifest says ${original.length}`,
      );
      const refused = (await listAudit(db, { action: 'release.promote.refused' })).filter(
        (x) => x.subject === `monaco/${c.release}`,
      );
      expect(refused).toHaveLength(2);
      // Repaired, it promotes.
      await s.tamper(act.key, original);
      await promoteRelease({ blob: s.store, db, region, release: c.release });
      expect((await currentProdRelease(s.store, region))?.release).toBe(c.release);
    });

    it('a publish that breaks halfway leaves prod untouched and says in one line what is left in staging', async () => {
      const before = await tagSnapshot(s.store);
      const prodBefore = await currentProdRelease(s.store, region);
      // The base is already stored (no put); the activity upload is the first put and succeeds, the manifest fails.
      const breaking = new BreakingStore(s.store, 1);
      const err = await publishRelease({
        blob: breaking,
        db,
        region,
        at: at(13),
        base: archives.base,
        activity: archives.activity[3],
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PublishFailed);
      const failed = err as PublishFailed;
      const actKey = archiveKey(region, 'activity', sha256(readFileSync(archives.activity[3]!)));
      const mKey = manifestKey(region, failed.release);
      expect(failed.message).not.toContain('\n');
      expect(failed.message).toBe(
        `publish of release ${failed.release} of region monaco failed at '${mKey}': simulated outage on put #2 ` +
          `(${mKey}); prod release ${prodBefore!.release} untouched; left in staging: ${actKey}`,
      );
      expect(failed.leftInStaging).toEqual([actKey]);
      expect(await stageOfKey(actKey)).toBe('staging');
      expect(await s.store.head(mKey)).toBeUndefined();
      // Every object that existed before keeps its tags; prod is the same release.
      const after = await tagSnapshot(s.store);
      for (const [key, tags] of Object.entries(before)) expect(after[key]).toEqual(tags);
      expect(Object.keys(after).filter((k) => !(k in before))).toEqual([actKey]);
      expect((await currentProdRelease(s.store, region))?.release).toBe(prodBefore!.release);
      expect((await listReleases(s.store, region)).map((e) => e.id)).not.toContain(failed.release);
      const rows = (await listAudit(db, { action: 'release.publish.failed' })).filter(
        (x) => x.subject === `monaco/${failed.release}`,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]!.details.leftInStaging).toEqual([actKey]);

      // A failure on the first upload leaves nothing at all.
      const early = await publishRelease({
        blob: new BreakingStore(s.store, 0),
        db,
        region,
        at: at(14),
        base: archives.base,
        activity: archives.activity[4],
      }).catch((e: unknown) => e);
      if (!(early instanceof PublishFailed)) throw new Error(`expected PublishFailed, got ${String(early)}`);
      expect(early.message).toMatch(/; prod release \S+ untouched; left in staging: nothing$/);
      expect(early.leftInStaging).toEqual([]);
    });
  });
}
