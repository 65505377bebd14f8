// Archives and tiles served from S3 (a real s3rver behind a recording HTTP proxy): every read of an archive is a
// ranged GET for just the bytes asked for — a client's Range passes straight through, never a whole download.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../core/blob/s3.js';
import { tileIdToZxy } from '../../pipeline/pmtiles/tileid.js';
import { PMTilesReader } from '../../pipeline/pmtiles/reader.js';
import { createTilesModule } from '../../serve/tiles/module.js';
import { startS3rver, type RunningS3 } from '../blob/s3rver.js';
import { tempDir } from '../helpers/tmp.js';
import { referenceReader, referenceTile } from '../pmtiles/reference.js';
import { makeArchives, rawRequest, releaseFixture, waitFor, type FixtureRelease } from './fixtures.js';
import { startTestServer, type TestServer } from './server.js';

const dir = tempDir('weft-serve-s3-');

/** One request the proxy forwarded to S3, with the bytes of the answer's body. */
interface Forwarded {
  method: string;
  path: string;
  range: string | undefined;
  status: number;
  bytes: number;
}

/** A plain HTTP proxy in front of S3 that records every request (SigV4 signs the Host, which it keeps). */
async function recordingProxy(target: string): Promise<{ url: string; seen: Forwarded[]; server: Server }> {
  const t = new URL(target);
  const seen: Forwarded[] = [];
  const server = createServer((req, res) => {
    const up = request(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers },
      (ur) => {
        const rec: Forwarded = {
          method: req.method ?? '',
          path: decodeURIComponent((req.url ?? '').split('?')[0]!),
          range: req.headers.range,
          status: ur.statusCode ?? 0,
          bytes: 0,
        };
        seen.push(rec);
        ur.on('data', (c: Buffer) => (rec.bytes += c.length));
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

describe('serving from S3', () => {
  let s3: RunningS3;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let store: S3BlobStore;
  let srv: TestServer;
  let rel: FixtureRelease;
  /** what the proxy forwarded for the base archive's object */
  const archiveGets = () =>
    proxy.seen.filter((s) => s.path.endsWith(rel.files.base.key) && s.method === 'GET');

  beforeAll(async () => {
    s3 = await startS3rver(dir);
    proxy = await recordingProxy(s3.endpoint);
    store = new S3BlobStore({
      endpoint: proxy.url,
      bucket: 'tiles',
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
    });
    await store.ensureBucket();
    // base ~90 kB, so that a whole download would stand out
    const archives = await makeArchives(dir, 's3', 300);
    srv = await startTestServer({ blob: store, modules: [createTilesModule] });
    rel = await releaseFixture({ blob: store, db: srv.db, archives, bus: srv.bus });
    await waitFor(
      async () =>
        (await rawRequest(`${srv.url}/tiles/monaco/base.pmtiles`, { method: 'HEAD' })).status === 200,
    );
  });
  afterAll(async () => {
    await srv?.stop();
    await store?.close();
    proxy?.server.close();
    await s3?.stop();
  });

  it('a client Range becomes one ranged GET of exactly those bytes', async () => {
    const size = rel.files.base.size;
    for (const [range, start, end] of [
      ['bytes=1000-1999', 1000, 1999],
      ['bytes=-300', size - 300, size - 1],
      [`bytes=${size - 10}-`, size - 10, size - 1],
      // more than the 64 kB read in one piece: streamed from S3 as it arrives
      ['bytes=100-80099', 100, 80099],
    ] as const) {
      const before = archiveGets().length;
      const r = await rawRequest(`${srv.url}/tiles/monaco/base.pmtiles`, { headers: { Range: range } });
      expect(r.status, range).toBe(206);
      expect(r.headers['content-range']).toBe(`bytes ${start}-${end}/${size}`);
      expect(r.body.equals(rel.files.base.bytes.subarray(start, end + 1))).toBe(true);
      const gets = archiveGets().slice(before);
      expect(gets, range).toEqual([
        {
          method: 'GET',
          path: expect.any(String),
          range: `bytes=${start}-${end}`,
          status: 206,
          bytes: end - start + 1,
        },
      ]);
    }
    const past = await rawRequest(`${srv.url}/tiles/monaco/base.pmtiles`, {
      headers: { Range: `bytes=${size}-` },
    });
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe(`bytes */${size}`);
  });

  it('tiles are read with small ranged GETs (header, directories, tile data) and then cached', async () => {
    const ours = await PMTilesReader.openFile(rel.files.base.path);
    const ref = referenceReader(rel.files.base.path);
    const ids: number[] = [];
    for await (const e of ours.entries()) for (let i = 0; i < e.runLength; i++) ids.push(e.tileId + i);
    await ours.close();
    const before = archiveGets().length;
    for (const id of ids) {
      const [z, x, y] = tileIdToZxy(id);
      const r = await rawRequest(`${srv.url}/tiles/monaco/base/${z}/${x}/${y}.mvt`);
      expect(r.status).toBe(200);
      expect(gunzipSync(r.body).equals(Buffer.from((await referenceTile(ref, z, x, y))!))).toBe(true);
    }
    const gets = archiveGets().slice(before);
    expect(gets.length).toBeGreaterThan(0);
    expect(gets.every((g) => g.range !== undefined && g.status === 206)).toBe(true);
    const fetched = gets.reduce((n, g) => n + g.bytes, 0);
    // each tile's bytes once, never the whole archive (all tiles together are less than it)
    expect(fetched).toBeLessThan(rel.files.base.size);
    // a second pass is answered from memory: no request reaches S3
    const again = archiveGets().length;
    for (const id of ids.slice(0, 20)) {
      const [z, x, y] = tileIdToZxy(id);
      expect((await rawRequest(`${srv.url}/tiles/monaco/base/${z}/${x}/${y}.mvt`)).status).toBe(200);
    }
    expect(archiveGets().length).toBe(again);
  });

  it('a GET without Range streams the whole archive, the only case that reads it all', async () => {
    const before = archiveGets().length;
    const r = await rawRequest(`${srv.url}/tiles/monaco/base-${rel.files.base.sha256}.pmtiles`);
    expect(r.status).toBe(200);
    expect(r.body.equals(rel.files.base.bytes)).toBe(true);
    expect(archiveGets().slice(before)).toMatchObject([{ range: `bytes=0-${rel.files.base.size - 1}` }]);
  });
});
