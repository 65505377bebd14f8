// Render test helper: the HTML page that loads MapLibre GL JS and a style, and records the map's errors and idleness.

export interface MapView {
  center: [number, number];
  zoom: number;
}

/** The window globals the page sets; the test reads them with page.evaluate. */
export interface MapPageState {
  /** set once the map fired `idle` (all tiles loaded, no transition running) */
  weftIdle: boolean;
  /** every `error` event of the map: message, the URL of a failed request, the source, the HTTP status */
  weftErrors: { message: string; url?: string; status?: number; sourceId?: string }[];
}

/** A full-window map of `/style.json` at view; the map is `window.weftMap`. No fade, so idle means painted. */
export function mapPageHtml(view: MapView): string {
  return `<!doctype html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/maplibre-gl.css">
<style>html, body, #map { margin: 0; width: 100%; height: 100%; }</style>
</head>
<body>
<div id="map"></div>
<script src="/maplibre-gl.js"></script>
<script>
window.weftIdle = false;
window.weftErrors = [];
const map = new maplibregl.Map({
  container: 'map',
  style: '/style.json',
  center: ${JSON.stringify(view.center)},
  zoom: ${view.zoom},
  fadeDuration: 0,
  attributionControl: false,
  canvasContextAttributes: { preserveDrawingBuffer: true },
});
map.on('error', (e) => {
  const err = e.error || {};
  window.weftErrors.push({ message: String(err.message || err), url: err.url, status: err.status, sourceId: e.sourceId });
});
map.once('idle', () => { window.weftIdle = true; });
window.weftMap = map;
</script>
</body>
</html>
`;
}
