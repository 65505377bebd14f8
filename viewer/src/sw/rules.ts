// The offline app shell's rules, pure (no DOM, no worker globals): how the service worker (sw.ts) treats each
// request, where it keeps the answer, which cached page stands in for a page asked for offline, and the cache key
// of an archive's byte range. Unit-tested.

/** How a request is answered. */
export type Strategy =
  /** a viewer page: network first, the cached page when offline */
  | 'page'
  /** hashed assets and glyphs: the cached copy first (they never change under their name) */
  | 'cache-first'
  /** styles, TileJSON, tiles, node reads: network first, the cached copy when offline */
  | 'network-first'
  /** an HTTP Range read of an archive: network first, the cached bytes (as 206) when offline */
  | 'range'
  /** anything else (writes, live deltas, sign-in, packs): not touched */
  | 'pass';

export const CACHES = {
  /** pages, styles, TileJSON, the embed snippet */
  shell: 'weft-shell-v1',
  /** hashed assets and glyphs */
  assets: 'weft-assets-v1',
  /** tiles, archive ranges, node reads: what was viewed */
  data: 'weft-data-v1',
} as const;
export type CacheName = (typeof CACHES)[keyof typeof CACHES];

/** Entries each cache keeps at most (the oldest go first). */
export const CACHE_LIMITS: Record<CacheName, number> = {
  [CACHES.shell]: 200,
  [CACHES.assets]: 400,
  [CACHES.data]: 4000,
};

export interface RequestFacts {
  method: string;
  /** absolute URL */
  url: string;
  /** the service worker's origin */
  origin: string;
  /** Request.mode ('navigate' for pages) */
  mode: string;
  hasRange: boolean;
  hasAuthorization: boolean;
}

const PAGES = new Set(['/', '/index.html', '/embed', '/embed/']);
const TILE = /^\/tiles\/[^/]+\/[^/]+\/\d+\/\d+\/\d+\.mvt$/;
const TILEJSON = /^\/tiles\/[^/]+\/[^/]+\.json$/;
const ARCHIVE = /^\/tiles\/[^/]+\/[^/]+\.pmtiles$/;
const STYLE = /^\/styles\/[^/]+\.json$/;
const NODE_READ = /^\/api\/nodes\/[^/]+$/;

/** The strategy for a request, and the cache it uses. */
export function route(r: RequestFacts): { strategy: Strategy; cache?: CacheName } {
  const pass = { strategy: 'pass' as const };
  if (r.method !== 'GET' || r.hasAuthorization) return pass;
  let u: URL;
  try {
    u = new URL(r.url);
  } catch {
    return pass;
  }
  if (u.origin !== r.origin) return pass;
  const p = u.pathname;
  if (r.mode === 'navigate') return PAGES.has(p) ? { strategy: 'page', cache: CACHES.shell } : pass;
  if (p.startsWith('/assets/') || p.startsWith('/fonts/'))
    return { strategy: 'cache-first', cache: CACHES.assets };
  if (ARCHIVE.test(p)) return r.hasRange ? { strategy: 'range', cache: CACHES.data } : pass;
  if (r.hasRange) return pass;
  if (TILE.test(p) || NODE_READ.test(p)) return { strategy: 'network-first', cache: CACHES.data };
  if (TILEJSON.test(p) || STYLE.test(p) || p === '/embed.js')
    return { strategy: 'network-first', cache: CACHES.shell };
  return pass;
}

/** The cache key of an archive's byte range (Cache Storage keeps no partial responses, so each range is its own). */
export function rangeKey(url: string, range: string): string {
  const u = new URL(url);
  u.searchParams.set('weft-range', range.replace(/\s+/g, ''));
  return u.toString();
}

/**
 * The cached page that stands in for `url` offline: the same URL, else a page of the same path for the same region
 * (`?region=`), else one of the same path. Undefined when none fits.
 */
export function standInPage(url: string, cached: readonly string[]): string | undefined {
  if (cached.includes(url)) return url;
  const want = new URL(url);
  const samePath = cached.map((c) => new URL(c)).filter((c) => c.pathname === want.pathname);
  const region = want.searchParams.get('region');
  const sameRegion = samePath.find((c) => c.searchParams.get('region') === region);
  return (sameRegion ?? samePath[0])?.toString();
}

/**
 * The URLs a page asks the worker to keep (what it loaded before the worker controlled it): same-origin ones the
 * worker would cache, each once, without fragments.
 */
export function warmList(urls: readonly string[], origin: string): string[] {
  const out = new Set<string>();
  for (const raw of urls) {
    let u: URL;
    try {
      u = new URL(raw, origin);
    } catch {
      continue;
    }
    u.hash = '';
    const r = route({
      method: 'GET',
      url: u.toString(),
      origin,
      mode: 'cors',
      hasRange: false,
      hasAuthorization: false,
    });
    if (r.strategy === 'cache-first' || r.strategy === 'network-first') out.add(u.toString());
  }
  return [...out];
}
