// `weft serve --workers N` as an operator runs it: N server processes share the port (each answers requests),
// SIGTERM stops them all; without PostgreSQL and a bus between processes it refuses with a clear error.
import { spawn } from 'node:child_process';
import { get } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { freshPostgres, type TestDb } from '../db/helpers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** GET on a fresh connection (no keep-alive), so the kernel may hand it to any worker. */
function healthz(port: number): Promise<{ pid: number }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(JSON.parse(body) as { pid: number }));
    }).on('error', reject);
  });
}

describe('weft serve --workers', () => {
  let pg: TestDb;
  beforeAll(async () => {
    pg = await freshPostgres();
  });
  afterAll(() => pg?.cleanup());

  it('refuses several workers on the embedded database or the in-process bus', async () => {
    const noDb = await runCli(['serve', '--workers', '2', '--port', '0'], {
      env: { DATABASE_URL: '', REDIS_URL: REDIS_URL },
    });
    expect(noDb.code).not.toBe(0);
    expect(noDb.stderr).toMatch(/^weft: --workers 2 needs DATABASE_URL/);
    const noBus = await runCli(['serve', '--workers', '2', '--port', '0'], {
      env: { DATABASE_URL: pg.url!, REDIS_URL: '', NATS_URL: '' },
    });
    expect(noBus.code).not.toBe(0);
    expect(noBus.stderr).toMatch(/needs REDIS_URL or NATS_URL/);
    const bad = await runCli(['serve', '--workers', 'many'], {});
    expect(bad.stderr).toMatch(/--workers must be 1–64/);
  });

  it('runs two processes on one port and stops them all on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', `${ROOT}cli/run.ts`, 'serve', '--workers', '2', '--port', String(port)],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          DATABASE_URL: pg.url!,
          REDIS_URL,
          WEFT_BLOB_DIR: tempDir('weft-cluster-blob-'),
          WEFT_LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await expect
        .poll(() => stderr, { timeout: 60_000, interval: 200 })
        .toMatch(/listening on http:\/\/127\.0\.0\.1:\d+ with 2 worker processes/);
      const pids = new Set<number>();
      for (let i = 0; i < 60 && pids.size < 2; i++) pids.add((await healthz(port)).pid);
      expect(pids.size).toBe(2);
      expect(pids.has(child.pid!)).toBe(false);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stderr).toContain('weft serve: stopped');
  });
});
