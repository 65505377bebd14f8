// The viewer's state for tests, benchmarks and debugging: `window.weftViewer` inside the viewer's own page or
// iframe (never on a partner's page): the mode, whether the first view is drawn, errors, and a feature query.

export interface QueriedFeature {
  /** 'base' | 'activity' | 'live' */
  source: string;
  layer: string;
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
