// Test helper: where the shared read-only data lives (../shared/data beside the repository), and whether it is there.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SHARED_DATA = fileURLToPath(new URL('../../../shared/data', import.meta.url));
export const HAS_SHARED = existsSync(SHARED_DATA);

export function sharedPath(rel: string): string {
  return `${SHARED_DATA}/${rel}`;
}

/** Prints why a block of tests is skipped when ../shared is absent. */
export function noteSkip(what: string): void {
  if (!HAS_SHARED) console.warn(`skipped: ${what} (no ${SHARED_DATA})`);
}
