// The contract between a profile (which knows a schema, e.g. Shortbread or the activity layers) and the tiling engine
// (which knows tiles and nothing of tags). Geometry is GeoJSON in WGS84 longitude/latitude.
import type { PropertyValue } from '../mvt/types.js';

export type Position = number[];

export type SourceGeometry =
  | { type: 'Point'; coordinates: Position }
  | { type: 'MultiPoint'; coordinates: Position[] }
  | { type: 'LineString'; coordinates: Position[] }
  | { type: 'MultiLineString'; coordinates: Position[][] }
  | { type: 'Polygon'; coordinates: Position[][] }
  | { type: 'MultiPolygon'; coordinates: Position[][][] }
  | { type: 'GeometryCollection'; geometries: SourceGeometry[] };

/** A feature as it comes from a reader (GeoJSON, osmium export, the event store). */
export interface SourceFeature {
  id?: number | string;
  geometry: SourceGeometry;
  properties: Record<string, unknown>;
}

/** What a profile emits for the engine: one feature in one layer, visible in [minzoom, maxzoom]. */
export interface LayerFeature {
  layer: string;
  geometry: SourceGeometry;
  properties: Record<string, PropertyValue>;
  /** unsigned integer id written to the tile */
  id?: number;
  minzoom: number;
  maxzoom: number;
  /** features in a tile layer are written in ascending sort key (then input order) */
  sortKey?: number;
}

export interface VectorLayerSpec {
  id: string;
  description?: string;
  minzoom: number;
  maxzoom: number;
  /** field name → type ("String" | "Number" | "Boolean") as TileJSON's vector_layers expects */
  fields: Record<string, string>;
}

/**
 * A profile maps source features to layer features. It must be pure and deterministic.
 * `source` names the input the feature came from (for the generic GeoJSON profile: its default layer name).
 */
export interface Profile {
  name: string;
  map(feature: SourceFeature, source?: string): LayerFeature[];
  /**
   * Optional: lets the engine map plain point features without making them objects (native/geojson.c scans them).
   * A profile offers it only when, for any Feature whose geometry is a Point and whose properties are strings,
   * numbers, booleans or nulls, map() returns exactly one layer feature: that point, the properties without the
   * nulls, and the layer, zooms and id these give.
   */
  points?: PointProfile;
  /**
   * Optional, the same for lines and polygons: a profile offers it only when, for any Feature whose geometry is a
   * LineString, MultiLineString, Polygon or MultiPolygon and whose properties are strings, numbers, booleans or
   * nulls, map() returns exactly one layer feature: that geometry, the properties without the nulls, no sort key,
   * and the layer, zooms and id these give.
   */
  shapes?: ShapeProfile;
}

export interface PointProfile {
  /** the layer of the points of input `source` */
  layer(source: string | undefined): string;
  /** the zoom range of a point at (lon, lat) */
  minzoom(lon: number, lat: number): number;
  maxzoom: number;
  /** the tile feature id of a numeric id (NaN: none given; a string of 1–15 digits comes as its number) */
  id(raw: number): number | undefined;
}

export interface ShapeProfile {
  /** the layer of the lines and polygons of input `source` */
  layer(source: string | undefined): string;
  /** their zoom range */
  minzoom: number;
  maxzoom: number;
  /** the tile feature id of a numeric id (NaN: none given; a string of 1–15 digits comes as its number) */
  id(raw: number): number | undefined;
}

/**
 * A module the engine loads in every worker thread: `createProfile(options)` builds the profile there.
 * `options` must be structured-cloneable.
 */
export interface ProfileModule {
  createProfile(options: unknown): Profile;
}

export interface ProfileRef {
  /** module URL (file: URL of a .js or .ts module exporting createProfile) */
  module: string;
  options?: unknown;
}
