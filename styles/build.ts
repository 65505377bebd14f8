// Writes styles/base.json, styles/activity.json and styles/weft.json (base + activity) from styles/src.
// Run after changing a style: npx tsx styles/build.ts (test/styles checks the committed files are current).
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { StyleSpecification } from '@maplibre/maplibre-gl-style-spec';
import * as prettier from 'prettier';
import { activityStyle } from './src/activity.js';
import { baseStyle } from './src/base.js';
import { mergeStyles } from './src/merge.js';

export const STYLES_DIR = fileURLToPath(new URL('./', import.meta.url));

/** The three styles by file name. */
export function buildStyles(): Record<'base.json' | 'activity.json' | 'weft.json', StyleSpecification> {
  const base = baseStyle();
  const activity = activityStyle();
  const weft = mergeStyles(base, activity, {
    name: 'weft',
    metadata: { 'weft:id': 'weft', 'weft:schema': 'shortbread-1.0+weft-activity-1' },
  });
  return { 'base.json': base, 'activity.json': activity, 'weft.json': weft };
}

/** A style as written to disk: JSON as prettier formats it with the repository's settings (`make format` keeps it). */
export async function styleText(style: StyleSpecification, file: string): Promise<string> {
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(JSON.stringify(style), { ...options, parser: 'json' });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  for (const [name, style] of Object.entries(buildStyles())) {
    const file = `${STYLES_DIR}${name}`;
    writeFileSync(file, await styleText(style, file));
    console.log(`styles: wrote styles/${name} (${style.layers.length} layers)`);
  }
}
