// The viewer's state for tests, benchmarks and debugging: `window.weftViewer` inside the viewer's own page or
// iframe (never on a partner's page): the mode, whether the first view is drawn, errors, and a feature query.

export interface QueriedFeature {
  /** 'base' | 'activity' | 'live' */
  source: string;
  /** the source layer (tiles) or the style layer (live sources) */
  layer: string;
  /** the style layer that drew it (full viewer) */
  styleLayer?: string;
  id?: string;
  properties: Record<string, unknown>;
}

export interface ViewerHook {
  mode: 'light' | 'full' | 'none';
  /** true once the first view is drawn (all its tiles loaded) */
  ready: boolean;
  errors: string[];
  /** features drawn in the current view (full: rendered features; light: the tiles' features at the centre) */
  query?: () => QueriedFeature[];
  /** live connection state (full viewer) */
  live?: { transport: 'ws' | 'http' | 'none'; connected: boolean; position?: number; applied: number };
  /** the map object (MapLibre Map or Leaflet Map), for debugging */
  map?: unknown;
}

export function viewerHook(): ViewerHook {
  const w = window as unknown as { weftViewer?: ViewerHook };
  w.weftViewer ??= { mode: 'none', ready: false, errors: [] };
  return w.weftViewer;
}

/**
 * Tells the page (window events `weft:ready` — the first view is drawn — and `weft:idle` — the map settled after a
 * move): the page uses them for its offline shell.
 */
export function announce(what: 'ready' | 'idle'): void {
  window.dispatchEvent(new Event(`weft:${what}`));
}
