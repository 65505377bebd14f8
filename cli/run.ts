// Process entry of the `weft` command: runs the CLI on argv and exits with its code.
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
