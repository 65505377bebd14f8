// `weft promote` and `weft rollback` as an operator runs them, with a server running on the same blob store and
// Redis: the CLI announces the new prod release on the bus and the server switches at once (its periodic re-check
// is set far beyond the test); without a bus configured, the CLI says that servers switch at their next re-check.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../../core/blob/local.js';
import { RedisBus } from '../../core/bus/redis.js';
import { readManifest } from '../../pipeline/releases/catalog.js';
import { manifestKey } from '../../pipeline/releases/manifest.js';
import { createTilesModule } from '../../serve/tiles/module.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { makeArchives, rawRequest, waitFor, type FixtureArchives } from './fixtures.js';
import { startTestServer, type TestServer } from './server.js';

const dir = tempDir('weft-serve-announce-');
const REDIS_URL = process.env.WEFT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('promotion announced by the CLI over Redis', () => {
  let srv: TestServer;
  let bus: RedisBus;
  let env: Record<string, string>;
  let one: FixtureArchives;
  let two: FixtureArchives;

  beforeAll(async () => {
    bus = new RedisBus(REDIS_URL, { log: () => {} });
    await bus.ready(5000);
    const blobDir = path.join(dir, 'blob');
    srv = await startTestServer({
      blob: new LocalBlobStore(blobDir),
      bus,
      modules: [createTilesModule],
      config: { releaseRecheckMs: 600_000 },
    });
    env = {
      WEFT_BLOB_DIR: blobDir,
      DATABASE_URL: srv.testDb!.url!,
      S3_ENDPOINT: '',
      REDIS_URL,
      NATS_URL: '',
    };
    one = await makeArchives(dir, 'one', 40);
    two = await makeArchives(dir, 'two', 40);
  });
  afterAll(async () => {
    await srv?.stop();
    await bus?.close();
  });

  const publish = async (a: FixtureArchives, at: string): Promise<string> => {
    const r = await runCli(
      ['publish', '--region', 'monaco', '--base', a.base, '--activity', a.activity, '--at', at, '-q'],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    return /published release (\S+)/.exec(r.stdout)![1]!;
  };
  const etag = async () =>
    (await rawRequest(`${srv.url}/tiles/monaco/base.pmtiles`, { method: 'HEAD' })).headers.etag;

  it('weft promote, then weft rollback: the running server follows each within a second', async () => {
    const first = await publish(one, '2025-06-01T10:00:00Z');
    const second = await publish(two, '2025-06-02T10:00:00Z');
    const shaOf = async (release: string) =>
      `"${(await readManifest(srv.blob, manifestKey('monaco', release))).files.find((f) => f.layer === 'base')!.sha256}"`;

    for (const [args, release] of [
      [['promote', '--region', 'monaco', '--release', first], first],
      [['promote', '--region', 'monaco', '--release', second], second],
      [['rollback', '--region', 'monaco'], first],
    ] as const) {
      const r = await runCli([...args], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toContain('note:');
      const want = await shaOf(release);
      const t0 = Date.now();
      await waitFor(async () => (await etag()) === want, 1000);
      expect(Date.now() - t0).toBeLessThan(1000);
    }
  });

  it('without a bus configured, the CLI says servers switch at their next re-check', async () => {
    const third = await publish(one, '2025-06-03T10:00:00Z');
    const r = await runCli(['promote', '--region', 'monaco', '--release', third], {
      env: { ...env, REDIS_URL: '', NATS_URL: '' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('note: no REDIS_URL or NATS_URL');
    expect(r.stderr).toContain('next re-check');
  });
});
