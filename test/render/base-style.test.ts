// Our Monaco base tiles under a Shortbread style we did not write (@versatiles/style, colorful), in MapLibre GL JS
// in headless Chromium: no tile or style errors, features in the streets/buildings/water layers, a painted map.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { osm } from '@versatiles/style';
import type { LayerSpecification, StyleSpecification } from '@maplibre/maplibre-gl-style-spec';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBase } from '../../pipeline/build-base.js';
import { PMTilesReader } from '../../pipeline/pmtiles/reader.js';
import { sharedPath } from '../helpers/shared.js';
import { launchChromium, renderSkipReason } from './browser.js';
import { mapPageHtml, type MapPageState } from './map-page.js';
import { parseCssColour, pngColours, shareNear, type PngColours } from './png-colours.js';
import { styleCoverage, type StyleCoverage } from './style-coverage.js';
import { startTileServer, type TileServer } from './tile-server.js';

const SOURCE_ID = 'versatiles-shortbread';
const MONACO = { center: [7.4246, 43.7384] as [number, number], zoom: 14 };
/** a phone-sized viewport (CSS pixels) at a phone's pixel ratio */
const PHONE = { width: 390, height: 700, deviceScaleFactor: 2 };
const IMAGES = fileURLToPath(new URL('../../docs/images/', import.meta.url));
/** second view: from z15 on the style paints buildings (at z14 their fill-opacity is still 0) */
const BUILDINGS_ZOOM = 15;

const skipReason = renderSkipReason(sharedPath('osm'));
if (skipReason) console.warn(`skipped: base style render test: ${skipReason}`);

interface Rendered {
  state: MapPageState;
  pageErrors: string[];
  consoleErrors: { text: string; url: string }[];
  /** requests the page tried to send anywhere but our server */
  foreignRequests: string[];
  /** rendered features by source layer, and by style layer, across the whole viewport */
  renderedBySourceLayer: Record<string, number>;
  renderedByStyleLayer: Record<string, number>;
  screenshot: PngColours;
  screenshotFile: string;
  /** the same place at BUILDINGS_ZOOM */
  closeup: PngColours;
  seconds: { build: number; render: number };
}

/** Glyphs and sprites are not built yet: the style's font and icon requests get 404 and MapLibre reports them. */
function isGlyphOrSprite(url: string | undefined): boolean {
  return !!url && /\/(glyphs|sprites)\//.test(new URL(url, 'http://x').pathname);
}

/**
 * Waits until the map is idle, or fails at once with the map's errors when one is not a glyph or sprite 404
 * (a tile that fails to load keeps the map from ever going idle).
 */
async function waitForMap(page: Page, timeout: number): Promise<void> {
  await page.waitForFunction(
    () => {
      const w = globalThis as unknown as MapPageState;
      return w.weftIdle || w.weftErrors.some((e) => !/\/(glyphs|sprites)\//.test(e.url ?? ''));
    },
    undefined,
    { timeout },
  );
  const { weftIdle, weftErrors } = await page.evaluate(() => {
    const w = globalThis as unknown as MapPageState;
    return { weftIdle: w.weftIdle, weftErrors: w.weftErrors };
  });
  if (!weftIdle) throw new Error(`the map reported errors before going idle: ${JSON.stringify(weftErrors)}`);
}

describe.skipIf(!!skipReason)('Monaco base tiles under the VersaTiles colorful style in Chromium', () => {
  let dir: string;
  let reader: PMTilesReader;
  let server: TileServer;
  let browser: Browser | undefined;
  let style: StyleSpecification;
  let rendered: Rendered;
  let coverage: StyleCoverage;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-render-'));
    let t0 = performance.now();
    const { archive } = await buildBase('monaco', { outDir: dir, quiet: true });
    const build = (performance.now() - t0) / 1000;
    reader = await PMTilesReader.openFile(archive);
    server = await startTileServer(reader);
    const origin = server.origin;

    const metadata = (await reader.metadata()) as { vector_layers: never[]; attribution?: string };
    const h = reader.header;
    style = osm({
      theme: 'colorful',
      urls: {
        base: `${origin}/`,
        osm: {
          tilejson: '3.0.0',
          tiles: [`${origin}/tiles/{z}/{x}/{y}.pbf`],
          vector_layers: metadata.vector_layers,
          minzoom: h.minZoom,
          maxzoom: h.maxZoom,
          bounds: [h.minLon, h.minLat, h.maxLon, h.maxLat],
          ...(metadata.attribution ? { attribution: metadata.attribution } : {}),
        },
        glyphsPattern: `${origin}/glyphs/{fontstack}/{range}.pbf`,
        sprite: `${origin}/sprites/sprite`,
      },
    });
    server.documents.set('/style.json', { type: 'application/json', body: JSON.stringify(style) });
    server.documents.set('/index.html', { type: 'text/html', body: mapPageHtml(MONACO) });
    writeFileSync(join(dir, 'style.json'), JSON.stringify(style, null, 1));
    coverage = await styleCoverage(style.layers, SOURCE_ID, reader);
    writeFileSync(join(dir, 'style-coverage.json'), JSON.stringify(coverage, null, 1));

    t0 = performance.now();
    browser = await launchChromium();
    const context = await browser.newContext({
      viewport: { width: PHONE.width, height: PHONE.height },
      deviceScaleFactor: PHONE.deviceScaleFactor,
    });
    const page: Page = await context.newPage();
    const pageErrors: string[] = [];
    const consoleErrors: Rendered['consoleErrors'] = [];
    const foreignRequests: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push({ text: msg.text(), url: msg.location().url });
    });
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${origin}/`) || url.startsWith('blob:') || url.startsWith('data:'))
        return route.continue();
      foreignRequests.push(url);
      return route.abort();
    });
    await page.goto(`${origin}/index.html`);
    await waitForMap(page, 90_000);
    const counts = await page.evaluate(() => {
      type QueriedFeature = { sourceLayer?: string; layer: { id: string } };
      const map = (globalThis as unknown as { weftMap: { queryRenderedFeatures(): QueriedFeature[] } })
        .weftMap;
      const bySourceLayer: Record<string, number> = {};
      const byStyleLayer: Record<string, number> = {};
      for (const f of map.queryRenderedFeatures()) {
        if (f.sourceLayer) bySourceLayer[f.sourceLayer] = (bySourceLayer[f.sourceLayer] ?? 0) + 1;
        byStyleLayer[f.layer.id] = (byStyleLayer[f.layer.id] ?? 0) + 1;
      }
      return { bySourceLayer, byStyleLayer };
    });
    const screenshotFile = join(dir, 'monaco-base.png');
    const png = await page.screenshot({ path: screenshotFile, type: 'png' });
    await page.evaluate((zoom) => {
      const w = globalThis as unknown as MapPageState & {
        weftMap: { jumpTo(o: object): void; once(e: string, f: () => void): void };
      };
      w.weftIdle = false;
      w.weftMap.once('idle', () => (w.weftIdle = true));
      w.weftMap.jumpTo({ zoom });
    }, BUILDINGS_ZOOM);
    await waitForMap(page, 60_000);
    const closeupFile = join(dir, `monaco-base-z${BUILDINGS_ZOOM}.png`);
    const closeup = await page.screenshot({ path: closeupFile, type: 'png' });
    // errors of both views
    const state = await page.evaluate(() => {
      const w = globalThis as unknown as MapPageState;
      return { weftIdle: w.weftIdle, weftErrors: w.weftErrors };
    });
    const render = (performance.now() - t0) / 1000;
    console.log(
      `base style render test: screenshots ${screenshotFile}, ${closeupFile} (build ${build.toFixed(1)} s, render ${render.toFixed(1)} s)`,
    );
    if (process.env.WEFT_UPDATE_SCREENSHOTS === '1') {
      mkdirSync(IMAGES, { recursive: true });
      for (const file of [screenshotFile, closeupFile]) copyFileSync(file, join(IMAGES, basename(file)));
      console.log(`base style render test: updated ${IMAGES}monaco-base*.png`);
    }
    rendered = {
      state,
      pageErrors,
      consoleErrors,
      foreignRequests,
      renderedBySourceLayer: counts.bySourceLayer,
      renderedByStyleLayer: counts.byStyleLayer,
      screenshot: pngColours(png),
      screenshotFile,
      closeup: pngColours(closeup),
      seconds: { build, render },
    };
    writeFileSync(
      join(dir, 'rendered.json'),
      JSON.stringify(
        {
          ...rendered,
          screenshot: { ...rendered.screenshot, colours: rendered.screenshot.colours.slice(0, 20) },
          closeup: { ...rendered.closeup, colours: rendered.closeup.colours.slice(0, 20) },
          requests: server.requests,
        },
        null,
        1,
      ),
    );
    console.log(`base style render test: style/tile comparison in ${join(dir, 'style-coverage.json')}`);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await reader?.close();
  });

  it('loads the style and every tile without errors (glyph and sprite 404s aside)', () => {
    expect(rendered.state.weftIdle).toBe(true);
    expect(rendered.pageErrors).toEqual([]);
    expect(rendered.foreignRequests).toEqual([]);
    // Glyphs and sprites are not built at this stage: their 404s (as map errors and as the browser's
    // "Failed to load resource" console lines) are tolerated; any other error fails, tile errors above all.
    expect(rendered.state.weftErrors.filter((e) => !isGlyphOrSprite(e.url))).toEqual([]);
    expect(rendered.consoleErrors.filter((e) => !isGlyphOrSprite(e.url))).toEqual([]);
    const tiles = server.requests.filter((r) => r.tile);
    expect(tiles.filter((r) => r.status !== 200 && r.status !== 204)).toEqual([]);
    expect(tiles.filter((r) => r.status === 200).length).toBeGreaterThan(0);
    // the page really asked for z14 tiles of Monaco (tile 14/8529/5974 holds the harbour)
    expect(tiles.map((r) => r.path)).toContain('/tiles/14/8529/5974.pbf');
  });

  it('renders features of the streets, buildings and water layers', () => {
    const bySource = rendered.renderedBySourceLayer;
    expect(bySource.streets ?? 0).toBeGreaterThan(50);
    expect(bySource.buildings ?? 0).toBeGreaterThan(50);
    expect((bySource.water_polygons ?? 0) + (bySource.ocean ?? 0)).toBeGreaterThan(0);
    expect(bySource.ocean ?? 0).toBeGreaterThan(0); // Monaco's harbour and coast are in view
    // the style's own layers drew them, not only that the source holds them
    const byStyle = rendered.renderedByStyleLayer;
    expect(byStyle['water-ocean'] ?? 0).toBeGreaterThan(0);
    expect(byStyle['building'] ?? 0).toBeGreaterThan(0);
    expect(Object.keys(byStyle).filter((id) => id.startsWith('street-')).length).toBeGreaterThan(3);
  });

  it('paints a non-empty map in the style colours, buildings too from z15', () => {
    const shot = rendered.screenshot;
    expect([shot.width, shot.height]).toEqual([
      PHONE.width * PHONE.deviceScaleFactor,
      PHONE.height * PHONE.deviceScaleFactor,
    ]);
    expect(shot.distinct).toBeGreaterThan(50);
    expect(shot.notDominant).toBeGreaterThan(0.2);
    const paint = (id: string, prop: string): [number, number, number] => {
      const layer = style.layers.find((l) => l.id === id) as LayerSpecification & {
        paint: Record<string, unknown>;
      };
      const rgb = parseCssColour(String(layer.paint[prop]));
      if (!rgb) throw new Error(`style layer ${id}: ${prop} is not a plain colour`);
      return rgb;
    };
    // the sea (ocean layer) and the land background both cover a visible part of the picture
    expect(shareNear(shot, paint('water-ocean', 'fill-color'))).toBeGreaterThan(0.05);
    expect(shareNear(shot, paint('background', 'background-color'))).toBeGreaterThan(0.02);
    // closer in, the buildings layer paints its own colour over a visible part of the picture
    expect(shareNear(rendered.closeup, paint('building', 'fill-color'))).toBeGreaterThan(0.03);
    expect(shareNear(rendered.closeup, paint('water-ocean', 'fill-color'))).toBeGreaterThan(0.02);
  });

  it("holds only layers the style reads, and features for the style's street, building and water layers", () => {
    expect(coverage.unreadTileLayers).toEqual([]);
    for (const name of [
      'streets',
      'buildings',
      'water_polygons',
      'ocean',
      'land',
      'street_labels',
      'place_labels',
    ]) {
      expect(coverage.tileLayers[name]?.features ?? 0, name).toBeGreaterThan(0);
    }
    const matched = (id: string) => coverage.styleLayers.find((l) => l.id === id)?.matched ?? 0;
    expect(matched('water-ocean')).toBeGreaterThan(0);
    expect(matched('water-area')).toBeGreaterThan(0);
    expect(matched('building')).toBeGreaterThan(0);
    expect(matched('street-primary')).toBeGreaterThan(0);
    expect(matched('street-minor')).toBeGreaterThan(0);
    console.log(
      'base style render test: style vs tiles\n' +
        JSON.stringify(
          {
            missingSourceLayers: coverage.missingSourceLayers,
            unmatchedStyleLayers: `${coverage.unmatchedStyleLayers.length} of ${coverage.styleLayers.length} (list in style-coverage.json)`,
            fieldsNotInTiles: coverage.fieldsNotInTiles,
            kindsNotInStyle: coverage.kindsNotInStyle,
          },
          null,
          1,
        ),
    );
  });
});
