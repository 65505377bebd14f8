// The `bus` adapter: the one narrow realtime interface (in-process, Redis pub/sub, NATS) that carries commit
// notifications and deltas between server processes.
//
// Delivery semantics — the same for every implementation, checked by one contract suite (test/bus/contract.ts):
// - At-most-once fan-out to the subscriptions that exist when the broker handles the message. Nothing is stored
//   or replayed: a subscriber that is disconnected (or not yet subscribed) misses it. The event store is the
//   source of truth; a client that may have missed something resumes with `since=<position>`.
// - A publish() that rejects with `bus_unavailable` after it was sent (no acknowledgement in time) may still have
//   been delivered: a caller that retries can cause a duplicate, so subscribers key messages by event position.
// - Order: the messages one Bus instance publishes on one channel reach every subscriber in publish order
//   (awaited or not). Nothing is promised across channels or across publishers.
// - Payloads keep their type: a string arrives as the same string, bytes arrive as a Buffer with the same bytes.
//   Handlers must treat a Buffer as read-only (all local handlers of one message may share it).
// - Handlers run asynchronously, never inside publish(); a handler that throws is logged and affects nothing else.
// - A message reaches every matching subscription: a handler subscribed both to a channel and to a prefix of it
//   is called twice.
// - The memory bus is one process only: it connects the buses that share one MemoryHub (by default just itself).
//
// Channels are dot-separated tokens (`deltas.region:monaco`, `releases.promoted`): no whitespace, no `*` or `>`,
// no empty token, at most 255 characters — names every broker accepts as they are (they are NATS subjects).
import { UserError } from '../errors.js';

export type BusKind = 'memory' | 'redis' | 'nats';

/** What a subscriber receives: the published string, or a Buffer with the published bytes. */
export type BusMessage = Buffer | string;

export type BusHandler = (message: BusMessage, channel: string) => void;

/** Ends one subscription; idempotent. After it resolves the handler is never called again. */
export type Unsubscribe = () => Promise<void>;

/**
 * `connecting`: not yet connected the first time; `connected`: publishing and every subscription are live;
 * `disconnected`: the broker was lost, the bus is reconnecting (with backoff) and will re-subscribe by itself;
 * `closed`: close() was called.
 */
export type BusState = 'connecting' | 'connected' | 'disconnected' | 'closed';

/** Where a bus reports connection trouble; the default writes one line to stderr. */
export type BusLogger = (level: 'info' | 'warn' | 'error', message: string) => void;

export interface Bus {
  readonly kind: BusKind;
  /** Where the broker is, for messages (credentials removed): `memory`, `redis://127.0.0.1:6379`, `nats://…`. */
  readonly location: string;
  /** The largest payload publish() accepts, in bytes (UTF-8 bytes for a string). */
  readonly maxMessageBytes: number;
  readonly state: BusState;

  /** Resolves once connected; rejects with BusError `bus_unavailable` after `timeoutMs` (the bus keeps trying). */
  ready(timeoutMs?: number): Promise<void>;
  /** True when the broker answers a round trip within `timeoutMs`; never throws (for /readyz). */
  ping(timeoutMs?: number): Promise<boolean>;
  isConnected(): boolean;
  /** Calls `listener` on every state change; returns the function that removes it. */
  onStateChange(listener: (state: BusState) => void): () => void;

  /**
   * Sends a message to the current subscribers of `channel`. Resolves once the broker has taken it; rejects with
   * BusError `bus_unavailable` when the bus is not connected (it never queues while disconnected), `too_large`
   * past maxMessageBytes, `bad_channel` for a bad name, `bus_closed` after close().
   */
  publish(channel: string, message: Uint8Array | string): Promise<void>;
  /**
   * Calls `handler` with every message later published on `channel`. Resolves once the broker has confirmed the
   * subscription — or at once when the bus is disconnected: it is made on (re)connect.
   */
  subscribe(channel: string, handler: BusHandler): Promise<Unsubscribe>;
  /**
   * Like subscribe, for every channel that starts with `prefix`, which must end with a dot (`deltas.` matches
   * `deltas.region:monaco` and `deltas.a.b`): whole tokens only, as NATS's `deltas.>`.
   */
  subscribePrefix(prefix: string, handler: BusHandler): Promise<Unsubscribe>;
  /** Ends every subscription and connection, leaving no handle open; idempotent. */
  close(): Promise<void>;
}

export type BusErrorCode = 'bus_unavailable' | 'bus_closed' | 'bad_channel' | 'too_large';

/** A bus refused or could not carry out a request; `code` says which. */
export class BusError extends UserError {
  declare readonly code: BusErrorCode;
  constructor(message: string, code: BusErrorCode) {
    super(message, code);
    this.name = 'BusError';
  }
}

/** The limit for the memory and Redis buses: below Redis's default pub/sub client output buffer limits. */
export const DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/** The default logger: one line on stderr. */
export const stderrLogger: BusLogger = (level, message) => {
  process.stderr.write(`[bus ${level}] ${message}\n`);
};
