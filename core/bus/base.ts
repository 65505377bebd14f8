// What every bus shares: checking names and sizes, the local table of subscriptions and their handlers, safe
// dispatch, connection state with listeners, and ready()/close(). Each broker adds only its transport.
import {
  BusError,
  stderrLogger,
  type Bus,
  type BusHandler,
  type BusKind,
  type BusLogger,
  type BusMessage,
  type BusState,
  type Unsubscribe,
} from './adapter.js';
import { checkChannel, checkPrefix } from './channels.js';
import { messageBytes } from './frame.js';

/** A subscription key: `c:<channel>` for one channel, `p:<prefix>` for a prefix. */
export type SubKey = string;

export const exactKey = (channel: string): SubKey => `c:${channel}`;
export const prefixKey = (prefix: string): SubKey => `p:${prefix}`;
export function parseKey(key: SubKey): { prefix: boolean; name: string } {
  return { prefix: key.startsWith('p:'), name: key.slice(2) };
}

interface Subscription {
  handler: BusHandler;
  active: boolean;
}

interface Entry {
  subs: Set<Subscription>;
  /** Settles when the broker has confirmed the key's subscription (or the bus decided not to wait). */
  confirmed: Promise<void>;
}

/** `promise`, or a rejection with `error()` after `ms`; the timer never outlives the race. */
export function withTimeout<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Reconnect delay for the n-th attempt (1-based): 100 ms doubling to 3 s, plus up to 100 ms of jitter. */
export function backoffMs(attempt: number): number {
  return Math.min(100 * 2 ** Math.max(0, attempt - 1), 3000) + Math.floor(Math.random() * 100);
}

export abstract class BaseBus implements Bus {
  abstract readonly kind: BusKind;
  abstract readonly location: string;
  abstract get maxMessageBytes(): number;

  protected readonly log: BusLogger;
  private current: BusState;
  private readonly listeners = new Set<(state: BusState) => void>();
  private readonly entries = new Map<SubKey, Entry>();
  private closing: Promise<void> | undefined;
  private lastTrouble = { message: '', at: 0 };

  constructor(initial: BusState, log: BusLogger = stderrLogger) {
    this.current = initial;
    this.log = log;
  }

  /** Sends one checked message; the bus is connected when this is called. */
  protected abstract send(channel: string, message: Uint8Array | string): Promise<void>;
  /** Makes the broker subscription for a key that just got its first handler. */
  protected abstract addRemote(key: SubKey): Promise<void>;
  /** Drops the broker subscription of a key whose last handler left. */
  protected abstract removeRemote(key: SubKey): Promise<void>;
  /** Releases every connection and timer. */
  protected abstract shutdown(): Promise<void>;
  /** One broker round trip. */
  protected abstract roundTrip(): Promise<void>;

  get state(): BusState {
    return this.current;
  }

  /** close() has been called. */
  protected isClosed(): boolean {
    return this.current === 'closed';
  }

  isConnected(): boolean {
    return this.current === 'connected';
  }

  onStateChange(listener: (state: BusState) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  protected setState(state: BusState): void {
    if (state === this.current || this.current === 'closed') return;
    this.current = state;
    for (const listener of [...this.listeners]) {
      try {
        listener(state);
      } catch (err) {
        this.log('error', `bus ${this.location}: a state listener threw: ${String(err)}`);
      }
    }
  }

  /** Logs connection trouble, the same line at most every 30 s. */
  protected trouble(message: string): void {
    const now = Date.now();
    if (message === this.lastTrouble.message && now - this.lastTrouble.at < 30_000) return;
    this.lastTrouble = { message, at: now };
    this.log('warn', `bus ${this.location}: ${message}`);
  }

  /** Every key with at least one handler. */
  protected keys(): SubKey[] {
    return [...this.entries.keys()];
  }

  protected hasKey(key: SubKey): boolean {
    return this.entries.has(key);
  }

  /** Calls the handlers of `key` with a message received on `channel`. */
  protected deliver(key: SubKey, message: BusMessage, channel: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    for (const sub of [...entry.subs]) {
      if (!sub.active) continue;
      try {
        sub.handler(message, channel);
      } catch (err) {
        this.log('error', `bus ${this.location}: a handler on '${channel}' threw: ${String(err)}`);
      }
    }
  }

  private checkOpen(): void {
    if (this.current === 'closed') throw new BusError(`bus ${this.location} is closed`, 'bus_closed');
  }

  async ready(timeoutMs = 10_000): Promise<void> {
    this.checkOpen();
    if (this.isConnected()) return;
    let remove = () => {};
    const connected = new Promise<void>((resolve, reject) => {
      remove = this.onStateChange((state) => {
        if (state === 'connected') resolve();
        if (state === 'closed') reject(new BusError(`bus ${this.location} was closed`, 'bus_closed'));
      });
    });
    try {
      await withTimeout(
        connected,
        timeoutMs,
        () => new BusError(`bus ${this.location} is not reachable after ${timeoutMs} ms`, 'bus_unavailable'),
      );
    } finally {
      remove();
    }
  }

  async ping(timeoutMs = 2000): Promise<boolean> {
    if (!this.isConnected()) return false;
    try {
      await withTimeout(this.roundTrip(), timeoutMs, () => new Error('ping timed out'));
      return true;
    } catch {
      return false;
    }
  }

  async publish(channel: string, message: Uint8Array | string): Promise<void> {
    this.checkOpen();
    checkChannel(channel);
    if (typeof message !== 'string' && !(message instanceof Uint8Array)) {
      throw new BusError(`bus message on '${channel}' must be a string or bytes`, 'bad_channel');
    }
    const size = messageBytes(message);
    if (size > this.maxMessageBytes) {
      throw new BusError(
        `bus message on '${channel}' has ${size} bytes, more than the ${this.maxMessageBytes} that ${this.location} takes`,
        'too_large',
      );
    }
    if (!this.isConnected()) {
      throw new BusError(
        `bus ${this.location} is ${this.current}: message on '${channel}' not sent`,
        'bus_unavailable',
      );
    }
    try {
      await this.send(channel, message);
    } catch (err) {
      if (err instanceof BusError) throw err;
      throw new BusError(
        `bus ${this.location}: message on '${channel}' not confirmed: ${(err as Error).message}`,
        'bus_unavailable',
      );
    }
  }

  async subscribe(channel: string, handler: BusHandler): Promise<Unsubscribe> {
    this.checkOpen();
    checkChannel(channel);
    return this.add(exactKey(channel), handler);
  }

  async subscribePrefix(prefix: string, handler: BusHandler): Promise<Unsubscribe> {
    this.checkOpen();
    checkPrefix(prefix);
    return this.add(prefixKey(prefix), handler);
  }

  private async add(key: SubKey, handler: BusHandler): Promise<Unsubscribe> {
    if (typeof handler !== 'function') throw new TypeError('bus handler must be a function');
    const sub: Subscription = { handler, active: true };
    let entry = this.entries.get(key);
    if (!entry) {
      const created: Entry = { subs: new Set(), confirmed: Promise.resolve() };
      this.entries.set(key, created);
      created.confirmed = this.addRemote(key);
      entry = created;
    }
    entry.subs.add(sub);
    const owner = entry;
    const unsubscribe: Unsubscribe = async () => {
      if (!sub.active) return;
      sub.active = false;
      owner.subs.delete(sub);
      if (owner.subs.size === 0 && this.entries.get(key) === owner) {
        this.entries.delete(key);
        if (this.current !== 'closed') await this.removeRemote(key);
      }
    };
    try {
      await owner.confirmed;
    } catch (err) {
      await unsubscribe();
      throw err;
    }
    return unsubscribe;
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.setState('closed');
      for (const entry of this.entries.values()) for (const sub of entry.subs) sub.active = false;
      this.entries.clear();
      this.listeners.clear();
      this.closing = this.shutdown();
    }
    return this.closing;
  }
}
