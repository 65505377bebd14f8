// `make bench-serve`: our tile and Range serving against the servers people use, on one archive, in one run, with
// one load tool: wrk (2 threads, 64 connections, loopback) cycling through the same list of requests.
//   1. tiles: our /tiles/R/base/{z}/{x}/{y}.mvt vs tileserver-gl-light's /data/R/{z}/{x}/{y}.pbf (same archive)
//   2. Range: our /tiles/R/base.pmtiles vs nginx serving the same file statically, Range = each tile's bytes
//      (nginx twice: tuned for small ranges, and with Debian's shipped sendfile + tcp_nopush)
//   3. our tiles vs nginx's Range requests for the same tiles
// The base archive is built from the region's OSM extract, published and promoted into a local blob folder through
// the release pipeline (a fresh PostgreSQL database), and served by each server in its own process. Responses are
// checked against the stored bytes before any timing. Reports requests/s, p50/p99 latency, errors, server CPU,
// peak RSS (VmHWM) and the ratios against the issue's targets; PROFILE=1 adds CPU profiles of our server.
// Settings (environment): REGION (monaco), DURATION s (12), WARMUP s (3), ROUNDS (2, alternating order),
// CONNECTIONS (64), THREADS (2), MAX_TILES (500), NGINX_WORKERS (auto), PROFILE (0), CASES (all: ours-tiles,
// tileserver-tiles, ours-range, nginx-range, nginx-debian-range), OURS (cli: the built `weft serve`; tsx),
// WORKERS (1: `weft serve --workers N` with cli, N processes sharing the port, Redis between them).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { LocalBlobStore } from '../core/blob/local.js';
import { openDb } from '../core/db/open.js';
import { errorMessage } from '../core/errors.js';
import { Compression } from '../pipeline/pmtiles/header.js';
import { PMTilesReader } from '../pipeline/pmtiles/reader.js';
import { tileIdToZxy } from '../pipeline/pmtiles/tileid.js';
import { promoteRelease } from '../pipeline/releases/promote.js';
import { publishRelease } from '../pipeline/releases/publish.js';
import { benchDatabase, type BenchDatabase } from './pg.js';
import { which } from './timed.js';
import {
  cpuOf,
  httpGet,
  memoryOf,
  startNginx,
  startOurs,
  startTileserver,
  TILESERVER_MAIN,
  type Peer,
} from './serve-peers.js';
import {
  checkTarget,
  parseWrk,
  profileCosts,
  requestListText,
  sampleEvenly,
  socketErrorCount,
  table,
  thousands,
  tileRange,
  type BenchRequest,
  type BenchTile,
  type CpuProfile,
  type TargetCheck,
  type WrkResult,
} from './serve-report.js';

const root = new URL('..', import.meta.url).pathname;
const out = path.join(root, 'bench/out/serve');
const peersDir = path.join(root, '.cache/bench-peers');
const luaScript = path.join(root, 'bench/serve-wrk.lua');
const num = (name: string, fallback: number): number => {
  const v = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number`);
  return v;
};
const region = process.env.REGION ?? 'monaco';
const duration = num('DURATION', 12);
const warmup = Number(process.env.WARMUP ?? 3);
const rounds = num('ROUNDS', 2);
const connections = num('CONNECTIONS', 64);
const threads = num('THREADS', 2);
const maxTiles = num('MAX_TILES', 500);
const nginxWorkers = process.env.NGINX_WORKERS ?? 'auto';
const profile = /^(1|true|yes|on)$/i.test(process.env.PROFILE ?? '');
const caseFilter = process.env.CASES?.split(',').map((c) => c.trim());
const oursMode = (process.env.OURS ?? 'cli') as 'cli' | 'tsx';
const oursWorkers = Number(process.env.WORKERS ?? 1);

/** Every TypeScript source the CLI is built from has a compiled build/….js newer than itself. */
function buildIsCurrent(): boolean {
  const stale = (dir: string): boolean =>
    readdirSync(path.join(root, dir), { withFileTypes: true }).some((e) => {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) return stale(rel);
      if (!e.name.endsWith('.ts') || e.name.endsWith('.d.ts') || e.name.endsWith('.test.ts')) return false;
      const js = path.join(root, 'build', rel.replace(/\.ts$/, '.js'));
      return !existsSync(js) || statSync(js).mtimeMs < statSync(path.join(root, rel)).mtimeMs;
    });
  return !['cli', 'core', 'pipeline', 'serve', 'jobs'].some(stale);
}

const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** Busy and total jiffies of the whole machine (all cores), from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f as [number, ...number[]];
  const busy = user + nice! + system! + irq! + softirq! + steal!;
  return { busy, total: busy + idle! + iowait! };
}

// ---- the archive and the release ---------------------------------------------------------------------------

/** Builds the region's base map with the CLI (as `make tiles` does). */
function buildArchive(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  execFileSync(
    'node',
    [path.join(root, 'bin/weft.js'), 'build', 'base', '--region', region, '-o', dir, '-q'],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  return path.join(dir, 'base.pmtiles');
}

/** Publishes the archive (with an activity archive built from the empty database) and promotes it to prod. */
async function releaseArchive(dbUrl: string, blobDir: string, base: string) {
  const db = await openDb({ url: dbUrl });
  const blob = new LocalBlobStore(blobDir);
  try {
    const p = await publishRelease({
      blob,
      db,
      region,
      base,
      outDir: path.join(out, 'publish'),
      quiet: true,
      actor: 'bench',
    });
    await promoteRelease({ blob, db, region, release: p.release, actor: 'bench' });
    const file = p.manifest.files.find((f) => f.layer === 'base')!;
    return { release: p.release, key: file.key, sha256: file.sha256, size: file.size };
  } finally {
    await blob.close();
    await db.close();
  }
}

/** Every addressed tile (runs expanded), in tile id order, with its absolute byte range in the file. */
async function archiveTiles(file: string): Promise<{ tiles: BenchTile[]; compression: Compression }> {
  const reader = await PMTilesReader.openFile(file);
  try {
    const h = reader.header;
    const tiles: BenchTile[] = [];
    for await (const e of reader.entries())
      for (let i = 0; i < e.runLength; i++) {
        const [z, x, y] = tileIdToZxy(e.tileId + i);
        tiles.push({ z, x, y, tileId: e.tileId + i, offset: h.tileDataOffset + e.offset, length: e.length });
      }
    return { tiles, compression: h.tileCompression };
  } finally {
    await reader.close();
  }
}

// ---- checks before timing ----------------------------------------------------------------------------------

interface Urls {
  ours: string;
  oursArchivePath: string;
  tileserver: string;
  nginx: string;
  nginxDebian: string;
  nginxArchivePath: string;
}
const ourTilePath = (t: BenchTile) => `/tiles/${region}/base/${t.z}/${t.x}/${t.y}.mvt`;
const tileserverPath = (t: BenchTile) => `/data/${region}/${t.z}/${t.x}/${t.y}.pbf`;

/**
 * Every server answers the sampled requests with the archive's bytes: our tiles as stored (gzip), tileserver-gl's
 * re-gzipped body identical once gunzipped, both Range answers 206 with the exact bytes and Content-Range.
 * Throws on the first difference. Returns how many tiles were checked and what our tiles' encoding was.
 */
async function checkResponses(
  tiles: BenchTile[],
  stored: Buffer,
  compression: Compression,
  urls: Urls,
  withOurs: boolean,
) {
  const sample = sampleEvenly(tiles, 100);
  const gzip = { 'Accept-Encoding': 'gzip' };
  const plain = (b: Buffer) => (compression === Compression.Gzip ? gunzipSync(b) : b);
  const fail = (what: string, t: BenchTile, detail: string): never => {
    throw new Error(`check failed: ${what} for tile ${t.z}/${t.x}/${t.y}: ${detail}`);
  };
  let oursEncoding = '';
  for (const t of sample) {
    const bytes = stored.subarray(t.offset, t.offset + t.length);
    const raw = plain(bytes);
    if (withOurs) {
      const ours = await httpGet(urls.ours + ourTilePath(t), gzip);
      if (ours.status !== 200)
        fail('our tile', t, `status ${ours.status}: ${ours.body.toString().slice(0, 200)}`);
      const enc = String(ours.headers['content-encoding'] ?? 'identity');
      oursEncoding = enc;
      const oursRaw = enc === 'gzip' ? gunzipSync(ours.body) : ours.body;
      if (!oursRaw.equals(raw)) fail('our tile', t, 'the decoded body differs from the archive tile');
      if (enc === 'gzip' && compression === Compression.Gzip && !ours.body.equals(bytes))
        fail('our tile', t, 'not the stored gzip bytes');
    }
    const ts = await httpGet(urls.tileserver + tileserverPath(t), gzip);
    if (ts.status !== 200) fail('tileserver-gl-light tile', t, `status ${ts.status}`);
    const tsRaw = ts.headers['content-encoding'] === 'gzip' ? gunzipSync(ts.body) : ts.body;
    if (!tsRaw.equals(raw))
      fail('tileserver-gl-light tile', t, 'the decoded body differs from the archive tile');
    const ranges = [
      ['our .pmtiles Range', urls.ours + urls.oursArchivePath],
      ['nginx Range', urls.nginx + urls.nginxArchivePath],
      ['nginx (Debian conf) Range', urls.nginxDebian + urls.nginxArchivePath],
    ] as const;
    for (const [name, url] of withOurs ? ranges : ranges.slice(1)) {
      const r = await httpGet(url, { ...gzip, Range: tileRange(t) });
      if (r.status !== 206) fail(name, t, `status ${r.status}`);
      const want = `bytes ${t.offset}-${t.offset + t.length - 1}/${stored.length}`;
      if (r.headers['content-range'] !== want)
        fail(name, t, `Content-Range '${r.headers['content-range']}', expected '${want}'`);
      if (!r.body.equals(bytes)) fail(name, t, 'the body is not the tile bytes');
    }
  }
  return { checked: sample.length, oursEncoding };
}

/** Our archive URL: /tiles/R/base.pmtiles, or where it redirects to (wrk does not follow redirects). */
async function ourArchivePath(base: string): Promise<string> {
  let p = `/tiles/${region}/base.pmtiles`;
  for (let hop = 0; hop < 3; hop++) {
    const r = await httpGet(base + p, { Range: 'bytes=0-0' });
    if (r.status < 300 || r.status >= 400) return p;
    const loc = String(r.headers.location ?? '');
    if (!loc) return p;
    p = new URL(loc, base + p).pathname;
  }
  return p;
}

// ---- timed cases -------------------------------------------------------------------------------------------

interface Case {
  id: 'ours-tiles' | 'tileserver-tiles' | 'ours-range' | 'nginx-range' | 'nginx-debian-range';
  label: string;
  peer: Peer;
  listFile: string;
}

interface CaseRun {
  round: number;
  wrk: WrkResult;
  /** server CPU seconds used during the timed part (all its processes and threads) */
  cpuSeconds: number;
  /** of which in the kernel (system time) */
  systemSeconds: number;
  /** share of the whole machine's CPU (all cores) busy during the timed part: server, wrk and everyone else */
  machineBusy: number;
  load: string;
}

function runWrk(url: string, listFile: string, seconds: number): Promise<string> {
  const args = [
    `-t${threads}`,
    `-c${connections}`,
    `-d${seconds}s`,
    '--latency',
    '--timeout',
    '5s',
    '-s',
    luaScript,
    url,
    '--',
    listFile,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`wrk exited ${code}: ${stderr || stdout}`)),
    );
  });
}

async function runCase(c: Case, round: number): Promise<CaseRun> {
  if (warmup > 0) await runWrk(c.peer.url, c.listFile, warmup);
  const load = loadavg();
  const pids = c.peer.pids();
  const cpuNow = (ps: number[]) =>
    ps
      .map(cpuOf)
      .reduce((s, c) => ({ user: s.user + c.user, system: s.system + c.system }), { user: 0, system: 0 });
  const cpu0 = cpuNow(pids);
  const m0 = machineTicks();
  const text = await runWrk(c.peer.url, c.listFile, duration);
  const m1 = machineTicks();
  const cpu1 = cpuNow(c.peer.pids());
  const cpuSeconds = cpu1.user + cpu1.system - cpu0.user - cpu0.system;
  writeFileSync(path.join(out, `wrk-${c.id}-${round}.txt`), text);
  const wrk = parseWrk(text);
  const machineBusy = (m1.busy - m0.busy) / Math.max(1, m1.total - m0.total);
  console.error(
    `  round ${round} ${c.label}: ${thousands(wrk.requestsPerSecond)} req/s, p50 ${wrk.latencyMs.p50.toFixed(2)} ms, ` +
      `p99 ${wrk.latencyMs.p99.toFixed(2)} ms, server CPU ${(cpuSeconds / wrk.seconds).toFixed(2)} cores, ` +
      `machine ${(machineBusy * 100).toFixed(0)} % busy, load ${load}`,
  );
  return { round, wrk, cpuSeconds, systemSeconds: cpu1.system - cpu0.system, machineBusy, load };
}

/** Peak RSS (VmHWM) of a server: the sum over its processes (nginx: master and workers). */
function peakRssMiB(peer: Peer): { peak: number; now: number } {
  let peak = 0;
  let now = 0;
  for (const pid of peer.pids()) {
    const m = memoryOf(pid);
    if (m) {
      peak += m.hwmKiB;
      now += m.rssKiB;
    }
  }
  return { peak: peak / 1024, now: now / 1024 };
}

// ---- CPU profile of our server -----------------------------------------------------------------------------

async function profileOurs(
  dbUrl: string,
  blobDir: string,
  lists: { tiles: string; range: string },
): Promise<{ name: string; rps: number; costs: ReturnType<typeof profileCosts> }[]> {
  const results = [];
  for (const [name, listFile] of [
    ['tiles', lists.tiles],
    ['range', lists.range],
  ] as const) {
    const dir = path.join(out, 'profile', name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const peer = await startOurs({
      mode: oursMode,
      root,
      dbUrl,
      blobDir,
      logFile: path.join(out, 'ours-profile.log'),
      cpuProfDir: dir,
    });
    let rps = 0;
    const window: [number, number] = [0, 0];
    try {
      if (warmup > 0) await runWrk(peer.url, listFile, warmup);
      window[0] = Number(process.hrtime.bigint() / 1000n);
      rps = parseWrk(await runWrk(peer.url, listFile, duration)).requestsPerSecond;
      window[1] = Number(process.hrtime.bigint() / 1000n);
    } finally {
      await peer.stop();
    }
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no CPU profile was written in ${dir}`);
    const prof = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    // only the timed load: not the start-up (module loading) nor the warm-up
    results.push({ name, rps, costs: profileCosts(prof, root, 25, window) });
    console.error(`  profile ${name}: ${thousands(rps)} req/s under --cpu-prof → ${path.join(dir, file)}`);
  }
  return results;
}

// ---- main --------------------------------------------------------------------------------------------------

for (const tool of ['wrk', 'nginx']) {
  if (!which(tool)) {
    console.error(`bench-serve: ${tool} is not installed (run: bash scripts/setup.sh --bench); stopping`);
    process.exit(1);
  }
}
if (!existsSync(path.join(peersDir, TILESERVER_MAIN))) {
  console.error(
    `bench-serve: tileserver-gl-light is not in ${peersDir} (run: bash scripts/setup.sh --bench); stopping`,
  );
  process.exit(1);
}
if (!existsSync(path.join(root, 'build/cli'))) {
  console.error('bench-serve: the CLI is not built (run: npx tsc -p tsconfig.build.json); stopping');
  process.exit(1);
}
if (oursMode !== 'cli' && oursMode !== 'tsx') {
  console.error(`bench-serve: OURS must be cli or tsx, got '${oursMode}'`);
  process.exit(1);
}
if (oursMode === 'cli' && !buildIsCurrent()) {
  console.error(
    'bench-serve: the compiled CLI is older than the sources: run `make bench-serve` (it builds first), ' +
      'or OURS=tsx to run our server from the sources',
  );
  process.exit(1);
}
// without the tiles module (still the placeholder) only the peers run: the rest of the benchmark can be tried out
const withOurs = !/PLACEHOLDER/.test(readFileSync(path.join(root, 'serve/tiles/module.ts'), 'utf8'));
if (!withOurs) console.error('bench-serve: serve/tiles/module.ts is a placeholder: measuring the peers only');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const peers: Peer[] = [];
let database: BenchDatabase | undefined;
let exitCode = 0;
try {
  console.error(`bench-serve: building ${region}'s base map…`);
  const built = buildArchive(path.join(out, 'archive'));
  database = await benchDatabase();
  const blobDir = path.join(out, 'blob');
  const rel = await releaseArchive(database.url, blobDir, built);
  const archive = path.join(blobDir, ...rel.key.split('/'));
  const stored = readFileSync(archive);
  const { tiles: all, compression } = await archiveTiles(archive);
  const tiles = sampleEvenly(all, maxTiles);
  const meanTileBytes = tiles.reduce((s, t) => s + t.length, 0) / tiles.length;
  console.error(
    `bench-serve: release ${rel.release}, archive ${rel.key} (${(stored.length / 1e6).toFixed(2)} MB), ` +
      `${all.length} tiles, ${tiles.length} in the list (mean ${Math.round(meanTileBytes)} B stored)`,
  );

  console.error('bench-serve: starting the servers…');
  const ours = await startOurs({
    root,
    mode: oursMode,
    dbUrl: database.url,
    blobDir,
    logFile: path.join(out, 'ours.log'),
    workers: oursWorkers,
  });
  peers.push(ours);
  const tileserver = await startTileserver({
    peersDir,
    workDir: path.join(out, 'tileserver'),
    archive,
    id: region,
    logFile: path.join(out, 'tileserver.log'),
  });
  peers.push(tileserver);
  const nginx = await startNginx({
    workDir: path.join(out, 'nginx-tuned'),
    root: blobDir,
    workers: nginxWorkers,
    style: 'tuned',
    logFile: path.join(out, 'nginx-tuned.log'),
  });
  peers.push(nginx);
  const nginxDebian = await startNginx({
    workDir: path.join(out, 'nginx-debian'),
    root: blobDir,
    workers: nginxWorkers,
    style: 'debian',
    logFile: path.join(out, 'nginx-debian.log'),
  });
  peers.push(nginxDebian);

  const urls: Urls = {
    ours: ours.url,
    oursArchivePath: withOurs ? await ourArchivePath(ours.url) : '',
    tileserver: tileserver.url,
    nginx: nginx.url,
    nginxDebian: nginxDebian.url,
    nginxArchivePath: `/${rel.key}`,
  };
  const check = await checkResponses(tiles, stored, compression, urls, withOurs);
  console.error(
    `bench-serve: ${check.checked} tiles checked on every server: same tile bytes (ours ${check.oursEncoding} as ` +
      'stored; tileserver-gl-light re-gzipped, equal once gunzipped), Range answers 206 with the exact bytes',
  );

  const listFile = (name: string, requests: BenchRequest[]) => {
    const f = path.join(out, `requests-${name}.txt`);
    writeFileSync(f, requestListText(requests));
    return f;
  };
  const lists = {
    oursTiles: listFile(
      'ours-tiles',
      tiles.map((t) => ({ path: ourTilePath(t) })),
    ),
    tileserverTiles: listFile(
      'tileserver-tiles',
      tiles.map((t) => ({ path: tileserverPath(t) })),
    ),
    oursRange: listFile(
      'ours-range',
      tiles.map((t) => ({ path: urls.oursArchivePath, range: tileRange(t) })),
    ),
    nginxRange: listFile(
      'nginx-range',
      tiles.map((t) => ({ path: urls.nginxArchivePath, range: tileRange(t) })),
    ),
  };
  const allCases: Case[] = [
    { id: 'ours-tiles', label: 'weft /{z}/{x}/{y}.mvt', peer: ours, listFile: lists.oursTiles },
    {
      id: 'tileserver-tiles',
      label: 'tileserver-gl-light /data/…pbf',
      peer: tileserver,
      listFile: lists.tileserverTiles,
    },
    { id: 'ours-range', label: 'weft .pmtiles Range', peer: ours, listFile: lists.oursRange },
    { id: 'nginx-range', label: 'nginx static Range (tuned)', peer: nginx, listFile: lists.nginxRange },
    {
      id: 'nginx-debian-range',
      label: 'nginx static Range (Debian conf)',
      peer: nginxDebian,
      listFile: lists.nginxRange,
    },
  ];
  const cases = allCases.filter(
    (c) => (withOurs || c.peer !== ours) && (!caseFilter || caseFilter.includes(c.id)),
  );
  const runs = new Map<Case['id'], CaseRun[]>(allCases.map((c) => [c.id, []]));
  const loadStart = loadavg();
  for (let round = 1; round <= rounds; round++) {
    // alternate the order, so a swing in the machine's load hits every server alike
    const order = round % 2 === 1 ? cases : [...cases].reverse();
    for (const c of order) runs.get(c.id)!.push(await runCase(c, round));
  }
  const memory = new Map(peers.map((p) => [p.name, peakRssMiB(p)]));
  for (const p of peers.splice(0).reverse()) await p.stop();

  const profiles =
    profile && withOurs
      ? await profileOurs(database.url, blobDir, { tiles: lists.oursTiles, range: lists.oursRange })
      : [];

  // ---- report --------------------------------------------------------------------------------------------
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const rps = (id: Case['id']) => mean(runs.get(id)!.map((r) => r.wrk.requestsPerSecond));
  const perCpu = (id: Case['id']) => {
    const rs = runs.get(id)!;
    if (!rs.length) return NaN;
    return (
      rs.reduce((s, r) => s + r.wrk.requests, 0) /
      Math.max(
        1e-9,
        rs.reduce((s, r) => s + r.cpuSeconds, 0),
      )
    );
  };
  const worst = (id: Case['id'], f: (w: WrkResult) => number) =>
    runs.get(id)!.length ? Math.max(...runs.get(id)!.map((r) => f(r.wrk))) : NaN;
  const versions = {
    tileserver: (
      JSON.parse(
        readFileSync(path.join(peersDir, 'node_modules/tileserver-gl-light/package.json'), 'utf8'),
      ) as { version: string }
    ).version,
    nginx: execFileSync('sh', ['-c', 'nginx -v 2>&1'], { encoding: 'utf8' }).trim(),
    wrk: execFileSync('sh', ['-c', 'wrk -v 2>&1 | head -1'], { encoding: 'utf8' }).trim(),
  };

  console.log(
    `\n## bench-serve: ${region} base map (${all.length} tiles, ${tiles.length} requested in a cycle)`,
  );
  console.log(
    `wrk -t${threads} -c${connections} -d${duration}s --latency (warm-up ${warmup} s per case), loopback; ` +
      `${rounds} rounds, alternating order; ${versions.wrk.split(' ').slice(0, 2).join(' ')}, ` +
      `tileserver-gl-light ${versions.tileserver}, ${versions.nginx.replace('nginx version: ', '')} ` +
      `(worker_processes ${nginxWorkers}), node ${process.version}; weft: ` +
      `${oursMode === 'cli' ? `the built \`weft serve --workers ${oursWorkers}\`` : 'bench/serve-server.ts under tsx'}; ` +
      `load average at start ${loadStart}, now ${loadavg()}`,
  );
  const rows: string[][] = [
    [
      'case',
      'req/s',
      'per round',
      'p50 ms',
      'p99 ms',
      'max ms',
      'HTTP≥400',
      'sock err',
      'B/resp',
      'srv cores',
      'kernel',
      'req/CPU-s',
      'machine busy',
      'peak RSS MiB',
    ],
  ];
  for (const c of cases) {
    const rs = runs.get(c.id)!;
    const reqs = rs.reduce((s, r) => s + r.wrk.requests, 0);
    rows.push([
      c.label,
      thousands(rps(c.id)),
      rs.map((r) => thousands(r.wrk.requestsPerSecond)).join(' / '),
      rs.map((r) => r.wrk.latencyMs.p50.toFixed(2)).join(' / '),
      rs.map((r) => r.wrk.latencyMs.p99.toFixed(2)).join(' / '),
      worst(c.id, (w) => w.latencyMs.max).toFixed(1),
      String(rs.reduce((s, r) => s + r.wrk.httpErrors, 0)),
      String(rs.reduce((s, r) => s + socketErrorCount(r.wrk), 0)),
      thousands(rs.reduce((s, r) => s + r.wrk.bytesRead, 0) / reqs),
      mean(rs.map((r) => r.cpuSeconds / r.wrk.seconds)).toFixed(2),
      `${(
        (100 * rs.reduce((s, r) => s + r.systemSeconds, 0)) /
        Math.max(
          1e-9,
          rs.reduce((s, r) => s + r.cpuSeconds, 0),
        )
      ).toFixed(0)} %`,
      thousands(perCpu(c.id)),
      rs.map((r) => `${(r.machineBusy * 100).toFixed(0)} %`).join(' / '),
      memory.get(c.peer.name)!.peak.toFixed(0),
    ]);
  }
  console.log('\n' + table(rows));
  console.log(
    'req/s = mean over rounds; HTTP≥400 = wrk\'s "Non-2xx or 3xx" count (status ≥ 400); B/resp = bytes read per ' +
      'response incl. headers; srv cores = server CPU time / wall time; kernel = its share in system time (syscalls, loopback TCP); req/CPU-s = requests per second of server ' +
      "CPU (less sensitive to the machine's load); machine busy = all cores, incl. wrk and other users; peak RSS = " +
      'VmHWM over the whole run (nginx: master + workers)',
  );

  /** ratio targets: requests/s of case a over case b; the Debian-config rows are for comparison only */
  const ratios: { name: string; a: Case['id']; b: Case['id']; bound: number }[] = [
    { name: 'tiles: weft / tileserver-gl-light req/s', a: 'ours-tiles', b: 'tileserver-tiles', bound: 10 },
    { name: 'tiles: weft / nginx Range req/s (same tiles)', a: 'ours-tiles', b: 'nginx-range', bound: 0.5 },
    { name: 'Range: weft .pmtiles / nginx req/s', a: 'ours-range', b: 'nginx-range', bound: 0.5 },
    {
      name: '(tiles: weft / nginx Debian conf)',
      a: 'ours-tiles',
      b: 'nginx-debian-range',
      bound: 0.5,
    },
    {
      name: '(Range: weft / nginx Debian conf)',
      a: 'ours-range',
      b: 'nginx-debian-range',
      bound: 0.5,
    },
  ];
  const targets: TargetCheck[] = [
    ...ratios.map((r) => checkTarget(r.name, rps(r.a) / rps(r.b), r.bound, 'min', '×')),
    checkTarget(
      'tiles: weft p99 (worst round)',
      worst('ours-tiles', (w) => w.latencyMs.p99),
      10,
      'max',
      'ms',
    ),
    checkTarget(
      'Range: weft p99 (worst round)',
      worst('ours-range', (w) => w.latencyMs.p99),
      10,
      'max',
      'ms',
    ),
  ];
  const perRound = (a: Case['id'], b: Case['id']) =>
    runs
      .get(a)!
      .map((r, i) => {
        const other = runs.get(b)![i];
        return other ? (r.wrk.requestsPerSecond / other.wrk.requestsPerSecond).toFixed(2) : 'n/a';
      })
      .join(' / ');
  const cpuRatio: Record<string, string> = Object.fromEntries(
    ratios.map((r) => {
      const x = perCpu(r.a) / perCpu(r.b);
      return [r.name, Number.isFinite(x) ? x.toFixed(2) : 'n/a'];
    }),
  );
  const roundRatio: Record<string, string> = Object.fromEntries(
    ratios.map((r) => [r.name, perRound(r.a, r.b)]),
  );
  const trows: string[][] = [['target', 'measured', 'per round', 'per CPU-s', 'bound', 'result']];
  for (const t of targets)
    trows.push([
      t.name,
      Number.isFinite(t.value) ? `${t.value.toFixed(2)} ${t.unit}` : 'n/a',
      roundRatio[t.name] ?? '',
      cpuRatio[t.name] ?? '',
      `${t.kind === 'min' ? '≥' : '<'} ${t.bound} ${t.unit}`,
      !Number.isFinite(t.value)
        ? 'n/a'
        : t.name.startsWith('(')
          ? `(${t.met ? 'above' : 'below'})`
          : t.met
            ? 'met'
            : 'MISSED',
    ]);
  console.log('\n' + table(trows));
  console.log(
    `peak RSS: ${[...memory].map(([n, m]) => `${n} ${m.peak.toFixed(0)} MiB (now ${m.now.toFixed(0)})`).join(', ')}`,
  );

  for (const p of profiles) {
    console.log(
      `\n### where our time goes: ${p.name} (--cpu-prof, ${thousands(p.rps)} req/s under the profiler; ` +
        `${(p.costs.busyMs / 1000).toFixed(1)} s busy, ${(p.costs.idleMs / 1000).toFixed(1)} s idle on the main thread; ` +
        'self time = sampled time of the main thread, so time it spent preempted inside a call counts to that call)',
    );
    console.log(
      table([
        ['self time by group', 'share', 'ms'],
        ...p.costs.groups
          .slice(0, 15)
          .map((g) => [g.name, `${(g.share * 100).toFixed(1)} %`, g.ms.toFixed(0)]),
      ]),
    );
    console.log('');
    console.log(
      table([
        ['self time by function', 'share', 'ms'],
        ...p.costs.functions
          .slice(0, 15)
          .map((g) => [g.name, `${(g.share * 100).toFixed(1)} %`, g.ms.toFixed(0)]),
      ]),
    );
  }

  writeFileSync(
    path.join(out, 'result.json'),
    JSON.stringify(
      {
        region,
        release: rel.release,
        archive: { key: rel.key, bytes: stored.length, tiles: all.length, requested: tiles.length },
        settings: { duration, warmup, rounds, connections, threads, nginxWorkers, ours: oursMode },
        versions,
        load: { start: loadStart, end: loadavg() },
        cases: cases.map((c) => ({ id: c.id, label: c.label, runs: runs.get(c.id) })),
        memoryMiB: Object.fromEntries(memory),
        targets,
        profiles,
      },
      null,
      2,
    ),
  );
  if (targets.some((t) => !t.met && Number.isFinite(t.value) && !t.name.startsWith('(')))
    console.log('\nsome targets were missed (see above); results in bench/out/serve/');
} catch (err) {
  console.error(`bench-serve: ${errorMessage(err)}`);
  exitCode = 1;
} finally {
  for (const p of peers.reverse()) await p.stop().catch(() => {});
  await database?.drop().catch(() => {});
}
process.exit(exitCode);
