// `weft publish`: uploads a region's base and activity archives under content-addressed keys, writes the release
// manifest, and tags everything `stage=staging` (the manifest last). Prod is never touched; a publish that fails
// halfway says in one line what it left in staging.
import { buffer } from 'node:stream/consumers';
import type { BlobStore } from '../../core/blob/adapter.js';
import { NotFound } from '../../core/blob/errors.js';
import type { Db } from '../../core/db/adapter.js';
import { writeAudit } from '../../core/audit.js';
import { errorMessage, UserError } from '../../core/errors.js';
import { loadRegion } from '../region.js';
import { currentProdEntry } from './catalog.js';
import { digestFile, digestObject } from './integrity.js';
import { resolveInputs, type Builders } from './inputs.js';
import { withReleaseLock } from './lock.js';
import {
  archiveKey,
  manifestKey,
  MANIFEST_SCHEMA,
  parseManifest,
  releaseIdFor,
  serializeManifest,
  weftVersion,
  type ReleaseFile,
  type ReleaseLayer,
  type ReleaseManifest,
} from './manifest.js';
import { stageOf, TAG, updateTags, type Stage } from './stage.js';

export const PMTILES_TYPE = 'application/vnd.pmtiles';

/** What every release operation needs: the store, the database for the audit log, who acts. */
export interface ReleaseContext {
  blob: BlobStore;
  db: Db;
  /** who is acting, for the audit log (default 'operator') */
  actor?: string;
  /** progress lines (default: none) */
  log?: (line: string) => void;
}

export interface PublishOptions extends ReleaseContext {
  /** a region id (regions/<id>.json) or a region file */
  region: string;
  /** publish time T: the activity archive is built as of T (default: a given archive's own T, else now) */
  at?: Date;
  /** an existing base archive instead of building one */
  base?: string;
  /** an existing activity archive instead of building one */
  activity?: string;
  outDir?: string;
  quiet?: boolean;
  builders?: Builders;
}

export interface PublishResult {
  release: string;
  manifestKey: string;
  manifest: ReleaseManifest;
  /** keys whose bytes were uploaded */
  uploaded: string[];
  /** keys already in the store with the same bytes (not uploaded again) */
  skipped: string[];
  /** the release's stage now: staging, or the stage it already had when the same release was published before */
  stage: Stage;
  /** the same release (same manifest) was already in the store */
  unchanged: boolean;
}

/** A publish that stopped halfway: prod untouched, `leftInStaging` uploaded or tagged staging by this attempt. */
export class PublishFailed extends UserError {
  readonly release: string;
  readonly leftInStaging: string[];
  constructor(message: string, release: string, leftInStaging: string[], cause: unknown) {
    super(message, 'publish_failed');
    this.name = 'PublishFailed';
    this.release = release;
    this.leftInStaging = leftInStaging;
    (this as { cause?: unknown }).cause = cause;
  }
}

async function tagsOf(blob: BlobStore, key: string) {
  try {
    return await blob.getTags(key);
  } catch (err) {
    if (err instanceof NotFound) return undefined;
    throw err;
  }
}

/** Uploads one archive unless an identical object is there; returns whether it uploaded and whether it is staged. */
async function uploadArchive(
  blob: BlobStore,
  file: ReleaseFile,
  path: string,
): Promise<{ uploaded: boolean; staged: boolean }> {
  const head = await blob.head(file.key);
  if (head && head.size === file.size) {
    const stored = await digestObject(blob, file.key);
    if (stored && stored.size === file.size && stored.sha256 === file.sha256) {
      // The same bytes are there (perhaps shared with a prod release): never downgrade prod, re-stage retired.
      const stage = stageOf((await tagsOf(blob, file.key)) ?? {});
      if (stage === 'prod') return { uploaded: false, staged: false };
      if (stage !== 'staging') await updateTags(blob, file.key, { [TAG.stage]: 'staging' });
      return { uploaded: false, staged: true };
    }
  }
  // Missing, or damaged bytes under a content-addressed key: (re)upload. A damaged prod object keeps its stage.
  const keepProd = head ? stageOf((await tagsOf(blob, file.key)) ?? {}) === 'prod' : false;
  const put = await blob.put(
    file.key,
    { file: path },
    { contentType: PMTILES_TYPE, tags: { [TAG.stage]: keepProd ? 'prod' : 'staging' } },
  );
  if (put.size !== file.size || put.sha256 !== file.sha256)
    throw new UserError(
      `${path} changed while it was uploaded (now ${put.size} bytes, sha256 ${put.sha256}; ` +
        `${file.size} bytes, ${file.sha256} when hashed)`,
      'input_changed',
    );
  return { uploaded: true, staged: !keepProd };
}

/** Builds (or takes) the archives, uploads them and the manifest, tags them staging, and writes an audit row. */
export async function publishRelease(opts: PublishOptions): Promise<PublishResult> {
  const { blob, db } = opts;
  const actor = opts.actor ?? 'operator';
  const log = opts.log ?? (() => {});
  const region = loadRegion(opts.region);
  if (opts.at && Number.isNaN(opts.at.getTime()))
    throw new UserError('publish time T is not a valid time', 'bad_input');

  const inputs = await resolveInputs(opts.region, region, {
    at: opts.at,
    base: opts.base,
    activity: opts.activity,
    outDir: opts.outDir,
    quiet: opts.quiet,
    builders: opts.builders,
    db,
  });
  const paths: Record<ReleaseLayer, string> = { base: inputs.base, activity: inputs.activity };
  const files: ReleaseFile[] = [];
  for (const layer of ['base', 'activity'] as const) {
    const d = await digestFile(paths[layer]);
    files.push({ layer, key: archiveKey(region.id, layer, d.sha256), size: d.size, sha256: d.sha256 });
  }
  const at = inputs.at;
  const release = releaseIdFor(region.id, at, files);
  const manifest: ReleaseManifest = {
    schema: MANIFEST_SCHEMA,
    release,
    region: region.id,
    at: at.toISOString(),
    eventPosition: inputs.eventPosition,
    source: inputs.source,
    weft: weftVersion(),
    files,
  };
  const mKey = manifestKey(region.id, release);
  const bytes = serializeManifest(manifest);
  parseManifest(bytes, mKey); // what is written must read back

  const staged: string[] = [];
  let step = mKey;
  let prodNote = 'no prod release';
  try {
    return await withReleaseLock(db, region.id, async (tx) => {
      const prod = await currentProdEntry(blob, region.id).catch(() => undefined);
      if (prod) prodNote = `prod release ${prod.id}`;

      const existingTags = await tagsOf(blob, mKey);
      const existingStage = existingTags && stageOf(existingTags);
      let sameManifest = false;
      if (existingTags) {
        sameManifest = Buffer.from(bytes).equals(await buffer((await blob.get(mKey)).body));
        if (!sameManifest && existingStage && existingStage !== 'staging')
          throw new UserError(
            `release ${release} of region ${region.id} is already in the store as ${existingStage} with a ` +
              `different manifest; publish with another --at`,
            'release_exists',
          );
      }
      if (sameManifest && existingStage && existingStage !== 'staging') {
        log(
          `release ${release} of ${region.id} was already published (stage ${existingStage}); nothing to do`,
        );
        const result: PublishResult = {
          release,
          manifestKey: mKey,
          manifest,
          uploaded: [],
          skipped: files.map((f) => f.key),
          stage: existingStage,
          unchanged: true,
        };
        await writeAudit(tx, {
          actor,
          action: 'release.publish',
          subject: `${region.id}/${release}`,
          details: { ...auditDetails(manifest), unchanged: true, stage: existingStage },
        });
        return result;
      }

      const uploaded: string[] = [];
      const skipped: string[] = [];
      for (const file of files) {
        step = file.key;
        const r = await uploadArchive(blob, file, paths[file.layer]);
        if (r.staged) staged.push(file.key);
        (r.uploaded ? uploaded : skipped).push(file.key);
        log(`${r.uploaded ? 'uploaded' : 'already stored'} ${file.key} (${file.size} bytes)`);
      }
      // The manifest goes last: a release without it is not a release, only leftovers in staging.
      step = mKey;
      if (sameManifest) await updateTags(blob, mKey, { [TAG.stage]: 'staging', [TAG.release]: release });
      else
        await blob.put(mKey, bytes, {
          contentType: 'application/json',
          tags: { [TAG.stage]: 'staging', [TAG.release]: release },
        });
      staged.push(mKey);
      log(`wrote ${mKey} (stage staging)`);
      await writeAudit(tx, {
        actor,
        action: 'release.publish',
        subject: `${region.id}/${release}`,
        details: { ...auditDetails(manifest), uploaded, skipped, unchanged: false, stage: 'staging' },
      });
      return {
        release,
        manifestKey: mKey,
        manifest,
        uploaded,
        skipped,
        stage: 'staging' as const,
        unchanged: sameManifest,
      };
    });
  } catch (err) {
    if (err instanceof UserError && err.code === 'release_exists') throw err;
    // The object being written when it broke may be there too (without its tags): name it as left over.
    if (!staged.includes(step)) {
      const left = await tagsOf(blob, step).catch(() => undefined);
      if (left && stageOf(left) !== 'prod') staged.push(step);
    }
    const leftText = staged.length ? staged.join(', ') : 'nothing';
    const failed = new PublishFailed(
      `publish of release ${release} of region ${region.id} failed at '${step}': ${oneLine(errorMessage(err))}; ` +
        `${prodNote} untouched; left in staging: ${leftText}`,
      release,
      [...staged],
      err,
    );
    await writeAudit(db, {
      actor,
      action: 'release.publish.failed',
      subject: `${region.id}/${release}`,
      details: {
        release,
        region: region.id,
        at: manifest.at,
        error: errorMessage(err),
        leftInStaging: staged,
      },
    }).catch(() => {});
    throw failed;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/;\s*$/, '');
}

/** What the audit row of a publish records about the release. */
export function auditDetails(m: ReleaseManifest): Record<string, unknown> {
  return {
    release: m.release,
    region: m.region,
    at: m.at,
    eventPosition: m.eventPosition,
    source: m.source,
    files: m.files.map((f) => ({ layer: f.layer, key: f.key, size: f.size, sha256: f.sha256 })),
  };
}
