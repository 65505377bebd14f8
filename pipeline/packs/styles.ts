// The MapLibre styles a pack carries: every `styles/*.json` of the repository (or a given folder) that parses as a
// JSON object, with the `{region}` token replaced by the region id. No styles folder means a pack without styles.
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot } from '../../core/paths.js';
import type { PackStyle } from './plan.js';
import { entryNameProblem } from './tar.js';

export const REGION_TOKEN = '{region}';

/** The repository's styles folder. */
export function defaultStylesDir(): string {
  return path.join(repoRoot(), 'styles');
}

/** The style text with every `{region}` replaced by the region id. */
export function substituteRegion(text: string, region: string): string {
  return text.split(REGION_TOKEN).join(region);
}

/**
 * The styles for `region` from `dir` (top-level `*.json`, sorted by name), as `styles/<name>.json`. A file that does
 * not parse as a JSON object is left out and reported through `warn`; a missing folder gives no styles.
 */
export async function loadPackStyles(
  dir: string,
  region: string,
  warn: (message: string) => void = () => {},
): Promise<PackStyle[]> {
  if (!existsSync(dir)) return [];
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((d) => d.isFile() && d.name.endsWith('.json'))
    .map((d) => d.name)
    .sort();
  const out: PackStyle[] = [];
  for (const name of names) {
    const entry = `styles/${name}`;
    const problem = entryNameProblem(entry);
    if (problem) {
      warn(`style ${name} left out of packs: its name ${problem}`);
      continue;
    }
    const text = substituteRegion(await readFile(path.join(dir, name), 'utf8'), region);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      warn(`style ${name} left out of packs: not JSON (${(err as Error).message})`);
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      warn(`style ${name} left out of packs: not a JSON object`);
      continue;
    }
    out.push({ path: entry, bytes: Buffer.from(text, 'utf8') });
  }
  return out;
}
