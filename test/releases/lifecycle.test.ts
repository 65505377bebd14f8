// The release lifecycle on both blob stores — the local folder and a real S3 server (s3rver from npm) — with the
// audit log in one embedded PGlite database shared by both (each store publishes on its own day, so ids differ).
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../../core/blob/local.js';
import { defaultBuilders, type Builders } from '../../pipeline/releases/inputs.js';
import { headPosition } from '../../core/eventstore.js';
import { builtinPlaces } from '../../core/seed/places.js';
import { loadSeedRegion } from '../../core/seed/region.js';
import { seedCommunity } from '../../core/seed/seed.js';
import { publishRelease } from '../../pipeline/releases/publish.js';
import { freshPglite, type TestDb } from '../db/helpers.js';
import { startS3rver, type RunningS3 } from '../blob/s3rver.js';
import { tempDir } from '../helpers/tmp.js';
import { makeArchives } from './archives.js';
import { localSubject, s3Subject, sha256, tagSnapshot } from './fixtures.js';
import { releaseSuite, type Archives } from './suite.js';

const dir = tempDir('weft-releases-');
let server: RunningS3 | undefined;
let tdb: TestDb;
let archives: Archives;

beforeAll(async () => {
  [tdb, archives, server] = await Promise.all([
    freshPglite(),
    makeArchives(dir),
    startS3rver(join(dir, 's3rver')),
  ]);
});
afterAll(async () => {
  await tdb?.cleanup();
  await server?.stop();
});

releaseSuite('the local folder store', async () => ({
  subject: localSubject(join(dir, 'blob')),
  db: tdb.db,
  archives,
  day: '2025-03-01',
}));

releaseSuite('S3 (s3rver)', async () => ({
  subject: await s3Subject(server!, 'weft-releases'),
  db: tdb.db,
  archives,
  day: '2025-03-02',
}));

describe('publish inputs', () => {
  const region = 'monaco';

  it('builds what is not given: T reaches the activity build, its event position and the OSM source the manifest', async () => {
    const extract = join(dir, 'monaco-latest.osm.pbf');
    writeFileSync(extract, 'pretend OSM extract');
    const seen: { at?: Date; outDir?: string } = {};
    const builders: Builders = {
      async base(_region, opts) {
        const archive = join(opts.outDir, 'base.pmtiles');
        copyFileSync(archives.base, archive);
        return { archive, stats: { source: { path: extract } } };
      },
      async activity(_region, opts) {
        Object.assign(seen, opts);
        const archive = join(opts.outDir, 'activity.pmtiles');
        copyFileSync(archives.activity[0]!, archive);
        return { archive, lastPosition: 77 };
      },
    };
    const outDir = join(dir, 'built');
    mkdirSync(outDir);
    const at = new Date('2025-04-01T08:00:00Z');
    const r = await publishRelease({
      blob: new LocalBlobStore(join(dir, 'inputs-blob')),
      db: tdb.db,
      region,
      at,
      outDir,
      builders,
    });
    expect(seen.at?.toISOString()).toBe(at.toISOString());
    expect(seen.outDir).toBe(outDir);
    expect(r.manifest.eventPosition).toBe(77);
    expect(r.manifest.source).toEqual({
      file: 'monaco-latest.osm.pbf',
      url: 'https://download.geofabrik.de/europe/monaco-latest.osm.pbf',
      sha256: sha256(readFileSync(extract)),
    });
    expect(r.manifest.files.map((f) => f.sha256)).toEqual([
      sha256(readFileSync(archives.base)),
      sha256(readFileSync(archives.activity[0]!)),
    ]);
  });

  it('with the real activity build: T goes into the archive, its event position and T into the manifest', async () => {
    const outDir = join(dir, 'real-activity');
    mkdirSync(outDir);
    const at = new Date('2025-04-02T12:30:00Z');
    const seedRegion = loadSeedRegion(region);
    await seedCommunity(tdb.db, {
      region: seedRegion,
      places: await builtinPlaces(seedRegion),
      now: at,
      roles: 8,
      nodes: 4,
      proposals: 1,
    });
    const head = await headPosition(tdb.db);
    expect(head).toBeGreaterThan(0);
    const blob = new LocalBlobStore(join(dir, 'inputs-blob'));
    const builders: Builders = {
      ...defaultBuilders,
      async base(_region, opts) {
        const archive = join(opts.outDir, 'base.pmtiles');
        copyFileSync(archives.base, archive);
        return { archive, stats: {} };
      },
    };
    const r = await publishRelease({ blob, db: tdb.db, region, at, outDir, builders, quiet: true });
    const built = join(outDir, 'activity.pmtiles');
    expect(r.manifest.files[1]!.sha256).toBe(sha256(readFileSync(built)));
    expect(r.manifest.eventPosition).toBe(head);
    expect(r.manifest.at).toBe(at.toISOString());
    // The same archive given as a file: its own T is the release's T, so the release is the same one.
    const again = await publishRelease({ blob, db: tdb.db, region, base: archives.base, activity: built });
    expect(again.release).toBe(r.release);
    await expect(
      publishRelease({
        blob,
        db: tdb.db,
        region,
        base: archives.base,
        activity: built,
        at: new Date('2025-04-03T00:00:00Z'),
      }),
    ).rejects.toThrow(
      `--activity ${built} was built as of 2025-04-02T12:30:00.000Z, not the --at 2025-04-03T00:00:00.000Z asked for`,
    );
  });

  it('takes the source recorded beside a given base archive (base.stats.json)', async () => {
    const folder = join(dir, 'given');
    mkdirSync(folder);
    copyFileSync(archives.base, join(folder, 'base.pmtiles'));
    const pinned = 'd'.repeat(64);
    writeFileSync(
      join(folder, 'base.stats.json'),
      JSON.stringify({ source: { path: '/cache/monaco-latest.osm.pbf', sha256: pinned } }),
    );
    const r = await publishRelease({
      blob: new LocalBlobStore(join(dir, 'inputs-blob')),
      db: tdb.db,
      region,
      at: new Date('2025-04-01T09:00:00Z'),
      base: join(folder, 'base.pmtiles'),
      activity: archives.activity[1],
    });
    expect(r.manifest.source).toMatchObject({ file: 'monaco-latest.osm.pbf', sha256: pinned });
    expect(r.manifest.eventPosition).toBeNull();
  });

  it('refuses a file that is not a PMTiles archive, naming it, before uploading anything', async () => {
    const bogus = join(dir, 'bogus.pmtiles');
    writeFileSync(bogus, 'not an archive at all, just text');
    const store = new LocalBlobStore(join(dir, 'bogus-blob'));
    await expect(
      publishRelease({ blob: store, db: tdb.db, region, base: archives.base, activity: bogus }),
    ).rejects.toThrow(`--activity ${bogus}: not a readable PMTiles archive`);
    await expect(
      publishRelease({
        blob: store,
        db: tdb.db,
        region,
        base: join(dir, 'missing.pmtiles'),
        activity: bogus,
      }),
    ).rejects.toThrow(`--base ${join(dir, 'missing.pmtiles')}: no such file`);
    expect(await tagSnapshot(store)).toEqual({});
  });
});
