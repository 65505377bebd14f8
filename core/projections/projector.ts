// The projector: catches the projections up from their checkpoint (batch by batch, resumable) or rebuilds
// every projection from event 1 (one transaction: readers see the old rows until the new ones are complete).
import type { Db, Queryable } from '../db/adapter.js';
import { writeAudit } from '../audit.js';
import { checkpoint, readEvents, setCheckpoint } from '../eventstore.js';
import { applyEvent, keysForEvents } from './reduce.js';
import { ProjectionState } from './state.js';
import { TABLES, type TableName } from './tables.js';

const PROJECTION_TABLES = Object.values(TABLES).map((t) => t.table);

export interface ProjectorProgress {
  position: number;
  head: number;
}

async function lockHead(tx: Queryable): Promise<number> {
  const { rows } = await tx.query<{ position: number }>(
    'SELECT position FROM event_log_head WHERE id FOR UPDATE',
  );
  return rows[0]!.position;
}

/**
 * Applies events after the checkpoint, `batchSize` per transaction, each batch moving the checkpoint:
 * interrupted, it resumes where it stopped. Returns how many events it applied.
 */
export async function catchUp(
  db: Db,
  options: { batchSize?: number; onProgress?: (p: ProjectorProgress) => void } = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 5000;
  let applied = 0;
  for (;;) {
    const n = await db.transaction(async (tx) => {
      const head = await lockHead(tx);
      const from = await checkpoint(tx);
      if (from >= head) return 0;
      const events = await readEvents(tx, { after: from, limit: batchSize });
      const state = new ProjectionState();
      await state.load(tx, keysForEvents(events));
      for (const e of events) applyEvent(state, e);
      await state.flush(tx);
      const to = events.at(-1)!.position;
      await setCheckpoint(tx, to);
      options.onProgress?.({ position: to, head });
      return events.length;
    });
    if (!n) return applied;
    applied += n;
  }
}

export interface RebuildResult {
  events: number;
  ms: number;
}

/** Entity rows kept in memory during a rebuild before they are written out (each row is written once). */
const REBUILD_FLUSH_ROWS = 200_000;

/** The secondary indexes of the projection tables (not primary keys): dropped during a rebuild, then rebuilt. */
async function secondaryIndexes(tx: Queryable): Promise<{ name: string; def: string }[]> {
  const { rows } = await tx.query<{ name: string; def: string }>(
    `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i
     WHERE i.schemaname = current_schema() AND i.tablename = ANY($1::text[])
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.contype IN ('p', 'u'))
     ORDER BY i.indexname`,
    [PROJECTION_TABLES],
  );
  return rows;
}

/**
 * Empties every projection and replays all events into them, in one transaction holding the head lock
 * (appends wait; a failure leaves the old projections untouched). Timeline rows are written per batch, the
 * other rows once at the end (they change many times over the events); secondary indexes are dropped while
 * the tables fill and built afterwards. Leaves an audit row.
 */
export async function rebuildProjections(
  db: Db,
  options: { batchSize?: number; actor?: string; onProgress?: (p: ProjectorProgress) => void } = {},
): Promise<RebuildResult> {
  const started = Date.now();
  const batchSize = options.batchSize ?? 10_000;
  const events = await db.transaction(async (tx) => {
    const head = await lockHead(tx);
    await tx.exec(`SET LOCAL maintenance_work_mem = '256MB'`);
    const indexes = await secondaryIndexes(tx);
    for (const ix of indexes) await tx.exec(`DROP INDEX ${ix.name}`);
    await tx.exec(`TRUNCATE ${PROJECTION_TABLES.join(', ')}`);
    const state = new ProjectionState(true);
    // events up to the head are committed and never change: on PostgreSQL they are read ahead on another
    // pooled connection while this one writes (PGlite has one connection, so it reads in the transaction)
    const reader: Queryable = db.kind === 'postgres' ? db : tx;
    const read = (after: number) =>
      after < head
        ? readEvents(reader, { after, limit: Math.min(batchSize, head - after) })
        : Promise.resolve([]);
    let next = read(0);
    let writing: Promise<void> = Promise.resolve();
    let count = 0;
    for (;;) {
      const batch = await next;
      if (!batch.length) break;
      const at = batch.at(-1)!.position;
      next = read(at);
      for (const e of batch) applyEvent(state, e);
      // at most one write in flight: the next batch is applied while this one is inserted
      await writing;
      writing =
        state.pendingRows() - state.timeline.length > REBUILD_FLUSH_ROWS
          ? state.flush(tx)
          : state.flushTimeline(tx);
      count += batch.length;
      options.onProgress?.({ position: at, head });
    }
    await writing;
    await state.flush(tx);
    for (const ix of indexes) await tx.exec(ix.def);
    await setCheckpoint(tx, head);
    await writeAudit(tx, {
      actor: options.actor ?? 'operator:cli',
      action: 'projections.rebuild',
      subject: 'core',
      details: { events: count, head, ms: Date.now() - started },
    });
    return count;
  });
  return { events, ms: Date.now() - started };
}

/** The projection tables with a generated geometry column. */
const WITH_GEOMETRY: ReadonlySet<TableName> = new Set(['roles', 'nodes', 'threads']);

/** Every projection table's rows in key order, geometry as EWKT: to compare two databases or two builds. */
export async function dumpProjections(q: Queryable): Promise<Record<TableName, unknown[]>> {
  const out = {} as Record<TableName, unknown[]>;
  for (const [name, spec] of Object.entries(TABLES) as [TableName, (typeof TABLES)[TableName]][]) {
    const row = WITH_GEOMETRY.has(name)
      ? `to_jsonb(t) - 'geom' || jsonb_build_object('geom', ST_AsEWKT(t.geom))`
      : 'to_jsonb(t)';
    const { rows } = await q.query<{ row: unknown }>(
      `SELECT ${row} AS row FROM ${spec.table} t ORDER BY ${spec.key.join(', ')}`,
    );
    out[name] = rows.map((r) => r.row);
  }
  return out;
}
