// The server's configuration: defaults, then environment variables, then command-line flags; checked once.
import { checkNamespace } from '../core/bus/namespace.js';
import { UserError } from '../core/errors.js';

type Env = Record<string, string | undefined>;

export interface ServeConfig {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** The URL clients reach the server at (styles and TileJSON point there); default: from each request's Host. */
  publicUrl?: string;
  /** Live deltas over WebSocket (`/live`); off leaves the HTTP fallback `/api/deltas`. */
  websockets: boolean;
  /** Origins allowed to call the write API from a browser, besides registered partners' origins. */
  corsOrigins: string[];
  /** The largest request body the API reads, in bytes; larger gets 413. */
  maxBodyBytes: number;
  /** Take the client address from X-Forwarded-For (behind a proxy you run). */
  trustProxy: boolean;
  /** How often the prod tags are re-read, as a safety net behind the promote message. */
  releaseRecheckMs: number;
  /** The in-memory budget for archive directories and hot tiles. */
  tileCacheBytes: number;
  /** Writes allowed per client address and per /24 (/48) network in each window. */
  rateLimit: { perIp: number; perNetwork: number; windowMs: number };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /**
   * The deployment's namespace on a shared Redis or NATS (WEFT_NAMESPACE): bus channels and Redis keys (rate
   * limits, seen signatures, presence) are kept apart from other deployments'. Unset: the bare names.
   */
  namespace?: string;
  /**
   * The raw HTTP/1.1 front (serve/wire.ts) answering cached tile and archive reads before node:http (WEFT_WIRE,
   * default on); off sends every request through node:http (A/B measurement, escape hatch).
   */
  wire: boolean;
}

export const DEFAULT_CONFIG: ServeConfig = {
  host: '127.0.0.1',
  port: 8080,
  websockets: true,
  corsOrigins: [],
  maxBodyBytes: 64 * 1024,
  trustProxy: false,
  releaseRecheckMs: 10_000,
  tileCacheBytes: 64 * 1024 * 1024,
  rateLimit: { perIp: 120, perNetwork: 600, windowMs: 60_000 },
  logLevel: 'info',
  wire: true,
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function int(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UserError(`${name} must be an integer from ${min} to ${max}, got '${text}'`);
  return n;
}

function flag(name: string, text: string): boolean {
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'on', 'yes'].includes(t)) return true;
  if (['0', 'false', 'off', 'no'].includes(t)) return false;
  throw new UserError(`${name} must be on or off, got '${text}'`);
}

function url(name: string, text: string): string {
  try {
    const u = new URL(text);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    return u.origin + u.pathname.replace(/\/+$/, '');
  } catch {
    throw new UserError(`${name} must be an http(s) URL, got '${text}'`);
  }
}

/** The configuration from the environment (WEFT_* variables, PORT) with `overrides` (flags, tests) on top. */
export function loadServeConfig(env: Env = process.env, overrides: Partial<ServeConfig> = {}): ServeConfig {
  const c: ServeConfig = { ...DEFAULT_CONFIG, rateLimit: { ...DEFAULT_CONFIG.rateLimit } };
  if (env.WEFT_HOST) c.host = env.WEFT_HOST;
  const port = env.WEFT_PORT ?? env.PORT;
  if (port) c.port = int('WEFT_PORT', port, 0, 65535);
  if (env.WEFT_PUBLIC_URL) c.publicUrl = url('WEFT_PUBLIC_URL', env.WEFT_PUBLIC_URL);
  if (env.WEFT_WEBSOCKETS) c.websockets = flag('WEFT_WEBSOCKETS', env.WEFT_WEBSOCKETS);
  if (env.WEFT_CORS_ORIGINS)
    c.corsOrigins = env.WEFT_CORS_ORIGINS.split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((o) => new URL(url('WEFT_CORS_ORIGINS', o)).origin);
  if (env.WEFT_MAX_BODY_BYTES)
    c.maxBodyBytes = int('WEFT_MAX_BODY_BYTES', env.WEFT_MAX_BODY_BYTES, 1024, 16 << 20);
  if (env.WEFT_TRUST_PROXY) c.trustProxy = flag('WEFT_TRUST_PROXY', env.WEFT_TRUST_PROXY);
  if (env.WEFT_RELEASE_RECHECK_MS)
    c.releaseRecheckMs = int('WEFT_RELEASE_RECHECK_MS', env.WEFT_RELEASE_RECHECK_MS, 100, 3_600_000);
  if (env.WEFT_TILE_CACHE_MB)
    c.tileCacheBytes = int('WEFT_TILE_CACHE_MB', env.WEFT_TILE_CACHE_MB, 1, 65536) * 1024 * 1024;
  if (env.WEFT_RATE_LIMIT) c.rateLimit.perIp = int('WEFT_RATE_LIMIT', env.WEFT_RATE_LIMIT, 1, 1_000_000);
  if (env.WEFT_RATE_LIMIT_NETWORK)
    c.rateLimit.perNetwork = int('WEFT_RATE_LIMIT_NETWORK', env.WEFT_RATE_LIMIT_NETWORK, 1, 10_000_000);
  if (env.WEFT_WIRE) c.wire = flag('WEFT_WIRE', env.WEFT_WIRE);
  if (env.WEFT_NAMESPACE) c.namespace = checkNamespace(env.WEFT_NAMESPACE);
  if (env.WEFT_LOG_LEVEL) {
    const l = env.WEFT_LOG_LEVEL as ServeConfig['logLevel'];
    if (!LOG_LEVELS.includes(l))
      throw new UserError(`WEFT_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
    c.logLevel = l;
  }
  return { ...c, ...overrides, rateLimit: { ...c.rateLimit, ...overrides.rateLimit } };
}
