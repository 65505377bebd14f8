// `/embed`: the partner embed page (also the iframe that /embed.js creates). Reads the view options from its URL
// and starts the light path or the full viewer — the light path on weak devices unless `mode` says otherwise.
import { readBoot, deviceHints } from './boot/read.js';
import { chooseMode, parseViewParams } from './boot/params.js';
import { startMap } from './boot/start.js';
import { viewerHook } from './boot/hook.js';
import './page.css';

const boot = readBoot();
const { options, problems } = parseViewParams(new URLSearchParams(location.search));
for (const p of problems) console.warn(`weft embed: ${p}`);
const mapEl = document.getElementById('map')!;
const side = document.getElementById('side')!;
const region = boot.region;
if (!region) {
  const msg = document.getElementById('message')!;
  msg.hidden = false;
  msg.textContent = options.region
    ? `No map for region '${options.region}' on this server.`
    : 'No region given: add ?region=… to the embed URL.';
  viewerHook().errors.push(msg.textContent);
} else {
  document.title = `Map of ${region.name}`;
  const mode = chooseMode(options.mode, deviceHints());
  document.documentElement.dataset.mode = mode;
  startMap({
    boot,
    region,
    view: options,
    mode,
    mapEl,
    side,
    onStarted: (s) => (document.documentElement.dataset.mode = s.mode),
  }).catch((err: unknown) => {
    viewerHook().errors.push(String(err));
    console.error('weft embed:', err);
  });
}
