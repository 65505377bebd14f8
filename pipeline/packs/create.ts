// `weft pack create`: the pack of a region's prod release (or a given release), planned exactly as the server plans
// it and written to a file — the same bytes the server sends for `/regions/<id>/pack`.
import type { BlobStore } from '../../core/blob/adapter.js';
import { UserError } from '../../core/errors.js';
import { loadRegion, type Region } from '../region.js';
import { currentProdEntry, loadRelease } from '../releases/catalog.js';
import type { ReleaseManifest } from '../releases/manifest.js';
import { planPack, type PackPlan } from './plan.js';
import { writePackFile } from './stream.js';
import { defaultStylesDir, loadPackStyles } from './styles.js';

export interface CreatePackOptions {
  blob: BlobStore;
  /** a region id (regions/<id>.json) or a region file */
  region: string;
  /** a release id (default: the region's current prod release) */
  release?: string;
  /** where the styles are (default: the repository's styles/) */
  stylesDir?: string;
  output: string;
  warn?: (message: string) => void;
}

/** The pack plan of `release` of `region`, with the styles from `stylesDir`. */
export async function planReleasePack(
  region: Region,
  release: ReleaseManifest,
  stylesDir = defaultStylesDir(),
  warn?: (message: string) => void,
): Promise<PackPlan> {
  const styles = await loadPackStyles(stylesDir, region.id, warn);
  return planPack({ region, release, styles });
}

/** Plans the pack and writes it to `output`; returns the plan. */
export async function createPack(opts: CreatePackOptions): Promise<PackPlan> {
  const region = loadRegion(opts.region);
  const entry = opts.release
    ? await loadRelease(opts.blob, region.id, opts.release)
    : await currentProdEntry(opts.blob, region.id);
  if (!entry?.manifest)
    throw new UserError(
      `region ${region.id} has nothing in prod in ${opts.blob.location} (promote a release, or pass --release)`,
      'not_found',
    );
  const plan = await planReleasePack(region, entry.manifest, opts.stylesDir, opts.warn);
  await writePackFile(opts.blob, plan.layout, opts.output);
  return plan;
}
