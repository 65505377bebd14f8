// Test helper for the viewer's browser tests: a phone-sized context (or another viewport) in Debian's Chromium,
// service workers allowed unless blocked, the page's errors and CSP violations collected, and waiting for the viewer's hook (window.weftViewer) to say the first view is drawn.
import type { Browser, BrowserContext, Page } from 'playwright-core';

/** A phone viewport (CSS pixels) at a phone's pixel ratio. */
export const PHONE = { width: 390, height: 844, deviceScaleFactor: 2 };

export interface Watched {
  page: Page;
  context: BrowserContext;
  pageErrors: string[];
  consoleErrors: string[];
  /** console messages about the Content-Security-Policy or glyph ranges: each is a failure */
  violations: string[];
}

export async function phonePage(
  browser: Browser,
  opts: {
    offline?: boolean;
    serviceWorkers?: 'allow' | 'block';
    viewport?: { width: number; height: number };
  } = {},
): Promise<Watched> {
  const context = await browser.newContext({
    viewport: opts.viewport ?? { width: PHONE.width, height: PHONE.height },
    deviceScaleFactor: PHONE.deviceScaleFactor,
    isMobile: !opts.viewport,
    hasTouch: !opts.viewport,
    ...(opts.offline ? { offline: true } : {}),
    ...(opts.serviceWorkers ? { serviceWorkers: opts.serviceWorkers } : {}),
  });
  const page = await context.newPage();
  const w: Watched = { page, context, pageErrors: [], consoleErrors: [], violations: [] };
  page.on('pageerror', (e) => w.pageErrors.push(e.message));
  page.on('console', (m) => {
    const text = m.text();
    if (m.type() === 'error') w.consoleErrors.push(text);
    if (/Content.Security.Policy|Refused to|Unable to load glyph range/i.test(text)) w.violations.push(text);
  });
  return w;
}

interface HookState {
  mode: string;
  ready: boolean;
  errors: string[];
}

/** Waits until the viewer (in `frame`, default the page) has drawn its first view; throws with its errors if not. */
export async function waitForViewer(
  page: Page | import('playwright-core').Frame,
  timeout = 60_000,
): Promise<HookState> {
  await page.waitForFunction(
    () => {
      const h = (globalThis as unknown as { weftViewer?: HookState }).weftViewer;
      return !!h && h.ready;
    },
    undefined,
    // a timer, not requestAnimationFrame: Chromium pauses rAF in cross-origin iframes outside the viewport
    { timeout, polling: 100 },
  );
  return page.evaluate(() => {
    const h = (globalThis as unknown as { weftViewer: HookState }).weftViewer;
    return { mode: h.mode, ready: h.ready, errors: [...h.errors] };
  });
}

/** Features the viewer reports in the current view, counted by `source/layer`. */
export async function featureCounts(
  page: Page | import('playwright-core').Frame,
): Promise<Record<string, number>> {
  return page.evaluate(() => {
    type Q = { source: string; layer: string };
    const h = (globalThis as unknown as { weftViewer: { query?: () => Q[] } }).weftViewer;
    const out: Record<string, number> = {};
    for (const f of h.query?.() ?? [])
      out[`${f.source}/${f.layer}`] = (out[`${f.source}/${f.layer}`] ?? 0) + 1;
    return out;
  });
}
