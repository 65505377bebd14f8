// The tiles module: the read-only hot path. It provides the 'releases' service (each region's prod release, from
// the blob store's tags), answers archives with HTTP Range and z/x/y tiles in `fast()` (plain node:http, cached
// answers sent synchronously), and TileJSON, the region list and styles as Express routes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { Request, Response, Router } from 'express';
import { repoRoot } from '../../core/paths.js';
import { isValidZxy, MAX_ZOOM, zxyToTileId } from '../../pipeline/pmtiles/tileid.js';
import { regionsDir } from '../../pipeline/region.js';
import { LAYERS, type ReleaseLayer } from '../../pipeline/releases/manifest.js';
import { provide, type RequestTarget, type ServeContext, type ServeModule } from '../context.js';
import { HttpError, sendJson } from '../http.js';
import { headText, PUBLIC_HEADERS } from '../headers.js';
import { noneMatch } from '../conditional.js';
import { WIRE_SERVICE, type WireAnswer, type WireAnswerer, type WireHeaders } from '../wire.js';
import { setRoute } from '../ops.js';
import type { ReleaseRegistry } from '../releases.js';
import { MemoryBudget, type OpenArchive, type ServedArchive, type TileAnswer } from './archive.js';
import { regionEntry, tileJson } from './docs.js';
import { ByteLru } from './lru.js';
import { parseTilesPath } from './paths.js';
import { publicBase } from './public-url.js';
import { BlobReleaseRegistry, loadRegions } from './registry.js';
import {
  archiveHeaders,
  decideArchive,
  IMMUTABLE,
  REVALIDATE,
  sendPublicError,
  writeArchive,
  writeTile,
  type ArchiveHeaders,
} from './respond.js';
import { ServedReleases, type RegionServing } from './served.js';
import { loadStyle, needsRegion, rewriteStyle } from './styles.js';

export interface TilesOptions {
  /** the region files to serve (default: the repository's regions/) */
  regionsDir?: string;
  /** the style files (default: the repository's styles/) */
  stylesDir?: string;
}

const ROUTE_TILE = '/tiles/:region/:layer/:z/:x/:y.mvt';
const ROUTE_ARCHIVE = '/tiles/:region/:layer.pmtiles';
const ROUTE_IMMUTABLE = '/tiles/:region/:layer-:sha256.pmtiles';
const NO_STORE_JSON = { 'Cache-Control': 'no-cache' };
/** Ranges up to this size answered on the raw front keep their response bytes (within RANGE_KEEP_BYTES). */
const RANGE_KEEP_MAX = 32 * 1024;
const RANGE_KEEP_BYTES = 8 * 1024 * 1024;

function isLayer(layer: string): layer is ReleaseLayer {
  return (LAYERS as readonly string[]).includes(layer);
}

export function createTilesModule(ctx: ServeContext, options: TilesOptions = {}): ServeModule {
  const { logger, metrics } = ctx;
  const regions = loadRegions(options.regionsDir ?? regionsDir(), logger);
  const stylesDir = options.stylesDir ?? path.join(repoRoot(), 'styles');
  const registry = new BlobReleaseRegistry({
    blob: ctx.blob,
    bus: ctx.bus,
    regions,
    recheckMs: ctx.config.releaseRecheckMs,
    logger,
  });
  provide<ReleaseRegistry>(ctx, 'releases', registry);
  // Half of the budget holds small local archives whole; the other half caches tiles and directories.
  const served = new ServedReleases(registry, {
    blob: ctx.blob,
    lru: new ByteLru(Math.floor(ctx.config.tileCacheBytes / 2)),
    memory: new MemoryBudget(Math.floor(ctx.config.tileCacheBytes / 2)),
    metrics,
    logger,
  });
  const headerCache = new WeakMap<ServedArchive, { latest: ArchiveHeaders; immutable: ArchiveHeaders }>();
  const headersOf = (a: ServedArchive, immutable: boolean): ArchiveHeaders => {
    let h = headerCache.get(a);
    if (!h) {
      h = { latest: archiveHeaders(a.etag, REVALIDATE), immutable: archiveHeaders(a.etag, IMMUTABLE) };
      headerCache.set(a, h);
    }
    return immutable ? h.immutable : h.latest;
  };

  const fail = (res: ServerResponse) => (err: unknown) => {
    sendPublicError(res, err, logger);
    return true;
  };

  /** The archive of region/layer now served, or the HttpError saying why there is none. */
  const archiveFor = (state: RegionServing, region: string, layer: string): ServedArchive => {
    if (!state.release)
      throw new HttpError(
        404,
        'no_release',
        `region ${region} has nothing in prod yet (publish and promote a release first)`,
      );
    const a = isLayer(layer) ? state.archives[layer] : undefined;
    if (!a)
      throw new HttpError(
        404,
        'unknown_layer',
        `region ${region} has no layer '${layer}' (layers: ${Object.keys(state.archives).join(', ')})`,
      );
    return a;
  };

  const unknownRegion = (region: string) =>
    new HttpError(
      404,
      'unknown_region',
      `no region '${region}' (regions: ${registry
        .regions()
        .map((r) => r.id)
        .join(', ')})`,
    );

  /** The region's state, reading its tags first when that has not happened yet. */
  const stateOf = (region: string): RegionServing | Promise<RegionServing> => {
    const s = served.get(region);
    if (s) return s;
    if (!registry.region(region)) throw unknownRegion(region);
    return served.resolve(region).then((r) => {
      if (!r) throw unknownRegion(region);
      return r;
    });
  };

  type TileTarget = { region: string; layer: string; z: number; x: number; y: number };
  type ArchiveTarget = { region: string; layer: string; sha256: string | undefined };
  type Target = ({ kind: 'tile' } & TileTarget) | ({ kind: 'archive' } & ArchiveTarget);

  /** Answers from the region's current state; `attempt` counts restarts after a release changed mid-request. */
  function dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    t: Target,
    attempt: number,
  ): boolean | Promise<boolean> {
    if (attempt > 3)
      throw new HttpError(503, 'release_changing', `the release of ${t.region} is changing; retry`, {
        'Retry-After': '1',
      });
    const s = stateOf(t.region);
    const run = (state: RegionServing) =>
      t.kind === 'tile' ? tile(req, res, state, t, attempt) : archive(req, res, state, t, attempt);
    return s instanceof Promise ? s.then(run) : run(s);
  }

  /** Opens an archive for a request, then answers it (again from the current release if this one was retired). */
  function afterOpen(
    req: IncomingMessage,
    res: ServerResponse,
    a: ServedArchive,
    t: Target,
    attempt: number,
  ): Promise<boolean> {
    return a.open().then(() => dispatch(req, res, t, a.retired ? attempt + 1 : attempt));
  }

  function tile(
    req: IncomingMessage,
    res: ServerResponse,
    state: RegionServing,
    t: { kind: 'tile' } & TileTarget,
    attempt: number,
  ): boolean | Promise<boolean> {
    const a = archiveFor(state, t.region, t.layer);
    const o = a.opened;
    if (o === undefined) return afterOpen(req, res, a, t, attempt);
    const answer = tileAnswer(a, o, t);
    if (answer instanceof Promise)
      return answer.then((later) => {
        writeTile(req, res, later);
        return true;
      });
    writeTile(req, res, answer);
    return true;
  }

  /** A tile's answer from an opened archive: 404 outside its zooms, from the cache, or read from the store. */
  function tileAnswer(
    a: ServedArchive,
    o: OpenArchive,
    { z, x, y }: { z: number; x: number; y: number },
  ): TileAnswer | Promise<TileAnswer> {
    if (z > MAX_ZOOM || !isValidZxy(z, x, y) || !a.hasZoom(z))
      return a.notFound(
        `no tile ${z}/${x}/${y} in ${a.name} (zooms ${o.header.minZoom}–${o.header.maxZoom})`,
      );
    const id = zxyToTileId(z, x, y);
    return a.cached(id) ?? a.loadTile(z, x, y, id);
  }

  function archive(
    req: IncomingMessage,
    res: ServerResponse,
    state: RegionServing,
    t: { kind: 'archive' } & ArchiveTarget,
    attempt: number,
  ): boolean | Promise<boolean> {
    const a = archiveFor(state, t.region, t.layer);
    if (t.sha256 !== undefined && t.sha256 !== a.archive.sha256)
      throw new HttpError(
        404,
        'not_found',
        `no prod archive ${t.layer}-${t.sha256}.pmtiles for region ${t.region} (the current one is ` +
          `${t.layer}-${a.archive.sha256}.pmtiles)`,
      );
    const o = a.opened;
    if (o === undefined) return afterOpen(req, res, a, t, attempt);
    const done = writeArchive(req, res, a, o, headersOf(a, t.sha256 !== undefined));
    return done === undefined ? true : done.then(() => true);
  }

  function fast(
    req: IncomingMessage,
    res: ServerResponse,
    target: RequestTarget,
  ): boolean | Promise<boolean> {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    const t = parseTilesPath(target.path);
    if (t === undefined) return false;
    if (t.kind === 'archive') setRoute(res, t.sha256 === undefined ? ROUTE_ARCHIVE : ROUTE_IMMUTABLE);
    else setRoute(res, ROUTE_TILE);
    try {
      if (t.kind === 'bad-tile')
        throw new HttpError(
          404,
          'not_found',
          `not a tile address: expected /tiles/${t.region}/${t.layer}/{z}/{x}/{y}.mvt with whole numbers`,
        );
      const r = dispatch(req, res, t, 0);
      return r instanceof Promise ? r.catch(fail(res)) : r;
    } catch (err) {
      return fail(res)(err);
    }
  }

  // The raw front's answers (serve/wire.ts): the same decisions and header lists as fast(), as bytes. Heads of
  // cached answers are made once per answer (and per 304 list); only a range's two lines are per request.
  const mainHeads = new WeakMap<TileAnswer, Buffer>();
  const notModifiedHeads = new WeakMap<string[], Buffer>();
  const okHeads = new WeakMap<string[], { ok: string; partial: string }>();
  // Heads of recent small ranges (clients ask for the same directories and tiles), by status, URL kind, archive
  // and bytes; the front keeps a whole response per head, so the budget counts both (all dropped when full).
  const rangeHeads = new Map<string, Buffer>();
  let rangeHeadBytes = 0;
  const head304 = (list: string[]): Buffer => {
    let b = notModifiedHeads.get(list);
    if (b === undefined) {
      b = Buffer.from(headText(304, list), 'latin1');
      notModifiedHeads.set(list, b);
    }
    return b;
  };

  function wireTile(method: 'GET' | 'HEAD', a: TileAnswer, ifNoneMatch: string | undefined): WireAnswer {
    if (a.etag !== undefined && ifNoneMatch !== undefined && noneMatch(ifNoneMatch, a.etag))
      return { status: 304, route: ROUTE_TILE, head: head304(a.notModified), body: undefined, stable: true };
    let head = mainHeads.get(a);
    if (head === undefined) {
      head = Buffer.from(headText(a.status, a.headers), 'latin1');
      mainHeads.set(a, head);
    }
    if (method === 'HEAD')
      return { status: a.status, route: ROUTE_TILE, head, body: undefined, stable: false };
    return { status: a.status, route: ROUTE_TILE, head, body: a.body, stable: true };
  }

  /**
   * A GET/HEAD of a tile or archive answered from memory now, or later when the archive must be opened or the
   * tile read (as fast() does), or undefined: node:http answers it then (errors, bytes streamed from the store).
   */
  function answerWire(
    method: 'GET' | 'HEAD',
    p: string,
    h: WireHeaders,
    attempt = 0,
  ): WireAnswer | Promise<WireAnswer | undefined> | undefined {
    const t = parseTilesPath(p);
    if (t === undefined || t.kind === 'bad-tile') return undefined;
    const state = served.get(t.region);
    if (state === undefined || !state.release || !isLayer(t.layer)) return undefined;
    const a = state.archives[t.layer];
    if (a === undefined) return undefined;
    const o = a.opened;
    if (o === undefined) {
      if (attempt >= 3 || (t.kind === 'archive' && t.sha256 !== undefined && t.sha256 !== a.archive.sha256))
        return undefined;
      return a.open().then(() => answerWire(method, p, h, a.retired ? attempt + 1 : attempt));
    }
    if (t.kind === 'tile') {
      const answer = tileAnswer(a, o, t);
      return answer instanceof Promise
        ? answer.then((later) => wireTile(method, later, h.ifNoneMatch))
        : wireTile(method, answer, h.ifNoneMatch);
    }
    if (t.sha256 !== undefined && t.sha256 !== a.archive.sha256) return undefined;
    const route = t.sha256 === undefined ? ROUTE_ARCHIVE : ROUTE_IMMUTABLE;
    const headers = headersOf(a, t.sha256 !== undefined);
    const d = decideArchive(method, h.ifNoneMatch, h.range, h.ifRange, a);
    if (d.status === 304)
      return { status: 304, route, head: head304(headers.notModified), body: undefined, stable: true };
    if (d.status === 416)
      return {
        status: 416,
        route,
        head: Buffer.from(headText(416, d.list), 'latin1'),
        body: Buffer.from(d.body),
        stable: false,
      };
    const { status, start, end } = d;
    const mem = o.bytes.memory;
    if (method === 'GET' && mem === undefined) return undefined; // streamed from a file or the blob store
    const length = end - start + 1;
    // a small GET range (a directory, a tile): its head is kept, so the front keeps the whole response
    const keep = method === 'GET' && length <= RANGE_KEEP_MAX;
    const key = keep ? `${status} ${t.sha256 === undefined ? 'r' : 'i'} ${a.etag} ${start} ${end}` : '';
    const kept = keep ? rangeHeads.get(key) : undefined;
    if (kept !== undefined)
      return { status, route, head: kept, body: mem!.subarray(start, end + 1), stable: true };
    let ok = okHeads.get(headers.ok);
    if (ok === undefined) {
      ok = { ok: headText(200, headers.ok), partial: headText(206, headers.ok) };
      okHeads.set(headers.ok, ok);
    }
    const size = a.archive.size;
    const text =
      status === 206
        ? `${ok.partial}Content-Range: bytes ${start}-${end}/${size}\r\nContent-Length: ${length}\r\n`
        : `${ok.ok}Content-Length: ${length}\r\n`;
    if (method === 'HEAD') return { status, route, head: text, body: undefined, stable: false };
    const body = mem!.subarray(start, end + 1);
    if (!keep) return { status, route, head: text, body, stable: false };
    const head = Buffer.from(text, 'latin1');
    if (rangeHeadBytes > RANGE_KEEP_BYTES) {
      rangeHeads.clear();
      rangeHeadBytes = 0;
    }
    rangeHeads.set(key, head);
    rangeHeadBytes += 2 * head.length + length + 64;
    return { status, route, head, body, stable: true };
  }
  provide<WireAnswerer>(ctx, WIRE_SERVICE, { answer: answerWire });

  /** The region and its prod release for a JSON document; 404 when unknown or nothing is in prod. */
  async function prodOf(region: string, layer?: string) {
    const r = registry.region(region);
    if (!r) throw unknownRegion(region);
    const state = await served.resolve(region);
    const a = archiveFor(state!, region, layer ?? 'base');
    return { region: r, release: state!.release!, archive: a };
  }

  function json(res: Response, body: unknown): void {
    sendJson(res, 200, body, { ...NO_STORE_JSON, ...PUBLIC_HEADERS });
  }

  function routes(router: Router): void {
    router.get('/tiles/:region/:file', async (req: Request, res: Response, next) => {
      const file = req.params.file as string;
      if (!file.endsWith('.json')) return next();
      setRoute(res, '/tiles/:region/:layer.json');
      try {
        const region = req.params.region as string;
        const layer = file.slice(0, -'.json'.length);
        const { region: r, release, archive: a } = await prodOf(region, layer);
        const o = await a.open();
        json(
          res,
          tileJson({
            base: publicBase(ctx.config, req),
            region: r,
            layer: a.archive.layer,
            release,
            header: o.header,
            metadata: await o.reader.metadata(),
          }),
        );
      } catch (err) {
        next(err);
      }
    });

    router.get('/regions', async (req: Request, res: Response, next) => {
      setRoute(res, '/regions');
      try {
        const base = publicBase(ctx.config, req);
        const list = [];
        for (const r of registry.regions()) list.push(regionEntry(base, r, await registry.current(r.id)));
        json(res, { regions: list });
      } catch (err) {
        next(err);
      }
    });

    router.get('/styles/:file', async (req: Request, res: Response, next) => {
      const file = req.params.file as string;
      if (!file.endsWith('.json')) return next();
      setRoute(res, '/styles/:name.json');
      try {
        const style = await loadStyle(stylesDir, file.slice(0, -'.json'.length));
        const asked = typeof req.query.region === 'string' ? req.query.region : undefined;
        let region: string | undefined;
        if (asked !== undefined) {
          if (!registry.region(asked)) throw unknownRegion(asked);
          region = asked;
        } else {
          for (const r of registry.regions())
            if (await registry.current(r.id)) {
              region = r.id;
              break;
            }
          region ??= registry.regions()[0]?.id;
        }
        if (region === undefined && needsRegion(style))
          throw new HttpError(404, 'no_region', 'this server has no region to point the style at');
        json(res, rewriteStyle(style, publicBase(ctx.config, req), region));
      } catch (err) {
        next(err);
      }
    });
  }

  return {
    name: 'tiles',
    start: () => registry.start(),
    fast,
    routes,
    async readiness() {
      const unread = registry.regions().filter((r) => registry.peek(r.id) === 'unknown');
      return { releases: unread.length === 0 };
    },
    async close() {
      await registry.close();
      served.clear();
    },
  };
}
