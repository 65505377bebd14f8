// CLI group "serving": weft serve, weft token create, weft partner add.
import type { Command } from 'commander';
import { UserError } from '../core/errors.js';

const say = (line: string) => process.stdout.write(`${line}\n`);

function port(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UserError(`--port must be 0–65535, got '${text}'`);
  return n;
}

export function registerServingCommands(program: Command): void {
  program
    .command('serve')
    .description(
      'serve the prod releases (archives with Range, z/x/y tiles, TileJSON, styles, packs), the write API and ' +
        'live deltas; configured by DATABASE_URL, REDIS_URL/NATS_URL, WEFT_S3_* and WEFT_* (see the README)',
    )
    .option('-p, --port <port>', 'port to listen on (default $WEFT_PORT, $PORT or 8080)', port)
    .option('--host <host>', 'address to listen on (default $WEFT_HOST or 127.0.0.1)')
    .option('--no-websockets', 'switch WebSockets off: clients use GET /api/deltas')
    .action(async (opts: { port?: number; host?: string; websockets: boolean }) => {
      const { startServer } = await import('../serve/server.js');
      const overrides: Record<string, unknown> = {};
      if (opts.port !== undefined) overrides.port = opts.port;
      if (opts.host !== undefined) overrides.host = opts.host;
      if (!opts.websockets) overrides.websockets = false;
      const running = await startServer({ config: overrides });
      process.stderr.write(`weft serve: listening on ${running.url} (Ctrl-C stops)\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.stderr.write('weft serve: stopping\n');
          running.close().then(resolve, resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
