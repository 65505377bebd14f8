// Map stage (runs in worker threads): source features → profile → per zoom: tile → encode geometry → records.
import { encodeGeometry } from '../mvt/encode.js';
import { zxyToTileId } from '../pmtiles/tileid.js';
import { encodeProperties, layerNameBytes, RecordWriter, type RecordBatch } from './records.js';
import { GeometryError, projectGeometry, tileAtZoom, type TilingOptions } from './tile-feature.js';
import type { Profile, SourceFeature } from './types.js';

export interface LayerStats {
  count: number;
  minzoom: number;
  maxzoom: number;
  fields: Record<string, string>;
}

export interface MapResult {
  batch: RecordBatch;
  features: number;
  layers: Record<string, LayerStats>;
  /** world-coordinate bounds of what was mapped: minX, minY, maxX, maxY */
  world: [number, number, number, number];
}

export interface MapContext {
  profile: Profile;
  tiling: TilingOptions;
  minzoom: number;
  maxzoom: number;
}

/** Where a feature came from, for error messages: input name and a describer of item i (e.g. its line). */
export interface BatchOrigin {
  input: string;
  source: string;
  /** sequence number of the first feature of the batch (global input order) */
  firstSeq: number;
  position(i: number): string;
}

export class InputError extends Error {}

const typeName = (v: unknown): string =>
  typeof v === 'string' ? 'String' : typeof v === 'number' ? 'Number' : 'Boolean';

export function mapFeatures(ctx: MapContext, features: SourceFeature[], origin: BatchOrigin): MapResult {
  const out = new RecordWriter();
  const layers: Record<string, LayerStats> = {};
  const world: [number, number, number, number] = [Infinity, Infinity, -Infinity, -Infinity];
  const { tiling } = ctx;
  for (let i = 0; i < features.length; i++) {
    const seq = origin.firstSeq + i;
    let mapped;
    try {
      mapped = ctx.profile.map(features[i]!, origin.source);
    } catch (err) {
      throw new InputError(`${origin.input} ${origin.position(i)}: ${(err as Error).message}`);
    }
    for (const lf of mapped) {
      const zmin = Math.max(ctx.minzoom, lf.minzoom);
      const zmax = Math.min(ctx.maxzoom, lf.maxzoom);
      if (zmin > zmax) continue;
      let projected;
      try {
        projected = projectGeometry(lf.geometry);
      } catch (err) {
        if (err instanceof GeometryError) throw new InputError(`${origin.input} ${origin.position(i)}: ${err.message}`);
        throw err;
      }
      if (!projected.length) continue;
      const props = encodeProperties(lf.properties);
      const layer = layerNameBytes(lf.layer);
      const sortKey = lf.sortKey ?? 0;
      let stats = layers[lf.layer];
      if (!stats) layers[lf.layer] = stats = { count: 0, minzoom: zmin, maxzoom: zmax, fields: {} };
      stats.count++;
      if (zmin < stats.minzoom) stats.minzoom = zmin;
      if (zmax > stats.maxzoom) stats.maxzoom = zmax;
      for (const k in lf.properties) {
        const t = typeName(lf.properties[k]);
        const prev = stats.fields[k];
        stats.fields[k] = prev === undefined || prev === t ? t : 'Mixed';
      }
      for (const g of projected) {
        if (g.minX < world[0]) world[0] = g.minX;
        if (g.minY < world[1]) world[1] = g.minY;
        if (g.maxX > world[2]) world[2] = g.maxX;
        if (g.maxY > world[3]) world[3] = g.maxY;
        for (let z = zmin; z <= zmax; z++) {
          tileAtZoom(g, z, tiling, (x, y, geom) => {
            const enc = encodeGeometry(geom);
            if (!enc) return;
            out.add(zxyToTileId(z, x, y), seq, sortKey, layer, enc.type, lf.id, enc.commands, props);
          });
        }
      }
    }
  }
  return { batch: out.finish(), features: features.length, layers, world };
}

/** Parses newline-delimited GeoJSON (GeoJSONSeq; RS separators allowed) into features, naming bad lines. */
export function parseNdjson(text: string, input: string, firstLine: number): { features: SourceFeature[]; lines: number[] } {
  const features: SourceFeature[] = [];
  const lines: number[] = [];
  let start = 0;
  let line = firstLine;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let s = start;
    // skip RS (0x1e) and whitespace
    while (s < end && (text.charCodeAt(s) === 0x1e || text.charCodeAt(s) <= 0x20)) s++;
    if (s < end) {
      let obj: unknown;
      try {
        obj = JSON.parse(text.slice(s, end));
      } catch (err) {
        throw new InputError(`${input} line ${line}: invalid JSON (${(err as Error).message})`);
      }
      try {
        for (const f of toFeatures(obj)) {
          features.push(f);
          lines.push(line);
        }
      } catch (err) {
        throw new InputError(`${input} line ${line}: ${(err as Error).message}`);
      }
    }
    start = end + 1;
    line++;
  }
  return { features, lines };
}

/** A GeoJSON object → features: a Feature, a FeatureCollection, or a bare geometry. Null geometries are skipped. */
export function toFeatures(obj: unknown): SourceFeature[] {
  if (!obj || typeof obj !== 'object') throw new Error('not a GeoJSON object');
  const o = obj as Record<string, unknown>;
  switch (o.type) {
    case 'Feature': {
      if (o.geometry === null) return [];
      if (!o.geometry || typeof o.geometry !== 'object') throw new Error('feature has no geometry');
      const props = o.properties;
      if (props !== null && props !== undefined && (typeof props !== 'object' || Array.isArray(props))) {
        throw new Error('feature properties must be an object');
      }
      return [
        {
          id: o.id as number | string | undefined,
          geometry: o.geometry as SourceFeature['geometry'],
          properties: (props ?? {}) as Record<string, unknown>,
        },
      ];
    }
    case 'FeatureCollection': {
      if (!Array.isArray(o.features)) throw new Error('FeatureCollection has no "features" array');
      const out: SourceFeature[] = [];
      o.features.forEach((f, i) => {
        try {
          out.push(...toFeatures(f));
        } catch (err) {
          throw new Error(`feature ${i}: ${(err as Error).message}`);
        }
      });
      return out;
    }
    case 'Point':
    case 'MultiPoint':
    case 'LineString':
    case 'MultiLineString':
    case 'Polygon':
    case 'MultiPolygon':
    case 'GeometryCollection':
      return [{ geometry: o as unknown as SourceFeature['geometry'], properties: {} }];
    default:
      throw new Error(`unsupported GeoJSON type ${JSON.stringify(o.type)}`);
  }
}
