// `make bench-events`: appends/s with projections updated (batched commits, and one command per commit) side
// by side with a raw single-row INSERT baseline (and a raw batched one) into a plain table on the same
// PostgreSQL server, then the time to rebuild every projection from EVENTS events (default 1 M), checked to give
// the same rows as incremental projection. Every acknowledged event is durable (synchronous_commit stays on).
//   DATABASE_URL  use this database (default: a fresh weft_bench_<random> on the local server, dropped after);
//                 when it already holds EVENTS events, only the baselines and the rebuild are measured
//   EVENTS        events in the store for the rebuild (default 1000000)
//   BATCH         commands per commit (default 1000)
import { availableParallelism, loadavg } from 'node:os';
import type { Db } from '../core/db/adapter.js';
import { openDb } from '../core/db/open.js';
import { executeCommands, type CommandEnvelope } from '../core/domain/execute.js';
import { headPosition } from '../core/eventstore.js';
import { rebuildProjections } from '../core/projections/projector.js';
import { TABLES } from '../core/projections/tables.js';
import { seedCommunity } from '../core/seed/seed.js';
import { builtinPlaces } from '../core/seed/places.js';
import { loadSeedRegion } from '../core/seed/region.js';
import { Random } from '../core/seed/prng.js';
import { benchDatabase } from './pg.js';

const TOTAL = Number(process.env.EVENTS ?? 1_000_000);
const BATCH = Number(process.env.BATCH ?? 1000);
const log = (s: string) => process.stderr.write(`${s}\n`);

/** A stream of realistic write commands: engagements (most) and votes on open proposals. */
function workload(rng: Random, roles: string[], nodes: string[], proposals: string[], start: number) {
  let t = start;
  return (): CommandEnvelope => {
    t += 7; // ms apart, in time order
    const at = new Date(t);
    const role = roles[Math.floor(rng.next() * roles.length)]!;
    if (proposals.length && rng.next() < 0.25) {
      const choice = (['yes', 'no', 'abstain'] as const)[rng.int(0, 2)];
      return {
        actor: role,
        at,
        command: { type: 'CastVote', proposalId: rng.pick(proposals), roleId: role, choice },
      };
    }
    // popular nodes get most engagements
    const node = nodes[Math.min(nodes.length - 1, Math.floor(nodes.length * rng.next() ** 2))]!;
    return { actor: role, at, command: { type: 'EngageThread', roleId: role, nodeId: node } };
  };
}

async function rawBaseline(db: Db, seconds: number): Promise<number> {
  await db.exec(
    'CREATE TABLE IF NOT EXISTS bench_raw (id bigserial PRIMARY KEY, payload jsonb NOT NULL, at timestamptz NOT NULL DEFAULT now())',
  );
  const payload = JSON.stringify({
    threadId: 't-0123456789abcdef01234567',
    roleId: 'monaco-r0001',
    nodeId: 'monaco-n0001',
  });
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    await db.query('INSERT INTO bench_raw (payload) VALUES ($1)', [payload]);
    n += 1;
  }
  return n / seconds;
}

/** The same plain table, BATCH rows per INSERT and commit: the server's ceiling for batched writes. */
async function rawBatched(db: Db, seconds: number): Promise<number> {
  const payload = JSON.stringify({
    threadId: 't-0123456789abcdef01234567',
    roleId: 'monaco-r0001',
    nodeId: 'monaco-n0001',
  });
  const rows = Array.from({ length: BATCH }, () => payload);
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) {
    await db.query('INSERT INTO bench_raw (payload) SELECT * FROM unnest($1::jsonb[])', [rows]);
    n += BATCH;
  }
  return n / seconds;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, (performance.now() - t0) / 1000];
}

/** An order-independent checksum of every projection table (count and sum of row hashes). */
async function projectionChecksum(db: Db): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const spec of Object.values(TABLES)) {
    const { rows } = await db.query<{ n: number; h: string }>(
      `SELECT count(*)::int AS n, coalesce(sum(hashtext(t::text)::bigint), 0)::text AS h FROM ${spec.table} t`,
    );
    out[spec.table] = `${rows[0]!.n}:${rows[0]!.h}`;
  }
  return out;
}

/** Seeds a community, then measures appends: one command per commit (1 and 8 writers), then batches to TOTAL. */
async function appendPhase(db: Db): Promise<{ single: number; concurrent: number; batched: number }> {
  // a community to write into: 300 roles, 120 nodes, 24 proposals, plus 20 proposals open for the whole run
  const region = loadSeedRegion('monaco');
  const now = new Date('2025-06-01T00:00:00Z');
  const seeded = (await db.query('SELECT 1 FROM proj_roles LIMIT 1')).rows.length > 0;
  if (!seeded)
    await seedCommunity(db, { region, places: await builtinPlaces(region), seed: 1, now, salt: 'bench' });
  const roles = (
    await db.query<{ role_id: string }>('SELECT role_id FROM proj_roles ORDER BY role_id')
  ).rows.map((r) => r.role_id);
  const nodes = (
    await db.query<{ node_id: string }>('SELECT node_id FROM proj_nodes WHERE NOT hidden ORDER BY node_id')
  ).rows.map((r) => r.node_id);
  const open: CommandEnvelope[] = Array.from({ length: 20 }, (_, i) => ({
    actor: roles[i]!,
    at: now,
    command: {
      type: 'OpenProposal',
      proposalId: `bench-p${i}`,
      nodeId: nodes[i]!,
      authorRoleId: roles[i]!,
      title: `Bench proposal ${i}`,
      closesAt: '2099-01-01T00:00:00Z',
    },
  }));
  if (!seeded) await executeCommands(db, open);
  const next = workload(
    new Random(42),
    roles,
    nodes,
    open.map((_, i) => `bench-p${i}`),
    now.getTime() + 1000,
  );

  // one command per commit: sequential, then 8 concurrent writers
  const single = 2000;
  const [, tSingle] = await timed(async () => {
    for (let i = 0; i < single; i++) await executeCommands(db, [next()]);
  });
  log(
    `appends with projections, 1 command per commit, 1 writer: ${(single / tSingle).toFixed(0)} commands/s`,
  );
  const [, tConc] = await timed(() =>
    Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < single / 8; i++) await executeCommands(db, [next()]);
      }),
    ),
  );
  log(`appends with projections, 1 command per commit, 8 writers: ${(single / tConc).toFixed(0)} commands/s`);

  // batched commits up to TOTAL events: the sustained rate
  let head = await headPosition(db);
  const startHead = head;
  const t0 = performance.now();
  let lastLog = t0;
  while (head < TOTAL) {
    const n = Math.min(BATCH, TOTAL - head);
    const results = await executeCommands(db, Array.from({ length: n }, next), { newEventId: undefined });
    head = results.reduce((m, r) => Math.max(m, r.events.at(-1)?.position ?? m), head);
    if (performance.now() - lastLog > 10_000) {
      lastLog = performance.now();
      log(`  … ${head} events, ${((head - startHead) / ((lastLog - t0) / 1000)).toFixed(0)} events/s`);
    }
  }
  const tBatched = (performance.now() - t0) / 1000;
  const batched = (head - startHead) / tBatched;
  log(
    `appends with projections, ${BATCH} commands per commit: ${batched.toFixed(0)} events/s sustained (${head - startHead} events in ${tBatched.toFixed(1)} s)`,
  );
  return { single: single / tSingle, concurrent: single / tConc, batched };
}

const { url, fresh, drop } = await benchDatabase();
const db = await openDb({ url });
try {
  const version = (await db.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v.split(' on ')[0];
  log(
    `bench-events on ${version} (${fresh ? 'fresh database' : db.location}), ${TOTAL} events, batch ${BATCH}`,
  );

  const raw = await rawBaseline(db, 10);
  log(`raw single-row INSERT (autocommit, one connection): ${raw.toFixed(0)} rows/s`);
  const rawBatch = await rawBatched(db, 10);
  log(`raw ${BATCH}-row INSERT per commit (same table): ${rawBatch.toFixed(0)} rows/s`);

  // the appends, unless the database already holds TOTAL events (then only the rebuild is measured)
  const appends = (await headPosition(db)) < TOTAL ? await appendPhase(db) : undefined;

  const before = await projectionChecksum(db);
  const [rebuild, tRebuild] = await timed(() => rebuildProjections(db, { actor: 'bench' }));
  const after = await projectionChecksum(db);
  const same = JSON.stringify(before) === JSON.stringify(after);
  log(
    `rebuild of ${rebuild.events} events: ${tRebuild.toFixed(1)} s (${(rebuild.events / tRebuild).toFixed(0)} events/s), rows identical to incremental: ${same}`,
  );

  const report = {
    server: version,
    // other work on the machine skews every number: the 1-minute load average at the end, and the core count
    loadAverage: Number(loadavg()[0]!.toFixed(1)),
    cores: availableParallelism(),
    rawInsertRowsPerSec: Math.round(raw),
    rawBatchedInsertRowsPerSec: Math.round(rawBatch),
    singleCommitCommandsPerSec: appends && Math.round(appends.single),
    singleCommit8WritersCommandsPerSec: appends && Math.round(appends.concurrent),
    batch: BATCH,
    batchedEventsPerSec: appends && Math.round(appends.batched),
    rebuildEvents: rebuild.events,
    rebuildSeconds: Number(tRebuild.toFixed(1)),
    rebuildIdentical: same,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  if (!same) process.exitCode = 1;
} finally {
  await db.close();
  await drop();
}
