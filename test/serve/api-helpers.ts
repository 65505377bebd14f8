// Test helpers for the write API: a server with the api module (unique Redis prefix), credentials, and a small
// client for JSON, bearer and partner-signed requests over the real socket.
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { ServeConfig } from '../../serve/config.js';
import type { ModuleFactory } from '../../serve/context.js';
import { createApiModule, type ApiOptions } from '../../serve/api/module.js';
import { addPartner, mintToken } from '../../serve/api/operator.js';
import { signedHeaders } from '../../serve/api/signature.js';
import { startTestServer, type TestServer, type TestServerOptions } from './server.js';

export const MONACO: [number, number] = [7.4246, 43.7384];

/** A key prefix no other test run shares. */
export function uniquePrefix(): string {
  return `weft-test:${randomBytes(6).toString('hex')}:`;
}

export interface ApiServerOptions extends TestServerOptions {
  api?: ApiOptions;
  /** extra modules before the api module (e.g. a probe providing 'outbox') */
  before?: ModuleFactory[];
  config?: Partial<ServeConfig>;
}

/** A test server with only the api module (and `before`), generous rate limits unless configured. */
export async function startApiServer(options: ApiServerOptions = {}): Promise<TestServer> {
  const api = { redisPrefix: uniquePrefix(), ...options.api };
  const server = await startTestServer({
    ...options,
    config: {
      ...options.config,
      rateLimit: { perIp: 10_000, perNetwork: 10_000, windowMs: 60_000, ...options.config?.rateLimit },
    },
    modules: [...(options.before ?? []), (ctx) => createApiModule(ctx, api)],
  });
  // wait out the client's first connection attempt, so the first write already counts in a Redis that answers
  const redis = server.ctx.redis;
  const deadline = Date.now() + 5000;
  while (redis && ['wait', 'connecting', 'connect'].includes(redis.status) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  return server;
}

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

async function answer(r: globalThis.Response): Promise<Answer> {
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: r.status, headers: r.headers, body };
}

export interface Client {
  get(path: string, headers?: Record<string, string>): Promise<Answer>;
  /** POST a JSON value (or raw text with its own content type). */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Answer>;
  /** a partner-signed POST (or GET when body is undefined) */
  signed(
    partner: string,
    key: string,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    extra?: Record<string, string>,
  ): Promise<Answer>;
}

export function client(base: string, token?: string): Client {
  const auth: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  return {
    async get(path, headers = {}) {
      return answer(await fetch(base + path, { headers: { ...auth, ...headers } }));
    },
    async post(path, body, headers = {}) {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      return answer(
        await fetch(base + path, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...auth, ...headers },
          body: text,
        }),
      );
    },
    async signed(partner, key, method, path, body, extra = {}) {
      const text = body === undefined ? '' : JSON.stringify(body);
      const sig = signedHeaders(partner, key, { method, target: path, body: text });
      const headers: Record<string, string> = { ...sig, ...extra };
      if (method === 'POST') headers['Content-Type'] = 'application/json';
      return answer(
        await fetch(base + path, { method, headers, body: method === 'POST' ? text : undefined }),
      );
    },
  };
}

/** A role with a session token in the server's database. */
export async function participant(
  server: TestServer,
  name = 'Ada',
  regionId = 'monaco',
): Promise<{ roleId: string; token: string; api: Client }> {
  const m = await mintToken(server.db, { regionId, name, area: MONACO });
  return { roleId: m.roleId, token: m.token, api: client(server.url, m.token) };
}

export async function partnerSite(
  server: TestServer,
  name: string,
  origins = ['https://partner.example'],
): Promise<{ name: string; key: string }> {
  const { key } = await addPartner(server.db, name, origins);
  return { name, key };
}

/** A raw HTTP/1.1 request over node:http (for bodies fetch will not send: chunked floods, lying lengths). */
export function rawRequest(
  url: string,
  options: {
    method: string;
    path: string;
    headers: Record<string, string | number>;
    chunks?: Buffer[];
    end?: boolean;
  },
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        method: options.method,
        path: options.path,
        headers: options.headers,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    // the server may close while we still write (that is the point): only the answer matters
    req.on('error', (err) => reject(err));
    for (const c of options.chunks ?? []) req.write(c);
    if (options.end !== false) req.end();
  });
}
