// The data commands end to end: weft db migrate, seed, events export/import, projections rebuild, repl.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { freshPostgres, postgresUnavailable, type TestDb } from './helpers.js';

function weft(args: string[], env: Record<string, string | undefined>, input?: string): Promise<CliResult> {
  return runCli(args, { env, input });
}

const unavailable = await postgresUnavailable();
if (unavailable) console.warn(`skipping the CLI tests on PostgreSQL: ${unavailable}`);

describe.skipIf(Boolean(unavailable))('weft data commands on PostgreSQL', () => {
  let a: TestDb;
  let b: TestDb;
  let dir: string;
  beforeAll(async () => {
    a = await freshPostgres({ migrate: false });
    b = await freshPostgres({ migrate: false });
    dir = mkdtempSync(path.join(tmpdir(), 'weft-cli-'));
  });
  afterAll(async () => {
    await a?.cleanup();
    await b?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('migrate, seed, export, import elsewhere, export again: the same events; bad input fails in one line', async () => {
    const envA = { DATABASE_URL: a.url };
    const envB = { DATABASE_URL: b.url };
    const m1 = await weft(['db', 'migrate'], envA);
    expect(m1.stdout).toMatch(
      /^applied 001_postgis, 002_event_store, 003_projections, 004_serving to postgres:/,
    );
    const m2 = await weft(['db', 'migrate'], envA);
    expect(m2.stdout).toMatch(/is up to date \(4 migrations\)/);

    const args = [
      'seed',
      '--region',
      'monaco',
      '--seed',
      '2',
      '--now',
      '2025-06-01T00:00:00Z',
      '--roles',
      '40',
      '--nodes',
      '15',
      '--proposals',
      '3',
    ];
    const seeded = await weft(args, { ...envA, WEFT_HOME_SALT: 'cli-test' });
    expect(seeded.stderr).toBe('');
    expect(seeded.code).toBe(0);
    const events = Number(/seeded monaco: (\d+) events/.exec(seeded.stdout)?.[1]);
    expect(events).toBeGreaterThan(100);

    const again = await weft(args, envA);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^weft: --region: monaco is already seeded in .*\n$/);
    const unknown = await weft(['seed', '--region', 'atlantis'], envA);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.split('\n')[0]).toMatch(/^weft: --region: unknown region "atlantis"/);

    const file = path.join(dir, 'events.ndjson');
    const exported = await weft(['events', 'export', '-o', file], envA);
    expect(exported.code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text.trimEnd().split('\n')).toHaveLength(events);
    const tail = await weft(['events', 'export', '--since', String(events - 2)], envA);
    expect(tail.stdout).toBe(text.trimEnd().split('\n').slice(-2).join('\n') + '\n');

    const lines = text.trimEnd().split('\n');
    const bad = path.join(dir, 'bad.ndjson');
    writeFileSync(bad, [lines[0], lines[1], '{"position":3,', ...lines.slice(2)].join('\n'));
    const refused = await weft(['events', 'import', bad], envB);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      new RegExp(`^weft: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: not valid JSON`),
    );
    expect(refused.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect((await weft(['events', 'export'], envB)).stdout).toBe('');

    const imported = await weft(['events', 'import', file], envB);
    expect(imported.stdout).toBe(`imported ${events} events at positions 1–${events}, 0 already present\n`);
    expect((await weft(['events', 'export'], envB)).stdout).toBe(text);

    const rebuilt = await weft(['projections', 'rebuild'], envB);
    expect(rebuilt.stdout).toMatch(new RegExp(`^rebuilt projections from ${events} events in`));
  });

  it('the repl runs commands and queries, and reports errors without stopping', async () => {
    const env = { DATABASE_URL: a.url };
    const input = [
      'head',
      'EngageThread {"roleId":"monaco-r0001","nodeId":"monaco-n0001"}',
      'CastVote {"proposalId":"missing","roleId":"monaco-r0001","choice":"yes"}',
      'sql SELECT count(*)::int AS n FROM proj_nodes',
      'activity 7.40,43.72,7.45,43.76',
      'teleport',
      'quit',
    ].join('\n');
    const r = await weft(['repl'], env, input + '\n');
    expect(r.code).toBe(0);
    const out = r.stdout.split('\n');
    expect(out[0]).toMatch(/^head \d+, projections at \d+$/);
    expect(r.stdout).toMatch(/ok: Thread(Spun|Renewed)@\d+/);
    expect(r.stdout).toContain('error: proposal missing does not exist');
    expect(r.stdout).toContain('{"n":15}');
    expect(r.stdout).toMatch(/\d+ nodes, \d+ live threads at /);
    expect(r.stdout).toContain('error: unknown command "teleport"');
  });
});

describe('weft db migrate on embedded PGlite (no DATABASE_URL)', () => {
  it('creates the database in WEFT_DATA_DIR and migrates it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'weft-cli-pglite-'));
    try {
      const env = { DATABASE_URL: undefined, WEFT_DATA_DIR: path.join(dir, 'pglite') };
      const first = await weft(['db', 'migrate'], env);
      expect(first.stderr).toBe('');
      expect(first.stdout).toBe(
        `applied 001_postgis, 002_event_store, 003_projections, 004_serving to ${path.join(dir, 'pglite')}\n`,
      );
      expect(existsSync(path.join(dir, 'pglite', 'PG_VERSION'))).toBe(true);
      // (a second run reporting "up to date" is shown on PostgreSQL above; each PGlite start takes seconds)
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
