// What every part of the server shares: its configuration, the three adapters, logging, metrics, and the
// ServeModule shape each part (tiles, packs, write API, live deltas, operations) implements.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BlobStore } from '../core/blob/adapter.js';
import type { Bus } from '../core/bus/adapter.js';
import type { Db } from '../core/db/adapter.js';
import type { ServeConfig } from './config.js';
import type { Metrics } from './metrics.js';

export interface ServeContext {
  config: ServeConfig;
  db: Db;
  blob: BlobStore;
  bus: Bus;
  /** A Redis client when REDIS_URL is set (rate limits, presence); undefined means in-process state. */
  redis?: Redis;
  logger: Logger;
  metrics: Metrics;
  /** Shared services modules offer one another, by name (e.g. 'releases'); see provide()/need(). */
  services: Map<string, unknown>;
}

/** Registers a service other modules may look up by name (one provider per name). */
export function provide<T>(ctx: ServeContext, name: string, service: T): T {
  if (ctx.services.has(name)) throw new Error(`service '${name}' is provided twice`);
  ctx.services.set(name, service);
  return service;
}

/** A service another module provided; throws when none did (a wiring bug, not a user error). */
export function need<T>(ctx: ServeContext, name: string): T {
  const s = ctx.services.get(name);
  if (s === undefined)
    throw new Error(`service '${name}' is not provided (check the module order in serve/server.ts)`);
  return s as T;
}

/** The request path and query, parsed once by the front handler. */
export interface RequestTarget {
  /** decoded path, e.g. /tiles/monaco/base/12/2132/1493.mvt */
  path: string;
  query: URLSearchParams;
}

/** The decoded path of a request target (its query cut off); a malformed escape leaves the path as sent. */
export function targetPath(url: string): string {
  const q = url.indexOf('?');
  const raw = q < 0 ? url : url.slice(0, q);
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * One part of the server. Every member is optional. The front handler (a plain node:http handler) offers each
 * request to every module's `fast` in order before Express; a module returns true when it answered.
 */
export interface ServeModule {
  readonly name: string;
  /** Runs once before the server listens (subscribe to the bus, load releases, start loops). */
  start?(): Promise<void>;
  /** The hot path: answer without Express; return true when handled (the response is then the module's). */
  fast?(req: IncomingMessage, res: ServerResponse, target: RequestTarget): boolean | Promise<boolean>;
  /** Express routes, mounted on the app in module order. */
  routes?(router: Router): void;
  /** WebSocket (or other) upgrades; return true when the module took the socket. */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Named readiness checks for /readyz: true when ready. */
  readiness?(): Promise<Record<string, boolean>>;
  /** Stops loops and closes connections; the shared adapters are closed by the server afterwards. */
  close?(): Promise<void>;
}

export type ModuleFactory = (ctx: ServeContext) => ServeModule | Promise<ServeModule>;

/** The prefix of every Redis key a server writes: `weft:`, or `weft:<namespace>:` with WEFT_NAMESPACE. */
export function redisKeyPrefix(namespace: string | undefined): string {
  return namespace ? `weft:${namespace}:` : 'weft:';
}
