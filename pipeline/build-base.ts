// `weft build base --region R`: the region's OSM extract → Shortbread 1.0 profile → engine → dist/R/base.pmtiles,
// plus dist/R/base.stats.json (features per layer, tiles per zoom, largest tiles, time and peak memory per stage).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportConfigPath, noFeaturesError, prepareRegionInput } from './osm/read.js';
import { exportRaw } from './osm/osmium.js';
import { readRegionOcean } from './profiles/ocean.js';
import { boundaryOption } from './profiles/shortbread.js';
import { UserError } from '../core/errors.js';
import { siblingModule } from './modules.js';
import { Progress } from './progress.js';
import { shortbreadLayers } from './profiles/shortbread.js';
import { loadRegion, type Region } from './region.js';
import { runEngine, type EngineStats, type InputChunk } from './tiler/engine.js';
import type { ResolvedSource } from './osm/source.js';

export const OSM_ATTRIBUTION =
  '<a href="https://www.openstreetmap.org/copyright">© OpenStreetMap contributors</a>';

export interface BuildBaseOptions {
  /** output folder (default dist/<region id>) */
  outDir?: string;
  workers?: number;
  quiet?: boolean;
  /** coastline shapefile; null disables the ocean layer */
  coastline?: string | null;
}

export interface BaseBuildResult {
  region: Region;
  archive: string;
  statsFile: string;
  stats: EngineStats & { source?: { path: string; sha256?: string; extracted: boolean } };
}

export async function buildBase(regionArg: string, opts: BuildBaseOptions = {}): Promise<BaseBuildResult> {
  const region = loadRegion(regionArg);
  const outDir = opts.outDir ?? join('dist', region.id);
  await mkdir(outDir, { recursive: true });
  const archive = join(outDir, 'base.pmtiles');
  const progress = new Progress(process.stderr, opts.quiet);

  const log = (line: string): void => progress.log(line);
  const prepared = await prepareRegionInput(region, { log });
  const source = {
    path: prepared.source.path,
    sha256: prepared.source.sha256,
    extracted: prepared.extracted,
  };

  // osmium's export goes to the workers as raw line-delimited chunks: parsing runs there, in parallel
  async function* chunks(): AsyncGenerator<InputChunk> {
    const ocean =
      opts.coastline === null
        ? []
        : readRegionOcean(region, { ...(opts.coastline ? { coastline: opts.coastline } : {}), log });
    if (ocean.length)
      yield { kind: 'features', features: ocean, input: 'coastline', source: 'osm', firstIndex: 0 };
    for await (const bytes of exportRaw(prepared.input, { config: exportConfigPath() })) {
      yield { kind: 'ndjson', bytes, input: prepared.source.path, source: 'osm', firstLine: 1 };
    }
  }

  progress.log(`building the base map of ${region.name} (z${region.minzoom}–${region.maxzoom}) → ${archive}`);
  let stats: EngineStats;
  try {
    const members = await prepared.membership;
    stats = await runEngine(chunks(), {
      output: archive,
      profile: {
        module: siblingModule(import.meta.url, './profiles/shortbread'),
        options: { boundaries: boundaryOption(members) },
      },
      minzoom: region.minzoom,
      maxzoom: region.maxzoom,
      workers: opts.workers,
      vectorLayers: shortbreadLayers.map((l) => ({
        ...l,
        minzoom: Math.max(l.minzoom, region.minzoom),
        maxzoom: Math.min(l.maxzoom, region.maxzoom),
      })),
      bounds: region.bbox,
      clip: region.bbox,
      center: region.center,
      metadata: {
        name: `${region.name} base map`,
        description: `Shortbread 1.0 vector tiles of ${region.name}, built by weft from OpenStreetMap data`,
        attribution: OSM_ATTRIBUTION,
        license: 'ODbL-1.0',
        format: 'pbf',
        schema: 'shortbread-1.0',
        generator: 'weft',
      },
      progress,
    });
  } catch (err) {
    if (err instanceof UserError && /^no features in the input/.test(err.message))
      throw noFeaturesError(region, prepared.source);
    throw err;
  } finally {
    await prepared.cleanup();
  }
  const statsFile = join(outDir, 'base.stats.json');
  const result = { ...stats, source };
  await writeFile(statsFile, JSON.stringify(result, null, 2) + '\n');
  progress.log(
    `wrote ${archive}: ${stats.features} OSM features, ${stats.tiles} tiles, ${(stats.bytes / 1e6).toFixed(1)} MB in ${stats.seconds} s ` +
      `(peak ${stats.peakRssMiB} MiB); stats in ${statsFile}`,
  );
  return { region, archive, statsFile, stats: result };
}
