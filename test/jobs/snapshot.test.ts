// The snapshot round trip on a real PostgreSQL and the local blob folder: weeks of seeded activity written as a
// daily chain → verified → one byte tampered or one day dropped → verification fails naming the file → the
// untampered chain restored into an empty database gives the same events and the same projection rows.
// Stored files are also read without our code: `zstd -d` (the CLI) and the file system.
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../core/audit.js';
import { LocalBlobStore } from '../../core/blob/local.js';
import type { Db } from '../../core/db/adapter.js';
import { headPosition } from '../../core/eventstore.js';
import { dumpProjections } from '../../core/projections/projector.js';
import { builtinPlaces } from '../../core/seed/places.js';
import { loadSeedRegion } from '../../core/seed/region.js';
import { seedCommunity } from '../../core/seed/seed.js';
import { exportEvents } from '../../core/transfer.js';
import { listSnapshots, verifyChain } from '../../jobs/snapshot-chain.js';
import { buildSnapshot, SnapshotProblem } from '../../jobs/snapshot-format.js';
import { generateSnapshotKey, parseSnapshotKey } from '../../jobs/snapshot-key.js';
import { restoreSnapshots } from '../../jobs/snapshot-restore.js';
import { verifySnapshotTarget } from '../../jobs/snapshot-verify.js';
import { writeSnapshots } from '../../jobs/snapshot.js';
import { freshPostgres, postgresUnavailable, type TestDb } from '../db/helpers.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { engage, HISTORY } from './support.js';

const why = await postgresUnavailable();
if (why) console.warn(`skipped: snapshots on PostgreSQL (${why})`);

const sha256 = (b: Buffer) => execFileSync('sha256sum', { input: b }).toString().split(' ')[0]!;
/** Decompressed by the zstd CLI itself, not through our wrapper. */
const unzstd = (file: string) =>
  execFileSync('zstd', ['-q', '-d', '-c', file], { maxBuffer: 1 << 28 }).toString('utf8');

async function exportAll(db: Db): Promise<string[]> {
  const lines: string[] = [];
  await exportEvents(db, (l) => void lines.push(l));
  return lines;
}

describe.skipIf(Boolean(why))('snapshots on PostgreSQL and the local blob folder', () => {
  const dir = tempDir('weft-snapshots-');
  const blobDir = join(dir, 'blob');
  const blob = new LocalBlobStore(blobDir);
  const pair = generateSnapshotKey();
  const keyFile = join(dir, 'key.pem');
  writeFileSync(keyFile, pair.privatePem, { mode: 0o600 });
  writeFileSync(`${keyFile}.pub`, pair.publicPem);
  const key = parseSnapshotKey(pair.privatePem, 'test key');
  const publicOnly = parseSnapshotKey(pair.publicPem, 'test public key');
  const seededAt = new Date('2025-05-10T12:00:00.000Z');
  const dbs: TestDb[] = [];
  let original: TestDb;

  const fresh = async () => {
    const t = await freshPostgres();
    dbs.push(t);
    return t;
  };
  /** A copy of the store to break (tags beside the objects copied along). */
  const copyStore = (name: string) => {
    const to = join(dir, name);
    cpSync(blobDir, to, { recursive: true });
    return { dir: to, store: new LocalBlobStore(to) };
  };

  beforeAll(async () => {
    original = await fresh();
    const region = loadSeedRegion('monaco');
    await seedCommunity(original.db, {
      region,
      places: await builtinPlaces(region),
      seed: 11,
      now: seededAt,
      roles: 40,
      nodes: 14,
      proposals: 4,
    });
  });
  afterAll(async () => {
    for (const t of dbs) await t.cleanup();
  });

  it('writes one signed snapshot per completed day, holding exactly that day’s events, chained by sha256', async () => {
    const r = await writeSnapshots({ db: original.db, blob, key, now: new Date('2025-05-11T00:00:00.000Z') });
    // the seed's history starts 14 days before its end: 2025-04-26 … 2025-05-10, every day one snapshot
    expect(r.written.map((w) => w.day)).toEqual(
      Array.from({ length: 15 }, (_, i) => new Date(Date.UTC(2025, 3, 26 + i)).toISOString().slice(0, 10)),
    );
    const head = await headPosition(original.db);
    expect(r.written.at(-1)!.last).toBe(head);
    expect(r.written.reduce((n, w) => n + w.events, 0)).toBe(head);

    const exported = await exportAll(original.db);
    let previousSha: string | null = null;
    let previousDay: string | null = null;
    for (const w of r.written) {
      const file = join(blobDir, 'snapshots', `${w.day}.json.zst`);
      const bytes = readFileSync(file);
      expect(sha256(bytes)).toBe(w.sha256);
      const [headerLine, ...rest] = unzstd(file).split('\n');
      const header = JSON.parse(headerLine!);
      expect(header).toMatchObject({
        format: 'weft.snapshot/1',
        date: w.day,
        keyId: key.keyId,
        events: w.events,
      });
      expect(header.previous).toEqual(previousSha ? { date: previousDay, sha256: previousSha } : null);
      // that day's events, in the export format, byte for byte what `weft events export` writes
      const lines = rest.filter((l) => l !== '');
      expect(lines).toHaveLength(w.events);
      expect(lines.map((l) => `${l}\n`)).toEqual(exported.slice(w.after, w.last));
      for (const l of lines)
        expect((JSON.parse(l) as { recordedAt: string }).recordedAt.slice(0, 10)).toBe(w.day);
      previousSha = w.sha256;
      previousDay = w.day;
    }
    // every snapshot's sha256 is in the audit log
    const audited = (await listAudit(original.db, { action: 'snapshot.write', limit: 1000 })).reverse();
    expect(audited.map((a) => [a.subject, a.details.sha256])).toEqual(
      r.written.map((w) => [w.key, w.sha256]),
    );
    expect((await listAudit(original.db, { action: 'job.snapshot' }))[0]!.details).toMatchObject({
      written: 15,
    });

    // the same day is never written twice
    expect(
      (await writeSnapshots({ db: original.db, blob, key, now: new Date('2025-05-11T23:59:59Z') })).written,
    ).toEqual([]);
  });

  it('extends the chain with later days’ activity', async () => {
    const { rows } = await original.db.query<{ node_id: string }>(
      'SELECT node_id FROM proj_nodes WHERE NOT hidden ORDER BY node_id LIMIT 2',
    );
    const [n1, n2] = rows.map((r) => r.node_id);
    await engage(
      original.db,
      [
        ['monaco-r0001', n1!],
        ['monaco-r0002', n2!],
      ],
      new Date('2025-05-11T09:30:00Z'),
      HISTORY,
    );
    await engage(original.db, [['monaco-r0003', n1!]], new Date('2025-05-12T18:00:00Z'), HISTORY);
    const before = (await listSnapshots(blob)).at(-1)!;
    const r = await writeSnapshots({ db: original.db, blob, key, now: new Date('2025-05-13T06:00:00Z') });
    expect(r.written.map((w) => [w.day, w.events])).toEqual([
      ['2025-05-11', 2],
      ['2025-05-12', 1],
    ]);
    expect(r.written[0]!.previous).toEqual({
      date: before.day,
      sha256: sha256(readFileSync(join(blobDir, before.key))),
    });
    expect(r.written.at(-1)!.last).toBe(await headPosition(original.db));
  });

  it('concurrent writers never fork the chain; a stopped run leaves a whole chain that the next run continues', async () => {
    const other = await original.reopen();
    const raced = new LocalBlobStore(join(dir, 'raced'));
    const until = new Date('2025-05-11T00:00:00.000Z');
    const [a, b] = await Promise.all([
      writeSnapshots({ db: original.db, blob: raced, key, now: until }),
      writeSnapshots({ db: other, blob: raced, key, now: until }),
    ]);
    const days = [...a.written, ...b.written].map((w) => w.day).sort();
    expect(days).toHaveLength(15);
    expect(new Set(days).size).toBe(15);
    expect((await verifyChain(raced, key)).problems).toEqual([]);

    const stopping = new LocalBlobStore(join(dir, 'stopped'));
    const controller = new AbortController();
    const first = await writeSnapshots({
      db: original.db,
      blob: stopping,
      key,
      now: until,
      signal: controller.signal,
      log: () => controller.abort(),
    });
    expect(first).toMatchObject({ stopped: true, latest: '2025-04-26' });
    expect(first.written).toHaveLength(1);
    const rest = await writeSnapshots({ db: original.db, blob: stopping, key, now: until });
    expect(rest.written[0]!.previous).toEqual({ date: '2025-04-26', sha256: first.written[0]!.sha256 });
    expect(rest.written).toHaveLength(14);
    const report = await verifyChain(stopping, key);
    expect(report.problems).toEqual([]);
    // the same events and key give the same snapshot bytes, however the runs were cut
    expect(report.verified.map((l) => l.sha256)).toEqual(
      (await verifyChain(raced, key)).verified.map((l) => l.sha256),
    );
  });

  it('verifies the whole chain with the public key alone', async () => {
    const report = await verifyChain(blob, publicOnly);
    expect(report.problems).toEqual([]);
    expect(report.verified).toHaveLength(17);
    expect(report.verified.map((l) => l.day).at(-1)).toBe('2025-05-12');
  });

  it('fails verification naming the file when one byte is tampered with', async () => {
    const { dir: tamperedDir, store } = copyStore('tampered');
    const victim = join(tamperedDir, 'snapshots', '2025-05-03.json.zst');
    const bytes = readFileSync(victim);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    writeFileSync(victim, bytes);
    const report = await verifyChain(store, key);
    expect(report.problems.map((p) => p.snapshot)).toEqual([
      'snapshots/2025-05-03.json.zst',
      'snapshots/2025-05-04.json.zst',
    ]);
    expect(report.problems[0]!.message).toMatch(/^snapshot snapshots\/2025-05-03\.json\.zst: /);
    // the next day's snapshot no longer matches what it names
    expect(report.problems[1]!.message).toContain(
      `but the stored snapshots/2025-05-03.json.zst has sha256 ${sha256(bytes)}`,
    );
    expect(report.verified.at(-1)!.day).toBe('2025-05-02');
    // a single file, checked on its own
    await expect(verifySnapshotTarget(victim, store, key, { say: () => {}, note: () => {} })).rejects.toThrow(
      new RegExp(`^snapshot ${victim.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `),
    );
    // and the CLI: exit 1, the first stderr line names the file
    const cli = await runCli(['snapshot', 'verify', '--all'], {
      env: { WEFT_BLOB_DIR: tamperedDir, WEFT_SNAPSHOT_KEY: keyFile, S3_ENDPOINT: '' },
    });
    expect(cli.code).toBe(1);
    expect(cli.stderr.split('\n')[0]).toMatch(
      /^weft: snapshot snapshots\/2025-05-03\.json\.zst: .*\(also failing: snapshots\/2025-05-04\.json\.zst\)$/,
    );
    expect(cli.stdout).toContain('ok snapshots/2025-05-02.json.zst');
    // a restore from it is refused before anything is written
    const target = await fresh();
    await expect(restoreSnapshots({ db: target.db, blob: store, key })).rejects.toThrow(SnapshotProblem);
    expect(await headPosition(target.db)).toBe(0);
  });

  it('fails verification when a snapshot is altered and re-signed with another key, or its header edited', async () => {
    const { dir: d, store } = copyStore('forged');
    const file = join(d, 'snapshots', '2025-05-05.json.zst');
    const [head, ...rest] = unzstd(file).split('\n');
    const header = JSON.parse(head!);
    const lines = rest.filter((l) => l !== '');
    // an attacker changes an event and signs the snapshot again with a key of their own
    const changed = lines.map((l, i) =>
      i === 0 ? l.replace(/"occurredAt":"[^"]+"/, '"occurredAt":"2025-05-05T00:00:00.000Z"') : l,
    );
    expect(changed[0]).not.toBe(lines[0]);
    const attacker = parseSnapshotKey(generateSnapshotKey().privatePem, 'attacker');
    const forged = buildSnapshot(
      attacker,
      { date: header.date, previous: header.previous, after: header.after, last: header.last },
      changed.map((l) => `${l}\n`).join(''),
    );
    writeFileSync(file, execFileSync('zstd', ['-q', '-c'], { input: forged.bytes }));
    expect((await verifyChain(store, key)).problems[0]!.message).toMatch(
      /^snapshot snapshots\/2025-05-05\.json\.zst: signed by key [0-9a-f]{16}…, not by the configured key [0-9a-f]{16}… \(test key\)$/,
    );
    // … or claims our key id for their signature
    const claimed = JSON.stringify({ ...forged.header, keyId: key.keyId });
    const body = forged.bytes.subarray(forged.bytes.indexOf(0x0a) + 1);
    writeFileSync(
      file,
      execFileSync('zstd', ['-q', '-c'], { input: Buffer.concat([Buffer.from(`${claimed}\n`), body]) }),
    );
    expect((await verifyChain(store, key)).problems[0]!.message).toBe(
      'snapshot snapshots/2025-05-05.json.zst: the header signature does not verify: the header was altered or re-signed',
    );
    // an edited event under the original, validly signed header no longer matches the signed hash
    writeFileSync(file, execFileSync('zstd', ['-q', '-c'], { input: [head, ...changed, ''].join('\n') }));
    expect((await verifyChain(store, key)).problems[0]!.message).toMatch(
      /^snapshot snapshots\/2025-05-05\.json\.zst: the event lines hash to sha256 [0-9a-f]{64}, the signed header says [0-9a-f]{64}: the events were altered$/,
    );
  });

  it('fails verification naming the file after a dropped day', async () => {
    const { dir: droppedDir, store } = copyStore('dropped');
    rmSync(join(droppedDir, 'snapshots', '2025-05-06.json.zst'));
    const report = await verifyChain(store, key);
    expect(report.problems.map((p) => p.message)).toEqual([
      expect.stringMatching(
        /^snapshot snapshots\/2025-05-07\.json\.zst: it names the previous snapshot snapshots\/2025-05-06\.json\.zst \(sha256 [0-9a-f]{64}\), which is missing from the store/,
      ),
    ]);
    const target = await fresh();
    await expect(restoreSnapshots({ db: target.db, blob: store, key })).rejects.toThrow(
      /2025-05-07\.json\.zst/,
    );
  });

  it('restores the untampered chain into an empty database: the same events, the same projection rows', async () => {
    const target = await fresh();
    const r = await restoreSnapshots({ db: target.db, blob, key: publicOnly });
    expect(r).toMatchObject({ snapshots: 17, head: await headPosition(original.db), latest: '2025-05-12' });
    expect(await exportAll(target.db)).toEqual(await exportAll(original.db));
    const want = await dumpProjections(original.db);
    const got = await dumpProjections(target.db);
    for (const table of Object.keys(want) as (keyof typeof want)[]) {
      expect(got[table].length, table).toBe(want[table].length);
      expect(got[table], table).toEqual(want[table]);
    }
    expect(want.threads.length).toBeGreaterThan(20);
    expect((await listAudit(target.db, { action: 'snapshot.restore' }))[0]!.details).toMatchObject({
      snapshots: 17,
    });

    // a database that holds events is refused
    await expect(restoreSnapshots({ db: target.db, blob, key })).rejects.toThrow(
      /^restore needs an empty database, but .* holds \d+ events/,
    );
  });

  it('restores through the CLI, and a partial chain with --until', async () => {
    const target = await fresh();
    const cli = await runCli(['snapshot', 'restore', '--until', '2025-05-10'], {
      env: {
        DATABASE_URL: target.url!,
        WEFT_BLOB_DIR: blobDir,
        WEFT_SNAPSHOT_PUBLIC_KEY: `${keyFile}.pub`,
        WEFT_SNAPSHOT_KEY: '',
        S3_ENDPOINT: '',
      },
    });
    expect(cli.stderr).not.toMatch(/^weft:/m);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/^restored 15 snapshots \(up to 2025-05-10\)/);
    const ten = (await listSnapshots(blob)).find((s) => s.day === '2025-05-10')!;
    const header = JSON.parse(unzstd(join(blobDir, ten.key)).split('\n')[0]!);
    expect(await headPosition(target.db)).toBe(header.last);
  });
});
