// Test helper: the archives every release test publishes, made once per test file in a temp folder.
import { makeArchive } from './fixtures.js';
import type { Archives } from './suite.js';

export async function makeArchives(dir: string): Promise<Archives> {
  const base = await makeArchive(dir, 'base', 12);
  const activity: string[] = [];
  for (let i = 0; i < 5; i++) activity.push(await makeArchive(dir, `activity${i}`, 3 + i));
  return { base, activity };
}
