// Where the repository and its conventional folders are, from source (tsx) and compiled (build/) code alike.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/** The repository root: the nearest ancestor of this module holding the `weft` package.json. */
export function repoRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'weft')
          return (cachedRoot = dir);
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the weft repository root above ' + import.meta.url);
    dir = parent;
  }
}

/** `<repo>/../shared/data`, the shared fixtures, when present. */
export function sharedDataDir(): string | undefined {
  const dir = path.resolve(repoRoot(), '..', 'shared', 'data');
  return existsSync(dir) ? dir : undefined;
}

/** The local download cache for OSM extracts: `WEFT_OSM_CACHE`, else `<repo>/.cache/osm`. */
export function defaultOsmCacheDir(): string {
  return process.env.WEFT_OSM_CACHE || path.join(repoRoot(), '.cache', 'osm');
}
