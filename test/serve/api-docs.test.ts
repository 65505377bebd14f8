// docs/API.md's examples run as written (curl with a token, a partner signing in the shell and in Node) against
// a real server, and the signature's pure parts.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parseTimestamp,
  signatureMatches,
  signingString,
  signRequest,
  withinWindow,
} from '../../serve/api/signature.js';
import { tempDir } from '../helpers/tmp.js';
import type { TestServer } from './server.js';
import { participant, partnerSite, startApiServer } from './api-helpers.js';

const run = promisify(execFile);
const DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/API.md');

/** The fenced block right after `<!-- test: name -->` in docs/API.md. */
function example(name: string): string {
  const text = readFileSync(DOC, 'utf8');
  const m = new RegExp(`<!-- test: ${name} -->\\s*\`\`\`[a-z]*\\n([\\s\\S]*?)\\n\`\`\``).exec(text);
  if (!m) throw new Error(`docs/API.md has no example '${name}'`);
  return m[1]!;
}

describe('signatures (pure)', () => {
  it('sign the documented string: timestamp, METHOD, path?query, sha256 of the body', () => {
    expect(signingString('1700000000', 'post', '/api/nodes?x=1', '')).toBe(
      '1700000000\nPOST\n/api/nodes?x=1\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    const sig = signRequest('Jefe', { timestamp: '1', method: 'GET', target: '/', body: '' });
    expect(sig).toMatch(/^[0-9a-f]{64}$/);
    expect(sig).toBe(
      signRequest('Jefe', { timestamp: '1', method: 'get', target: '/', body: Buffer.alloc(0) }),
    );
    expect(sig).not.toBe(signRequest('Jefe', { timestamp: '2', method: 'GET', target: '/', body: '' }));
  });

  it('compare in constant time and refuse malformed signatures', () => {
    const sig = signRequest('k', { timestamp: '1', method: 'GET', target: '/', body: '' });
    expect(signatureMatches(sig, sig)).toBe(true);
    expect(signatureMatches(sig, sig.toUpperCase())).toBe(true);
    expect(signatureMatches(sig, sig.slice(0, 63))).toBe(false);
    expect(signatureMatches(sig, `${sig.slice(0, 63)}g`)).toBe(false);
    expect(signatureMatches(sig, '')).toBe(false);
  });

  it('accept timestamps in whole seconds within ±300 s', () => {
    expect(parseTimestamp('1700000000')).toBe(1_700_000_000);
    for (const bad of ['', '1.5', '-1', '1e9', ' 1', '0x10']) expect(parseTimestamp(bad)).toBeUndefined();
    const now = 1_700_000_000_000;
    expect(withinWindow(1_700_000_300, now)).toBe(true);
    expect(withinWindow(1_699_999_700, now)).toBe(true);
    expect(withinWindow(1_700_000_301, now)).toBe(false);
    expect(withinWindow(1_699_999_699, now)).toBe(false);
  });
});

describe('docs/API.md examples against a server', () => {
  let server: TestServer;
  let site: { name: string; key: string };
  const dir = tempDir('weft-api-docs-');

  beforeAll(async () => {
    server = await startApiServer();
    site = await partnerSite(server, 'harbour-news');
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('the curl write with a session token', async () => {
    const { token, roleId } = await participant(server, 'Ada');
    const { stdout } = await run('bash', ['-c', example('bearer-shell')], {
      env: { ...process.env, WEFT: server.url, TOKEN: token },
    });
    const body = JSON.parse(stdout);
    expect(body).toMatchObject({ ok: true, replayed: false });
    const { rows } = await server.db.query(
      'SELECT title, author_role_id FROM proj_nodes WHERE node_id = $1',
      [body.ids.nodeId],
    );
    expect(rows[0]).toEqual({ title: 'Harbour steps', author_role_id: roleId });
  });

  it('a partner signing with sha256sum and openssl', async () => {
    const { stdout } = await run('bash', ['-c', example('partner-shell')], {
      env: { ...process.env, WEFT: server.url, PARTNER: site.name, KEY: site.key },
    });
    const body = JSON.parse(stdout);
    expect(body).toMatchObject({ ok: true });
    expect(body.ids.roleId).toMatch(/^r-/);
  });

  it('a partner signing in Node: registers a role, then writes for it', async () => {
    const file = path.join(dir, 'sign.mjs');
    writeFileSync(file, example('partner-node'));
    const { stdout } = await run(process.execPath, [file], {
      env: { ...process.env, WEFT: server.url, PARTNER: site.name, KEY: site.key },
    });
    const { role, node } = JSON.parse(stdout);
    expect(role.status).toBe(201);
    expect(node.status).toBe(201);
    const { rows } = await server.db.query<{ actor: string; author: string }>(
      `SELECT metadata->>'actor' AS actor, payload->>'authorRoleId' AS author FROM events WHERE position = $1`,
      [node.body.position],
    );
    expect(rows[0]).toEqual({ actor: 'partner:harbour-news', author: role.body.ids.roleId });
  });
});
