// The snapshot writer: one signed, zstd-compressed snapshot per completed UTC day in the blob store, from the day
// of the first event on, each naming the sha256 of the previous day's snapshot; every snapshot's sha256 goes into
// the audit log. A snapshot holds the events after the previous snapshot's last position up to the first event
// recorded on a later day (so with events recorded in position order: exactly that day's events, and an event
// recorded late or imported with an old time lands in the next snapshot instead of being lost).
import type { BlobStore } from '../core/blob/adapter.js';
import type { Db, Queryable } from '../core/db/adapter.js';
import { writeAudit } from '../core/audit.js';
import { headPosition, readEvents } from '../core/eventstore.js';
import { eventToLine } from '../core/transfer.js';
import { listSnapshots, readSnapshot } from './snapshot-chain.js';
import {
  buildSnapshot,
  dayOf,
  dayStart,
  nextDay,
  sha256Hex,
  snapshotKey,
  SnapshotProblem,
  SNAPSHOT_CONTENT_TYPE,
  type SnapshotHeader,
} from './snapshot-format.js';
import type { SnapshotKey } from './snapshot-key.js';
import { zstdCompress } from './zstd.js';

export interface SnapshotJobOptions {
  db: Db;
  blob: BlobStore;
  key: SnapshotKey;
  /** Days that ended at or before this instant are written (default now). */
  now?: Date;
  actor?: string;
  /** zstd level (default zstd.ts's DEFAULT_LEVEL). */
  level?: number;
  log?: (line: string) => void;
  /** Stops between two days (a scheduler shutting down): what was written stays a whole chain. */
  signal?: AbortSignal;
}

export interface WrittenSnapshot {
  day: string;
  key: string;
  sha256: string;
  size: number;
  after: number;
  last: number;
  events: number;
  previous: SnapshotHeader['previous'];
}

export interface SnapshotJobResult {
  written: WrittenSnapshot[];
  /** The newest day in the chain after this run, if any. */
  latest?: string;
  /** The run was stopped by its signal before every completed day was written. */
  stopped?: boolean;
}

const PAGE = 5000;

/** The chain's end as the store holds it (checked), or where a new chain starts. */
interface ChainEnd {
  day: string;
  previous: SnapshotHeader['previous'];
  after: number;
}

async function chainEnd(q: Queryable, blob: BlobStore, key: SnapshotKey): Promise<ChainEnd | undefined> {
  const all = await listSnapshots(blob);
  const latest = all.at(-1);
  if (latest) {
    let snap;
    try {
      snap = await readSnapshot(blob, latest.key, key);
    } catch (err) {
      if (err instanceof SnapshotProblem)
        throw new SnapshotProblem(err.snapshot, `${err.reason}; refusing to extend the chain after it`);
      throw err;
    }
    return {
      day: nextDay(latest.day),
      previous: { date: latest.day, sha256: snap.sha256 },
      after: snap.header.last,
    };
  }
  const { rows } = await q.query<{ recorded_at: Date }>('SELECT recorded_at FROM events WHERE position = 1');
  if (!rows[0]) return undefined;
  return { day: dayOf(rows[0].recorded_at), previous: null, after: 0 };
}

/** The event lines after `after` up to `last`, each followed by a newline. */
async function eventLines(q: Queryable, after: number, last: number): Promise<string> {
  const parts: string[] = [];
  let at = after;
  while (at < last) {
    const page = await readEvents(q, { after: at, limit: Math.min(PAGE, last - at) });
    if (!page.length) throw new Error(`events ${at + 1}…${last} are missing from the event store`);
    for (const e of page) parts.push(`${eventToLine(e)}\n`);
    at = page.at(-1)!.position;
  }
  return parts.join('');
}

/** The last position of the snapshot of the day ending at `end`: before the first event recorded at or after it. */
async function lastPositionBefore(q: Queryable, after: number, head: number, end: Date): Promise<number> {
  const { rows } = await q.query<{ p: number | null }>(
    'SELECT min(position) AS p FROM events WHERE position > $1 AND position <= $2 AND recorded_at >= $3',
    [after, head, end.toISOString()],
  );
  const stop = rows[0]?.p;
  return stop === null || stop === undefined ? head : Number(stop) - 1;
}

/**
 * Writes the snapshots of every completed day after the chain's newest (from the first event's day when there is
 * none), one day per transaction under an advisory lock so that concurrent writers never fork the chain. A run
 * with nothing to write writes nothing.
 */
export async function writeSnapshots(opts: SnapshotJobOptions): Promise<SnapshotJobResult> {
  const now = opts.now ?? new Date();
  const actor = opts.actor ?? 'system:snapshot';
  const log = opts.log ?? (() => {});
  const written: WrittenSnapshot[] = [];
  let stopped = false;
  /** The chain's end as this run left it: trusted while no other writer has written the next day since. */
  let known: ChainEnd | undefined;
  for (;;) {
    if (opts.signal?.aborted) {
      stopped = true;
      break;
    }
    const one = await opts.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['weft.snapshots']);
      const end =
        known && !(await opts.blob.head(snapshotKey(known.day)))
          ? known
          : await chainEnd(tx, opts.blob, opts.key);
      if (!end) return undefined;
      const dayEnd = dayStart(nextDay(end.day));
      if (dayEnd.getTime() > now.getTime()) return undefined;
      const head = await headPosition(tx);
      const last = await lastPositionBefore(tx, end.after, head, dayEnd);
      const { header, bytes } = buildSnapshot(
        opts.key,
        { date: end.day, previous: end.previous, after: end.after, last },
        await eventLines(tx, end.after, last),
      );
      const key = snapshotKey(end.day);
      const compressed = await zstdCompress(bytes, { level: opts.level, name: key });
      const put = await opts.blob.put(key, compressed, { contentType: SNAPSHOT_CONTENT_TYPE });
      const sha256 = sha256Hex(compressed);
      if (put.sha256 !== sha256) throw new Error(`${key}: the store kept other bytes than were written`);
      const w: WrittenSnapshot = {
        day: end.day,
        key,
        sha256,
        size: compressed.length,
        after: header.after,
        last: header.last,
        events: header.events,
        previous: header.previous,
      };
      await writeAudit(tx, {
        actor,
        action: 'snapshot.write',
        subject: key,
        details: { ...w, keyId: opts.key.keyId, location: opts.blob.location },
      });
      return w;
    });
    if (!one) break;
    written.push(one);
    known = { day: nextDay(one.day), previous: { date: one.day, sha256: one.sha256 }, after: one.last };
    log(
      `wrote ${one.key}: ${one.events ? `${one.events} events (positions ${one.after + 1}…${one.last})` : 'no events'}` +
        `, sha256 ${one.sha256}`,
    );
  }
  const latest = written.at(-1)?.day ?? (await listSnapshots(opts.blob)).at(-1)?.day;
  await writeAudit(opts.db, {
    actor,
    action: 'job.snapshot',
    subject: now.toISOString(),
    details: {
      now: now.toISOString(),
      written: written.length,
      events: written.reduce((n, w) => n + w.events, 0),
      snapshots: written.map((w) => ({ key: w.key, sha256: w.sha256 })),
      latest: latest ?? null,
      ...(stopped ? { stopped } : {}),
    },
  });
  return { written, ...(latest ? { latest } : {}), ...(stopped ? { stopped } : {}) };
}
