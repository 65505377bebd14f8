// A viewer page as served: the built HTML with the server's boot JSON (region, release position, WebSockets on or
// off, the regions to choose from) in a non-executed <script type="application/json">, and each page's CSP. Pure;
// the viewer's sources import the same types (viewer/src/boot/config.ts).

export interface RegionInfo {
  id: string;
  name: string;
  /** [west, south, east, north] */
  bbox: [number, number, number, number];
  /** [lon, lat, zoom] */
  center: [number, number, number];
  minzoom: number;
  maxzoom: number;
}

export interface BootConfig {
  /** the region asked for (?region=), when the server serves it */
  region?: RegionInfo;
  /** every region the server serves (for the chooser) */
  regions: RegionInfo[];
  /** the region's prod release: its id and the event position its activity tiles show (null: unknown) */
  release?: { id: string; eventPosition: number | null };
  /** live deltas over WebSocket (else the HTTP fallback) */
  websockets: boolean;
  attribution: string;
}

/** The element id of the boot JSON. */
export const BOOT_ELEMENT_ID = 'weft-boot';

/** The boot JSON's text, safe inside a <script type="application/json"> element (no `<`, `>` or `&`). */
export function bootJson(config: BootConfig): string {
  return JSON.stringify(config).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/** The page with the boot JSON placed at the end of <head> (before the page's module scripts run). */
export function renderPage(template: string, config: BootConfig): string {
  const block = `<script type="application/json" id="${BOOT_ELEMENT_ID}">${bootJson(config)}</script>`;
  const at = template.indexOf('</head>');
  return at < 0 ? block + template : template.slice(0, at) + block + template.slice(at);
}

/**
 * The pages' Content-Security-Policy: scripts, styles, workers and connections (XHR, WebSocket) only from this
 * server; images also from data:/blob: (MapLibre, Leaflet); no plugins, no <base>. `/` may be framed by itself
 * only; `/embed` by any site (that is its job), which is safe because it offers no writes without a token.
 */
export function pageCsp(kind: 'app' | 'embed'): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "child-src 'self' blob:",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${kind === 'embed' ? '*' : "'self'"}`,
  ].join('; ');
}
