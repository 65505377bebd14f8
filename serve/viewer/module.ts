// The viewer's hosting: `/` (the full viewer with its region chooser), `/embed` (the partner iframe: light path or
// full viewer), `/embed.js` (the partner snippet), `/sw.js` (the offline shell's service worker, at the root so its
// scope is the whole site; never cached, so an update is seen at once), the built assets under /assets/ (hashed
// names: immutable, gzip),
// and the glyphs under /fonts/ (serve/viewer/fonts.ts). Each page gets its own CSP and the server's word on the
// region (boot JSON in the page), so the light path's first load needs no extra request. All on the hot path.
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { listRegionIds, loadRegion, type Region } from '../../pipeline/region.js';
import { regionsDir, repoRoot } from '../../core/paths.js';
import type { ModuleFactory, RequestTarget, ServeContext, ServeModule } from '../context.js';
import { sendJson } from '../http.js';
import { BASE_HEADERS, PUBLIC_HEADERS } from '../headers.js';
import { setRoute } from '../ops.js';
import type { ReleaseRegistry } from '../releases.js';
import { fontsReady, serveFont } from './fonts.js';
import { pageCsp, renderPage, type BootConfig, type RegionInfo } from './page.js';

export interface ViewerModuleOptions {
  /** the built viewer (default: $WEFT_VIEWER_DIR or <repo>/build/viewer) */
  dir?: string;
}

export function defaultViewerDir(): string {
  return process.env.WEFT_VIEWER_DIR || path.join(repoRoot(), 'build', 'viewer');
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};
const COMPRESSIBLE = new Set(['.js', '.mjs', '.css', '.html', '.json', '.svg']);
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** The snippet keeps its name (partners link it), so it is cached briefly. */
const SNIPPET_CACHE = 'public, max-age=300';
/** The service worker: browsers check it on every navigation anyway; no-cache makes that check reach the server. */
const WORKER_CACHE = 'no-cache';
const ASSET_NAME = /^\/assets\/[A-Za-z0-9_.-]+$/;

interface Body {
  raw: Buffer;
  gzip?: Buffer;
  type: string;
  mtimeMs: number;
}

function regionInfo(r: Region): RegionInfo {
  return {
    id: r.id,
    name: r.name,
    bbox: r.bbox,
    center: r.center as [number, number, number],
    minzoom: r.minzoom,
    maxzoom: r.maxzoom,
  };
}

/** The region files in the repository (when no tiles module provides the 'releases' service). */
function regionFiles(): Region[] {
  const out: Region[] = [];
  for (const id of listRegionIds(regionsDir())) {
    try {
      out.push(loadRegion(path.join(regionsDir(), `${id}.json`)));
    } catch {
      // a broken region file is the tiles module's to report
    }
  }
  return out;
}

function acceptsGzip(req: IncomingMessage): boolean {
  return /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  body: { raw: Buffer; gzip?: Buffer; type: string },
  headers: Record<string, string>,
): true {
  const gz = body.gzip && acceptsGzip(req) ? body.gzip : undefined;
  const bytes = gz ?? body.raw;
  res.writeHead(200, {
    ...BASE_HEADERS,
    'Content-Type': body.type,
    'Content-Length': bytes.length,
    ...(body.gzip ? { Vary: 'Accept-Encoding' } : {}),
    ...(gz ? { 'Content-Encoding': 'gzip' } : {}),
    ...headers,
  });
  res.end(req.method === 'HEAD' ? undefined : bytes);
  return true;
}

/** The viewer module over a built viewer folder. */
export function viewerModule(options: ViewerModuleOptions = {}): ModuleFactory {
  return (ctx) => createViewer(ctx, options.dir ?? defaultViewerDir());
}

export function createViewerModule(ctx: ServeContext): ServeModule {
  return createViewer(ctx, defaultViewerDir());
}

function createViewer(ctx: ServeContext, dir: string): ServeModule {
  const cache = new Map<string, Body>();
  let fileRegions: Region[] | undefined;

  /** A file of the build, read once and kept with its gzip form (re-read when the build changed). */
  const file = (rel: string): Body | undefined => {
    const full = path.join(dir, rel);
    let mtimeMs: number;
    try {
      const st = statSync(full);
      if (!st.isFile()) return undefined;
      mtimeMs = st.mtimeMs;
    } catch {
      return undefined;
    }
    const hit = cache.get(rel);
    if (hit && hit.mtimeMs === mtimeMs) return hit;
    const ext = path.extname(rel);
    const raw = readFileSync(full);
    const gzip = COMPRESSIBLE.has(ext) && raw.length > 256 ? gzipSync(raw, { level: 9 }) : undefined;
    const body: Body = {
      raw,
      gzip: gzip && gzip.length < raw.length ? gzip : undefined,
      type: TYPES[ext] ?? 'application/octet-stream',
      mtimeMs,
    };
    cache.set(rel, body);
    return body;
  };

  const registry = () => ctx.services.get('releases') as ReleaseRegistry | undefined;

  const boot = async (regionId: string | null): Promise<BootConfig> => {
    const reg = registry();
    const all = reg ? reg.regions() : (fileRegions ??= regionFiles());
    const regions: RegionInfo[] = [];
    let release: BootConfig['release'];
    let region: RegionInfo | undefined;
    for (const r of all) {
      const current = reg ? await reg.current(r.id).catch(() => undefined) : undefined;
      if (reg && !current) continue;
      regions.push(regionInfo(r));
      if (r.id === regionId) {
        region = regionInfo(r);
        if (current) release = { id: current.id, eventPosition: current.manifest.eventPosition };
      }
    }
    return {
      ...(region ? { region } : {}),
      regions,
      ...(release ? { release } : {}),
      websockets: ctx.config.websockets,
      attribution: '© OpenStreetMap contributors',
    };
  };

  const page = async (
    req: IncomingMessage,
    res: ServerResponse,
    target: RequestTarget,
    name: 'index.html' | 'embed.html',
    route: string,
  ): Promise<true> => {
    setRoute(res, route);
    const template = file(name);
    if (!template) {
      sendJson(res, 503, {
        error: {
          code: 'unavailable',
          message: 'the viewer is not built on this server (run scripts/build-viewer.sh or make setup)',
        },
      });
      return true;
    }
    const html = renderPage(template.raw.toString('utf8'), await boot(target.query.get('region')));
    const raw = Buffer.from(html, 'utf8');
    return send(
      req,
      res,
      { raw, gzip: acceptsGzip(req) ? gzipSync(raw, { level: 6 }) : undefined, type: TYPES['.html']! },
      {
        'Cache-Control': 'no-cache',
        'Content-Security-Policy': pageCsp(name === 'embed.html' ? 'embed' : 'app'),
        ...(name === 'embed.html' ? {} : { 'X-Frame-Options': 'SAMEORIGIN' }),
      },
    );
  };

  return {
    name: 'viewer',
    // not a readiness check: a server without the viewer built still serves tiles, packs and the API
    async start() {
      if (!existsSync(path.join(dir, 'index.html')))
        ctx.logger.warn(
          { module: 'viewer', dir },
          'the viewer is not built: / and /embed answer 503 (run scripts/build-viewer.sh)',
        );
      if (!fontsReady())
        ctx.logger.warn({ module: 'viewer' }, 'the map glyphs are not built: /fonts/ answers 503');
    },
    fast(req, res, target) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      const p = target.path;
      if (p.startsWith('/fonts/')) return serveFont(req, res, target);
      if (p === '/' || p === '/index.html') return page(req, res, target, 'index.html', '/');
      if (p === '/embed' || p === '/embed/') return page(req, res, target, 'embed.html', '/embed');
      if (p === '/embed.js') {
        setRoute(res, '/embed.js');
        const body = file('embed.js');
        if (!body) return false;
        return send(req, res, body, { 'Cache-Control': SNIPPET_CACHE, ...PUBLIC_HEADERS });
      }
      if (p === '/sw.js') {
        setRoute(res, '/sw.js');
        const body = file('sw.js');
        if (!body) return false;
        return send(req, res, body, { 'Cache-Control': WORKER_CACHE, 'Service-Worker-Allowed': '/' });
      }
      if (p.startsWith('/assets/')) {
        setRoute(res, '/assets/*');
        const body = ASSET_NAME.test(p) ? file(p.slice(1)) : undefined;
        if (!body) {
          sendJson(
            res,
            404,
            { error: { code: 'not_found', message: 'no such viewer asset' } },
            PUBLIC_HEADERS,
          );
          return true;
        }
        return send(req, res, body, { 'Cache-Control': IMMUTABLE, ...PUBLIC_HEADERS });
      }
      return false;
    },
  };
}
