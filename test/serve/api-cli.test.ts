// `weft token create|revoke` and `weft partner add|remove` as an operator runs them (a child process on DATABASE_URL), then the
// printed token and key used against a server on the same database; bad usage fails in one clear line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_CACHE_MS } from '../../serve/api/auth.js';
import { runCli } from '../helpers/cli.js';
import type { TestServer } from './server.js';
import { client, MONACO, startApiServer, type Answer } from './api-helpers.js';

/**
 * Sends `request` until it is refused with 401; the ms from the first try until then. A server keeps a verified
 * token for TOKEN_CACHE_MS, so a revoked one is refused within that.
 */
async function msUntilRefused(request: () => Promise<Answer>): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const status = (await request()).status;
    const ms = performance.now() - t0;
    if (status === 401 || ms > TOKEN_CACHE_MS + 1000) return status === 401 ? ms : Infinity;
    expect(status).toBeLessThan(300); // still accepted until then, never another error
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('weft token create / weft partner add', () => {
  let server: TestServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    server = await startApiServer();
    env = { DATABASE_URL: server.testDb!.url!, WEFT_LOG_LEVEL: 'silent' };
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('registers a role and prints a token that works for writes; --role mints another for it', async () => {
    const made = await runCli(['token', 'create', '--region', 'monaco', '--name', 'Clara'], { env });
    expect(made.code, made.stderr).toBe(0);
    const token = made.stdout.trim();
    expect(token).toMatch(/^wft_[A-Za-z0-9_-]{43}$/);
    const roleId = /registered role (\S+):/.exec(made.stderr)?.[1];
    expect(roleId).toMatch(/^r-/);

    const api = client(server.url, token);
    const me = await api.get('/api/me');
    expect(me.body).toEqual({ roleId, regionId: 'monaco', name: 'Clara' });
    // the role's area defaulted to the region's centre (coarsened to its grid cell)
    const { rows } = await server.db.query<{ area_lon: number; area_lat: number }>(
      'SELECT area_lon, area_lat FROM proj_roles WHERE role_id = $1',
      [roleId],
    );
    expect(Math.abs(rows[0]!.area_lon - MONACO[0])).toBeLessThan(0.05);
    expect(Math.abs(rows[0]!.area_lat - MONACO[1])).toBeLessThan(0.05);
    const write = await api.post('/api/nodes', { regionId: 'monaco', title: 'From the CLI', point: MONACO });
    expect(write.status).toBe(201);

    const again = await runCli(['token', 'create', '--role', roleId!], { env });
    expect(again.code, again.stderr).toBe(0);
    const second = again.stdout.trim();
    expect(second).not.toBe(token);
    expect((await client(server.url, second).get('/api/me')).body.roleId).toBe(roleId);
    expect((await api.get('/api/me')).status).toBe(200); // the first one still works

    const withArea = await runCli(
      ['token', 'create', '--region', 'monaco', '--name', 'Dora', '--area', '7.41,43.73'],
      {
        env,
      },
    );
    expect(withArea.code, withArea.stderr).toBe(0);

    const audit = await server.db.query<{ action: string; subject: string; details: unknown }>(
      `SELECT action, subject, details FROM audit_log WHERE action = 'token.create' ORDER BY id`,
    );
    expect(audit.rows.slice(0, 2)).toEqual([
      { action: 'token.create', subject: roleId, details: { registered: true } },
      { action: 'token.create', subject: roleId, details: { registered: false } },
    ]);
    expect(JSON.stringify(audit.rows)).not.toContain(token.slice(4));
  });

  it('adds a partner and prints a key that signs requests; its origin passes CORS', async () => {
    const added = await runCli(
      [
        'partner',
        'add',
        'port-radio',
        '--origin',
        'https://radio.example/',
        '--origin',
        'http://localhost:8000',
      ],
      { env },
    );
    expect(added.code, added.stderr).toBe(0);
    const key = added.stdout.trim();
    expect(key).toMatch(/^wfp_[A-Za-z0-9_-]{43}$/);
    expect(added.stderr).toMatch(/partner port-radio \(https:\/\/radio\.example, http:\/\/localhost:8000\)/);

    const anon = client(server.url);
    const role = await anon.signed('port-radio', key, 'POST', '/api/roles', {
      regionId: 'monaco',
      name: 'Listener',
      area: MONACO,
    });
    expect(role.status).toBe(201);
    const n = await anon.signed('port-radio', key, 'POST', '/api/nodes', {
      roleId: role.body.ids.roleId,
      regionId: 'monaco',
      title: 'Radio booth',
      point: MONACO,
    });
    expect(n.status).toBe(201);
    const cors = await fetch(`${server.url}/api/nodes`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://radio.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(cors.status).toBe(204);
    expect(cors.headers.get('access-control-allow-origin')).toBe('https://radio.example');

    const dup = await runCli(['partner', 'add', 'port-radio', '--origin', 'https://x.example'], { env });
    expect(dup.code).toBe(1);
    expect(dup.stderr).toBe("weft: partner 'port-radio' exists already\n");
  });

  it('revokes a token (by text or stdin) or all of a role; the server refuses them within TOKEN_CACHE_MS', async () => {
    const made = await runCli(['token', 'create', '--region', 'monaco', '--name', 'Revo'], { env });
    const first = made.stdout.trim();
    const roleId = /registered role (\S+):/.exec(made.stderr)![1]!;
    const second = (await runCli(['token', 'create', '--role', roleId], { env })).stdout.trim();
    const third = (await runCli(['token', 'create', '--role', roleId], { env })).stdout.trim();
    for (const t of [first, second, third])
      expect((await client(server.url, t).get('/api/me')).status).toBe(200);

    const one = await runCli(['token', 'revoke', first], { env });
    expect(one.code, one.stderr).toBe(0);
    expect(one.stderr).toContain(`role ${roleId}: 1 session token revoked`);
    const refused = await msUntilRefused(() =>
      client(server.url, first).post('/api/nodes', {
        regionId: 'monaco',
        title: 'After revoke',
        point: MONACO,
      }),
    );
    expect(refused).toBeLessThanOrEqual(TOKEN_CACHE_MS + 200);
    expect((await client(server.url, second).get('/api/me')).status).toBe(200);

    const again = await runCli(['token', 'revoke', first], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^weft: no active session token matches/);

    const stdin = await runCli(['token', 'revoke', '-'], { env, input: `${second}\n` });
    expect(stdin.code, stdin.stderr).toBe(0);
    expect(await msUntilRefused(() => client(server.url, second).get('/api/me'))).toBeLessThanOrEqual(
      TOKEN_CACHE_MS + 200,
    );

    const all = await runCli(['token', 'revoke', '--role', roleId], { env });
    expect(all.code, all.stderr).toBe(0);
    expect(all.stderr).toContain('1 session token revoked'); // only the third was still active
    expect(await msUntilRefused(() => client(server.url, third).get('/api/me'))).toBeLessThanOrEqual(
      TOKEN_CACHE_MS + 200,
    );

    const audit = await server.db.query<{ subject: string; details: unknown }>(
      `SELECT subject, details FROM audit_log WHERE action = 'token.revoke' ORDER BY id`,
    );
    expect(audit.rows).toEqual([
      { subject: roleId, details: { revoked: 1 } },
      { subject: roleId, details: { revoked: 1 } },
      { subject: roleId, details: { revoked: 1 } },
    ]);
  });

  it('removes a partner: its key stops verifying; the name can be added again with a new key', async () => {
    const key = (
      await runCli(['partner', 'add', 'gone-soon', '--origin', 'https://gone.example'], { env })
    ).stdout.trim();
    const anon = client(server.url);
    const body = { regionId: 'monaco', name: 'Visitor', area: MONACO };
    expect((await anon.signed('gone-soon', key, 'POST', '/api/roles', body)).status).toBe(201);

    const removed = await runCli(['partner', 'remove', 'gone-soon'], { env });
    expect(removed.code, removed.stderr).toBe(0);
    const refused = await anon.signed('gone-soon', key, 'POST', '/api/roles', body);
    expect(refused.status).toBe(401);
    const origins = await server.db.query(
      'SELECT 1 FROM partners WHERE revoked_at IS NULL AND $1 = ANY(origins)',
      ['https://gone.example'],
    );
    expect(origins.rows).toEqual([]);

    const twice = await runCli(['partner', 'remove', 'gone-soon'], { env });
    expect(twice.code).toBe(1);
    expect(twice.stderr).toBe("weft: no active partner 'gone-soon'\n");

    const back = await runCli(['partner', 'add', 'gone-soon', '--origin', 'https://back.example'], { env });
    expect(back.code, back.stderr).toBe(0);
    const newKey = back.stdout.trim();
    expect(newKey).not.toBe(key);
    expect((await anon.signed('gone-soon', key, 'POST', '/api/roles', body)).status).toBe(401);
    expect((await anon.signed('gone-soon', newKey, 'POST', '/api/roles', body)).status).toBe(201);
  });

  it('bad usage fails with one line on stderr and exit code 1', async () => {
    const cases: [string[], RegExp][] = [
      [['token', 'create'], /^weft: give --role ID, or --region and --name/],
      [['token', 'create', '--role', 'r-nobody'], /^weft: --role: no role 'r-nobody'/],
      [['token', 'create', '--role', 'r-1', '--name', 'x'], /^weft: --role names an existing role/],
      [
        ['token', 'create', '--region', 'atlantis', '--name', 'x'],
        /unknown region "atlantis".*give --area lon,lat/,
      ],
      [['token', 'create', '--region', 'monaco', '--name', 'x', '--area', '7'], /--area.*must be lon,lat/],
      [['partner', 'add', 'Bad Name', '--origin', 'https://x.example'], /^weft: partner name 'Bad Name'/],
      [['partner', 'add', 'ok', '--origin', 'ftp://x.example'], /^weft: --origin: must be http\(s\)/],
      [
        ['partner', 'add', 'ok', '--origin', 'https://x.example/path'],
        /^weft: --origin: an origin has no path/,
      ],
      [['partner', 'add', 'ok'], /required option '--origin <url>'/],
      [['token', 'revoke'], /^weft: give a token \(or - to read it from stdin\), or --role ID/],
      [['token', 'revoke', 'nonsense'], /^weft: not a session token/],
      [['token', 'revoke', '--role', 'r-nobody'], /^weft: --role: no role 'r-nobody'/],
      [['partner', 'remove', 'nobody'], /^weft: no active partner 'nobody'/],
    ];
    // three at a time: each is a Node process on a shared machine
    const runs: Awaited<ReturnType<typeof runCli>>[] = [];
    for (let i = 0; i < cases.length; i += 3)
      runs.push(...(await Promise.all(cases.slice(i, i + 3).map(([args]) => runCli(args, { env })))));
    for (const [i, [args, message]] of cases.entries()) {
      const r = runs[i]!;
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });
});
