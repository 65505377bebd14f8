// CLI group "builds": weft build base, weft build activity.
import type { Command } from 'commander';

export function registerBuildCommands(program: Command): void {
  const build = program.command('build').description('build a region’s tile archives');
  build
    .command('base')
    .description(
      'build the Shortbread 1.0 base map of a region from its OSM extract → dist/<region>/base.pmtiles',
    )
    .requiredOption('-r, --region <id|path>', 'a region id (regions/<id>.json) or a path to a region file')
    .option('-o, --out-dir <dir>', 'output folder (default dist/<region>)')
    .option('--workers <n>', 'worker threads (default: one per core)', (v) => Number.parseInt(v, 10))
    .option('--no-ocean', 'leave out the ocean layer (no coastline polygons)')
    .option('-q, --quiet', 'no progress output')
    .action(
      async (opts: {
        region: string;
        outDir?: string;
        workers?: number;
        ocean: boolean;
        quiet?: boolean;
      }) => {
        const { buildBase } = await import('../pipeline/build-base.js');
        await buildBase(opts.region, {
          outDir: opts.outDir,
          workers: opts.workers,
          quiet: opts.quiet,
          ...(opts.ocean ? {} : { coastline: null }),
        });
      },
    );
  build
    .command('activity')
    .description(
      'build the activity layer (nodes, threads with their fade) of a region as of publish time T → dist/<region>/activity.pmtiles',
    )
    .requiredOption('-r, --region <id|path>', 'a region id (regions/<id>.json) or a path to a region file')
    .option('--at <time>', 'publish time T, ISO 8601 (default: now); only events recorded up to T count')
    .option('-o, --out-dir <dir>', 'output folder (default dist/<region>)')
    .option('--workers <n>', 'worker threads (default: one per core)', (v) => Number.parseInt(v, 10))
    .option('-q, --quiet', 'no progress output')
    .action(
      async (opts: { region: string; at?: string; outDir?: string; workers?: number; quiet?: boolean }) => {
        const { buildActivity } = await import('../pipeline/build-activity.js');
        await buildActivity(opts.region, {
          at: opts.at,
          outDir: opts.outDir,
          workers: opts.workers,
          quiet: opts.quiet,
        });
      },
    );
}
