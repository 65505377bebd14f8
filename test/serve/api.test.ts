// The write API over a real socket on a fresh PostgreSQL database: every endpoint and the projection rows it
// leaves, idempotent replays, bad input of every kind (the server keeps serving), tokens, partner signatures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeCommand } from '../../core/domain/execute.js';
import { provide } from '../../serve/context.js';
import { signedHeaders } from '../../serve/api/signature.js';
import type { TestServer } from './server.js';
import {
  client,
  MONACO,
  participant,
  partnerSite,
  rawRequest,
  startApiServer,
  type Client,
} from './api-helpers.js';

const inAWeek = () => new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString();

describe('write API', () => {
  let server: TestServer;
  let ada: { roleId: string; token: string; api: Client };
  let bob: { roleId: string; token: string; api: Client };
  let nudges = 0;

  beforeAll(async () => {
    server = await startApiServer({
      config: { maxBodyBytes: 4096 },
      before: [
        // stands in for the live module's services: counts nudges, answers presence
        (ctx) => {
          provide(ctx, 'outbox', { nudge: () => void nudges++ });
          provide(ctx, 'presence', { count: (id: string) => (id.startsWith('n-') ? 2 : 0) });
          return { name: 'probe' };
        },
      ],
    });
    ada = await participant(server, 'Ada');
    bob = await participant(server, 'Bob');
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** The server still answers a good request (after a bad one). */
  async function stillServing(): Promise<void> {
    const me = await ada.api.get('/api/me');
    expect(me.status).toBe(200);
    expect(me.body.roleId).toBe(ada.roleId);
  }

  async function events(where = 'true', params: unknown[] = []) {
    const { rows } = await server.db.query<{
      position: number;
      type: string;
      metadata: Record<string, string>;
    }>(`SELECT position, type, metadata, payload FROM events WHERE ${where} ORDER BY position`, params);
    return rows;
  }

  describe('GET /api/me', () => {
    it("names the token's role; no token, a malformed header or an unknown token is 401", async () => {
      const me = await ada.api.get('/api/me');
      expect(me.status).toBe(200);
      expect(me.body).toEqual({ roleId: ada.roleId, regionId: 'monaco', name: 'Ada' });
      expect(me.headers.get('cache-control')).toBe('no-store');

      const anon = await client(server.url).get('/api/me');
      expect(anon.status).toBe(401);
      expect(anon.body.error.code).toBe('unauthorized');
      expect(anon.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const basic = await client(server.url).get('/api/me', { Authorization: 'Basic YTpi' });
      expect(basic.status).toBe(401);
      expect(basic.body.error.code).toBe('unauthorized');
      const wrong = await client(server.url, `wft_${'A'.repeat(43)}`).get('/api/me');
      expect(wrong.status).toBe(401);
      expect(wrong.body.error.code).toBe('bad_token');
      const notOurs = await client(server.url, 'not-a-token').get('/api/me');
      expect(notOurs.body.error.code).toBe('bad_token');
      // a token whose last character differs is another token
      const flipped = ada.token.slice(0, -1) + (ada.token.endsWith('A') ? 'B' : 'A');
      expect((await client(server.url, flipped).get('/api/me')).body.error.code).toBe('bad_token');
    });

    it('only a sha256 of each token is stored', async () => {
      const { rows } = await server.db.query<{ token_hash: string; role_id: string }>(
        'SELECT token_hash, role_id FROM session_tokens WHERE role_id = $1',
        [ada.roleId],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]!.token_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(rows[0]!.token_hash).not.toContain(ada.token.slice(4, 20));
      expect(ada.token).toMatch(/^wft_[A-Za-z0-9_-]{43}$/);
    });
  });

  describe('the happy paths and their projection rows', () => {
    let nodeId: string;
    let proposalId: string;

    it('POST /api/nodes creates a node (201), recorded with the role as actor and author', async () => {
      const before = nudges;
      const r = await ada.api.post('/api/nodes', {
        regionId: 'monaco',
        title: '  Harbour steps ',
        kind: 'meeting',
        point: [7.425, 43.735],
      });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ ok: true, replayed: false });
      nodeId = r.body.ids.nodeId;
      expect(nodeId).toMatch(/^n-/);
      expect(Number.isInteger(r.body.position)).toBe(true);
      expect(nudges).toBe(before + 1);

      const { rows } = await server.db.query(
        'SELECT region_id, title, kind, author_role_id, lon, lat, hidden, last_position FROM proj_nodes WHERE node_id = $1',
        [nodeId],
      );
      expect(rows[0]).toEqual({
        region_id: 'monaco',
        title: 'Harbour steps',
        kind: 'meeting',
        author_role_id: ada.roleId,
        lon: 7.425,
        lat: 43.735,
        hidden: false,
        last_position: r.body.position,
      });
      const [e] = await events('position = $1', [r.body.position]);
      expect(e!.type).toBe('NodeCreated');
      expect(e!.metadata.actor).toBe(ada.roleId);
    });

    it('kind defaults to place', async () => {
      const r = await bob.api.post('/api/nodes', { regionId: 'monaco', title: 'Bench', point: MONACO });
      expect(r.status).toBe(201);
      const { rows } = await server.db.query('SELECT kind FROM proj_nodes WHERE node_id = $1', [
        r.body.ids.nodeId,
      ]);
      expect(rows[0]).toEqual({ kind: 'place' });
    });

    it("POST /api/nodes/{id}/threads spins the caller's thread, then renews it", async () => {
      const spun = await bob.api.post(`/api/nodes/${nodeId}/threads`, {});
      expect(spun.status).toBe(201);
      const threadId = spun.body.ids.threadId;
      expect(threadId).toMatch(/^t-/);
      // an empty body (no content type) is {} too
      const raw = await rawRequest(server.url, {
        method: 'POST',
        path: `/api/nodes/${nodeId}/threads`,
        headers: { Authorization: `Bearer ${bob.token}`, 'Content-Length': 0 },
      });
      expect(raw.status).toBe(201);
      const renewed = { body: JSON.parse(raw.body) };
      expect(renewed.body.ids.threadId).toBe(threadId);
      expect(renewed.body.position).toBeGreaterThan(spun.body.position);
      const types = (
        await events('position = ANY($1::bigint[])', [[spun.body.position, renewed.body.position]])
      ).map((e) => e.type);
      expect(types).toEqual(['ThreadSpun', 'ThreadRenewed']);
      const { rows } = await server.db.query(
        'SELECT role_id, node_id, engagements, faded FROM proj_threads WHERE thread_id = $1',
        [threadId],
      );
      expect(rows[0]).toEqual({ role_id: bob.roleId, node_id: nodeId, engagements: 2, faded: false });
      const node = await server.db.query('SELECT thread_count FROM proj_nodes WHERE node_id = $1', [nodeId]);
      expect(node.rows[0]).toEqual({ thread_count: 1 });
    });

    it('POST /api/nodes/{id}/proposals opens a proposal', async () => {
      const closesAt = inAWeek();
      const r = await ada.api.post(`/api/nodes/${nodeId}/proposals`, {
        title: 'Paint the steps',
        body: 'Blue, like the sea.',
        closesAt,
      });
      expect(r.status).toBe(201);
      proposalId = r.body.ids.proposalId;
      const { rows } = await server.db.query(
        'SELECT node_id, author_role_id, title, body, closes_at, closed, votes_yes FROM proj_proposals WHERE proposal_id = $1',
        [proposalId],
      );
      expect(rows[0]).toEqual({
        node_id: nodeId,
        author_role_id: ada.roleId,
        title: 'Paint the steps',
        body: 'Blue, like the sea.',
        closes_at: new Date(closesAt),
        closed: false,
        votes_yes: 0,
      });
    });

    it('POST /api/proposals/{id}/votes votes; the same vote again changes nothing (200, a note)', async () => {
      const yes = await bob.api.post(`/api/proposals/${proposalId}/votes`, { choice: 'yes' });
      expect(yes.status).toBe(201);
      expect(yes.body.ids).toEqual({ proposalId, roleId: bob.roleId });
      const no = await ada.api.post(`/api/proposals/${proposalId}/votes`, { choice: 'no' });
      expect(no.status).toBe(201);
      const before = nudges;
      const again = await bob.api.post(`/api/proposals/${proposalId}/votes`, { choice: 'yes' });
      expect(again.status).toBe(200);
      expect(again.body.position).toBeNull();
      expect(again.body.note).toMatch(/already voted yes/);
      expect(nudges).toBe(before);
      const { rows } = await server.db.query(
        'SELECT role_id, choice FROM proj_votes WHERE proposal_id = $1 ORDER BY role_id',
        [proposalId],
      );
      expect(rows).toEqual(
        [
          { role_id: ada.roleId, choice: 'no' },
          { role_id: bob.roleId, choice: 'yes' },
        ].sort((a, b) => (a.role_id < b.role_id ? -1 : 1)),
      );
    });

    it('GET /api/nodes/{id} is public: the node, its live threads, proposals with tallies, presence', async () => {
      const r = await client(server.url).get(`/api/nodes/${nodeId}`);
      expect(r.status).toBe(200);
      expect(r.body.node).toMatchObject({
        id: nodeId,
        title: 'Harbour steps',
        kind: 'meeting',
        point: [7.425, 43.735],
        regionId: 'monaco',
        hidden: false,
      });
      expect(Date.parse(r.body.node.createdAt)).toBeGreaterThan(Date.now() - 60_000);
      expect(r.body.threads).toHaveLength(1);
      expect(r.body.threads[0]).toMatchObject({ roleId: bob.roleId });
      expect(r.body.threads[0].fade).toBeGreaterThan(0.99);
      expect(r.body.threads[0].fade).toBeLessThanOrEqual(1);
      expect(r.body.proposals).toEqual([
        {
          id: proposalId,
          title: 'Paint the steps',
          body: 'Blue, like the sea.',
          closesAt: expect.any(String),
          closed: false,
          tally: { yes: 1, no: 1, abstain: 0 },
        },
      ]);
      expect(r.body.presence).toBe(2);
      const missing = await client(server.url).get('/api/nodes/n-nope');
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('not_found');
    });

    it('refusals: unknown node or proposal 404, a malformed id 404, a past closing time 422', async () => {
      const t = await ada.api.post('/api/nodes/n-missing/threads', {});
      expect(t.status).toBe(404);
      expect(t.body.error.code).toBe('not_found');
      const v = await ada.api.post('/api/proposals/p-missing/votes', { choice: 'yes' });
      expect(v.status).toBe(404);
      const p = await ada.api.post('/api/nodes/n-missing/proposals', { title: 'x', closesAt: inAWeek() });
      expect(p.status).toBe(404);
      const bad = await ada.api.post(`/api/nodes/${encodeURIComponent('bad id!')}/threads`, {});
      expect(bad.status).toBe(404);
      const past = await ada.api.post(`/api/nodes/${nodeId}/proposals`, {
        title: 'Too late',
        closesAt: '2020-01-01T00:00:00Z',
      });
      expect(past.status).toBe(422);
      expect(past.body.error.code).toBe('rejected');
      expect(past.body.error.message).toMatch(/closesAt .* is not after now/);
      await stillServing();
    });
  });

  describe('a hidden node', () => {
    it('is shown as hidden, and engaging it is refused (422)', async () => {
      const made = await ada.api.post('/api/nodes', {
        regionId: 'monaco',
        title: 'Hidden soon',
        point: MONACO,
      });
      const nodeId = made.body.ids.nodeId as string;
      await executeCommand(server.db, {
        command: { type: 'HideNode', nodeId, reason: 'moderation' },
        actor: 'operator:test',
      });
      const view = await client(server.url).get(`/api/nodes/${nodeId}`);
      expect(view.body.node.hidden).toBe(true);
      const t = await bob.api.post(`/api/nodes/${nodeId}/threads`, {});
      expect(t.status).toBe(422);
      expect(t.body.error).toEqual({ code: 'rejected', message: `node ${nodeId} is hidden (moderation)` });
    });
  });

  describe('idempotency', () => {
    it('the same key and body answer the first result (200, Idempotency-Replayed) and append nothing', async () => {
      const body = { regionId: 'monaco', title: 'Fountain', point: MONACO };
      const first = await ada.api.post('/api/nodes', body, { 'Idempotency-Key': 'fountain-1' });
      expect(first.status).toBe(201);
      expect(first.headers.get('idempotency-replayed')).toBeNull();
      const before = nudges;
      const again = await ada.api.post('/api/nodes', body, { 'Idempotency-Key': 'fountain-1' });
      expect(again.status).toBe(200);
      expect(again.headers.get('idempotency-replayed')).toBe('true');
      expect(again.body).toEqual({ ...first.body, replayed: true });
      expect(nudges).toBe(before);
      const created = await events(`type = 'NodeCreated' AND payload->>'title' = 'Fountain'`);
      expect(created).toHaveLength(1);
      expect(created[0]!.metadata.idempotencyKey).toBe(`${ada.roleId}/fountain-1`);
    });

    it('the same key with another body is 409; keys belong to their caller', async () => {
      const body = { regionId: 'monaco', title: 'Well', point: MONACO };
      expect((await ada.api.post('/api/nodes', body, { 'Idempotency-Key': 'well' })).status).toBe(201);
      const other = await ada.api.post(
        '/api/nodes',
        { ...body, title: 'Well 2' },
        { 'Idempotency-Key': 'well' },
      );
      expect(other.status).toBe(409);
      expect(other.body.error.code).toBe('conflict');
      // another caller's identical key is its own
      const bobs = await bob.api.post('/api/nodes', body, { 'Idempotency-Key': 'well' });
      expect(bobs.status).toBe(201);
      const bad = await ada.api.post('/api/nodes', body, { 'Idempotency-Key': 'x'.repeat(101) });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('bad_idempotency_key');
      await stillServing();
    });
  });

  describe('bad input: a clear error with a stable code, and the server keeps serving', () => {
    const node = { regionId: 'monaco', title: 'Ok', point: MONACO };

    it('malformed JSON is 400 bad_json', async () => {
      for (const text of ['{"regionId": ', '{title: 1}', 'nul', '\u00ff\u00fe']) {
        const r = await ada.api.post('/api/nodes', text);
        expect(r.status).toBe(400);
        expect(r.body.error.code).toBe('bad_json');
        await stillServing();
      }
      // bytes that are not UTF-8
      const raw = await rawRequest(server.url, {
        method: 'POST',
        path: '/api/nodes',
        headers: {
          'Content-Type': 'application/json',
          Authorization: `Bearer ${ada.token}`,
          'Content-Length': 3,
        },
        chunks: [Buffer.from([0x22, 0xff, 0x22])],
      });
      expect(raw.status).toBe(400);
      expect(JSON.parse(raw.body).error.code).toBe('bad_json');
    });

    it('wrong types and missing fields are 400 bad_input naming the field', async () => {
      const cases: [unknown, RegExp][] = [
        [{ ...node, title: 5 }, /^title: /],
        [{ ...node, point: [7.4] }, /^point/],
        [{ ...node, point: [200, 43] }, /^point\.0: /],
        [{ ...node, kind: 'castle' }, /^kind: /],
        [{ ...node, title: '   ' }, /^title: must not be empty/],
        [{ regionId: 'monaco', point: MONACO }, /^title: /],
        [{ ...node, regionId: 'Monaco!' }, /^regionId: /],
        [[node], /must be a JSON object/],
        ['"text"', /must be a JSON object/],
      ];
      for (const [body, message] of cases) {
        const r = await ada.api.post('/api/nodes', body);
        expect(r.status, JSON.stringify(body)).toBe(400);
        expect(r.body.error.code).toBe('bad_input');
        expect(r.body.error.message).toMatch(message);
      }
      const vote = await ada.api.post('/api/proposals/p-1/votes', { choice: 'maybe' });
      expect(vote.status).toBe(400);
      expect(vote.body.error.message).toMatch(/^choice: /);
      const when = await ada.api.post('/api/nodes/n-1/proposals', { title: 'x', closesAt: 'tomorrow' });
      expect(when.body.error.message).toMatch(/^closesAt: /);
      await stillServing();
    });

    it('unknown fields are 400 unknown_field naming them; a participant may not name a roleId', async () => {
      const r = await ada.api.post('/api/nodes', { ...node, colour: 'red' });
      expect(r.status).toBe(400);
      expect(r.body.error).toEqual({ code: 'unknown_field', message: 'colour: unknown field' });
      const two = await ada.api.post('/api/nodes', { ...node, a: 1, b: 2 });
      expect(two.body.error.message).toBe('a: unknown field (and b)');
      const as = await ada.api.post('/api/nodes', { ...node, roleId: bob.roleId });
      expect(as.status).toBe(400);
      expect(as.body.error.message).toBe('roleId: unknown field');
      const proto = await ada.api.post(
        '/api/nodes',
        `{"regionId":"monaco","title":"x","point":[7,43],"__proto__":{"x":1}}`,
      );
      expect(proto.body.error.code).toBe('unknown_field');
      const thread = await ada.api.post('/api/nodes/n-1/threads', { why: 'because' });
      expect(thread.body.error.message).toBe('why: unknown field');
      await stillServing();
    });

    it('a body that is not JSON is 415', async () => {
      const r = await ada.api.post('/api/nodes', JSON.stringify(node), { 'Content-Type': 'text/plain' });
      expect(r.status).toBe(415);
      expect(r.body.error.code).toBe('unsupported_media_type');
      const form = await ada.api.post('/api/nodes', 'a=1', {
        'Content-Type': 'application/x-www-form-urlencoded',
      });
      expect(form.status).toBe(415);
      const latin = await ada.api.post('/api/nodes', node, {
        'Content-Type': 'application/json; charset=latin1',
      });
      expect(latin.status).toBe(415);
      const plusJson = await ada.api.post('/api/nodes', node, {
        'Content-Type': 'application/merge-patch+json; charset=UTF-8',
      });
      expect(plusJson.status).toBe(201);
      await stillServing();
    });

    it('a body over maxBodyBytes is 413 too_large, whether announced or streamed, and reading stops', async () => {
      const big = JSON.stringify({ ...node, title: 'x'.repeat(5000) });
      const r = await ada.api.post('/api/nodes', big);
      expect(r.status).toBe(413);
      expect(r.body.error.code).toBe('too_large');
      // a lying Content-Length of 100 MB: answered before the body arrives (we send only the first KB)
      const announced = await rawRequest(server.url, {
        method: 'POST',
        path: '/api/nodes',
        headers: {
          'Content-Type': 'application/json',
          Authorization: `Bearer ${ada.token}`,
          'Content-Length': 100 * 1024 * 1024,
        },
        chunks: [Buffer.alloc(1024, 0x20)],
        end: false,
      });
      expect(announced.status).toBe(413);
      expect(announced.headers.connection).toBe('close');
      // a chunked stream without a length: cut off once it passes the limit
      const chunk = Buffer.alloc(1024, 0x20);
      const streamed = await rawRequest(server.url, {
        method: 'POST',
        path: '/api/nodes',
        headers: {
          'Content-Type': 'application/json',
          Authorization: `Bearer ${ada.token}`,
          'Transfer-Encoding': 'chunked',
        },
        chunks: Array.from({ length: 8 }, () => chunk),
        end: false,
      });
      expect(streamed.status).toBe(413);
      expect(JSON.parse(streamed.body).error.code).toBe('too_large');
      await stillServing();
    });

    it('unknown routes are a JSON 404', async () => {
      const r = await ada.api.post('/api/nowhere', {});
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    });
  });

  describe('partner sites (signed requests)', () => {
    let site: { name: string; key: string };
    let other: { name: string; key: string };
    let roleId: string;
    const anon = () => client(server.url);

    beforeAll(async () => {
      site = await partnerSite(server, 'harbour-news', ['https://harbour.example', 'http://localhost:5173']);
      other = await partnerSite(server, 'elsewhere', ['https://elsewhere.example']);
    });

    it('POST /api/roles registers a role the partner may then act for; events name the partner', async () => {
      const r = await anon().signed(site.name, site.key, 'POST', '/api/roles', {
        regionId: 'monaco',
        name: 'Reader 17',
        area: MONACO,
      });
      expect(r.status).toBe(201);
      roleId = r.body.ids.roleId;
      const [reg] = await events('position = $1', [r.body.position]);
      expect(reg!.type).toBe('RoleRegistered');
      expect(reg!.metadata.actor).toBe('partner:harbour-news');

      const n = await anon().signed(site.name, site.key, 'POST', '/api/nodes', {
        roleId,
        regionId: 'monaco',
        title: 'Reader meetup',
        point: MONACO,
      });
      expect(n.status).toBe(201);
      const [created] = await events('position = $1', [n.body.position]);
      expect(created!.metadata.actor).toBe('partner:harbour-news');
      const { rows } = await server.db.query('SELECT author_role_id FROM proj_nodes WHERE node_id = $1', [
        n.body.ids.nodeId,
      ]);
      expect(rows[0]).toEqual({ author_role_id: roleId });
      const t = await anon().signed(site.name, site.key, 'POST', `/api/nodes/${n.body.ids.nodeId}/threads`, {
        roleId,
      });
      expect(t.status).toBe(201);

      const me = await anon().signed(site.name, site.key, 'GET', '/api/me');
      expect(me.status).toBe(200);
      expect(me.body).toEqual({
        partner: 'harbour-news',
        origins: ['https://harbour.example', 'http://localhost:5173'],
      });
    });

    it('a partner acts only for its own roles, must name one, and participants cannot register roles', async () => {
      const notMine = await anon().signed(other.name, other.key, 'POST', '/api/nodes', {
        roleId,
        regionId: 'monaco',
        title: 'x',
        point: MONACO,
      });
      expect(notMine.status).toBe(403);
      expect(notMine.body.error.code).toBe('forbidden');
      const participantRole = await anon().signed(site.name, site.key, 'POST', '/api/nodes', {
        roleId: ada.roleId,
        regionId: 'monaco',
        title: 'x',
        point: MONACO,
      });
      expect(participantRole.status).toBe(403);
      const none = await anon().signed(site.name, site.key, 'POST', '/api/nodes', {
        regionId: 'monaco',
        title: 'x',
        point: MONACO,
      });
      expect(none.status).toBe(400);
      expect(none.body.error.message).toMatch(/^roleId: /);
      const byParticipant = await ada.api.post('/api/roles', {
        regionId: 'monaco',
        name: 'Sock',
        area: MONACO,
      });
      expect(byParticipant.status).toBe(403);
      const extra = await anon().signed(site.name, site.key, 'POST', '/api/roles', {
        regionId: 'monaco',
        name: 'x',
        area: MONACO,
        roleId: 'r-mine',
      });
      expect(extra.body.error).toEqual({ code: 'unknown_field', message: 'roleId: unknown field' });
    });

    it('a bad signature, a replayed one, a stale timestamp or an unknown partner is 401 with its code', async () => {
      const body = JSON.stringify({ roleId, regionId: 'monaco', title: 'Signed', point: MONACO });
      const post = (headers: Record<string, string>, path = '/api/nodes', text = body) =>
        client(server.url).post(path, text, headers);

      const good = signedHeaders(site.name, site.key, { method: 'POST', target: '/api/nodes', body });
      const first = await post(good);
      expect(first.status).toBe(201);
      const replayed = await post(good);
      expect(replayed.status).toBe(401);
      expect(replayed.body.error.code).toBe('replayed');

      const wrongKey = signedHeaders(site.name, `${site.key.slice(0, -2)}xx`, {
        method: 'POST',
        target: '/api/nodes',
        body,
      });
      expect((await post(wrongKey)).body.error.code).toBe('bad_signature');
      // the signature covers the body, the path and query, and the method
      const tampered = signedHeaders(site.name, site.key, { method: 'POST', target: '/api/nodes', body });
      expect((await post(tampered, '/api/nodes', body.replace('Signed', 'Forged'))).body.error.code).toBe(
        'bad_signature',
      );
      const pathed = signedHeaders(site.name, site.key, { method: 'POST', target: '/api/nodes', body });
      expect((await post(pathed, '/api/nodes?x=1')).body.error.code).toBe('bad_signature');
      const method = signedHeaders(site.name, site.key, { method: 'PUT', target: '/api/nodes', body });
      expect((await post(method)).body.error.code).toBe('bad_signature');
      // another partner's key
      const otherKey = signedHeaders(site.name, other.key, { method: 'POST', target: '/api/nodes', body });
      expect((await post(otherKey)).body.error.code).toBe('bad_signature');
      expect((await post({ ...good, 'X-Weft-Signature': 'zz' })).body.error.code).toBe('bad_signature');
      const noSig = await post({ 'X-Weft-Partner': site.name });
      expect(noSig.status).toBe(401);
      expect(noSig.body.error.code).toBe('bad_signature');

      const stale = signedHeaders(
        site.name,
        site.key,
        { method: 'POST', target: '/api/nodes', body },
        Date.now() - 301_000,
      );
      const s = await post(stale);
      expect(s.status).toBe(401);
      expect(s.body.error.code).toBe('stale_timestamp');
      const future = signedHeaders(
        site.name,
        site.key,
        { method: 'POST', target: '/api/nodes', body },
        Date.now() + 400_000,
      );
      expect((await post(future)).body.error.code).toBe('stale_timestamp');
      const nearlyStale = signedHeaders(
        site.name,
        site.key,
        { method: 'POST', target: '/api/nodes', body },
        Date.now() - 280_000,
      );
      expect((await post(nearlyStale)).status).toBe(201);

      const unknown = signedHeaders('nobody', site.key, { method: 'POST', target: '/api/nodes', body });
      expect((await post(unknown)).body.error.code).toBe('unknown_partner');
      await stillServing();
    });

    it("CORS admits the partners' registered origins on the API, and only those", async () => {
      const preflight = (origin: string) =>
        fetch(`${server.url}/api/nodes`, {
          method: 'OPTIONS',
          headers: {
            Origin: origin,
            'Access-Control-Request-Method': 'POST',
            'Access-Control-Request-Headers': 'content-type, authorization',
          },
        });
      const ok = await preflight('http://localhost:5173');
      expect(ok.status).toBe(204);
      expect(ok.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
      expect(ok.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
      const no = await preflight('https://evil.example');
      expect(no.status).toBe(403);
      expect(no.headers.get('access-control-allow-origin')).toBeNull();
      const get = await fetch(`${server.url}/api/me`, {
        headers: { Origin: 'https://harbour.example', Authorization: `Bearer ${ada.token}` },
      });
      expect(get.headers.get('access-control-allow-origin')).toBe('https://harbour.example');
    });
  });
});
