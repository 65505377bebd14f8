// CLI group "serving": weft serve, weft token create, weft partner add.
import { InvalidArgumentError, type Command } from 'commander';
import { UserError } from '../core/errors.js';
import { withDb } from './stores.js';

const say = (line: string) => process.stdout.write(`${line}\n`);
const note = (line: string) => process.stderr.write(`${line}\n`);

function lonLat(text: string): [number, number] {
  const parts = text.split(',').map((s) => Number(s.trim()));
  const [lon, lat] = parts;
  if (
    parts.length !== 2 ||
    !Number.isFinite(lon) ||
    !Number.isFinite(lat) ||
    Math.abs(lon!) > 180 ||
    Math.abs(lat!) > 85
  )
    throw new InvalidArgumentError(`must be lon,lat in degrees (e.g. 7.42,43.73), got "${text}"`);
  return [lon!, lat!];
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function port(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UserError(`--port must be 0–65535, got '${text}'`);
  return n;
}

function workerCount(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UserError(`--workers must be 1–64, got '${text}'`);
  return n;
}

export function registerServingCommands(program: Command): void {
  program
    .command('serve')
    .description(
      'serve the prod releases (archives with Range, z/x/y tiles, TileJSON, styles, packs), the write API and ' +
        'live deltas and the viewer; configured by DATABASE_URL, REDIS_URL/NATS_URL, S3_* and WEFT_* (see the README)',
    )
    .option('-p, --port <port>', 'port to listen on (default $WEFT_PORT, $PORT or 8080)', port)
    .option('--host <host>', 'address to listen on (default $WEFT_HOST or 127.0.0.1)')
    .option('--no-websockets', 'switch WebSockets off: clients use GET /api/deltas')
    .option(
      '-w, --workers <n>',
      'server processes sharing the port, one per core (default $WEFT_WORKERS or 1; more than 1 needs ' +
        'DATABASE_URL and REDIS_URL or NATS_URL)',
      workerCount,
    )
    .action(async (opts: { port?: number; host?: string; websockets: boolean; workers?: number }) => {
      const workers = opts.workers ?? (process.env.WEFT_WORKERS ? workerCount(process.env.WEFT_WORKERS) : 1);
      const { announceListening, isWorker, leaveCluster, runPrimary } = await import('../serve/cluster.js');
      if (workers > 1 && !isWorker()) {
        const { listening, done } = runPrimary(workers, (line) => process.stderr.write(`${line}\n`));
        const url = await listening;
        process.stderr.write(
          `weft serve: listening on ${url} with ${workers} worker processes (Ctrl-C stops)\n`,
        );
        await done;
        process.stderr.write('weft serve: stopped\n');
        return;
      }
      const { startServer } = await import('../serve/server.js');
      const overrides: Record<string, unknown> = {};
      if (opts.port !== undefined) overrides.port = opts.port;
      if (opts.host !== undefined) overrides.host = opts.host;
      if (!opts.websockets) overrides.websockets = false;
      const running = await startServer({ config: overrides });
      if (isWorker()) announceListening(running.url);
      else process.stderr.write(`weft serve: listening on ${running.url} (Ctrl-C stops)\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          if (!isWorker()) process.stderr.write('weft serve: stopping\n');
          const leave = () => {
            leaveCluster();
            resolve();
          };
          running.close().then(leave, leave);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });

  const token = program
    .command('token')
    .description('session tokens: how participants authenticate to the write API');
  token
    .command('create')
    .description(
      'print a new session token (shown once; only its sha256 is stored) for an existing role (--role), or ' +
        'register a new role (--region, --name) and print a token for it',
    )
    .option('--role <id>', 'an existing role')
    .option('--region <id>', "the new role's region")
    .option('--name <name>', "the new role's name")
    .option('--area <lon,lat>', "a point in the new role's area (default: the region's centre)", lonLat)
    .action(async (opts: { role?: string; region?: string; name?: string; area?: [number, number] }) => {
      const { mintToken } = await import('../serve/api/operator.js');
      let forWhom: Parameters<typeof mintToken>[1];
      if (opts.role !== undefined) {
        if (opts.region !== undefined || opts.name !== undefined || opts.area !== undefined)
          throw new UserError('--role names an existing role: leave out --region, --name and --area');
        forWhom = { roleId: opts.role };
      } else {
        if (opts.region === undefined || opts.name === undefined)
          throw new UserError('give --role ID, or --region and --name to register a new role');
        let area = opts.area;
        if (!area) {
          const { loadSeedRegion } = await import('../core/seed/region.js');
          let r: ReturnType<typeof loadSeedRegion>;
          try {
            r = loadSeedRegion(opts.region);
          } catch (err) {
            throw new UserError(`${(err as Error).message}; give --area lon,lat`);
          }
          area = [r.center[0], r.center[1]];
        }
        forWhom = { regionId: opts.region, name: opts.name, area };
      }
      await withDb(async (db) => {
        const minted = await mintToken(db, forWhom);
        note(
          `${minted.registered ? 'registered role' : 'role'} ${minted.roleId}: session token below ` +
            '(shown once; send it as "Authorization: Bearer <token>")',
        );
        say(minted.token);
      });
    });

  token
    .command('revoke')
    .description(
      'revoke a session token (give its text, or "-" to read it from stdin) or every token of a role (--role); ' +
        'the server refuses them from its next request on',
    )
    .argument('[token]', 'the token text (wft_…), or - for stdin')
    .option('--role <id>', 'revoke every token of this role')
    .action(async (text: string | undefined, opts: { role?: string }) => {
      const { revokeTokens } = await import('../serve/api/operator.js');
      if ((text === undefined) === (opts.role === undefined))
        throw new UserError('give a token (or - to read it from stdin), or --role ID');
      let which: Parameters<typeof revokeTokens>[1];
      if (opts.role !== undefined) which = { roleId: opts.role };
      else {
        const { readFileSync } = await import('node:fs');
        which = { token: (text === '-' ? readFileSync(0, 'utf8') : text!).trim() };
      }
      await withDb(async (db) => {
        const r = await revokeTokens(db, which);
        note(`role ${r.roleId}: ${r.revoked} session token${r.revoked === 1 ? '' : 's'} revoked`);
      });
    });

  const partner = program
    .command('partner')
    .description('partner sites: signed write requests and CORS origins');
  partner
    .command('add')
    .description(
      'register a partner site and print its key (the HMAC secret for signing requests; shown once); its ' +
        'origins may call the write API from a browser',
    )
    .argument('<name>', 'the partner\'s name (a-z, 0-9, "_", "-"): the X-Weft-Partner header')
    .requiredOption(
      '--origin <url>',
      'a browser origin of the partner site, e.g. https://example.org (repeatable)',
      collect,
    )
    .action(async (name: string, opts: { origin: string[] }) => {
      const { addPartner } = await import('../serve/api/operator.js');
      await withDb(async (db) => {
        const added = await addPartner(db, name, opts.origin);
        note(
          `partner ${name} (${added.origins.join(', ')}): key below (shown once; sign requests with it, see docs/API.md)`,
        );
        say(added.key);
      });
    });

  partner
    .command('remove')
    .description(
      'remove a partner site: its key stops verifying; its origins leave CORS (within 10 s on a running server)',
    )
    .argument('<name>', "the partner's name")
    .action(async (name: string) => {
      const { removePartner } = await import('../serve/api/operator.js');
      await withDb(async (db) => {
        await removePartner(db, name);
        note(`partner ${name} removed`);
      });
    });
}
