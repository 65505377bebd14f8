// The live module's pure parts: the delta translation's visibility rules and counts at the event's time, the
// client frame and query checks, the bus envelope, and the one-frame-per-delta encoding.
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../core/domain/schemas.js';
import type { NodeRow, ProposalRow, ThreadRow } from '../../core/projections/tables.js';
import { bboxWants, deltasForEvent, type DeltaView } from '../../serve/live/deltas.js';
import {
  decodeEnvelope,
  deltasChannel,
  encodeEnvelopes,
  regionOfChannel,
} from '../../serve/live/envelope.js';
import { parseClientFrame, parseSubscriptionQuery, ProtocolError } from '../../serve/live/protocol.js';
import { textFrame } from '../../serve/live/ws.js';

const DAY = 86_400_000;
const T = Date.parse('2026-06-10T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

function node(id: string, lastActivity: number, extra: Partial<NodeRow> = {}): NodeRow {
  return {
    node_id: id,
    version: 1,
    region_id: 'monaco',
    title: `node ${id}`,
    kind: 'place',
    author_role_id: 'r1',
    lon: 7.42,
    lat: 43.73,
    hidden: false,
    hidden_reason: null,
    hidden_at: null,
    created_at: iso(lastActivity),
    last_activity_at: iso(lastActivity),
    thread_count: 0,
    proposal_count: 0,
    last_position: 1,
    ...extra,
  };
}

function thread(id: string, nodeId: string, lastActivity: number, extra: Partial<ThreadRow> = {}): ThreadRow {
  return {
    thread_id: id,
    version: 1,
    role_id: `role-of-${id}`,
    node_id: nodeId,
    region_id: 'monaco',
    from_lon: 7.41,
    from_lat: 43.72,
    to_lon: 7.42,
    to_lat: 43.73,
    spun_at: iso(lastActivity),
    last_activity_at: iso(lastActivity),
    engagements: 1,
    faded: false,
    faded_at: null,
    last_position: 1,
    ...extra,
  };
}

function proposal(id: string, nodeId: string, closesAt: number, closed = false): ProposalRow {
  return {
    proposal_id: id,
    version: 1,
    node_id: nodeId,
    region_id: 'monaco',
    author_role_id: 'r1',
    title: 'p',
    body: '',
    lon: 7.42,
    lat: 43.73,
    opened_at: iso(T - DAY),
    closes_at: iso(closesAt),
    closed,
    closed_at: null,
    votes_yes: 0,
    votes_no: 0,
    votes_abstain: 0,
    last_position: 1,
  };
}

function view(nodes: NodeRow[], threads: ThreadRow[], proposals: ProposalRow[] = []): DeltaView {
  return {
    node: (id) => nodes.find((n) => n.node_id === id),
    thread: (id) => threads.find((t) => t.thread_id === id),
    proposal: (id) => proposals.find((p) => p.proposal_id === id),
    role: () => undefined,
    threadsOfNode: (id) => threads.filter((t) => t.node_id === id),
    proposalsOfNode: (id) => proposals.filter((p) => p.node_id === id),
    threadsOfRole: (id) => threads.filter((t) => t.role_id === id),
  };
}

function event(type: string, payload: Record<string, unknown>, position = 10): StoredEvent {
  return {
    type,
    payload,
    position,
    eventId: '00000000-0000-4000-8000-000000000000',
    streamId: 'x',
    streamType: 'thread',
    version: 1,
    metadata: { actor: 'test' },
    occurredAt: iso(T),
    recordedAt: iso(T),
  } as StoredEvent;
}

describe('delta translation', () => {
  it('counts only live threads and open proposals at the event time, as the tiles do', () => {
    const n = node('n1', T);
    const threads = [
      thread('t-a', 'n1', T),
      thread('t-b', 'n1', T - 3 * DAY),
      thread('t-old', 'n1', T - 8 * DAY), // fade 0: not drawn
      thread('t-faded', 'n1', T - DAY, { faded: true }),
    ];
    const proposals = [
      proposal('p-open', 'n1', T + DAY),
      proposal('p-past', 'n1', T - 1), // past its closing time
      proposal('p-closed', 'n1', T + DAY, true),
    ];
    const [d] = deltasForEvent(
      event('ThreadRenewed', { threadId: 't-a', roleId: 'role-of-t-a', nodeId: 'n1' }),
      view([n], threads, proposals),
    );
    expect(d!.region).toBe('monaco');
    expect(d!.message.diffs.threads!.add!.map((f) => f.id)).toEqual(['t-a']);
    expect(d!.message.diffs.threads!.add![0]!.properties).toEqual({
      id: 't-a',
      node_id: 'n1',
      fade: 1,
      last_activity: Math.floor(T / 1000),
    });
    expect(d!.message.diffs.nodes!.add![0]!.properties).toMatchObject({
      threads: 2,
      open_proposals: 1,
      fade: 1,
    });
    expect(d!.bbox).toEqual([7.41, 43.72, 7.42, 43.73]);
  });

  it('removes what is no longer drawn: a faded node, a hidden node and its unfaded threads', () => {
    const stale = node('n-stale', T - 8 * DAY);
    const [d1] = deltasForEvent(
      event('ProposalClosed', { proposalId: 'p' }),
      view([stale], [], [proposal('p', 'n-stale', T)]),
    );
    expect(d1!.message.diffs).toEqual({ nodes: { remove: ['n-stale'] } });

    const hidden = node('n-h', T, { hidden: true });
    const [d2] = deltasForEvent(
      event('NodeHidden', { nodeId: 'n-h', reason: 'moderation' }),
      view(
        [hidden],
        [thread('t-2', 'n-h', T), thread('t-1', 'n-h', T), thread('t-f', 'n-h', T, { faded: true })],
      ),
    );
    expect(d2!.message.diffs).toEqual({ nodes: { remove: ['n-h'] }, threads: { remove: ['t-1', 't-2'] } });
  });

  it('sends a moved thread to its own region when a role’s home moves', () => {
    const here = node('n1', T);
    const there = node('n2', T, { region_id: 'andorra', lon: 1.5, lat: 42.5 });
    const threads = [
      thread('t-1', 'n1', T, { role_id: 'r' }),
      thread('t-2', 'n2', T, { role_id: 'r', region_id: 'andorra', to_lon: 1.5, to_lat: 42.5 }),
    ];
    const v = {
      ...view([here, there], threads),
      role: () => ({ region_id: 'monaco' }),
    } as unknown as DeltaView;
    const out = deltasForEvent(event('RoleHomePlaced', { roleId: 'r' }), v);
    expect(out.map((d) => d.region)).toEqual(['andorra', 'monaco']);
    expect(out.map((d) => d.message.diffs.threads!.add!.map((f) => f.id))).toEqual([['t-2'], ['t-1']]);
  });

  it('matches bboxes by overlap (no bbox: everything)', () => {
    expect(bboxWants(undefined, [0, 0, 1, 1])).toBe(true);
    expect(bboxWants([0, 0, 1, 1], null)).toBe(true);
    expect(bboxWants([0, 0, 1, 1], [1, 1, 2, 2])).toBe(true);
    expect(bboxWants([0, 0, 1, 1], [1.1, 0, 2, 1])).toBe(false);
  });
});

describe('client frames and subscriptions', () => {
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (err) {
      return err instanceof ProtocolError ? err.code : 'other';
    }
    return 'none';
  };

  it('accepts the protocol’s frames and names what is wrong with others', () => {
    expect(parseClientFrame('{"type":"subscribe","region":"monaco","bbox":[7,43,8,44],"since":5}')).toEqual({
      type: 'subscribe',
      region: 'monaco',
      bbox: [7, 43, 8, 44],
      since: 5,
    });
    expect(parseClientFrame('{"type":"look","nodeId":"n-1"}')).toEqual({ type: 'look', nodeId: 'n-1' });
    expect(code(() => parseClientFrame('nope'))).toBe('bad_frame');
    expect(code(() => parseClientFrame('"string"'))).toBe('bad_frame');
    expect(code(() => parseClientFrame('{"kind":1}'))).toBe('bad_frame');
    expect(code(() => parseClientFrame('{"type":"toString"}'))).toBe('unknown_type');
    expect(code(() => parseClientFrame('{"type":"subscribe","region":"monaco","since":-1}'))).toBe(
      'bad_request',
    );
    expect(code(() => parseClientFrame('{"type":"subscribe","region":"monaco","bbox":[8,43,7,44]}'))).toBe(
      'bad_request',
    );
    expect(code(() => parseClientFrame('{"type":"unlook","nodeId":"x","extra":1}'))).toBe('bad_request');
  });

  it('reads subscriptions from query parameters', () => {
    const q = (s: string) => parseSubscriptionQuery(new URLSearchParams(s));
    expect(q('')).toBeUndefined();
    expect(q('region=monaco&bbox=7.4,43.7,7.5,43.8&since=12')).toEqual({
      region: 'monaco',
      bbox: [7.4, 43.7, 7.5, 43.8],
      since: 12,
    });
    for (const bad of [
      'region=',
      'region=a b',
      'region=m&since=1.5',
      'region=m&bbox=1,2,3,x',
      'bbox=1,2,3,4',
    ])
      expect(
        code(() => q(bad)),
        bad,
      ).toBe('bad_request');
  });
});

describe('bus envelopes and frames', () => {
  const d = (position: number, text: string) => ({
    region: 'monaco',
    position,
    bbox: [1, 2, 3, 4] as [number, number, number, number],
    text,
  });

  it('carries deltas with their commit times, split to a size, a too-large one without its text', () => {
    const deltas = [d(1, 'a'.repeat(100)), d(2, 'b'.repeat(100)), d(3, 'c'.repeat(5000))];
    const envelopes = encodeEnvelopes(deltas, (p) => 1000 + p, 300, new Set([3]));
    expect(envelopes).toHaveLength(2);
    const got = envelopes.flatMap((e) => decodeEnvelope('monaco', e));
    expect(got.map((g) => [g.position, g.committedAt, g.tooLarge, g.text.length])).toEqual([
      [1, 1001, false, 100],
      [2, 1002, false, 100],
      [3, 1003, true, 0],
    ]);
    expect(got[0]!.bbox).toEqual([1, 2, 3, 4]);
    expect(() => decodeEnvelope('monaco', '{"v":2}')).toThrow();
    expect(regionOfChannel(deltasChannel('monaco'))).toBe('monaco');
    expect(regionOfChannel('deltas.other')).toBeUndefined();
  });

  it('frames a text message once with the right length encoding', () => {
    for (const n of [5, 125, 126, 65535, 65536, 70000]) {
      const f = textFrame(Buffer.alloc(n, 0x61));
      expect(f[0]).toBe(0x81);
      const len = f[1]! < 126 ? f[1]! : f[1] === 126 ? f.readUInt16BE(2) : f.readUInt32BE(6);
      const header = f[1]! < 126 ? 2 : f[1] === 126 ? 4 : 10;
      expect(len).toBe(n);
      expect(f.length).toBe(header + n);
    }
  });
});
