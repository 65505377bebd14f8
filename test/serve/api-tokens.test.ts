// Session tokens kept briefly in process (real PostgreSQL, a real server): a verified token is not looked up
// again for TOKEN_CACHE_MS, so a revoked one is still accepted within that and refused after it; unknown and
// revoked tokens are never kept; with the cache off every request looks the token up.
import { afterEach, describe, expect, it } from 'vitest';
import { TokenCache } from '../../serve/api/auth.js';
import { revokeToken } from '../../serve/api/credentials.js';
import type { TestServer } from './server.js';
import { client, participant, startApiServer } from './api-helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('session tokens kept in process', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('accepts a revoked token until its entry expires, then refuses it', async () => {
    server = await startApiServer({ api: { tokenCacheMs: 1500 } });
    const { token, api } = await participant(server);
    expect((await api.get('/api/me')).status).toBe(200); // verified: kept for 1.5 s
    expect(await revokeToken(server.db, token)).toBeDefined();
    expect((await api.get('/api/me')).status).toBe(200); // from the cache: no lookup
    await sleep(1600);
    const refused = await api.get('/api/me');
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('bad_token');
    // a refused token is not kept: still refused
    expect((await api.get('/api/me')).status).toBe(401);
  });

  it('looks the token up on every request when switched off', async () => {
    server = await startApiServer({ api: { tokenCacheMs: 0 } });
    const { token, api } = await participant(server);
    expect((await api.get('/api/me')).status).toBe(200);
    await revokeToken(server.db, token);
    expect((await api.get('/api/me')).status).toBe(401);
  });

  it('never keeps an unknown token', async () => {
    server = await startApiServer({ api: { tokenCacheMs: 60_000 } });
    const unknown = `wft_${'A'.repeat(43)}`;
    expect((await client(server.url, unknown).get('/api/me')).status).toBe(401);
    expect((await client(server.url, unknown).get('/api/me')).status).toBe(401);
  });

  it('keeps at most `max` entries, dropping the oldest, each for its ttl', () => {
    let now = 0;
    const cache = new TokenCache(1000, 2, () => now);
    const role = (roleId: string) => ({ roleId });
    cache.set('a', role('ra'));
    cache.set('b', role('rb'));
    cache.set('c', role('rc'));
    expect(cache.size).toBe(2);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toEqual(role('rb'));
    now = 999;
    expect(cache.get('c')).toEqual(role('rc'));
    now = 1000;
    expect(cache.get('c')).toBeUndefined();
    expect(cache.size).toBe(1);
  });
});
