// CLI group "jobs": weft jobs run NAME, weft jobs start, weft snapshot keygen|verify|restore, weft audit.
import { InvalidArgumentError, type Command } from 'commander';
import { instant } from './options.js';
import { withDb, withStores } from './stores.js';

const say = (line: string) => process.stdout.write(`${line}\n`);
const note = (line: string) => process.stderr.write(`${line}\n`);

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`must be an integer ≥ 0, got "${value}"`);
  return n;
}

function day(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)))
    throw new InvalidArgumentError(`must be a day YYYY-MM-DD, got "${value}"`);
  return value;
}

async function interval(option: string, value: string): Promise<number> {
  const { parseInterval } = await import('../jobs/scheduler.js');
  const { UserError } = await import('../core/errors.js');
  const ms = parseInterval(value);
  if (ms === undefined)
    throw new UserError(`${option}: must be a duration like 1h, 30m, 10s or 500ms, got "${value}"`);
  return ms;
}

export function registerJobCommands(program: Command): void {
  const jobs = program
    .command('jobs')
    .description('the automation: fade, snapshot, housekeeping (each run audited)');

  jobs
    .command('run')
    .description(
      'run one job once: fade (threads/nodes past seven days), snapshot (daily signed snapshots), housekeeping (old releases)',
    )
    .argument('<name>', 'fade, snapshot or housekeeping')
    .option('--now <time>', 'the job’s clock, ISO 8601 (default: now)', instant)
    .option(
      '--keep <n>',
      'housekeeping: how many of the newest releases per region are always kept',
      positiveInt,
      3,
    )
    .option('--dry-run', 'housekeeping: say what would be deleted, delete nothing')
    .option('--json', 'print the run’s result as JSON')
    .action(async (name: string, opts: { now?: Date; keep: number; dryRun?: boolean; json?: boolean }) => {
      const { checkJobName, runJob } = await import('../jobs/registry.js');
      const { loadSnapshotKey } = await import('../jobs/snapshot-key.js');
      const job = checkJobName(name);
      const key = job === 'snapshot' ? loadSnapshotKey({ needPrivate: true }) : undefined;
      await withStores(async (db, blob) => {
        const r = await runJob(job, {
          db,
          blob,
          clock: opts.now ? () => opts.now! : undefined,
          snapshotKey: key && (() => key),
          housekeeping: { keepRecent: opts.keep, dryRun: opts.dryRun },
          log: note,
        });
        say(opts.json ? JSON.stringify(r) : `job ${r.job}: ${r.summary}`);
      });
    });

  jobs
    .command('start')
    .description(
      'run the jobs on their schedules (fade hourly, snapshot and housekeeping daily), a log line per run; stop with Ctrl-C or SIGTERM',
    )
    .option('--fade-every <duration>', 'fade interval (default 1h)')
    .option('--snapshot-every <duration>', 'snapshot interval (default 1d)')
    .option('--housekeeping-every <duration>', 'housekeeping interval (default 1d)')
    .option('--only <names>', 'comma-separated jobs to run (default: all)')
    .option(
      '--keep <n>',
      'housekeeping: how many of the newest releases per region are always kept',
      positiveInt,
      3,
    )
    .option('--no-run-at-start', 'wait one interval before each job’s first run')
    .action(
      async (opts: {
        fadeEvery?: string;
        snapshotEvery?: string;
        housekeepingEvery?: string;
        only?: string;
        keep: number;
        runAtStart: boolean;
      }) => {
        const { checkJobName, DEFAULT_SCHEDULE, JOB_NAMES, runJob } = await import('../jobs/registry.js');
        const { startScheduler } = await import('../jobs/scheduler.js');
        const { loadSnapshotKey } = await import('../jobs/snapshot-key.js');
        const names = opts.only ? opts.only.split(',').map((s) => checkJobName(s.trim())) : [...JOB_NAMES];
        const every = {
          fade: opts.fadeEvery ? await interval('--fade-every', opts.fadeEvery) : DEFAULT_SCHEDULE.fade,
          snapshot: opts.snapshotEvery
            ? await interval('--snapshot-every', opts.snapshotEvery)
            : DEFAULT_SCHEDULE.snapshot,
          housekeeping: opts.housekeepingEvery
            ? await interval('--housekeeping-every', opts.housekeepingEvery)
            : DEFAULT_SCHEDULE.housekeeping,
        };
        // a missing key fails the snapshot runs (each one logged and audited), not the other jobs
        const snapshotKey = () => loadSnapshotKey({ needPrivate: true });
        await withStores(async (db, blob) => {
          const stamp = (line: string) => say(`${new Date().toISOString()} ${line}`);
          const ctx = { db, blob, snapshotKey, housekeeping: { keepRecent: opts.keep }, log: stamp };
          // the embedded database is one connection: its jobs take turns (on PostgreSQL they run side by side)
          let turn: Promise<unknown> = Promise.resolve();
          const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
            if (db.kind !== 'pglite') return fn();
            const next = turn.then(fn, fn);
            turn = next.catch(() => {});
            return next;
          };
          const scheduler = startScheduler(
            names.map((name) => ({
              name,
              everyMs: every[name],
              run: (signal: AbortSignal) =>
                exclusive(async () => (await runJob(name, { ...ctx, signal })).summary),
            })),
            { log: say, runAtStart: opts.runAtStart },
          );
          const signal = await new Promise<NodeJS.Signals>((resolve) => {
            process.once('SIGINT', () => resolve('SIGINT'));
            process.once('SIGTERM', () => resolve('SIGTERM'));
          });
          say(`${new Date().toISOString()} ${signal}: stopping after the running jobs finish`);
          await scheduler.stop();
          say(`${new Date().toISOString()} stopped`);
        });
      },
    );

  const snapshot = program.command('snapshot').description('the signed daily snapshots of the event store');

  snapshot
    .command('keygen')
    .description('create an ed25519 key pair for signing snapshots: FILE (private, mode 600) and FILE.pub')
    .requiredOption('-o, --out <file>', 'where to write the private key (the public key goes to <file>.pub)')
    .action(async (opts: { out: string }) => {
      const { writeSnapshotKey } = await import('../jobs/snapshot-key.js');
      const k = writeSnapshotKey(opts.out);
      say(`wrote ${k.privateFile} (private) and ${k.publicFile} (public); key id ${k.keyId}`);
      say(`use it with: export WEFT_SNAPSHOT_KEY=${k.privateFile}`);
    });

  snapshot
    .command('verify')
    .description(
      'check a snapshot (a file, a key in the blob store or a day), or with --all the whole chain in the store',
    )
    .argument('[file]', 'a snapshot file, a key snapshots/YYYY-MM-DD.json.zst, or a day YYYY-MM-DD')
    .option('--all', 'verify every snapshot in the blob store and the chain between them')
    .option(
      '--key <pem|file>',
      'the public (or private) key to check with (default: WEFT_SNAPSHOT_KEY, else WEFT_SNAPSHOT_PUBLIC_KEY)',
    )
    .action(async (file: string | undefined, opts: { all?: boolean; key?: string }) => {
      const { UserError } = await import('../core/errors.js');
      if (!file === !opts.all) throw new UserError('snapshot verify: give either a FILE or --all');
      const { loadSnapshotKey } = await import('../jobs/snapshot-key.js');
      const { verifySnapshotTarget, verifyStoreChain } = await import('../jobs/snapshot-verify.js');
      const key = loadSnapshotKey({ explicit: opts.key });
      const { openBlobStore } = await import('../core/blob/open.js');
      const blob = openBlobStore();
      try {
        if (opts.all) await verifyStoreChain(blob, key, { say, note });
        else await verifySnapshotTarget(file!, blob, key, { say, note });
      } finally {
        await blob.close();
      }
    });

  snapshot
    .command('restore')
    .description('verify the snapshot chain and replay it into an EMPTY database, rebuilding the projections')
    .option('--until <day>', 'restore the snapshots up to this day (YYYY-MM-DD)', day)
    .option(
      '--key <pem|file>',
      'the public (or private) key to check with (default: WEFT_SNAPSHOT_KEY, else WEFT_SNAPSHOT_PUBLIC_KEY)',
    )
    .action(async (opts: { until?: string; key?: string }) => {
      const { loadSnapshotKey } = await import('../jobs/snapshot-key.js');
      const { restoreSnapshots } = await import('../jobs/snapshot-restore.js');
      const key = loadSnapshotKey({ explicit: opts.key });
      await withStores(async (db, blob) => {
        const r = await restoreSnapshots({
          db,
          blob,
          key,
          until: opts.until,
          actor: 'operator:cli',
          log: note,
        });
        say(
          `restored ${r.snapshots} snapshots (up to ${r.latest}), ${r.events} events, into ${db.location}; head position ${r.head}`,
        );
      });
    });

  program
    .command('audit')
    .description('list the audit log (what automation and operators did), oldest first')
    .option('--since <time|duration>', 'from this ISO 8601 time, or this long ago (e.g. 24h, 7d)')
    .option('--action <name>', 'only this action or its sub-actions (e.g. job, snapshot.write, release)')
    .option('--limit <n>', 'at most this many (the newest)', positiveInt, 100)
    .option('--json', 'one JSON object per entry')
    .action(async (opts: { since?: string; action?: string; limit: number; json?: boolean }) => {
      const { auditSince, auditTable, parseSince } = await import('../jobs/audit-log.js');
      let since: Date | undefined;
      if (opts.since !== undefined) {
        since = parseSince(opts.since);
        if (!since) {
          const { UserError } = await import('../core/errors.js');
          throw new UserError(
            `--since: must be an ISO 8601 time or a duration like 24h, got "${opts.since}"`,
          );
        }
      }
      await withDb(async (db) => {
        const rows = await auditSince(db, { since, action: opts.action, limit: opts.limit });
        if (opts.json) for (const r of rows) say(JSON.stringify(r));
        else process.stdout.write(auditTable(rows));
      });
    });
}
