// CLI group "data": weft db migrate, seed, events export/import, projections rebuild, repl.
// The database code loads when a command runs (`lazy`), so other commands start fast.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { InvalidArgumentError, type Command } from 'commander';
import { instant } from './options.js';
import { withDb } from './stores.js';

class ReaderGone extends Error {}

const lazy = {
  migrate: async () => (await import('../core/db/migrate.js')).migrate,
  seed: () => import('../core/seed/seed.js'),
  region: () => import('../core/seed/region.js'),
  places: () => import('../core/seed/places.js'),
  transfer: () => import('../core/transfer.js'),
  projector: () => import('../core/projections/projector.js'),
  repl: () => import('../core/repl.js'),
};

function nonNegativeInt(name: string, min = 0) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be a whole number ≥ ${min}, got "${value}"`);
    return n;
  };
}

export function registerDataCommands(program: Command): void {
  const db = program
    .command('db')
    .description('the database: PostgreSQL + PostGIS (DATABASE_URL) or embedded PGlite (.data/)');
  db.command('migrate')
    .description('apply pending migrations from sql/ (safe to run again)')
    .action(async () => {
      await withDb(async (handle) => {
        const migrate = await lazy.migrate();
        const r = await migrate(handle);
        const names = r.applied.map((m) => `${String(m.version).padStart(3, '0')}_${m.name}`);
        process.stdout.write(
          names.length
            ? `applied ${names.join(', ')} to ${handle.location}\n`
            : `${handle.location} is up to date (${r.present} migrations)\n`,
        );
      }, false);
    });

  program
    .command('seed')
    .description(
      'create a deterministic, realistic community in a region (roles, nodes, threads, proposals, votes)',
    )
    .requiredOption(
      '--region <id>',
      'region id (regions/<id>.json, or a built-in one: monaco, liechtenstein)',
    )
    .option('--seed <n>', 'random seed: the same seed gives the same community', nonNegativeInt('--seed'), 1)
    .option('--now <time>', 'end of the simulated 14 days (ISO 8601; default: now)', instant)
    .option('--roles <n>', 'number of roles', nonNegativeInt('--roles', 1), 300)
    .option('--nodes <n>', 'number of nodes', nonNegativeInt('--nodes', 1), 120)
    .option('--proposals <n>', 'number of proposals', nonNegativeInt('--proposals'), 24)
    .action(
      async (opts: {
        region: string;
        seed: number;
        now?: Date;
        roles: number;
        nodes: number;
        proposals: number;
      }) => {
        const [{ loadSeedRegion }, { seedCommunity }, { builtinPlaces }] = await Promise.all([
          lazy.region(),
          lazy.seed(),
          lazy.places(),
        ]);
        const region = loadSeedRegion(opts.region);
        await withDb(async (handle) => {
          const r = await seedCommunity(handle, {
            region,
            places: await builtinPlaces(region),
            seed: opts.seed,
            now: opts.now ?? new Date(),
            roles: opts.roles,
            nodes: opts.nodes,
            proposals: opts.proposals,
          });
          process.stdout.write(
            `seeded ${region.id}: ${r.events} events — ${r.roles} roles, ${r.nodes} nodes (${r.hiddenNodes} hidden), ` +
              `${r.threads} threads (${r.fadedThreads} faded), ${r.proposals} proposals, ${r.votes} votes\n`,
          );
        });
      },
    );

  const events = program.command('events').description('the event store as newline-delimited JSON');
  events
    .command('export')
    .description('write events (one JSON object per line) to stdout or a file')
    .option('--since <position>', 'only events after this position', nonNegativeInt('--since'), 0)
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (opts: { since: number; output?: string }) => {
      await withDb(async (handle) => {
        const out = opts.output ? createWriteStream(opts.output) : process.stdout;
        // a reader that goes away (`| head`) ends the export quietly
        let gone = false;
        out.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code === 'EPIPE') gone = true;
          else throw err;
        });
        const { exportEvents } = await lazy.transfer();
        const n = await exportEvents(
          handle,
          async (line) => {
            if (gone) throw new ReaderGone();
            if (!out.write(line)) await Promise.race([once(out, 'drain'), once(out, 'error')]);
          },
          { since: opts.since },
        ).catch((err: NodeJS.ErrnoException) => {
          if (err instanceof ReaderGone || err.code === 'EPIPE') return -1;
          throw err;
        });
        if (opts.output) {
          out.end();
          await once(out, 'finish');
          process.stderr.write(`exported ${n} events to ${opts.output}\n`);
        }
      });
    });
  events
    .command('import')
    .description('import events from a file ("-" for stdin): every line validated, all or nothing')
    .argument('<file>', 'newline-delimited JSON, as written by `weft events export`')
    .action(async (file: string) => {
      await withDb(async (handle) => {
        const { importEvents, fileLines } = await lazy.transfer();
        const r = await importEvents(handle, fileLines(file), { name: file });
        const where = r.imported ? ` at positions ${r.firstPosition}–${r.lastPosition}` : '';
        process.stdout.write(`imported ${r.imported} events${where}, ${r.skipped} already present\n`);
      });
    });

  const projections = program.command('projections').description('the read models derived from the events');
  projections
    .command('rebuild')
    .description('rebuild every projection from event 1 (writers wait meanwhile)')
    .action(async () => {
      await withDb(async (handle) => {
        const { rebuildProjections } = await lazy.projector();
        const r = await rebuildProjections(handle);
        process.stdout.write(
          `rebuilt projections from ${r.events} events in ${(r.ms / 1000).toFixed(1)} s\n`,
        );
      });
    });

  program
    .command('repl')
    .description('an interactive prompt for operators: run commands, query projections and events')
    .action(async () => {
      const { runRepl } = await lazy.repl();
      await withDb((handle) => runRepl(handle, process.stdin, process.stdout));
    });
}
