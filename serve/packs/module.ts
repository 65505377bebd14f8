// Region packs: `GET|HEAD /regions/<id>/pack` sends one tar holding the region's prod archives, styles, release
// manifest and pack manifest — resumable (exact length, single ranges, If-Range, a strong ETag, 304), streamed from
// the blob store with ranged reads. The bytes are those of `weft pack create` (pipeline/packs/).
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { NextFunction, Request, Response, Router } from 'express';
import { errorMessage } from '../../core/errors.js';
import { PACK_CONTENT_TYPE } from '../../pipeline/packs/manifest.js';
import { planReleasePack } from '../../pipeline/packs/create.js';
import type { PackPlan } from '../../pipeline/packs/plan.js';
import { packStream } from '../../pipeline/packs/stream.js';
import { defaultStylesDir } from '../../pipeline/packs/styles.js';
import type { ModuleFactory, ServeContext, ServeModule } from '../context.js';
import { HttpError, sendJson } from '../http.js';
import { decideRange, ifRangeAllows, noneMatch } from '../conditional.js';
import { resolvePackTarget } from './resolve.js';

export interface PacksOptions {
  /** where the MapLibre styles are (default: the repository's styles/) */
  stylesDir?: string;
}

/** Every archive the pack streams is in the store with the size the release names; else 503 before any byte. */
async function checkArchives(ctx: ServeContext, plan: PackPlan): Promise<void> {
  for (const p of plan.layout.parts) {
    if (p.kind !== 'blob') continue;
    const head = await ctx.blob.head(p.key);
    if (!head || head.size !== p.length) {
      ctx.logger.error(
        { key: p.key, expected: p.length, found: head?.size ?? null },
        'pack: a prod archive is missing or has the wrong size in the blob store',
      );
      throw new HttpError(503, 'unavailable', 'the region pack cannot be assembled right now; retry later', {
        'Retry-After': '30',
      });
    }
  }
}

function packHeaders(plan: PackPlan): Record<string, string> {
  return {
    ETag: plan.etag,
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'no-cache',
    'Content-Disposition': `attachment; filename="${plan.fileName}"`,
    'X-Weft-Release': plan.manifest.release,
  };
}

async function sendPack(ctx: ServeContext, req: Request, res: Response, plan: PackPlan): Promise<void> {
  const headers = packHeaders(plan);
  if (noneMatch(req.get('if-none-match'), plan.etag)) {
    res.writeHead(304, headers).end();
    return;
  }
  const range = ifRangeAllows(req.get('if-range'), plan.etag)
    ? decideRange(req.get('range'), plan.size)
    : ({ kind: 'full' } as const);
  if (range.kind === 'unsatisfiable') {
    sendJson(
      res,
      416,
      { error: { code: 'range', message: `the range asked for lies outside the pack's ${plan.size} bytes` } },
      { ...headers, 'Content-Range': `bytes */${plan.size}` },
    );
    return;
  }
  await checkArchives(ctx, plan);
  const start = range.kind === 'partial' ? range.start : 0;
  const end = range.kind === 'partial' ? range.end : plan.size - 1;
  res.writeHead(range.kind === 'partial' ? 206 : 200, {
    ...headers,
    'Content-Type': PACK_CONTENT_TYPE,
    'Content-Length': String(end - start + 1),
    ...(range.kind === 'partial' ? { 'Content-Range': `bytes ${start}-${end}/${plan.size}` } : {}),
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  try {
    await pipeline(packStream(ctx.blob, plan.layout, { start, end }), res as ServerResponse);
  } catch (err) {
    if (!res.destroyed) res.destroy();
    // a client that goes away mid-download is normal (it resumes with Range); anything else is the store's fault
    const aborted = (err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE';
    ctx.logger[aborted ? 'debug' : 'warn'](
      { region: plan.manifest.region, release: plan.manifest.release, start, end },
      `pack download ${aborted ? 'ended by the client' : `failed: ${errorMessage(err)}`}`,
    );
  }
}

/** The packs module with options (tests point it at their own styles). */
export function packsModule(options: PacksOptions = {}): ModuleFactory {
  return (ctx) => buildPacksModule(ctx, options);
}

export function createPacksModule(ctx: ServeContext): ServeModule {
  return buildPacksModule(ctx, {});
}

function buildPacksModule(ctx: ServeContext, options: PacksOptions): ServeModule {
  const stylesDir = options.stylesDir ?? defaultStylesDir();
  const warned = new Set<string>();
  const warn = (message: string) => {
    if (warned.has(message)) return;
    warned.add(message);
    ctx.logger.warn({ component: 'packs' }, message);
  };
  return {
    name: 'packs',
    routes(router: Router) {
      router.get('/regions/:region/pack', async (req: Request, res: Response, next: NextFunction) => {
        try {
          const target = await resolvePackTarget(ctx, String(req.params.region));
          const plan = await planReleasePack(target.region, target.release, stylesDir, warn);
          await sendPack(ctx, req, res, plan);
        } catch (err) {
          if (res.headersSent) res.destroy();
          else next(err);
        }
      });
    },
  };
}
