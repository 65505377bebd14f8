// Archives over HTTP from the local blob store: Range (single, open-ended, suffix, past the end, malformed, multi),
// HEAD, If-Range, If-None-Match, content-addressed URLs, staging never served, promotion and rollback taking
// effect without a restart (bus message, and the periodic re-check without one), and a damaged prod archive.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollbackRelease } from '../../pipeline/releases/promote.js';
import { RELEASES_CHANNEL, type ReleaseRegistry } from '../../serve/releases.js';
import { createTilesModule } from '../../serve/tiles/module.js';
import { tempDir } from '../helpers/tmp.js';
import { referenceReader, referenceTile } from '../pmtiles/reference.js';
import {
  makeArchives,
  promoteFixture,
  publishFixture,
  rawRequest,
  releaseFixture,
  tileAt,
  waitFor,
  type FixtureArchives,
  type FixtureRelease,
} from './fixtures.js';
import { startTestServer, type TestServer } from './server.js';

const dir = tempDir('weft-serve-archives-');
let one: FixtureArchives;
let two: FixtureArchives;

beforeAll(async () => {
  // base ~90 kB: larger than the 64 kB read in one piece, so full bodies from a file handle stream
  one = await makeArchives(dir, 'one', 300);
  two = await makeArchives(dir, 'two', 100);
});

const errorCode = (body: Buffer) => (JSON.parse(body.toString()) as { error: { code: string } }).error.code;

// The whole archive held in memory (it fits the budget), and read through a kept-open file handle (it does not).
describe.each([
  ['memory', 64 << 20],
  ['a file handle', 4096],
])('archive ranges served from %s', (_mode, tileCacheBytes) => {
  let srv: TestServer;
  let rel: FixtureRelease;
  let bytes: Buffer;
  let size: number;
  let url: string;

  beforeAll(async () => {
    srv = await startTestServer({ modules: [createTilesModule], config: { tileCacheBytes } });
    rel = await releaseFixture({ blob: srv.blob, db: srv.db, archives: one, bus: srv.bus });
    bytes = rel.files.base.bytes;
    size = bytes.length;
    url = `${srv.url}/tiles/monaco/base.pmtiles`;
    await waitFor(async () => (await rawRequest(url, { method: 'HEAD' })).status === 200);
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('GET without Range: 200, the whole archive, strong ETag, Accept-Ranges, revalidated, public CORS', async () => {
    const r = await rawRequest(url);
    expect(r.status).toBe(200);
    expect(r.body.equals(bytes)).toBe(true);
    expect(r.headers).toMatchObject({
      'content-type': 'application/vnd.pmtiles',
      'content-length': String(size),
      'accept-ranges': 'bytes',
      etag: `"${rel.files.base.sha256}"`,
      'cache-control': 'public, no-cache',
      'access-control-allow-origin': '*',
    });
    expect(r.headers['access-control-expose-headers']).toContain('Content-Range');
    const activity = await rawRequest(`${srv.url}/tiles/monaco/activity.pmtiles`);
    expect(activity.body.equals(rel.files.activity.bytes)).toBe(true);
  });

  it('HEAD: the same headers, no body (a Range on HEAD is ignored)', async () => {
    for (const headers of [{}, { Range: 'bytes=0-9' }] as Record<string, string>[]) {
      const r = await rawRequest(url, { method: 'HEAD', headers });
      expect(r.status).toBe(200);
      expect(r.body.length).toBe(0);
      expect(r.headers['content-length']).toBe(String(size));
      expect(r.headers.etag).toBe(`"${rel.files.base.sha256}"`);
    }
  });

  it('single ranges: 206 with Content-Range, exactly the bytes asked for (open-ended, suffix, clamped)', async () => {
    const cases: [string, number, number][] = [
      ['bytes=0-0', 0, 0],
      ['bytes=0-126', 0, 126],
      ['bytes=1000-17383', 1000, 17383],
      [`bytes=${size - 1}-${size - 1}`, size - 1, size - 1],
      ['bytes=100-', 100, size - 1],
      ['bytes=-50', size - 50, size - 1],
      [`bytes=-${size + 10}`, 0, size - 1],
      [`bytes=10-${size + 1000}`, 10, size - 1],
      ['BYTES=5-9', 5, 9],
    ];
    for (const [range, start, end] of cases) {
      const r = await rawRequest(url, { headers: { Range: range } });
      expect(r.status, range).toBe(206);
      expect(r.headers['content-range'], range).toBe(`bytes ${start}-${end}/${size}`);
      expect(r.headers['content-length']).toBe(String(end - start + 1));
      expect(r.body.equals(bytes.subarray(start, end + 1)), range).toBe(true);
      expect(r.headers.etag).toBe(`"${rel.files.base.sha256}"`);
    }
  });

  it('a range starting at or past the end (or an empty suffix) is 416 with Content-Range: bytes */SIZE', async () => {
    for (const range of [
      `bytes=${size}-`,
      `bytes=${size + 5}-${size + 10}`,
      'bytes=-0',
      'bytes=99999999999-',
    ]) {
      const r = await rawRequest(url, { headers: { Range: range } });
      expect(r.status, range).toBe(416);
      expect(r.headers['content-range']).toBe(`bytes */${size}`);
      expect(errorCode(r.body)).toBe('range_not_satisfiable');
    }
  });

  it('malformed, foreign-unit and multi-range headers are ignored: 200 with the whole archive, never wrong bytes', async () => {
    for (const range of [
      'bytes=abc',
      'bytes=5-2',
      'items=0-5',
      'bytes=',
      'bytes=-',
      '0-5',
      'bytes=0-1,5-6',
      'bytes=0-1, 5-',
      'bytes=1-2-3',
    ]) {
      const r = await rawRequest(url, { headers: { Range: range } });
      expect(r.status, range).toBe(200);
      expect(r.headers['content-range']).toBeUndefined();
      expect(r.body.equals(bytes), range).toBe(true);
    }
  });

  it('If-None-Match with the ETag is 304; If-Range applies the range only for the current strong ETag', async () => {
    const etag = `"${rel.files.base.sha256}"`;
    const nm = await rawRequest(url, { headers: { 'If-None-Match': etag, Range: 'bytes=0-9' } });
    expect(nm.status).toBe(304);
    expect(nm.body.length).toBe(0);
    expect(nm.headers.etag).toBe(etag);
    expect((await rawRequest(url, { headers: { 'If-None-Match': '"x"' } })).status).toBe(200);

    const ok = await rawRequest(url, { headers: { 'If-Range': etag, Range: 'bytes=10-19' } });
    expect(ok.status).toBe(206);
    expect(ok.body.equals(bytes.subarray(10, 20))).toBe(true);
    for (const ifRange of ['"0000"', `W/${etag}`, 'Wed, 21 Oct 2015 07:28:00 GMT']) {
      const r = await rawRequest(url, { headers: { 'If-Range': ifRange, Range: 'bytes=10-19' } });
      expect(r.status, ifRange).toBe(200);
      expect(r.body.equals(bytes)).toBe(true);
    }
  });

  it('the content-addressed URL: immutable caching, ranges; any other sha256 is 404', async () => {
    const sha = rel.files.base.sha256;
    const r = await rawRequest(`${srv.url}/tiles/monaco/base-${sha}.pmtiles`, {
      headers: { Range: 'bytes=-127' },
    });
    expect(r.status).toBe(206);
    expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(r.body.equals(bytes.subarray(size - 127))).toBe(true);
    const wrong = await rawRequest(`${srv.url}/tiles/monaco/base-${'0'.repeat(64)}.pmtiles`);
    expect(wrong.status).toBe(404);
    expect(errorCode(wrong.body)).toBe('not_found');
    // the activity archive's sha256 under the base layer is not the base archive
    const swapped = await rawRequest(`${srv.url}/tiles/monaco/base-${rel.files.activity.sha256}.pmtiles`);
    expect(swapped.status).toBe(404);
  });

  it('unknown regions, layers and regions without a prod release are 404 JSON', async () => {
    for (const [p, code] of [
      ['/tiles/atlantis/base.pmtiles', 'unknown_region'],
      ['/tiles/monaco/roads.pmtiles', 'unknown_layer'],
      ['/tiles/andorra/base.pmtiles', 'no_release'],
    ]) {
      const r = await rawRequest(srv.url + p!);
      expect(r.status, p).toBe(404);
      expect(r.headers['access-control-allow-origin']).toBe('*');
      expect(errorCode(r.body)).toBe(code);
    }
  });

  it('a CORS preflight for a Range request is allowed from any origin', async () => {
    const r = await rawRequest(url, {
      method: 'OPTIONS',
      headers: { Origin: 'https://elsewhere.example', 'Access-Control-Request-Headers': 'range' },
    });
    expect(r.status).toBe(204);
    expect(r.headers['access-control-allow-origin']).toBe('*');
    expect(r.headers['access-control-allow-headers']).toContain('Range');
  });
});

describe('releases switching under a running server', () => {
  let srv: TestServer;
  let a: FixtureRelease;
  let b: FixtureRelease;
  const url = () => `${srv.url}/tiles/monaco/base.pmtiles`;
  const etagNow = async () => (await rawRequest(url(), { method: 'HEAD' })).headers.etag;

  beforeAll(async () => {
    // A long re-check: only the bus message can make the switch within the test. A small cache budget: the
    // archives are read through file handles, which a promotion closes after in-flight requests.
    srv = await startTestServer({
      modules: [createTilesModule],
      config: { releaseRecheckMs: 600_000, tileCacheBytes: 4096 },
    });
    a = await releaseFixture({
      blob: srv.blob,
      db: srv.db,
      archives: one,
      bus: srv.bus,
      at: new Date('2025-06-01T10:00:00Z'),
    });
    await waitFor(async () => (await etagNow()) === `"${a.files.base.sha256}"`);
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('a published but unpromoted (staging) release is never served, not even by its sha256', async () => {
    b = await publishFixture({
      blob: srv.blob,
      db: srv.db,
      archives: two,
      at: new Date('2025-06-02T10:00:00Z'),
    });
    // the server re-reads the tags now: a staging manifest must not become what it serves
    await (srv.ctx.services.get('releases') as ReleaseRegistry).refresh();
    for (const layer of ['base', 'activity'] as const) {
      const r = await rawRequest(`${srv.url}/tiles/monaco/${layer}-${b.files[layer].sha256}.pmtiles`);
      expect(r.status).toBe(404);
      expect(errorCode(r.body)).toBe('not_found');
      const latest = await rawRequest(`${srv.url}/tiles/monaco/${layer}.pmtiles`);
      expect(latest.headers.etag).toBe(`"${a.files[layer].sha256}"`);
      expect(latest.body.equals(a.files[layer].bytes)).toBe(true);
    }
  });

  it('promotion announced on the bus switches at once; an old If-Range gets the whole new archive', async () => {
    const tile = `${srv.url}/tiles/monaco/base/0/0/0.mvt`;
    const oldTile = await rawRequest(tile);
    await promoteFixture({ blob: srv.blob, db: srv.db, bus: srv.bus }, b.release);
    await waitFor(async () => (await etagNow()) === `"${b.files.base.sha256}"`, 1000);

    const r = await rawRequest(url(), {
      headers: { 'If-Range': `"${a.files.base.sha256}"`, Range: 'bytes=0-99' },
    });
    expect(r.status).toBe(200);
    expect(r.headers.etag).toBe(`"${b.files.base.sha256}"`);
    expect(r.body.equals(b.files.base.bytes)).toBe(true);
    // the old archive's content-addressed URL is gone; the new one answers
    expect((await rawRequest(`${srv.url}/tiles/monaco/base-${a.files.base.sha256}.pmtiles`)).status).toBe(
      404,
    );
    expect((await rawRequest(`${srv.url}/tiles/monaco/base-${b.files.base.sha256}.pmtiles`)).status).toBe(
      200,
    );
    // tiles come from the new release (new ETag; the old ETag no longer gives 304)
    const newTile = await rawRequest(tile, { headers: { 'If-None-Match': oldTile.headers.etag as string } });
    expect(newTile.status).toBe(200);
    expect(newTile.headers.etag).not.toBe(oldTile.headers.etag);
    const ref = referenceReader(b.files.base.path);
    expect(gunzipSync(newTile.body).equals(Buffer.from((await referenceTile(ref, 0, 0, 0))!))).toBe(true);
  });

  it('a rollback announced on the bus switches back', async () => {
    await rollbackRelease({ blob: srv.blob, db: srv.db, region: 'monaco', bus: srv.bus });
    await waitFor(async () => (await etagNow()) === `"${a.files.base.sha256}"`, 1000);
    const r = await rawRequest(url());
    expect(r.body.equals(a.files.base.bytes)).toBe(true);
  });

  it('requests racing a promotion each get one release: bytes always match the ETag they came with', async () => {
    const bySha = new Map<string, FixtureRelease>([
      [`"${a.files.base.sha256}"`, a],
      [`"${b.files.base.sha256}"`, b],
    ]);
    const tileEtags = new Map<string, FixtureRelease>([
      [a.files.base.sha256.slice(0, 16), a],
      [b.files.base.sha256.slice(0, 16), b],
    ]);
    const refs = new Map([a, b].map((r) => [r, referenceReader(r.files.base.path)]));
    const smaller = Math.min(a.files.base.size, b.files.base.size);
    let stop = false;
    const seen = new Set<string>();
    const problems: string[] = [];
    const loop = async (i: number) => {
      for (let n = 0; !stop; n++) {
        const start = (i * 7919 + n * 104729) % (smaller - 2000);
        const r = await rawRequest(url(), { headers: { Range: `bytes=${start}-${start + 1999}` } });
        const rel = bySha.get(r.headers.etag as string);
        if (r.status !== 206 || !rel) problems.push(`range: ${r.status} ${String(r.headers.etag)}`);
        else {
          seen.add(rel.release);
          const [from, to] = (r.headers['content-range'] as string)
            .slice(6)
            .split('/')[0]!
            .split('-')
            .map(Number);
          if (!r.body.equals(rel.files.base.bytes.subarray(from!, to! + 1)))
            problems.push('range bytes differ');
        }
        const [z, x, y] = tileAt(14 - (n % 3), 7.415, 43.727);
        const t = await rawRequest(`${srv.url}/tiles/monaco/base/${z}/${x}/${y}.mvt`);
        const tr = tileEtags.get(String(t.headers.etag).slice(1, 17));
        if (t.status === 200 && tr) {
          const want = await referenceTile(refs.get(tr)!, z, x, y);
          if (!want || !gunzipSync(t.body).equals(Buffer.from(want))) problems.push('tile bytes differ');
        } else if (t.status !== 204 || !tr) problems.push(`tile: ${t.status} ${String(t.headers.etag)}`);
      }
    };
    const loops = [0, 1, 2, 3].map(loop);
    await new Promise((r) => setTimeout(r, 150));
    await promoteFixture({ blob: srv.blob, db: srv.db, bus: srv.bus }, b.release);
    await waitFor(async () => (await etagNow()) === `"${b.files.base.sha256}"`, 1000);
    await new Promise((r) => setTimeout(r, 150));
    stop = true;
    await Promise.all(loops);
    expect(problems).toEqual([]);
    expect(seen).toEqual(new Set([a.release, b.release]));
  });

  it('a malformed announcement is logged and ignored', async () => {
    await srv.bus.publish(RELEASES_CHANNEL, 'not json');
    await waitFor(async () => srv.logs.some((l) => String(l.msg).includes(`malformed ${RELEASES_CHANNEL}`)));
    expect((await rawRequest(url(), { method: 'HEAD' })).status).toBe(200);
  });
});

describe('the periodic re-check, with no bus message', () => {
  it('finds a promotion by itself within a few re-check periods', async () => {
    const srv = await startTestServer({ modules: [createTilesModule], config: { releaseRecheckMs: 150 } });
    try {
      const url = `${srv.url}/tiles/monaco/activity.pmtiles`;
      expect((await rawRequest(url)).status).toBe(404);
      // promoted without a bus: the server hears nothing and must find it in the tags
      const a = await publishFixture({ blob: srv.blob, db: srv.db, archives: two });
      await promoteFixture({ blob: srv.blob, db: srv.db }, a.release);
      const started = Date.now();
      await waitFor(async () => (await rawRequest(url, { method: 'HEAD' })).status === 200, 3000);
      expect(Date.now() - started).toBeLessThan(3000);
      expect((await rawRequest(url)).body.equals(a.files.activity.bytes)).toBe(true);
    } finally {
      await srv.stop();
    }
  });
});

describe('a damaged prod archive', () => {
  it.each([
    ['held in memory (its sha256 no longer matches)', 64 << 20, (b: Buffer) => b.fill(0x55, 2000, 2100)],
    ['read from a file (its header is garbage)', 4096, (b: Buffer) => b.fill(0x58, 0, 7)],
  ])(
    '%s: a clear 500 JSON error, while everything else keeps being served',
    async (_what, tileCacheBytes, damage) => {
      const srv = await startTestServer({ modules: [createTilesModule], config: { tileCacheBytes } });
      try {
        const rel = await releaseFixture({ blob: srv.blob, db: srv.db, archives: two, bus: srv.bus });
        const file = path.join(srv.blobDir!, rel.files.base.key);
        writeFileSync(file, damage(readFileSync(file)));
        await waitFor(
          async () => (await rawRequest(`${srv.url}/tiles/monaco/activity.pmtiles`)).status === 200,
        );
        for (const p of ['/tiles/monaco/base/0/0/0.mvt', '/tiles/monaco/base.pmtiles']) {
          const r = await rawRequest(srv.url + p);
          expect(r.status, p).toBe(500);
          const err = (JSON.parse(r.body.toString()) as { error: { code: string; message: string } }).error;
          expect(err.code).toBe('archive_unreadable');
          expect(err.message).toContain('monaco/base');
          expect(err.message).toContain(rel.release);
        }
        expect((await rawRequest(`${srv.url}/tiles/monaco/activity/0/0/0.mvt`)).status).toBe(200);
        expect((await rawRequest(`${srv.url}/healthz`)).status).toBe(200);
        expect(srv.logs.some((l) => l.level === 'error' && String(l.msg).includes('cannot be read'))).toBe(
          true,
        );
      } finally {
        await srv.stop();
      }
    },
  );
});
