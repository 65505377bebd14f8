// The viewer renders Monaco — the real base archive and an activity archive built from the event store, served by
// a real `weft serve` — in the full viewer (MapLibre 6) and the light path (Leaflet + protomaps-leaflet), in
// Chromium at a phone viewport: painted pixels, base and activity features queryable, no errors, no CSP violations;
// and the light path's first load, as the browser measured it, stays under 120 KB.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedPath } from '../helpers/shared.js';
import { launchChromium, renderSkipReason } from '../render/browser.js';
import { pngColours } from '../render/png-colours.js';
import { featureCounts, phonePage, waitForViewer } from './page.js';
import { measurePayload, payloadTable } from './payload.js';
import { startViewerStack, type ViewerStack } from './stack.js';

const skipReason = renderSkipReason(sharedPath('osm'));
if (skipReason) console.warn(`skipped: viewer render test: ${skipReason}`);

describe.skipIf(!!skipReason)('the viewer renders Monaco in Chromium (phone viewport)', () => {
  let stack: ViewerStack;
  let browser: Browser;

  beforeAll(async () => {
    stack = await startViewerStack();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('full viewer: MapLibre draws base and activity, lists the nodes in view, attribution visible', async () => {
    const w = await phonePage(browser);
    await w.page.goto(`${stack.url}/?region=monaco&mode=full`);
    const state = await waitForViewer(w.page);
    expect(state.mode).toBe('full');
    expect(state.errors).toEqual([]);
    const counts = await featureCounts(w.page);
    expect(counts['base/streets'] ?? 0).toBeGreaterThan(10);
    expect(counts['base/buildings'] ?? 0).toBeGreaterThan(10);
    expect(counts['activity/nodes'] ?? 0).toBeGreaterThan(0);
    const png = pngColours(await w.page.locator('#map').screenshot());
    expect(png.distinct).toBeGreaterThan(50);
    expect(png.notDominant).toBeGreaterThan(0.2);
    await expect
      .poll(() => w.page.locator('.maplibregl-ctrl-attrib').innerText())
      .toContain('OpenStreetMap contributors');
    expect(await w.page.locator('.maplibregl-ctrl-attrib').isVisible()).toBe(true);
    // the screen-reader list names the seeded nodes in view with their state
    await expect
      .poll(() => w.page.locator('.weft-summary').innerText(), { timeout: 10_000 })
      .toMatch(/\d+ nodes? in view/);
    const items = await w.page.locator('.weft-node').allInnerTexts();
    expect(items.some((t) => /Harbour garden, place, fresh activity, 1 thread/.test(t))).toBe(true);
    expect(w.violations).toEqual([]);
    expect(w.pageErrors).toEqual([]);
    await w.context.close();
  });

  it('light path: Leaflet + protomaps-leaflet draw the same tiles, no MapLibre loaded', async () => {
    const w = await phonePage(browser);
    const scripts: string[] = [];
    w.page.on('request', (r) => scripts.push(r.url()));
    await w.page.goto(`${stack.url}/embed?region=monaco&mode=light`);
    const state = await waitForViewer(w.page);
    expect(state.mode).toBe('light');
    expect(state.errors).toEqual([]);
    const counts = await featureCounts(w.page);
    expect(counts['base/streets'] ?? 0).toBeGreaterThan(10);
    expect(Object.keys(counts).some((k) => k.startsWith('activity/'))).toBe(true);
    const png = pngColours(await w.page.locator('#map').screenshot());
    expect(png.distinct).toBeGreaterThan(20);
    expect(png.notDominant).toBeGreaterThan(0.2);
    expect(await w.page.locator('.leaflet-control-attribution').innerText()).toContain(
      'OpenStreetMap contributors',
    );
    expect(scripts.filter((u) => /viewer-|maplibre/.test(u))).toEqual([]);
    expect(scripts.some((u) => /\/tiles\/monaco\/base\/\d+\/\d+\/\d+\.mvt$/.test(u))).toBe(true);
    // the button swaps in the full viewer
    await w.page.getByRole('button', { name: 'Full map' }).click();
    await w.page.waitForFunction(
      () => (globalThis as unknown as { weftViewer: { mode: string } }).weftViewer.mode === 'full',
    );
    const full = await waitForViewer(w.page);
    expect(full.errors).toEqual([]);
    expect(w.violations).toEqual([]);
    expect(w.pageErrors).toEqual([]);
    await w.context.close();
  });

  it('light path first load: < 120 KB on the wire (HTML, JS, CSS, rules, tiles of the first view)', async () => {
    const p = await measurePayload(browser, `${stack.url}/embed?region=monaco&mode=light`);
    console.log(`light path payload:\n${payloadTable(p, stack.url)}`);
    expect(p.mode).toBe('light');
    const kinds = p.resources.map((r) => r.url.replace(stack.url, ''));
    expect(kinds.some((u) => u.startsWith('/embed?'))).toBe(true);
    expect(kinds.filter((u) => /\/tiles\/monaco\/base\/\d+\/\d+\/\d+\.mvt$/.test(u)).length).toBeGreaterThan(
      1,
    );
    expect(kinds.filter((u) => /maplibre|viewer-/.test(u))).toEqual([]);
    // every script and stylesheet came compressed
    for (const r of p.resources.filter((r) => r.type === 'script' || r.type === 'stylesheet'))
      expect(r.encoding, r.url).toBe('gzip');
    expect(p.total).toBeLessThan(120 * 1024);
  });

  it('keyboard: pan and zoom the map, reach the nodes, open one with Enter', async () => {
    const w = await phonePage(browser);
    await w.page.goto(`${stack.url}/?region=monaco&mode=full`);
    await waitForViewer(w.page);
    type Cam = { lng: number; lat: number; zoom: number };
    const camera = () =>
      w.page.evaluate(() => {
        const m = (
          globalThis as unknown as {
            weftViewer: { map: { getCenter(): { lng: number; lat: number }; getZoom(): number } };
          }
        ).weftViewer.map;
        const c = m.getCenter();
        return { lng: c.lng, lat: c.lat, zoom: m.getZoom() } as Cam;
      });
    const canvas = w.page.locator('#map canvas');
    await canvas.focus();
    expect(await canvas.getAttribute('aria-label')).toMatch(/Map of Monaco/);
    const start = await camera();
    await w.page.keyboard.press('ArrowRight');
    await expect.poll(async () => (await camera()).lng, { timeout: 5000 }).toBeGreaterThan(start.lng);
    await w.page.keyboard.press('Equal');
    await expect.poll(async () => (await camera()).zoom, { timeout: 5000 }).toBeGreaterThan(start.zoom);
    // the nodes in view are buttons in the tab order, named with their state
    const first = w.page.locator('.weft-node').first();
    await expect.poll(() => first.count(), { timeout: 10_000 }).toBe(1);
    await first.focus();
    const name = await first.innerText();
    const outline = await first.evaluate((el) => {
      const g = globalThis as unknown as {
        getComputedStyle(e: unknown): { outlineStyle: string; outlineWidth: string };
      };
      const cs = g.getComputedStyle(el);
      return `${cs.outlineStyle} ${cs.outlineWidth}`;
    });
    expect(outline).toBe('solid 3px');
    await w.page.keyboard.press('Enter');
    await expect
      .poll(() => w.page.locator('.weft-panel h2').innerText(), { timeout: 5000 })
      .toBe(name.split(',')[0]);
    // focus moved to the panel's heading, so a screen reader reads the node next
    expect(
      await w.page.evaluate(
        () =>
          (globalThis as unknown as { document: { activeElement: { tagName: string } } }).document
            .activeElement.tagName,
      ),
    ).toBe('H2');
    expect(await w.page.locator('.weft-summary').getAttribute('aria-live')).toBe('polite');
    await w.context.close();
  });

  it('keyboard in the light path: the map takes focus and zooms with +', async () => {
    const w = await phonePage(browser);
    await w.page.goto(`${stack.url}/embed?region=monaco&mode=light`);
    await waitForViewer(w.page);
    const zoom = () =>
      w.page.evaluate(() =>
        (globalThis as unknown as { weftViewer: { map: { getZoom(): number } } }).weftViewer.map.getZoom(),
      );
    const z0 = await zoom();
    await w.page.locator('#map').focus();
    await w.page.keyboard.press('Equal');
    await expect.poll(zoom, { timeout: 5000 }).toBe(z0 + 1);
    await w.context.close();
  });
});
