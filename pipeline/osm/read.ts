// Reads a region's OSM features for the base build: resolve the extract, cut it to the region when needed,
// and stream osmium's export (plus ocean polygons and boundary lines) as batches of SourceFeature.
// Cost beyond osmium's own export: one quick relations pass (in parallel) and JSON.parse per line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../core/errors.js';
import { readRegionOcean } from '../profiles/ocean.js';
import type { Region } from '../region.js';
import type { SourceFeature } from '../tiler/types.js';
import { type BoundaryMembership, LAYER_KEY, boundaryLine, readBoundaryMembership } from './boundaries.js';
import { type BBox, exportFeatures, extract, headerBbox } from './osmium.js';
import { readPbfHeader } from './pbf-header.js';
import { repoRoot } from './paths.js';
import { type ResolvedSource, type SourceOptions, resolveOsmSource } from './source.js';

export { LAYER_KEY };

/** The osmium export config: which tags to keep, which closed ways are areas and which are lines. */
export function exportConfigPath(): string {
  return path.join(repoRoot(), 'pipeline', 'osm', 'export-config.json');
}

export interface ReadRegionOptions {
  source?: SourceOptions;
  /** coastline shapefile; null = no ocean layer; undefined = WEFT_COASTLINE / region / shared default */
  coastline?: string | null;
  /** add boundary lines (a second, quick osmium pass over the relations); default true */
  boundaries?: boolean;
  /** features per batch (default 2048) */
  batchSize?: number;
  /** folder for temporary files (default the OS temp dir) */
  tmpDir?: string;
  log?: (line: string) => void;
  /** called once the extract is known, before the first batch */
  onSource?: (info: { source: ResolvedSource; extracted: boolean; input: string }) => void;
}

const contains = (outer: readonly number[], inner: readonly number[]) =>
  outer[0]! <= inner[0]! && outer[1]! <= inner[1]! && outer[2]! >= inner[2]! && outer[3]! >= inner[3]!;
const overlaps = (a: readonly number[], b: readonly number[]) =>
  a[0]! <= b[2]! && a[2]! >= b[0]! && a[1]! <= b[3]! && a[3]! >= b[1]!;

function fmt(b: readonly number[]): string {
  return `[${b.map((v) => +v.toFixed(6)).join(', ')}]`;
}

export interface PreparedRegion {
  source: ResolvedSource;
  /** the PBF to export: the extract itself, or its cut to the region */
  input: string;
  extracted: boolean;
  /** boundary relation membership of ways (empty when boundaries are off) */
  membership: Promise<Map<number, BoundaryMembership>>;
  /** removes temporary files; call when done with `input` */
  cleanup(): Promise<void>;
}

/**
 * Resolves the region's extract, checks that it overlaps the region, cuts it (osmium extract) unless the extract
 * already lies inside the bbox, and starts the boundary-membership pass. Throws a UserError when the extract does
 * not overlap the region or osmium cannot read it.
 */
export async function prepareRegionInput(
  region: Region,
  opts: ReadRegionOptions = {},
): Promise<PreparedRegion> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const source = await resolveOsmSource(region, { log, ...opts.source });
  const header: BBox | undefined = readPbfHeader(source.path)?.bbox ?? (await headerBbox(source.path));
  if (header && !overlaps(header, region.bbox)) {
    throw new UserError(
      `OSM extract ${source.path} (bbox ${fmt(header)}) does not overlap region "${region.id}" (bbox ${fmt(region.bbox)})`,
      'bad_input',
    );
  }
  const work = mkdtempSync(path.join(opts.tmpDir ?? os.tmpdir(), 'weft-osm-'));
  let membership: Promise<Map<number, BoundaryMembership>> = Promise.resolve(new Map());
  try {
    let input = source.path;
    const needsCut = region.polygon !== undefined || !header || !contains(region.bbox, header);
    if (needsCut) {
      input = path.join(work, `${region.id}.osm.pbf`);
      if (region.polygon) {
        const polygonFile = path.join(work, 'region.geojson');
        writeFileSync(
          polygonFile,
          JSON.stringify({ type: 'Feature', properties: {}, geometry: region.polygon }),
        );
        await extract(source.path, input, { polygonFile });
      } else {
        await extract(source.path, input, { bbox: region.bbox });
      }
    }
    if (opts.boundaries !== false) {
      membership = readBoundaryMembership(input);
      membership.catch(() => {}); // awaited by the consumer; no unhandled rejection if it stops early
    }
    opts.onSource?.({ source, extracted: needsCut, input });
    return {
      source,
      input,
      extracted: needsCut,
      membership,
      cleanup: async () => {
        await Promise.allSettled([membership]);
        rmSync(work, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
}

/** The error for an extract that overlaps the region's bbox but has nothing inside it. */
export function noFeaturesError(region: Region, source: ResolvedSource): UserError {
  return new UserError(
    `OSM extract ${source.path} has no features inside region "${region.id}" (bbox ${fmt(region.bbox)})` +
      (region.polygon ? ' and its polygon' : ''),
    'bad_input',
  );
}

/**
 * The region's source features in batches: ocean polygons first, then osmium's export of the extract
 * (cut to the region's bbox or polygon unless the extract already lies inside the bbox), then boundary lines.
 * Throws a UserError when the extract does not overlap the region or osmium cannot read it.
 */
export async function* readRegionFeatures(
  region: Region,
  opts: ReadRegionOptions = {},
): AsyncGenerator<SourceFeature[]> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const batchSize = opts.batchSize ?? 2048;
  const prepared = await prepareRegionInput(region, opts);
  try {
    let count = 0;
    // start osmium first (its first batch is requested now), then read the ocean while osmium works
    const exported = exportFeatures(prepared.input, { config: exportConfigPath(), batchSize });
    let next = exported.next();
    next.catch(() => {}); // handled when awaited below
    try {
      const ocean = readRegionOcean(region, {
        ...(opts.coastline !== undefined ? { coastline: opts.coastline } : {}),
        log,
      });
      for (let i = 0; i < ocean.length; i += batchSize) yield ocean.slice(i, i + batchSize);

      let members: Map<number, BoundaryMembership> | undefined;
      for (let r = await next; !r.done; r = await next) {
        const batch = r.value;
        next = exported.next();
        next.catch(() => {});
        count += batch.length;
        if (opts.boundaries !== false) members ??= await prepared.membership;
        if (members && members.size > 0) {
          const n = batch.length;
          for (let i = 0; i < n; i++) {
            const line = boundaryLine(batch[i]!, members);
            if (line) batch.push(line);
          }
        }
        yield batch;
      }
    } finally {
      await exported.return(undefined);
    }
    if (count === 0) throw noFeaturesError(region, prepared.source);
  } finally {
    await prepared.cleanup();
  }
}
