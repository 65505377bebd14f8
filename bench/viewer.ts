// `make bench-viewer`: the viewer's first-load payload as Chromium measures it at a phone viewport (390×844): every
// resource's bytes on the wire (headers + compressed body) until the first view is drawn, for the light path
// (`/embed?region=monaco&mode=light`, budget 120 KB) and, for comparison, the full viewer (`mode=full`). Serves
// Monaco (real base archive, activity from the event store) with a real `weft serve` on a fresh local PostgreSQL
// database. The offline shell's service worker (/sw.js) is registered only by `/`, after its first view, so it is in
// neither first load: its size is reported beside them. `--screenshots` also writes docs/images/viewer-full.png and
// docs/images/viewer-light.png.
import { gzipSync } from 'node:zlib';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../test/render/browser.js';
import { phonePage, waitForViewer } from '../test/viewer/page.js';
import { measurePayload, payloadTable, type Payload } from '../test/viewer/payload.js';
import { startViewerStack } from '../test/viewer/stack.js';

const BUDGET = 120 * 1024;
const screenshots = process.argv.includes('--screenshots');
const images = fileURLToPath(new URL('../docs/images/', import.meta.url));

const stack = await startViewerStack();
const browser = await launchChromium();
let failed = false;
try {
  const runs: [string, string][] = [
    ['light path', '/embed?region=monaco&mode=light'],
    ['full viewer', '/embed?region=monaco&mode=full'],
  ];
  const results: Payload[] = [];
  for (const [name, url] of runs) {
    const p = await measurePayload(browser, `${stack.url}${url}`);
    results.push(p);
    console.log(`\n${name}: ${url} (phone viewport 390×844, empty cache)\n${payloadTable(p, stack.url)}`);
  }
  const [light, full] = results as [Payload, Payload];
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  console.log(
    `\nlight path first load: ${kb(light.total)} (budget ${kb(BUDGET)}: ${light.total < BUDGET ? 'within' : 'OVER'}); ` +
      `full viewer: ${kb(full.total)} (${(full.total / light.total).toFixed(1)}× the light path)`,
  );
  failed = light.total >= BUDGET;
  const sw = Buffer.from(await (await fetch(`${stack.url}/sw.js`)).arrayBuffer());
  console.log(
    `offline shell /sw.js: ${kb(gzipSync(sw).length)} gzip (registered by / after its first view; never by /embed)`,
  );
  if (light.resources.some((r) => r.url.endsWith('/sw.js'))) {
    console.log('the light path loaded /sw.js: it must not');
    failed = true;
  }

  if (screenshots) {
    mkdirSync(images, { recursive: true });
    const shots: [string, string][] = [
      ['viewer-full.png', '/?region=monaco&mode=full'],
      ['viewer-light.png', '/embed?region=monaco&mode=light'],
    ];
    for (const [file, url] of shots) {
      const w = await phonePage(browser);
      await w.page.goto(`${stack.url}${url}`);
      await waitForViewer(w.page);
      await w.page.waitForTimeout(1000);
      await w.page.screenshot({ path: path.join(images, file) });
      await w.context.close();
      console.log(`wrote docs/images/${file}`);
    }
  }
} finally {
  await browser.close();
  await stack.stop();
}
process.exit(failed ? 1 : 0);
