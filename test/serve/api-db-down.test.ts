// The database goes away under a stream of writes: every request answers 201 or 503 db_unavailable (never a
// 500, never a hang), the server recovers by itself, and every write that was acknowledged is in the event store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin } from '../db/helpers.js';
import type { TestServer } from './server.js';
import { client, MONACO, participant, startApiServer, type Client } from './api-helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const adminSql = (sql: string) => admin((c) => c.query(sql));

describe('write API with the database down', () => {
  let server: TestServer;
  let api: Client;
  /** a participant the server has not seen yet (its token is not in the server's cache) */
  let unseen: Client;
  let dbName: string;

  beforeAll(async () => {
    server = await startApiServer();
    api = (await participant(server)).api;
    unseen = (await participant(server, 'Bea')).api;
    dbName = new URL(server.testDb!.url!).pathname.slice(1);
  });
  afterAll(async () => {
    await adminSql(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`).catch(() => {});
    await server?.stop();
  });

  it('answers 503 while it is down, recovers after, and loses nothing it acknowledged', async () => {
    const acked: { nodeId: string; position: number; title: string }[] = [];
    const statuses = new Map<number, number>();
    const codes = new Set<string>();
    let stop = false;
    let n = 0;
    const writer = async (w: number) => {
      while (!stop) {
        const title = `w${w}-${n++}`;
        const r = await api.post(
          '/api/nodes',
          { regionId: 'monaco', title, point: MONACO },
          { 'Idempotency-Key': title },
        );
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status === 201) acked.push({ nodeId: r.body.ids.nodeId, position: r.body.position, title });
        else {
          codes.add(r.body.error?.code);
          if (r.status === 503) expect(r.headers.get('retry-after')).toBe('5');
        }
        await sleep(5);
      }
    };
    const writers = [0, 1, 2].map(writer);
    await sleep(300);
    const before = acked.length;
    expect(before).toBeGreaterThan(0);

    // down: no new connections, and every open one killed (in-flight transactions included)
    await adminSql(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS false`);
    await adminSql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${dbName}'`);
    const downSince = acked.length;
    await sleep(600);
    const duringDown = acked.length - downSince;
    // reads that need the database say so too (a token verified in the last seconds needs none: kept in process)
    const me = await unseen.get('/api/me');
    expect(me.status).toBe(503);
    expect(me.body.error.code).toBe('db_unavailable');
    const node = await client(server.url).get(`/api/nodes/${acked[0]!.nodeId}`);
    expect(node.status).toBe(503);

    await adminSql(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`);
    const upAt = acked.length;
    const deadline = Date.now() + 10_000;
    while (acked.length < upAt + 10 && Date.now() < deadline) await sleep(50);
    stop = true;
    await Promise.all(writers);

    expect(duringDown).toBeLessThanOrEqual(3); // at most the writes already committing when it went down
    expect(statuses.get(503)).toBeGreaterThan(0);
    expect(acked.length).toBeGreaterThanOrEqual(upAt + 10);
    expect([...statuses.keys()].sort()).toEqual([201, 503]);
    expect([...codes]).toEqual(['db_unavailable']);

    // every acknowledged write is in the event store, at the position it was acknowledged with
    const { rows } = await server.db.query<{ position: number; node_id: string; title: string }>(
      `SELECT position, payload->>'nodeId' AS node_id, payload->>'title' AS title FROM events WHERE type = 'NodeCreated'`,
    );
    const stored = new Map(rows.map((r) => [r.node_id, r]));
    for (const a of acked)
      expect(stored.get(a.nodeId), a.title).toEqual({
        position: a.position,
        node_id: a.nodeId,
        title: a.title,
      });
    // and the projections agree with the events
    const proj = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM proj_nodes');
    expect(proj.rows[0]!.n).toBe(rows.length);
    const me2 = await api.get('/api/me');
    expect(me2.status).toBe(200);
  });
});
