// The jobs from the command line, on a real PostgreSQL and a local blob folder: `weft jobs run` with a controllable
// clock, `weft jobs start` with short intervals stopped by SIGTERM, `weft audit`, and the errors users see.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPostgres, postgresUnavailable, type TestDb } from '../db/helpers.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { countEvents, createNodes, engage, registerRoles } from './support.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const why = await postgresUnavailable();
if (why) console.warn(`skipped: the jobs CLI (${why})`);

describe.skipIf(Boolean(why))('the jobs CLI', () => {
  const dir = tempDir('weft-jobs-cli-');
  const keyFile = join(dir, 'snapshots.pem');
  let tdb: TestDb;
  let env: Record<string, string>;
  // ten days ago, so that `jobs start` on the wall clock has only a day or two of snapshots left to write
  const DAY = 86_400_000;
  const d0 = new Date(Math.floor(Date.now() / DAY) * DAY - 10 * DAY);
  const t0 = new Date(d0.getTime() + 12 * 3_600_000);
  const iso = (days: number, from = t0) => new Date(from.getTime() + days * DAY).toISOString();
  const dayName = (days: number) => iso(days, d0).slice(0, 10);

  beforeAll(async () => {
    tdb = await freshPostgres();
    env = {
      DATABASE_URL: tdb.url!,
      WEFT_BLOB_DIR: join(dir, 'blob'),
      S3_ENDPOINT: '',
      WEFT_SNAPSHOT_KEY: '',
    };
    await registerRoles(tdb.db, ['ana'], t0);
    await createNodes(tdb.db, ['well'], 'ana', t0);
    await engage(tdb.db, [['ana', 'well']], t0);
  });
  afterAll(async () => {
    await tdb?.cleanup();
  });

  it('jobs run fade --now: fades once, and a second run finds nothing', async () => {
    const early = await runCli(['jobs', 'run', 'fade', '--now', iso(6.9)], { env });
    expect(early.stdout).toBe(`job fade: 0 threads faded, 0 nodes hidden at T=${iso(6.9)}\n`);
    const first = await runCli(['jobs', 'run', 'fade', '--now', iso(7)], { env });
    expect(first.stderr).toBe('');
    expect(first.stdout).toBe(`job fade: 1 threads faded, 1 nodes hidden at T=${iso(7)}\n`);
    const again = await runCli(['jobs', 'run', 'fade', '--now', iso(8), '--json'], { env });
    expect(JSON.parse(again.stdout)).toMatchObject({
      job: 'fade',
      details: { fadedThreads: 0, hiddenNodes: 0 },
    });
    expect(await countEvents(tdb.db, 'ThreadFaded')).toBe(1);
  });

  it('snapshot keygen, then jobs run snapshot writes the days; without a key it says how to make one', async () => {
    const none = await runCli(['jobs', 'run', 'snapshot'], { env });
    expect(none.code).toBe(1);
    expect(none.stderr.split('\n')[0]).toBe(
      'weft: no snapshot key configured: set WEFT_SNAPSHOT_KEY to an ed25519 private key (PEM text or a file); ' +
        'create one with: weft snapshot keygen --out FILE',
    );
    const gen = await runCli(['snapshot', 'keygen', '--out', keyFile], { env });
    expect(gen.code).toBe(0);
    expect(existsSync(`${keyFile}.pub`)).toBe(true);
    const run = await runCli(['jobs', 'run', 'snapshot', '--now', iso(9, d0)], {
      env: { ...env, WEFT_SNAPSHOT_KEY: keyFile },
    });
    expect(run.code).toBe(0);
    // every completed day from the first event's on; the fade events were recorded today (wall clock)
    expect(run.stdout).toBe(`job snapshot: wrote 9 snapshots (${dayName(0)}…${dayName(8)}, 3 events)\n`);
    expect(run.stderr.trim().split('\n')).toHaveLength(9);
    const verify = await runCli(['snapshot', 'verify', dayName(0)], {
      env: { ...env, WEFT_SNAPSHOT_PUBLIC_KEY: `${keyFile}.pub` },
    });
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(
      new RegExp(`^ok ${dayName(0)}: ${dayName(0)}, 3 events \\(positions 1…3\\), sha256 [0-9a-f]{64}`),
    );
  });

  it('jobs start runs the jobs on short intervals, a log line per run, and stops cleanly on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        `${ROOT}cli/run.ts`,
        'jobs',
        'start',
        '--fade-every',
        '300ms',
        '--snapshot-every',
        '1s',
        '--housekeeping-every',
        '1s',
      ],
      {
        cwd: ROOT,
        env: { ...process.env, ...env, WEFT_SNAPSHOT_KEY: keyFile },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while ((stdout.match(/ job fade: /g) ?? []).length < 4 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    const lines = stdout.trim().split('\n');
    expect(lines.slice(0, 3)).toEqual([
      expect.stringMatching(/Z job fade: every 300ms$/),
      expect.stringMatching(/Z job snapshot: every 1s$/),
      expect.stringMatching(/Z job housekeeping: every 1s$/),
    ]);
    expect(
      lines.filter((l) => /Z job fade: 0 threads faded, 0 nodes hidden at T=\S+ \(\d+ ms\)$/.test(l)).length,
    ).toBeGreaterThanOrEqual(3);
    expect(lines.some((l) => /Z job snapshot: (wrote \d+ snapshots|nothing to write)/.test(l))).toBe(true);
    expect(lines.some((l) => /Z job housekeeping: 0 regions: removed 0 releases/.test(l))).toBe(true);
    expect(lines.at(-2)).toMatch(/Z SIGTERM: stopping after the running jobs finish$/);
    expect(lines.at(-1)).toMatch(/Z stopped$/);
  });

  it('weft audit lists the runs, as a table and as JSON, since a time', async () => {
    const json = await runCli(['audit', '--json', '--action', 'job.fade'], { env });
    expect(json.code).toBe(0);
    const rows = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.length).toBeGreaterThanOrEqual(5);
    expect(rows.slice(0, 2)).toEqual([
      expect.objectContaining({ actor: 'system:fade', action: 'job.fade', subject: iso(6.9) }),
      expect.objectContaining({
        subject: iso(7),
        details: expect.objectContaining({ fadedThreads: 1, hiddenNodes: 1 }),
      }),
    ]);
    expect(rows.map((r) => r.id)).toEqual([...rows.map((r) => r.id)].sort((a, b) => a - b));

    const table = await runCli(['audit', '--since', '1h'], { env });
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^AT\s+ACTOR\s+ACTION\s+SUBJECT\s+DETAILS$/);
    expect(table.stdout).toMatch(
      new RegExp(`snapshot\\.write\\s+snapshots/${dayName(0)}\\.json\\.zst\\s+\\{`),
    );
    expect(table.stdout).toMatch(/job\.housekeeping/);
    const future = await runCli(['audit', '--since', '2999-01-01T00:00:00Z'], { env });
    expect(future.stdout).toBe('no audit entries\n');
    const bad = await runCli(['audit', '--since', 'yesterday'], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr.split('\n')[0]).toBe(
      'weft: --since: must be an ISO 8601 time or a duration like 24h, got "yesterday"',
    );
  });

  it('jobs run with an unknown name or a bad --now fails in one line', async () => {
    const unknown = await runCli(['jobs', 'run', 'compact'], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.split('\n')[0]).toBe(
      'weft: unknown job "compact": choose one of fade, snapshot, housekeeping',
    );
    const badNow = await runCli(['jobs', 'run', 'fade', '--now', 'soon'], { env });
    expect(badNow.code).not.toBe(0);
    expect(badNow.stderr).toContain('must be an ISO 8601 time, got "soon"');
  });
});
