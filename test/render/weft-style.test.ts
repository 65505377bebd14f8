// Our own style (styles/weft.json: base + activity) over the real Monaco base archive and a small activity archive,
// in MapLibre GL JS in headless Chromium at a phone viewport, with labels drawn from OUR glyphs served by the real
// font route (serve/viewer/fonts.ts): no map errors, no glyph warnings, water/land/activity colours painted, roads,
// places, labels and nodes queryable.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StyleSpecification } from '@maplibre/maplibre-gl-style-spec';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBase } from '../../pipeline/build-base.js';
import { PMTilesReader } from '../../pipeline/pmtiles/reader.js';
import { buildGlyphs } from '../../scripts/build-glyphs.js';
import { createFontServer } from '../../serve/viewer/fonts.js';
import { ACTIVITY_LAYERS } from '../../styles/src/activity.js';
import { ACTIVITY, BASE } from '../../styles/src/palette.js';
import { sharedPath } from '../helpers/shared.js';
import { tempDir } from '../helpers/tmp.js';
import { startTestServer, type TestServer } from '../serve/server.js';
import { makeActivityArchive, type ActivityFixture } from '../styles/activity-fixture.js';
import { launchChromium, renderSkipReason } from './browser.js';
import { mapPageHtml, type MapPageState } from './map-page.js';
import { parseCssColour, pngColours, shareNear, type PngColours } from './png-colours.js';
import { startTileServer, type TileServer } from './tile-server.js';

const STYLE_FILE = new URL('../../styles/weft.json', import.meta.url);
const MONACO = { center: [7.4246, 43.7384] as [number, number], zoom: 14 };
/** below NODE_DETAIL_ZOOM the nodes layer holds counted cells */
const CELLS_ZOOM = 11;
/** close enough for POIs, buildings at full opacity and most street names */
const STREET_ZOOM = 16;
const PHONE = { width: 390, height: 700, deviceScaleFactor: 2 };

const skipReason = renderSkipReason(sharedPath('osm'));
if (skipReason) console.warn(`skipped: weft style render test: ${skipReason}`);

interface View {
  bySourceLayer: Record<string, number>;
  byStyleLayer: Record<string, number>;
  /** properties of the features under the node layer (what a click handler gets) */
  nodeIds: string[];
  shot: PngColours;
}

interface Rendered {
  state: MapPageState;
  pageErrors: string[];
  /** every console message of the page (all levels) */
  console: { type: string; text: string }[];
  foreignRequests: string[];
  fontResponses: { url: string; status: number }[];
  close: View;
  street: View;
  cells: View;
}

const rgb = (css: string): [number, number, number] => {
  const c = parseCssColour(css);
  if (!c) throw new Error(`not a plain colour: ${css}`);
  return c;
};

async function waitIdle(page: Page, timeout: number): Promise<void> {
  await page.waitForFunction(
    () => {
      const w = globalThis as unknown as MapPageState;
      return w.weftIdle || w.weftErrors.length > 0;
    },
    undefined,
    { timeout },
  );
  const state = await page.evaluate(() => {
    const w = globalThis as unknown as MapPageState;
    return { weftIdle: w.weftIdle, weftErrors: w.weftErrors };
  });
  if (!state.weftIdle || state.weftErrors.length)
    throw new Error(`the map reported errors: ${JSON.stringify(state.weftErrors)}`);
}

async function view(page: Page, file: string): Promise<View> {
  const counts = await page.evaluate((nodeLayer) => {
    type Feature = { sourceLayer?: string; layer: { id: string }; properties: Record<string, unknown> };
    const map = (
      globalThis as unknown as {
        weftMap: { queryRenderedFeatures(o?: object): Feature[] };
      }
    ).weftMap;
    const bySourceLayer: Record<string, number> = {};
    const byStyleLayer: Record<string, number> = {};
    for (const f of map.queryRenderedFeatures()) {
      if (f.sourceLayer) bySourceLayer[f.sourceLayer] = (bySourceLayer[f.sourceLayer] ?? 0) + 1;
      byStyleLayer[f.layer.id] = (byStyleLayer[f.layer.id] ?? 0) + 1;
    }
    const nodeIds = map
      .queryRenderedFeatures({ layers: [nodeLayer] })
      .map((f) => String(f.properties.id ?? ''))
      .filter(Boolean);
    return { bySourceLayer, byStyleLayer, nodeIds };
  }, ACTIVITY_LAYERS.nodes);
  const png = await page.screenshot({ path: file, type: 'png' });
  return { ...counts, shot: pngColours(png) };
}

/** Jumps to `zoom` at the same centre, waits for the map to settle, and takes the view. */
async function viewAt(page: Page, zoom: number, file: string): Promise<View> {
  await page.evaluate((z) => {
    const w = globalThis as unknown as MapPageState & {
      weftMap: { jumpTo(o: object): void; once(e: string, f: () => void): void };
    };
    w.weftIdle = false;
    w.weftMap.once('idle', () => (w.weftIdle = true));
    w.weftMap.jumpTo({ zoom: z });
  }, zoom);
  await waitIdle(page, 60_000);
  return view(page, file);
}

describe.skipIf(!!skipReason)('styles/weft.json over Monaco in Chromium, with our glyphs', () => {
  const dir = tempDir('weft-style-render-');
  const readers: PMTilesReader[] = [];
  const tileServers: TileServer[] = [];
  let fonts: TestServer;
  let browser: Browser | undefined;
  let activity: ActivityFixture;
  let rendered: Rendered;

  beforeAll(async () => {
    const t0 = performance.now();
    const { archive } = await buildBase('monaco', { outDir: join(dir, 'base'), quiet: true });
    mkdirSync(join(dir, 'activity'));
    activity = await makeActivityArchive(join(dir, 'activity'));
    const glyphs = await buildGlyphs({ outDir: join(dir, 'glyphs') });
    const fontServer = createFontServer(glyphs.outDir);
    fonts = await startTestServer({ modules: [() => ({ name: 'fonts', fast: fontServer.serve })] });

    // one tile server per archive, each with its TileJSON
    const tilejson: Record<string, string> = {};
    for (const [name, file] of [
      ['base', archive],
      ['activity', activity.archive],
    ] as const) {
      const reader = await PMTilesReader.openFile(file);
      readers.push(reader);
      const server = await startTileServer(reader);
      tileServers.push(server);
      const metadata = (await reader.metadata()) as { vector_layers: unknown[]; attribution?: string };
      const h = reader.header;
      server.documents.set('/tilejson.json', {
        type: 'application/json',
        body: JSON.stringify({
          tilejson: '3.0.0',
          tiles: [`${server.origin}/tiles/{z}/{x}/{y}.pbf`],
          vector_layers: metadata.vector_layers,
          minzoom: h.minZoom,
          maxzoom: h.maxZoom,
          bounds: [h.minLon, h.minLat, h.maxLon, h.maxLat],
          attribution: metadata.attribution,
        }),
      });
      tilejson[name] = `${server.origin}/tilejson.json`;
    }
    const page0 = tileServers[0]!;
    // what the serving layer does: `{region}` URLs → absolute ones (here: the test servers)
    const style = JSON.parse(readFileSync(STYLE_FILE, 'utf8')) as StyleSpecification;
    expect(style.sources.base).toEqual({ type: 'vector', url: '/tiles/{region}/base.json' });
    expect(style.sources.activity).toEqual({ type: 'vector', url: '/tiles/{region}/activity.json' });
    expect(style.glyphs).toBe('/fonts/{fontstack}/{range}.pbf');
    style.sources.base = { type: 'vector', url: tilejson.base };
    style.sources.activity = { type: 'vector', url: tilejson.activity };
    style.glyphs = `${fonts.url}${style.glyphs}`;
    page0.documents.set('/style.json', { type: 'application/json', body: JSON.stringify(style) });
    page0.documents.set('/index.html', { type: 'text/html', body: mapPageHtml(MONACO) });
    const build = (performance.now() - t0) / 1000;

    browser = await launchChromium();
    const context = await browser.newContext({
      viewport: { width: PHONE.width, height: PHONE.height },
      deviceScaleFactor: PHONE.deviceScaleFactor,
    });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    const consoleLines: Rendered['console'] = [];
    const foreignRequests: string[] = [];
    const fontResponses: Rendered['fontResponses'] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => consoleLines.push({ type: msg.type(), text: msg.text() }));
    page.on('response', (r) => {
      if (new URL(r.url()).pathname.startsWith('/fonts/'))
        fontResponses.push({ url: r.url(), status: r.status() });
    });
    const allowed = [...tileServers.map((s) => s.origin), fonts.url];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (allowed.some((o) => url.startsWith(`${o}/`)) || url.startsWith('blob:') || url.startsWith('data:'))
        return route.continue();
      foreignRequests.push(url);
      return route.abort();
    });
    await page.goto(`${page0.origin}/index.html`);
    await waitIdle(page, 90_000);
    const close = await view(page, join(dir, `weft-z${MONACO.zoom}.png`));
    const street = await viewAt(page, STREET_ZOOM, join(dir, `weft-z${STREET_ZOOM}.png`));
    const cells = await viewAt(page, CELLS_ZOOM, join(dir, `weft-z${CELLS_ZOOM}.png`));
    const state = await page.evaluate(() => {
      const w = globalThis as unknown as MapPageState;
      return { weftIdle: w.weftIdle, weftErrors: w.weftErrors };
    });
    rendered = {
      state,
      pageErrors,
      console: consoleLines,
      foreignRequests,
      fontResponses,
      close,
      street,
      cells,
    };
    const brief = (v: View) => ({ ...v, shot: { ...v.shot, colours: v.shot.colours.slice(0, 20) } });
    writeFileSync(
      join(dir, 'rendered.json'),
      JSON.stringify(
        { ...rendered, close: brief(close), street: brief(street), cells: brief(cells) },
        null,
        1,
      ),
    );
    const keep = process.env.WEFT_RENDER_OUT; // a folder to keep the screenshots and rendered.json in
    if (keep) {
      mkdirSync(keep, { recursive: true });
      for (const z of [MONACO.zoom, STREET_ZOOM, CELLS_ZOOM])
        copyFileSync(join(dir, `weft-z${z}.png`), join(keep, `weft-z${z}.png`));
      for (const f of ['rendered.json']) copyFileSync(join(dir, f), join(keep, f));
    }
    console.log(
      `weft style render test: build ${build.toFixed(1)} s, render ${((performance.now() - t0) / 1000 - build).toFixed(1)} s; ` +
        `screenshots and rendered.json in ${keep ?? dir}`,
    );
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    for (const s of tileServers) await s.close();
    for (const r of readers) await r.close();
    await fonts?.stop();
  });

  it('loads style, tiles and glyphs without a single error or glyph warning', () => {
    expect(rendered.state.weftIdle).toBe(true);
    expect(rendered.state.weftErrors).toEqual([]);
    expect(rendered.pageErrors).toEqual([]);
    expect(rendered.foreignRequests).toEqual([]);
    expect(rendered.console.filter((m) => /glyph/i.test(m.text))).toEqual([]);
    expect(rendered.console.filter((m) => m.type === 'error')).toEqual([]);
    // MapLibre asked our font route for the Latin ranges of our fontstacks, and every answer was a 200
    expect(rendered.fontResponses.filter((r) => r.status !== 200)).toEqual([]);
    const asked = rendered.fontResponses.map((r) => decodeURIComponent(new URL(r.url).pathname));
    expect(asked).toContain('/fonts/Noto Sans Regular/0-255.pbf');
    expect(asked).toContain('/fonts/Noto Sans Bold/0-255.pbf');
    for (const s of tileServers) {
      const tiles = s.requests.filter((r) => r.tile);
      expect(tiles.filter((r) => r.status !== 200 && r.status !== 204)).toEqual([]);
      expect(tiles.filter((r) => r.status === 200).length).toBeGreaterThan(0);
    }
  });

  it('draws roads, buildings, water and places of the base, queryable by our layer ids', () => {
    const { bySourceLayer, byStyleLayer } = rendered.close;
    expect(bySourceLayer.streets ?? 0).toBeGreaterThan(50);
    expect(byStyleLayer['street'] ?? 0).toBeGreaterThan(20);
    expect(byStyleLayer['street-casing'] ?? 0).toBeGreaterThan(20);
    expect(byStyleLayer['buildings'] ?? 0).toBeGreaterThan(50);
    expect(byStyleLayer['ocean'] ?? 0).toBeGreaterThan(0);
    // labels: symbols are only returned once placed, i.e. drawn with their glyphs
    expect(bySourceLayer.place_labels ?? 0).toBeGreaterThan(0);
    expect(
      (byStyleLayer['place-labels-settlement'] ?? 0) + (byStyleLayer['place-labels-local'] ?? 0),
    ).toBeGreaterThan(0);
    expect(byStyleLayer['street-labels'] ?? 0).toBeGreaterThan(0);
    const baseLabels = Object.entries(byStyleLayer).filter(
      ([id]) => id.includes('labels') && !id.startsWith('activity-'),
    );
    expect(baseLabels.reduce((n, [, c]) => n + c, 0)).toBeGreaterThan(5);
  });

  it('draws POIs, more street names and buildings in their colour at street level (z16)', () => {
    const { byStyleLayer, shot } = rendered.street;
    expect(byStyleLayer['poi-dots'] ?? 0).toBeGreaterThan(0);
    expect(byStyleLayer['poi-labels'] ?? 0).toBeGreaterThan(0);
    expect(byStyleLayer['street-labels'] ?? 0).toBeGreaterThan(2);
    expect(shareNear(shot, rgb(BASE.building))).toBeGreaterThan(0.05);
  });

  it('draws the activity: threads, nodes (their ids queryable for clicks), proposal rings, labels, cell counts', () => {
    const { byStyleLayer, nodeIds } = rendered.close;
    expect(byStyleLayer[ACTIVITY_LAYERS.threads] ?? 0).toBeGreaterThan(0);
    expect(byStyleLayer[ACTIVITY_LAYERS.proposals] ?? 0).toBeGreaterThan(0);
    expect(byStyleLayer[ACTIVITY_LAYERS.labels] ?? 0).toBeGreaterThan(0);
    const known = new Set(activity.nodes.map((n) => n.id));
    expect(nodeIds.length).toBeGreaterThan(3);
    for (const id of nodeIds) expect(known.has(id), id).toBe(true);
    // z11: counted cells, labelled with their counts
    expect(rendered.cells.byStyleLayer[ACTIVITY_LAYERS.nodes] ?? 0).toBeGreaterThan(0);
    expect(rendered.cells.byStyleLayer[ACTIVITY_LAYERS.counts] ?? 0).toBeGreaterThan(0);
    expect(rendered.cells.byStyleLayer[ACTIVITY_LAYERS.labels] ?? 0).toBe(0);
  });

  it('paints a phone-sized map in our colours: water, land, streets, text and the activity', () => {
    const shot = rendered.close.shot;
    expect([shot.width, shot.height]).toEqual([
      PHONE.width * PHONE.deviceScaleFactor,
      PHONE.height * PHONE.deviceScaleFactor,
    ]);
    expect(shot.distinct).toBeGreaterThan(200);
    expect(shot.notDominant).toBeGreaterThan(0.3);
    expect(shareNear(shot, rgb(BASE.water))).toBeGreaterThan(0.05);
    const land = [BASE.land, BASE.residential, BASE.commercial, BASE.building, BASE.park, BASE.green];
    expect(land.reduce((s, c) => s + shareNear(shot, rgb(c)), 0)).toBeGreaterThan(0.2);
    expect(shareNear(shot, rgb(BASE.land))).toBeGreaterThan(0.005);
    expect(shareNear(shot, rgb(BASE.minor))).toBeGreaterThan(0.01);
    // glyph cores in the label colours (anti-aliased edges aside)
    expect(
      shareNear(shot, rgb(BASE.streetText), 6) + shareNear(shot, rgb(BASE.placeText), 6),
    ).toBeGreaterThan(0.0005);
    // the freshest node (fade 1) in full colour
    expect(shareNear(shot, rgb(ACTIVITY.strong))).toBeGreaterThan(0.0005);
  });
});
