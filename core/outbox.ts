// The outbox: one row per committed transaction that appended events (their position range and topics),
// which the publisher claims (claimOutbox: marked published in its transaction), sends to the bus, then commits.
import type { Queryable } from './db/adapter.js';
import { EVENT_SELECT, rowToEvent } from './eventstore.js';
import type { StoredEvent } from './domain/schemas.js';

export interface OutboxEntry {
  id: number;
  firstPosition: number;
  lastPosition: number;
  /** e.g. "region:monaco" */
  topics: string[];
  createdAt: string;
}

/** The oldest unpublished entries (to look at; the publisher takes them with claimOutbox). */
export async function pendingOutbox(q: Queryable, options: { limit?: number } = {}): Promise<OutboxEntry[]> {
  const { rows } = await q.query<{
    id: number;
    first_position: number;
    last_position: number;
    topics: string[];
    created_at: Date;
  }>(
    `SELECT id, first_position, last_position, topics, created_at FROM outbox
     WHERE published_at IS NULL ORDER BY id LIMIT $1`,
    [options.limit ?? 100],
  );
  return rows.map((r) => ({
    id: r.id,
    firstPosition: r.first_position,
    lastPosition: r.last_position,
    topics: r.topics,
    createdAt: r.created_at.toISOString(),
  }));
}

/** What claimOutbox() took. */
export interface OutboxClaim {
  /** The oldest unpublished entries, in id (= position) order, now marked published in this transaction. */
  entries: OutboxEntry[];
  /**
   * Every event from the first entry's first position to the last entry's last, in position order, when there are
   * at most `maxEvents` of them; undefined when there are more (read them with readEvents).
   */
  events: StoredEvent[] | undefined;
}

/**
 * The publisher's claim, one statement (one round trip): takes the transaction-scoped advisory lock `lockKey`, waiting
 * while another server's publisher holds it, then locks the oldest `limit` unpublished entries (skipping any another
 * transaction holds), marks them published and returns them with their events. Its snapshot is taken before that wait:
 * an entry committed meanwhile is left to the claim its own commit's nudge starts (every server nudges its publisher
 * after a commit, and one nudged mid-cycle claims again), so nothing waits for a poll. The marks commit with the
 * caller's transaction, so the caller publishes before it commits and rolls back when publishing fails: then the
 * entries stay unpublished. A row another publisher marked after this statement's snapshot is re-checked by the row
 * lock (READ COMMITTED follows the update) and left out, so no entry is claimed twice. The transaction commits without
 * waiting for the disk (synchronous_commit off, for it alone): a mark lost in a crash only publishes its entries again,
 * and receivers drop what they already have by position.
 */
export async function claimOutbox(
  q: Queryable,
  options: { lockKey: number; limit: number; maxEvents: number },
): Promise<OutboxClaim> {
  // integers written into the statement (no parameters: the PostgreSQL adapter then sends BEGIN with it)
  const [lockKey, limit, maxEvents] = [options.lockKey, options.limit, options.maxEvents].map((n) => {
    if (!Number.isSafeInteger(n)) throw new Error(`claimOutbox: not an integer: ${n}`);
    return String(n);
  });
  const { rows } = await q.query<{
    entries: { id: number; first: number; last: number; topics: string[]; created: string }[];
    events: Record<string, unknown>[] | null;
  }>(
    `WITH lk AS MATERIALIZED (SELECT true AS ok, pg_advisory_xact_lock(${lockKey}) AS wait,
       set_config('synchronous_commit', 'off', true) AS async),
     picked AS (
       -- (SELECT ok FROM lk) is evaluated before the scan: the lock is held before any entry is read
       SELECT id FROM outbox WHERE published_at IS NULL AND (SELECT ok FROM lk)
       ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED),
     claimed AS (
       UPDATE outbox o SET published_at = now(), attempts = o.attempts + 1 FROM picked WHERE o.id = picked.id
       RETURNING o.id, o.first_position, o.last_position, o.topics, o.created_at),
     span AS (SELECT min(first_position) AS first, max(last_position) AS last FROM claimed)
     SELECT (SELECT coalesce(json_agg(json_build_object('id', id, 'first', first_position, 'last', last_position,
          'topics', topics, 'created', created_at) ORDER BY id), '[]'::json) FROM claimed) AS entries,
       (SELECT json_agg(e ORDER BY e.position) FROM (
          SELECT ${EVENT_SELECT} FROM events, span
          WHERE position BETWEEN span.first AND span.last AND span.last - span.first < ${maxEvents}) e) AS events`,
  );
  const row = rows[0]!;
  return {
    entries: row.entries.map((e) => ({
      id: e.id,
      firstPosition: e.first,
      lastPosition: e.last,
      topics: e.topics,
      createdAt: new Date(e.created).toISOString(),
    })),
    events: row.events?.map(rowToEvent),
  };
}
