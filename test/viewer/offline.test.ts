// Offline: a region pack downloaded from `GET /regions/monaco/pack` is opened in the viewer with the file picker —
// after the network is cut (every request aborted) and the server is stopped — and the map still renders Monaco
// from the pack's archives (read from the File in the browser through the pmtiles library). And the offline app
// shell: after one online visit, the service worker (/sw.js) has kept the page, its assets, glyphs, style and the
// tiles viewed, so a reload with the browser offline and the server gone opens and draws Monaco again.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedPath } from '../helpers/shared.js';
import { tempDir } from '../helpers/tmp.js';
import { launchChromium, renderSkipReason } from '../render/browser.js';
import { pngColours } from '../render/png-colours.js';
import { featureCounts, phonePage, waitForViewer, type Watched } from './page.js';
import { startViewerStack, type ViewerStack } from './stack.js';

const skipReason = renderSkipReason(sharedPath('osm'));
if (skipReason) console.warn(`skipped: viewer offline test: ${skipReason}`);

describe.skipIf(!!skipReason)('the viewer opens a region pack with the network cut', () => {
  let stack: ViewerStack;
  let browser: Browser;
  let stopped = false;

  beforeAll(async () => {
    stack = await startViewerStack();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    if (!stopped) await stack?.stop();
  });

  it('renders Monaco from the pack with no network at all', async () => {
    const res = await fetch(`${stack.url}/regions/monaco/pack`);
    expect(res.status).toBe(200);
    const packFile = path.join(tempDir('weft-viewer-pack-'), 'monaco.weftpack');
    writeFileSync(packFile, Buffer.from(await res.arrayBuffer()));

    // no service worker here: this is the pack's own path, not the offline shell's
    const w = await phonePage(browser, { serviceWorkers: 'block' });
    await w.page.goto(`${stack.url}/?region=monaco&mode=full`);
    await waitForViewer(w.page);

    // cut the network: every request is aborted from now on, and the server is gone
    const attempted: string[] = [];
    await w.page.route('**/*', (route) => {
      attempted.push(route.request().url());
      return route.abort('internetdisconnected');
    });
    await w.context.setOffline(true);
    await stack.stop();
    stopped = true;

    await w.page.setInputFiles('#pack', packFile);
    await w.page.waitForFunction(
      () =>
        (globalThis as unknown as { document: { documentElement: { dataset: Record<string, string> } } })
          .document.documentElement.dataset.pack === 'monaco',
      undefined,
      { timeout: 20_000 },
    );
    const state = await waitForViewer(w.page, 30_000);
    expect(state.mode).toBe('full');
    expect(state.errors).toEqual([]);
    expect(await w.page.locator('#message').innerText()).toMatch(/^Offline: Monaco, release /);
    const counts = await featureCounts(w.page);
    expect(counts['base/streets'] ?? 0).toBeGreaterThan(10);
    expect(counts['base/buildings'] ?? 0).toBeGreaterThan(10);
    expect(counts['activity/nodes'] ?? 0).toBeGreaterThan(0);
    const png = pngColours(await w.page.locator('#map').screenshot());
    expect(png.distinct).toBeGreaterThan(50);
    expect(png.notDominant).toBeGreaterThan(0.2);
    // nothing but glyph ranges (which fall back to the browser's glyph cache, else no text) was even tried
    expect(attempted.filter((u) => !/\/fonts\//.test(u))).toEqual([]);
    expect(w.pageErrors).toEqual([]);
    await w.context.close();
  });
});

describe.skipIf(!!skipReason)(
  'the offline shell: after one online visit the viewer opens with no network',
  () => {
    let stack: ViewerStack;
    let browser: Browser;
    let stopped = false;

    beforeAll(async () => {
      stack = await startViewerStack();
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
      if (!stopped) await stack?.stop();
    });

    type Shell = { scope?: string; script?: string; controlled: boolean; ready?: string };
    const shellState = (w: Watched) =>
      w.page.evaluate(async () => {
        const g = globalThis as unknown as {
          navigator: {
            serviceWorker: {
              controller: unknown;
              getRegistration(): Promise<{ scope: string; active: { scriptURL: string } | null } | undefined>;
            };
          };
          document: { documentElement: { dataset: Record<string, string> } };
        };
        const r = await g.navigator.serviceWorker.getRegistration();
        return {
          scope: r?.scope,
          script: r?.active?.scriptURL,
          controlled: !!g.navigator.serviceWorker.controller,
          ready: g.document.documentElement.dataset.offlineShell,
        } as Shell;
      });

    it('reloads and renders Monaco with the browser offline and the server stopped', async () => {
      const w = await phonePage(browser);
      const online: string[] = [];
      w.page.on('request', (r) => online.push(r.url()));
      await w.page.goto(`${stack.url}/?region=monaco&mode=full`);
      await waitForViewer(w.page);
      // the worker registers from the root once the first view is drawn, takes the page, and keeps what it loaded
      await expect
        .poll(() => shellState(w), { timeout: 30_000 })
        .toEqual({ scope: `${stack.url}/`, script: `${stack.url}/sw.js`, controlled: true, ready: 'ready' });
      const sw = await fetch(`${stack.url}/sw.js`);
      expect(sw.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(sw.headers.get('cache-control')).toBe('no-cache');
      // the page's CSP lets it: worker-src 'self'
      expect((await fetch(`${stack.url}/`)).headers.get('content-security-policy')).toContain(
        "worker-src 'self'",
      );

      // the network is fully off: the server is gone and the browser is offline
      await stack.stop();
      stopped = true;
      await w.context.setOffline(true);
      expect(
        await fetch(stack.url).then(
          () => 'answered',
          () => 'down',
        ),
      ).toBe('down');
      await w.page.reload();
      const state = await waitForViewer(w.page, 30_000);
      expect(state.mode).toBe('full');
      expect(state.errors).toEqual([]);
      expect((await shellState(w)).controlled).toBe(true);
      const counts = await featureCounts(w.page);
      expect(counts['base/streets'] ?? 0).toBeGreaterThan(10);
      expect(counts['base/buildings'] ?? 0).toBeGreaterThan(10);
      expect(counts['activity/nodes'] ?? 0).toBeGreaterThan(0);
      const png = pngColours(await w.page.locator('#map').screenshot());
      expect(png.distinct).toBeGreaterThan(50);
      expect(png.notDominant).toBeGreaterThan(0.2);
      // the page is the viewer's, with its list of nodes
      await expect
        .poll(() => w.page.locator('.weft-node').allInnerTexts(), { timeout: 10_000 })
        .toContainEqual(expect.stringMatching(/^Harbour garden, place/));
      expect(w.pageErrors).toEqual([]);
      expect(w.violations).toEqual([]);
      await w.context.close();
    });
  },
);
