// `make bench-activity`: the activity build (`weft build activity`) over NODES nodes and THREADS threads (default
// 100,000 and 500,000) in a generated region, RUNS times in a child process under GNU time: wall seconds, peak RSS,
// tiles, bytes, and whether every run wrote the same bytes. Target: < 30 s and < 1 GiB peak.
// The data goes in the normal way: domain events bulk-inserted into the event store (valid payloads, positions,
// stream versions), then the projector's own rebuild fills the projection tables the build reads.
//   DATABASE_URL  use this database (default: a fresh weft_bench_<random> on the local server, dropped after)
//   NODES, THREADS, ROLES, PROPOSALS, RUNS, WORKERS  override the sizes, the runs and the build's worker threads
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import type { Db } from '../core/db/adapter.js';
import { openDb } from '../core/db/open.js';
import { threadIdFor } from '../core/domain/ids.js';
import { areaPoint } from '../core/privacy/home.js';
import { rebuildProjections } from '../core/projections/projector.js';
import { Random } from '../core/seed/prng.js';
import { benchDatabase } from './pg.js';
import { timed, type Timed } from './timed.js';

const root = new URL('..', import.meta.url).pathname;
const out = path.join(root, 'bench/out/activity');
const NODES = Number(process.env.NODES ?? 100_000);
const THREADS = Number(process.env.THREADS ?? 500_000);
const ROLES = Number(process.env.ROLES ?? Math.ceil(THREADS / 10));
const PROPOSALS = Number(process.env.PROPOSALS ?? Math.ceil(NODES / 20));
const RUNS = Number(process.env.RUNS ?? 3);
const WORKERS = process.env.WORKERS;
const T = Date.parse('2025-06-01T12:00:00.000Z');
const DAY = 86_400_000;
const REGION = {
  id: 'benchland',
  name: 'Benchland',
  // about 120 km × 110 km around Lake Zurich: a region the size of a small country
  bbox: [8.0, 46.9, 9.6, 47.9],
  minzoom: 0,
  maxzoom: 14,
  center: [8.55, 47.37, 10],
  source: { url: 'https://download.geofabrik.de/europe/switzerland-latest.osm.pbf' },
};
const log = (s: string) => process.stderr.write(`${s}\n`);

interface Ev {
  at: number;
  order: number;
  streamId: string;
  streamType: 'role' | 'node' | 'thread' | 'proposal';
  type: string;
  payload: Record<string, unknown>;
  actor: string;
}

const r6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** The generated community's events, in time order: towns, roles near them, nodes around them, threads, proposals. */
function generate(): Ev[] {
  const rng = new Random(2025);
  const [w, s, e, n] = REGION.bbox as [number, number, number, number];
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const towns = Array.from({ length: 250 }, () => ({
    lon: rng.between(w + 0.05, e - 0.05),
    lat: rng.between(s + 0.05, n - 0.05),
    // metres: from villages to a city
    spread: 500 + 4000 * rng.next() ** 2,
  }));
  const weights = towns.map((t) => t.spread);
  const near = (t: (typeof towns)[number], k = 1): [number, number] => {
    const dLat = (gauss() * t.spread * k) / 111_320;
    const dLon = (gauss() * t.spread * k) / (111_320 * Math.cos((t.lat * Math.PI) / 180));
    return [r6(Math.min(e, Math.max(w, t.lon + dLon))), r6(Math.min(n, Math.max(s, t.lat + dLat)))];
  };
  const events: Ev[] = [];
  let order = 0;
  const push = (ev: Omit<Ev, 'order'>) => events.push({ ...ev, order: order++ });
  const start = T - 14 * DAY;

  const roles: { id: string; town: number; joined: number }[] = [];
  const rolesOfTown: number[][] = towns.map(() => []);
  for (let i = 0; i < ROLES; i++) {
    const id = `bench-r${i}`;
    const town = rng.weighted(weights);
    const joined = Math.round(start + rng.between(0, 2 * DAY));
    const home = near(towns[town]!);
    push({
      at: joined,
      streamId: `role:${id}`,
      streamType: 'role',
      type: 'RoleRegistered',
      payload: { roleId: id, regionId: REGION.id, name: `Role ${i}`, areaPoint: areaPoint(home) },
      actor: id,
    });
    if (rng.next() < 0.4) {
      // a public position (what the domain publishes for a placed home: a point within the chosen radius)
      const radius = rng.pick([100, 250, 250, 500]);
      const a = rng.between(0, 2 * Math.PI);
      const d = rng.between(radius / 4, radius);
      push({
        at: joined + 60_000,
        streamId: `role:${id}`,
        streamType: 'role',
        type: 'RoleHomePlaced',
        payload: {
          roleId: id,
          publicPoint: [
            r6(home[0] + (d * Math.sin(a)) / (111_320 * Math.cos((home[1] * Math.PI) / 180))),
            r6(home[1] + (d * Math.cos(a)) / 111_320),
          ],
          inaccuracyM: radius,
          exactConsent: false,
        },
        actor: id,
      });
    }
    roles.push({ id, town, joined });
    rolesOfTown[town]!.push(i);
  }

  const nodes: { id: string; town: number; created: number }[] = [];
  const kinds = ['place', 'topic', 'meeting', 'project', 'concern'];
  for (let j = 0; j < NODES; j++) {
    const id = `bench-n${j}`;
    let town = rng.weighted(weights);
    if (!rolesOfTown[town]!.length) town = roles[0]!.town;
    const author = roles[rolesOfTown[town]![rng.int(0, rolesOfTown[town]!.length - 1)]!]!;
    const created = Math.round(Math.max(author.joined + 60_000, start + rng.between(0, 3 * DAY)));
    push({
      at: created,
      streamId: `node:${id}`,
      streamType: 'node',
      type: 'NodeCreated',
      payload: {
        nodeId: id,
        regionId: REGION.id,
        title: `Node ${j} in town ${town}`,
        kind: kinds[j % kinds.length],
        point: near(towns[town]!),
        authorRoleId: author.id,
      },
      actor: author.id,
    });
    nodes.push({ id, town, created });
  }

  // threads: a role engages with nodes of its own town; the last engagement spreads over the 10 days before T
  // (about 70 % live at T), a fifth of the threads renewed once
  const pairs = new Set<string>();
  let threads = 0;
  while (threads < THREADS) {
    const node = rng.int(0, NODES - 1);
    const town = rolesOfTown[nodes[node]!.town]!;
    const role = roles[town[rng.int(0, town.length - 1)]!]!;
    const key = `${role.id}|${node}`;
    if (pairs.has(key)) continue;
    pairs.add(key);
    threads += 1;
    const nodeId = nodes[node]!.id;
    const earliest = Math.max(role.joined, nodes[node]!.created) + 60_000;
    const last = Math.round(Math.max(earliest, T - rng.between(60_000, 10 * DAY)));
    const threadId = threadIdFor(role.id, nodeId);
    const payload = { threadId, roleId: role.id, nodeId };
    const renewed = rng.next() < 0.2 && last - earliest > DAY;
    const spun = renewed ? Math.round(rng.between(earliest, last - DAY)) : last;
    push({
      at: spun,
      streamId: `thread:${threadId}`,
      streamType: 'thread',
      type: 'ThreadSpun',
      payload,
      actor: role.id,
    });
    if (renewed) {
      push({
        at: last,
        streamId: `thread:${threadId}`,
        streamType: 'thread',
        type: 'ThreadRenewed',
        payload,
        actor: role.id,
      });
    }
  }

  for (let q = 0; q < PROPOSALS; q++) {
    const node = nodes[rng.int(0, NODES - 1)]!;
    const opened = Math.round(Math.max(node.created + 60_000, T - rng.between(DAY, 8 * DAY)));
    const closes = Math.round(opened + rng.between(2 * DAY, 9 * DAY));
    const id = `bench-p${q}`;
    const author = roles[rng.int(0, roles.length - 1)]!;
    push({
      at: opened,
      streamId: `proposal:${id}`,
      streamType: 'proposal',
      type: 'ProposalOpened',
      payload: {
        proposalId: id,
        nodeId: node.id,
        authorRoleId: author.id,
        title: `Proposal ${q}`,
        body: '',
        closesAt: new Date(closes).toISOString(),
      },
      actor: author.id,
    });
    if (closes < T) {
      push({
        at: closes,
        streamId: `proposal:${id}`,
        streamType: 'proposal',
        type: 'ProposalClosed',
        payload: { proposalId: id, tally: { yes: 0, no: 0, abstain: 0 } },
        actor: 'system:bench',
      });
    }
  }
  return events.sort((a, b) => a.at - b.at || a.order - b.order);
}

/** Bulk-inserts the events with positions and stream versions, moves the head, and rebuilds the projections. */
async function load(db: Db, events: Ev[]): Promise<void> {
  const ids = new Random(7);
  const versions = new Map<string, number>();
  const CHUNK = 5000;
  const sql = `INSERT INTO events (position, event_id, stream_id, stream_type, stream_version, type, payload, metadata,
      occurred_at, recorded_at)
    SELECT position, event_id, stream_id, stream_type, stream_version, type, payload, metadata, occurred_at, occurred_at
    FROM json_to_recordset($1::json) AS r(position bigint, event_id uuid, stream_id text, stream_type text,
      stream_version integer, type text, payload jsonb, metadata jsonb, occurred_at timestamptz)`;
  for (let i = 0; i < events.length; i += CHUNK) {
    const rows = events.slice(i, i + CHUNK).map((e, k) => {
      const version = (versions.get(e.streamId) ?? 0) + 1;
      versions.set(e.streamId, version);
      return {
        position: i + k + 1,
        event_id: ids.uuid(),
        stream_id: e.streamId,
        stream_type: e.streamType,
        stream_version: version,
        type: e.type,
        payload: e.payload,
        metadata: { actor: e.actor },
        occurred_at: new Date(e.at).toISOString(),
      };
    });
    await db.query(sql, [JSON.stringify(rows)]);
  }
  await db.query('UPDATE event_log_head SET position = $1 WHERE id', [events.length]);
}

interface Run {
  seconds: number;
  /** user + system CPU seconds of the build process (all its threads): steadier than wall time when shared */
  cpuSeconds: number;
  rssMiB: number;
  sha256: string;
  bytes: number;
  tiles: number;
  nodes: number;
  threads: number;
}

/** The compiled CLI when it is up to date with the activity sources (make runs setup first), else the sources. */
function cliEntry(): string[] {
  if (process.env.WEFT_BENCH_CLI) return [process.env.WEFT_BENCH_CLI];
  const built = path.join(root, 'build/pipeline/build-activity.js');
  const sources = [
    'pipeline/build-activity.ts',
    'pipeline/activity-state.ts',
    'pipeline/profiles/activity.ts',
  ];
  const fresh =
    existsSync(built) &&
    sources.every((f) => statSync(path.join(root, f)).mtimeMs <= statSync(built).mtimeMs);
  return fresh ? [path.join(root, 'bin/weft.js')] : ['--import', 'tsx', path.join(root, 'cli/run.ts')];
}

function buildOnce(i: number, url: string, regionFile: string): Run {
  const dir = path.join(out, `run-${i}`);
  rmSync(dir, { recursive: true, force: true });
  const cli = cliEntry();
  const args = [
    'build',
    'activity',
    '--region',
    regionFile,
    '--at',
    new Date(T).toISOString(),
    '-o',
    dir,
    '-q',
  ];
  if (WORKERS) args.push('--workers', WORKERS);
  let t: Timed;
  try {
    t = timed(process.execPath, [...cli, ...args], {
      timeFile: path.join(out, '.time'),
      cwd: root,
      env: { ...process.env, DATABASE_URL: url },
      inherit: true,
    });
  } catch (err) {
    throw new Error(`the activity build failed: ${(err as Error).message}`);
  }
  const archive = path.join(dir, 'activity.pmtiles');
  const stats = JSON.parse(readFileSync(path.join(dir, 'activity.stats.json'), 'utf8'));
  return {
    seconds: t.seconds,
    cpuSeconds: t.cpuSeconds,
    rssMiB: t.rssMiB,
    sha256: createHash('sha256').update(readFileSync(archive)).digest('hex'),
    bytes: statSync(archive).size,
    tiles: stats.engine?.tiles ?? 0,
    nodes: stats.nodes,
    threads: stats.threads,
  };
}

if (!existsSync('/usr/bin/time')) {
  log('bench-activity needs GNU time (/usr/bin/time): run scripts/setup.sh --bench');
  process.exit(1);
}
mkdirSync(out, { recursive: true });
const regionFile = path.join(out, 'benchland.json');
writeFileSync(regionFile, JSON.stringify(REGION, null, 2) + '\n');

const { url, fresh, drop } = await benchDatabase();
const db = await openDb({ url });
try {
  const version = (await db.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v.split(' on ')[0];
  log(
    `bench-activity on ${version}: ${NODES} nodes, ${THREADS} threads, ${ROLES} roles, ${PROPOSALS} proposals`,
  );
  let t0 = performance.now();
  const events = generate();
  log(`generated ${events.length} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  t0 = performance.now();
  await load(db, events);
  const loadSeconds = (performance.now() - t0) / 1000;
  log(`inserted them in ${loadSeconds.toFixed(1)} s`);
  events.length = 0;
  t0 = performance.now();
  const rebuilt = await rebuildProjections(db, { actor: 'bench' });
  const rebuildSeconds = (performance.now() - t0) / 1000;
  log(`projections rebuilt from ${rebuilt.events} events in ${rebuildSeconds.toFixed(1)} s`);
  await db.exec('VACUUM ANALYZE');

  const loadAvg = loadavg()[0]!.toFixed(1);
  log(
    `building with: node ${cliEntry().join(' ')} (load average ${loadAvg} on ${availableParallelism()} cores)`,
  );
  const runs: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = buildOnce(i, url, regionFile);
    runs.push(r);
    log(
      `run ${i + 1}/${RUNS}: ${r.seconds.toFixed(1)} s (${r.cpuSeconds.toFixed(1)} s CPU), peak ${r.rssMiB.toFixed(0)} MiB, ${r.tiles} tiles, ` +
        `${(r.bytes / 1e6).toFixed(1)} MB, ${r.nodes} nodes and ${r.threads} threads visible`,
    );
  }
  const median = [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)]!;
  const peak = Math.max(...runs.map((r) => r.rssMiB));
  const identical = runs.every((r) => r.sha256 === runs[0]!.sha256);
  const met = median.seconds < 30 && peak < 1024;
  const rows = [
    ['nodes / threads in the store', `${NODES} / ${THREADS}`],
    ['visible at T (nodes / live threads)', `${median.nodes} / ${median.threads}`],
    [
      'build wall time, median of runs',
      `${median.seconds.toFixed(1)} s (runs: ${runs.map((r) => r.seconds.toFixed(1)).join(', ')})`,
    ],
    [
      'build CPU (user + sys), median run',
      `${median.cpuSeconds.toFixed(1)} s on ${availableParallelism()} cores (load average before: ${loadAvg})`,
    ],
    ['peak RSS, max of runs', `${peak.toFixed(0)} MiB`],
    ['tiles / archive size', `${median.tiles} / ${(median.bytes / 1e6).toFixed(1)} MB`],
    ['same bytes every run', String(identical)],
    ['target (< 30 s, < 1 GiB)', met ? 'met' : 'NOT met'],
  ];
  const width = Math.max(...rows.map((r) => r[0]!.length));
  process.stdout.write(rows.map(([k, v]) => `${k!.padEnd(width)}  ${v}`).join('\n') + '\n');
  process.stdout.write(
    JSON.stringify({
      server: version,
      nodes: NODES,
      threads: THREADS,
      roles: ROLES,
      proposals: PROPOSALS,
      visibleNodes: median.nodes,
      liveThreads: median.threads,
      medianSeconds: median.seconds,
      runsSeconds: runs.map((r) => r.seconds),
      medianCpuSeconds: median.cpuSeconds,
      loadAverage: Number(loadAvg),
      peakRssMiB: Math.round(peak),
      tiles: median.tiles,
      bytes: median.bytes,
      identical,
      setup: {
        insertSeconds: Number(loadSeconds.toFixed(1)),
        rebuildSeconds: Number(rebuildSeconds.toFixed(1)),
      },
      targetMet: met,
    }) + '\n',
  );
  if (!identical) process.exitCode = 1;
} finally {
  await db.close();
  await drop();
}
