// Starting a map in a page: the light path or the full viewer (each its own chunk, loaded on demand), and the swap
// from light to full when the user asks. Shared by `/` and `/embed`.
import type { BootConfig, RegionInfo } from './config.js';
import type { Mode, ViewOptions } from './params.js';
import type { OpenedPack } from '../offline/pack.js';

export interface Started {
  mode: Mode;
  destroy(): void;
  /** the full viewer, when in full mode */
  full?: import('../full/viewer.js').FullViewer;
}

export interface StartOptions {
  boot: BootConfig;
  region: RegionInfo;
  view: ViewOptions;
  mode: Mode;
  mapEl: HTMLElement;
  side: HTMLElement;
  token?: () => string | undefined;
  pack?: OpenedPack;
  /** told when the map changed mode (light → full) */
  onStarted?: (s: Started) => void;
}

export async function startMap(o: StartOptions): Promise<Started> {
  if (o.mode === 'light' && !o.pack) {
    const { startLight } = await import('../light/light.js');
    const light = startLight(o.mapEl, {
      boot: o.boot,
      region: o.region,
      view: o.view,
      side: o.side,
      onFull: () => {
        light.destroy();
        // a fresh element: Leaflet leaves its classes and handlers on the old one
        const fresh = document.createElement('div');
        fresh.id = o.mapEl.id;
        fresh.className = 'weft-map';
        o.mapEl.replaceWith(fresh);
        void startMap({ ...o, mapEl: fresh, mode: 'full' }).then((s) => o.onStarted?.(s));
      },
    });
    return { mode: 'light', destroy: () => light.destroy() };
  }
  const { startFull } = await import('../full/viewer.js');
  const full = await startFull(o.mapEl, {
    boot: o.boot,
    region: o.region,
    view: o.view,
    side: o.side,
    token: o.token,
    pack: o.pack,
  });
  return { mode: 'full', full, destroy: () => full.destroy() };
}
