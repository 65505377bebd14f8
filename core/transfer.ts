// Events in and out as newline-delimited JSON (the snapshots' shape): export from a position, import with
// every line re-validated, all of a file in one transaction (a bad line applies nothing, named by number).
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Db, Queryable } from './db/adapter.js';
import { writeAudit } from './audit.js';
import { UserError, errorMessage } from './errors.js';
import { headPosition, readEvents, withWriteSession } from './eventstore.js';
import { canonicalJson } from './json.js';
import { parseStoredEvent, type StoredEvent } from './domain/schemas.js';
import { keysForEvents } from './projections/reduce.js';

/** One event as one line of JSON, members in a fixed order. */
export function eventToLine(e: StoredEvent): string {
  return JSON.stringify({
    position: e.position,
    eventId: e.eventId,
    streamId: e.streamId,
    streamType: e.streamType,
    version: e.version,
    type: e.type,
    payload: e.payload,
    metadata: e.metadata,
    occurredAt: e.occurredAt,
    recordedAt: e.recordedAt,
  });
}

/** Writes every event after `since` up to the head as of the start, one line each; returns the count. */
export async function exportEvents(
  q: Queryable,
  write: (line: string) => void | Promise<void>,
  options: { since?: number; pageSize?: number } = {},
): Promise<number> {
  const head = await headPosition(q);
  let at = options.since ?? 0;
  let count = 0;
  while (at < head) {
    const page = await readEvents(q, { after: at, limit: Math.min(options.pageSize ?? 5000, head - at) });
    if (!page.length) break;
    for (const e of page) await write(`${eventToLine(e)}\n`);
    count += page.length;
    at = page.at(-1)!.position;
  }
  return count;
}

export interface ImportResult {
  imported: number;
  /** Events already present (same id and content): skipped, so importing a file twice changes nothing. */
  skipped: number;
  /** Positions the imported events got here. */
  firstPosition?: number;
  lastPosition?: number;
}

/** Lines of a file (or of stdin for "-"). */
export async function* fileLines(file: string): AsyncGenerator<string> {
  const input = file === '-' ? process.stdin : createReadStream(file, { encoding: 'utf8' });
  const rl = createInterface({ input, crlfDelay: Infinity });
  for await (const line of rl) yield line;
}

const CHECK_CHUNK = 1000;

/**
 * Imports events in file order: each line is parsed and validated (schema, stream and payload agreement),
 * must continue its stream's versions, and must fit the projections (e.g. a thread needs its role and node).
 * Events keep their id, times and metadata and get the next positions here. All lines or none.
 */
export async function importEvents(
  db: Db,
  lines: AsyncIterable<string> | Iterable<string>,
  options: { name?: string; actor?: string } = {},
): Promise<ImportResult> {
  const name = options.name ?? 'input';
  return withWriteSession(db, async (session) => {
    let lineNo = 0;
    let imported = 0;
    let skipped = 0;
    const seenIds = new Map<string, number>();
    let pending: { line: number; event: StoredEvent }[] = [];

    const fail = (line: number, message: string): never => {
      throw new UserError(`${name}:${line}: ${message}`, 'bad_import');
    };

    const flush = async () => {
      if (!pending.length) return;
      const { rows } = await session.tx.query<Record<string, unknown>>(
        `SELECT event_id, stream_id, stream_version, type, payload FROM events WHERE event_id = ANY($1::uuid[])`,
        [pending.map((p) => p.event.eventId)],
      );
      const existing = new Map(rows.map((r) => [r.event_id as string, r]));
      // one query per table for the whole chunk, instead of one per event
      await session.loadStreams(pending.map((p) => p.event.streamId));
      await session.state.load(session.tx, keysForEvents(pending.map((p) => p.event)));
      for (const { line, event } of pending) {
        const had = existing.get(event.eventId);
        if (had) {
          const same =
            had.stream_id === event.streamId &&
            had.stream_version === event.version &&
            had.type === event.type &&
            canonicalJson(had.payload) === canonicalJson(event.payload);
          if (!same) fail(line, `eventId ${event.eventId} already exists here with different content`);
          skipped += 1;
          continue;
        }
        const current = await session.streamVersion(event.streamId);
        if (event.version !== current + 1) {
          fail(
            line,
            `version: ${event.version} does not continue stream ${event.streamId}, which is at version ${current}`,
          );
        }
        try {
          await session.stage(
            {
              event,
              metadata: event.metadata,
              occurredAt: event.occurredAt,
              recordedAt: event.recordedAt,
              eventId: event.eventId,
            },
            current,
          );
        } catch (err) {
          fail(line, errorMessage(err));
        }
        imported += 1;
      }
      pending = [];
    };

    for await (const raw of lines) {
      lineNo += 1;
      const text = raw.trim();
      if (!text) continue;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        fail(lineNo, `not valid JSON (${errorMessage(err)})`);
      }
      let event: StoredEvent;
      try {
        event = parseStoredEvent(json);
      } catch (err) {
        return fail(lineNo, errorMessage(err));
      }
      const dup = seenIds.get(event.eventId);
      if (dup) fail(lineNo, `eventId ${event.eventId} repeats line ${dup}`);
      seenIds.set(event.eventId, lineNo);
      pending.push({ line: lineNo, event });
      if (pending.length >= CHECK_CHUNK) await flush();
    }
    await flush();
    if (imported) {
      await writeAudit(session.tx, {
        actor: options.actor ?? 'operator:cli',
        action: 'events.import',
        subject: name,
        details: {
          imported,
          skipped,
          first: session.staged[0]!.position,
          last: session.staged.at(-1)!.position,
        },
      });
    }
    return {
      imported,
      skipped,
      firstPosition: session.staged[0]?.position,
      lastPosition: session.staged.at(-1)?.position,
    };
  });
}
