// Write rate limits per client address and per /24 (/48) network — in process, and in the real Redis shared by
// two server instances — the fallback when Redis is unreachable, and the replay cache shared through Redis.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RateLimiter, windowOf, MemoryCounter } from '../../serve/api/limiter.js';
import { signedHeaders } from '../../serve/api/signature.js';
import { createLogger } from '../../serve/logger.js';
import type { TestServer } from './server.js';
import { client, MONACO, participant, partnerSite, startApiServer, uniquePrefix } from './api-helpers.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const node = { regionId: 'monaco', title: 'Limit', point: MONACO };

describe('fixed windows (pure parts)', () => {
  it('windowOf gives the window index and the whole seconds left (at least 1)', () => {
    expect(windowOf(120_500, 60_000)).toEqual({ index: 2, retryAfterS: 60 });
    expect(windowOf(179_999, 60_000)).toEqual({ index: 2, retryAfterS: 1 });
    expect(windowOf(180_000, 60_000)).toEqual({ index: 3, retryAfterS: 60 });
  });

  it('the in-process counter forgets a window once the next begins', () => {
    const c = new MemoryCounter();
    expect(c.hit(['a', 'b'], 1)).toEqual([1, 1]);
    expect(c.hit(['a'], 1)).toEqual([2]);
    expect(c.hit(['a'], 2)).toEqual([1]);
    expect(c.size).toBe(1);
  });

  it('a limiter in process allows `limit` per window and says when to retry', async () => {
    let now = 1_000_000;
    const l = new RateLimiter({
      windowMs: 10_000,
      logger: createLogger({ logLevel: 'silent' }),
      now: () => now,
    });
    const b = [{ scope: 'ip', id: '1.2.3.4', limit: 2 }];
    expect(await l.hit(b)).toEqual({ allowed: true });
    expect(await l.hit(b)).toEqual({ allowed: true });
    expect(await l.hit(b)).toEqual({ allowed: false, scope: 'ip', retryAfterS: 10 });
    now += 10_000;
    expect(await l.hit(b)).toEqual({ allowed: true });
  });
});

describe('rate limits over HTTP', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0).reverse()) await s.stop();
  });

  async function serve(opts: Parameters<typeof startApiServer>[0]): Promise<TestServer> {
    const s = await startApiServer(opts);
    servers.push(s);
    return s;
  }

  const from = (ip: string) => ({ 'X-Forwarded-For': ip });

  it('per address (in process): the limit+1st write from one address is 429 with Retry-After', async () => {
    const server = await serve({
      config: { trustProxy: true, rateLimit: { perIp: 3, perNetwork: 100, windowMs: 60_000 } },
    });
    const { api } = await participant(server);
    for (let i = 0; i < 3; i++)
      expect((await api.post('/api/nodes', node, from('203.0.113.5'))).status).toBe(201);
    const r = await api.post('/api/nodes', node, from('203.0.113.5'));
    expect(r.status).toBe(429);
    expect(r.body.error.code).toBe('rate_limited');
    expect(r.body.error.message).toMatch(/address/);
    const retry = Number(r.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    // another address of the same /24 still may; a refused write appended nothing
    expect((await api.post('/api/nodes', node, from('203.0.113.6'))).status).toBe(201);
    const { rows } = await server.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM events WHERE type = 'NodeCreated'`,
    );
    expect(rows[0]!.n).toBe(4);
    // reads are not limited
    expect((await api.get('/api/me', from('203.0.113.5'))).status).toBe(200);
    // without a trusted proxy the header is ignored: all of these are 127.0.0.1
    const direct = await serve({
      config: { trustProxy: false, rateLimit: { perIp: 2, perNetwork: 100, windowMs: 60_000 } },
    });
    const d = await participant(direct);
    expect((await d.api.post('/api/nodes', node, from('10.0.0.1'))).status).toBe(201);
    expect((await d.api.post('/api/nodes', node, from('10.0.0.2'))).status).toBe(201);
    expect((await d.api.post('/api/nodes', node, from('10.0.0.3'))).status).toBe(429);
  });

  it('per /24 and per /48 network (in process), counted before authentication', async () => {
    const server = await serve({
      config: { trustProxy: true, rateLimit: { perIp: 100, perNetwork: 4, windowMs: 60_000 } },
    });
    const { api } = await participant(server);
    for (let i = 1; i <= 4; i++)
      expect((await api.post('/api/nodes', node, from(`198.51.100.${i}`))).status).toBe(201);
    const r = await api.post('/api/nodes', node, from('198.51.100.200'));
    expect(r.status).toBe(429);
    expect(r.body.error.message).toMatch(/network/);
    // the next /24 is another network
    expect((await api.post('/api/nodes', node, from('198.51.101.1'))).status).toBe(201);
    // IPv6: one /48
    for (let i = 1; i <= 4; i++)
      expect((await api.post('/api/nodes', node, from(`2001:db8:7:${i}::1`))).status).toBe(201);
    expect((await api.post('/api/nodes', node, from('2001:db8:7:ffff::2'))).status).toBe(429);
    expect((await api.post('/api/nodes', node, from('2001:db8:8::1'))).status).toBe(201);
    // attempts without a valid token count too (a token guesser is limited like a writer)
    const anon = client(server.url, `wft_${'A'.repeat(43)}`);
    for (let i = 1; i <= 4; i++)
      expect((await anon.post('/api/nodes', node, from(`192.0.2.${i}`))).status).toBe(401);
    expect((await anon.post('/api/nodes', node, from('192.0.2.9'))).status).toBe(429);
  });

  it("a partner is counted as itself, not by its server's address; its failed signatures count by address", async () => {
    const server = await serve({
      config: { trustProxy: true, rateLimit: { perIp: 3, perNetwork: 4, windowMs: 60_000 } },
    });
    const site = await partnerSite(server, 'busy-site');
    const anon = client(server.url);
    // (each body differs: the same request signed in the same second would be a replay)
    const role = (i: number) => ({ regionId: 'monaco', name: `Reader ${i}`, area: MONACO });
    for (let i = 0; i < 4; i++)
      expect(
        (await anon.signed(site.name, site.key, 'POST', '/api/roles', role(i), from('203.0.113.50'))).status,
      ).toBe(201);
    const full = await anon.signed(site.name, site.key, 'POST', '/api/roles', role(4), from('203.0.113.51'));
    expect(full.status).toBe(429);
    expect(full.body.error.message).toMatch(/partner/);
    // the address itself was not used up by the partner's writes
    const { api } = await participant(server);
    expect((await api.post('/api/nodes', node, from('203.0.113.50'))).status).toBe(201);
    // bad signatures from one address: 401 until the address is used up, then 429
    const forged = () =>
      anon.signed(site.name, 'wfp_wrong', 'POST', '/api/roles', role(9), from('192.0.2.77'));
    for (let i = 0; i < 3; i++) expect((await forged()).body.error.code).toBe('bad_signature');
    expect((await forged()).status).toBe(429);
  });

  it('in Redis: two server instances share the counts (INCR with an expiry per window)', async () => {
    const redisPrefix = uniquePrefix();
    const opts = {
      env: { REDIS_URL },
      api: { redisPrefix },
      config: { trustProxy: true, rateLimit: { perIp: 3, perNetwork: 100, windowMs: 60_000 } },
    };
    const a = await serve(opts);
    const b = await serve({ ...opts, db: a.db });
    const { token } = await participant(a);
    const atA = client(a.url, token);
    const atB = client(b.url, token);
    expect((await atA.post('/api/nodes', node, from('203.0.113.77'))).status).toBe(201);
    expect((await atB.post('/api/nodes', node, from('203.0.113.77'))).status).toBe(201);
    expect((await atA.post('/api/nodes', node, from('203.0.113.77'))).status).toBe(201);
    const r = await atB.post('/api/nodes', node, from('203.0.113.77'));
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const redis = new Redis(REDIS_URL);
    try {
      const keys = await redis.keys(`${redisPrefix}rl:*`);
      expect(keys.sort()).toEqual(
        [
          expect.stringMatching(new RegExp(`^${redisPrefix}rl:ip:203\\.0\\.113\\.77:\\d+$`)),
          expect.stringMatching(new RegExp(`^${redisPrefix}rl:network:203\\.0\\.113\\.0/24:\\d+$`)),
        ].sort(),
      );
      const ipKey = keys.find((k) => k.includes(':ip:'))!;
      expect(await redis.get(ipKey)).toBe('4');
      const ttl = await redis.pttl(ipKey);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(61_000);
      await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
  });

  it('with Redis unreachable the limits count in process, a warning is logged, and writes go on', async () => {
    const server = await serve({
      env: { REDIS_URL: 'redis://127.0.0.1:1' },
      config: { trustProxy: true, rateLimit: { perIp: 2, perNetwork: 100, windowMs: 60_000 } },
    });
    expect(server.ctx.redis).toBeDefined();
    const { api } = await participant(server);
    expect((await api.post('/api/nodes', node, from('203.0.113.9'))).status).toBe(201);
    expect((await api.post('/api/nodes', node, from('203.0.113.9'))).status).toBe(201);
    expect((await api.post('/api/nodes', node, from('203.0.113.9'))).status).toBe(429);
    const warnings = server.logs.filter(
      (l) => l.level === 'warn' && /rate limiter: Redis unavailable/.test(String(l.msg)),
    );
    expect(warnings).toHaveLength(1); // once, not per request
  });
});

describe('replayed signatures across instances (Redis)', () => {
  let a: TestServer;
  let b: TestServer;
  let site: { name: string; key: string };
  const redisPrefix = uniquePrefix();

  beforeAll(async () => {
    a = await startApiServer({ env: { REDIS_URL }, api: { redisPrefix } });
    b = await startApiServer({ env: { REDIS_URL }, api: { redisPrefix }, db: a.db });
    site = await partnerSite(a, 'shared-site');
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${redisPrefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('a signature used at one instance is refused at the other, and expires after the window', async () => {
    const body = JSON.stringify({ regionId: 'monaco', name: 'Twice', area: MONACO });
    const headers = signedHeaders(site.name, site.key, { method: 'POST', target: '/api/roles', body });
    const first = await client(a.url).post('/api/roles', body, headers);
    expect(first.status).toBe(201);
    const again = await client(b.url).post('/api/roles', body, headers);
    expect(again.status).toBe(401);
    expect(again.body.error.code).toBe('replayed');
    const redis = new Redis(REDIS_URL);
    try {
      const keys = await redis.keys(`${redisPrefix}sig:*`);
      expect(keys).toEqual([`${redisPrefix}sig:shared-site:${headers['X-Weft-Signature']}`]);
      const ttl = await redis.pttl(keys[0]!);
      expect(ttl).toBeGreaterThan(600_000);
      expect(ttl).toBeLessThanOrEqual(610_000);
    } finally {
      redis.disconnect();
    }
  });
});
