// `weft build base --region R`: the region's OSM extract → Shortbread 1.0 profile → engine → dist/R/base.pmtiles,
// plus dist/R/base.stats.json (features per layer, tiles per zoom, largest tiles, time and peak memory per stage).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readRegionFeatures } from './osm/read.js';
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
  let source: { path: string; sha256?: string; extracted: boolean } | undefined;

  async function* chunks(): AsyncGenerator<InputChunk> {
    let index = 0;
    const features = readRegionFeatures(region, {
      log: (line) => progress.log(line),
      ...(opts.coastline !== undefined ? { coastline: opts.coastline } : {}),
      onSource: (info: { source: ResolvedSource; extracted: boolean; input: string }) => {
        source = { path: info.source.path, sha256: info.source.sha256, extracted: info.extracted };
      },
    });
    for await (const batch of features) {
      yield {
        kind: 'features',
        features: batch,
        input: source?.path ?? region.id,
        source: 'osm',
        firstIndex: index,
      };
      index += batch.length;
    }
  }

  progress.log(`building the base map of ${region.name} (z${region.minzoom}–${region.maxzoom}) → ${archive}`);
  const stats = await runEngine(chunks(), {
    output: archive,
    profile: { module: siblingModule(import.meta.url, './profiles/shortbread') },
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
  const statsFile = join(outDir, 'base.stats.json');
  const result = { ...stats, source };
  await writeFile(statsFile, JSON.stringify(result, null, 2) + '\n');
  progress.log(
    `wrote ${archive}: ${stats.features} OSM features, ${stats.tiles} tiles, ${(stats.bytes / 1e6).toFixed(1)} MB in ${stats.seconds} s ` +
      `(peak ${stats.peakRssMiB} MiB); stats in ${statsFile}`,
  );
  return { region, archive, statsFile, stats: result };
}
