// The fade job: at time T, fades every thread whose fade reached 0 and hides nodes with no live thread for seven
// days (core/domain/fade-sweep.ts), then records the run — T and its counts — in the audit log. The commands
// are decided inside the event store's locked write session, so a run repeated at any T, or racing another
// run, never emits a second ThreadFaded/NodeHidden for the same thread or node.
import type { Db } from '../core/db/adapter.js';
import { writeAudit } from '../core/audit.js';
import { RejectedError } from '../core/domain/decide.js';
import { fadeSweep } from '../core/domain/fade-sweep.js';

const MAX_ATTEMPTS = 3;

export interface FadeJobOptions {
  db: Db;
  /** The job's T (default now): a controllable clock for tests and replays. */
  now?: Date;
  actor?: string;
  /** Commands per transaction (default the sweep's). */
  batchSize?: number;
}

export interface FadeJobResult {
  at: string;
  fadedThreads: number;
  hiddenNodes: number;
  ms: number;
}

export async function runFadeJob(opts: FadeJobOptions): Promise<FadeJobResult> {
  const started = Date.now();
  const T = opts.now ?? new Date();
  const actor = opts.actor ?? 'system:fade';
  const total = { fadedThreads: 0, hiddenNodes: 0 };
  for (let attempt = 1; ; attempt++) {
    try {
      const swept = await fadeSweep(opts.db, T, { actor, batchSize: opts.batchSize });
      total.fadedThreads += swept.fadedThreads;
      total.hiddenNodes += swept.hiddenNodes;
      break;
    } catch (err) {
      // A node picked for hiding got new activity before its batch ran (the sweep refuses that whole batch):
      // sweep again from fresh projections. Batches the refused attempt had committed are not in the counts.
      if (!(err instanceof RejectedError) || attempt >= MAX_ATTEMPTS) throw err;
    }
  }
  const result: FadeJobResult = { at: T.toISOString(), ...total, ms: Date.now() - started };
  await writeAudit(opts.db, { actor, action: 'job.fade', subject: result.at, details: { ...result } });
  return result;
}
