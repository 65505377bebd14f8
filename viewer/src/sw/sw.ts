// The offline app shell: a service worker at `/sw.js` (root scope) that keeps the viewer's pages, hashed assets,
// glyphs, styles, TileJSON and the tiles (or archive ranges) viewed, so that after one online visit the viewer
// opens and draws the region with no network. Pages, data and styles go network first (fresh when online, the
// cached copy offline); hashed assets and glyphs cache first. Writes, live deltas, sign-in and packs pass through.
// A page tells the worker what it loaded before the worker controlled it ({type:'warm', pages, urls}). Built to
// build/viewer/sw.js (a classic script: it must import nothing shared with the pages).
import { CACHES, CACHE_LIMITS, rangeKey, route, standInPage, warmList, type CacheName } from './rules.js';

// the worker globals this file uses (the viewer's tsconfig has the DOM library, not WebWorker's)
interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(r: Response | Promise<Response>): void;
}
interface ExtendableMessageEvent extends ExtendableEvent {
  readonly data: unknown;
  readonly source: { postMessage(message: unknown): void } | null;
}
interface WorkerScope {
  readonly location: Location;
  skipWaiting(): Promise<void>;
  readonly clients: { claim(): Promise<void> };
  addEventListener(type: 'install' | 'activate', f: (e: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', f: (e: FetchEvent) => void): void;
  addEventListener(type: 'message', f: (e: ExtendableMessageEvent) => void): void;
}
const sw = self as unknown as WorkerScope;
const ORIGIN = sw.location.origin;

sw.addEventListener('install', (e) => e.waitUntil(sw.skipWaiting()));
sw.addEventListener('activate', (e) =>
  e.waitUntil(
    (async () => {
      // caches of an older layout of this worker
      const keep = new Set<string>(Object.values(CACHES));
      for (const name of await caches.keys())
        if (name.startsWith('weft-') && name !== 'weft-glyphs-v1' && !keep.has(name))
          await caches.delete(name);
      await sw.clients.claim();
    })(),
  ),
);

const puts: Record<string, number> = {};

/** Stores a copy of a good response; now and then drops the oldest entries over the cache's limit. */
async function keep(cacheName: CacheName, key: Request | string, res: Response): Promise<void> {
  if (!res.ok || res.status !== 200 || res.type === 'opaque') return;
  try {
    const cache = await caches.open(cacheName);
    await cache.put(key, res);
    puts[cacheName] = (puts[cacheName] ?? 0) + 1;
    if (puts[cacheName]! % 50 === 0) {
      const keys = await cache.keys();
      for (const k of keys.slice(0, Math.max(0, keys.length - CACHE_LIMITS[cacheName])))
        await cache.delete(k);
    }
  } catch {
    // storage full or unavailable: the network answer still goes to the page
  }
}

function offline(what: string): Response {
  return new Response(
    JSON.stringify({ error: { code: 'offline', message: `offline, and ${what} was never loaded here` } }),
    { status: 503, headers: { 'Content-Type': 'application/json; charset=utf-8' } },
  );
}

async function networkFirst(e: FetchEvent, cacheName: CacheName): Promise<Response> {
  try {
    const res = await fetch(e.request);
    if (res.ok) e.waitUntil(keep(cacheName, e.request, res.clone()));
    return res;
  } catch (err) {
    const hit = await caches.match(e.request, { cacheName });
    if (hit) return hit;
    throw err;
  }
}

async function cacheFirst(e: FetchEvent, cacheName: CacheName): Promise<Response> {
  const hit = await caches.match(e.request, { cacheName });
  if (hit) return hit;
  const res = await fetch(e.request);
  if (res.ok) e.waitUntil(keep(cacheName, e.request, res.clone()));
  return res;
}

async function page(e: FetchEvent): Promise<Response> {
  try {
    const res = await fetch(e.request);
    if (res.ok) e.waitUntil(keep(CACHES.shell, e.request.url, res.clone()));
    return res;
  } catch {
    const cache = await caches.open(CACHES.shell);
    const pages = (await cache.keys()).map((k) => k.url);
    const url = standInPage(e.request.url, pages);
    const hit = url ? await cache.match(url) : undefined;
    return hit ?? new Response('offline, and this page was never opened here', { status: 503 });
  }
}

async function range(e: FetchEvent, cacheName: CacheName): Promise<Response> {
  const key = rangeKey(e.request.url, e.request.headers.get('Range') ?? '');
  try {
    const res = await fetch(e.request);
    if (res.status === 206) {
      const copy = res.clone();
      e.waitUntil(
        (async () => {
          const headers = new Headers();
          for (const h of ['Content-Range', 'Content-Type', 'ETag', 'Last-Modified']) {
            const v = copy.headers.get(h);
            if (v) headers.set(h, v);
          }
          await keep(cacheName, key, new Response(await copy.arrayBuffer(), { status: 200, headers }));
        })(),
      );
    }
    return res;
  } catch (err) {
    const hit = await caches.match(key, { cacheName });
    if (!hit) throw err;
    const headers = new Headers(hit.headers);
    return new Response(await hit.arrayBuffer(), { status: 206, headers });
  }
}

sw.addEventListener('fetch', (e) => {
  const r = e.request;
  const { strategy, cache } = route({
    method: r.method,
    url: r.url,
    origin: ORIGIN,
    mode: r.mode,
    hasRange: r.headers.has('Range'),
    hasAuthorization: r.headers.has('Authorization'),
  });
  if (strategy === 'pass' || !cache) return;
  if (strategy === 'page') e.respondWith(page(e));
  else if (strategy === 'cache-first') e.respondWith(cacheFirst(e, cache));
  else if (strategy === 'range') e.respondWith(range(e, cache));
  else e.respondWith(networkFirst(e, cache).catch(() => offline(new URL(r.url).pathname)));
});

/** Fetches and keeps what a page loaded before this worker controlled it (a few at a time). */
async function warm(pages: string[], urls: string[]): Promise<number> {
  let kept = 0;
  const one = async (url: string, isPage: boolean) => {
    const r = isPage
      ? { strategy: 'page' as const, cache: CACHES.shell }
      : route({ method: 'GET', url, origin: ORIGIN, mode: 'cors', hasRange: false, hasAuthorization: false });
    if (!r.cache || r.strategy === 'pass' || r.strategy === 'range') return;
    // what is cached already (this page's assets, tiles the worker saw) is not fetched again
    if (!isPage && (await caches.match(url, { cacheName: r.cache }))) return;
    try {
      const res = await fetch(url, { credentials: 'same-origin' });
      if (res.ok) {
        await keep(r.cache, url, res);
        kept++;
      }
    } catch {
      // offline again: what was kept stays
    }
  };
  const queue: [string, boolean][] = [
    ...pages.filter((p) => new URL(p).origin === ORIGIN).map((p): [string, boolean] => [p, true]),
    ...warmList(urls, ORIGIN).map((u): [string, boolean] => [u, false]),
  ];
  const workers = Array.from({ length: 6 }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) await one(...next);
  });
  await Promise.all(workers);
  return kept;
}

sw.addEventListener('message', (e) => {
  const d = e.data as { type?: string; pages?: unknown; urls?: unknown; id?: unknown } | null;
  if (d?.type !== 'warm') return;
  const strings = (v: unknown) =>
    Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  e.waitUntil(
    warm(strings(d.pages), strings(d.urls)).then((kept) =>
      e.source?.postMessage({ type: 'warmed', id: d.id, kept }),
    ),
  );
});
