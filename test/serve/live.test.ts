// Live deltas over real sockets (PostgreSQL, the in-process bus): two clients get a write's diff within a second;
// a client that missed 100 events resumes with `since` and gets exactly those, byte for byte what the live clients
// got, then live ones; the diffs of every kind of event; bbox subscriptions; WebSocket garbage; a slow client
// dropped with 4008 while others keep receiving; heartbeats; presence counts; and with WebSockets switched off,
// the HTTP fallback (long-poll and SSE) carrying the same diffs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../core/db/adapter.js';
import { executeCommand, executeCommands } from '../../core/domain/execute.js';
import { threadIdFor } from '../../core/domain/ids.js';
import { MemoryBus } from '../../core/bus/memory.js';
import { need } from '../../serve/context.js';
import { LiveClient } from '../../serve/live/client.js';
import { directStats } from '../../serve/live/direct.js';
import type { DeltaMessage, NodeFeature, ThreadFeature } from '../../serve/live/deltas.js';
import {
  createLiveModule,
  type LiveModule,
  type LiveOptions,
  type OutboxService,
} from '../../serve/live/module.js';
import { startTestServer, type TestServer } from './server.js';

const REGION = 'monaco';
const AREA: [number, number] = [7.42, 43.735];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Live {
  s: TestServer;
  live: LiveModule;
  write(
    command: Record<string, unknown>,
    actor?: string,
  ): Promise<{ ids: Record<string, string>; positions: number[] }>;
  writeMany(commands: Record<string, unknown>[], actor?: string): Promise<number[]>;
  role(name: string): Promise<string>;
  node(
    title: string,
    point?: [number, number],
    author?: string,
  ): Promise<{ nodeId: string; position: number }>;
}

async function startLive(options: Partial<LiveOptions> = {}, config = {}, bus?: MemoryBus): Promise<Live> {
  const s = await startTestServer({ modules: [(ctx) => createLiveModule(ctx, options)], config, bus });
  const live = s.modules.find((m) => m.name === 'live') as LiveModule;
  const outbox = need<OutboxService>(s.ctx, 'outbox');
  let admin: string | undefined;
  const write: Live['write'] = async (command, actor = 'operator:test') => {
    const r = await executeCommand(s.db, { command, actor });
    outbox.nudge();
    return { ids: r.ids, positions: r.events.map((e) => e.position) };
  };
  const writeMany: Live['writeMany'] = async (commands, actor = 'operator:test') => {
    const rs = await executeCommands(
      s.db,
      commands.map((command) => ({ command, actor })),
    );
    outbox.nudge();
    return rs.flatMap((r) => r.events.map((e) => e.position));
  };
  const role: Live['role'] = async (name) =>
    (await write({ type: 'RegisterRole', regionId: REGION, name, area: AREA })).ids.roleId!;
  const node: Live['node'] = async (title, point = [7.421, 43.736], author) => {
    admin ??= await role('Admin');
    const r = await write({
      type: 'CreateNode',
      regionId: REGION,
      title,
      point,
      authorRoleId: author ?? admin,
    });
    return { nodeId: r.ids.nodeId!, position: r.positions[0]! };
  };
  return { s, live, write, writeMany, role, node };
}

const addedNodes = (m: DeltaMessage) => m.diffs.nodes?.add ?? [];
const addedThreads = (m: DeltaMessage) => m.diffs.threads?.add ?? [];

describe('live deltas over WebSocket', () => {
  let L: Live;
  const clients: LiveClient[] = [];
  const connect = async (query: Record<string, string | number | undefined> = { region: REGION }) => {
    const c = await LiveClient.connect(L.s.url, query);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    L = await startLive({
      sockets: { maxBufferedBytes: 1024 * 1024, slowCloseGraceMs: 20_000 },
      publisher: { pollMs: 100 },
    });
  });
  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => {});
    await L?.s.stop();
  });

  it('sends hello with the head, then a write’s diff to two clients within a second', async () => {
    const { position: before } = await L.node('warm-up');
    const a = await connect();
    const b = await connect();
    for (const c of [a, b]) {
      const hello = (await c.waitFor((m) => m.type === 'hello')).message;
      expect(hello).toEqual({ type: 'hello', region: REGION, position: before });
      expect(c.received[0]!.message.type).toBe('hello'); // first
    }
    const t0 = Date.now();
    const direct = directStats.whole;
    const { nodeId, position } = await L.node('Harbour steps', [7.4246, 43.7352]);
    const [ra, rb] = await Promise.all([a.delta(position, 1000), b.delta(position, 1000)]);
    expect(Math.max(ra.at, rb.at) - t0).toBeLessThan(1000);
    expect(ra.text).toBe(rb.text); // serialised once
    // written to both sockets by one native call (serve/live/direct.ts)
    expect(directStats.whole - direct).toBeGreaterThanOrEqual(2);
    const m = ra.message as DeltaMessage;
    expect(m).toMatchObject({ type: 'delta', region: REGION, position, event: 'NodeCreated' });
    expect(typeof m.at).toBe('string');
    const f = addedNodes(m)[0]!;
    expect(f).toEqual({
      type: 'Feature',
      id: nodeId,
      geometry: { type: 'Point', coordinates: [7.4246, 43.7352] },
      properties: {
        id: nodeId,
        title: 'Harbour steps',
        kind: 'place',
        fade: 1,
        threads: 0,
        open_proposals: 0,
        last_activity: Math.floor(Date.parse(m.at) / 1000),
      },
    });
    expect(m.diffs.threads).toBeUndefined();
    // nothing older than the hello position came live
    expect(a.deltas().every((d) => d.position > before)).toBe(true);
  });

  it('gives every kind of event its diff: threads, proposals, votes, homes, hide and restore', async () => {
    const c = await connect();
    await c.waitFor((m) => m.type === 'hello');
    const ana = await L.role('Ana');
    const bo = await L.role('Bo');
    const { nodeId, position: created } = await L.node('Fountain', [7.423, 43.737], ana);
    await c.delta(created);
    const threadId = threadIdFor(bo, nodeId);

    const spun = (await L.write({ type: 'EngageThread', roleId: bo, nodeId })).positions[0]!;
    const ms = (await c.delta(spun)).message as DeltaMessage;
    expect(ms.event).toBe('ThreadSpun');
    const t = addedThreads(ms)[0] as ThreadFeature;
    expect(t.id).toBe(threadId);
    expect(t.properties).toMatchObject({ id: threadId, node_id: nodeId, fade: 1 });
    expect(t.geometry.type).toBe('LineString');
    expect(t.geometry.coordinates[1]).toEqual([7.423, 43.737]);
    const from = t.geometry.coordinates[0];
    expect((addedNodes(ms)[0] as NodeFeature).properties.threads).toBe(1);

    const closesAt = new Date(Date.now() + 86_400_000).toISOString();
    const opened = await L.write({
      type: 'OpenProposal',
      nodeId,
      authorRoleId: ana,
      title: 'Benches?',
      closesAt,
    });
    const mo = (await c.delta(opened.positions[0]!)).message as DeltaMessage;
    expect(addedNodes(mo)[0]!.properties).toMatchObject({ open_proposals: 1, threads: 1 });
    const proposalId = opened.ids.proposalId!;
    const voted = (await L.write({ type: 'CastVote', proposalId, roleId: bo, choice: 'yes' })).positions[0]!;
    expect(addedNodes((await c.delta(voted)).message as DeltaMessage)[0]!.properties.open_proposals).toBe(1);
    const closed = (await L.write({ type: 'CloseProposal', proposalId }, ana)).positions[0]!;
    const mc = (await c.delta(closed)).message as DeltaMessage;
    expect(mc.event).toBe('ProposalClosed');
    expect(addedNodes(mc)[0]!.properties.open_proposals).toBe(0);

    const homed = (
      await L.write({ type: 'PlaceRoleHome', roleId: bo, point: [7.4305, 43.7405], inaccuracyM: 200 })
    ).positions[0]!;
    const mh = (await c.delta(homed)).message as DeltaMessage;
    expect(mh.event).toBe('RoleHomePlaced');
    const moved = addedThreads(mh)[0]!;
    expect(moved.id).toBe(threadId);
    expect(moved.geometry.coordinates[0]).not.toEqual(from);
    expect(moved.geometry.coordinates[1]).toEqual([7.423, 43.737]);
    expect(mh.diffs.nodes).toBeUndefined();

    const hidden = (await L.write({ type: 'HideNode', nodeId, reason: 'moderation' })).positions[0]!;
    const mhid = (await c.delta(hidden)).message as DeltaMessage;
    expect(mhid.diffs).toEqual({ nodes: { remove: [nodeId] }, threads: { remove: [threadId] } });
    const restored = (await L.write({ type: 'RestoreNode', nodeId })).positions[0]!;
    const mr = (await c.delta(restored)).message as DeltaMessage;
    expect(addedNodes(mr).map((f) => f.id)).toEqual([nodeId]);
    expect(addedThreads(mr).map((f) => f.id)).toEqual([threadId]);

    // a role registration changes nothing visible, but its delta still moves the client's position
    const reg = await L.write({ type: 'RegisterRole', regionId: REGION, name: 'Cy', area: AREA });
    expect(((await c.delta(reg.positions[0]!)).message as DeltaMessage).diffs).toEqual({});
  });

  it('resumes with since: exactly the 100 missed events in order, the same bytes as live, then live ones', async () => {
    const ana = await L.role('Ana2');
    const steady = await connect(); // stays connected: what live clients got
    await steady.waitFor((m) => m.type === 'hello');
    const leaver = await connect();
    await leaver.waitFor((m) => m.type === 'hello');
    const { nodeId, position: last } = await L.node('Before the gap', undefined, ana);
    await leaver.delta(last);
    await leaver.close();

    // 100 events of several kinds while it is away (counts of a node change along the way)
    const missed: number[] = [];
    const roles: string[] = [];
    for (let i = 0; i < 10; i++) roles.push(await L.role(`R${i}`));
    const afterRoles = roles.length; // role registrations are deltas too
    missed.push(...(await positionsSince(L.s.db, last)).slice(0, afterRoles));
    for (let i = 0; missed.length < 100; i++) {
      const kind = i % 3;
      if (kind === 0) missed.push((await L.node(`gap ${i}`, [7.41 + i * 0.0003, 43.73])).position);
      else
        missed.push(...(await L.write({ type: 'EngageThread', roleId: roles[i % 10]!, nodeId })).positions);
    }
    expect(missed).toHaveLength(100);
    await steady.delta(missed.at(-1)!);

    const back = await connect({ region: REGION, since: last });
    const caught = await back.waitFor((m) => m.type === 'caught-up');
    expect(caught.message).toEqual({ type: 'caught-up', position: missed.at(-1) });
    const msgs = back.messages;
    expect(msgs[0]!.type).toBe('hello');
    const replayed = back.received.filter((r) => r.message.type === 'delta');
    expect(replayed.map((r) => (r.message as DeltaMessage).position)).toEqual(missed);
    const live = new Map(steady.received.map((r) => [(r.message as DeltaMessage).position, r.text]));
    for (const r of replayed) expect(r.text).toBe(live.get((r.message as DeltaMessage).position));
    // the node's thread count grew during the gap: each replayed delta shows it as it was then
    const counts = replayed
      .map((r) => r.message as DeltaMessage)
      .filter((m) => m.event === 'ThreadSpun')
      .map((m) => addedNodes(m).find((f) => f.id === nodeId)!.properties.threads);
    expect(counts).toEqual(counts.map((_, i) => i + 1));

    const { position: next } = await L.node('After the gap');
    await back.delta(next);
    const all = back.deltas().map((d) => d.position);
    expect(all).toEqual([...missed, next]);
    expect(back.messages.findIndex((m) => m.type === 'caught-up')).toBe(101);
  });

  it('sends only deltas that touch a subscribed bbox', async () => {
    const c = await connect({ region: REGION, bbox: '7.40,43.72,7.415,43.74' });
    await c.waitFor((m) => m.type === 'hello');
    const outside = await L.node('Outside', [7.43, 43.75]);
    const inside = await L.node('Inside', [7.41, 43.73]);
    await c.delta(inside.position);
    expect(c.deltas().map((d) => d.position)).not.toContain(outside.position);
    // a subscribe frame changes the subscription (new hello, then the new bbox applies)
    c.send({ type: 'subscribe', region: REGION, bbox: [7.42, 43.74, 7.44, 43.76] });
    await c.waitFor((m) => m.type === 'hello' && m.position >= inside.position);
    const now = await L.node('Now inside', [7.43, 43.75]);
    await c.delta(now.position);
  });

  it('answers garbage with error frames and keeps serving; an oversized frame closes with 1009', async () => {
    const c = await connect();
    await c.waitFor((m) => m.type === 'hello');
    const errors = () => c.messages.filter((m) => m.type === 'error') as { code: string; message: string }[];
    c.send('{not json');
    c.send(Buffer.from([0xff, 0x00, 0x13, 0x37]));
    c.ws.send(Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), { binary: false }); // invalid UTF-8 in a text frame
    c.send({ type: 'dance' });
    c.send({ type: 'look', nodeId: 'no spaces allowed' });
    c.send({ type: 'subscribe', region: 'Not A Region' });
    c.send([1, 2, 3]);
    c.send({ type: 'ping', extra: true });
    c.send({ type: 'ping' });
    await c.waitFor((m) => m.type === 'pong');
    expect(errors().map((e) => e.code)).toEqual([
      'bad_frame',
      'bad_frame',
      'bad_frame',
      'unknown_type',
      'bad_request',
      'bad_request',
      'bad_frame',
      'bad_request',
    ]);
    expect(errors()[4]!.message).toContain('nodeId');
    // still subscribed and live
    const { position } = await L.node('after garbage');
    await c.delta(position);

    const big = await connect();
    await big.waitFor((m) => m.type === 'hello');
    big.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(20_000) }));
    expect((await big.closed).code).toBe(1009);
    // the server keeps serving: the first client still gets deltas, new clients connect
    const again = await L.node('after 1009');
    await c.delta(again.position);
    const fresh = await connect();
    await fresh.waitFor((m) => m.type === 'hello');
  });

  it('refuses bad subscription parameters at the upgrade with a JSON 400', async () => {
    for (const q of ['region=BAD', 'region=monaco&since=-1', 'region=monaco&bbox=1,2,3', 'since=5']) {
      const err = await LiveClient.connect(L.s.url, Object.fromEntries(new URLSearchParams(q))).catch(
        (e: unknown) => e as { status?: number },
      );
      expect((err as { status?: number }).status, q).toBe(400);
    }
  });

  it('closes a client that never reads with 4008 while the others keep receiving', async () => {
    // a role with many threads: each new home moves them all, one delta of ~250 kB
    const many = await L.role('Many');
    const nodes = await L.writeMany(
      Array.from({ length: 800 }, (_, i) => ({
        type: 'CreateNode',
        nodeId: `slow-${i}`,
        regionId: REGION,
        title: `slow node ${i}`,
        point: [7.4 + (i % 40) * 0.001, 43.72 + Math.floor(i / 40) * 0.001],
        authorRoleId: many,
      })),
    );
    const spun = await L.writeMany(
      Array.from({ length: 800 }, (_, i) => ({ type: 'EngageThread', roleId: many, nodeId: `slow-${i}` })),
    );
    expect(nodes.length + spun.length).toBe(1600);
    const reader = await connect();
    const slow = await connect();
    await Promise.all([reader, slow].map((c) => c.waitFor((m) => m.type === 'hello')));
    slow.ws.pause(); // stops reading from its socket
    const logged = () => L.s.logs.some((l) => String(l.msg).includes('(4008)'));
    const positions: number[] = [];
    for (let i = 0; i < 80 && !logged(); i++) {
      const p = (
        await L.write({
          type: 'PlaceRoleHome',
          roleId: many,
          point: [7.41 + i * 0.0001, 43.73],
          inaccuracyM: 200,
        })
      ).positions[0]!;
      positions.push(p);
      await reader.delta(p, 10_000);
    }
    expect(logged()).toBe(true);
    // the reader got every one of them
    expect(positions.every((p) => reader.deltas().some((d) => d.position === p))).toBe(true);
    slow.ws.resume();
    const { code, reason } = await slow.closed;
    expect(code).toBe(4008);
    expect(reason).toContain('too slow');
    const after = await L.node('after the slow one');
    await reader.delta(after.position);
    // a reading client that resumes over all those big deltas (far more than the 1 MiB limit) is paced, not dropped
    const resumed = await connect({ region: REGION, since: positions[0]! - 1 });
    await resumed.waitFor((m) => m.type === 'caught-up', 20_000);
    const all = await positionsSince(L.s.db, positions[0]! - 1);
    expect(all.slice(0, positions.length)).toEqual(positions);
    expect(all.at(-1)).toBe(after.position);
    expect(resumed.deltas().map((d) => d.position)).toEqual(all);
    expect(positions.length * 150_000).toBeGreaterThan(2 * 1024 * 1024);
  });

  it('counts presence per node and broadcasts each change to the region', async () => {
    const watcher = await connect();
    const a = await connect();
    const b = await connect();
    await Promise.all([watcher, a, b].map((c) => c.waitFor((m) => m.type === 'hello')));
    const { nodeId } = await L.node('Watched');
    const presence = need<{ count(id: string): Promise<number> }>(L.s.ctx, 'presence');
    const seen = (count: number) =>
      watcher.waitFor(
        (m) => m.type === 'presence' && m.nodeId === nodeId && m.count === count,
        3000,
        watcher.received.length,
      );
    let next = seen(1);
    a.send({ type: 'look', nodeId });
    await next;
    next = seen(2);
    b.send({ type: 'look', nodeId });
    await next;
    a.send({ type: 'look', nodeId }); // again: no change
    expect(await presence.count(nodeId)).toBe(2);
    next = seen(1);
    a.send({ type: 'unlook', nodeId });
    await next;
    next = seen(0);
    const aSeesZero = a.waitFor(
      (m) => m.type === 'presence' && m.nodeId === nodeId && m.count === 0,
      3000,
      a.received.length,
    );
    await b.close(); // a disconnect drops its looks
    await Promise.all([next, aSeesZero]);
    expect(await presence.count(nodeId)).toBe(0);
    const counts = watcher.messages
      .filter((m) => m.type === 'presence' && m.nodeId === nodeId)
      .map((m) => (m as { count: number }).count);
    expect(counts).toEqual([1, 2, 1, 0]);
    // the lookers are subscribers of the region too: they got the same broadcasts
    expect(a.messages.filter((m) => m.type === 'presence' && m.nodeId === nodeId)).toHaveLength(4);
    // a look needs a subscription
    const bare = await connect({});
    bare.send({ type: 'look', nodeId });
    const err = await bare.waitFor((m) => m.type === 'error');
    expect((err.message as { code: string }).code).toBe('bad_request');
  });

  it('counts connections and deltas sent in /metrics', async () => {
    const text = await (await fetch(`${L.s.url}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('weft_ws_connections')).toBeGreaterThan(0);
    expect(value('weft_deltas_sent_total')).toBeGreaterThan(100);
    expect(value('weft_bus_lag_seconds_count')).toBeGreaterThan(0);
  });
});

/** Every event position after `after` (in order). */
async function positionsSince(db: Db, after: number): Promise<number[]> {
  const { rows } = await db.query<{ position: number }>(
    'SELECT position FROM events WHERE position > $1 ORDER BY position',
    [after],
  );
  return rows.map((r) => r.position);
}

describe('live heartbeats', () => {
  let L: Live;
  beforeAll(async () => {
    L = await startLive({ sockets: { heartbeatMs: 300 } });
  });
  afterAll(() => L?.s.stop());

  it('terminates a client that does not answer pings, keeps one that does', async () => {
    const mute = await LiveClient.connect(L.s.url, { region: REGION }, { autoPong: false });
    const ok = await LiveClient.connect(L.s.url, { region: REGION });
    const started = Date.now();
    const { code } = await mute.closed;
    expect(code).toBe(1006); // terminated, no close frame
    expect(Date.now() - started).toBeLessThan(3000);
    await sleep(700);
    expect(ok.ws.readyState).toBe(ok.ws.OPEN);
    await ok.close();
  });

  it('closes every connection with 1001 when the server shuts down', async () => {
    const c = await LiveClient.connect(L.s.url, { region: REGION });
    await c.waitFor((m) => m.type === 'hello');
    await L.s.close();
    expect((await c.closed).code).toBe(1001);
  });
});

describe('live deltas too large for the bus', () => {
  let L: Live;
  const bus = new MemoryBus({ maxMessageBytes: 4096 });
  beforeAll(async () => {
    L = await startLive({ publisher: { pollMs: 100 } }, {}, bus);
  });
  afterAll(async () => {
    await L?.s.stop();
    await bus.close();
  });

  it('sends a marker on the bus and the clients read the delta from the store', async () => {
    const role = await L.role('Wanderer');
    const nodes = await L.writeMany(
      Array.from({ length: 30 }, (_, i) => ({
        type: 'CreateNode',
        nodeId: `big-${i}`,
        regionId: REGION,
        title: `a node with a rather long title to make the delta large, number ${i}`,
        point: [7.41 + i * 0.0005, 43.73],
        authorRoleId: role,
      })),
    );
    await L.writeMany(
      Array.from({ length: 30 }, (_, i) => ({ type: 'EngageThread', roleId: role, nodeId: `big-${i}` })),
    );
    await L.node('warm-up'); // (registers the helper's author role first)
    const c = await LiveClient.connect(L.s.url, { region: REGION });
    await c.waitFor((m) => m.type === 'hello');
    const small = await L.node('small');
    const moved = (
      await L.write({ type: 'PlaceRoleHome', roleId: role, point: [7.43, 43.74], inaccuracyM: 200 })
    ).positions[0]!;
    const after = await L.node('after');
    const big = await c.delta(moved);
    expect(big.text.length).toBeGreaterThan(4096);
    expect(addedThreads(big.message as DeltaMessage)).toHaveLength(30);
    await c.delta(after.position);
    expect(c.deltas().map((d) => d.position)).toEqual([small.position, moved, after.position]);
    const poll = await (await fetch(`${L.s.url}/api/deltas?region=${REGION}&since=${moved - 1}`)).text();
    expect(poll).toContain(big.text);
    expect(nodes).toHaveLength(30);
    await c.close();
  });
});

describe('live deltas of old or huge transactions', () => {
  let L: Live;
  beforeAll(async () => {
    // every entry counts as stale: the publisher sends markers, the servers read the deltas from the store
    L = await startLive({ publisher: { pollMs: 100, staleAfterMs: -1 } });
  });
  afterAll(() => L?.s.stop());

  it('delivers them through the event store, in order, each once', async () => {
    await L.node('warm-up');
    const c = await LiveClient.connect(L.s.url, { region: REGION });
    await c.waitFor((m) => m.type === 'hello');
    const written: number[] = [];
    for (let i = 0; i < 5; i++) written.push((await L.node(`marker ${i}`)).position);
    written.push(
      ...(await L.writeMany(
        Array.from({ length: 20 }, (_, i) => ({
          type: 'RegisterRole',
          regionId: REGION,
          name: `batch ${i}`,
          area: AREA,
        })),
      )),
    );
    await c.delta(written.at(-1)!, 5000);
    await sleep(200);
    expect(c.deltas().map((d) => d.position)).toEqual(written);
    await c.close();
  });
});

describe('live deltas with WebSockets switched off', () => {
  let L: Live;
  beforeAll(async () => {
    L = await startLive({ publisher: { pollMs: 100 } }, { websockets: false });
  });
  afterAll(() => L?.s.stop());

  it('refuses the upgrade with a JSON 503 and says so in /api/config', async () => {
    const err = await LiveClient.connect(L.s.url, { region: REGION }).catch((e: unknown) => e);
    expect((err as { status?: number }).status).toBe(503);
    const res = await fetch(`${L.s.url}/api/config`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ websockets: false });
  });

  it('long-polls: answers at once with what is after since, else waits for the next delta', async () => {
    await L.node('before');
    const start = (await (await fetch(`${L.s.url}/api/deltas?region=${REGION}`)).json()) as {
      position: number;
    };
    const { position: p1 } = await L.node('one');
    const { position: p2 } = await L.node('two');
    const r1 = (await (
      await fetch(`${L.s.url}/api/deltas?region=${REGION}&since=${start.position}`)
    ).json()) as {
      position: number;
      deltas: DeltaMessage[];
    };
    expect(r1.deltas.map((d) => d.position)).toEqual([p1, p2]);
    expect(r1.position).toBe(p2);
    expect(addedNodes(r1.deltas[0]!)[0]!.properties.title).toBe('one');

    // nothing new: it waits, and answers when the next write is published
    const t0 = Date.now();
    const pending = fetch(`${L.s.url}/api/deltas?region=${REGION}&since=${p2}&wait=20`).then(
      (r) => r.json() as Promise<{ position: number; deltas: DeltaMessage[] }>,
    );
    await sleep(300);
    const { position: p3 } = await L.node('three');
    const r2 = await pending;
    expect(r2.deltas.map((d) => d.position)).toEqual([p3]);
    expect(Date.now() - t0).toBeLessThan(5000);

    // an empty wait answers with the same position
    const r3 = (await (await fetch(`${L.s.url}/api/deltas?region=${REGION}&since=${p3}&wait=1`)).json()) as {
      position: number;
      deltas: unknown[];
    };
    expect(r3).toEqual({ position: p3, deltas: [] });

    for (const q of [
      'since=1',
      'region=monaco&since=x',
      'region=monaco&since=1&wait=soon',
      'region=monaco&bbox=1',
    ]) {
      const bad = await fetch(`${L.s.url}/api/deltas?${q}`);
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('bad_request');
    }
  });

  it('streams SSE with ids, resumes from Last-Event-ID, and carries the same text as long-poll', async () => {
    const { position: p0 } = await L.node('sse zero');
    const { position: p1 } = await L.node('sse one');
    const ac = new AbortController();
    const res = await fetch(`${L.s.url}/api/deltas?region=${REGION}&since=${p0 - 1}`, {
      headers: { Accept: 'text/event-stream' },
      signal: ac.signal,
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events: { id: number; data: string }[] = [];
    const reader = res.body!.getReader();
    let buf = '';
    const pump = (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        buf += new TextDecoder().decode(value);
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const id = /^id: (\d+)$/m.exec(block);
          const data = /^data: (.*)$/m.exec(block);
          if (id && data) events.push({ id: Number(id[1]), data: data[1]! });
        }
      }
    })();
    const until = async (n: number) => {
      for (let i = 0; i < 100 && events.length < n; i++) await sleep(50);
    };
    await until(2);
    const { position: p2 } = await L.node('sse live');
    await until(3);
    expect(events.map((e) => e.id)).toEqual([p0, p1, p2]);
    ac.abort();
    await pump;

    // the same texts as the long-poll answer
    const poll = await (await fetch(`${L.s.url}/api/deltas?region=${REGION}&since=${p0 - 1}`)).text();
    for (const e of events) expect(poll).toContain(e.data);

    // Last-Event-ID wins over since
    const ac2 = new AbortController();
    const res2 = await fetch(`${L.s.url}/api/deltas?region=${REGION}&since=0`, {
      headers: { Accept: 'text/event-stream', 'Last-Event-ID': String(p1) },
      signal: ac2.signal,
    });
    const r2 = res2.body!.getReader();
    let text = '';
    for (let i = 0; i < 50 && !text.includes(`id: ${p2}`); i++) {
      const { value } = await r2.read();
      text += new TextDecoder().decode(value);
    }
    ac2.abort();
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids).toEqual([p2]);
  });
});
