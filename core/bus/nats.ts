// The NATS bus (`NATS_URL`, core NATS subjects — no JetStream): one connection; the client re-subscribes by
// itself after a reconnect, and the bus retries a first connection that fails with backoff until closed.
import { connect, DebugEvents, Events, type NatsConnection, type Subscription } from 'nats';
import type { BusLogger } from './adapter.js';
import { BaseBus, backoffMs, exactKey, parseKey, prefixKey, withTimeout, type SubKey } from './base.js';
import { natsPrefixSubject, redactUrl } from './channels.js';
import { decodeMessage, encodeMessage } from './frame.js';

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

export interface NatsBusOptions {
  log?: BusLogger;
  /** How long publish() and subscribe() wait for the server's acknowledgement (default 5 s). */
  commandTimeoutMs?: number;
}

/** NATS's default max_payload, used until the server has said its own. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

export class NatsBus extends BaseBus {
  readonly kind = 'nats' as const;
  readonly location: string;
  private readonly url: string;
  private readonly commandTimeoutMs: number;
  private nc: NatsConnection | undefined;
  private readonly natsSubs = new Map<SubKey, Subscription>();
  private retryTimer: NodeJS.Timeout | undefined;
  private wakeRetry: (() => void) | undefined;
  private loop: Promise<void>;

  constructor(url: string = DEFAULT_NATS_URL, options: NatsBusOptions = {}) {
    super('connecting', options.log);
    this.url = url;
    this.location = redactUrl(url.includes('://') ? url : `nats://${url}`);
    this.commandTimeoutMs = options.commandTimeoutMs ?? 5000;
    this.loop = this.connectLoop();
  }

  /** The server's max_payload, less the one-byte type tag. */
  get maxMessageBytes(): number {
    return (this.nc?.info?.max_payload ?? DEFAULT_MAX_PAYLOAD) - 1;
  }

  /** Connects, retrying with backoff while the server is unreachable; stops when the bus is closed. */
  private async connectLoop(): Promise<void> {
    for (let attempt = 1; !this.isClosed(); attempt++) {
      try {
        const nc = await connect({
          servers: this.url,
          name: 'weft-bus',
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
          reconnectJitter: 100,
          timeout: 5000,
        });
        if (this.isClosed()) {
          await nc.close();
          return;
        }
        await this.attach(nc);
        return;
      } catch (err) {
        if (this.isClosed()) return;
        this.trouble(`connecting failed: ${(err as Error).message}; retrying`);
        await new Promise<void>((resolve) => {
          this.wakeRetry = resolve;
          this.retryTimer = setTimeout(resolve, backoffMs(attempt));
        });
        this.retryTimer = undefined;
        this.wakeRetry = undefined;
      }
    }
  }

  private async attach(nc: NatsConnection): Promise<void> {
    this.nc = nc;
    this.natsSubs.clear();
    for (const key of this.keys()) this.natsSubs.set(key, this.makeSub(nc, key));
    void this.watch(nc);
    void nc.closed().then((err) => {
      if (this.isClosed() || this.nc !== nc) return;
      // Closed without close(): the client gave up (e.g. the server refused it). Start over.
      this.nc = undefined;
      this.trouble(`connection closed${err ? `: ${err.message}` : ''}; reconnecting`);
      this.setState('disconnected');
      this.loop = this.connectLoop();
    });
    try {
      await this.confirm(nc);
    } catch (err) {
      // Connected but silent: drop this connection and let connectLoop() start over.
      this.nc = undefined;
      await nc.close().catch(() => {});
      throw err;
    }
    if (!this.isClosed()) {
      this.log('info', `bus ${this.location}: connected`);
      this.setState('connected');
    }
  }

  /** Follows the client's status events: lost → `disconnected`; back (subscriptions re-sent) → `connected`. */
  private async watch(nc: NatsConnection): Promise<void> {
    try {
      for await (const status of nc.status()) {
        if (this.isClosed() || this.nc !== nc) return;
        if (status.type === Events.Disconnect) {
          this.log('warn', `bus ${this.location}: connection lost; reconnecting`);
          this.setState('disconnected');
        } else if (status.type === Events.Reconnect) {
          void this.confirmReconnect(nc);
        } else if (status.type === Events.Error || status.type === DebugEvents.StaleConnection) {
          this.trouble(`${status.type}: ${String(status.data)}`);
        }
      }
    } catch (err) {
      if (!this.isClosed()) this.trouble(`status events ended: ${(err as Error).message}`);
    }
  }

  /** Reports `connected` once the server has processed the subscriptions the client re-sent. */
  private async confirmReconnect(nc: NatsConnection): Promise<void> {
    while (!this.isClosed() && this.nc === nc && !nc.isClosed()) {
      try {
        await this.confirm(nc);
      } catch (err) {
        this.trouble(`reconnected but not confirmed: ${(err as Error).message}`);
        continue;
      }
      if (!this.isClosed() && this.nc === nc) {
        this.log('info', `bus ${this.location}: reconnected`);
        this.setState('connected');
      }
      return;
    }
  }

  /** A round trip: everything sent before (SUBs, PUBs) has been processed by the server. */
  private confirm(nc: NatsConnection): Promise<void> {
    return withTimeout(nc.flush(), this.commandTimeoutMs, () => new Error('no answer from the server'));
  }

  private makeSub(nc: NatsConnection, key: SubKey): Subscription {
    const { prefix, name } = parseKey(key);
    const subject = prefix ? natsPrefixSubject(name) : name;
    return nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) {
          this.trouble(`subscription '${subject}': ${err.message}`);
          return;
        }
        this.deliver(prefix ? prefixKey(name) : exactKey(name), decodeMessage(msg.data), msg.subject);
      },
    });
  }

  protected async send(channel: string, message: Uint8Array | string): Promise<void> {
    const nc = this.nc!;
    nc.publish(channel, encodeMessage(message));
    await this.confirm(nc);
  }

  protected async addRemote(key: SubKey): Promise<void> {
    const nc = this.nc;
    if (!nc || nc.isClosed()) return; // made by attach() once connected
    this.natsSubs.set(key, this.makeSub(nc, key));
    if (!this.isConnected()) return; // the client sends it on reconnect
    try {
      await this.confirm(nc);
    } catch (err) {
      if (!this.isClosed()) this.trouble(`subscription not confirmed: ${(err as Error).message}`);
    }
  }

  protected async removeRemote(key: SubKey): Promise<void> {
    const sub = this.natsSubs.get(key);
    this.natsSubs.delete(key);
    if (!sub || sub.isClosed()) return;
    sub.unsubscribe();
    const nc = this.nc;
    if (nc && this.isConnected()) await this.confirm(nc).catch(() => {});
  }

  protected async roundTrip(): Promise<void> {
    if (!this.nc) throw new Error('not connected');
    await this.confirm(this.nc);
  }

  protected async shutdown(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.wakeRetry?.();
    // A connection attempt in flight closes what it opens once it sees the bus closed.
    await withTimeout(this.loop, 6000, () => new Error('connect did not settle')).catch(() => {});
    const nc = this.nc;
    this.nc = undefined;
    this.natsSubs.clear();
    if (nc && !nc.isClosed()) {
      await withTimeout(nc.close(), 2000, () => new Error('close timed out')).catch(() => {});
    }
  }
}
