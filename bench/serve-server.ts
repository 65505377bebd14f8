// `make bench-serve`'s own server: `weft serve` as startServer builds it (every default module, the memory bus, no
// Redis, log level warn), over a given PostgreSQL database and local blob folder, in a process of its own so the
// load generator and the other servers never share its event loop or its memory figures.
//   node --import tsx bench/serve-server.ts DATABASE_URL BLOB_DIR
// Prints one JSON line `{"url":…,"pid":…}` on stdout once listening; closes cleanly on SIGTERM or SIGINT (so that
// `--cpu-prof` writes its profile).
import { LocalBlobStore } from '../core/blob/local.js';
import { MemoryBus } from '../core/bus/memory.js';
import { openDb } from '../core/db/open.js';
import { startServer } from '../serve/server.js';

const [url, blobDir] = process.argv.slice(2);
if (!url || !blobDir) {
  console.error('usage: node --import tsx bench/serve-server.ts DATABASE_URL BLOB_DIR');
  process.exit(2);
}

const db = await openDb({ url, migrate: false });
const blob = new LocalBlobStore(blobDir);
const bus = new MemoryBus();
const running = await startServer({
  env: {},
  config: { host: '127.0.0.1', port: 0, logLevel: 'warn' },
  db,
  blob,
  bus,
  redis: null,
});
console.log(JSON.stringify({ url: running.url, pid: process.pid }));

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await running.close().catch(() => {});
  await bus.close().catch(() => {});
  await blob.close().catch(() => {});
  await db.close().catch(() => {});
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
