// Runs the weft CLI from source (for the CLI tests): `tsx test/db/cli-runner.ts <args>`.
import { main } from '../../cli/main.js';

process.exitCode = await main(process.argv.slice(2));
