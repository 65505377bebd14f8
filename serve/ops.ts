// Operations: /healthz (the process answers), /readyz (db, bus, blob and every module's own checks), /metrics
// (Prometheus), security headers and CORS for every Express route.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response, Router } from 'express';
import compression from 'compression';
import helmet from 'helmet';
import type { ServeContext, ServeModule } from './context.js';
import { PUBLIC_CORS } from './headers.js';
import { sendJson } from './http.js';

/** Decides whether a browser origin may call the write API (registered partners); provided as 'origins'. */
export interface OriginPolicy {
  allowed(origin: string): Promise<boolean>;
}

/** What Express compresses: JSON and text documents, never event streams (they must flush) or ranged bodies. */
export function compressible(contentType: string, hasRange: boolean): boolean {
  if (hasRange) return false;
  return /^(application\/(json|javascript|geo\+json)|text\/(html|css|javascript|plain))\b/i.test(contentType);
}

const API_ALLOW_HEADERS =
  'Content-Type, Authorization, Idempotency-Key, X-Weft-Partner, X-Weft-Timestamp, X-Weft-Signature';

function withTimeout<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(fallback), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      () => {
        clearTimeout(t);
        resolve(fallback);
      },
    );
  });
}

/** The readiness of the shared adapters and of every module, each check bounded to 2 s. */
export async function readiness(ctx: ServeContext, modules: ServeModule[]): Promise<Record<string, boolean>> {
  const checks: Record<string, Promise<boolean>> = {
    db: withTimeout(
      ctx.db.query('SELECT 1').then(() => true),
      2000,
      false,
    ),
    bus: ctx.bus.ping(2000),
    blob: withTimeout(
      ctx.blob.head('releases/.readyz').then(() => true),
      2000,
      false,
    ),
  };
  const out: Record<string, boolean> = {};
  for (const [k, p] of Object.entries(checks)) out[k] = await p;
  for (const m of modules) {
    if (!m.readiness) continue;
    const r = await withTimeout(m.readiness(), 2000, { [m.name]: false });
    for (const [k, v] of Object.entries(r)) out[`${m.name}.${k}`] = v;
  }
  return out;
}

function isApi(path: string): boolean {
  return path === '/api' || path.startsWith('/api/');
}

export function createOpsModule(ctx: ServeContext, modules: () => ServeModule[]): ServeModule {
  const security = helmet({
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'no-referrer' },
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
  });
  const originAllowed = async (origin: string): Promise<boolean> => {
    if (ctx.config.corsOrigins.includes(origin)) return true;
    const policy = ctx.services.get('origins') as OriginPolicy | undefined;
    return policy ? policy.allowed(origin) : false;
  };
  return {
    name: 'ops',
    fast(req: IncomingMessage, res: ServerResponse, { path }) {
      if (path === '/healthz') {
        setRoute(res, '/healthz');
        sendJson(res, 200, { ok: true, pid: process.pid, uptimeSeconds: Math.round(process.uptime()) });
        return true;
      }
      return false;
    },
    routes(router: Router) {
      router.use(security);
      router.use(
        compression({
          filter: (req, res) =>
            compressible(String(res.getHeader('Content-Type') ?? ''), !!req.headers.range),
        }),
      );
      router.use((req: Request, res: Response, next: NextFunction) => {
        const origin = req.headers.origin;
        if (!isApi(req.path)) {
          res.set(PUBLIC_CORS);
          if (req.method === 'OPTIONS') {
            res.set('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS');
            res.set('Access-Control-Allow-Headers', 'Range, If-None-Match, If-Range');
            res.set('Access-Control-Max-Age', '600');
            res.status(204).end();
            return;
          }
          next();
          return;
        }
        if (!origin) return next();
        originAllowed(origin).then(
          (ok) => {
            res.vary('Origin');
            if (ok) {
              res.set('Access-Control-Allow-Origin', origin);
              res.set('Access-Control-Expose-Headers', 'Retry-After, Idempotency-Replayed');
            }
            if (req.method === 'OPTIONS') {
              if (ok) {
                res.set('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE, OPTIONS');
                res.set('Access-Control-Allow-Headers', API_ALLOW_HEADERS);
                res.set('Access-Control-Max-Age', '600');
              }
              res.status(ok ? 204 : 403).end();
              return;
            }
            next();
          },
          (err: unknown) => next(err),
        );
      });
      router.get('/readyz', async (_req, res, next) => {
        try {
          const checks = await readiness(ctx, modules());
          const ok = Object.values(checks).every(Boolean);
          res
            .status(ok ? 200 : 503)
            .set('Cache-Control', 'no-store')
            .json({ ok, checks });
        } catch (err) {
          next(err);
        }
      });
      router.get('/metrics', async (_req, res, next) => {
        try {
          res
            .set('Content-Type', ctx.metrics.registry.contentType)
            .send(await ctx.metrics.registry.metrics());
        } catch (err) {
          next(err);
        }
      });
    },
  };
}

const ROUTE = Symbol('weft.route');

/** Names the route pattern of a hot-path response (for metrics and logs). */
export function setRoute(res: ServerResponse, pattern: string): void {
  (res as unknown as Record<symbol, string>)[ROUTE] = pattern;
}

/** The route pattern a response was answered by: set by setRoute, else Express's matched route. */
export function routeOf(req: IncomingMessage, res: ServerResponse): string {
  const tagged = (res as unknown as Record<symbol, string | undefined>)[ROUTE];
  if (tagged) return tagged;
  const r = req as IncomingMessage & { route?: { path?: unknown }; baseUrl?: string };
  if (r.route && typeof r.route.path === 'string') return (r.baseUrl ?? '') + r.route.path;
  return 'unmatched';
}
