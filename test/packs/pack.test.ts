// Region packs without a server: the tar container (checked with GNU tar and sha256sum), pack.json, deterministic
// bytes and ETag, byte ranges that map onto the same bytes, tiles read in place with the `pmtiles` package, and
// `weft pack verify` on a good pack and on broken ones (one clear line per problem).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { beforeAll, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../../core/blob/local.js';
import { Random } from '../../core/seed/prng.js';
import { planReleasePack } from '../../pipeline/packs/create.js';
import { layoutPack } from '../../pipeline/packs/layout.js';
import { parsePackManifest } from '../../pipeline/packs/manifest.js';
import { planPack, type PackPlan } from '../../pipeline/packs/plan.js';
import { entrySource, indexPack, readEntry } from '../../pipeline/packs/reader.js';
import { packStream, writePackFile } from '../../pipeline/packs/stream.js';
import { verifyPack } from '../../pipeline/packs/verify.js';
import { fileSource } from '../../pipeline/pmtiles/reader.js';
import { loadRegion, type Region } from '../../pipeline/region.js';
import { digestFile } from '../../pipeline/releases/integrity.js';
import {
  MANIFEST_SCHEMA,
  archiveKey,
  releaseIdFor,
  type ReleaseFile,
  type ReleaseManifest,
} from '../../pipeline/releases/manifest.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { referenceReader, referenceReaderOver, referenceTile, sameBytes } from '../pmtiles/reference.js';
import { makeArchive, sha256 } from '../releases/fixtures.js';

const dir = tempDir('weft-packs-');
const stylesDir = join(dir, 'styles');
const STYLE = {
  version: 8,
  name: 'weft base {region}',
  sources: { base: { type: 'vector', url: 'pmtiles:///tiles/{region}/base.pmtiles' } },
  layers: [],
};
let region: Region;
let release: ReleaseManifest;
let blob: LocalBlobStore;
let paths: { base: string; activity: string };
let plan: PackPlan;
let packPath: string;
let pack: Buffer;
const warnings: string[] = [];

/** Writes `bytes` to a new file in the temp folder and returns its path. */
let n = 0;
function variant(bytes: Uint8Array, name = 'case'): string {
  const p = join(dir, `${name}-${n++}.weftpack`);
  writeFileSync(p, bytes);
  return p;
}

beforeAll(async () => {
  paths = { base: await makeArchive(dir, 'base', 12), activity: await makeArchive(dir, 'activity0', 4) };
  blob = new LocalBlobStore(join(dir, 'blob'));
  region = loadRegion('monaco');
  const files: ReleaseFile[] = [];
  for (const layer of ['base', 'activity'] as const) {
    const d = await digestFile(paths[layer]);
    const key = archiveKey('monaco', layer, d.sha256);
    await blob.put(key, { file: paths[layer] });
    files.push({ layer, key, size: d.size, sha256: d.sha256 });
  }
  const at = new Date('2025-03-01T12:00:00.000Z');
  release = {
    schema: MANIFEST_SCHEMA,
    release: releaseIdFor('monaco', at, files),
    region: 'monaco',
    at: at.toISOString(),
    eventPosition: 42,
    source: null,
    weft: '0.1.0',
    files,
  };
  mkdirSync(stylesDir);
  writeFileSync(join(stylesDir, 'base.json'), JSON.stringify(STYLE, null, 2));
  writeFileSync(join(stylesDir, 'broken.json'), '{"version": 8,');
  writeFileSync(join(stylesDir, 'README.md'), 'not a style');
  plan = await planReleasePack(region, release, stylesDir, (m) => warnings.push(m));
  packPath = join(dir, 'monaco.weftpack');
  await writePackFile(blob, plan.layout, packPath);
  pack = readFileSync(packPath);
});

describe('the container', () => {
  it('is a plain ustar tar: GNU tar lists pack.json first and extracts files that sha256sum -c accepts', () => {
    expect(pack.length).toBe(plan.size);
    expect(pack.length % 512).toBe(0);
    const listing = execFileSync('tar', ['-tvf', packPath], { encoding: 'utf8' }).trim().split('\n');
    expect(listing.map((l) => l.split(/\s+/).at(-1))).toEqual([
      'pack.json',
      'SHA256SUMS',
      'release.json',
      'styles/base.json',
      'base.pmtiles',
      'activity.pmtiles',
    ]);
    // fixed mode, owner and mtime (the release's T)
    for (const line of listing) expect(line).toMatch(/^-rw-r--r-- 0\/0 .* 2025-03-01 12:00 /);
    const out = join(dir, 'extracted');
    mkdirSync(out);
    execFileSync('tar', ['-xf', packPath, '-C', out], { env: { ...process.env, TZ: 'UTC' } });
    expect(readFileSync(join(out, 'base.pmtiles')).equals(readFileSync(paths.base))).toBe(true);
    expect(readFileSync(join(out, 'activity.pmtiles')).equals(readFileSync(paths.activity))).toBe(true);
    const check = execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out, encoding: 'utf8' });
    expect(check.trim().split('\n').sort()).toEqual(
      [
        'activity.pmtiles: OK',
        'base.pmtiles: OK',
        'pack.json: OK',
        'release.json: OK',
        'styles/base.json: OK',
      ].sort(),
    );
  });

  it('pack.json names the region, release, bbox, center, zooms, attribution and every file', async () => {
    const source = fileSource(packPath);
    try {
      const index = await indexPack(source);
      expect(index.problems).toEqual([]);
      const m = parsePackManifest(await readEntry(source, index.entries[0]!));
      expect(m).toMatchObject({
        schema: 'weft.pack/1',
        region: 'monaco',
        name: 'Monaco',
        release: release.release,
        at: '2025-03-01T12:00:00.000Z',
        bbox: region.bbox,
        center: region.center,
        minzoom: 0,
        maxzoom: 14,
        attribution: '© OpenStreetMap contributors',
      });
      const byPath = Object.fromEntries(m.files.map((f) => [f.path, f]));
      expect(Object.keys(byPath)).toEqual([
        'release.json',
        'styles/base.json',
        'base.pmtiles',
        'activity.pmtiles',
      ]);
      for (const layer of ['base', 'activity'] as const) {
        const f = byPath[`${layer}.pmtiles`]!;
        expect(f).toEqual({
          path: `${layer}.pmtiles`,
          kind: 'archive',
          layer,
          size: readFileSync(paths[layer]).length,
          sha256: sha256(readFileSync(paths[layer])),
        });
      }
      // the style with {region} substituted, the broken style left out with a warning
      const styleEntry = index.entries.find((e) => e.name === 'styles/base.json')!;
      const style = JSON.parse(Buffer.from(await readEntry(source, styleEntry)).toString('utf8'));
      expect(style.sources.base.url).toBe('pmtiles:///tiles/monaco/base.pmtiles');
      expect(style.name).toBe('weft base monaco');
      expect(byPath['styles/base.json']!.sha256).toBe(sha256(await readEntry(source, styleEntry)));
      expect(warnings).toEqual([expect.stringMatching(/^style broken\.json left out of packs: not JSON/)]);
    } finally {
      await source.close();
    }
  });

  it('without a styles folder the pack simply has no styles', async () => {
    const p = await planReleasePack(region, release, join(dir, 'no-such-folder'));
    expect(p.manifest.files.map((f) => f.path)).toEqual(['release.json', 'base.pmtiles', 'activity.pmtiles']);
    const file = join(dir, 'nostyles.weftpack');
    await writePackFile(blob, p.layout, file);
    expect((await verifyPack(file)).problems).toEqual([]);
  });
});

describe('determinism and ranges', () => {
  it('the same release gives the same bytes and ETag; other style bytes give another ETag', async () => {
    const again = await planReleasePack(region, release, stylesDir);
    expect(again.etag).toBe(plan.etag);
    expect(again.etag).toMatch(/^"pack-[0-9a-f]{64}"$/);
    expect(again.fileName).toBe(`monaco-${release.release}.weftpack`);
    const file = join(dir, 'again.weftpack');
    await writePackFile(blob, again.layout, file);
    expect(readFileSync(file).equals(pack)).toBe(true);

    const otherStyles = join(dir, 'styles2');
    mkdirSync(otherStyles);
    writeFileSync(join(otherStyles, 'base.json'), JSON.stringify({ ...STYLE, name: 'changed' }));
    expect((await planReleasePack(region, release, otherStyles)).etag).not.toBe(plan.etag);
  });

  it('any byte range streams exactly those bytes of the pack (part boundaries and random spans)', async () => {
    const starts = new Set<number>([0]);
    for (const p of plan.layout.parts) for (const d of [-1, 0, 1]) starts.add(p.offset + d);
    const spans: [number, number][] = [];
    for (const s of starts) if (s >= 0 && s < plan.size) spans.push([s, Math.min(plan.size - 1, s + 700)]);
    const rnd = new Random(6);
    for (let i = 0; i < 25; i++) {
      const a = rnd.int(0, plan.size - 1);
      const b = rnd.int(a, plan.size - 1);
      spans.push([a, b]);
    }
    spans.push([plan.size - 1, plan.size - 1]);
    for (const [start, end] of spans) {
      const got = await buffer(packStream(blob, plan.layout, { start, end }));
      expect(got.equals(pack.subarray(start, end + 1)), `bytes ${start}-${end}`).toBe(true);
    }
  });

  it('the pmtiles package reads tiles straight out of the pack, the same as from the prod archive', async () => {
    const source = fileSource(packPath);
    try {
      const index = await indexPack(source);
      const inner = entrySource(
        source,
        index.entries.find((e) => e.name === 'base.pmtiles')!,
      );
      const inPack = referenceReaderOver(inner);
      const direct = referenceReader(paths.base);
      const header = await inPack.getHeader();
      expect(header.numAddressedTiles).toBeGreaterThan(0);
      expect(header).toEqual(await direct.getHeader());
      // the tile holding the fixture's first point at every zoom: wherever the archive has it, both agree
      let compared = 0;
      for (let z = 0; z <= 6; z++) {
        const x = Math.floor(((7.41 + 180) / 360) * 2 ** z);
        const lat = (43.73 * Math.PI) / 180;
        const y = Math.floor(((1 - Math.log(Math.tan(lat) + 1 / Math.cos(lat)) / Math.PI) / 2) * 2 ** z);
        const a = await referenceTile(inPack, z, x, y);
        const b = await referenceTile(direct, z, x, y);
        expect(sameBytes(a, b), `tile ${z}/${x}/${y}`).toBe(true);
        if (a) compared++;
      }
      expect(compared).toBe(header.numAddressedTiles);
    } finally {
      await source.close();
    }
  });
});

describe('weft pack verify', () => {
  const idx = (name: string) => plan.layout.entries.find((e) => e.name === name)!;

  it('accepts the pack with a summary and exit code 0', async () => {
    const r = await runCli(['pack', 'verify', packPath]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`ok: region monaco (Monaco), release ${release.release}, 2 archives, 1 style`);
    expect(r.stdout).toMatch(/base\.pmtiles: \d+ bytes, ok: \d+ tiles/);
    expect(r.stdout).toMatch(/activity\.pmtiles: \d+ bytes, ok: \d+ tiles/);
  });

  it('a truncated download fails: where it stops, and what is missing', async () => {
    const base = idx('base.pmtiles');
    const cutAt = base.dataOffset + Math.floor(base.size / 2);
    const file = variant(pack.subarray(0, cutAt), 'truncated');
    const r = await runCli(['pack', 'verify', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      `${file}: truncated: the file ends after ${cutAt} bytes, inside base.pmtiles (${cutAt - base.dataOffset} ` +
        `of its ${base.size} bytes, ${base.size - (cutAt - base.dataOffset)} missing)`,
      `${file}: missing entry: activity.pmtiles (the file is truncated)`,
    ]);
  });

  it('one flipped byte in an archive is named with both sha256s', async () => {
    const act = idx('activity.pmtiles');
    const bytes = Buffer.from(pack);
    bytes[act.dataOffset + act.size - 3]! ^= 0x10;
    const file = variant(bytes, 'flipped');
    const r = await runCli(['pack', 'verify', file]);
    expect(r.code).toBe(1);
    const expected = release.files.find((f) => f.layer === 'activity')!.sha256;
    const actual = sha256(bytes.subarray(act.dataOffset, act.dataOffset + act.size));
    expect(r.stderr.split('\n')[0]).toBe(
      `${file}: activity.pmtiles: sha256 is ${actual}, pack.json says ${expected}`,
    );
    // every further line is about that archive too (the PMTiles verifier's finding in the damaged tile)
    for (const line of r.stderr.trim().split('\n'))
      expect(line.startsWith(`${file}: activity.pmtiles: `)).toBe(true);
  });

  it('an edited pack.json is caught by SHA256SUMS, even where no file disagrees', async () => {
    const m = idx('pack.json');
    const text = pack.subarray(m.dataOffset, m.dataOffset + m.size).toString('utf8');
    const edited = text.replace('"maxzoom": 14', '"maxzoom": 13');
    expect(edited).not.toBe(text);
    const bytes = Buffer.from(pack);
    bytes.write(edited, m.dataOffset, 'utf8');
    const file = variant(bytes, 'edited');
    const r = await runCli(['pack', 'verify', file]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `${file}: pack.json: sha256 is ${sha256(Buffer.from(edited))}, SHA256SUMS says ${sha256(Buffer.from(text))} ` +
        `(the manifest was changed)`,
    ]);
  });

  it('an edited archive sha256 in pack.json disagrees with the bytes, SHA256SUMS and the release', async () => {
    const m = idx('pack.json');
    const text = pack.subarray(m.dataOffset, m.dataOffset + m.size).toString('utf8');
    const real = release.files.find((f) => f.layer === 'base')!.sha256;
    const fake = (real[0] === 'a' ? 'b' : 'a') + real.slice(1);
    const bytes = Buffer.from(pack);
    bytes.write(text.replace(real, fake), m.dataOffset, 'utf8');
    const { problems } = await verifyPack(variant(bytes));
    expect(problems).toContain(`base.pmtiles: SHA256SUMS says sha256 ${real}, pack.json says ${fake}`);
    expect(problems).toContain(`base.pmtiles: sha256 is ${real}, pack.json says ${fake}`);
    expect(
      problems.some((p) => p.startsWith('base.pmtiles: pack.json says') && p.includes(`sha256 ${real}`)),
    ).toBe(true);
  });

  it('a missing entry, a cut end-of-archive marker, a broken header, a broken style, not a pack at all', async () => {
    const mtime = Math.floor(Date.parse(release.at) / 1000);
    const withoutActivity = layoutPack(
      plan.entries.filter((e) => e.name !== 'activity.pmtiles'),
      mtime,
    );
    const missingFile = join(dir, 'missing.weftpack');
    await writePackFile(blob, withoutActivity, missingFile);
    expect((await verifyPack(missingFile)).problems).toEqual(['missing entry: activity.pmtiles']);

    expect((await verifyPack(variant(pack.subarray(0, pack.length - 512)))).problems).toEqual([
      `truncated: the file ends after ${pack.length - 512} bytes, inside the end-of-archive marker`,
    ]);

    const headerFlip = Buffer.from(pack);
    const rel = idx('release.json');
    headerFlip[rel.headerOffset + 10]! ^= 0x01;
    const broken = (await verifyPack(variant(headerFlip))).problems;
    expect(broken[0]).toMatch(
      new RegExp(
        `^the entry header at byte ${rel.headerOffset} is broken: its checksum is \\d+, the header's bytes sum to \\d+$`,
      ),
    );

    const badStyle = planPack({
      region,
      release,
      styles: [{ path: 'styles/bad.json', bytes: Buffer.from('{"version": 8,') }],
    });
    const badStyleFile = join(dir, 'badstyle.weftpack');
    await writePackFile(blob, badStyle.layout, badStyleFile);
    const styleProblems = (await verifyPack(badStyleFile)).problems;
    expect(styleProblems).toHaveLength(1);
    expect(styleProblems[0]).toMatch(/^styles\/bad\.json: style is not UTF-8 JSON: /);

    expect((await verifyPack(paths.base)).problems[0]).toBe(
      'the entry header at byte 0 is broken: it is not a ustar header (no "ustar" magic)',
    );
    expect((await verifyPack(join(dir, 'nope.weftpack'))).problems).toEqual(['cannot read (ENOENT)']);
  });
});
