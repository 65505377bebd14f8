// `make bench-serve`'s servers: ours (bench/serve-server.ts), tileserver-gl-light (npm, installed apart in
// .cache/bench-peers by `scripts/setup.sh --bench`) and nginx (Debian) — each started as its own process on a
// loopback port, with its process ids for /proc figures (peak RSS, CPU time); and a raw HTTP GET for the checks.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const TILESERVER_MAIN = 'node_modules/tileserver-gl-light/src/main.js';

export interface Peer {
  name: string;
  /** `http://127.0.0.1:port` */
  url: string;
  /** the server's processes now (nginx: master and workers) */
  pids(): number[];
  stop(): Promise<void>;
}

/** A free loopback port (the OS picks it; it is released just before the server takes it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

// ---- /proc ---------------------------------------------------------------------------------------------------

/** VmHWM (peak resident set) and VmRSS of a process, in KiB; undefined once it is gone. */
export function memoryOf(pid: number): { hwmKiB: number; rssKiB: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { hwmKiB: kib('VmHWM'), rssKiB: kib('VmRSS') };
  } catch {
    return undefined;
  }
}

const CLOCK_TICKS = 100; // USER_HZ on Linux (getconf CLK_TCK)

/** User and system (kernel: syscalls, the loopback TCP stack) CPU seconds a process has used so far. */
export function cpuOf(pid: number): { user: number; system: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the fields after the command name (in parentheses, may hold spaces) start with the state, field 3
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) / CLOCK_TICKS, system: Number(fields[12]) / CLOCK_TICKS };
  } catch {
    return { user: 0, system: 0 };
  }
}

/** The direct children of a process (nginx's workers). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

// ---- HTTP ----------------------------------------------------------------------------------------------------

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** the body as it came over the wire (no decoding of Content-Encoding) */
  body: Buffer;
}

/** One GET with the given headers, the body left as sent (fetch would undo gzip). */
export function httpGet(url: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${url}: no answer in 10 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** Polls `url` until it answers `ok` (default: any status below 500), or fails after `ms`. */
async function waitUntilReady(
  url: string,
  child: ChildProcess,
  logFile: string,
  ms = 60_000,
  ok = (status: number) => status < 500,
): Promise<void> {
  const until = Date.now() + ms;
  let last = '';
  while (Date.now() < until) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${url}: the server exited (${child.exitCode ?? child.signalCode}); see ${logFile}`);
    try {
      const r = await httpGet(url);
      if (ok(r.status)) return;
      last = `status ${r.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url}: not ready after ${ms / 1000} s (${last}); see ${logFile}`);
}

/** Ends a process we started: `signal`, then SIGKILL if it has not exited within 10 s. */
function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

const serverEnv = (): NodeJS.ProcessEnv => ({ ...process.env, NODE_ENV: 'production' });

// ---- the three servers ---------------------------------------------------------------------------------------

/**
 * Ours, one process (its pid is the server's): `cli` runs the built `weft serve` as operators do (DATABASE_URL,
 * WEFT_BLOB_DIR, the in-process bus, log level warn); `tsx` runs bench/serve-server.ts from the sources (the same
 * startServer, plus the TypeScript loader's memory). With `cpuProfDir`, under `--cpu-prof`: the profile is
 * written there when it stops.
 */
export async function startOurs(opts: {
  root: string;
  mode: 'cli' | 'tsx';
  dbUrl: string;
  blobDir: string;
  logFile: string;
  cpuProfDir?: string;
  /** `weft serve --workers N` (cli mode): N processes sharing the port, with Redis as the bus between them */
  workers?: number;
}): Promise<Peer> {
  const workers = opts.workers ?? 1;
  const log = openSync(opts.logFile, 'a');
  const prof = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
  let child: ChildProcess;
  let url: string;
  if (opts.mode === 'cli') {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...serverEnv(),
      DATABASE_URL: opts.dbUrl,
      WEFT_BLOB_DIR: opts.blobDir,
      WEFT_LOG_LEVEL: 'warn',
    };
    for (const name of ['REDIS_URL', 'NATS_URL', 'S3_ENDPOINT', 'WEFT_PUBLIC_URL']) delete env[name];
    if (workers > 1) env.REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
    child = spawn(
      process.execPath,
      [
        ...prof,
        path.join(opts.root, 'bin/weft.js'),
        'serve',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--workers',
        String(workers),
      ],
      { cwd: opts.root, env, stdio: ['ignore', log, log] },
    );
    url = `http://127.0.0.1:${port}`;
  } else {
    child = spawn(
      process.execPath,
      [...prof, '--import', 'tsx', path.join(opts.root, 'bench/serve-server.ts'), opts.dbUrl, opts.blobDir],
      { cwd: opts.root, env: serverEnv(), stdio: ['ignore', 'pipe', log] },
    );
    url = await new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      const timer = setTimeout(
        () => reject(new Error(`our server did not start in 60 s; see ${opts.logFile}`)),
        60_000,
      );
      lines.once('line', (line) => {
        clearTimeout(timer);
        try {
          resolve((JSON.parse(line) as { url: string }).url);
        } catch {
          reject(new Error(`our server printed '${line}' instead of its address; see ${opts.logFile}`));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`our server exited (${code}) before listening; see ${opts.logFile}`));
      });
    });
    child.stdout!.resume();
  }
  closeSync(log);
  await waitUntilReady(`${url}/healthz`, child, opts.logFile, 60_000, (s) => s === 200);
  const pid = child.pid!;
  // with workers, the primary only forks and watches: count its workers too
  return { name: 'weft', url, pids: () => [pid, ...childrenOf(pid)], stop: () => stopChild(child) };
}

/** tileserver-gl-light serving one PMTiles archive as data source `id` (`/data/<id>/{z}/{x}/{y}.pbf`). */
export async function startTileserver(opts: {
  peersDir: string;
  workDir: string;
  archive: string;
  id: string;
  logFile: string;
}): Promise<Peer> {
  const main = path.join(opts.peersDir, TILESERVER_MAIN);
  if (!existsSync(main))
    throw new Error(
      `tileserver-gl-light is not installed in ${opts.peersDir} (run: bash scripts/setup.sh --bench)`,
    );
  mkdirSync(opts.workDir, { recursive: true });
  const config = path.join(opts.workDir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify(
      {
        options: { paths: { root: opts.workDir, pmtiles: path.dirname(opts.archive) } },
        data: { [opts.id]: { pmtiles: path.basename(opts.archive) } },
      },
      null,
      2,
    ),
  );
  const port = await freePort();
  const log = openSync(opts.logFile, 'a');
  const child = spawn(process.execPath, [main, '-c', config, '-p', String(port), '-b', '127.0.0.1', '-s'], {
    cwd: opts.workDir,
    env: serverEnv(),
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(`${url}/health`, child, opts.logFile, 60_000, (s) => s === 200);
  return { name: 'tileserver-gl-light', url, pids: () => [child.pid!], stop: () => stopChild(child) };
}

/**
 * nginx serving `root` statically, each with its own port and folder. `style`:
 * - 'tuned', the fastest we found for small ranges of one file: no sendfile (read + write from the page cache),
 *   no TCP_CORK, an open file cache, `reuseport` (connections spread evenly over the workers);
 * - 'debian', the transfer settings Debian's nginx.conf ships (`sendfile on; tcp_nopush on;`): on keep-alive
 *   connections with small bodies TCP_CORK holds some responses until the peer's delayed ACK (≈ 40 ms), which caps
 *   requests/s and puts 40 ms in the tail.
 * Both: no access log, keep-alive connections never recycled. `workers`: worker_processes ('auto' = one per core).
 */
export async function startNginx(opts: {
  workDir: string;
  root: string;
  workers: string;
  style: 'tuned' | 'debian';
  logFile: string;
}): Promise<Peer> {
  const dir = opts.workDir;
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'])
    mkdirSync(path.join(dir, 'tmp', sub), { recursive: true });
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      `worker_processes ${opts.workers};`,
      ...(process.getuid?.() === 0 ? ['user root root;'] : []),
      `pid ${path.join(dir, 'nginx.pid')};`,
      `error_log ${opts.logFile} warn;`,
      'events { worker_connections 4096; }',
      'http {',
      '  access_log off;',
      ...(opts.style === 'tuned'
        ? ['  sendfile off;', '  tcp_nopush off;']
        : ['  sendfile on;', '  tcp_nopush on;']),
      '  tcp_nodelay on;',
      '  keepalive_timeout 65;',
      '  keepalive_requests 100000000;',
      '  open_file_cache max=64 inactive=60s;',
      '  types { application/vnd.pmtiles pmtiles; }',
      '  default_type application/octet-stream;',
      ...['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
        (s) => `  ${s === 'body' ? 'client_body' : s}_temp_path ${path.join(dir, 'tmp', s)};`,
      ),
      '  server {',
      `    listen 127.0.0.1:${port}${opts.style === 'tuned' ? ' reuseport' : ''};`,
      `    root ${opts.root};`,
      '    location / { }',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const log = openSync(opts.logFile, 'a');
  const child = spawn('nginx', ['-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', log, log] });
  closeSync(log);
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(`${url}/`, child, opts.logFile, 20_000);
  const master = child.pid!;
  return {
    name: `nginx (${opts.style})`,
    url,
    pids: () => [master, ...childrenOf(master)],
    stop: () => stopChild(child, 'SIGQUIT'),
  };
}
