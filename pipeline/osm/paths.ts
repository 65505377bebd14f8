// Where the OSM inputs live: the shared fixtures beside the repository and the local download cache.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../core/paths.js';

export { repoRoot };

/** `<repo>/../shared/data`, the shared fixtures, when present. */
export function sharedDataDir(): string | undefined {
  const dir = path.resolve(repoRoot(), '..', 'shared', 'data');
  return existsSync(dir) ? dir : undefined;
}

/** The local download cache for OSM extracts: `WEFT_OSM_CACHE`, else `<repo>/.cache/osm`. */
export function defaultOsmCacheDir(): string {
  return process.env.WEFT_OSM_CACHE || path.join(repoRoot(), '.cache', 'osm');
}
