// The two archives a publish uploads: built here (base, activity at T) or given as files, each checked to be a
// PMTiles archive, with what the manifest records about them (the OSM source and its sha256, the event position).
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Db } from '../../core/db/adapter.js';
import { checkpoint } from '../../core/eventstore.js';
import { errorMessage, UserError } from '../../core/errors.js';
import { PMTilesReader } from '../pmtiles/reader.js';
import type { Region } from '../region.js';
import { digestFile } from './integrity.js';
import type { ReleaseManifest } from './manifest.js';

export type ManifestSource = ReleaseManifest['source'];

/** What the stats of a base build say about its OSM source. */
interface BaseStats {
  source?: { path?: string; sha256?: string };
}

/** The builders publish runs when no file is given; replaceable in tests. */
export interface Builders {
  base(
    region: string,
    opts: { outDir: string; quiet?: boolean },
  ): Promise<{ archive: string; stats: BaseStats }>;
  /** resolves to at least `{ archive }`; an event position in the result (e.g. `position`) goes to the manifest */
  activity(region: string, opts: { at: Date; outDir: string; quiet?: boolean; db?: Db }): Promise<unknown>;
}

export const defaultBuilders: Builders = {
  async base(region, opts) {
    const { buildBase } = await import('../build-base.js');
    return buildBase(region, { outDir: opts.outDir, quiet: opts.quiet });
  },
  async activity(region, opts) {
    const { buildActivity } = await import('../build-activity.js');
    return buildActivity(region, opts);
  },
};

export interface ResolvedInputs {
  base: string;
  activity: string;
  /** publish time T: the one asked for, else the one the given activity archive was built at, else now */
  at: Date;
  source: ManifestSource;
  eventPosition: number | null;
}

export interface ResolveOptions {
  at?: Date;
  base?: string;
  activity?: string;
  /** where builds write (default dist/<region>) */
  outDir?: string;
  quiet?: boolean;
  builders?: Builders;
  /** the database the activity build reads (and whose projections' checkpoint stands in for a missing position) */
  db?: Db;
}

const POSITION_FIELDS = ['eventPosition', 'event_position', 'lastPosition', 'lastEventPosition', 'position'];

/** An event position (a whole number ≥ 0) found in an object or one level down, or undefined. */
export function findPosition(value: unknown, depth = 0): number | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const obj = value as Record<string, unknown>;
  for (const f of POSITION_FIELDS) {
    const v = obj[f];
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) return n;
  }
  if (depth > 0) return undefined;
  for (const nested of ['stats', 'weft', 'activity']) {
    const found = findPosition(obj[nested], depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The publish time an activity archive records in its metadata (`published_at`), when it has one. */
function publishedAt(metadata: unknown): Date | undefined {
  const v = (metadata as { published_at?: unknown } | null)?.published_at;
  const d = typeof v === 'string' ? new Date(v) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : undefined;
}

/** Opens the file as a PMTiles archive (header, root directory, metadata) or fails naming it and its flag. */
async function archiveMetadata(path: string, flag: string): Promise<unknown> {
  if (!existsSync(path)) throw new UserError(`${flag} ${path}: no such file`, 'not_found');
  let reader: PMTilesReader | undefined;
  try {
    reader = await PMTilesReader.openFile(path);
    return await reader.metadata();
  } catch (err) {
    throw new UserError(
      `${flag} ${path}: not a readable PMTiles archive: ${errorMessage(err)}`,
      'bad_archive',
    );
  } finally {
    await reader?.close();
  }
}

/** The base build's stats beside an archive (`base.pmtiles` → `base.stats.json`), when they exist. */
function statsBeside(archive: string): BaseStats | undefined {
  const file = archive.replace(/\.pmtiles$/i, '') + '.stats.json';
  if (file === archive || !existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as BaseStats;
  } catch {
    return undefined;
  }
}

/** The manifest's source entry: the extract's file name, the region's URL and the extract's sha256. */
async function sourceOf(region: Region, stats: BaseStats | undefined): Promise<ManifestSource> {
  const path = stats?.source?.path;
  if (!path) return null;
  let sha256 = stats.source?.sha256 ?? null;
  if (!sha256 && existsSync(path)) sha256 = (await digestFile(path)).sha256;
  return { file: basename(path), url: region.source.url, sha256 };
}

/** Builds what was not given, checks both archives, and gathers the manifest's source and event position. */
export async function resolveInputs(
  regionArg: string,
  region: Region,
  opts: ResolveOptions,
): Promise<ResolvedInputs> {
  const builders = opts.builders ?? defaultBuilders;
  const outDir = opts.outDir ?? join('dist', region.id);

  // Given files are checked before anything is built: a wrong path should not cost a build first.
  const given = new Map<string, unknown>();
  if (opts.base) given.set(opts.base, await archiveMetadata(opts.base, '--base'));
  if (opts.activity) given.set(opts.activity, await archiveMetadata(opts.activity, '--activity'));

  let base: string;
  let stats: BaseStats | undefined;
  if (opts.base) {
    base = opts.base;
    stats = statsBeside(base);
  } else {
    const built = await builders.base(regionArg, { outDir, quiet: opts.quiet });
    base = built.archive;
    stats = built.stats;
  }

  let activity: string;
  let eventPosition: number | undefined;
  let at = opts.at;
  if (opts.activity) {
    activity = opts.activity;
  } else {
    at ??= new Date();
    const built = await builders.activity(regionArg, { at, outDir, quiet: opts.quiet, db: opts.db });
    const archive = (built as { archive?: unknown } | undefined)?.archive;
    activity = typeof archive === 'string' ? archive : join(outDir, 'activity.pmtiles');
    eventPosition = findPosition(built);
  }

  if (!opts.base) await archiveMetadata(base, 'the built base archive');
  const activityMeta = given.has(activity)
    ? given.get(activity)
    : await archiveMetadata(activity, 'the built activity archive');
  eventPosition ??= findPosition(activityMeta);
  if (eventPosition === undefined && !opts.activity && opts.db) eventPosition = await checkpoint(opts.db);
  const builtAt = publishedAt(activityMeta);
  if (opts.activity && at && builtAt && builtAt.getTime() !== at.getTime())
    throw new UserError(
      `--activity ${activity} was built as of ${builtAt.toISOString()}, not the --at ${at.toISOString()} asked for`,
      'bad_input',
    );
  at ??= builtAt ?? new Date();
  return {
    base,
    activity,
    at,
    source: await sourceOf(region, stats),
    eventPosition: eventPosition ?? null,
  };
}
