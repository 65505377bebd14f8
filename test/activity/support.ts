// Test helpers for the activity build: a simulated clock for commands, and the archive's features decoded by the
// independent readers (the `pmtiles` package for the archive, @mapbox/vector-tile for the tiles).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { VectorTile } from '@mapbox/vector-tile';
import { PbfReader } from 'pbf';
import type { Db } from '../../core/db/adapter.js';
import { executeCommands, type CommandResult } from '../../core/domain/execute.js';
import { threadFeatureId } from '../../pipeline/profiles/activity.js';
import { projectX, projectY } from '../../pipeline/tiler/project.js';
import { referenceReader } from '../pmtiles/reference.js';

export const DAY = 24 * 60 * 60 * 1000;
export const HOUR = 60 * 60 * 1000;
export const SALT = 'activity-test-salt';
/** Monaco's bbox (regions/monaco.json). */
export const MONACO: [number, number, number, number] = [7.409205, 43.72335, 7.448637, 43.75169];

/** Runs commands as of a simulated instant: they happen, and are recorded, at `at`. */
export function at(
  db: Db,
  when: number,
  commands: Record<string, unknown>[],
  actor = 'operator:test',
): Promise<CommandResult[]> {
  return executeCommands(
    db,
    commands.map((command) => ({ command, actor, at: new Date(when) })),
    { recordedAt: 'occurred', salt: SALT },
  );
}

/** Runs commands, each as of its own simulated instant, in one transaction. */
export function atEach(
  db: Db,
  items: { when: number; command: Record<string, unknown>; actor: string }[],
): Promise<CommandResult[]> {
  return executeCommands(
    db,
    items.map((i) => ({ command: i.command, actor: i.actor, at: new Date(i.when) })),
    { recordedAt: 'occurred', salt: SALT },
  );
}

/** sha256 of every tile over the bbox at zooms 0–14, by "z/x/y" (the tiles alone, without the metadata). */
export async function tileDigests(
  archive: string,
  bbox: [number, number, number, number] = MONACO,
): Promise<Record<string, string>> {
  const reader = referenceReader(archive);
  const out: Record<string, string> = {};
  for (let z = 0; z <= 14; z++) {
    for (const [x, y] of tilesCovering(bbox, z)) {
      const r = await reader.getZxy(z, x, y);
      if (r) out[`${z}/${x}/${y}`] = createHash('sha256').update(new Uint8Array(r.data)).digest('hex');
    }
  }
  return out;
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export interface DecodedFeature {
  layer: string;
  /** the MVT feature id */
  id: number | undefined;
  z: number;
  x: number;
  y: number;
  props: Record<string, string | number | boolean>;
  /** tile-local coordinates of each part (extent 4096) */
  parts: { x: number; y: number }[][];
  /** the same in longitude/latitude */
  lonlat: [number, number][][];
  extent: number;
}

/** The tiles of zoom z that cover a bbox (the archive's own clip), as [x, y]. */
export function tilesCovering(bbox: [number, number, number, number], z: number): [number, number][] {
  const n = 2 ** z;
  const clamp = (v: number) => Math.min(n - 1, Math.max(0, Math.floor(v * n)));
  const x0 = clamp(projectX(bbox[0]));
  const x1 = clamp(projectX(bbox[2]));
  const y0 = clamp(projectY(bbox[3]));
  const y1 = clamp(projectY(bbox[1]));
  const out: [number, number][] = [];
  for (let x = x0; x <= x1; x++) for (let y = y0; y <= y1; y++) out.push([x, y]);
  return out;
}

/** Every feature of every tile at zoom z over the bbox, read with the reference readers. */
export async function featuresAt(
  archive: string,
  z: number,
  bbox: [number, number, number, number] = MONACO,
): Promise<DecodedFeature[]> {
  const reader = referenceReader(archive);
  const out: DecodedFeature[] = [];
  for (const [x, y] of tilesCovering(bbox, z)) {
    const r = await reader.getZxy(z, x, y);
    if (!r) continue;
    const tile = new VectorTile(new PbfReader(new Uint8Array(r.data)));
    for (const [name, layer] of Object.entries(tile.layers)) {
      for (let i = 0; i < layer.length; i++) {
        const f = layer.feature(i);
        const geo = f.toGeoJSON(x, y, z).geometry;
        const lonlat =
          geo.type === 'Point'
            ? [[geo.coordinates as [number, number]]]
            : geo.type === 'LineString'
              ? [geo.coordinates as [number, number][]]
              : geo.type === 'MultiLineString'
                ? (geo.coordinates as [number, number][][])
                : [];
        out.push({
          layer: name,
          id: f.id,
          z,
          x,
          y,
          props: f.properties as Record<string, string | number | boolean>,
          parts: f.loadGeometry().map((part) => part.map((p) => ({ x: p.x, y: p.y }))),
          lonlat,
          extent: layer.extent,
        });
      }
    }
  }
  return out;
}

/** Features whose point lies in the tile proper (not in another tile's buffer): each point counted once. */
export function ownPoints(features: DecodedFeature[]): DecodedFeature[] {
  return features.filter((f) => {
    const p = f.parts[0]![0]!;
    return p.x >= 0 && p.x < f.extent && p.y >= 0 && p.y < f.extent;
  });
}

/** A feature's identity: the MVT feature id of threads (see threadKey), the `id` field of nodes. */
function keyOf(f: DecodedFeature): string {
  return f.layer === 'threads' ? String(f.id) : String(f.props.id);
}

/** The byId key of a thread. */
export function threadKey(threadId: string): string {
  return String(threadFeatureId(threadId));
}

/** One entry per feature (lines cut into several tiles appear once). */
export function byId(features: DecodedFeature[]): Map<string, DecodedFeature> {
  const out = new Map<string, DecodedFeature>();
  for (const f of features) if (!out.has(keyOf(f))) out.set(keyOf(f), f);
  return out;
}

/** Every piece of one feature (a line cut by tile edges). */
export function piecesOf(features: DecodedFeature[], key: string): DecodedFeature[] {
  return features.filter((f) => keyOf(f) === key);
}

/** Distance in metres between two lon/lat points (equirectangular; fine at city scale). */
export function metres(a: [number, number], b: [number, number]): number {
  const k = Math.cos((((a[1] + b[1]) / 2) * Math.PI) / 180);
  const dx = (a[0] - b[0]) * 111_320 * k;
  const dy = (a[1] - b[1]) * 110_574;
  return Math.hypot(dx, dy);
}
