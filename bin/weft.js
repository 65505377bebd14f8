#!/usr/bin/env node
// The `weft` command: runs the compiled CLI (built by `npm ci` / `npm run build` into build/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../build/cli/run.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('weft: the CLI is not built yet; run `npm run build` (or `make setup`) first\n');
  process.exit(1);
}
await import(entry.href);
