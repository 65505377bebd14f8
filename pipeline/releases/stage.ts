// A release object's stage, kept as the object tag `stage=staging|prod|retired`, and the manifest's promotion tags.
import type { BlobStore, BlobTags } from '../../core/blob/adapter.js';
import { NotFound } from '../../core/blob/errors.js';

export const STAGES = ['staging', 'prod', 'retired'] as const;
export type Stage = (typeof STAGES)[number];

/** Tag names: the stage on every object; the others only on manifests. */
export const TAG = {
  stage: 'stage',
  /** the release id (manifests) */
  release: 'release',
  /** when the release last became prod (ISO time) */
  promoted: 'promoted',
  /** when the release was last retired (ISO time) */
  retired: 'retired',
  /** the release that was prod when this one was first promoted: where a rollback goes back to */
  previous: 'previous',
} as const;

export function isStage(value: string | undefined): value is Stage {
  return (STAGES as readonly string[]).includes(value ?? '');
}

/** The stage in a set of tags, or undefined when it has none (or an unknown one). */
export function stageOf(tags: BlobTags): Stage | undefined {
  const s = tags[TAG.stage];
  return isStage(s) ? s : undefined;
}

/**
 * The stage of a release by its manifest's tag: read from the blob store itself, never from local state.
 * Undefined when the manifest does not exist or carries no stage.
 */
export async function releaseStage(blob: BlobStore, manifestKey: string): Promise<Stage | undefined> {
  try {
    return stageOf(await blob.getTags(manifestKey));
  } catch (err) {
    if (err instanceof NotFound) return undefined;
    throw err;
  }
}

/** Sets the object's tags to `changes` merged into its current ones (a value of undefined removes a tag). */
export async function updateTags(
  blob: BlobStore,
  key: string,
  changes: Record<string, string | undefined>,
): Promise<BlobTags> {
  const tags: BlobTags = { ...(await blob.getTags(key)) };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete tags[k];
    else tags[k] = v;
  }
  await blob.putTags(key, tags);
  return tags;
}
