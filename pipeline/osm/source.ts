// Finds a region's OSM extract: the local cache, then the search path (WEFT_OSM_PATH), then a download of its URL.
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError, errorMessage } from '../../core/errors.js';
import type { Region } from '../region.js';
import { defaultOsmCacheDir, sharedDataDir } from './paths.js';

export interface SourceOptions {
  /** the download cache (default `<repo>/.cache/osm`) */
  cacheDir?: string;
  /** folders searched after the cache (default: osmSearchPath()) */
  searchPath?: string[];
  /** allow downloading the region's URL (default true unless WEFT_OFFLINE=1) */
  download?: boolean;
  log?: (line: string) => void;
}

export interface ResolvedSource {
  path: string;
  origin: 'cache' | 'search-path' | 'download';
  /** sha256 of the file when the region pins one (checked) or when it was downloaded */
  sha256?: string;
}

/**
 * The search path: WEFT_OSM_PATH (folders separated by ":") when set, else `<repo>/../shared/data/osm` when it exists.
 */
export function osmSearchPath(env: NodeJS.ProcessEnv = process.env): string[] {
  const configured = env.WEFT_OSM_PATH;
  if (configured !== undefined) return configured.split(path.delimiter).filter((d) => d.length > 0);
  const shared = sharedDataDir();
  return shared && existsSync(path.join(shared, 'osm')) ? [path.join(shared, 'osm')] : [];
}

/** sha256 of a file, hex. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** Resolves the region's extract to a local file, downloading it into the cache as a last resort. */
export async function resolveOsmSource(region: Region, opts: SourceOptions = {}): Promise<ResolvedSource> {
  const fileName = region.source.file;
  const want = region.source.sha256;
  const cacheDir = opts.cacheDir ?? defaultOsmCacheDir();
  const searchPath = opts.searchPath ?? osmSearchPath();
  const looked: string[] = [];

  const candidates: Array<{ dir: string; origin: ResolvedSource['origin'] }> = [
    { dir: cacheDir, origin: 'cache' },
    ...searchPath.map((dir) => ({ dir, origin: 'search-path' as const })),
  ];
  for (const { dir, origin } of candidates) {
    const file = path.resolve(dir, fileName);
    if (!existsSync(file) || !statSync(file).isFile()) {
      looked.push(`${file} (absent)`);
      continue;
    }
    if (want) {
      const got = await sha256File(file);
      if (got !== want) {
        looked.push(`${file} (sha256 ${got.slice(0, 12)}… ≠ pinned ${want.slice(0, 12)}…)`);
        continue;
      }
    }
    return { path: file, origin, ...(want ? { sha256: want } : {}) };
  }

  const download = opts.download ?? process.env.WEFT_OFFLINE !== '1';
  if (!download) {
    looked.push(`download of ${region.source.url} (skipped: offline)`);
  } else {
    const target = path.join(cacheDir, fileName);
    try {
      opts.log?.(`osm: downloading ${region.source.url} → ${target}`);
      const sha256 = await downloadTo(region.source.url, target, want);
      return { path: target, origin: 'download', sha256 };
    } catch (err) {
      looked.push(`download of ${region.source.url} (${errorMessage(err)})`);
    }
  }
  throw new UserError(
    `OSM extract "${fileName}" for region "${region.id}" not found; looked in: ${looked.join('; ')}`,
    'not_found',
  );
}

/** Downloads a URL to a file atomically (a .part file renamed at the end), checking the sha256 when given. */
export async function downloadTo(url: string, target: string, sha256?: string): Promise<string> {
  mkdirSync(path.dirname(target), { recursive: true });
  const part = `${target}.part-${process.pid}`;
  try {
    let res: Response;
    try {
      res = await fetch(url, { redirect: 'follow' });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(cause?.code ?? cause?.message ?? errorMessage(err));
    }
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
    const hash = createHash('sha256');
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => hash.update(chunk));
    await pipeline(body, createWriteStream(part));
    const got = hash.digest('hex');
    const expected = res.headers.get('content-length');
    if (expected !== null && statSync(part).size !== Number(expected)) {
      throw new Error(`incomplete: got ${statSync(part).size} of ${expected} bytes`);
    }
    if (sha256 && got !== sha256) throw new Error(`sha256 ${got} does not match the pinned ${sha256}`);
    renameSync(part, target);
    return got;
  } finally {
    rmSync(part, { force: true });
  }
}
