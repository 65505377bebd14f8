// The font route (serve/viewer/fonts.ts) in a real `weft serve` over a real socket: glyph ranges as built, comma
// fontstacks, an empty but valid PBF for a range the font lacks, 404 for bad names and ranges, 503 before the glyphs
// are built, caching, gzip, CORS and the route's metrics label.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGlyphs } from '../../scripts/build-glyphs.js';
import {
  createFontServer,
  defaultGlyphsDir,
  emptyGlyphsPbf,
  parseFontPath,
  serveFont,
} from '../../serve/viewer/fonts.js';
import { FONTSTACKS, NOTO_DIR } from '../../styles/src/fonts.js';
import { tempDir } from '../helpers/tmp.js';
import { startTestServer, type TestServer } from '../serve/server.js';
import { decodeGlyphs } from './glyph-pbf.js';

const HAVE_FONTS = Object.values(FONTSTACKS).every((f) => existsSync(join(NOTO_DIR, f)));

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw GET (or HEAD) without automatic decompression. */
function get(
  base: string,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const url = (stack: string, range: string) => `/fonts/${encodeURIComponent(stack)}/${range}.pbf`;

describe('parseFontPath and emptyGlyphsPbf', () => {
  it('accept exactly the 256 ranges 0-255 … 65280-65535 and comma lists of names', () => {
    expect(parseFontPath('/fonts/Noto Sans Regular/0-255.pbf')).toEqual({
      stacks: ['Noto Sans Regular'],
      start: 0,
    });
    expect(parseFontPath('/fonts/A,B/65280-65535.pbf')).toEqual({ stacks: ['A', 'B'], start: 65280 });
    expect(parseFontPath('/fonts/A, B/256-511.pbf')?.stacks).toEqual(['A', 'B']);
    for (const bad of [
      '/fonts/A/1-256.pbf',
      '/fonts/A/0-254.pbf',
      '/fonts/A/65536-65791.pbf',
      '/fonts/A/0-255.mvt',
      '/fonts/A/0-255',
      '/fonts/A/B/0-255.pbf',
      '/fonts//0-255.pbf',
      '/fonts/A,,B/0-255.pbf',
      '/fonts/A/-256--1.pbf',
      '/tiles/A/0-255.pbf',
    ])
      expect(parseFontPath(bad), bad).toBeUndefined();
  });

  it('makes a glyphs PBF with the fontstack and range and no glyphs', () => {
    expect(decodeGlyphs(emptyGlyphsPbf('Noto Sans Regular', 19968))).toEqual([
      { name: 'Noto Sans Regular', range: '19968-20223', glyphs: [] },
    ]);
  });

  it('finds the repository build/glyphs from sources', () => {
    expect(defaultGlyphsDir()).toBe(fileURLToPath(new URL('../../build/glyphs', import.meta.url)));
  });
});

describe.skipIf(!HAVE_FONTS)('GET /fonts/{fontstack}/{range}.pbf', () => {
  const dir = tempDir('weft-fonts-route-');
  const glyphs = join(dir, 'glyphs');
  let server: TestServer;
  const file = (stack: string, range: string) => readFileSync(join(glyphs, stack, `${range}.pbf`));

  beforeAll(async () => {
    await buildGlyphs({ outDir: glyphs });
    const fonts = createFontServer(glyphs);
    const unbuilt = createFontServer(join(dir, 'not-built'));
    server = await startTestServer({
      modules: [
        () => ({
          name: 'fonts-test',
          // the unbuilt folder answers under /fonts-unbuilt/ (rewritten to /fonts/), the real one under /fonts/
          fast: (req, res, target) =>
            target.path.startsWith('/fonts-unbuilt/')
              ? unbuilt.serve(req, res, {
                  ...target,
                  path: target.path.replace('/fonts-unbuilt/', '/fonts/'),
                })
              : fonts.serve(req, res, target),
        }),
      ],
    });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('serves a built range as built, with protobuf type, long caching, ETag and CORS', async () => {
    const r = await get(server.url, url('Noto Sans Regular', '0-255'));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/x-protobuf');
    expect(r.headers['cache-control']).toMatch(/public, max-age=(\d{7,})/);
    expect(r.headers['access-control-allow-origin']).toBe('*');
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(Number(r.headers['content-length'])).toBe(r.body.length);
    expect(Buffer.compare(r.body, file('Noto Sans Regular', '0-255'))).toBe(0);
    expect(decodeGlyphs(r.body)[0]!.glyphs.length).toBeGreaterThan(150);
    // revalidation
    const etag = String(r.headers.etag);
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await get(server.url, url('Noto Sans Regular', '0-255'), { 'If-None-Match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    // HEAD: the headers without the body
    const head = await get(server.url, url('Noto Sans Regular', '0-255'), {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBe(r.body.length);
    expect(head.body.length).toBe(0);
  });

  it('gzips for clients that accept it', async () => {
    const r = await get(server.url, url('Noto Sans Bold', '8192-8447'), { 'Accept-Encoding': 'gzip, br' });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.headers.vary).toMatch(/Accept-Encoding/);
    const raw = file('Noto Sans Bold', '8192-8447');
    expect(r.body.length).toBeLessThan(raw.length);
    expect(Buffer.compare(gunzipSync(r.body), raw)).toBe(0);
  });

  it('serves a comma list by the first fontstack it has', async () => {
    const bold = await get(server.url, url('Noto Sans Bold,Noto Sans Regular', '0-255'));
    expect(bold.status).toBe(200);
    expect(Buffer.compare(bold.body, file('Noto Sans Bold', '0-255'))).toBe(0);
    const fallback = await get(server.url, url('Open Sans Semibold,Noto Sans Italic', '256-511'));
    expect(fallback.status).toBe(200);
    expect(Buffer.compare(fallback.body, file('Noto Sans Italic', '256-511'))).toBe(0);
  });

  it('answers a valid range the font lacks with a glyphs PBF without glyphs (200)', async () => {
    for (const range of ['19968-20223', '62976-63231']) {
      const r = await get(server.url, url('Noto Sans Regular', range));
      expect(r.status, range).toBe(200);
      expect(r.headers['content-type']).toBe('application/x-protobuf');
      expect(decodeGlyphs(r.body)).toEqual([{ name: 'Noto Sans Regular', range, glyphs: [] }]);
    }
  });

  it('answers 404 in the error shape for unknown fontstacks, bad ranges and paths out of the folder', async () => {
    for (const path of [
      url('Comic Sans', '0-255'),
      url('Noto Sans Regular', '1-256'),
      url('Noto Sans Regular', '0-254'),
      url('Noto Sans Regular', '65536-65791'),
      '/fonts/Noto%20Sans%20Regular/0-255.json',
      '/fonts/..%2F..%2Fpackage.json/0-255.pbf',
      '/fonts/../manifest.json',
      '/fonts/manifest.json/0-255.pbf',
      '/fonts/Noto%20Sans%20Regular.tmp-1/0-255.pbf',
    ]) {
      const r = await get(server.url, path);
      expect(r.status, path).toBe(404);
      expect(r.headers['access-control-allow-origin'], path).toBe('*');
      const body = JSON.parse(r.body.toString('utf8')) as { error: { code: string; message: string } };
      expect(body.error.code, path).toBe('not_found');
    }
  });

  it('answers 503 while the glyphs are not built', async () => {
    const r = await get(server.url, '/fonts-unbuilt/Noto%20Sans%20Regular/0-255.pbf');
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body.toString('utf8'))).toMatchObject({ error: { code: 'unavailable' } });
  });

  it('leaves other paths and methods to the rest of the server, and names its route in the metrics', async () => {
    expect((await get(server.url, '/not-fonts/0-255.pbf')).status).toBe(404);
    const post = await get(server.url, url('Noto Sans Regular', '0-255'), {}, 'POST');
    expect(JSON.parse(post.body.toString('utf8'))).toMatchObject({ error: { code: 'not_found' } });
    const metrics = (await get(server.url, '/metrics')).body.toString('utf8');
    expect(metrics).toMatch(
      /weft_http_request_duration_seconds_count\{route="\/fonts\/\{fontstack\}\/\{range\}\.pbf",method="GET",status="200"\} \d+/,
    );
    expect(metrics).toMatch(/route="\/fonts\/\{fontstack\}\/\{range\}\.pbf",method="GET",status="404"/);
  });

  it('serveFont serves the repository build/glyphs (when setup built them) and passes on other paths', async () => {
    const http = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
      if (!serveFont(req, res, { path, query: new URLSearchParams() })) res.writeHead(418).end();
    });
    await new Promise<void>((ok) => http.listen(0, '127.0.0.1', ok));
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    try {
      expect((await get(base, '/tiles/0/0/0.pbf')).status).toBe(418);
      const r = await get(base, url('Noto Sans Regular', '0-255'));
      if (existsSync(join(defaultGlyphsDir(), 'manifest.json'))) {
        expect(r.status).toBe(200);
        expect(decodeGlyphs(r.body)[0]!.name).toBe('Noto Sans Regular');
      } else {
        console.warn('build/glyphs is not built (scripts/setup.sh builds it): serveFont answers 503');
        expect(r.status).toBe(503);
      }
    } finally {
      await new Promise((ok) => http.close(ok));
    }
  });
});
