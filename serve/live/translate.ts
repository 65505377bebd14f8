// Events from the store → encoded deltas, for the outbox publisher (a contiguous range of positions) and for
// replay (one region's events after a position). Both go through translateEvents, so the same event always gives
// the same message text.
import type { Queryable } from '../../core/db/adapter.js';
import type { StoredEvent } from '../../core/domain/schemas.js';
import { errorMessage } from '../../core/errors.js';
import { rowToEvent } from '../../core/eventstore.js';
import { EVENT_SELECT, stateAtFirst } from './asof.js';
import { deltasForEvent, type BBox, type Delta } from './deltas.js';

/** A delta serialised once; the bytes and the WebSocket frame are made on first use and then shared. */
export interface EncodedDelta {
  region: string;
  position: number;
  bbox: BBox | null;
  /** the message JSON, exactly as every client receives it */
  text: string;
  /** the WebSocket frame, made by whoever first needs it */
  frame?: Buffer;
  /** the SSE event (`id:` + `data:`) */
  sse?: Buffer;
}

export function encodeDelta(d: Delta): EncodedDelta {
  return { region: d.region, position: d.position, bbox: d.bbox, text: JSON.stringify(d.message) };
}

export interface TranslateOptions {
  /** Keep only this region's deltas. */
  region?: string;
  /** Where an event that cannot be translated is reported (it then yields nothing). */
  onError?: (event: StoredEvent, message: string) => void;
}

/**
 * Deltas for events in position order. Without `region` the events must be contiguous (every event between the
 * first and the last; the publisher's case). With `region`, the events may skip other regions' events: those
 * never change the rows this region's deltas read.
 */
export async function translateEvents(
  q: Queryable,
  events: readonly StoredEvent[],
  options: TranslateOptions = {},
): Promise<EncodedDelta[]> {
  if (!events.length) return [];
  const state = await stateAtFirst(q, events);
  const out: EncodedDelta[] = [];
  for (const [i, e] of events.entries()) {
    try {
      if (i > 0) state.apply(e);
      for (const d of deltasForEvent(e, state)) {
        if (options.region === undefined || d.region === options.region) out.push(encodeDelta(d));
      }
    } catch (err) {
      options.onError?.(e, errorMessage(err));
    }
  }
  return out;
}

/**
 * Up to `limit` events after `after` that may concern `region`: its own (by the timeline's region) and every
 * role event (a role's new home moves its threads, wherever they lead).
 */
export async function readRegionEvents(
  q: Queryable,
  region: string,
  after: number,
  limit: number,
): Promise<StoredEvent[]> {
  const { rows } = await q.query(
    `SELECT ${EVENT_SELECT} FROM events WHERE position IN (
       SELECT position FROM proj_timeline WHERE position > $2 AND (region_id = $1 OR stream_type = 'role')
       ORDER BY position LIMIT $3)
     ORDER BY position`,
    [region, after, limit],
  );
  return rows.map(rowToEvent);
}

export interface ReplayPage {
  deltas: EncodedDelta[];
  /** The last event position looked at (everything of the region up to it is in `deltas`). */
  scanned: number;
  /** False when the page reached the end of the store. */
  more: boolean;
}

/** One page of a region's deltas after `after`, from the event store. */
export async function replayPage(
  q: Queryable,
  region: string,
  after: number,
  limit = 500,
  onError?: TranslateOptions['onError'],
): Promise<ReplayPage> {
  const events = await readRegionEvents(q, region, after, limit);
  if (!events.length) return { deltas: [], scanned: after, more: false };
  const deltas = await translateEvents(q, events, { region, onError });
  return { deltas, scanned: events.at(-1)!.position, more: events.length === limit };
}
