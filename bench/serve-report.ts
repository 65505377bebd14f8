// `make bench-serve`'s pure parts: which tiles to request, the request lists wrk cycles through, reading wrk's
// summary, the targets, a CPU profile's top costs, and the plain-text tables. No I/O here.

/** One tile of the list: where it is and where its stored bytes lie in the archive (absolute file offsets). */
export interface BenchTile {
  z: number;
  x: number;
  y: number;
  tileId: number;
  /** absolute offset of the tile's bytes in the archive file */
  offset: number;
  length: number;
}

/** `n` items spread evenly over `items` (all of them when there are no more than n), in their order. */
export function sampleEvenly<T>(items: readonly T[], n: number): T[] {
  if (items.length <= n) return [...items];
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(items[Math.floor((i * items.length) / n)]!);
  return out;
}

/** A request wrk sends: a path and, for Range requests, the header value. */
export interface BenchRequest {
  path: string;
  range?: string;
}

/** The Range header that asks for exactly one tile's stored bytes. */
export const tileRange = (t: BenchTile): string => `bytes=${t.offset}-${t.offset + t.length - 1}`;

/** The request list file bench/serve-wrk.lua reads: one request a line, `path<TAB>range`. */
export function requestListText(requests: readonly BenchRequest[]): string {
  return requests.map((r) => `${r.path}\t${r.range ?? ''}`).join('\n') + '\n';
}

/** What one wrk run reports. */
export interface WrkResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  bytesRead: number;
  latencyMs: { p50: number; p75: number; p90: number; p99: number; avg: number; max: number };
  /** responses with status ≥ 400 (wrk's "Non-2xx or 3xx responses") */
  httpErrors: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
}

const TIME_UNITS: Record<string, number> = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };
const SIZE_UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

function ms(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`wrk: cannot read the duration '${text}'`);
  return Number(m[1]) * TIME_UNITS[m[2]!]!;
}

/** Reads wrk's summary (run with `--latency`); throws when a line it needs is missing. */
export function parseWrk(output: string): WrkResult {
  const need = (re: RegExp, what: string): RegExpExecArray => {
    const m = re.exec(output);
    if (!m) throw new Error(`wrk: no ${what} in its output:\n${output}`);
    return m;
  };
  const total = need(/(\d+) requests in ([\d.]+\w+), ([\d.]+)(B|KB|MB|GB|TB) read/, 'request count');
  const rps = need(/Requests\/sec:\s+([\d.]+)/, 'Requests/sec');
  const lat = need(/Latency\s+([\d.]+\w+)\s+([\d.]+\w+)\s+([\d.]+\w+)/, 'latency line');
  const pct = (p: string) =>
    ms(need(new RegExp(`^\\s+${p}%\\s+([\\d.]+\\w+)\\s*$`, 'm'), `${p}% latency`)[1]!);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const http = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  return {
    requests: Number(total[1]),
    seconds: ms(total[2]!) / 1e3,
    requestsPerSecond: Number(rps[1]),
    bytesRead: Number(total[3]) * SIZE_UNITS[total[4]!]!,
    latencyMs: {
      p50: pct('50'),
      p75: pct('75'),
      p90: pct('90'),
      p99: pct('99'),
      avg: ms(lat[1]!),
      max: ms(lat[3]!),
    },
    httpErrors: http ? Number(http[1]) : 0,
    socketErrors: sock
      ? { connect: Number(sock[1]), read: Number(sock[2]), write: Number(sock[3]), timeout: Number(sock[4]) }
      : { connect: 0, read: 0, write: 0, timeout: 0 },
  };
}

export const socketErrorCount = (r: WrkResult): number =>
  r.socketErrors.connect + r.socketErrors.read + r.socketErrors.write + r.socketErrors.timeout;

/** One target of the issue: a measured value against its bound. */
export interface TargetCheck {
  name: string;
  value: number;
  bound: number;
  /** 'min': value ≥ bound meets it; 'max': value < bound */
  kind: 'min' | 'max';
  met: boolean;
  unit: string;
}

export function checkTarget(name: string, value: number, bound: number, kind: 'min' | 'max', unit: string) {
  const met = kind === 'min' ? value >= bound : value < bound;
  return { name, value, bound, kind, met, unit } satisfies TargetCheck;
}

// ---- CPU profiles -------------------------------------------------------------------------------------------

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileCost {
  /** function name and where it is (file:line, relative to the repository where possible) */
  name: string;
  /** share of all non-idle sampled time */
  share: number;
  ms: number;
}

/**
 * Where a frame's code lives, for grouping: our code (by file), a dependency, Node's own modules, or native code
 * (by function: `writev` is the socket write, the kernel's loopback send included).
 */
export function frameGroup(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(program)') return 'V8/native (program)';
    if (functionName === '(idle)') return 'idle';
    return `native ${functionName || '(anonymous)'}`;
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/').slice(0, 2).join('/')}`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `dep ${nm[1]}`;
  const ours = /\/((?:serve|core|pipeline|bench)\/.*)$/.exec(url);
  if (ours) return ours[1]!.replace(/\.(ts|js)$/, '');
  return url;
}

/**
 * The top self-time costs of a profile (by function, and by file/group), idle time left out of the shares.
 * `window`: only the samples taken between these two times (µs of the monotonic clock, as process.hrtime and the
 * profile's timestamps count on Linux), e.g. the timed load without the start-up.
 */
export function profileCosts(profile: CpuProfile, root: string, top = 15, window?: [number, number]) {
  const self = new Map<number, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (window && (t < window[0] || t > window[1])) continue;
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + dt);
  }
  const byFunction = new Map<string, number>();
  const byGroup = new Map<string, number>();
  let busyUs = 0;
  let idleUs = 0;
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    if (!us) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const file = url.startsWith('file://') ? decodeURIComponent(url.slice(7)) : url;
    const where = file ? `${file.startsWith(root) ? file.slice(root.length) : file}:${lineNumber + 1}` : '';
    const name = `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    const group = frameGroup(file, functionName);
    byGroup.set(group, (byGroup.get(group) ?? 0) + us);
  }
  const rank = (m: Map<string, number>): ProfileCost[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, share: busyUs ? us / busyUs : 0, ms: us / 1e3 }));
  return { busyMs: busyUs / 1e3, idleMs: idleUs / 1e3, functions: rank(byFunction), groups: rank(byGroup) };
}

// ---- tables -------------------------------------------------------------------------------------------------

/** Columns padded to their widest cell; the first column left-aligned, the others right-aligned. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '),
    )
    .join('\n');
}

/** 12345.6 → "12,346" */
export const thousands = (n: number): string => Math.round(n).toLocaleString('en-US');
