// The activity build's behaviour on one database implementation (run on PGlite and on PostgreSQL): fade at publish
// time T under a simulated clock, byte-identical archives for the same events and T (also after later events),
// low-zoom counts that add up to the visible nodes, and no exact home in any tile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../core/db/adapter.js';
import { fadeSweep } from '../../core/domain/fade-sweep.js';
import { threadIdFor } from '../../core/domain/ids.js';
import { fade, FADE_PERIOD_MS } from '../../core/fade.js';
import { Random } from '../../core/seed/prng.js';
import { buildActivity, type ActivityBuildResult } from '../../pipeline/build-activity.js';
import { verifyArchive } from '../../pipeline/pmtiles/verify.js';
import {
  activityLayers,
  NODE_DETAIL_ZOOM,
  ACTIVITY_MAXZOOM,
  threadFeatureId,
  THREADS_MINZOOM,
  tileFade,
} from '../../pipeline/profiles/activity.js';
import { resetDb, type TestDb } from '../db/helpers.js';
import { referenceReader } from '../pmtiles/reference.js';
import { tempDir } from '../helpers/tmp.js';
import {
  at,
  atEach,
  byId,
  piecesOf,
  threadKey,
  DAY,
  featuresAt,
  HOUR,
  metres,
  MONACO,
  ownPoints,
  sha256,
  tileDigests,
  type DecodedFeature,
} from './support.js';

const layer = (fs: DecodedFeature[], name: string) => fs.filter((f) => f.layer === name);
/** The archive's highest zoom (Monaco's maxzoom is 14; the activity archive stops at ACTIVITY_MAXZOOM). */
const TOP = ACTIVITY_MAXZOOM;

export function activitySuite(name: string, open: () => Promise<TestDb>): void {
  describe(`weft build activity on ${name}`, () => {
    const dir = tempDir(`weft-activity-${name}-`);
    let t: TestDb;
    let db: Db;
    let n = 0;
    const build = (T: number, workers = 1): Promise<ActivityBuildResult> =>
      buildActivity('monaco', { at: new Date(T), outDir: `${dir}/${n++}`, db, quiet: true, workers });

    beforeAll(async () => {
      t = await open();
      db = t.db;
    });
    afterAll(async () => {
      await t?.cleanup();
    });

    it('fades a thread: 1 when fresh, 0.5 after 3.5 days, left out after 7 days, back when renewed', async () => {
      await resetDb(db);
      const T0 = Date.parse('2025-03-01T12:00:00.000Z');
      // nothing yet: a valid archive without tiles, still naming T
      const empty = await build(T0 - DAY);
      expect(empty.stats).toBeNull();
      expect(empty.counts).toMatchObject({ nodes: 0, threads: 0 });
      expect((await verifyArchive(empty.archive)).problems).toEqual([]);
      const emptyMeta = (await referenceReader(empty.archive).getMetadata()) as Record<string, unknown>;
      expect(emptyMeta).toMatchObject({ published_at: new Date(T0 - DAY).toISOString(), event_position: 0 });
      await at(db, T0 - HOUR, [
        { type: 'RegisterRole', roleId: 'ra', regionId: 'monaco', name: 'Anna', area: [7.42, 43.735] },
        { type: 'RegisterRole', roleId: 'rb', regionId: 'monaco', name: 'Ben', area: [7.44, 43.745] },
        { type: 'PlaceRoleHome', roleId: 'ra', point: [7.4201, 43.7351], inaccuracyM: 250 },
        {
          type: 'CreateNode',
          nodeId: 'n1',
          regionId: 'monaco',
          title: 'Repair café',
          kind: 'meeting',
          point: [7.43, 43.74],
          authorRoleId: 'rb',
        },
      ]);
      await at(db, T0, [{ type: 'EngageThread', roleId: 'ra', nodeId: 'n1' }], 'ra');
      const tid = threadIdFor('ra', 'n1');

      const fresh = await build(T0);
      expect(fresh.at).toBe(new Date(T0).toISOString());
      let top = await featuresAt(fresh.archive, TOP);
      const fresh1 = byId(layer(top, 'threads')).get(threadKey(tid));
      expect(fresh1?.id).toBe(threadFeatureId(tid));
      expect(fresh1?.props).toEqual({
        node_id: 'n1',
        fade: 1,
        last_activity: T0 / 1000,
      });
      expect(byId(layer(top, 'nodes')).get('n1')?.props).toEqual({
        id: 'n1',
        title: 'Repair café',
        kind: 'meeting',
        count: 1,
        fade: 1,
        threads: 1,
        open_proposals: 0,
        last_activity: T0 / 1000,
      });

      const half = await build(T0 + 3.5 * DAY);
      top = await featuresAt(half.archive, TOP);
      expect(byId(layer(top, 'threads')).get(threadKey(tid))?.props.fade).toBe(0.5);
      expect(byId(layer(top, 'nodes')).get('n1')?.props.fade).toBe(0.5);

      // a second node, created later, keeps the archive non-empty after the first one fades out
      await at(db, T0 + 5 * DAY, [
        {
          type: 'CreateNode',
          nodeId: 'n2',
          regionId: 'monaco',
          title: 'Bench needs fixing',
          kind: 'concern',
          point: [7.415, 43.73],
          authorRoleId: 'rb',
        },
      ]);
      const gone = await build(T0 + 7 * DAY);
      top = await featuresAt(gone.archive, TOP);
      expect(layer(top, 'threads')).toEqual([]);
      expect([...byId(layer(top, 'nodes')).keys()]).toEqual(['n2']);
      expect(byId(layer(top, 'nodes')).get('n2')?.props.fade).toBe(tileFade(1 - 2 / 7));
      expect(gone.counts).toMatchObject({ nodes: 1, threads: 0 });

      // the fade job at the same T records what the rule already said: the tiles do not change (the metadata
      // names the later event position)
      const swept = await fadeSweep(db, new Date(T0 + 7 * DAY), { ctx: { recordedAt: 'occurred' } });
      expect(swept).toEqual({ fadedThreads: 1, hiddenNodes: 1 });
      const afterSweep = await build(T0 + 7 * DAY);
      expect(afterSweep.position).toBe(gone.position + 2);
      expect(await tileDigests(afterSweep.archive)).toEqual(await tileDigests(gone.archive));

      // renewed: the node is restored and the role engages again a day later
      await at(db, T0 + 8 * DAY, [{ type: 'RestoreNode', nodeId: 'n1' }]);
      await at(db, T0 + 8 * DAY + 60_000, [{ type: 'EngageThread', roleId: 'ra', nodeId: 'n1' }], 'ra');
      const renewed = await build(T0 + 9 * DAY);
      top = await featuresAt(renewed.archive, TOP);
      const thread = byId(layer(top, 'threads')).get(threadKey(tid));
      const expected = 1 - (DAY - 60_000) / FADE_PERIOD_MS;
      expect(thread?.props.fade).toBe(tileFade(expected));
      expect(thread?.props.fade).toBeCloseTo(expected, 2);
      expect(thread?.props.last_activity).toBe((T0 + 8 * DAY + 60_000) / 1000);
      expect(byId(layer(top, 'nodes')).get('n1')?.props).toMatchObject({
        fade: tileFade(expected),
        threads: 1,
      });
    });

    it('gives the same bytes for the same events and T, also after later events are appended', async () => {
      await resetDb(db);
      const T = Date.parse('2025-04-01T00:00:00.000Z');
      const roles = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'];
      await at(
        db,
        T - 9 * DAY,
        roles.map((id, i) => ({
          type: 'RegisterRole',
          roleId: id,
          regionId: 'monaco',
          name: `Role ${i}`,
          area: [7.412 + i * 0.006, 43.726 + i * 0.004],
        })),
      );
      await at(db, T - 9 * DAY, [
        { type: 'PlaceRoleHome', roleId: 'r1', point: [7.4133, 43.7301], inaccuracyM: 100 },
        { type: 'PlaceRoleHome', roleId: 'r2', point: [7.4222, 43.7322], inaccuracyM: 500 },
      ]);
      const nodes = Array.from({ length: 8 }, (_, i) => `n${i + 1}`);
      await at(
        db,
        T - 8 * DAY,
        nodes.map((id, i) => ({
          type: 'CreateNode',
          nodeId: id,
          regionId: 'monaco',
          title: `Node ${i + 1}`,
          kind: 'place',
          point: [7.41 + i * 0.0045, 43.725 + ((i * 7) % 8) * 0.003],
          authorRoleId: roles[i % roles.length],
        })),
      );
      const rng = new Random(3);
      const engagements = Array.from({ length: 30 }, () => ({
        when: T - Math.round(rng.between(0.01, 7.9) * DAY),
        role: rng.pick(roles),
        node: rng.pick(nodes),
      })).sort((x, y) => x.when - y.when);
      await atEach(
        db,
        engagements.map((g) => ({
          when: g.when,
          actor: g.role,
          command: { type: 'EngageThread', roleId: g.role, nodeId: g.node },
        })),
      );
      await at(
        db,
        T - DAY,
        [
          {
            type: 'OpenProposal',
            proposalId: 'p-open',
            nodeId: 'n1',
            authorRoleId: 'r1',
            title: 'More shade',
            closesAt: new Date(T + 3 * DAY).toISOString(),
          },
          {
            type: 'OpenProposal',
            proposalId: 'p-past',
            nodeId: 'n2',
            authorRoleId: 'r1',
            title: 'Past its closing time',
            closesAt: new Date(T - 2 * HOUR).toISOString(),
          },
          {
            type: 'OpenProposal',
            proposalId: 'p-closed',
            nodeId: 'n3',
            authorRoleId: 'r1',
            title: 'Closed early',
            closesAt: new Date(T + 3 * DAY).toISOString(),
          },
        ],
        'r1',
      );
      await at(db, T - HOUR, [{ type: 'CloseProposal', proposalId: 'p-closed' }], 'r1');

      const a = await build(T, 2);
      const b = await build(T, 2);
      expect(sha256(b.archive)).toBe(sha256(a.archive));
      expect(a.counts.threads).toBeGreaterThan(5);
      const top = byId(layer(await featuresAt(a.archive, TOP), 'nodes'));
      expect(top.get('n1')?.props.open_proposals).toBe(1);
      expect(top.get('n2')?.props.open_proposals ?? 0).toBe(0);
      expect(top.get('n3')?.props.open_proposals ?? 0).toBe(0);

      // events recorded after T: renewals, a new node and thread, a hidden node, a moved home, votes, a close
      const later = T + HOUR;
      await at(db, later, [{ type: 'EngageThread', roleId: 'r1', nodeId: 'n1' }], 'r1');
      await at(db, later, [{ type: 'EngageThread', roleId: 'r4', nodeId: 'n6' }], 'r4');
      await at(db, later, [
        {
          type: 'CreateNode',
          nodeId: 'n9',
          regionId: 'monaco',
          title: 'New after T',
          kind: 'topic',
          point: [7.43, 43.745],
          authorRoleId: 'r5',
        },
        { type: 'EngageThread', roleId: 'r5', nodeId: 'n9' },
        { type: 'HideNode', nodeId: 'n4', reason: 'moderation' },
        { type: 'PlaceRoleHome', roleId: 'r3', point: [7.4377, 43.7402], inaccuracyM: 250 },
        { type: 'ClearRoleHome', roleId: 'r2' },
        { type: 'CastVote', proposalId: 'p-open', roleId: 'r6', choice: 'yes' },
        {
          type: 'OpenProposal',
          proposalId: 'p-new',
          nodeId: 'n5',
          authorRoleId: 'r2',
          title: 'After T',
          closesAt: new Date(T + 5 * DAY).toISOString(),
        },
      ]);
      await at(db, later + HOUR, [{ type: 'CloseProposal', proposalId: 'p-open' }], 'r1');
      await fadeSweep(db, new Date(T + 2 * DAY), { ctx: { recordedAt: 'occurred' } });

      const c = await build(T, 2);
      expect(c.counts.refolded.threads).toBeGreaterThan(0);
      expect(c.counts.refolded.nodes).toBeGreaterThan(0);
      expect(c.counts.refolded.proposals).toBeGreaterThan(0);
      expect(c.position).toBe(a.position);
      expect(sha256(c.archive)).toBe(sha256(a.archive));
      // and the later events do count at a later T
      const d = await build(later + 2 * HOUR, 2);
      expect(d.position).toBeGreaterThan(a.position);
      expect(sha256(d.archive)).not.toBe(sha256(a.archive));
      const meta = (await referenceReader(c.archive).getMetadata()) as Record<string, unknown>;
      expect(meta.published_at).toBe(new Date(T).toISOString());
      expect(meta.event_position).toBe(a.position);
    });

    describe('a community of 80 nodes', () => {
      const T = Date.parse('2025-05-01T08:00:00.000Z');
      let built: ActivityBuildResult;
      let visible: Map<string, { fade: number; threads: number }>;
      let live: Map<string, { last: number; node: string; from: [number, number] }>;

      beforeAll(async () => {
        await resetDb(db);
        const rng = new Random(11);
        const [w, s, e, nn] = MONACO;
        const rand = (): [number, number] => [
          Math.round(rng.between(w, e) * 1e6) / 1e6,
          Math.round(rng.between(s, nn) * 1e6) / 1e6,
        ];
        const roles = Array.from({ length: 30 }, (_, i) => `role-${i}`);
        await at(
          db,
          T - 12 * DAY,
          roles.map((id) => ({
            type: 'RegisterRole',
            roleId: id,
            regionId: 'monaco',
            name: id,
            area: rand(),
          })),
        );
        await at(
          db,
          T - 12 * DAY,
          roles
            .filter((_, i) => i % 2 === 0)
            .map((id, i) => ({
              type: 'PlaceRoleHome',
              roleId: id,
              point: rand(),
              inaccuracyM: [100, 250, 500][i % 3],
            })),
        );
        const nodes = Array.from({ length: 80 }, (_, i) => `node-${String(i).padStart(2, '0')}`);
        await at(
          db,
          T - 11 * DAY,
          nodes.map((id, i) => ({
            type: 'CreateNode',
            nodeId: id,
            regionId: 'monaco',
            title: `Place ${i}`,
            kind: (['place', 'topic', 'meeting', 'project', 'concern'] as const)[i % 5],
            point: rand(),
            authorRoleId: roles[i % roles.length],
          })),
        );
        const engagements = Array.from({ length: 160 }, () => ({
          when: T - Math.round(rng.between(0.001, 10) * DAY),
          role: rng.pick(roles),
          node: rng.pick(nodes),
        })).sort((x, y) => x.when - y.when);
        await atEach(
          db,
          engagements.map((g) => ({
            when: g.when,
            actor: g.role,
            command: { type: 'EngageThread', roleId: g.role, nodeId: g.node },
          })),
        );
        await at(
          db,
          T - DAY,
          nodes.slice(0, 4).map((id) => ({ type: 'HideNode', nodeId: id, reason: 'moderation' })),
        );
        await fadeSweep(db, new Date(T - DAY), { ctx: { recordedAt: 'occurred' } });

        // the expectation, straight from the projections and the fade rule
        const cutoff = new Date(T - FADE_PERIOD_MS).toISOString();
        const { rows: ns } = await db.query<{ node_id: string; last_activity_at: Date }>(
          'SELECT node_id, last_activity_at FROM proj_nodes WHERE NOT hidden AND last_activity_at > $1',
          [cutoff],
        );
        visible = new Map(ns.map((r) => [r.node_id, { fade: fade(T, r.last_activity_at), threads: 0 }]));
        const { rows: ts } = await db.query<{
          thread_id: string;
          node_id: string;
          last_activity_at: Date;
          role_id: string;
        }>(
          'SELECT thread_id, node_id, last_activity_at, role_id FROM proj_threads WHERE NOT faded AND last_activity_at > $1',
          [cutoff],
        );
        const { rows: rs } = await db.query<{ role_id: string; lon: number; lat: number }>(
          'SELECT role_id, COALESCE(public_lon, area_lon) AS lon, COALESCE(public_lat, area_lat) AS lat FROM proj_roles',
        );
        const origin = new Map(rs.map((r) => [r.role_id, [r.lon, r.lat] as [number, number]]));
        live = new Map();
        for (const r of ts) {
          if (!visible.has(r.node_id)) continue;
          visible.get(r.node_id)!.threads += 1;
          live.set(r.thread_id, {
            last: r.last_activity_at.getTime(),
            node: r.node_id,
            from: origin.get(r.role_id)!,
          });
        }
        built = await build(T, 2);
      });

      it('writes a valid archive with the activity layers, T, the event position and the community’s attribution', async () => {
        expect((await verifyArchive(built.archive)).problems).toEqual([]);
        const meta = (await referenceReader(built.archive).getMetadata()) as Record<string, any>;
        expect(meta.vector_layers.map((l: { id: string }) => l.id)).toEqual(activityLayers.map((l) => l.id));
        expect(meta.published_at).toBe(new Date(T).toISOString());
        const { rows } = await db.query<{ position: number }>('SELECT max(position) AS position FROM events');
        expect(meta.event_position).toBe(rows[0]!.position);
        expect(meta.attribution).toMatch(/participants/);
        expect(meta.attribution).not.toMatch(/OpenStreetMap/);
        expect(built.counts.nodes).toBe(visible.size);
        expect(built.counts.threads).toBe(live.size);
        expect(visible.size).toBeGreaterThan(20);
        expect(visible.size).toBeLessThan(80); // some hidden, some faded out
      });

      it('shows every visible node at z12+ and every live thread with the fade rule at T', async () => {
        for (const z of [NODE_DETAIL_ZOOM, TOP]) {
          const fs = await featuresAt(built.archive, z);
          const nodes = byId(ownPoints(layer(fs, 'nodes')));
          expect([...nodes.keys()].sort()).toEqual([...visible.keys()].sort());
          for (const [id, f] of nodes) {
            expect(f.props.count).toBe(1);
            expect(f.props.fade).toBe(tileFade(visible.get(id)!.fade));
            expect(f.props.threads).toBe(visible.get(id)!.threads);
          }
          const threads = byId(layer(fs, 'threads'));
          expect([...threads.keys()].sort()).toEqual([...live.keys()].map(threadKey).sort());
          for (const [id, l] of live) {
            const f = threads.get(threadKey(id))!;
            expect(f.props).toEqual({
              node_id: l.node,
              fade: tileFade(fade(T, l.last)),
              last_activity: Math.floor(l.last / 1000),
            });
          }
        }
      });

      it('counts nodes per cell below z12: the counts add up to the visible nodes', async () => {
        const fadeMax = Math.max(...[...visible.values()].map((v) => v.fade));
        const threadSum = [...visible.values()].reduce((a, v) => a + v.threads, 0);
        let aggregated = false;
        for (let z = 0; z < NODE_DETAIL_ZOOM; z++) {
          const fs = await featuresAt(built.archive, z);
          const cells = ownPoints(layer(fs, 'nodes'));
          expect(cells.length).toBeGreaterThan(0);
          expect(cells.reduce((a, f) => a + (f.props.count as number), 0)).toBe(visible.size);
          expect(cells.reduce((a, f) => a + (f.props.threads as number), 0)).toBe(threadSum);
          expect(Math.max(...cells.map((f) => f.props.fade as number))).toBe(tileFade(fadeMax));
          for (const c of cells) expect(c.props.id === undefined).toBe(c.props.count !== 1);
          if (cells.some((c) => (c.props.count as number) > 1)) aggregated = true;
          // threads: from THREADS_MINZOOM up only (below it the cells count them)
          const threads = layer(fs, 'threads');
          if (z < THREADS_MINZOOM) expect(threads).toEqual([]);
          else expect(threads.length).toBeGreaterThan(0);
        }
        expect(aggregated).toBe(true);
        const z0 = ownPoints(layer(await featuresAt(built.archive, 0), 'nodes'));
        expect(z0).toHaveLength(1);
        expect(z0[0]!.props.count).toBe(visible.size);
      });

      it('draws threads from public positions: no exact home appears in any tile', async () => {
        const { rows: homes } = await db.query<{ role_id: string; lon: number; lat: number }>(
          'SELECT role_id, lon, lat FROM role_homes_private ORDER BY role_id',
        );
        const { rows: pubs } = await db.query<{ role_id: string; lon: number; lat: number }>(
          'SELECT role_id, public_lon AS lon, public_lat AS lat FROM proj_roles WHERE located',
        );
        expect(homes.length).toBe(15);
        const pub = new Map(pubs.map((r) => [r.role_id, [r.lon, r.lat] as [number, number]]));
        // the test means something only if public positions are away from the homes
        for (const h of homes) expect(metres([h.lon, h.lat], pub.get(h.role_id)!)).toBeGreaterThan(20);

        // every thread starts at its role's public position (or area point), within the top zoom's grid precision
        const top = await featuresAt(built.archive, TOP);
        for (const [id, l] of live) {
          const pieces = piecesOf(layer(top, 'threads'), threadKey(id));
          const from = l.from;
          const nearest = Math.min(...pieces.flatMap((p) => p.lonlat.flat().map((c) => metres(c, from))));
          expect(nearest).toBeLessThan(1.5);
        }
        // no vertex (line ends not cut by a tile edge, and points) is near an exact home, at the zooms whose grid
        // is fine enough to tell (below z12 a tile unit is more than the 10 m this checks)
        for (let z = NODE_DETAIL_ZOOM; z <= TOP; z++) {
          const fs = await featuresAt(built.archive, z);
          for (const f of fs) {
            f.parts.forEach((part, i) => {
              const ends = f.layer === 'threads' ? [0, part.length - 1] : part.map((_, k) => k);
              for (const k of ends) {
                const p = part[k]!;
                const cut = p.x <= -64 || p.x >= f.extent + 64 || p.y <= -64 || p.y >= f.extent + 64;
                if (cut) continue;
                const ll = f.lonlat[i]![k]!;
                for (const h of homes) expect(metres(ll, [h.lon, h.lat])).toBeGreaterThan(10);
              }
            });
          }
        }
      });
    });
  });
}
