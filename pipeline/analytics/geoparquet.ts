// The GeoParquet 1.1 `geo` file metadata of an exported table: WKB geometry in lon/lat (OGC:CRS84, the default
// CRS, so it is left out), its geometry type, the file's bounding box and, for lines, the bbox covering column.
import type { GeometrySpec } from './tables.js';

export type BBox = [xmin: number, ymin: number, xmax: number, ymax: number];

export function geoMetadata(geometry: GeometrySpec, bbox: BBox | null): string {
  const column: Record<string, unknown> = { encoding: 'WKB', geometry_types: [geometry.type] };
  if (bbox) column.bbox = bbox;
  if (geometry.covering) {
    const c = geometry.covering;
    column.covering = {
      bbox: { xmin: [c, 'xmin'], ymin: [c, 'ymin'], xmax: [c, 'xmax'], ymax: [c, 'ymax'] },
    };
  }
  return JSON.stringify({ version: '1.1.0', primary_column: 'geometry', columns: { geometry: column } });
}
