// What a page costs on first load, as the browser measured it: every resource's bytes on the wire (Chromium's
// response headers size + encoded, i.e. compressed, body size, via Playwright's request.sizes()), with an empty cache
// (a fresh context), until the viewer has drawn its first view and the network has been quiet for a moment. The
// page's own requests and its workers' (MapLibre's worker script) are counted. Used by the payload test and
// bench/viewer.ts.
import type { Browser } from 'playwright-core';
import { PHONE } from './page.js';

export interface Resource {
  url: string;
  type: string;
  status: number;
  /** bytes received: headers + (compressed) body */
  bytes: number;
  encoding?: string;
}

export interface Payload {
  url: string;
  resources: Resource[];
  total: number;
  mode: string;
}

/** Loads `url` in a fresh phone-sized context and sums the transfer sizes of every resource of the first view. */
export async function measurePayload(browser: Browser, url: string, quietMs = 700): Promise<Payload> {
  const context = await browser.newContext({
    viewport: { width: PHONE.width, height: PHONE.height },
    deviceScaleFactor: PHONE.deviceScaleFactor,
    isMobile: true,
    hasTouch: true,
  });
  try {
    const page = await context.newPage();
    const seen: Promise<Resource>[] = [];
    let last = Date.now();
    // Playwright reports the requests of the page and of its dedicated workers (MapLibre's worker script)
    page.on('requestfinished', (req) => {
      last = Date.now();
      seen.push(
        (async () => {
          const [sizes, res] = await Promise.all([req.sizes(), req.response()]);
          const headers = res ? await res.allHeaders() : {};
          return {
            url: req.url(),
            type: req.resourceType(),
            status: res?.status() ?? 0,
            // a worker's script reaches the worker, not the page: its body size reads 0 there, so the
            // Content-Length (of the compressed body) stands in when it is larger
            bytes:
              sizes.responseHeadersSize +
              Math.max(sizes.responseBodySize, Number(headers['content-length'] ?? 0)),
            encoding: headers['content-encoding'],
          };
        })(),
      );
    });
    page.on('request', () => (last = Date.now()));
    await page.goto(url);
    await page.waitForFunction(
      () => (globalThis as unknown as { weftViewer?: { ready: boolean } }).weftViewer?.ready === true,
      undefined,
      { timeout: 60_000 },
    );
    while (Date.now() - last < quietMs) await page.waitForTimeout(100);
    const mode = await page.evaluate(
      () => (globalThis as unknown as { weftViewer: { mode: string } }).weftViewer.mode,
    );
    const resources = (await Promise.all(seen)).filter((r) => !r.url.startsWith('data:'));
    return { url, resources, total: resources.reduce((s, r) => s + r.bytes, 0), mode };
  } finally {
    await context.close();
  }
}

/** The payload as a text table: one line per resource, largest first, then the total. */
export function payloadTable(p: Payload, origin: string): string {
  const rows = [...p.resources].sort((a, b) => b.bytes - a.bytes);
  const lines = rows.map(
    (r) =>
      `${(r.bytes / 1024).toFixed(1).padStart(8)} KB  ${String(r.status).padEnd(4)}${(r.encoding ?? '-').padEnd(6)}${r.type.padEnd(11)}${r.url.replace(origin, '')}`,
  );
  lines.push(
    `${(p.total / 1024).toFixed(1).padStart(8)} KB  total (${rows.length} resources, mode ${p.mode})`,
  );
  return lines.join('\n');
}
