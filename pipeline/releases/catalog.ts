// A region's releases as the blob store holds them: manifests under releases/<region>/ and their stage tags.
// This is what servers ask for the current prod release: tags in the store, never any local state.
import { buffer } from 'node:stream/consumers';
import type { BlobStore, BlobTags } from '../../core/blob/adapter.js';
import { NotFound } from '../../core/blob/errors.js';
import { errorMessage, UserError } from '../../core/errors.js';
import {
  manifestKey,
  parseManifest,
  releaseIdOfKey,
  releasesPrefix,
  type ReleaseManifest,
} from './manifest.js';
import { stageOf, TAG, type Stage } from './stage.js';

export { releaseStage } from './stage.js';

export interface ReleaseEntry {
  id: string;
  /** the manifest's key */
  key: string;
  tags: BlobTags;
  stage: Stage | undefined;
  /** undefined when the manifest cannot be read (then `problem` says why) */
  manifest?: ReleaseManifest;
  problem?: string;
}

/** Reads and checks one stored manifest. */
export async function readManifest(blob: BlobStore, key: string): Promise<ReleaseManifest> {
  const res = await blob.get(key);
  return parseManifest(await buffer(res.body), key);
}

async function entryFor(blob: BlobStore, id: string, key: string, tags: BlobTags): Promise<ReleaseEntry> {
  const entry: ReleaseEntry = { id, key, tags, stage: stageOf(tags) };
  try {
    entry.manifest = await readManifest(blob, key);
  } catch (err) {
    if (err instanceof NotFound) throw err;
    entry.problem = errorMessage(err);
  }
  return entry;
}

/** The ids and keys of the region's manifests, newest first (ids sort by T). */
async function manifestKeys(blob: BlobStore, region: string): Promise<{ id: string; key: string }[]> {
  const out: { id: string; key: string }[] = [];
  for await (const e of blob.list(releasesPrefix(region))) {
    const id = releaseIdOfKey(region, e.key);
    if (id) out.push({ id, key: e.key });
  }
  return out.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/** Every release of the region with its stage, newest (by T) first. Manifests gone mid-listing are left out. */
export async function listReleases(blob: BlobStore, region: string): Promise<ReleaseEntry[]> {
  const out: ReleaseEntry[] = [];
  for (const { id, key } of await manifestKeys(blob, region)) {
    try {
      out.push(await entryFor(blob, id, key, await blob.getTags(key)));
    } catch (err) {
      if (!(err instanceof NotFound)) throw err;
    }
  }
  return out;
}

/** Newest promotion first; ties (and releases without a promotion time) by id, newest first. */
function byPromotion(a: ReleaseEntry, b: ReleaseEntry): number {
  const pa = a.tags[TAG.promoted] ?? '';
  const pb = b.tags[TAG.promoted] ?? '';
  if (pa !== pb) return pa < pb ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * The releases whose manifest is tagged prod, the current one first. Normally one; two only for the moment between
 * a promotion tagging its manifest and retiring the previous one (or after a promotion that broke off there).
 */
export async function prodReleases(blob: BlobStore, region: string): Promise<ReleaseEntry[]> {
  const prod: ReleaseEntry[] = [];
  for (const { id, key } of await manifestKeys(blob, region)) {
    let tags: BlobTags;
    try {
      tags = await blob.getTags(key);
    } catch (err) {
      if (err instanceof NotFound) continue;
      throw err;
    }
    if (stageOf(tags) === 'prod') prod.push(await entryFor(blob, id, key, tags));
  }
  return prod.sort(byPromotion);
}

/** The current prod release's entry (see currentProdRelease), or undefined. */
export async function currentProdEntry(blob: BlobStore, region: string): Promise<ReleaseEntry | undefined> {
  const current = (await prodReleases(blob, region))[0];
  if (current && !current.manifest)
    throw new UserError(
      `the prod release ${current.id} of region ${region} has an unreadable manifest: ${current.problem}`,
      'bad_manifest',
    );
  return current;
}

/**
 * The manifest of the region's current prod release, from the store's tags (the most recently promoted manifest
 * tagged `stage=prod`), or undefined when nothing is in prod.
 */
export async function currentProdRelease(
  blob: BlobStore,
  region: string,
): Promise<ReleaseManifest | undefined> {
  return (await currentProdEntry(blob, region))?.manifest;
}

/** One release by id; a clear error when the region has no such release. */
export async function loadRelease(blob: BlobStore, region: string, id: string): Promise<ReleaseEntry> {
  const key = manifestKey(region, id);
  let tags: BlobTags;
  try {
    tags = await blob.getTags(key);
  } catch (err) {
    if (err instanceof NotFound)
      throw new UserError(
        `release ${id} of region ${region} not found in ${blob.location} (no '${key}'; list them with ` +
          `weft releases --region ${region})`,
        'not_found',
      );
    throw err;
  }
  const entry = await entryFor(blob, id, key, tags);
  if (!entry.manifest)
    throw new UserError(`release ${id} of region ${region}: ${entry.problem}`, 'bad_manifest');
  return entry;
}
