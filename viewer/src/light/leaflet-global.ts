// protomaps-leaflet reads Leaflet from the global `L` (Leaflet 1.x style); the ESM build of Leaflet sets none, so
// this module (imported before protomaps-leaflet) sets it — inside the viewer's own page or iframe only.
import * as L from 'leaflet';

(globalThis as unknown as { L: typeof L }).L = L;

export { L };
