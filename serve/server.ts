// `weft serve`: one node:http server. A plain front handler answers the hot path (tiles, archive ranges, health)
// through the modules' `fast` handlers and hands everything else to Express; WebSocket upgrades go to the modules.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BlobStore } from '../core/blob/adapter.js';
import type { Bus } from '../core/bus/adapter.js';
import type { Db } from '../core/db/adapter.js';
import { errorMessage } from '../core/errors.js';
import { loadServeConfig, type ServeConfig } from './config.js';
import {
  targetPath,
  type ModuleFactory,
  type RequestTarget,
  type ServeContext,
  type ServeModule,
} from './context.js';
import { sendError, sendJson } from './http.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { DEFAULT_MODULES } from './modules.js';
import { clientIp, networkOf } from './net.js';
import { createOpsModule, routeOf } from './ops.js';
import { BAD_REQUEST, installWire, WIRE_SERVICE, type WireAnswerer, type WireFront } from './wire.js';

type Env = Record<string, string | undefined>;

export interface StartOptions {
  /** Overrides on top of the environment's configuration. */
  config?: Partial<ServeConfig>;
  env?: Env;
  /** Adapters to use instead of opening them from the environment; the caller keeps and closes them. */
  db?: Db;
  blob?: BlobStore;
  bus?: Bus;
  /** A Redis client for rate limits and presence; `null` forces in-process state even with REDIS_URL. */
  redis?: Redis | null;
  logger?: Logger;
  /** The modules after `ops`, in order (default: DEFAULT_MODULES). */
  modules?: ModuleFactory[];
}

export interface RunningServer {
  /** `http://host:port` */
  url: string;
  port: number;
  server: Server;
  ctx: ServeContext;
  modules: ServeModule[];
  /** the raw front (serve/wire.ts) when it is on */
  wire: WireFront | undefined;
  close(): Promise<void>;
}

/** The request's path (decoded) and query (parsed only when a handler asks for it). */
class Target implements RequestTarget {
  readonly path: string;
  private readonly rawQuery: string;
  private parsed?: URLSearchParams;
  constructor(url: string | undefined) {
    const raw = url ?? '/';
    const q = raw.indexOf('?');
    this.path = targetPath(raw);
    this.rawQuery = q < 0 ? '' : raw.slice(q + 1);
  }
  get query(): URLSearchParams {
    return (this.parsed ??= new URLSearchParams(this.rawQuery));
  }
}

/** Opens what is not given, builds the modules, starts them, and listens. */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const env = options.env ?? process.env;
  const config = loadServeConfig(env, options.config);
  const logger = options.logger ?? createLogger(config);
  const owned: (() => Promise<unknown>)[] = [];

  /** An adapter the server opened itself, and so closes on shutdown. */
  const own = <T extends { close(): Promise<unknown> }>(adapter: T): T => {
    owned.push(() => adapter.close());
    return adapter;
  };
  const db =
    options.db ??
    own(await (await import('../core/db/open.js')).openDb({ url: env.DATABASE_URL || undefined }));
  const blob = options.blob ?? own((await import('../core/blob/open.js')).openBlobStore(env));
  const bus =
    options.bus ??
    own(
      (await import('../core/bus/open.js')).openBus(env, {
        log: (level, message) => logger[level]({ component: 'bus' }, message),
      }),
    );
  let redis = options.redis ?? undefined;
  if (options.redis === undefined && env.REDIS_URL) {
    const r = new Redis(env.REDIS_URL, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: false,
    });
    r.on('error', (err: Error) => logger.debug({ component: 'redis' }, errorMessage(err)));
    owned.push(() => r.quit().catch(() => r.disconnect()));
    redis = r;
  }

  const ctx: ServeContext = {
    config,
    db,
    blob,
    bus,
    redis,
    logger,
    metrics: createMetrics(),
    services: new Map(),
  };
  const modules: ServeModule[] = [];
  modules.push(createOpsModule(ctx, () => modules));
  for (const factory of options.modules ?? DEFAULT_MODULES) modules.push(await factory(ctx));
  const fast = modules.filter((m) => m.fast);

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('etag', false);
  const router = express.Router();
  for (const m of modules) m.routes?.(router);
  app.use(router);
  app.use((_req: Request, res: Response) => {
    sendJson(res, 404, { error: { code: 'not_found', message: 'no such route' } });
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const d = sendError(res, err);
    if (d.internal) logger.error({ err, path: req.path }, `request failed: ${errorMessage(err)}`);
  });

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const startNs = process.hrtime.bigint();
    const target = new Target(req.url);
    res.once('finish', () => {
      const route = routeOf(req, res);
      ctx.metrics.observe(route, req.method ?? 'GET', res.statusCode, startNs);
      const level = route.startsWith('/tiles/') || route === '/healthz' ? 'debug' : 'info';
      if (logger.isLevelEnabled(level))
        logger[level](
          {
            method: req.method,
            route,
            path: target.path,
            status: res.statusCode,
            ms: Number(process.hrtime.bigint() - startNs) / 1e6,
            net: networkOf(clientIp(req, config.trustProxy)),
          },
          'request',
        );
    });
    const next = (i: number): void => {
      for (; i < fast.length; i++) {
        let r: boolean | Promise<boolean>;
        try {
          r = fast[i]!.fast!(req, res, target);
        } catch (err) {
          fail(err);
          return;
        }
        if (r === true) return;
        if (r !== false) {
          const at = i;
          r.then((done) => (done ? undefined : next(at + 1)), fail);
          return;
        }
      }
      app(req, res);
    };
    const fail = (err: unknown): void => {
      const d = sendError(res, err);
      if (d.internal) logger.error({ err, path: target.path }, `request failed: ${errorMessage(err)}`);
    };
    next(0);
  };

  const server = createServer({ keepAliveTimeout: 65_000 }, onRequest);
  server.on('upgrade', (req, socket, head) => {
    for (const m of modules) if (m.upgrade?.(req, socket, head)) return;
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end(BAD_REQUEST);
  });
  // The raw front answers cached tile and archive reads before node:http (WEFT_WIRE=0 turns it off).
  const answerer = ctx.services.get(WIRE_SERVICE) as WireAnswerer | undefined;
  const wire: WireFront | undefined =
    config.wire && answerer
      ? installWire({ server, answerer, metrics: ctx.metrics, logger, trustProxy: config.trustProxy })
      : undefined;

  const closeAll = async () => {
    for (const m of [...modules].reverse()) {
      try {
        await m.close?.();
      } catch (err) {
        logger.warn({ module: m.name }, `closing module failed: ${errorMessage(err)}`);
      }
    }
    for (const close of owned.reverse()) await close().catch(() => {});
  };
  try {
    for (const m of modules) await m.start?.();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await closeAll();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    port,
    server,
    ctx,
    modules,
    wire,
    close() {
      closing ??= (async () => {
        const done = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        wire?.close();
        await closeAll();
        server.closeAllConnections();
        await done;
      })();
      return closing;
    },
  };
}
