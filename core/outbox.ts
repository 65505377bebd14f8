// The outbox: one row per committed transaction that appended events (their position range and topics),
// for the publisher to read, send to the bus, and mark as published.
import type { Queryable } from './db/adapter.js';
import { readEvents } from './eventstore.js';
import type { StoredEvent } from './domain/schemas.js';

export interface OutboxEntry {
  id: number;
  firstPosition: number;
  lastPosition: number;
  /** e.g. "region:monaco" */
  topics: string[];
  createdAt: string;
}

/**
 * The oldest unpublished entries. With `lock` (inside a transaction) they are locked for this publisher and
 * skipped by others until it commits.
 */
export async function pendingOutbox(
  q: Queryable,
  options: { limit?: number; lock?: boolean } = {},
): Promise<OutboxEntry[]> {
  const { rows } = await q.query<{
    id: number;
    first_position: number;
    last_position: number;
    topics: string[];
    created_at: Date;
  }>(
    `SELECT id, first_position, last_position, topics, created_at FROM outbox
     WHERE published_at IS NULL ORDER BY id LIMIT $1 ${options.lock ? 'FOR UPDATE SKIP LOCKED' : ''}`,
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

/** The events an outbox entry announces. */
export function outboxEvents(q: Queryable, entry: OutboxEntry): Promise<StoredEvent[]> {
  return readEvents(q, {
    after: entry.firstPosition - 1,
    limit: entry.lastPosition - entry.firstPosition + 1,
  });
}

export async function markPublished(q: Queryable, ids: number[]): Promise<void> {
  if (!ids.length) return;
  await q.query(
    'UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY($1::bigint[])',
    [ids],
  );
}
