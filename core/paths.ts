// Where the repository's own folders (sql/, regions/, .data/) are, from source (tsx) and compiled (build/) code alike.
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
    if (parent === dir) throw new Error(`cannot find the weft repository root above ${import.meta.url}`);
    dir = parent;
  }
}

/** The ordered migrations: `<repo>/sql`. */
export function sqlDir(): string {
  return path.join(repoRoot(), 'sql');
}

/** One JSON file per region: `<repo>/regions`. */
export function regionsDir(): string {
  return path.join(repoRoot(), 'regions');
}

/** The embedded database's folder when DATABASE_URL is unset: `$WEFT_DATA_DIR` or `<repo>/.data/pglite`. */
export function defaultPgliteDir(): string {
  return process.env.WEFT_DATA_DIR ?? path.join(repoRoot(), '.data', 'pglite');
}
