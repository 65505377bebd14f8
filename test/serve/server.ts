// Test helper: a real `weft serve` on a free loopback port with a fresh PostgreSQL database (or PGlite), a local
// blob folder and the in-process bus unless given, logs captured in memory; stop() closes everything.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { BlobStore } from '../../core/blob/adapter.js';
import { LocalBlobStore } from '../../core/blob/local.js';
import type { Bus } from '../../core/bus/adapter.js';
import { MemoryBus } from '../../core/bus/memory.js';
import type { Db } from '../../core/db/adapter.js';
import type { ServeConfig } from '../../serve/config.js';
import type { ModuleFactory } from '../../serve/context.js';
import { startServer, type RunningServer } from '../../serve/server.js';
import { freshPglite, freshPostgres, type TestDb } from '../db/helpers.js';

export interface TestServerOptions {
  /** default 'postgres' (a fresh database on the local server) */
  db?: 'postgres' | 'pglite' | Db;
  blob?: BlobStore;
  bus?: Bus;
  config?: Partial<ServeConfig>;
  env?: Record<string, string | undefined>;
  modules?: ModuleFactory[];
}

export interface TestServer extends RunningServer {
  db: Db;
  blob: BlobStore;
  bus: Bus;
  /** the blob folder when the helper made it */
  blobDir?: string;
  testDb?: TestDb;
  /** every JSON log line the server wrote */
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const cleanups: (() => Promise<unknown> | void)[] = [];
  let testDb: TestDb | undefined;
  let db: Db;
  if (options.db === undefined || options.db === 'postgres' || options.db === 'pglite') {
    testDb = options.db === 'pglite' ? await freshPglite() : await freshPostgres();
    db = testDb.db;
    cleanups.push(() => testDb!.cleanup());
  } else db = options.db;
  let blobDir: string | undefined;
  let blob = options.blob;
  if (!blob) {
    blobDir = mkdtempSync(path.join(tmpdir(), 'weft-serve-blob-'));
    blob = new LocalBlobStore(blobDir);
    cleanups.push(() => rmSync(blobDir!, { recursive: true, force: true }));
  }
  const bus = options.bus ?? new MemoryBus();
  if (!options.bus) cleanups.push(() => bus.close());
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const logger = pino({ level: 'debug', formatters: { level: (label) => ({ level: label }) } }, sink);
  const env = options.env ?? {};
  const running = await startServer({
    env,
    config: { host: '127.0.0.1', port: 0, ...options.config },
    db,
    blob,
    bus,
    redis: env.REDIS_URL ? undefined : null,
    logger,
    modules: options.modules,
  });
  return {
    ...running,
    db,
    blob,
    bus,
    blobDir,
    testDb,
    logs,
    async stop() {
      await running.close();
      for (const c of cleanups.reverse()) await c();
    },
  };
}
