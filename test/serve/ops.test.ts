// The server's operations surface over a real socket: health and readiness (with a bus that cannot connect),
// Prometheus metrics by route, the JSON 404, security headers, CORS for public and API routes, JSON request logs
// with truncated addresses, and the configuration's checks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBus } from '../../core/bus/redis.js';
import { loadServeConfig } from '../../serve/config.js';
import { compressible } from '../../serve/ops.js';
import { clientIp, networkOf } from '../../serve/net.js';
import { startTestServer, type TestServer } from './server.js';

describe('operations routes', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ modules: [], config: { corsOrigins: ['https://partner.example'] } });
  });
  afterAll(() => s?.stop());

  it('answers /healthz on the hot path and /readyz with every adapter checked', async () => {
    const h = await fetch(`${s.url}/healthz`);
    expect(h.status).toBe(200);
    // the hot path writes the base security headers itself (no Express, no helmet there)
    expect(h.headers.get('x-content-type-options')).toBe('nosniff');
    expect(h.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(h.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await h.json()).toMatchObject({ ok: true });
    const r = await fetch(`${s.url}/readyz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ok: true, checks: { db: true, bus: true, blob: true } });
  });

  it('answers unknown routes with the JSON error shape and security headers', async () => {
    const res = await fetch(`${s.url}/no/such/thing`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'no such route' } });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('x-frame-options')).toBeTruthy();
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('lets any origin read public routes but only configured origins call the API', async () => {
    const pub = await fetch(`${s.url}/readyz`, { headers: { Origin: 'https://anyone.example' } });
    expect(pub.headers.get('access-control-allow-origin')).toBe('*');
    const pre = (origin: string) =>
      fetch(`${s.url}/api/nodes`, {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
      });
    const ok = await pre('https://partner.example');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://partner.example');
    expect(ok.headers.get('access-control-allow-headers')).toContain('Idempotency-Key');
    const no = await pre('https://evil.example');
    expect(no.status).toBe(403);
    expect(no.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('exports request latency by route pattern and logs requests as JSON without whole addresses', async () => {
    for (let i = 0; i < 3; i++) await (await fetch(`${s.url}/healthz`)).text();
    const text = await (await fetch(`${s.url}/metrics`)).text();
    const line = text
      .split('\n')
      .find(
        (l) => l.startsWith('weft_http_request_duration_seconds_count{') && l.includes('route="/healthz"'),
      );
    expect(line).toBeDefined();
    expect(Number(line!.split(' ').at(-1))).toBeGreaterThanOrEqual(3);
    expect(text).toContain('weft_tile_cache_hit_ratio');
    expect(text).toContain('weft_ws_connections');
    const req = s.logs.filter((l) => l.msg === 'request');
    expect(req.length).toBeGreaterThan(3);
    for (const l of req) {
      expect(l.net).toBe('127.0.0.0/24');
      expect(JSON.stringify(l)).not.toContain('127.0.0.1');
    }
  });
});

describe('compression', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ modules: [], db: 'pglite' });
  });
  afterAll(() => s?.stop());

  it('gzips documents for clients that accept it, and never event streams or ranged bodies', async () => {
    const gz = await fetch(`${s.url}/metrics`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(await gz.text()).toContain('weft_http_request_duration_seconds');
    const plain = await fetch(`${s.url}/metrics`, { headers: { 'Accept-Encoding': 'identity' } });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(compressible('application/json; charset=utf-8', false)).toBe(true);
    expect(compressible('text/html', false)).toBe(true);
    expect(compressible('text/event-stream', false)).toBe(false);
    expect(compressible('application/x-tar', false)).toBe(false);
    expect(compressible('application/vnd.mapbox-vector-tile', false)).toBe(false);
    expect(compressible('application/json', true)).toBe(false);
  });
});

describe('readiness with a broker that is down', () => {
  let s: TestServer;
  let bus: RedisBus;
  beforeAll(async () => {
    bus = new RedisBus('redis://127.0.0.1:1', { log: () => {} });
    s = await startTestServer({ modules: [], bus, db: 'pglite' });
  });
  afterAll(async () => {
    await s?.stop();
    await bus.close();
  });

  it('reports 503 with the failing check named, and keeps serving', async () => {
    const r = await fetch(`${s.url}/readyz`);
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ ok: false, checks: { db: true, bus: false, blob: true } });
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  });
});

describe('client addresses', () => {
  it('keeps the /24 of IPv4 and the /48 of IPv6', () => {
    expect(networkOf('203.0.113.77')).toBe('203.0.113.0/24');
    expect(networkOf('::ffff:198.51.100.9')).toBe('198.51.100.0/24');
    expect(networkOf('2001:db8:abcd:12:1:2:3:4')).toBe('2001:db8:abcd::/48');
    expect(networkOf('2001:db8::1')).toBe('2001:db8:0::/48');
    expect(networkOf('::1')).toBe('0:0:0::/48');
  });

  it('trusts X-Forwarded-For only when told to', () => {
    const req = {
      headers: { 'x-forwarded-for': '198.51.100.20, 10.0.0.1' },
      socket: { remoteAddress: '::ffff:127.0.0.1' },
    } as never;
    expect(clientIp(req, false)).toBe('127.0.0.1');
    expect(clientIp(req, true)).toBe('198.51.100.20');
  });
});

describe('configuration', () => {
  it('reads the environment and names a bad value', () => {
    const c = loadServeConfig({
      WEFT_PORT: '9000',
      WEFT_WEBSOCKETS: 'off',
      WEFT_CORS_ORIGINS: 'https://a.example/',
    });
    expect(c.port).toBe(9000);
    expect(c.websockets).toBe(false);
    expect(c.corsOrigins).toEqual(['https://a.example']);
    expect(() => loadServeConfig({ WEFT_PORT: 'eighty' })).toThrow(/WEFT_PORT must be an integer/);
    expect(() => loadServeConfig({ WEFT_WEBSOCKETS: 'maybe' })).toThrow(/WEFT_WEBSOCKETS must be on or off/);
    expect(() => loadServeConfig({ WEFT_PUBLIC_URL: 'ftp://x' })).toThrow(/WEFT_PUBLIC_URL/);
  });
});
