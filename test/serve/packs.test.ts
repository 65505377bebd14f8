// GET|HEAD /regions/<id>/pack over a real socket: the pack verifies with `weft pack verify`, its archives are the prod
// archives byte for byte (the `pmtiles` package reads a tile from it), `weft pack create` writes the same bytes,
// interrupted downloads resume with Range to the identical bytes, Range/If-Range/304 edge cases, 404s, a new
// promotion switches the pack cleanly, and archive bytes come from the blob store as ranged reads.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore, ByteRange } from '../../core/blob/adapter.js';
import { LocalBlobStore } from '../../core/blob/local.js';
import { Random } from '../../core/seed/prng.js';
import { entrySource, indexPack } from '../../pipeline/packs/reader.js';
import { fileSource } from '../../pipeline/pmtiles/reader.js';
import { need } from '../../serve/context.js';
import { packsModule } from '../../serve/packs/module.js';
import type { ReleaseRegistry } from '../../serve/releases.js';
import { createTilesModule } from '../../serve/tiles/module.js';
import { postgresUnavailable } from '../db/helpers.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { referenceReader, referenceReaderOver, referenceTile, sameBytes } from '../pmtiles/reference.js';
import { makeArchives, publishFixture, releaseFixture, type FixtureRelease } from './fixtures.js';
import { startTestServer, type TestServer } from './server.js';

const why = await postgresUnavailable();
if (why) console.warn(`skipped: packs over HTTP (${why})`);

/** A blob store that records every read (key and range) of the one it wraps. */
class RecordingStore implements BlobStore {
  readonly kind;
  readonly location;
  reads: { key: string; range?: ByteRange }[] = [];
  constructor(private readonly inner: BlobStore) {
    this.kind = inner.kind;
    this.location = inner.location;
  }
  get: BlobStore['get'] = (k, r) => {
    this.reads.push({ key: k, range: r });
    return this.inner.get(k, r);
  };
  put: BlobStore['put'] = (k, b, o) => this.inner.put(k, b, o);
  head: BlobStore['head'] = (k) => this.inner.head(k);
  list: BlobStore['list'] = (p) => this.inner.list(p);
  getTags: BlobStore['getTags'] = (k) => this.inner.getTags(k);
  putTags: BlobStore['putTags'] = (k, t) => this.inner.putTags(k, t);
  delete: BlobStore['delete'] = (k) => this.inner.delete(k);
  close: BlobStore['close'] = () => this.inner.close();
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function request(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Starts a download and breaks the connection once at least `keep` bytes arrived; returns exactly `keep` bytes. */
function interruptedDownload(url: string, keep: number): Promise<{ bytes: Buffer; etag: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      const chunks: Buffer[] = [];
      let got = 0;
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        got += c.length;
        if (got >= keep) {
          req.destroy();
          resolve({ bytes: Buffer.concat(chunks).subarray(0, keep), etag: String(res.headers.etag) });
        }
      });
      res.on('end', () => reject(new Error(`the download ended after ${got} bytes, before ${keep}`)));
    });
    req.on('error', (err) => {
      if (!req.destroyed) reject(err);
    });
  });
}

const dir = tempDir('weft-serve-packs-');
const stylesDir = join(dir, 'styles');
const blobDir = join(dir, 'blob');
let store: RecordingStore;
let server: TestServer;
let fallback: TestServer;
let rel: FixtureRelease;
let url: string;
let full: Buffer;
let etag: string;

describe.skipIf(why)('region packs over HTTP', () => {
  beforeAll(async () => {
    mkdirSync(stylesDir);
    writeFileSync(
      join(stylesDir, 'activity.json'),
      JSON.stringify({
        version: 8,
        sources: { a: { type: 'vector', url: '/tiles/{region}/activity.json' } },
        layers: [],
      }),
    );
    store = new RecordingStore(new LocalBlobStore(blobDir));
    // the real tiles module provides the 'releases' service the packs module looks up per request
    server = await startTestServer({
      blob: store,
      modules: [(ctx) => createTilesModule(ctx), packsModule({ stylesDir })],
    });
    rel = await releaseFixture({
      blob: store,
      db: server.db,
      archives: await makeArchives(dir, 'one', 60),
      at: new Date('2025-04-01T10:00:00.000Z'),
    });
    await need<ReleaseRegistry>(server.ctx, 'releases').refresh('monaco');
    url = `${server.url}/regions/monaco/pack`;
    const r = await request(url);
    expect(r.status).toBe(200);
    full = r.body;
    etag = String(r.headers.etag);
  });
  afterAll(async () => {
    await fallback?.stop();
    await server?.stop();
  });

  it('sends the pack with its length, type, name, ETag and ranges; it verifies, and holds the prod archives', async () => {
    const r = await request(url);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/x-tar');
    expect(Number(r.headers['content-length'])).toBe(r.body.length);
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(r.headers.etag).toMatch(/^"pack-[0-9a-f]{64}"$/);
    expect(r.headers['content-disposition']).toBe(`attachment; filename="monaco-${rel.release}.weftpack"`);
    expect(r.headers['access-control-allow-origin']).toBe('*');
    expect(r.headers['x-weft-release']).toBe(rel.release);
    expect(r.body.equals(full)).toBe(true); // the same release gives the same bytes

    const file = join(dir, 'download.weftpack');
    writeFileSync(file, r.body);
    const v = await runCli(['pack', 'verify', file]);
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
    expect(v.stdout).toContain(`ok: region monaco (Monaco), release ${rel.release}, 2 archives, 1 style`);

    const source = fileSource(file);
    try {
      const index = await indexPack(source);
      for (const layer of ['base', 'activity'] as const) {
        const e = index.entries.find((x) => x.name === `${layer}.pmtiles`)!;
        const inPack = r.body.subarray(e.dataOffset, e.dataOffset + e.size);
        // the prod object in the blob folder, read from disk without our adapter
        expect(inPack.equals(readFileSync(join(blobDir, rel.files[layer].key)))).toBe(true);
        expect(inPack.equals(rel.files[layer].bytes)).toBe(true);
      }
      // the pmtiles package reads a tile from inside the downloaded pack: the prod archive's tile
      const inner = entrySource(
        source,
        index.entries.find((x) => x.name === 'base.pmtiles')!,
      );
      const inPack = referenceReaderOver(inner);
      const prod = referenceReader(join(blobDir, rel.files.base.key));
      const h = await prod.getHeader();
      const z = h.maxZoom;
      const lat = (h.centerLat * Math.PI) / 180;
      const x = Math.floor(((h.minLon + 180) / 360) * 2 ** z);
      const y = Math.floor(((1 - Math.log(Math.tan(lat) + 1 / Math.cos(lat)) / Math.PI) / 2) * 2 ** z);
      let found = 0;
      for (let dx = 0; dx < 6; dx++)
        for (let dy = -3; dy < 3; dy++) {
          const a = await referenceTile(inPack, z, x + dx, y + dy);
          expect(sameBytes(a, await referenceTile(prod, z, x + dx, y + dy))).toBe(true);
          if (a) found++;
        }
      expect(found).toBeGreaterThan(0);
    } finally {
      await source.close();
    }
  });

  it('weft pack create writes the very bytes the server sends', async () => {
    const file = join(dir, 'created.weftpack');
    const r = await runCli(['pack', 'create', '--region', 'monaco', '-o', file, '--styles', stylesDir], {
      env: { WEFT_BLOB_DIR: blobDir, S3_ENDPOINT: '' },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`(ETag ${etag})`);
    expect(readFileSync(file).equals(full)).toBe(true);
  });

  it('HEAD gives the headers of GET and no body', async () => {
    const r = await request(url, {}, 'HEAD');
    expect(r.status).toBe(200);
    expect(Number(r.headers['content-length'])).toBe(full.length);
    expect(r.headers.etag).toBe(etag);
    expect(r.body.length).toBe(0);
  });

  it('downloads broken off at random points resume with Range + If-Range to the identical bytes', async () => {
    const rnd = new Random(66);
    const points = [1, 512, full.length - 1];
    for (let i = 0; i < 5; i++) points.push(rnd.int(1, full.length - 1));
    for (const k of points) {
      const first = await interruptedDownload(url, k);
      expect(first.etag).toBe(etag);
      const rest = await request(url, { Range: `bytes=${k}-`, 'If-Range': first.etag });
      expect(rest.status, `split at ${k}`).toBe(206);
      expect(rest.headers['content-range']).toBe(`bytes ${k}-${full.length - 1}/${full.length}`);
      expect(Number(rest.headers['content-length'])).toBe(full.length - k);
      expect(Buffer.concat([first.bytes, rest.body]).equals(full), `split at ${k}`).toBe(true);
    }
    // a client that goes away mid-download is not a server problem
    expect(server.logs.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
  });

  it('Range edge cases: first byte, open-ended, suffix, clamped, past the end, malformed, multiple', async () => {
    const size = full.length;
    const partial = async (range: string, start: number, end: number) => {
      const r = await request(url, { Range: range });
      expect(r.status, range).toBe(206);
      expect(r.headers['content-range'], range).toBe(`bytes ${start}-${end}/${size}`);
      expect(r.body.equals(full.subarray(start, end + 1)), range).toBe(true);
    };
    await partial('bytes=0-0', 0, 0);
    await partial('bytes=1000-', 1000, size - 1);
    await partial('bytes=-700', size - 700, size - 1);
    await partial(`bytes=-${size + 10}`, 0, size - 1);
    await partial(`bytes=${size - 2}-${size + 100}`, size - 2, size - 1);
    await partial('bytes=600-1500', 600, 1500);

    for (const range of [`bytes=${size}-`, `bytes=${size + 5}-${size + 9}`, 'bytes=-0']) {
      const r = await request(url, { Range: range });
      expect(r.status, range).toBe(416);
      expect(r.headers['content-range']).toBe(`bytes */${size}`);
      expect(JSON.parse(r.body.toString()).error.code).toBe('range');
    }
    for (const range of ['bytes=abc', 'bytes=9-5', 'items=0-5', 'bytes=0-1,5-6', 'bytes=', 'bytes=--3']) {
      const r = await request(url, { Range: range });
      expect(r.status, range).toBe(200);
      expect(r.body.equals(full), range).toBe(true);
    }
  });

  it('If-Range with another ETag or a date gets the whole pack; If-None-Match gets 304', async () => {
    for (const ifRange of ['"pack-0000"', `W/${etag}`, 'Tue, 01 Apr 2025 10:00:00 GMT']) {
      const r = await request(url, { Range: 'bytes=10-20', 'If-Range': ifRange });
      expect(r.status, ifRange).toBe(200);
      expect(r.body.equals(full)).toBe(true);
    }
    for (const inm of [etag, `W/${etag}`, `"x", ${etag}`, '*']) {
      const r = await request(url, { 'If-None-Match': inm });
      expect(r.status, inm).toBe(304);
      expect(r.headers.etag).toBe(etag);
      expect(r.body.length).toBe(0);
    }
    const r = await request(url, { 'If-None-Match': '"pack-other"' });
    expect(r.status).toBe(200);
  });

  it('streams archive bytes from the blob store as ranged reads of only the bytes asked for', async () => {
    const source = fileSource(join(dir, 'download.weftpack'));
    const e = (await indexPack(source)).entries.find((x) => x.name === 'base.pmtiles')!;
    await source.close();
    store.reads = [];
    const start = e.dataOffset + 100;
    const end = e.dataOffset + 299;
    const r = await request(url, { Range: `bytes=${start}-${end}` });
    expect(r.status).toBe(206);
    expect(r.body.equals(full.subarray(start, end + 1))).toBe(true);
    const archiveReads = store.reads.filter((x) => x.key.startsWith('tiles/'));
    expect(archiveReads).toEqual([{ key: rel.files.base.key, range: { start: 100, end: 299 } }]);
  });

  it('404 for an unknown region, and for a region with nothing in prod (staging is never packed)', async () => {
    for (const [path, code] of [
      ['/regions/atlantis/pack', 'not_found'],
      ['/regions/..%2Fregions%2Fmonaco/pack', 'not_found'],
      ['/regions/andorra/pack', 'no_release'],
    ] as const) {
      const r = await request(`${server.url}${path}`);
      expect(r.status, path).toBe(404);
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(r.body.toString()).error.code, path).toBe(code);
    }
    // published to staging only: still nothing to download
    await publishFixture({
      blob: store,
      db: server.db,
      region: 'liechtenstein',
      archives: await makeArchives(dir, 'staged', 20),
      at: new Date('2025-04-02T10:00:00.000Z'),
    });
    await need<ReleaseRegistry>(server.ctx, 'releases').refresh('liechtenstein');
    const r = await request(`${server.url}/regions/liechtenstein/pack`);
    expect(r.status).toBe(404);
    expect(JSON.parse(r.body.toString()).error.code).toBe('no_release');
  });

  it('without a releases service the module reads the prod tags itself and sends the same bytes', async () => {
    fallback = await startTestServer({
      blob: new LocalBlobStore(blobDir),
      modules: [packsModule({ stylesDir })],
    });
    const r = await request(`${fallback.url}/regions/monaco/pack`);
    expect(r.status).toBe(200);
    expect(r.headers.etag).toBe(etag);
    expect(r.body.equals(full)).toBe(true);
    expect((await request(`${fallback.url}/regions/andorra/pack`)).status).toBe(404);
    expect((await request(`${fallback.url}/regions/atlantis/pack`)).status).toBe(404);
  });

  it('a new promotion switches the pack: new ETag and name; an old If-Range gets the whole new pack', async () => {
    const next = await releaseFixture({
      blob: store,
      db: server.db,
      archives: await makeArchives(dir, 'two', 40),
      at: new Date('2025-04-03T10:00:00.000Z'),
    });
    await need<ReleaseRegistry>(server.ctx, 'releases').refresh('monaco');
    const r = await request(url, { Range: 'bytes=100-', 'If-Range': etag });
    expect(r.status).toBe(200);
    expect(r.headers.etag).not.toBe(etag);
    expect(r.headers['content-disposition']).toBe(`attachment; filename="monaco-${next.release}.weftpack"`);
    const file = join(dir, 'next.weftpack');
    writeFileSync(file, r.body);
    const v = await runCli(['pack', 'verify', file]);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain(`release ${next.release}`);
  });

  it('a prod archive missing from the store gives 503 before any pack byte', async () => {
    const current = await need<ReleaseRegistry>(server.ctx, 'releases').current('monaco');
    await store.delete(current!.manifest.files.find((f) => f.layer === 'activity')!.key);
    const r = await request(url);
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body.toString()).error.code).toBe('unavailable');
    expect(r.headers['retry-after']).toBe('30');
  });
});
