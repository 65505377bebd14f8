// `weft promote` and `weft rollback`: re-read and check every object of a release (size and sha256, streaming), and
// only then tag it prod — its archives first, its manifest (the sentinel) last — and retire the previous prod;
// then announce the new prod release on the bus (best effort) so running servers switch at once.
import type { BlobStore } from '../../core/blob/adapter.js';
import type { Bus } from '../../core/bus/adapter.js';
import type { Queryable } from '../../core/db/adapter.js';
import { NotFound } from '../../core/blob/errors.js';
import { writeAudit } from '../../core/audit.js';
import { errorMessage, UserError } from '../../core/errors.js';
import { listReleases, loadRelease, prodReleases, type ReleaseEntry } from './catalog.js';
import { objectProblem } from './integrity.js';
import { withReleaseLock } from './lock.js';
import type { ReleaseManifest } from './manifest.js';
import type { ReleaseContext } from './publish.js';
import { TAG, updateTags } from './stage.js';

/** The bus channel a promotion or rollback announces itself on (payload: JSON {region, release}). */
export const RELEASES_CHANNEL = 'releases.promoted';

export interface PromoteOptions extends ReleaseContext {
  region: string;
  release: string;
  /** the time written to the promoted/retired tags (default now) */
  now?: Date;
  /** where to announce the new prod release (RELEASES_CHANNEL); servers re-check the tags anyway */
  bus?: Bus;
}

export interface PromoteResult {
  release: string;
  manifest: ReleaseManifest;
  /** releases retired by this promotion */
  retired: string[];
  /** the release was prod already (its tags were checked and re-applied) */
  wasProd: boolean;
}

/** A promotion refused before any tag changed: a missing or altered object, or an unreadable manifest. */
export class PromotionRefused extends UserError {
  constructor(message: string) {
    super(message, 'promotion_refused');
    this.name = 'PromotionRefused';
  }
}

/** Checks every object of the release against its manifest; throws naming the first that differs. */
async function verifyRelease(blob: BlobStore, entry: ReleaseEntry, verb: string): Promise<ReleaseManifest> {
  const m = entry.manifest!;
  for (const file of m.files) {
    const problem = await objectProblem(blob, file);
    if (problem)
      throw new PromotionRefused(
        `refusing to ${verb} release ${m.release} of region ${m.region}: ${problem}; nothing was re-tagged`,
      );
  }
  return m;
}

/** Tags a release prod (archives, then the manifest) and retires the other prod releases; returns those. */
async function tagProd(
  blob: BlobStore,
  target: ReleaseEntry,
  others: ReleaseEntry[],
  when: string,
  previous: string | undefined,
): Promise<string[]> {
  const m = target.manifest!;
  for (const file of m.files) await updateTags(blob, file.key, { [TAG.stage]: 'prod' });
  await updateTags(blob, target.key, {
    [TAG.stage]: 'prod',
    [TAG.release]: m.release,
    [TAG.promoted]: when,
    [TAG.retired]: undefined,
    [TAG.previous]: previous,
  });
  // Now the target is the current prod (the most recently promoted); the old prod's objects step back.
  const keep = new Set(m.files.map((f) => f.key));
  const retired: string[] = [];
  for (const old of others) {
    for (const file of old.manifest?.files ?? []) {
      if (keep.has(file.key)) continue;
      try {
        await updateTags(blob, file.key, { [TAG.stage]: 'retired' });
      } catch (err) {
        if (!(err instanceof NotFound)) throw err;
      }
    }
    await updateTags(blob, old.key, { [TAG.stage]: 'retired', [TAG.retired]: when });
    retired.push(old.id);
  }
  return retired;
}

type Kind = 'promote' | 'rollback';

async function promoteLocked(
  tx: Queryable,
  opts: ReleaseContext & { region: string; now?: Date },
  target: ReleaseEntry,
  kind: Kind,
): Promise<PromoteResult> {
  const { blob } = opts;
  const log = opts.log ?? (() => {});
  const manifest = await verifyRelease(blob, target, kind === 'rollback' ? 'roll back to' : 'promote');
  log(`checked ${manifest.files.length} objects of ${manifest.release}: sizes and sha256 match the manifest`);
  const prods = await prodReleases(blob, opts.region);
  const others = prods.filter((p) => p.id !== target.id);
  const wasProd = prods.some((p) => p.id === target.id);
  // Where a later rollback goes: the release this one replaces. A rollback keeps the target's own history.
  const previous =
    kind === 'rollback' ? target.tags[TAG.previous] : (others[0]?.id ?? target.tags[TAG.previous]);
  const when = (opts.now ?? new Date()).toISOString();
  let retired: string[];
  try {
    retired = await tagProd(blob, target, others, when, previous);
  } catch (err) {
    throw new UserError(
      `${kind} of release ${target.id} of region ${opts.region} stopped while re-tagging: ${errorMessage(err)}; ` +
        `run it again to finish`,
      'promotion_incomplete',
    );
  }
  await writeAudit(tx, {
    actor: opts.actor ?? 'operator',
    action: `release.${kind}`,
    subject: `${opts.region}/${target.id}`,
    details: {
      release: target.id,
      region: opts.region,
      at: manifest.at,
      retired,
      wasProd,
      verified: manifest.files.map((f) => ({ key: f.key, size: f.size, sha256: f.sha256 })),
    },
  });
  for (const r of retired) log(`retired ${r}`);
  log(`${target.id} is prod for ${opts.region}`);
  return { release: target.id, manifest, retired, wasProd };
}

/** Writes the refusal to the audit log and passes the error on. */
async function auditRefusal(
  opts: ReleaseContext & { region: string },
  kind: Kind,
  err: unknown,
  release?: string,
): Promise<never> {
  if (err instanceof PromotionRefused)
    await writeAudit(opts.db, {
      actor: opts.actor ?? 'operator',
      action: `release.${kind}.refused`,
      subject: release ? `${opts.region}/${release}` : opts.region,
      details: { release, region: opts.region, reason: err.message },
    }).catch(() => {});
  throw err;
}

/**
 * Tells running servers that the region's prod release changed: `{region, release}` as JSON on RELEASES_CHANNEL.
 * Best effort: returns false (after logging why) when the bus cannot take it; servers then find the new release at
 * their next periodic re-check of the tags.
 */
export async function announceRelease(
  bus: Bus,
  region: string,
  release: string,
  log: (line: string) => void = () => {},
): Promise<boolean> {
  try {
    await bus.ready(2000);
    await bus.publish(RELEASES_CHANNEL, JSON.stringify({ region, release }));
    return true;
  } catch (err) {
    log(
      `note: could not announce release ${release} of ${region} on the bus (${bus.location}): ` +
        `${errorMessage(err)}; running servers pick it up at their next re-check of the prod tags`,
    );
    return false;
  }
}

/** Verifies release `release` of the region and makes it prod, retiring the previous prod release. */
export async function promoteRelease(opts: PromoteOptions): Promise<PromoteResult> {
  const result = await withReleaseLock(opts.db, opts.region, async (tx) => {
    const target = await loadRelease(opts.blob, opts.region, opts.release);
    return promoteLocked(tx, opts, target, 'promote');
  }).catch((err: unknown) => auditRefusal(opts, 'promote', err, opts.release));
  if (opts.bus) await announceRelease(opts.bus, opts.region, result.release, opts.log);
  return result;
}

export interface RollbackOptions extends ReleaseContext {
  region: string;
  now?: Date;
  /** where to announce the release rolled back to (RELEASES_CHANNEL) */
  bus?: Bus;
}

/**
 * Re-promotes the release that was prod before the current one (recorded on the current manifest's `previous`
 * tag when it was promoted), after checking its objects, and retires the current one.
 */
export async function rollbackRelease(opts: RollbackOptions): Promise<PromoteResult> {
  let targetId: string | undefined;
  const result = await withReleaseLock(opts.db, opts.region, async (tx) => {
    const current = (await prodReleases(opts.blob, opts.region))[0];
    if (!current)
      throw new UserError(
        `region ${opts.region} has no prod release to roll back from`,
        'nothing_to_roll_back',
      );
    targetId = current.tags[TAG.previous];
    if (!targetId) {
      const retired = (await listReleases(opts.blob, opts.region)).filter((r) => r.stage === 'retired');
      const hint = retired.length
        ? ` (retired: ${retired.map((r) => r.id).join(', ')}; promote one by id)`
        : '';
      throw new UserError(
        `cannot roll back region ${opts.region}: its prod release ${current.id} was promoted when nothing ` +
          `was in prod, so there is no earlier release${hint}`,
        'nothing_to_roll_back',
      );
    }
    let target: ReleaseEntry;
    try {
      target = await loadRelease(opts.blob, opts.region, targetId);
    } catch (err) {
      throw new UserError(
        `cannot roll back region ${opts.region} from ${current.id} to ${targetId}: ${errorMessage(err)}`,
        'nothing_to_roll_back',
      );
    }
    opts.log?.(`rolling back ${opts.region} from ${current.id} to ${target.id}`);
    return promoteLocked(tx, opts, target, 'rollback');
  }).catch((err: unknown) => auditRefusal(opts, 'rollback', err, targetId));
  if (opts.bus) await announceRelease(opts.bus, opts.region, result.release, opts.log);
  return result;
}
