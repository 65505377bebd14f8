// The page's side of the offline app shell (sw.ts): registers /sw.js once the first view is drawn (never competing
// with it), then hands the worker what the page loaded before the worker controlled it — the page itself, its
// scripts, styles, glyphs, TileJSON and tiles (performance entries, plus what the map's own worker fetched, which
// the page reports). `/` only: the partner embed registers nothing (its first load stays lean, and a worker in a
// partner's iframe would be partitioned away anyway).

export interface OfflineShell {
  /** true once the worker has kept what the page loaded so far */
  readonly ready: boolean;
  /** hands the worker what the page loaded since the last call, plus `extra` URLs */
  warm(extra?: readonly string[]): Promise<void>;
}

const SCRIPT = '/sw.js';

export function offlineShell(): OfflineShell | undefined {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return undefined;
  // room for every tile of a long session's resource timings (the default is 250 entries)
  performance.setResourceTimingBufferSize?.(5000);
  const posted = new Set<string>();
  let registration: Promise<ServiceWorkerRegistration | undefined> | undefined;
  let seq = 0;
  const shell = {
    ready: false,
    async warm(extra: readonly string[] = []): Promise<void> {
      registration ??= navigator.serviceWorker
        .register(SCRIPT, { scope: '/' })
        .then(() => navigator.serviceWorker.ready)
        .catch((err: unknown) => {
          console.warn('weft: no offline shell:', err);
          return undefined;
        });
      const reg = await registration;
      const worker = reg?.active;
      if (!worker) return;
      const loaded = performance
        .getEntriesByType('resource')
        .map((e) => e.name)
        .filter((u) => u.startsWith(location.origin));
      const urls = [...loaded, ...extra].filter((u) => !posted.has(u));
      const pages = posted.has(location.href) ? [] : [location.href];
      if (!urls.length && !pages.length) {
        shell.ready = true;
        return;
      }
      const id = ++seq;
      await new Promise<void>((resolve) => {
        const done = (ev: MessageEvent) => {
          const d = ev.data as { type?: string; id?: number } | null;
          if (d?.type !== 'warmed' || d.id !== id) return;
          navigator.serviceWorker.removeEventListener('message', done);
          resolve();
        };
        navigator.serviceWorker.addEventListener('message', done);
        worker.postMessage({ type: 'warm', id, pages, urls });
        // a worker that never answers (killed, replaced) must not hold the page's promise forever
        setTimeout(() => {
          navigator.serviceWorker.removeEventListener('message', done);
          resolve();
        }, 30_000);
      });
      for (const u of [...urls, ...pages]) posted.add(u);
      shell.ready = true;
      document.documentElement.dataset.offlineShell = 'ready';
    },
  };
  return shell;
}
