// The fade sweep at time T: fades every thread whose fade reached 0, then hides nodes with no live thread for
// seven days. Deterministic (same events + same T → same result) and idempotent (a second run appends nothing).
import type { Db } from '../db/adapter.js';
import { writeAudit } from '../audit.js';
import { FADE_PERIOD_MS } from '../fade.js';
import { executeCommands, type ExecContext } from './execute.js';

export interface FadeSweepResult {
  fadedThreads: number;
  hiddenNodes: number;
}

export async function fadeSweep(
  db: Db,
  T: Date,
  options: { actor?: string; ctx?: ExecContext; batchSize?: number } = {},
): Promise<FadeSweepResult> {
  const actor = options.actor ?? 'system:fade';
  const cutoff = new Date(T.getTime() - FADE_PERIOD_MS).toISOString();
  const batchSize = options.batchSize ?? 1000;
  const { rows: threads } = await db.query<{ thread_id: string }>(
    'SELECT thread_id FROM proj_threads WHERE NOT faded AND last_activity_at <= $1 ORDER BY thread_id',
    [cutoff],
  );
  let fadedThreads = 0;
  for (let i = 0; i < threads.length; i += batchSize) {
    const results = await executeCommands(
      db,
      threads
        .slice(i, i + batchSize)
        .map((t) => ({ command: { type: 'FadeThread', threadId: t.thread_id }, actor, at: T })),
      options.ctx,
    );
    fadedThreads += results.filter((r) => r.events.length).length;
  }
  // a node's last activity is its creation or latest engagement: seven days before T means no live thread
  const { rows: nodes } = await db.query<{ node_id: string }>(
    'SELECT node_id FROM proj_nodes WHERE NOT hidden AND last_activity_at <= $1 ORDER BY node_id',
    [cutoff],
  );
  let hiddenNodes = 0;
  for (let i = 0; i < nodes.length; i += batchSize) {
    const results = await executeCommands(
      db,
      nodes
        .slice(i, i + batchSize)
        .map((n) => ({ command: { type: 'HideNode', nodeId: n.node_id, reason: 'faded' }, actor, at: T })),
      options.ctx,
    );
    hiddenNodes += results.filter((r) => r.events.length).length;
  }
  if (fadedThreads || hiddenNodes) {
    await writeAudit(db, {
      actor,
      action: 'fade.sweep',
      subject: T.toISOString(),
      details: { fadedThreads, hiddenNodes },
    });
  }
  return { fadedThreads, hiddenNodes };
}
