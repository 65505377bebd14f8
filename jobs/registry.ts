// The jobs by name — fade, snapshot, housekeeping — with their default schedules, and running one once: each run
// leaves its own audit row (a failed run leaves a `job.<name>.failed` row) and returns a one-line summary.
import type { BlobStore } from '../core/blob/adapter.js';
import type { Db } from '../core/db/adapter.js';
import { writeAudit } from '../core/audit.js';
import { errorMessage, UserError } from '../core/errors.js';
import { runFadeJob } from './fade.js';
import { runHousekeeping } from './housekeeping.js';
import type { HousekeepingPolicy } from './housekeeping-plan.js';
import { writeSnapshots } from './snapshot.js';
import type { SnapshotKey } from './snapshot-key.js';

export const JOB_NAMES = ['fade', 'snapshot', 'housekeeping'] as const;
export type JobName = (typeof JOB_NAMES)[number];

const HOUR_MS = 3_600_000;
/** fade hourly, snapshot and housekeeping daily. */
export const DEFAULT_SCHEDULE: Record<JobName, number> = {
  fade: HOUR_MS,
  snapshot: 24 * HOUR_MS,
  housekeeping: 24 * HOUR_MS,
};

export interface JobContext {
  db: Db;
  blob: BlobStore;
  /** The jobs' clock (default: the wall clock). */
  clock?: () => Date;
  /** The snapshot signing key, asked for only when the snapshot job runs. */
  snapshotKey?: () => SnapshotKey;
  housekeeping?: Partial<HousekeepingPolicy> & { dryRun?: boolean };
  log?: (line: string) => void;
  /** Asks a long run to stop early (the scheduler shutting down). */
  signal?: AbortSignal;
}

export interface JobOutcome {
  job: JobName;
  at: string;
  summary: string;
  details: unknown;
}

export function isJobName(name: string): name is JobName {
  return (JOB_NAMES as readonly string[]).includes(name);
}

export function checkJobName(name: string): JobName {
  if (!isJobName(name)) throw new UserError(`unknown job "${name}": choose one of ${JOB_NAMES.join(', ')}`);
  return name;
}

async function runOnce(name: JobName, ctx: JobContext, now: Date): Promise<Omit<JobOutcome, 'job' | 'at'>> {
  switch (name) {
    case 'fade': {
      const r = await runFadeJob({ db: ctx.db, now });
      return {
        summary: `${r.fadedThreads} threads faded, ${r.hiddenNodes} nodes hidden at T=${r.at}`,
        details: r,
      };
    }
    case 'snapshot': {
      if (!ctx.snapshotKey)
        throw new UserError('the snapshot job needs a signing key (WEFT_SNAPSHOT_KEY)', 'config');
      const r = await writeSnapshots({
        db: ctx.db,
        blob: ctx.blob,
        key: ctx.snapshotKey(),
        now,
        log: ctx.log,
      });
      const events = r.written.reduce((n, w) => n + w.events, 0);
      return {
        summary:
          (r.written.length
            ? `wrote ${r.written.length} snapshots (${r.written[0]!.day}…${r.written.at(-1)!.day}, ${events} events)`
            : `nothing to write (latest snapshot: ${r.latest ?? 'none'})`) +
          (r.stopped ? '; stopped early' : ''),
        details: r,
      };
    }
    case 'housekeeping': {
      const { dryRun, ...policy } = ctx.housekeeping ?? {};
      const r = await runHousekeeping({ db: ctx.db, blob: ctx.blob, now, policy, dryRun, log: ctx.log });
      const removed = r.regions.reduce((n, x) => n + x.removed.length, 0);
      const objects = r.regions.reduce((n, x) => n + x.deleted.length, 0);
      const bytes = r.regions.reduce((n, x) => n + x.deletedBytes, 0);
      return {
        summary: `${r.regions.length} regions: ${dryRun ? 'would remove' : 'removed'} ${removed} releases, ${objects} objects (${bytes} bytes)`,
        details: r,
      };
    }
  }
}

/** Runs one job once at the context's clock; a failure is written to the audit log and passed on. */
export async function runJob(name: JobName, ctx: JobContext): Promise<JobOutcome> {
  const now = (ctx.clock ?? (() => new Date()))();
  try {
    return { job: name, at: now.toISOString(), ...(await runOnce(name, ctx, now)) };
  } catch (err) {
    await writeAudit(ctx.db, {
      actor: `system:${name}`,
      action: `job.${name}.failed`,
      subject: now.toISOString(),
      details: { error: errorMessage(err) },
    }).catch(() => {});
    throw err;
  }
}
