// Loading the native addons (native/*.c, compiled by scripts/setup.sh into build/native/<name>.node; the tiler's
// and the live fan-out's): each is optional, and its user falls back to JavaScript with the reason at hand when one
// is not built or not loadable.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface Addon<T> {
  /** the module, or null when it is not there */
  module: T | null;
  /** why it is not used ('' when it is) */
  error: string;
}

const loaded = new Map<string, Addon<unknown>>();

/** build/native/<name>.node, looked for from this module's source (core/) and from its build (build/core/). */
export function loadAddon<T>(name: string, needs: string): Addon<T> {
  let addon = loaded.get(name) as Addon<T> | undefined;
  if (addon) return addon;
  const paths = [`../build/native/${name}.node`, `../native/${name}.node`];
  const path = paths.map((p) => new URL(p, import.meta.url).pathname).find((p) => existsSync(p));
  if (!path) {
    addon = {
      module: null,
      error: `build/native/${name}.node is not built (scripts/setup.sh builds it; it needs ${needs})`,
    };
  } else {
    try {
      addon = { module: createRequire(import.meta.url)(path) as T, error: '' };
    } catch (err) {
      addon = { module: null, error: `${path} does not load: ${(err as Error).message}` };
    }
  }
  loaded.set(name, addon);
  return addon;
}
