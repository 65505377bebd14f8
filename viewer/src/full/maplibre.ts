// MapLibre GL JS 6 (ESM) for the full viewer, with its worker bundled as a hashed asset, and the protocols the
// viewer uses: `pmtiles://` (archives over HTTP Range, or inside an opened pack) and `weft-glyphs://` (glyphs that
// stay available offline). Imported only by the full viewer's chunk, never by the light path.
import * as maplibregl from 'maplibre-gl-6';
import 'maplibre-gl-6/dist/maplibre-gl.css';
import workerUrl from 'maplibre-gl-6/dist/maplibre-gl-worker.mjs?url';
import { Protocol } from 'pmtiles';
import { GLYPHS_PROTOCOL, glyphsProtocol } from './glyphs.js';

/** MapLibre's worker script (absolute), also kept by the offline shell. */
export const WORKER_URL = new URL(workerUrl, location.href).href;
maplibregl.setWorkerUrl(WORKER_URL);

export const pmtilesProtocol = new Protocol({ metadata: true });
maplibregl.addProtocol(
  'pmtiles',
  pmtilesProtocol.tile as unknown as Parameters<typeof maplibregl.addProtocol>[1],
);
maplibregl.addProtocol(
  GLYPHS_PROTOCOL,
  glyphsProtocol as unknown as Parameters<typeof maplibregl.addProtocol>[1],
);

// keep the workers alive across maps (a pack opened later, offline, needs no worker script download)
maplibregl.prewarm();

export { maplibregl };
