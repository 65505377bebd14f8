// The `weft` command line: one program, subcommands grouped by domain (tiles, builds, releases, data, jobs, serving).
import { Command, CommanderError } from 'commander';
import { UserError, errorMessage } from '../core/errors.js';
import { registerTileCommands } from './tiles.js';
import { registerDataCommands } from './data.js';
import { registerBuildCommands } from './builds.js';
import { registerAnalyticsCommands } from './analytics.js';
import { registerReleaseCommands } from './releases.js';
import { registerJobCommands } from './jobs.js';
import { registerServingCommands } from './serving.js';
import { registerPackCommands } from './packs.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('weft')
    .description('Build, publish and serve the maps of a community weave.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerTileCommands(program);
  registerDataCommands(program);
  registerBuildCommands(program);
  registerAnalyticsCommands(program);
  registerReleaseCommands(program);
  registerJobCommands(program);
  registerServingCommands(program);
  registerPackCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit with code 0; usage errors were already printed by commander
      return err.exitCode;
    }
    if (err instanceof UserError) {
      process.stderr.write(`weft: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`weft: ${errorMessage(err)}\n`);
    if (process.env.WEFT_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
