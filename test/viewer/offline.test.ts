// Offline: a region pack downloaded from `GET /regions/monaco/pack` is opened in the viewer with the file picker —
// after the network is cut (every request aborted) and the server is stopped — and the map still renders Monaco
// from the pack's archives (read from the File in the browser through the pmtiles library).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedPath } from '../helpers/shared.js';
import { tempDir } from '../helpers/tmp.js';
import { launchChromium, renderSkipReason } from '../render/browser.js';
import { pngColours } from '../render/png-colours.js';
import { featureCounts, phonePage, waitForViewer } from './page.js';
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

    const w = await phonePage(browser);
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
