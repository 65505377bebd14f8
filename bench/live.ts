// `make bench-live`: live fan-out. A server process (PostgreSQL, the Redis bus, the write API and the live module)
// takes writes at a steady rate through the HTTP write API (POST /api/nodes with a session token, from the driver
// process: commit — grouped with concurrent writes by the API's CommandBatcher — then a nudge of the outbox
// publisher); WebSocket clients in other processes (so they do not share the server's event loop) measure
// write→client latency over every delivery and check that each client got every delta exactly once. The server
// times its write transactions (connection, head-lock wait, lock held). Then it holds many idle connections and
// reports its RSS. Prints a table.
//   SERVERS server processes (1): more than one run side by side on their own ports, on the same database and
//                   Redis bus (as `weft serve --workers N` would); clients and writes go to them round-robin
//   CLIENTS (1000)  RATE writes/s (100)  SECONDS (30)  IDLE idle connections (5000)  PROCS client processes (2)
//   WARMUP (3)      seconds of writes at RATE before the timed SECONDS: checked for loss and duplicates like the
//                   others, not timed (a server that has just started compiles its hot paths and opens connections)
//   DIRECT          0: the hub's direct socket writes switched off (serve/live/direct.ts); 1: required
//   DATABASE_URL    use this database (default: a fresh weft_bench_<random>, dropped after)
//   REDIS_URL       the bus (default redis://127.0.0.1:6379)
//   NICE            the client processes' niceness (0: they share the cores with the server at equal priority)
//   WS_CLIENT       the clients: native (bench/ws-clients.c, one C program per client process, built by
//                   scripts/setup.sh; the default when built), raw (bench/ws-client.ts, Node; the default otherwise)
//                   or ws (Node, the ws package)
//   PROFILE_DIR     write a CPU profile of the server process(es) there
//   GAP_FACTOR, MAX_GAP_MS, SLICE  the hub's passGapFactor, maxPassGapMs and fanOutSlice (default: the server's)
import { fork, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg, setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { BenchSocket } from './ws-client.js';
import { deliveries, NativeClients, nativeClientsBuilt } from './native-clients.js';
import type { Db, Queryable } from '../core/db/adapter.js';

const SELF = fileURLToPath(import.meta.url);
const log = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** CLOCK_MONOTONIC in microseconds: the same clock in every process of the machine. */
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
/** The clients: 'native' (bench/ws-clients.c, when built), 'raw' (bench/ws-client.ts) or 'ws' (the ws package). */
const WS_CLIENT = process.env.WS_CLIENT ?? (nativeClientsBuilt() ? 'native' : 'raw');
if (!['native', 'raw', 'ws'].includes(WS_CLIENT))
  throw new Error(`WS_CLIENT must be native, raw or ws, not ${WS_CLIENT}`);
/** The clients as the table names them. */
const CLIENT_KIND =
  WS_CLIENT === 'native'
    ? 'native clients (bench/ws-clients.c)'
    : WS_CLIENT === 'raw'
      ? 'Node clients (bench/ws-client.ts)'
      : 'Node clients (the ws package)';

// ---- messages between the processes ---------------------------------------------------------------------------

type ToServer = { cmd: 'measure' } | { cmd: 'measured' } | { cmd: 'rss' } | { cmd: 'stop' };
type FromServer =
  | { kind: 'ready'; url: string; region: string; token: string }
  | { kind: 'measuring' }
  | {
      kind: 'measured';
      loopDelayMs: { p50: number; p99: number; max: number };
      tx: TxSamples;
      /** CPU of this database's PostgreSQL backends over the measurement, ms (Linux /proc; NaN elsewhere) */
      pgCpuMs: number;
      /** the hub's direct socket writes over the measurement: sockets written whole, in part, not (null: off) */
      direct: { whole: number; partial: number; refused: number } | null;
    }
  | { kind: 'rss'; rss: number; heapUsed: number; connections: number; cpuMs: number };
type ToClients =
  /** client k of this process connects to urls[(first + k) % urls.length] */
  | { cmd: 'open'; urls: string[]; first: number; region: string; count: number }
  | { cmd: 'count' }
  /** every write's position (warm-up included); `timed`: those whose deliveries are timed */
  | { cmd: 'expect'; positions: number[]; startedUs: number[]; committedUs: number[]; timed: number[] }
  | { cmd: 'close' };
type FromClients =
  | { kind: 'opened'; count: number; cpuMs: number }
  | { kind: 'count'; deliveries: number }
  | {
      kind: 'report';
      latenciesUs: Float64Array;
      afterCommitUs: Float64Array;
      deliveries: number;
      lost: number;
      duplicated: number;
      cpuMs: number;
    }
  | { kind: 'closed' };

function send(p: ChildProcess | NodeJS.Process, m: unknown): void {
  p.send!(m as never);
}

function next<T extends { kind: string }>(child: ChildProcess, kind: T['kind']): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: T) => {
      if (m.kind !== kind) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code: number | null) =>
      reject(new Error(`a bench process exited (${code}) before '${kind}'`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

// ---- write transactions, timed -----------------------------------------------------------------------------

interface TxSummary {
  /** write transactions (those that took the event store's head lock) */
  count: number;
  /** statements sent while holding the head lock, per transaction (mean; COMMIT included) */
  statements: number;
  /** ms: waiting for a pooled connection and BEGIN / for the head lock (the locking statement) / holding it */
  connect: { p50: number; p99: number };
  lockWait: { p50: number; p99: number };
  held: { p50: number; p99: number };
  /** round trips per write transaction, BEGIN (alone or with the first statement) and COMMIT included (mean) */
  roundTrips: number;
  /** the outbox publisher's transactions (those that took its advisory lock) and their round trips (mean) */
  publishes: number;
  publishRoundTrips: number;
  /** the publisher's claim statement, ms: its round trip and any wait for another server's publisher */
  publishClaim: { p50: number; p99: number };
  /** statements sent outside any transaction (authentication, rate limits, reads), all told */
  direct: number;
}

/** What one server measured: the raw timings (merged over the servers by summarize). */
interface TxSamples {
  connect: number[];
  lockWait: number[];
  held: number[];
  statements: number;
  roundTrips: number;
  publishes: number;
  publishRoundTrips: number;
  publishClaim: number[];
  direct: number;
}

/** One summary over every server's samples. */
function summarize(all: TxSamples[]): TxSummary {
  const q = (pick: (t: TxSamples) => number[]) => {
    const s = Float64Array.from(all.flatMap(pick)).sort();
    return { p50: quantile(s, 0.5), p99: quantile(s, 0.99) };
  };
  const sum = (pick: (t: TxSamples) => number) => all.reduce((a, t) => a + pick(t), 0);
  const count = sum((t) => t.held.length);
  const publishes = sum((t) => t.publishes);
  return {
    count,
    statements: count ? sum((t) => t.statements) / count : 0,
    connect: q((t) => t.connect),
    lockWait: q((t) => t.lockWait),
    held: q((t) => t.held),
    roundTrips: count ? sum((t) => t.roundTrips) / count : 0,
    publishes,
    publishRoundTrips: publishes ? sum((t) => t.publishRoundTrips) / publishes : 0,
    publishClaim: q((t) => t.publishClaim),
    direct: sum((t) => t.direct),
  };
}

/**
 * Wraps the server's Db to time every write transaction: the wait for a connection (and BEGIN), the wait for the
 * event store's head lock (the duration of the locking SELECT … FOR UPDATE, one round trip included, with the reads
 * that ride in its message), and how long the lock is held (from then to the end of COMMIT), with the statements
 * sent meanwhile (those in the lock's message included).
 */
class WriteTxTimer {
  private connect: number[] = [];
  private lockWait: number[] = [];
  private held: number[] = [];
  private statements = 0;
  private roundTrips = 0;
  private publishes = 0;
  private publishRoundTrips = 0;
  private publishClaim: number[] = [];
  private direct = 0;

  reset(): void {
    this.connect = [];
    this.lockWait = [];
    this.held = [];
    this.statements = 0;
    this.roundTrips = 0;
    this.publishes = 0;
    this.publishRoundTrips = 0;
    this.publishClaim = [];
    this.direct = 0;
  }

  samples(): TxSamples {
    return {
      connect: this.connect,
      lockWait: this.lockWait,
      held: this.held,
      statements: this.statements,
      roundTrips: this.roundTrips,
      publishes: this.publishes,
      publishRoundTrips: this.publishRoundTrips,
      publishClaim: this.publishClaim,
      direct: this.direct,
    };
  }

  wrap(db: Db): Db {
    const self = this;
    return {
      ...db,
      kind: db.kind,
      location: db.location,
      query(sql, params) {
        self.direct += 1;
        return db.query(sql, params);
      },
      exec: db.exec.bind(db),
      close: db.close.bind(db),
      async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
        const t0 = performance.now();
        let begun = 0;
        let locked = 0;
        let statements = 0;
        let all = 0;
        let publisher = false;
        /** COMMIT went in a batch's message (no round trip of its own) */
        let committed = false;
        const out = await db.transaction((tx) => {
          begun = performance.now();
          const batch: Queryable['batch'] = tx.batch
            ? async (list, options) => {
                // BEGIN rides in the first message, COMMIT with `commit`: one round trip per batch
                all += 1;
                if (options?.commit) committed = true;
                const locking =
                  !locked && list.some((st) => st.sql.includes('FROM event_log_head WHERE id FOR UPDATE'));
                if (!locking) {
                  if (locked) statements += list.length;
                  return tx.batch!(list, options);
                }
                const s = performance.now();
                const r = await tx.batch!(list, options);
                locked = performance.now();
                self.lockWait.push(locked - s);
                // the statements after the lock in the same message ran under it
                statements += list.length - 1;
                return r;
              }
            : undefined;
          return fn({
            batch,
            exec: (sql) => tx.exec(sql),
            async query(sql, params) {
              // the PostgreSQL adapter sends BEGIN with a first statement without parameters, else alone
              if (all === 0 && params?.length) all += 1;
              all += 1;
              if (sql.includes('pg_advisory_xact_lock')) {
                publisher = true;
                const s = performance.now();
                const r = await tx.query(sql, params);
                self.publishClaim.push(performance.now() - s);
                return r as never;
              }
              if (locked) statements += 1;
              if (!locked && sql.includes('FROM event_log_head WHERE id FOR UPDATE')) {
                const s = performance.now();
                const r = await tx.query(sql, params);
                locked = performance.now();
                self.lockWait.push(locked - s);
                return r as never;
              }
              return tx.query(sql, params) as never;
            },
          });
        });
        if (locked) {
          self.connect.push(begun - t0);
          self.held.push(performance.now() - locked);
          self.statements += statements + 1;
          self.roundTrips += all + (committed ? 0 : 1);
        } else if (publisher) {
          self.publishes += 1;
          self.publishRoundTrips += all + 1;
        }
        return out;
      },
    };
  }
}

/** CPU time (user + system, ms) of this database's backends so far, from /proc (same host); NaN when unreadable. */
async function backendCpuMs(db: Db): Promise<number> {
  const { rows } = await db.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database()',
  );
  let ticks = 0;
  try {
    for (const { pid } of rows) {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      // fields after the command name (which is in parentheses): utime is the 14th field, stime the 15th
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (f.length > 13) ticks += Number(f[11]) + Number(f[12]);
    }
  } catch {
    return NaN;
  }
  return (ticks * 1000) / 100; // USER_HZ
}

// ---- the server process ---------------------------------------------------------------------------------------

/** The hub's pass options from GAP_FACTOR, MAX_GAP_MS and SLICE (unset: the server's defaults). */
function hubOptions(): { passGapFactor?: number; maxPassGapMs?: number; fanOutSlice?: number } {
  const options: { passGapFactor?: number; maxPassGapMs?: number; fanOutSlice?: number } = {};
  if (process.env.GAP_FACTOR) options.passGapFactor = Number(process.env.GAP_FACTOR);
  if (process.env.MAX_GAP_MS) options.maxPassGapMs = Number(process.env.MAX_GAP_MS);
  if (process.env.SLICE) options.fanOutSlice = Number(process.env.SLICE);
  return options;
}

async function serverMain(): Promise<void> {
  const { openDb } = await import('../core/db/open.js');
  const { RedisBus } = await import('../core/bus/redis.js');
  const { startServer } = await import('../serve/server.js');
  const { createLogger } = await import('../serve/logger.js');
  const { createApiModule } = await import('../serve/api/module.js');
  const { mintToken } = await import('../serve/api/operator.js');
  const { createLiveModule } = await import('../serve/live/module.js');
  const { directSends, directStats, setDirectSendsOff } = await import('../serve/live/direct.js');
  if (process.env.DIRECT === '0') setDirectSendsOff(true);
  if (process.env.DIRECT === '1' && !directSends())
    throw new Error('DIRECT=1: build/native/fanout.node is not built (make setup builds it)');
  const timer = new WriteTxTimer();
  const db = timer.wrap(await openDb({ url: process.env.DATABASE_URL, migrate: true }));
  const bus = new RedisBus(process.env.REDIS_URL!, { log: () => {} });
  await bus.ready();
  const server = await startServer({
    env: {},
    // one address sends every write: no rate limit in the way
    config: {
      host: '127.0.0.1',
      port: 0,
      logLevel: 'warn',
      rateLimit: { perIp: 1_000_000, perNetwork: 1_000_000, windowMs: 60_000 },
    },
    db,
    bus,
    redis: null,
    logger: createLogger({ logLevel: 'warn' }),
    modules: [(ctx) => createApiModule(ctx), (ctx) => createLiveModule(ctx, { hub: hubOptions() })],
  });
  // the first server makes the region and the token; the others (same database) need not
  let region = '';
  let token = '';
  if (process.argv[3] === 'mint') {
    region = `bench${randomBytes(3).toString('hex')}`;
    ({ token } = await mintToken(
      db,
      { regionId: region, name: 'Bench', area: [7.42, 43.735] },
      'operator:bench',
    ));
  }
  send(process, { kind: 'ready', url: server.url, region, token } satisfies FromServer);

  let loop: ReturnType<typeof monitorEventLoopDelay> | undefined;
  let pgCpu0 = 0;
  let direct0 = { ...directStats };
  process.on('message', async (m: ToServer) => {
    if (m.cmd === 'stop') {
      await server.close();
      await bus.close();
      await db.close();
      process.exit(0);
    }
    if (m.cmd === 'rss') {
      (globalThis as { gc?: () => void }).gc?.();
      await sleep(200);
      const mem = process.memoryUsage();
      const connections = server.ctx.metrics.wsConnections;
      const value = (await connections.get()).values[0]?.value ?? 0;
      send(process, {
        kind: 'rss',
        rss: mem.rss,
        heapUsed: mem.heapUsed,
        connections: value,
        cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
      } satisfies FromServer);
    }
    if (m.cmd === 'measure') {
      loop = monitorEventLoopDelay({ resolution: 1 });
      loop.enable();
      timer.reset();
      pgCpu0 = await backendCpuMs(db);
      direct0 = { ...directStats };
      send(process, { kind: 'measuring' } satisfies FromServer);
    }
    if (m.cmd === 'measured') {
      loop!.disable();
      send(process, {
        kind: 'measured',
        loopDelayMs: {
          p50: loop!.percentile(50) / 1e6,
          p99: loop!.percentile(99) / 1e6,
          max: loop!.max / 1e6,
        },
        tx: timer.samples(),
        pgCpuMs: (await backendCpuMs(db)) - pgCpu0,
        direct: directSends()
          ? {
              whole: directStats.whole - direct0.whole,
              partial: directStats.partial - direct0.partial,
              refused: directStats.refused - direct0.refused,
            }
          : null,
      } satisfies FromServer);
    }
  });
}

// ---- the writer (in the driver process) ------------------------------------------------------------------------

interface Written {
  /** in position order, with when each one's POST was sent and its 201 arrived (µs on the monotonic clock) */
  positions: number[];
  startedUs: number[];
  committedUs: number[];
  /** POST → 201, ms */
  commitMs: number[];
  /** answers other than 201, by status */
  failures: Record<string, number>;
}

/**
 * POSTs `rate` nodes a second for `seconds` to the write API, on kept-alive connections, as a browser would; with
 * several servers, to each in turn.
 */
async function writeLoad(
  urls: string[],
  token: string,
  region: string,
  rate: number,
  seconds: number,
): Promise<Written> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const targets = urls.map((url) => new URL('/api/nodes', url));
  const post = (target: URL, body: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(
        target,
        {
          method: 'POST',
          agent,
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const total = Math.round(rate * seconds);
  const done: { position: number; at: number; started: number }[] = [];
  const commitMs: number[] = [];
  const failures: Record<string, number> = {};
  const start = performance.now();
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const p = (async () => {
      const t0 = nowUs();
      const body = JSON.stringify({
        regionId: region,
        title: `bench ${t0}`,
        point: [7.41 + (i % 100) * 0.0003, 43.725 + Math.floor(i / 100) * 0.0001],
      });
      let status: number;
      let text = '';
      try {
        ({ status, text } = await post(targets[i % targets.length]!, body));
      } catch (err) {
        status = 0;
        text = String(err);
      }
      const at = nowUs();
      if (status !== 201) {
        failures[status] = (failures[status] ?? 0) + 1;
        if (failures[status] === 1) log(`  a write got ${status}: ${text.slice(0, 200)}`);
        return;
      }
      commitMs.push((at - t0) / 1000);
      done.push({ position: (JSON.parse(text) as { position: number }).position, at, started: t0 });
    })();
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }
  await Promise.all(inFlight);
  agent.destroy();
  done.sort((a, b) => a.position - b.position);
  return {
    positions: done.map((d) => d.position),
    startedUs: done.map((d) => d.started),
    committedUs: done.map((d) => d.at),
    commitMs,
    failures,
  };
}

// ---- a client process ------------------------------------------------------------------------------------------

// what a client looks for in a message, found in its bytes (no string made of it)
const HELLO = Buffer.from('{"type":"hello"');
const DELTA = Buffer.from('{"type":"delta"');
const POSITION = Buffer.from('"position":');
const startsWith = (b: Buffer, prefix: Buffer) =>
  b.length >= prefix.length && b.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
/** The decimal integer at b[at…] (NaN when there is no digit). */
function integerAt(b: Buffer, at: number): number {
  let n = 0;
  let i = at;
  for (; i < b.length && b[i]! >= 0x30 && b[i]! <= 0x39; i++) n = n * 10 + b[i]! - 0x30;
  return i > at ? n : NaN;
}

async function clientsMain(): Promise<void> {
  const sockets: (WebSocket | BenchSocket | undefined)[] = [];
  const received: number[][] = [];
  // per delivery: its position and when it arrived (µs, monotonic clock)
  let positions = new Float64Array(1 << 20);
  let arrived = new Float64Array(1 << 20);
  let n = 0;
  let nativeChildMs = 0;
  const record = (position: number, at: number) => {
    if (n === positions.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      positions = grow(positions);
      arrived = grow(arrived);
    }
    positions[n] = position;
    arrived[n++] = at;
  };
  const native = WS_CLIENT === 'native' ? new NativeClients() : undefined;
  /** This process's CPU and, with native clients, their program's (ms). */
  const cpuMs = (childMs = 0) => (process.cpuUsage().user + process.cpuUsage().system) / 1000 + childMs;
  process.on('message', async (m: ToClients) => {
    if (native && m.cmd === 'open') {
      const [count, childMs] = await native.open(m.urls, m.first, `/live?region=${m.region}`, m.count);
      for (let i = 0; i < count; i++) received.push([]);
      send(process, { kind: 'opened', count, cpuMs: cpuMs(childMs) } satisfies FromClients);
      return;
    }
    if (native && m.cmd === 'count') {
      send(process, { kind: 'count', deliveries: await native.count() } satisfies FromClients);
      return;
    }
    if (native && m.cmd === 'expect') {
      // the program's deliveries become this process's, then the report is made as for the Node clients
      const [dump, childMs] = await native.dump();
      n = 0;
      for (const got of received) got.length = 0;
      for (const d of deliveries(dump)) {
        received[d.client]!.push(d.position);
        record(d.position, d.atUs);
      }
      nativeChildMs = childMs;
    }
    if (native && m.cmd === 'close') {
      await native.close();
      received.length = 0;
      n = 0;
      send(process, { kind: 'closed' } satisfies FromClients);
      return;
    }
    if (m.cmd === 'open') {
      const urls = m.urls.map((url) => `${url.replace(/^http/, 'ws')}/live?region=${m.region}`);
      let opened = 0;
      const batch = 100;
      for (let i = 0; i < m.count; i += batch) {
        await Promise.all(
          Array.from({ length: Math.min(batch, m.count - i) }, () => {
            const index = received.length;
            received.push([]);
            const url = urls[(m.first + sockets.length) % urls.length]!;
            const onMessage = (data: Buffer, resolve: () => void) => {
              const now = nowUs();
              if (startsWith(data, HELLO)) {
                opened += 1;
                resolve();
                return;
              }
              if (!startsWith(data, DELTA)) return;
              const position = integerAt(data, data.indexOf(POSITION) + POSITION.length);
              received[index]!.push(position);
              record(position, now);
            };
            if (WS_CLIENT === 'raw') {
              let hello!: () => void;
              const greeted = new Promise<void>((resolve) => (hello = resolve));
              const slot = sockets.length;
              sockets.push(undefined);
              return BenchSocket.open(url, (data) => onMessage(data, hello)).then((s) => {
                sockets[slot] = s;
                return greeted;
              });
            }
            const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
            sockets.push(ws);
            return new Promise<void>((resolve, reject) => {
              ws.on('message', (data: Buffer) => onMessage(data, resolve));
              ws.once('error', reject);
            });
          }),
        );
      }
      send(process, {
        kind: 'opened',
        count: opened,
        cpuMs: cpuMs(),
      } satisfies FromClients);
    }
    if (m.cmd === 'count') {
      send(process, {
        kind: 'count',
        deliveries: received.reduce((a, r) => a + r.length, 0),
      } satisfies FromClients);
    }
    if (m.cmd === 'expect') {
      const want = new Set(m.positions);
      const timed = new Set(m.timed);
      const started = new Map(m.positions.map((p, i) => [p, m.startedUs[i]!]));
      const committed = new Map(m.positions.map((p, i) => [p, m.committedUs[i]!]));
      const latencies: number[] = [];
      const afterCommit: number[] = [];
      for (let i = 0; i < n; i++) {
        if (!timed.has(positions[i]!)) continue;
        latencies.push(arrived[i]! - started.get(positions[i]!)!);
        afterCommit.push(arrived[i]! - committed.get(positions[i]!)!);
      }
      const latenciesUs = Float64Array.from(latencies);
      const afterCommitUs = Float64Array.from(afterCommit);
      let lost = 0;
      let duplicated = 0;
      let deliveries = 0;
      for (const got of received) {
        deliveries += got.length;
        const seen = new Set<number>();
        for (const p of got) {
          if (seen.has(p)) duplicated += 1;
          seen.add(p);
        }
        for (const p of want) if (!seen.has(p)) lost += 1;
      }
      send(process, {
        kind: 'report',
        latenciesUs,
        afterCommitUs,
        deliveries,
        lost,
        duplicated,
        cpuMs: cpuMs(nativeChildMs),
      } satisfies FromClients);
    }
    if (m.cmd === 'close') {
      await Promise.all(
        sockets.map((ws) =>
          ws === undefined || ws instanceof BenchSocket
            ? ws?.close()
            : new Promise<void>((resolve) => {
                if (ws.readyState === WebSocket.CLOSED) return resolve();
                ws.once('close', () => resolve());
                ws.close();
              }),
        ),
      );
      sockets.length = 0;
      received.length = 0;
      n = 0;
      send(process, { kind: 'closed' } satisfies FromClients);
    }
  });
}

// ---- the driver -----------------------------------------------------------------------------------------------

function quantile(sorted: Float64Array, q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function main(): Promise<void> {
  const CLIENTS = Number(process.env.CLIENTS ?? 1000);
  const RATE = Number(process.env.RATE ?? 100);
  const SECONDS = Number(process.env.SECONDS ?? 30);
  const WARMUP = Number(process.env.WARMUP ?? 3);
  const IDLE = Number(process.env.IDLE ?? 5000);
  const PROCS = Number(process.env.PROCS ?? 2);
  const NICE = Number(process.env.NICE ?? 0);
  const SERVERS = Math.max(1, Number(process.env.SERVERS ?? 1));
  const { benchDatabase } = await import('./pg.js');
  const database = await benchDatabase();
  const env = {
    ...process.env,
    DATABASE_URL: database.url,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  };
  const children: ChildProcess[] = [];
  const spawn = (args: string[], extra: string[] = []) => {
    const c = fork(SELF, args, {
      execArgv: ['--import', 'tsx', ...extra],
      env,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(c);
    return c;
  };
  try {
    log(
      `bench-live: ${CLIENTS} clients in ${PROCS} processes, ${RATE} writes/s for ${SECONDS} s, ${IDLE} idle` +
        (SERVERS > 1 ? `, ${SERVERS} server processes` : '') +
        (process.env.GAP_FACTOR || process.env.MAX_GAP_MS || process.env.SLICE
          ? `, hub gap factor ${process.env.GAP_FACTOR ?? 'default'}, max ${process.env.MAX_GAP_MS ?? 'default'} ms, ` +
            `slice ${process.env.SLICE ?? 'default'}`
          : ''),
    );
    const profile = process.env.PROFILE_DIR
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROFILE_DIR}`]
      : [];
    // the first server migrates the database and mints the token, then the others start (same database and bus)
    const first = spawn(['server', 'mint'], ['--expose-gc', ...profile]);
    const { url, region, token } = await next<Extract<FromServer, { kind: 'ready' }>>(first, 'ready');
    const others = Array.from({ length: SERVERS - 1 }, () => spawn(['server'], ['--expose-gc', ...profile]));
    const servers = [first, ...others];
    const urls = [
      url,
      ...(await Promise.all(others.map((s) => next<Extract<FromServer, { kind: 'ready' }>>(s, 'ready')))).map(
        (r) => r.url,
      ),
    ];
    /** Asks every server, answers in server order. */
    const ask = <K extends FromServer['kind']>(cmd: ToServer, kind: K) => {
      for (const s of servers) send(s, cmd);
      return Promise.all(servers.map((s) => next<Extract<FromServer, { kind: K }>>(s, kind as never)));
    };
    type Rss = Extract<FromServer, { kind: 'rss' }>;
    const summed = (all: Rss[]): Rss => ({
      kind: 'rss',
      rss: all.reduce((a, r) => a + r.rss, 0),
      heapUsed: all.reduce((a, r) => a + r.heapUsed, 0),
      connections: all.reduce((a, r) => a + r.connections, 0),
      cpuMs: all.reduce((a, r) => a + r.cpuMs, 0),
    });
    const procs = Array.from({ length: PROCS }, () => spawn(['clients']));
    // The clients stand in for browsers on other machines; on this one they share the two cores with the server and
    // PostgreSQL. At equal priority (NICE 0, the default) the tail is lower than with the clients at nice 10, where
    // they read late behind the server's work and the latency they measure includes their own wait for a core.
    for (const p of procs) setPriority(p.pid!, NICE);
    const share = (total: number, i: number) => Math.floor(total / PROCS) + (i < total % PROCS ? 1 : 0);
    /** Client process i's clients start at this global index (so they go round-robin over the servers). */
    const before = (total: number, i: number) =>
      Array.from({ length: i }, (_, j) => share(total, j)).reduce((a, n) => a + n, 0);
    const open = (total: number) =>
      procs.forEach((p, i) =>
        send(p, {
          cmd: 'open',
          urls,
          first: before(total, i),
          region,
          count: share(total, i),
        } satisfies ToClients),
      );

    const base = summed(await ask({ cmd: 'rss' }, 'rss'));

    // ---- fan-out under load
    const t0 = performance.now();
    open(CLIENTS);
    const opened = await Promise.all(
      procs.map((p) => next<Extract<FromClients, { kind: 'opened' }>>(p, 'opened')),
    );
    const subscribed = opened.reduce((s, o) => s + o.count, 0);
    log(`  ${subscribed} clients subscribed in ${Math.round(performance.now() - t0)} ms`);
    if (subscribed < CLIENTS) throw new Error(`only ${subscribed} of ${CLIENTS} clients could subscribe`);
    const warm = WARMUP > 0 ? await writeLoad(urls, token, region, RATE, WARMUP) : undefined;
    if (warm) log(`  warm-up: ${warm.positions.length} writes in ${WARMUP} s (not timed)`);
    const load0 = loadavg()[0]!;
    const cpu0 = (await ask({ cmd: 'rss' }, 'rss')).map((r) => r.cpuMs);
    const wall0 = performance.now();
    await ask({ cmd: 'measure' }, 'measuring');
    const driverCpu0 = process.cpuUsage();
    const written = await writeLoad(urls, token, region, RATE, SECONDS);
    const driverCpu = process.cpuUsage(driverCpu0);
    const measuredAll = await ask({ cmd: 'measured' }, 'measured');
    const tx = summarize(measuredAll.map((m) => m.tx));
    // every server sees all of the database's backends: the first one's figure is the whole
    const pgCpuMs = measuredAll[0]!.pgCpuMs;
    const cpu1 = (await ask({ cmd: 'rss' }, 'rss')).map((r) => r.cpuMs);
    const wallS = (performance.now() - wall0) / 1000;
    log(`  ${written.positions.length} writes done; waiting for the last deliveries`);
    const allWrites = [...(warm?.positions ?? []), ...written.positions];
    const expected = allWrites.length * CLIENTS;
    for (let last = -1, i = 0; i < 120; i++) {
      procs.forEach((p) => send(p, { cmd: 'count' } satisfies ToClients));
      const counts = await Promise.all(
        procs.map((p) => next<Extract<FromClients, { kind: 'count' }>>(p, 'count')),
      );
      const got = counts.reduce((a, c) => a + c.deliveries, 0);
      if (got >= expected || got === last) break; // all in, or nothing more for a second
      last = got;
      await sleep(1000);
    }
    procs.forEach((p) =>
      send(p, {
        cmd: 'expect',
        positions: allWrites,
        startedUs: [...(warm?.startedUs ?? []), ...written.startedUs],
        committedUs: [...(warm?.committedUs ?? []), ...written.committedUs],
        timed: written.positions,
      } satisfies ToClients),
    );
    const reports = await Promise.all(
      procs.map((p) => next<Extract<FromClients, { kind: 'report' }>>(p, 'report')),
    );
    const load1 = loadavg()[0]!;
    procs.forEach((p) => send(p, { cmd: 'close' } satisfies ToClients));
    await Promise.all(procs.map((p) => next(p, 'closed')));

    const merged = (pick: (r: (typeof reports)[number]) => Float64Array) => {
      const out = new Float64Array(reports.reduce((s, r) => s + pick(r).length, 0));
      let at = 0;
      for (const r of reports) {
        out.set(pick(r), at);
        at += pick(r).length;
      }
      return out.sort();
    };
    const all = merged((r) => r.latenciesUs);
    const afterCommit = merged((r) => r.afterCommitUs);
    const deliveries = reports.reduce((s, r) => s + r.deliveries, 0);
    const lost = reports.reduce((s, r) => s + r.lost, 0);
    const duplicated = reports.reduce((s, r) => s + r.duplicated, 0);
    const commits = Float64Array.from(written.commitMs).sort();

    // ---- idle connections
    const t1 = performance.now();
    open(IDLE);
    const idleOpened = await Promise.all(
      procs.map((p) => next<Extract<FromClients, { kind: 'opened' }>>(p, 'opened')),
    );
    const idleCount = idleOpened.reduce((s, o) => s + o.count, 0);
    log(`  ${idleCount} idle connections open in ${Math.round(performance.now() - t1)} ms`);
    await sleep(2000);
    const idle = summed(await ask({ cmd: 'rss' }, 'rss'));
    procs.forEach((p) => send(p, { cmd: 'close' } satisfies ToClients));
    await Promise.all(procs.map((p) => next(p, 'closed')));

    const ms = (us: number) => (us / 1000).toFixed(1);
    const failures = { ...written.failures };
    for (const [status, n] of Object.entries(warm?.failures ?? {}))
      failures[status] = (failures[status] ?? 0) + n;
    const failed = Object.values(failures).reduce((a, n) => a + n, 0);
    const directs = measuredAll.map((m) => m.direct);
    const direct = directs.every((d) => d)
      ? directs.reduce((a, d) => ({
          whole: a!.whole + d!.whole,
          partial: a!.partial + d!.partial,
          refused: a!.refused + d!.refused,
        }))
      : null;
    const f2 = (x: { p50: number; p99: number }) => `${x.p50.toFixed(1)} (${x.p99.toFixed(1)})`;
    const mb = (b: number) => (b / 1024 / 1024).toFixed(0);
    const p99 = quantile(all, 0.99) / 1000;
    const cores = (i: number) => (cpu1[i]! - cpu0[i]!) / 1000 / wallS;
    const serverCpu =
      servers.reduce((a, _, i) => a + cores(i), 0).toFixed(2) +
      (SERVERS > 1 ? ` (${servers.map((_, i) => cores(i).toFixed(2)).join(' + ')})` : '');
    const rows: [string, string, string][] = [
      [
        'writes (POST /api/nodes → 201 after commit)',
        `${written.positions.length} at ${RATE}/s for ${SECONDS} s${failed ? `; ${failed} failed ${JSON.stringify(failures)}` : ''}`,
        failed ? 'FAIL' : '',
      ],
      ['subscribed WebSocket clients', String(CLIENTS), ''],
      [
        'deliveries (warm-up included)',
        `${deliveries} (expected ${expected})${warm ? `; ${warm.positions.length} warm-up writes first, not timed` : ''}`,
        '',
      ],
      [
        'lost / duplicated deltas',
        `${lost} / ${duplicated}`,
        lost === 0 && duplicated === 0 ? 'ok (0 / 0)' : 'FAIL',
      ],
      [
        'write→client latency p50 / p99 / max',
        `${ms(quantile(all, 0.5))} / ${ms(quantile(all, 0.99))} / ${ms(all[all.length - 1] ?? NaN)} ms`,
        p99 < 50 ? 'ok (p99 < 50 ms)' : 'MISSED (p99 < 50 ms)',
      ],
      [
        '  of which 201 → client p50 / p99 / max',
        `${ms(quantile(afterCommit, 0.5))} / ${ms(quantile(afterCommit, 0.99))} / ${ms(afterCommit[afterCommit.length - 1] ?? NaN)} ms`,
        '(publish, bus, fan-out)',
      ],
      [
        '  fan-out: sockets written directly whole / in part / not (then through node:net)',
        direct ? `${direct.whole} / ${direct.partial} / ${direct.refused}` : 'off (all through node:net)',
        '',
      ],
      [
        '  and the write (POST → 201) p50 / p99',
        `${quantile(commits, 0.5).toFixed(1)} / ${quantile(commits, 0.99).toFixed(1)} ms`,
        '',
      ],
      [
        '  write transactions (commands each; statements while locked)',
        `${tx.count} (${(written.positions.length / Math.max(1, tx.count)).toFixed(2)}; ${tx.statements.toFixed(1)})`,
        '',
      ],
      [
        '    connection wait / head-lock wait / lock held, p50 (p99)',
        `${f2(tx.connect)} / ${f2(tx.lockWait)} / ${f2(tx.held)} ms`,
        '',
      ],
      [
        '    round trips per write transaction (BEGIN, COMMIT included) / outside transactions per write',
        `${tx.roundTrips.toFixed(1)} / ${(tx.direct / Math.max(1, written.positions.length)).toFixed(2)}`,
        '',
      ],
      [
        '  outbox publisher transactions (round trips each, BEGIN, COMMIT included; bus publishes not); claim p50 (p99)',
        `${tx.publishes} (${tx.publishRoundTrips.toFixed(1)}); ${tx.publishClaim.p50.toFixed(1)} (${tx.publishClaim.p99.toFixed(1)}) ms`,
        '',
      ],
      [
        `server RSS${SERVERS > 1 ? ` (${SERVERS} processes, summed)` : ''} with ${idleCount} idle connections`,
        `${mb(idle.rss)} MB (${mb(base.rss)} MB before; heap ${mb(idle.heapUsed)} MB; gauge ${idle.connections})`,
        idle.rss < 500 * 1024 * 1024 ? 'ok (< 500 MB)' : 'MISSED (< 500 MB)',
      ],
      [
        `server event-loop delay p50 / p99 / max${SERVERS > 1 ? ', each server' : ''}`,
        measuredAll
          .map(({ loopDelayMs: d }) => `${d.p50.toFixed(1)} / ${d.p99.toFixed(1)} / ${d.max.toFixed(1)} ms`)
          .join(' | '),
        '',
      ],
      [
        `CPU during the writes: server${SERVERS > 1 ? 's (each)' : ''} / its PostgreSQL backends / writer / clients`,
        `${serverCpu} / ${(pgCpuMs / 1000 / wallS).toFixed(2)} / ${(
          (driverCpu.user + driverCpu.system) /
          1e6 /
          wallS
        ).toFixed(2)} / ${(
          reports.reduce((a, r) => a + r.cpuMs, 0) / 1000 / wallS -
          opened.reduce((a, o) => a + o.cpuMs, 0) / 1000 / wallS
        ).toFixed(2)} cores`,
        '',
      ],
      [
        'load average (1 min) before / after',
        `${load0.toFixed(2)} / ${load1.toFixed(2)} on ${availableParallelism()} cores`,
        '',
      ],
    ];
    const w0 = Math.max(...rows.map((r) => r[0].length));
    const w1 = Math.max(...rows.map((r) => r[1].length));
    console.log(
      SERVERS > 1
        ? `\nlive fan-out (PostgreSQL, Redis bus; ${SERVERS} server processes, clients and writes round-robin over them; ${CLIENT_KIND} in ${PROCS} processes apart from the servers, nice ${NICE})`
        : `\nlive fan-out (PostgreSQL, Redis bus; ${CLIENT_KIND} in ${PROCS} processes apart from the server, nice ${NICE})`,
    );
    for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
    for (const s of servers) send(s, { cmd: 'stop' } satisfies ToServer);
    await Promise.all(servers.map((s) => new Promise((r) => s.once('exit', r))));
    if (lost || duplicated || failed) process.exitCode = 1;
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill();
    await database.drop();
  }
}

const role = process.argv[2];
if (role === 'server') await serverMain();
else if (role === 'clients') await clientsMain();
else await main();
