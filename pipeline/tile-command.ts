// `weft tile`: GeoJSON inputs → the generic profile → the engine → a vector PMTiles archive, with progress and a summary.
import { access, constants } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UserError } from '../core/errors.js';
import { checkReadable, layerNameFor, readGeojsonInputs } from './input/geojson.js';
import { siblingModule } from './modules.js';
import { Progress } from './progress.js';
import { runEngine, type EngineStats } from './tiler/engine.js';
import type { GeojsonProfileOptions } from './profiles/geojson.js';

export interface TileCommandOptions {
  output: string;
  layer?: string;
  minzoom: number;
  maxzoom: number;
  budget: number;
  attribution?: string;
  name?: string;
  workers?: number;
  /** gzip level of the tiles, 1–9 (default 6) */
  gzipLevel?: number;
  quiet?: boolean;
}

export async function checkWritableOutput(output: string): Promise<void> {
  const dir = dirname(resolve(output));
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw new UserError(
      `${output}: cannot write the output (directory ${dir} does not exist or is not writable)`,
    );
  }
}

export async function tileCommand(inputs: string[], opts: TileCommandOptions): Promise<EngineStats> {
  if (opts.minzoom > opts.maxzoom)
    throw new UserError(`--minzoom ${opts.minzoom} is above --maxzoom ${opts.maxzoom}`);
  if (!Number.isInteger(opts.budget) || opts.budget < 1024)
    throw new UserError('--budget must be at least 1024 bytes');
  const level = opts.gzipLevel ?? 6;
  if (!Number.isInteger(level) || level < 1 || level > 9)
    throw new UserError(`--gzip-level must be an integer from 1 to 9, got '${opts.gzipLevel}'`);
  for (const path of inputs) await checkReadable(path);
  await checkWritableOutput(opts.output);
  const progress = new Progress(process.stderr, opts.quiet);
  const profileOptions: GeojsonProfileOptions = {
    layer: opts.layer,
    minzoom: opts.minzoom,
    maxzoom: opts.maxzoom,
  };
  const stats = await runEngine(
    readGeojsonInputs(inputs.map((path) => ({ path, source: opts.layer ?? layerNameFor(path) }))),
    {
      output: opts.output,
      profile: { module: siblingModule(import.meta.url, './profiles/geojson'), options: profileOptions },
      minzoom: opts.minzoom,
      maxzoom: opts.maxzoom,
      budget: opts.budget,
      gzipLevel: level,
      workers: opts.workers,
      metadata: {
        name: opts.name ?? layerNameFor(opts.output.replace(/\.pmtiles$/i, '')),
        format: 'pbf',
        generator: 'weft',
        ...(opts.attribution ? { attribution: opts.attribution } : {}),
      },
      progress,
    },
  );
  progress.log(
    `wrote ${opts.output}: ${stats.features} features, ${stats.tiles} tiles, ${stats.bytes} bytes of tiles in ${stats.seconds} s ` +
      `(${Math.round(stats.features / Math.max(stats.seconds, 1e-3))} features/s, peak ${stats.peakRssMiB} MiB)`,
  );
  return stats;
}
