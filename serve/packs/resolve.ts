// Which region and prod release a pack request is for: from the 'releases' service when a module provides it (looked
// up per request), else straight from the region files and the blob store's prod tags.
import { currentProdEntry } from '../../pipeline/releases/catalog.js';
import type { ReleaseManifest } from '../../pipeline/releases/manifest.js';
import { loadRegion, type Region } from '../../pipeline/region.js';
import { UserError } from '../../core/errors.js';
import type { ServeContext } from '../context.js';
import { HttpError } from '../http.js';
import type { ReleaseRegistry } from '../releases.js';

const REGION_ID = /^[a-z0-9][a-z0-9_-]*$/;

function unknownRegion(id: string): HttpError {
  return new HttpError(404, 'not_found', `unknown region '${id}'`);
}

export interface PackTarget {
  region: Region;
  release: ReleaseManifest;
}

async function fromRegistry(registry: ReleaseRegistry, id: string) {
  const region = registry.regions().find((r) => r.id === id);
  if (!region) throw unknownRegion(id);
  return { region, release: (await registry.current(id))?.manifest };
}

async function fromStore(ctx: ServeContext, id: string) {
  let region: Region;
  try {
    region = loadRegion(id);
  } catch (err) {
    if (err instanceof UserError && err.code === 'not_found') throw unknownRegion(id);
    throw err;
  }
  return { region, release: (await currentProdEntry(ctx.blob, id))?.manifest };
}

/** The region and its current prod release; 404 when the region is unknown or has nothing in prod. */
export async function resolvePackTarget(ctx: ServeContext, id: string): Promise<PackTarget> {
  if (!REGION_ID.test(id)) throw unknownRegion(id);
  const registry = ctx.services.get('releases') as ReleaseRegistry | undefined;
  const { region, release } = registry ? await fromRegistry(registry, id) : await fromStore(ctx, id);
  if (!release)
    throw new HttpError(
      404,
      'no_release',
      `region '${id}' has no release in prod, so there is no pack to download`,
    );
  return { region, release };
}
