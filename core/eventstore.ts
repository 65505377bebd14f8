// The event store: gap-free global positions under one head lock, versioned streams, and the write session
// that commits events, projection rows, outbox rows and idempotency keys in one transaction.
import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from './db/adapter.js';
import { UNIQUE_VIOLATION, sqlState } from './db/adapter.js';
import { UserError } from './errors.js';
import {
  parseDomainEvent,
  streamOf,
  type DomainEvent,
  type EventMetadata,
  type StoredEvent,
} from './domain/schemas.js';
import { streamId as streamIdOf, type StreamType } from './domain/ids.js';
import { applyEvent, keysForEvents } from './projections/reduce.js';
import {
  ProjectionState,
  combineReads,
  runReads,
  type Keys,
  type RowRead,
  type RowWrite,
} from './projections/state.js';
import { CORE_PROJECTOR } from './projections/tables.js';
import { canonicalJson, sha256Hex } from './json.js';

/** An append that lost a race or reused an idempotency key for something else: retry after re-reading. */
export class ConflictError extends UserError {
  constructor(message: string) {
    super(message, 'conflict');
    this.name = 'ConflictError';
  }
}

const EVENT_COLUMNS =
  'position, event_id, stream_id, stream_type, stream_version, type, payload, metadata, occurred_at, recorded_at';
/** Times as ISO 8601 text in UTC with milliseconds, straight from the server (no Date round trip). */
const iso = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${col}`;
/** The select list of an events row as rowToEvent reads it (also as a JSON object: the same keys and values). */
export const EVENT_SELECT = `position, event_id, stream_id, stream_type, stream_version, type, payload, metadata, ${iso(
  'occurred_at',
)}, ${iso('recorded_at')}`;

function isoString(v: unknown): string {
  return v instanceof Date ? v.toISOString() : (v as string);
}

/** A row of the events table → a stored event (timestamps as ISO strings). */
export function rowToEvent(r: Record<string, unknown>): StoredEvent {
  return {
    position: r.position as number,
    eventId: r.event_id as string,
    streamId: r.stream_id as string,
    streamType: r.stream_type as StreamType,
    version: r.stream_version as number,
    type: r.type,
    payload: r.payload,
    metadata: r.metadata as EventMetadata,
    occurredAt: isoString(r.occurred_at),
    recordedAt: isoString(r.recorded_at),
  } as StoredEvent;
}

/** Events after `after` in position order (at most `limit`), optionally of one stream. */
export async function readEvents(
  q: Queryable,
  options: { after?: number; limit?: number; streamId?: string } = {},
): Promise<StoredEvent[]> {
  const params: unknown[] = [options.after ?? 0, options.limit ?? 1000];
  let where = 'position > $1';
  if (options.streamId) {
    params.push(options.streamId);
    where += ' AND stream_id = $3';
  }
  const { rows } = await q.query(
    `SELECT ${EVENT_SELECT} FROM events WHERE ${where} ORDER BY position LIMIT $2`,
    params,
  );
  return rows.map(rowToEvent);
}

/** The last position handed out (0 for an empty store). */
export async function headPosition(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ position: number }>('SELECT position FROM event_log_head');
  return rows[0]?.position ?? 0;
}

/** The core projector's checkpoint (last event applied to the projections). */
export async function checkpoint(q: Queryable, name = CORE_PROJECTOR): Promise<number> {
  const { rows } = await q.query<{ position: number }>(
    'SELECT position FROM projection_checkpoints WHERE name = $1',
    [name],
  );
  return rows[0]?.position ?? 0;
}

export async function setCheckpoint(q: Queryable, position: number, name = CORE_PROJECTOR): Promise<void> {
  await q.query(
    `INSERT INTO projection_checkpoints (name, position, updated_at) VALUES ($1, $2, now())
     ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = EXCLUDED.updated_at`,
    [name, position],
  );
}

/** A new event to stage: its domain content, who caused it and when it happened. */
export interface Draft {
  event: DomainEvent;
  metadata: EventMetadata;
  occurredAt: string;
  /** Kept from the source on import (and set to occurredAt by the seed); default: the transaction's time. */
  recordedAt?: string;
  /** Kept from the source on import; default: a random UUID. */
  eventId?: string;
}

export interface IdempotencyRecord {
  requestHash: string;
  result: unknown;
}

/** The fingerprint of a request under an idempotency key: the same key with another request is a conflict. */
export function requestHash(actor: string, request: unknown): string {
  return sha256Hex(canonicalJson({ actor, request }));
}

const EVENT_INSERT = `INSERT INTO events (${EVENT_COLUMNS})
  SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::integer[], $6::text[], $7::jsonb[],
    $8::jsonb[], $9::timestamptz[], $10::timestamptz[])`;
const CHUNK = 5000;

/** What a write session's commands read before they decide: loaded when the session opens. */
export interface Preload {
  keys: Keys;
  streamIds: readonly string[];
  idempotencyKeys: string[];
}

/**
 * Locks the head row and reads the projections' checkpoint. The checkpoint rides on the locking statement's round
 * trip, but it is read from the statement's snapshot, taken before any wait for the lock: it may be older than the
 * head we lock. Every checkpoint write holds the head lock and only moves it forward, never past the head; so a
 * checkpoint read at the head is current, and only one behind it needs a second look (a separate statement, which
 * sees what the writer we waited for committed). No parameters: the PostgreSQL adapter then sends BEGIN in the
 * same round trip.
 */
const LOCK_HEAD = `SELECT position, date_trunc('milliseconds', now()) AS now,
         (SELECT c.position FROM projection_checkpoints c WHERE c.name = '${CORE_PROJECTOR}') AS checkpoint
       FROM event_log_head WHERE id FOR UPDATE`;

/**
 * One writer's transaction. Opening it locks the head row, so positions are handed out gap-free and commit
 * in order; it brings the projections up to the head first if they lag. Staged events are applied to the
 * in-memory projections at once (later commands in the batch see them); commit() writes everything: events,
 * projection rows, one outbox row for the transaction, idempotency keys, private side rows, the new head.
 */
export class WriteSession {
  readonly state = new ProjectionState();
  readonly staged: StoredEvent[] = [];
  private readonly topics: string[] = [];
  private readonly versions = new Map<string, number>();
  private readonly idempotency: {
    key: string;
    hash: string;
    result: unknown;
    first?: number;
    last?: number;
  }[] = [];
  private readonly privateHomes: {
    roleId: string;
    home: { lon: number; lat: number; hash: string } | null;
    at: string;
  }[] = [];
  private position = 0;
  private headAt = 0;
  private nowAt = '';
  private seen: Map<string, IdempotencyRecord> | undefined;

  private constructor(readonly tx: Queryable) {}

  /** The head position when the session opened (its events follow it). */
  get head(): number {
    return this.headAt;
  }

  /** The transaction's time, ISO with milliseconds. */
  get now(): string {
    return this.nowAt;
  }

  /**
   * Opens a session: locks the head and, given `preload`, loads what the commands read (preload()). Where the
   * database takes several statements in one message (PostgreSQL), BEGIN, the lock and the preload go in one
   * round trip: the preload runs once the lock is held, in a snapshot of its own, so it sees what every earlier
   * writer committed. Its rows are used only when the projections are current; after a catch-up it is read again.
   */
  static async open(tx: Queryable, preload?: Preload): Promise<WriteSession> {
    const session = new WriteSession(tx);
    const seen = new Map<string, IdempotencyRecord>();
    const along = preload && tx.batch ? combineReads(session.preloadReads(preload, seen)) : undefined;
    const results = along
      ? await tx.batch!([{ sql: LOCK_HEAD }, { sql: along.sql, params: along.params }])
      : [await tx.query(LOCK_HEAD)];
    const row = results[0]!.rows[0] as { position: number; now: Date; checkpoint: number | null };
    session.headAt = session.position = row.position;
    session.nowAt = row.now.toISOString();
    let at = row.checkpoint ?? 0;
    if (at < row.position) at = await checkpoint(tx);
    const caughtUp = at < row.position;
    if (caughtUp) await session.catchUpProjections(at);
    if (along && !caughtUp) {
      along.apply(results[1]!.rows);
      session.seen = seen;
    } else if (preload) {
      session.seen = await session.preload(preload);
    }
    return session;
  }

  /** The idempotency records the preload given to open() found (undefined without one). */
  get preloaded(): Map<string, IdempotencyRecord> | undefined {
    return this.seen;
  }

  /** If the projections lag behind the head (e.g. an interrupted rebuild), apply the missing events first. */
  private async catchUpProjections(from: number): Promise<void> {
    let at = from;
    while (at < this.head) {
      const events = await readEvents(this.tx, { after: at, limit: CHUNK });
      if (!events.length) break;
      await this.state.load(this.tx, keysForEvents(events));
      for (const e of events) applyEvent(this.state, e);
      await this.state.flush(this.tx);
      at = events[events.length - 1]!.position;
    }
    await setCheckpoint(this.tx, this.head);
  }

  /** Loads the current version of these streams from the events table (once each). */
  async loadStreams(streamIds: Iterable<string>): Promise<void> {
    const read = this.streamsRead(streamIds);
    if (read) await runReads(this.tx, [read]);
  }

  private streamsRead(streamIds: Iterable<string>): RowRead | undefined {
    const missing = [...new Set(streamIds)].filter((id) => !this.versions.has(id));
    if (!missing.length) return undefined;
    return {
      // one backward index probe per stream (a max() over = ANY would read every version of long streams)
      sql: `SELECT s.id AS stream_id, v.version FROM unnest($1::text[]) AS s(id)
       CROSS JOIN LATERAL (SELECT stream_version AS version FROM events WHERE stream_id = s.id
                           ORDER BY stream_version DESC LIMIT 1) v`,
      params: [missing],
      times: [],
      size: missing.length,
      apply: (rows) => {
        for (const id of missing) this.versions.set(id, 0);
        for (const r of rows) this.versions.set(r.stream_id as string, r.version as number);
      },
    };
  }

  /**
   * What commands read before they decide, in one round trip: the projection rows `p.keys` name (and the regions'
   * statistics), the versions of `p.streamIds`, and the known idempotency keys among `p.idempotencyKeys`.
   */
  async preload(p: Preload): Promise<Map<string, IdempotencyRecord>> {
    const seen = new Map<string, IdempotencyRecord>();
    await runReads(this.tx, this.preloadReads(p, seen));
    return seen;
  }

  /** The reads of preload(); the idempotency records found go into `seen`. */
  private preloadReads(p: Preload, seen: Map<string, IdempotencyRecord>): RowRead[] {
    const reads = this.state.reads(p.keys);
    const streams = this.streamsRead(p.streamIds);
    if (streams) reads.push(streams);
    const known = idempotencyRead(p.idempotencyKeys, seen);
    if (known) reads.push(known);
    return reads;
  }

  /**
   * A stream whose id a command has just minted (a fresh random id): it has no events and no projection row yet,
   * so stage() needs to load neither. Were the id ever taken, the events' unique (stream, version) would refuse
   * the commit as a whole (ConflictError).
   */
  markNew(type: 'role' | 'node' | 'proposal', id: string): void {
    const stream = streamIdOf(type, id);
    if (!this.versions.has(stream)) this.versions.set(stream, 0);
    const rows =
      type === 'role' ? this.state.roles : type === 'node' ? this.state.nodes : this.state.proposals;
    if (!rows.has(id)) rows.set(id, null);
  }

  async streamVersion(streamId: string): Promise<number> {
    await this.loadStreams([streamId]);
    return this.versions.get(streamId)!;
  }

  /** Known idempotency keys among `keys`. */
  async idempotencyRecords(keys: string[]): Promise<Map<string, IdempotencyRecord>> {
    const out = new Map<string, IdempotencyRecord>();
    const read = idempotencyRead(keys, out);
    if (read) await runReads(this.tx, [read]);
    return out;
  }

  rememberIdempotency(key: string, hash: string, result: unknown, events: StoredEvent[]): void {
    this.idempotency.push({ key, hash, result, first: events[0]?.position, last: events.at(-1)?.position });
  }

  /** A private side write (never in events): a role's exact home, or its removal. */
  rememberPrivateHome(
    roleId: string,
    home: { lon: number; lat: number; hash: string } | null,
    at: string,
  ): void {
    this.privateHomes.push({ roleId, home, at });
  }

  /**
   * Assigns the next position and the stream's next version (which must be `expectedVersion + 1` when given),
   * and applies the event to the projections in memory.
   */
  async stage(draft: Draft, expectedVersion?: number): Promise<StoredEvent> {
    const { streamId, streamType } = streamOf(draft.event);
    const current = await this.streamVersion(streamId);
    if (expectedVersion !== undefined && expectedVersion !== current) {
      throw new ConflictError(
        `stream ${streamId} is at version ${current}, not the expected ${expectedVersion}; re-read and retry`,
      );
    }
    const stored = {
      ...draft.event,
      position: this.position + 1,
      eventId: draft.eventId ?? randomUUID(),
      streamId,
      streamType,
      version: current + 1,
      metadata: draft.metadata,
      occurredAt: draft.occurredAt,
      recordedAt: draft.recordedAt ?? this.now,
    } as StoredEvent;
    await this.state.load(this.tx, keysForEvents([stored]));
    const region = applyEvent(this.state, stored);
    this.position += 1;
    this.versions.set(streamId, current + 1);
    this.staged.push(stored);
    this.topics.push(`region:${region}`);
    return stored;
  }

  /**
   * Writes the staged events, projection rows, outbox rows, idempotency keys and the new head: for a small session
   * (a live write) all in one statement of data-modifying CTEs, one round trip.
   */
  async commit(): Promise<void> {
    await this.write(false);
  }

  /**
   * commit(), then COMMIT: in the same round trip where the database takes several statements in one message
   * (PostgreSQL), else left to the end of the transaction. Nothing more may be sent in the transaction after it.
   */
  async finish(): Promise<void> {
    await this.write(true);
  }

  private async write(end: boolean): Promise<void> {
    try {
      const groups = combineWrites(this.writes());
      if (end && groups.length === 1 && this.tx.batch) await this.tx.batch(groups, { commit: true });
      else for (const group of groups) await this.tx.query(group.sql, group.params);
    } catch (err) {
      const table = (err as { table?: unknown }).table;
      if (sqlState(err) === UNIQUE_VIOLATION && (table === undefined || table === 'events')) {
        throw new ConflictError(
          `a concurrent append took the same stream version or event id; retry (${String(err)})`,
        );
      }
      throw err;
    }
  }

  /** The statements of commit(), in the order they used to be sent one by one. */
  private writes(): RowWrite[] {
    const writes: RowWrite[] = [];
    for (let i = 0; i < this.staged.length; i += CHUNK) {
      const chunk = this.staged.slice(i, i + CHUNK);
      writes.push({
        sql: EVENT_INSERT,
        params: [
          chunk.map((e) => e.position),
          chunk.map((e) => e.eventId),
          chunk.map((e) => e.streamId),
          chunk.map((e) => e.streamType),
          chunk.map((e) => e.version),
          chunk.map((e) => e.type),
          chunk.map((e) => JSON.stringify(e.payload)),
          chunk.map((e) => JSON.stringify(e.metadata)),
          chunk.map((e) => e.occurredAt),
          chunk.map((e) => e.recordedAt),
        ],
        rows: chunk.length,
      });
    }
    if (this.staged.length) {
      writes.push({
        sql: 'INSERT INTO outbox (first_position, last_position, topics) VALUES ($1, $2, $3::text[])',
        params: [this.staged[0]!.position, this.staged.at(-1)!.position, [...new Set(this.topics)].sort()],
        rows: 1,
      });
    }
    writes.push(...this.state.takeWrites());
    // the last private write per role wins (place then clear in one batch = cleared)
    const homes = new Map(this.privateHomes.map((h) => [h.roleId, h]));
    const placed = [...homes.values()].filter((h) => h.home);
    const cleared = [...homes.values()].filter((h) => !h.home).map((h) => h.roleId);
    if (placed.length) {
      writes.push({
        sql: `INSERT INTO role_homes_private (role_id, lon, lat, home_hash, placed_at)
         SELECT role_id, lon, lat, home_hash, placed_at FROM json_to_recordset($1::json)
           AS r(role_id text, lon double precision, lat double precision, home_hash text, placed_at timestamptz)
         ON CONFLICT (role_id) DO UPDATE SET lon = EXCLUDED.lon, lat = EXCLUDED.lat,
           home_hash = EXCLUDED.home_hash, placed_at = EXCLUDED.placed_at`,
        params: [
          JSON.stringify(
            placed.map((h) => ({
              role_id: h.roleId,
              lon: h.home!.lon,
              lat: h.home!.lat,
              home_hash: h.home!.hash,
              placed_at: h.at,
            })),
          ),
        ],
        rows: placed.length,
      });
    }
    if (cleared.length) {
      writes.push({
        sql: 'DELETE FROM role_homes_private WHERE role_id = ANY($1::text[])',
        params: [cleared],
        rows: cleared.length,
      });
    }
    if (this.idempotency.length) {
      writes.push({
        sql: `INSERT INTO idempotency_keys (key, request_hash, result, first_position, last_position, recorded_at)
         SELECT key, hash, result, first, last, now()
         FROM json_to_recordset($1::json) AS r(key text, hash text, result jsonb, first bigint, last bigint)`,
        params: [JSON.stringify(this.idempotency)],
        rows: this.idempotency.length,
      });
    }
    if (this.position !== this.head) {
      // the new head, and the projections' checkpoint with it
      writes.push(
        { sql: 'UPDATE event_log_head SET position = $1 WHERE id', params: [this.position], rows: 0 },
        {
          sql: `INSERT INTO projection_checkpoints (name, position, updated_at) VALUES ($1, $2, now())
         ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = EXCLUDED.updated_at`,
          params: [CORE_PROJECTOR, this.position],
          rows: 0,
        },
      );
    }
    return writes;
  }
}

/** The read of the known idempotency keys among `keys`, into `out`; undefined when there are none to look up. */
function idempotencyRead(keys: string[], out: Map<string, IdempotencyRecord>): RowRead | undefined {
  const unique = [...new Set(keys)];
  if (!unique.length) return undefined;
  return {
    sql: 'SELECT key, request_hash, result FROM idempotency_keys WHERE key = ANY($1::text[])',
    params: [unique],
    times: [],
    size: unique.length,
    apply: (rows) => {
      for (const r of rows)
        out.set(r.key as string, { requestHash: r.request_hash as string, result: r.result });
    },
  };
}

/** Rows a commit writes at most to send them as one statement; a larger one (an import, a seed) goes one by one. */
const COMBINE_ROWS = 2000;

/**
 * The statements of a commit as one statement of data-modifying CTEs (`WITH w0 AS (INSERT …), w1 AS (…)
 * SELECT 1`, parameters renumbered): one round trip instead of one per statement. The CTEs share one snapshot and
 * none reads what another writes (no foreign keys, no row written twice), so the outcome is the same as sending
 * them one by one, and a failing one fails the statement. Large commits keep one statement each (their round trips
 * do not matter, and each stays a bounded piece).
 */
export function combineWrites(writes: readonly RowWrite[]): { sql: string; params: unknown[] }[] {
  const rows = writes.reduce((n, w) => n + w.rows, 0);
  if (writes.length < 2 || rows > COMBINE_ROWS) return writes.map((w) => ({ sql: w.sql, params: w.params }));
  const params: unknown[] = [];
  const ctes = writes.map((w, i) => {
    const offset = params.length;
    params.push(...w.params);
    return `w${i} AS (${w.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`)})`;
  });
  return [{ sql: `WITH ${ctes.join(',\n')}\nSELECT 1`, params }];
}

/** Runs `fn` in a write session (opened with `preload`) and commits it, all in one transaction. */
export function withWriteSession<T>(
  db: Db,
  fn: (session: WriteSession) => Promise<T>,
  preload?: Preload,
): Promise<T> {
  return db.transaction(async (tx) => {
    const session = await WriteSession.open(tx, preload);
    const out = await fn(session);
    await session.finish();
    return out;
  });
}

export interface AppendRequest {
  /** Events of one stream (validated before anything is written). */
  events: { type: string; payload: unknown }[];
  /** The stream's version the caller last saw (0: the stream must not exist yet); omitted: any. */
  expectedVersion?: number;
  actor: string;
  idempotencyKey?: string;
  requestId?: string;
  /** Default: now. */
  occurredAt?: Date;
}

export interface AppendResult {
  streamId: string;
  /** The stream's version after the append. */
  version: number;
  positions: number[];
  /** True when the idempotency key was seen before: nothing was appended, this is the first result. */
  replayed: boolean;
}

/**
 * The store's primitive: appends events to one stream with optimistic concurrency (ConflictError when the
 * stream moved past `expectedVersion`). Events, projections and outbox commit together or not at all.
 * Domain invariants are the command handlers' job; this checks schemas and stream consistency only.
 */
export async function appendToStream(db: Db, request: AppendRequest): Promise<AppendResult> {
  const events = request.events.map(parseDomainEvent);
  if (!events.length) throw new UserError('events: at least one event is needed');
  const streams = new Set(events.map((e) => streamOf(e).streamId));
  if (streams.size > 1)
    throw new UserError(`events: all must belong to one stream, got ${[...streams].join(', ')}`);
  const streamId = [...streams][0]!;
  const hash = requestHash(request.actor, {
    streamId,
    events,
    expectedVersion: request.expectedVersion ?? null,
  });
  return withWriteSession(db, async (session) => {
    if (request.idempotencyKey) {
      const seen = (await session.idempotencyRecords([request.idempotencyKey])).get(request.idempotencyKey);
      if (seen) {
        if (seen.requestHash !== hash) {
          throw new ConflictError(
            `idempotency key ${request.idempotencyKey} was used for a different request`,
          );
        }
        return { ...(seen.result as AppendResult), replayed: true };
      }
    }
    const occurredAt = (request.occurredAt ?? new Date()).toISOString();
    const metadata: EventMetadata = { actor: request.actor };
    if (request.idempotencyKey) metadata.idempotencyKey = request.idempotencyKey;
    if (request.requestId) metadata.requestId = request.requestId;
    const stored: StoredEvent[] = [];
    for (const [i, event] of events.entries()) {
      const expected = request.expectedVersion === undefined ? undefined : request.expectedVersion + i;
      stored.push(await session.stage({ event, metadata, occurredAt }, expected));
    }
    const result: AppendResult = {
      streamId,
      version: stored.at(-1)!.version,
      positions: stored.map((e) => e.position),
      replayed: false,
    };
    if (request.idempotencyKey) session.rememberIdempotency(request.idempotencyKey, hash, result, stored);
    return result;
  });
}
