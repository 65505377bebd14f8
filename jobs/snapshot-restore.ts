// `weft snapshot restore`: verifies the whole snapshot chain, then replays it, day by day, into an empty database;
// the event store's own write path rebuilds the projections, so the result has the original's projection rows.
import type { BlobStore } from '../core/blob/adapter.js';
import type { Db } from '../core/db/adapter.js';
import { writeAudit } from '../core/audit.js';
import { UserError } from '../core/errors.js';
import { headPosition } from '../core/eventstore.js';
import { importEvents } from '../core/transfer.js';
import { chainError, readSnapshot, verifyChain, type ChainLink } from './snapshot-chain.js';
import { eventLinesOf, SnapshotProblem } from './snapshot-format.js';
import type { SnapshotKey } from './snapshot-key.js';

export interface RestoreOptions {
  db: Db;
  blob: BlobStore;
  key: SnapshotKey;
  /** Restore only the snapshots up to this day (YYYY-MM-DD). */
  until?: string;
  actor?: string;
  log?: (line: string) => void;
}

export interface RestoreResult {
  snapshots: number;
  events: number;
  /** The restored store's head position (the last snapshot's last position). */
  head: number;
  /** The last day restored. */
  latest?: string;
}

/**
 * Refuses a database that holds events; verifies the chain (every problem found is reported, the first one
 * thrown); then imports each snapshot's events, re-checking that its bytes are the ones verified and that the
 * events land at the positions they had.
 */
export async function restoreSnapshots(opts: RestoreOptions): Promise<RestoreResult> {
  const log = opts.log ?? (() => {});
  const head0 = await headPosition(opts.db);
  const { rows } = await opts.db.query<{ n: number }>('SELECT count(*)::int AS n FROM events');
  if (head0 !== 0 || rows[0]!.n !== 0)
    throw new UserError(
      `restore needs an empty database, but ${opts.db.location} holds ${rows[0]!.n} events (head position ${head0})`,
      'not_empty',
    );
  const report = await verifyChain(opts.blob, opts.key, { until: opts.until });
  if (report.problems.length) throw chainError(report.problems);
  if (!report.verified.length)
    throw new UserError(
      `no snapshots to restore in ${opts.blob.location} (nothing under snapshots/)`,
      'not_found',
    );
  let events = 0;
  let last: ChainLink | undefined;
  for (const link of report.verified) {
    const snap = await readSnapshot(opts.blob, link.key, opts.key);
    if (snap.sha256 !== link.sha256)
      throw new SnapshotProblem(
        link.key,
        `changed while it was restored (sha256 ${snap.sha256}, verified ${link.sha256})`,
      );
    if (snap.header.events) {
      const r = await importEvents(opts.db, eventLinesOf(snap), {
        name: link.key,
        actor: opts.actor ?? 'system:restore',
      });
      if (
        r.imported !== snap.header.events ||
        r.firstPosition !== link.after + 1 ||
        r.lastPosition !== link.last
      )
        throw new SnapshotProblem(
          link.key,
          `restored as positions ${r.firstPosition}…${r.lastPosition} (${r.imported} imported, ${r.skipped} skipped), ` +
            `the snapshot holds ${link.after + 1}…${link.last}`,
        );
    }
    events += snap.header.events;
    last = link;
    log(`restored ${link.key}: ${snap.header.events} events`);
  }
  const head = await headPosition(opts.db);
  await writeAudit(opts.db, {
    actor: opts.actor ?? 'system:restore',
    action: 'snapshot.restore',
    subject: last!.key,
    details: {
      snapshots: report.verified.length,
      events,
      head,
      first: report.verified[0]!.key,
      last: last!.key,
      lastSha256: last!.sha256,
      location: opts.blob.location,
    },
  });
  return { snapshots: report.verified.length, events, head, latest: last!.day };
}
