// A small typed wrapper around the osmium-tool CLI: header info, extract, relation filter (OPL) and a streaming export.
// Every failure of osmium reaches the caller as one UserError line naming the file and osmium's own message.
import { spawn } from 'node:child_process';
import { UserError } from '../../core/errors.js';
import type { SourceFeature } from '../tiler/types.js';

export type BBox = [west: number, south: number, east: number, north: number];

/** The osmium binary: WEFT_OSMIUM, else `osmium` on PATH (read on each call). */
const osmiumBin = () => process.env.WEFT_OSMIUM || 'osmium';
const STDERR_LIMIT = 64 * 1024;

/** Turns osmium's stderr into one line: its last meaningful message, with a hint for the common cases. */
export function describeOsmiumFailure(
  command: string,
  file: string,
  stderr: string,
  code: number | null,
): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^\[[ 0-9:]+\]/.test(l) && !/^\d+%/.test(l));
  const message = lines.length ? lines[lines.length - 1]! : `exit code ${code}`;
  let hint = '';
  if (/unexpected EOF|truncated|premature end/i.test(message))
    hint = ' — the file looks truncated; download it again';
  else if (/BlobHeader|invalid.*blob|not a PBF|unknown file format|protobuf/i.test(message))
    hint = ' — not a readable OSM PBF file (corrupt or another format)';
  else if (/lz4|zstd|lzma|compression/i.test(message))
    hint =
      ' — the PBF uses a block compression this osmium build cannot read; recompress it with `osmium cat IN -o OUT`';
  else if (/Open failed|No such file/i.test(message)) hint = ' — cannot open the file';
  return `osmium ${command} failed on ${file}: ${message}${hint}`;
}

function spawnOsmium(args: string[]) {
  return spawn(osmiumBin(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
}

function notInstalled(err: NodeJS.ErrnoException): UserError {
  if (err.code === 'ENOENT') {
    return new UserError(
      `osmium-tool is not installed (no "${osmiumBin()}" on PATH); install it with: apt-get install -y osmium-tool`,
      'missing_tool',
    );
  }
  return new UserError(`cannot run ${osmiumBin()}: ${err.message}`, 'missing_tool');
}

/** Runs osmium to completion; resolves with its stdout, or rejects with a UserError. */
export function runOsmium(args: string[], file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawnOsmium(args);
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      if (err.length < STDERR_LIMIT) err += b.toString('utf8');
    });
    child.on('error', (e) => reject(notInstalled(e)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else
        reject(new UserError(describeOsmiumFailure(args[0]!, file, err || (signal ?? ''), code), 'bad_osm'));
    });
  });
}

/** `osmium --version`'s first line, e.g. "osmium version 1.15.0". */
export async function osmiumVersion(): Promise<string> {
  return (await runOsmium(['--version'], '(version)')).split('\n')[0]!.trim();
}

/** The bounding box in the file's header (the first one), if it has one. Reads only the header. */
export async function headerBbox(file: string): Promise<BBox | undefined> {
  const json = await runOsmium(['fileinfo', '-j', '--no-progress', file], file);
  const info = JSON.parse(json) as { header?: { boxes?: number[][] } };
  const box = info.header?.boxes?.[0];
  return box && box.length === 4 ? [box[0]!, box[1]!, box[2]!, box[3]!] : undefined;
}

export type ExtractArea = { bbox: BBox } | { polygonFile: string };

/** `osmium extract` of an area into a new PBF (strategy "smart": multipolygons crossing the edge stay whole). */
export async function extract(input: string, output: string, area: ExtractArea): Promise<void> {
  const where = 'bbox' in area ? ['-b', area.bbox.join(',')] : ['-p', area.polygonFile];
  await runOsmium(
    ['extract', ...where, '-s', 'smart', '--set-bounds', '--no-progress', '-O', '-o', output, input],
    input,
  );
}

/**
 * The objects matching tags-filter expressions, without the objects they reference, as OPL lines without
 * metadata (e.g. `r123 Tboundary=administrative,admin_level=2 Mw1@outer,w2@outer`). One fast pass.
 */
export async function filterOpl(input: string, expressions: string[]): Promise<string[]> {
  const text = await runOsmium(
    ['tags-filter', '-R', '--no-progress', '-f', 'opl,add_metadata=false', '-o', '-', input, ...expressions],
    input,
  );
  return text.split('\n').filter((l) => l.length > 0);
}

export interface ExportOptions {
  /** osmium export config file (tags to keep, area handling) */
  config?: string;
  /** restrict the geometry types written */
  geometryTypes?: Array<'point' | 'linestring' | 'polygon'>;
  /** attributes to add as "@name" properties */
  attributes?: Array<'type' | 'id' | 'version' | 'timestamp'>;
  /** also export objects without (kept) tags */
  keepUntagged?: boolean;
  /** features per yielded batch (default 2048) */
  batchSize?: number;
}

/**
 * Streams `osmium export -f geojsonseq` of a file as raw byte chunks cut at line ends (about `chunkBytes` each), for
 * parsing elsewhere (the engine's workers). Throws a UserError after the last good chunk if osmium fails.
 */
export async function* exportRaw(
  input: string,
  opts: ExportOptions & { chunkBytes?: number } = {},
): AsyncGenerator<Uint8Array> {
  const args = [
    'export',
    input,
    '-f',
    'geojsonseq',
    '-x',
    'print_record_separator=false',
    '--no-progress',
    '-o',
    '-',
  ];
  if (opts.config) args.push('-c', opts.config);
  if (opts.geometryTypes) args.push(`--geometry-types=${opts.geometryTypes.join(',')}`);
  if (opts.attributes?.length) args.push(`--attributes=${opts.attributes.join(',')}`);
  if (opts.keepUntagged) args.push('--keep-untagged');
  const chunkBytes = opts.chunkBytes ?? 256 * 1024;
  const child = spawnOsmium(args);
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => {
    if (stderr.length < STDERR_LIMIT) stderr += b.toString('utf8');
  });
  let spawnError: UserError | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (e) => {
      spawnError = notInstalled(e);
      resolve({ code: null, signal: null });
    });
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  let finished = false;
  try {
    let pending: Buffer[] = [];
    let size = 0;
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      pending.push(chunk);
      size += chunk.length;
      if (size < chunkBytes) continue;
      const data = Buffer.concat(pending, size);
      const cut = data.lastIndexOf(10);
      if (cut < 0) {
        pending = [data];
        continue;
      }
      const out = new Uint8Array(cut + 1);
      out.set(data.subarray(0, cut + 1));
      const rest = data.subarray(cut + 1);
      pending = rest.length ? [Buffer.from(rest)] : [];
      size = rest.length;
      yield out;
    }
    const { code, signal } = await exited;
    if (spawnError) throw spawnError;
    if (code !== 0) {
      throw new UserError(
        describeOsmiumFailure('export', input, stderr || String(signal ?? ''), code),
        'bad_osm',
      );
    }
    if (size) yield new Uint8Array(Buffer.concat(pending, size));
    finished = true;
  } finally {
    if (!finished && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
}

/**
 * Streams `osmium export -f geojsonseq` of a file as batches of features (GeoJSON Feature objects as parsed).
 * Stops osmium when the consumer stops early; throws a UserError after the last good batch if osmium fails.
 */
export async function* exportFeatures(
  input: string,
  opts: ExportOptions = {},
): AsyncGenerator<SourceFeature[]> {
  const batchSize = opts.batchSize ?? 2048;
  const decoder = new TextDecoder();
  let batch: SourceFeature[] = [];
  for await (const chunk of exportRaw(input, opts)) {
    const text = decoder.decode(chunk);
    let start = 0;
    while (start < text.length) {
      let nl = text.indexOf('\n', start);
      if (nl === -1) nl = text.length;
      // tolerate a record separator (RFC 8142) in case the format option is ignored
      const from = text.charCodeAt(start) === 0x1e ? start + 1 : start;
      if (nl > from) batch.push(JSON.parse(text.slice(from, nl)) as SourceFeature);
      start = nl + 1;
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length) yield batch;
}
