// The outbox publisher: every server runs one, one at a time publishes (a transaction-scoped advisory lock, so bus
// order is position order; a server's claim waits while another's publishes). It polls, and the write API nudges it
// after each commit. One transaction per cycle: one statement takes the lock, claims the oldest unpublished outbox
// entries (marked published, uncommitted) and reads their events; the events are translated to deltas and published on
// `deltas.region:<id>`; then COMMIT. A failed publish (bus down) rolls back: the entries stay unpublished and are
// retried with backoff — nothing is lost (receivers drop duplicates by position). Two round trips to the database per
// cycle (the claim, which takes BEGIN along, and COMMIT), plus the reads a translation needs beyond the events (none
// for new nodes).
import type { Logger } from 'pino';
import type { Bus } from '../../core/bus/adapter.js';
import type { Db, Queryable } from '../../core/db/adapter.js';
import { errorMessage } from '../../core/errors.js';
import { readEvents } from '../../core/eventstore.js';
import type { StoredEvent } from '../../core/domain/schemas.js';
import { claimOutbox, type OutboxEntry } from '../../core/outbox.js';
import { deltasChannel, encodeEnvelopes, storeMarker } from './envelope.js';
import { translateEvents, type EncodedDelta } from './translate.js';

/** The advisory lock only the publishing server holds (for the length of one publishing transaction). */
export const OUTBOX_LOCK_KEY = 0x77656674_01; // "weft", 1

export interface PublisherOptions {
  /** How often the outbox is looked at without a nudge. */
  pollMs: number;
  /** Outbox entries per transaction. */
  batchEntries: number;
  /** Events translated at once (a huge transaction is published in pieces). */
  chunkEvents: number;
  /** Retry delay after a failure: doubling from pollMs up to this. */
  maxBackoffMs: number;
  /**
   * An entry older than this when published (a server down for a while, a seed or import made without a server)
   * or with more events than maxLiveEvents is not translated: a marker per region tells the servers to catch their
   * subscribers up from the event store instead (where every client that was away resumes from anyway).
   */
  staleAfterMs: number;
  maxLiveEvents: number;
}

export const DEFAULT_PUBLISHER_OPTIONS: PublisherOptions = {
  pollMs: 200,
  batchEntries: 100,
  chunkEvents: 2000,
  maxBackoffMs: 5000,
  staleAfterMs: 60_000,
  maxLiveEvents: 5000,
};

type Outcome = 'idle' | 'more';

export class OutboxPublisher {
  private readonly options: PublisherOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private failures = 0;
  private closed = false;
  /** Entries published by this server (for tests and logs). */
  published = 0;

  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
    private readonly logger: Logger,
    options: Partial<PublisherOptions> = {},
  ) {
    this.options = { ...DEFAULT_PUBLISHER_OPTIONS, ...options };
  }

  start(): void {
    this.nudge();
  }

  /** Publish now (after a commit); coalesces with a run in progress. */
  nudge(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.cycle().finally(() => {
      this.running = undefined;
    });
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.nudge();
    }, ms);
    this.timer.unref();
  }

  private async cycle(): Promise<void> {
    try {
      for (;;) {
        this.again = false;
        const outcome = await this.publishOnce();
        if (this.closed) return;
        if (outcome === 'more' || this.again) continue;
        break;
      }
      if (this.failures) this.logger.info({ component: 'live' }, 'outbox publishing works again');
      this.failures = 0;
      this.schedule(this.options.pollMs);
    } catch (err) {
      if (this.closed) return;
      this.failures += 1;
      const delay = Math.min(this.options.pollMs * 2 ** this.failures, this.options.maxBackoffMs);
      if (this.failures === 1 || this.failures % 20 === 0)
        this.logger.warn(
          { component: 'live', failures: this.failures },
          `outbox publishing failed (${errorMessage(err)}); entries stay unpublished, retrying in ${delay} ms`,
        );
      this.schedule(delay);
    }
  }

  /**
   * One transaction: claim (lock, pending entries marked published, their events: one statement), translate,
   * publish, commit. The marks are not committed before every publish has succeeded.
   */
  private publishOnce(): Promise<Outcome> {
    return this.db.transaction(async (tx) => {
      const claim = await claimOutbox(tx, {
        lockKey: OUTBOX_LOCK_KEY,
        limit: this.options.batchEntries,
        maxEvents: this.options.chunkEvents,
      });
      const { entries } = claim;
      if (!entries.length) return 'idle';
      await this.publishEntries(tx, entries, claim.events);
      this.published += entries.length;
      return entries.length === this.options.batchEntries ? 'more' : 'idle';
    });
  }

  /** `preloaded`: every event of the entries' position range (when the claim brought them), else read here. */
  private async publishEntries(
    tx: Queryable,
    entries: OutboxEntry[],
    preloaded: StoredEvent[] | undefined,
  ): Promise<void> {
    const commits = entries.map((e) => ({
      first: e.firstPosition,
      last: e.lastPosition,
      at: Date.parse(e.createdAt),
    }));
    const committedAt = (p: number) => commits.find((c) => p >= c.first && p <= c.last)?.at ?? Date.now();
    // contiguous spans of positions (entries normally follow one another without a gap)
    const spans: { first: number; last: number }[] = [];
    const now = Date.now();
    for (const e of entries) {
      const events = e.lastPosition - e.firstPosition + 1;
      if (now - Date.parse(e.createdAt) > this.options.staleAfterMs || events > this.options.maxLiveEvents) {
        for (const topic of e.topics) {
          if (!topic.startsWith('region:')) continue;
          const region = topic.slice('region:'.length);
          await this.bus.publish(deltasChannel(region), storeMarker(e.lastPosition, Date.parse(e.createdAt)));
        }
        continue;
      }
      const prev = spans.at(-1);
      if (prev && e.firstPosition === prev.last + 1) prev.last = e.lastPosition;
      else spans.push({ first: e.firstPosition, last: e.lastPosition });
    }
    for (const span of spans) {
      for (let from = span.first; from <= span.last; from += this.options.chunkEvents) {
        const count = Math.min(this.options.chunkEvents, span.last - from + 1);
        const events = preloaded
          ? preloaded.filter((e) => e.position >= from && e.position < from + count)
          : await readEvents(tx, { after: from - 1, limit: count });
        const deltas = await translateEvents(tx, events, {
          onError: (e, message) =>
            this.logger.error(
              { component: 'live', position: e.position, type: e.type },
              `no delta for event ${e.position}: ${message}`,
            ),
        });
        await this.publishDeltas(deltas, committedAt);
      }
    }
  }

  private async publishDeltas(
    deltas: EncodedDelta[],
    committedAt: (position: number) => number,
  ): Promise<void> {
    const byRegion = new Map<string, EncodedDelta[]>();
    for (const d of deltas) {
      let list = byRegion.get(d.region);
      if (!list) byRegion.set(d.region, (list = []));
      list.push(d);
    }
    const max = this.bus.maxMessageBytes;
    const budget = Math.min(256 * 1024, Math.floor(max / 4));
    for (const [region, list] of byRegion) {
      const tooLarge = new Set(
        list.filter((d) => Buffer.byteLength(d.text) > max - 1024).map((d) => d.position),
      );
      for (const envelope of encodeEnvelopes(list, committedAt, budget, tooLarge)) {
        await this.bus.publish(deltasChannel(region), envelope);
      }
    }
  }

  /** Stops polling and waits for a run in progress. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => {});
  }
}
