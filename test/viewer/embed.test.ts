// The partner embed on a page served from ANOTHER origin (a second small HTTP server) under a strict host CSP:
// the script-tag snippet (/embed.js, light path) and the iframe form (/embed, full viewer) both render Monaco;
// the host page's computed styles, stylesheets and head are unchanged, and the only global added is WeftEmbed.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedPath } from '../helpers/shared.js';
import { launchChromium, renderSkipReason } from '../render/browser.js';
import { pngColours } from '../render/png-colours.js';
import { featureCounts, phonePage, waitForViewer } from './page.js';
import { startViewerStack, type ViewerStack } from './stack.js';

const skipReason = renderSkipReason(sharedPath('osm'));
if (skipReason) console.warn(`skipped: viewer embed test: ${skipReason}`);

const HOST_CSS = `body { font-family: Georgia, serif; color: rgb(10, 20, 30); margin: 13px; background: rgb(250, 249, 240); }
h1 { font-size: 31px; letter-spacing: 1px; }
p, .box { color: rgb(120, 30, 60); padding: 7px; }
div { box-sizing: content-box; }
button { background: rgb(1, 2, 3); }`;

function hostPage(viewer: string, embed: boolean): string {
  const snippet = embed
    ? `<script src="${viewer}/embed.js" data-region="monaco" data-mode="light" data-height="420px"></script>
<iframe id="iframe-form" src="${viewer}/embed?region=monaco&mode=full&zoom=14" title="Map of Monaco" width="380" height="420"></iframe>`
    : '';
  return `<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self' ${viewer}; style-src 'self'; frame-src ${viewer}; img-src 'self'">
<link rel="stylesheet" href="/host.css"><title>Partner news</title></head>
<body><h1 id="title">Partner news</h1><p class="box" id="para">Our neighbourhood, live.</p><button id="btn">A host button</button>
${snippet}
<div id="after">After the map</div></body></html>`;
}

interface HostSnapshot {
  styles: Record<string, Record<string, string>>;
  globals: string[];
  sheets: number;
  head: number;
}

async function snapshot(page: Page): Promise<HostSnapshot> {
  return page.evaluate(() => {
    type El = { id: string };
    const g = globalThis as unknown as {
      document: {
        querySelectorAll(s: string): El[];
        styleSheets: { length: number };
        head: { children: { length: number } };
      };
      getComputedStyle(e: El): Record<string, string>;
    };
    const props = [
      'font-family',
      'font-size',
      'color',
      'margin-top',
      'padding-top',
      'background-color',
      'letter-spacing',
      'box-sizing',
      'line-height',
    ];
    const styles: Record<string, Record<string, string>> = {};
    for (const el of g.document.querySelectorAll('body, #title, #para, #btn, #after')) {
      const cs = g.getComputedStyle(el);
      styles[el.id || 'body'] = Object.fromEntries(
        props.map((p) => [p, (cs as unknown as { getPropertyValue(p: string): string }).getPropertyValue(p)]),
      );
    }
    return {
      styles,
      globals: Object.keys(globalThis).sort(),
      sheets: g.document.styleSheets.length,
      head: g.document.head.children.length,
    };
  });
}

describe.skipIf(!!skipReason)('the partner embed on another origin', () => {
  let stack: ViewerStack;
  let browser: Browser;
  let host: Server;
  let hostOrigin: string;

  beforeAll(async () => {
    stack = await startViewerStack();
    browser = await launchChromium();
    host = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/host.css') {
        res.writeHead(200, { 'Content-Type': 'text/css' });
        res.end(HOST_CSS);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(hostPage(stack.url, url.searchParams.get('embed') === '1'));
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    // a different origin: another host name for the loopback address, and another port
    hostOrigin = `http://localhost:${(host.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => host?.close(() => resolve()));
    await stack?.stop();
  });

  it('renders both forms and leaves the host page as it was', async () => {
    const w = await phonePage(browser);
    await w.page.goto(`${hostOrigin}/?embed=0`);
    const before = await snapshot(w.page);
    await w.page.goto(`${hostOrigin}/?embed=1`);
    expect(new URL(w.page.url()).origin).not.toBe(new URL(stack.url).origin);

    const frames = async (): Promise<Frame[]> => w.page.frames().filter((f) => f.url().includes('/embed?'));
    await expect.poll(async () => (await frames()).length, { timeout: 10_000 }).toBe(2);
    const [light, full] = await Promise.all(
      ['mode=light', 'mode=full'].map(async (m) => (await frames()).find((f) => f.url().includes(m))!),
    );
    const lightState = await waitForViewer(light!);
    const fullState = await waitForViewer(full!);
    expect(lightState.mode).toBe('light');
    expect(fullState.mode).toBe('full');
    expect((await featureCounts(light!))['base/streets'] ?? 0).toBeGreaterThan(10);
    expect((await featureCounts(full!))['base/streets'] ?? 0).toBeGreaterThan(10);
    for (const f of [light!, full!])
      expect(await f.locator('body').innerText()).toContain('OpenStreetMap contributors');
    // the snippet's iframe sits right after its script tag, sized as asked
    const snippetFrame = w.page.locator('script[src$="/embed.js"] + div > iframe');
    expect(await snippetFrame.getAttribute('src')).toBe(`${stack.url}/embed?region=monaco&mode=light`);
    expect((await snippetFrame.boundingBox())!.height).toBe(420);
    const shot = pngColours(await snippetFrame.screenshot());
    expect(shot.distinct).toBeGreaterThan(20);
    expect(shot.notDominant).toBeGreaterThan(0.2);

    const after = await snapshot(w.page);
    expect(after.styles).toEqual(before.styles);
    expect(after.sheets).toBe(before.sheets);
    expect(after.head).toBe(before.head);
    // window[0], window[1] are the frames themselves (any iframe adds them), not globals a script defined
    const added = after.globals.filter((g) => !before.globals.includes(g));
    expect(added.filter((g) => !/^\d+$/.test(g))).toEqual(['WeftEmbed']);
    expect(added.filter((g) => /^\d+$/.test(g))).toEqual(['0', '1']);
    expect(w.violations).toEqual([]);
    expect(w.pageErrors).toEqual([]);
    await w.context.close();
  });

  it('WeftEmbed.mount adds a map from code, with options', async () => {
    const w = await phonePage(browser);
    await w.page.goto(`${hostOrigin}/?embed=1`);
    await w.page.evaluate(() => {
      const g = globalThis as unknown as {
        WeftEmbed: { mount(el: unknown, o: Record<string, string>): unknown };
        document: { getElementById(id: string): unknown };
      };
      g.WeftEmbed.mount(g.document.getElementById('after'), {
        region: 'monaco',
        mode: 'light',
        center: '7.42,43.73',
        zoom: '13',
        layers: 'base',
        interactive: '0',
        height: '300px',
      });
    });
    await expect
      .poll(
        () =>
          w.page
            .frames()
            .find((f) => f.url().includes('interactive=0'))
            ?.url(),
        { timeout: 10_000 },
      )
      .toContain('/embed?region=monaco&mode=light&center=7.42%2C43.73&zoom=13&layers=base&interactive=0');
    const f = w.page.frames().find((x) => x.url().includes('interactive=0'))!;
    await waitForViewer(f);
    const counts = await featureCounts(f);
    expect(Object.keys(counts).some((k) => k.startsWith('activity/'))).toBe(false);
    expect(await f.locator('.leaflet-control-zoom').count()).toBe(0);
    await w.context.close();
  });
});
