// The viewer renders Monaco — the real base archive and an activity archive built from the event store, served by
// a real `weft serve` — in the full viewer (MapLibre 6) and the light path (Leaflet + protomaps-leaflet), in
// Chromium at a phone viewport: painted pixels, base and activity features queryable, no errors, no CSP violations;
// both list the nodes in view for screen readers and credit OpenStreetMap and the activity data; the light path's
// first load, as the browser measured it, stays under 120 KB; on a phone the page's bar is one short row whose
// menu (sign-in, packs) works from the keyboard.
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
    const credits = w.page.locator('.leaflet-control-attribution');
    expect(await credits.innerText()).toContain('OpenStreetMap contributors');
    // the activity data's credit, as its TileJSON says, beside OpenStreetMap's
    await expect
      .poll(() => credits.innerText(), { timeout: 5000 })
      .toContain('Activity © the Monaco weave’s participants');
    // the screen-reader list of the nodes in view, with their state, announced politely
    const summary = w.page.locator('.weft-summary');
    expect(await summary.getAttribute('aria-live')).toBe('polite');
    expect(await summary.getAttribute('role')).toBe('status');
    await expect.poll(() => summary.innerText(), { timeout: 10_000 }).toMatch(/^[34] nodes in view$/);
    const items = await w.page.locator('.weft-node').allInnerTexts();
    expect(items).toContainEqual(
      expect.stringMatching(/^Harbour garden, place, fresh activity, 1 thread, 0 open proposals$/),
    );
    expect(items).toContainEqual(
      expect.stringMatching(/^Bus shelter repairs, concern, fresh activity, 0 threads/),
    );
    // keyboard: the list takes focus (the overlay shows), and a node's button opens its popup
    await w.page.locator('.weft-node', { hasText: 'Harbour garden' }).focus();
    expect(await w.page.locator('#side').isVisible()).toBe(true);
    await w.page.keyboard.press('Enter');
    await expect
      .poll(() => w.page.locator('.leaflet-popup-content').innerText(), { timeout: 5000 })
      .toContain('Harbour garden');
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

  it('phone: one short bar, the map gets most of the screen; sign-in and packs in a keyboard menu', async () => {
    const w = await phonePage(browser);
    await w.page.goto(`${stack.url}/?region=monaco&mode=full`);
    await waitForViewer(w.page);
    const bar = (await w.page.locator('.weft-bar').boundingBox())!;
    const map = (await w.page.locator('#map').boundingBox())!;
    console.log(`phone bar ${bar.height} px, map ${map.height} px of 844`);
    expect(bar.height).toBeLessThanOrEqual(52);
    expect(map.height).toBeGreaterThan(844 * 0.55);
    const button = w.page.getByRole('button', { name: 'Menu' });
    const token = w.page.getByLabel('Session token');
    expect(await button.getAttribute('aria-expanded')).toBe('false');
    expect(await token.isVisible()).toBe(false);
    expect(await w.page.locator('#pack').isVisible()).toBe(false);
    // keyboard: Enter opens the menu and moves focus into it; Tab walks it; Escape closes it, back on the button
    await button.focus();
    await w.page.keyboard.press('Enter');
    expect(await button.getAttribute('aria-expanded')).toBe('true');
    expect(await token.isVisible()).toBe(true);
    type Doc = { document: { activeElement: { id: string; textContent: string } } };
    const active = () =>
      w.page.evaluate(() => {
        const el = (globalThis as unknown as Doc).document.activeElement;
        return { id: el.id, text: el.textContent };
      });
    expect((await active()).id).toBe('token');
    await w.page.keyboard.press('Tab');
    expect((await active()).text).toBe('Sign in');
    await w.page.keyboard.press('Escape');
    expect(await button.getAttribute('aria-expanded')).toBe('false');
    expect(await token.isVisible()).toBe(false);
    expect((await active()).id).toBe('menu-button');
    // the open menu lies over the map: the map keeps its size
    await button.click();
    expect((await w.page.locator('#map').boundingBox())!.height).toBe(map.height);
    expect(await w.page.locator('#pack').isVisible()).toBe(true);
    await w.context.close();

    // a wide screen: no menu button, everything in the bar
    const wide = await phonePage(browser, { viewport: { width: 1280, height: 800 } });
    await wide.page.goto(`${stack.url}/?region=monaco&mode=full`);
    await waitForViewer(wide.page);
    expect(await wide.page.getByRole('button', { name: 'Menu' }).isVisible()).toBe(false);
    expect(await wide.page.getByLabel('Session token').isVisible()).toBe(true);
    expect(await wide.page.locator('#pack').isVisible()).toBe(true);
    await wide.context.close();
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
