// The housekeeping job: per region in the blob store, deletes the releases planReleases lets go (manifest first, so
// the release leaves every listing before its archives go) and their archives — never an object a kept release
// names, never an object tagged prod — and archives no manifest names any more once they are a day old (a publish
// that failed halfway). Runs under each region's release lock; one audit row per run.
import type { BlobStore } from '../core/blob/adapter.js';
import { NotFound } from '../core/blob/errors.js';
import type { Db } from '../core/db/adapter.js';
import { writeAudit } from '../core/audit.js';
import { listReleases } from '../pipeline/releases/catalog.js';
import { withReleaseLock } from '../pipeline/releases/lock.js';
import { stageOf } from '../pipeline/releases/stage.js';
import {
  DEFAULT_POLICY,
  planReleases,
  type HousekeepingPolicy,
  type ReleaseDecision,
} from './housekeeping-plan.js';

export interface HousekeepingOptions {
  db: Db;
  blob: BlobStore;
  now?: Date;
  policy?: Partial<HousekeepingPolicy>;
  /** Archives no manifest names are deleted once older than this (default one day). */
  orphanGraceMs?: number;
  /** Only these regions (default: every region with objects under releases/ or tiles/). */
  regions?: string[];
  /** Decide and report, delete nothing. */
  dryRun?: boolean;
  actor?: string;
  log?: (line: string) => void;
}

export interface RegionHousekeeping {
  region: string;
  releases: ReleaseDecision[];
  /** Releases deleted (their manifests). */
  removed: string[];
  /** Object keys deleted (manifests, archives, orphans). */
  deleted: string[];
  deletedBytes: number;
  /** Objects left although their release went: named by a kept release, or tagged prod. */
  sparedShared: string[];
  /** Why orphan archives were not looked at, if they were not. */
  orphansSkipped?: string;
}

export interface HousekeepingResult {
  at: string;
  dryRun: boolean;
  regions: RegionHousekeeping[];
}

const DAY_MS = 86_400_000;

/** The regions with objects under releases/<region>/ or tiles/<region>/. */
async function regionsInStore(blob: BlobStore): Promise<string[]> {
  const found = new Set<string>();
  for (const prefix of ['releases/', 'tiles/'])
    for await (const e of blob.list(prefix)) {
      const parts = e.key.split('/');
      if (parts.length >= 3 && parts[1]) found.add(parts[1]);
    }
  return [...found].sort();
}

async function stageOfKey(blob: BlobStore, key: string): Promise<string | undefined> {
  try {
    return stageOf(await blob.getTags(key));
  } catch (err) {
    if (err instanceof NotFound) return undefined;
    throw err;
  }
}

async function cleanRegion(
  opts: HousekeepingOptions,
  region: string,
  now: Date,
  policy: HousekeepingPolicy,
): Promise<RegionHousekeeping> {
  const { blob } = opts;
  const log = opts.log ?? (() => {});
  const entries = await listReleases(blob, region);
  const decisions = planReleases(entries, now, policy);
  const byId = new Map(entries.map((e) => [e.id, e]));
  const kept = decisions.filter((d) => d.keep).map((d) => byId.get(d.id)!);
  const keptKeys = new Set<string>();
  for (const e of kept) {
    keptKeys.add(e.key);
    for (const f of e.manifest?.files ?? []) keptKeys.add(f.key);
  }
  const out: RegionHousekeeping = {
    region,
    releases: decisions,
    removed: [],
    deleted: [],
    deletedBytes: 0,
    sparedShared: [],
  };
  const sizes = new Map<string, number>();
  for await (const e of blob.list(`tiles/${region}/`)) sizes.set(e.key, e.size);

  const remove = async (key: string) => {
    if (out.deleted.includes(key) || out.sparedShared.includes(key)) return;
    if (keptKeys.has(key)) return void out.sparedShared.push(key);
    if ((await stageOfKey(blob, key)) === 'prod') return void out.sparedShared.push(key);
    if (!opts.dryRun) await blob.delete(key);
    out.deleted.push(key);
    out.deletedBytes += sizes.get(key) ?? 0;
  };

  for (const d of decisions.filter((x) => !x.keep)) {
    const e = byId.get(d.id)!;
    const size = (await blob.head(e.key))?.size ?? 0;
    // the manifest first: the release leaves every listing before any of its archives goes
    if ((await stageOfKey(blob, e.key)) === 'prod') continue;
    if (!opts.dryRun) await blob.delete(e.key);
    out.deleted.push(e.key);
    out.deletedBytes += size;
    out.removed.push(e.id);
    for (const f of e.manifest!.files) await remove(f.key);
    log(`${opts.dryRun ? 'would remove' : 'removed'} release ${region}/${e.id} (${d.why.join('; ')})`);
  }

  // archives that no manifest names: left by a publish that failed halfway
  if (kept.some((e) => !e.manifest)) {
    out.orphansSkipped = 'a kept manifest is unreadable, so what it names is unknown';
  } else {
    const grace = opts.orphanGraceMs ?? DAY_MS;
    for (const key of sizes.keys()) {
      if (keptKeys.has(key) || out.deleted.includes(key)) continue;
      const head = await blob.head(key);
      if (!head?.lastModified || now.getTime() - head.lastModified.getTime() < grace) continue;
      await remove(key);
      log(`${opts.dryRun ? 'would delete' : 'deleted'} ${key}: no release names it`);
    }
  }
  return out;
}

export async function runHousekeeping(opts: HousekeepingOptions): Promise<HousekeepingResult> {
  const now = opts.now ?? new Date();
  const policy: HousekeepingPolicy = { ...DEFAULT_POLICY, ...opts.policy };
  const regions = opts.regions ?? (await regionsInStore(opts.blob));
  const result: HousekeepingResult = { at: now.toISOString(), dryRun: Boolean(opts.dryRun), regions: [] };
  for (const region of regions)
    result.regions.push(await withReleaseLock(opts.db, region, () => cleanRegion(opts, region, now, policy)));
  await writeAudit(opts.db, {
    actor: opts.actor ?? 'system:housekeeping',
    action: 'job.housekeeping',
    subject: result.at,
    details: {
      at: result.at,
      dryRun: result.dryRun,
      keepRecent: policy.keepRecent,
      retiredGraceDays: policy.retiredGraceMs / DAY_MS,
      location: opts.blob.location,
      regions: Object.fromEntries(
        result.regions.map((r) => [
          r.region,
          {
            kept: r.releases.filter((d) => d.keep).map((d) => ({ id: d.id, why: d.why })),
            removed: r.removed,
            deletedObjects: r.deleted.length,
            deletedBytes: r.deletedBytes,
            ...(r.sparedShared.length ? { sparedShared: r.sparedShared } : {}),
          },
        ]),
      ),
    },
  });
  return result;
}
