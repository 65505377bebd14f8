// The shapes the MVT encoder takes: features already in tile coordinates (integers, extent units, buffer allowed).

/** Flat coordinate list in tile units: x0, y0, x1, y1, … (rings are not closed: the last point is not the first). */
export type Flat = number[];

export type TileGeometry =
  /** one or more points */
  | { type: 'Point'; points: Flat }
  /** one or more line strings */
  | { type: 'LineString'; lines: Flat[] }
  /** one or more polygons, each [exterior, ...holes]; orientation is fixed by the encoder */
  | { type: 'Polygon'; polygons: Flat[][] };

export type PropertyValue = string | number | boolean;

export interface TileFeature {
  /** unsigned integer feature id, when the input has one */
  id?: number;
  geometry: TileGeometry;
  properties: Record<string, PropertyValue>;
}

export interface TileLayer {
  name: string;
  /** default 4096 */
  extent?: number;
  features: TileFeature[];
}

/** MVT geometry type numbers (spec 4.3.4) */
export const GEOM_POINT = 1;
export const GEOM_LINESTRING = 2;
export const GEOM_POLYGON = 3;
