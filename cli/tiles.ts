// CLI group "tiles": weft tile, weft verify, weft inspect. Implementations load when their command runs.
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parseZoom } from './options.js';

export function registerTileCommands(program: Command): void {
  program
    .command('tile')
    .description(
      'tile GeoJSON / newline-delimited GeoJSON files into a vector PMTiles archive (one layer per input)',
    )
    .argument('<inputs...>', 'GeoJSON FeatureCollection or GeoJSONSeq files')
    .requiredOption('-o, --output <file>', 'the archive to write (.pmtiles)')
    .option(
      '-l, --layer <name>',
      'put every input in this layer (default: one layer per input, named after the file)',
    )
    .option('-z, --maxzoom <z>', 'highest zoom', parseZoom, 14)
    .option('-Z, --minzoom <z>', 'lowest zoom', parseZoom, 0)
    .option('--budget <bytes>', 'compressed size budget per tile', (v) => Number.parseInt(v, 10), 500_000)
    .option('--attribution <text>', 'attribution written to the metadata')
    .option('--name <text>', 'archive name written to the metadata')
    .option('--workers <n>', 'worker threads (default: one per core)', (v) => Number.parseInt(v, 10))
    .option('--gzip-level <n>', 'gzip level of the tiles, 1 (fastest) to 9 (smallest)', (v) => Number(v), 6)
    .option('-q, --quiet', 'no progress output')
    .option('--stats <file>', 'write build statistics (per stage, per zoom, largest tiles) as JSON')
    .action(async (inputs: string[], opts) => {
      const { tileCommand } = await import('../pipeline/tile-command.js');
      const stats = await tileCommand(inputs, opts);
      if (opts.stats) await writeFile(opts.stats, JSON.stringify(stats, null, 2) + '\n');
    });

  program
    .command('verify')
    .description(
      'check a PMTiles archive: header, directories and every tile (MVT tiles must be valid MVT 2.1)',
    )
    .argument('<archive>', 'a .pmtiles file')
    .action(async (archive: string) => {
      const { verifyArchive } = await import('../pipeline/pmtiles/verify.js');
      const { problems, summary } = await verifyArchive(archive);
      if (problems.length) {
        for (const p of problems) process.stderr.write(`${archive}: ${p}\n`);
        process.exitCode = 1;
      } else {
        process.stdout.write(`${summary}\n`);
      }
    });

  program
    .command('inspect')
    .description(
      'print header, metadata, tiles per zoom and the largest tiles, or one tile’s layers and features',
    )
    .argument('<archive>', 'a .pmtiles file')
    .argument('[tile]', 'a tile as z/x/y')
    .action(async (archive: string, tile: string | undefined) => {
      const { inspectArchive } = await import('../pipeline/pmtiles/inspect.js');
      process.stdout.write(await inspectArchive(archive, tile));
    });
}
