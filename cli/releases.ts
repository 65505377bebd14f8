// CLI group "releases": weft publish, weft promote, weft rollback, weft releases (blob store + audit log).
import type { Command } from 'commander';
import type { Bus } from '../core/bus/adapter.js';
import { instant } from './options.js';
import { withStores } from './stores.js';

const say = (line: string) => process.stdout.write(`${line}\n`);
const note = (line: string) => process.stderr.write(`${line}\n`);

/**
 * Runs a promotion or rollback with the bus it is announced on: Redis or NATS from the environment. Without one
 * (the in-process default reaches no other process) it says that servers find the release at their next re-check.
 */
async function withAnnounceBus<T>(fn: (bus: Bus | undefined) => Promise<T>): Promise<T> {
  const { busConfig, openBus } = await import('../core/bus/open.js');
  if (busConfig().kind === 'memory') {
    const result = await fn(undefined);
    note(
      'note: no REDIS_URL or NATS_URL, so no bus to announce on: running servers switch at their next ' +
        're-check of the prod tags (WEFT_RELEASE_RECHECK_MS)',
    );
    return result;
  }
  const bus = openBus(process.env, { log: () => {} });
  try {
    return await fn(bus);
  } finally {
    await bus.close();
  }
}

export function registerReleaseCommands(program: Command): void {
  program
    .command('publish')
    .description(
      'build (or take) a region’s base and activity archives, upload them under content-addressed keys with a ' +
        'release manifest, all tagged stage=staging',
    )
    .requiredOption('-r, --region <id|path>', 'a region id (regions/<id>.json) or a path to a region file')
    .option(
      '--at <time>',
      'publish time T (ISO 8601): the activity is built as of T (default: the T of a given --activity archive, else now)',
      instant,
    )
    .option('--base <file>', 'publish this base archive instead of building one')
    .option('--activity <file>', 'publish this activity archive instead of building one')
    .option('-o, --out-dir <dir>', 'where builds write (default dist/<region>)')
    .option('--actor <name>', 'who publishes, for the audit log', 'operator')
    .option('-q, --quiet', 'no progress output')
    .action(
      async (opts: {
        region: string;
        at?: Date;
        base?: string;
        activity?: string;
        outDir?: string;
        actor: string;
        quiet?: boolean;
      }) => {
        const { publishRelease } = await import('../pipeline/releases/publish.js');
        await withStores(async (db, blob) => {
          const r = await publishRelease({
            blob,
            db,
            region: opts.region,
            at: opts.at,
            base: opts.base,
            activity: opts.activity,
            outDir: opts.outDir,
            quiet: opts.quiet,
            actor: opts.actor,
            log: opts.quiet ? undefined : note,
          });
          say(
            r.unchanged && r.stage !== 'staging'
              ? `release ${r.release} of ${r.manifest.region} was already published (stage ${r.stage})`
              : `published release ${r.release} of ${r.manifest.region} to ${blob.location} (stage staging: ` +
                  `${r.uploaded.length} uploaded, ${r.skipped.length} already stored); manifest ${r.manifestKey}`,
          );
          if (r.stage === 'staging')
            say(`promote it with: weft promote --region ${r.manifest.region} --release ${r.release}`);
        });
      },
    );

  program
    .command('promote')
    .description(
      'check every object of a release (size, sha256) and tag it stage=prod, retiring the previous prod release',
    )
    .requiredOption('-r, --region <id>', 'the region id')
    .requiredOption('--release <id>', 'the release id (see weft releases)')
    .option('--actor <name>', 'who promotes, for the audit log', 'operator')
    .action(async (opts: { region: string; release: string; actor: string }) => {
      const { promoteRelease } = await import('../pipeline/releases/promote.js');
      await withStores(async (db, blob) => {
        const r = await withAnnounceBus((bus) =>
          promoteRelease({
            blob,
            db,
            region: opts.region,
            release: opts.release,
            actor: opts.actor,
            log: note,
            bus,
          }),
        );
        say(
          `release ${r.release} of ${opts.region} is prod` +
            (r.retired.length ? `; retired ${r.retired.join(', ')}` : r.wasProd ? ' (it already was)' : ''),
        );
      });
    });

  program
    .command('rollback')
    .description('re-promote the release that was prod before the current one, retiring the current one')
    .requiredOption('-r, --region <id>', 'the region id')
    .option('--actor <name>', 'who rolls back, for the audit log', 'operator')
    .action(async (opts: { region: string; actor: string }) => {
      const { rollbackRelease } = await import('../pipeline/releases/promote.js');
      await withStores(async (db, blob) => {
        const r = await withAnnounceBus((bus) =>
          rollbackRelease({ blob, db, region: opts.region, actor: opts.actor, log: note, bus }),
        );
        say(
          `rolled ${opts.region} back to release ${r.release}; retired ${r.retired.join(', ') || 'nothing'}`,
        );
      });
    });

  program
    .command('releases')
    .description('list a region’s releases with their stage, publish time T and sizes, newest first')
    .requiredOption('-r, --region <id>', 'the region id')
    .option('--json', 'one JSON object per release')
    .action(async (opts: { region: string; json?: boolean }) => {
      const { openBlobStore } = await import('../core/blob/open.js');
      const { releaseTable, releaseRecords } = await import('../pipeline/releases/listing.js');
      const blob = openBlobStore();
      try {
        const records = await releaseRecords(blob, opts.region);
        if (opts.json) for (const r of records) say(JSON.stringify(r));
        else process.stdout.write(releaseTable(opts.region, blob.location, records));
      } finally {
        await blob.close();
      }
    });
}
