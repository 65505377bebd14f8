// The viewer's hosting module on a real server: pages with their boot JSON and CSP (the embed frameable by any
// site, `/` only by itself), hashed assets immutable and gzipped, /embed.js cacheable briefly and open to any origin,
// /sw.js (the offline shell) at the root and never cached, /fonts/ handed to the glyph route, and a clear 503 when
// the viewer was never built.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { viewerModule } from '../../serve/viewer/module.js';
import { tempDir } from '../helpers/tmp.js';
import { startTestServer, type TestServer } from '../serve/server.js';
import { viewerDir } from './stack.js';

describe('viewer hosting', () => {
  let server: TestServer;
  let unbuilt: TestServer;
  let dir: string;

  beforeAll(async () => {
    dir = viewerDir();
    server = await startTestServer({ modules: [viewerModule({ dir })] });
    unbuilt = await startTestServer({ modules: [viewerModule({ dir: tempDir('weft-no-viewer-') })] });
  });
  afterAll(async () => {
    await server?.stop();
    await unbuilt?.stop();
  });

  const boot = (html: string) =>
    JSON.parse(/<script type="application\/json" id="weft-boot">(.*?)<\/script>/.exec(html)![1]!) as {
      region?: { id: string; center: number[] };
      regions: { id: string }[];
      websockets: boolean;
    };

  it('serves /embed with the region in its boot JSON, frameable by any site', async () => {
    const res = await fetch(`${server.url}/embed?region=monaco&mode=light`, {
      headers: { 'Accept-Encoding': 'gzip' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain('frame-ancestors *');
    expect(csp).toContain("script-src 'self'");
    expect(res.headers.get('x-frame-options')).toBeNull();
    const b = boot(await res.text());
    expect(b.region?.id).toBe('monaco');
    expect(b.region?.center).toEqual([7.4246, 43.7384, 14]);
    expect(b.regions.map((r) => r.id)).toContain('monaco');
    expect(b.websockets).toBe(true);
    // an unknown region: the page still loads (and says so), without a region
    expect(boot(await (await fetch(`${server.url}/embed?region=atlantis`)).text()).region).toBeUndefined();
  });

  it('serves / framed only by itself', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'self'");
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(await res.text()).toContain('id="pack"');
  });

  it('serves hashed assets immutable and gzipped, the snippet briefly cached and open to all', async () => {
    const assets = readdirSync(path.join(dir, 'assets'));
    const js = assets.find((f) => /^light-.*\.js$/.test(f))!;
    const res = await fetch(`${server.url}/assets/${js}`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(res.headers.get('vary')).toBe('Accept-Encoding');
    const worker = assets.find((f) => f.endsWith('.mjs'))!;
    expect((await fetch(`${server.url}/assets/${worker}`)).headers.get('content-type')).toBe(
      'text/javascript; charset=utf-8',
    );
    expect((await fetch(`${server.url}/assets/nope.js`)).status).toBe(404);
    expect((await fetch(`${server.url}/assets/..%2Fembed.html`)).status).toBe(404);
    const snippet = await fetch(`${server.url}/embed.js`);
    expect(snippet.status).toBe(200);
    expect(snippet.headers.get('cache-control')).toBe('public, max-age=300');
    expect(snippet.headers.get('access-control-allow-origin')).toBe('*');
    const text = await snippet.text();
    expect(text).not.toMatch(/^\s*(import|export)\b/m);
    expect(text).toContain('WeftEmbed');
    const head = await fetch(`${server.url}/embed.js`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('serves the offline shell’s service worker from the root, never cached, a classic script', async () => {
    const res = await fetch(`${server.url}/sw.js`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('service-worker-allowed')).toBe('/');
    const text = await res.text();
    // registered as a classic worker: it must import nothing
    expect(text).not.toMatch(/^\s*(import|export)\b/m);
    expect(text).not.toMatch(/\bimport\s*\(/);
    expect(text).toContain('weft-shell-v1');
    expect((await fetch(`${unbuilt.url}/sw.js`)).status).toBe(404);
  });

  it('hands /fonts/ to the glyph route', async () => {
    const res = await fetch(`${server.url}/fonts/Noto%20Sans%20Regular/0-255.pbf`);
    expect([200, 503]).toContain(res.status);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect((await fetch(`${server.url}/fonts/bad`)).status).toBe(404);
  });

  it('says the viewer is not built instead of serving nothing', async () => {
    const res = await fetch(`${unbuilt.url}/embed?region=monaco`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /scripts\/build-viewer\.sh/,
    );
    expect((await fetch(`${unbuilt.url}/embed.js`)).status).toBe(404);
  });
});
