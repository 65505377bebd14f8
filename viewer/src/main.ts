// `/`: the full viewer page — region chooser, sign-in with a session token, "add a node", and opening a downloaded
// region pack (offline); on phones sign-in and packs fold into a menu. The map itself starts as in the embed (light
// on weak devices, full otherwise). Once the first view is drawn, the offline shell (sw/register.ts) keeps what the
// page loaded, so the next visit opens without a network.
import type { RegionInfo } from './boot/config.js';
import { viewerHook } from './boot/hook.js';
import { chooseMode, parseViewParams } from './boot/params.js';
import { deviceHints, readBoot } from './boot/read.js';
import { startMap, type Started } from './boot/start.js';
import { openPack, type OpenedPack } from './offline/pack.js';
import { offlineShell } from './sw/register.js';
import './page.css';

const TOKEN_KEY = 'weft.session';
const boot = readBoot();
const { options, problems } = parseViewParams(new URLSearchParams(location.search));
for (const p of problems) console.warn(`weft: ${p}`);
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const side = $('side');
const message = $('message');
const regionSelect = $<HTMLSelectElement>('region');
const addNode = $<HTMLButtonElement>('add-node');
const packInput = $<HTMLInputElement>('pack');
const signinForm = $<HTMLFormElement>('signin-form');
const tokenInput = $<HTMLInputElement>('token');
const who = $('who');
const signout = $<HTMLButtonElement>('signout');
const bar = document.querySelector<HTMLElement>('.weft-bar')!;
const menuButton = $<HTMLButtonElement>('menu-button');
const menu = $('menu');

let token: string | undefined;
try {
  token = localStorage.getItem(TOKEN_KEY) ?? undefined;
} catch {
  token = undefined;
}
let current: Started | undefined;

// — the menu (phones): a disclosure button; Escape or a click elsewhere closes it —
function setMenu(open: boolean, focus = false): void {
  bar.classList.toggle('weft-menu-open', open);
  menuButton.setAttribute('aria-expanded', String(open));
  if (open && focus)
    menu.querySelector<HTMLElement>('input:not([hidden]), button:not([hidden]), select')?.focus();
}
menuButton.addEventListener('click', () =>
  setMenu(menuButton.getAttribute('aria-expanded') !== 'true', true),
);
menu.addEventListener('keydown', (ev) => {
  if (ev.key !== 'Escape' || menuButton.getAttribute('aria-expanded') !== 'true') return;
  setMenu(false);
  menuButton.focus();
});
document.addEventListener('click', (ev) => {
  if (!bar.contains(ev.target as Node)) setMenu(false);
});

function say(text: string, error = false): void {
  message.hidden = !text;
  message.textContent = text;
  message.classList.toggle('weft-error', error);
}

for (const r of boot.regions) regionSelect.append(new Option(r.name, r.id, false, r.id === boot.region?.id));
regionSelect.addEventListener('change', () => {
  const q = new URLSearchParams(location.search);
  q.set('region', regionSelect.value);
  location.search = q.toString();
});

function refreshSignedIn(name?: string): void {
  const signedIn = !!token;
  who.textContent = signedIn ? `Signed in${name ? ` as ${name}` : ''}` : '';
  signout.hidden = !signedIn;
  signinForm.hidden = signedIn;
  addNode.hidden = !(signedIn && current?.mode === 'full' && current.full);
}

async function checkToken(candidate: string): Promise<string | undefined> {
  const { api } = await import('./full/api.js');
  const me = await api<{ name?: string; roleId: string }>('/api/me', { token: candidate });
  return me.name ?? me.roleId;
}

signinForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const candidate = tokenInput.value.trim();
  if (!candidate) return;
  say('Checking the token…');
  checkToken(candidate).then(
    (name) => {
      token = candidate;
      try {
        localStorage.setItem(TOKEN_KEY, candidate);
      } catch {
        // kept for this page only
      }
      tokenInput.value = '';
      say('');
      refreshSignedIn(name);
    },
    (err: unknown) => say(`Sign-in failed: ${(err as Error).message}`, true),
  );
});
signout.addEventListener('click', () => {
  token = undefined;
  try {
    localStorage.removeItem(TOKEN_KEY);
  } catch {
    // nothing stored
  }
  refreshSignedIn();
});
addNode.addEventListener('click', () => current?.full?.startCreate());

function freshMapEl(): HTMLElement {
  const old = $('map');
  const el = document.createElement('div');
  el.id = 'map';
  el.className = 'weft-map';
  old.replaceWith(el);
  return el;
}

async function start(region: RegionInfo, pack?: OpenedPack): Promise<void> {
  current?.destroy();
  const mode = pack ? 'full' : chooseMode(options.mode, deviceHints());
  document.documentElement.dataset.mode = mode;
  current = await startMap({
    boot,
    region,
    view: options,
    mode,
    mapEl: freshMapEl(),
    side,
    token: () => token,
    pack,
    onStarted: (s) => {
      current = s;
      document.documentElement.dataset.mode = s.mode;
      refreshSignedIn();
    },
  });
  refreshSignedIn();
}

packInput.addEventListener('change', () => {
  const file = packInput.files?.[0];
  if (!file) return;
  setMenu(false);
  say(`Opening ${file.name}…`);
  openPack(file)
    .then(async (pack) => {
      const m = pack.manifest;
      const region: RegionInfo = {
        id: m.region,
        name: m.name,
        bbox: m.bbox,
        center: m.center,
        minzoom: m.minzoom,
        maxzoom: m.maxzoom,
      };
      await start(region, pack);
      say(`Offline: ${m.name}, release ${m.release} (from ${file.name})`);
      document.documentElement.dataset.pack = m.region;
    })
    .catch((err: unknown) => {
      say(`Cannot open the pack: ${(err as Error).message}`, true);
      viewerHook().errors.push(String(err));
    });
});

// — the offline shell: a moment after the first view (not competing with it, nor with the first interactions),
// and again as the map loads more (the full map's worker fetched those tiles without the service worker) —
const shell = offlineShell();
let warmTimer: ReturnType<typeof setTimeout> | undefined;
const warm = () => {
  warmTimer = undefined;
  void shell?.warm(current?.full?.requestedUrls() ?? []);
};
const warmSoon = (ms: number) =>
  (warmTimer ??= setTimeout(
    () => (typeof requestIdleCallback === 'function' ? requestIdleCallback(warm, { timeout: 5000 }) : warm()),
    ms,
  ));
window.addEventListener('weft:ready', () => warmSoon(2000));
window.addEventListener('weft:idle', () => warmSoon(1500));

const region = boot.region ?? (options.region ? undefined : boot.regions[0]);
if (region) {
  document.title = `weft — ${region.name}`;
  start(region).catch((err: unknown) => {
    say(String(err), true);
    viewerHook().errors.push(String(err));
  });
} else if (options.region) say(`No map for region '${options.region}' on this server.`, true);
else say('No region is served yet. Open a region pack to view one offline.');
refreshSignedIn();
