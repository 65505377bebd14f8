// The Redis pub/sub bus (`REDIS_URL`): one connection publishes, one subscribes (a subscribed Redis connection
// takes no other commands); both reconnect with backoff after a Redis restart, and the subscriber re-subscribes
// every channel and prefix before the bus reports itself connected again.
import { Redis, type RedisOptions } from 'ioredis';
import { DEFAULT_MAX_MESSAGE_BYTES, type BusLogger } from './adapter.js';
import { BaseBus, backoffMs, exactKey, parseKey, prefixKey, withTimeout, type SubKey } from './base.js';
import { redactUrl, redisPattern } from './channels.js';
import { decodeMessage, encodeMessage } from './frame.js';

const DISCONNECT_TIMEOUT_MS = 50;

export interface RedisBusOptions {
  maxMessageBytes?: number;
  log?: BusLogger;
  /** How long a PUBLISH or SUBSCRIBE may wait for Redis's answer (default 5 s). */
  commandTimeoutMs?: number;
}

export class RedisBus extends BaseBus {
  readonly kind = 'redis' as const;
  readonly location: string;
  readonly maxMessageBytes: number;
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly commandTimeoutMs: number;
  /** The subscriber connection is ready and every key is subscribed on it. */
  private subLive = false;
  /** Bumped on every (re)connect of the subscriber, so a slow resubscription of an old one is ignored. */
  private subGeneration = 0;
  /** PSUBSCRIBE pattern → prefix. */
  private readonly patterns = new Map<string, string>();

  constructor(url: string, options: RedisBusOptions = {}) {
    super('connecting', options.log);
    this.location = redactUrl(url);
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 5000;
    const common: RedisOptions = {
      retryStrategy: (attempt) => backoffMs(attempt),
      connectTimeout: 5000,
      autoResubscribe: false, // the bus re-subscribes from its own table, then reports `connected`
      lazyConnect: false,
      // How long ioredis lets a socket close by itself before destroying it. Its timer also outlives close()
      // for a socket that never connected, so keep it short (close() waits it out).
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
    };
    // Never queued while disconnected: publish() fails at once and the caller (the outbox) retries.
    this.pub = new Redis(url, {
      ...common,
      connectionName: 'weft-bus-pub',
      enableOfflineQueue: false,
      commandTimeout: this.commandTimeoutMs,
    });
    this.sub = new Redis(url, { ...common, connectionName: 'weft-bus-sub', maxRetriesPerRequest: null });
    for (const [name, conn] of [
      ['publisher', this.pub],
      ['subscriber', this.sub],
    ] as const) {
      conn.on('error', (err: Error) => this.trouble(`${name} connection: ${err.message}; retrying`));
      conn.on('close', () => this.connectionChanged());
      conn.on('end', () => this.connectionChanged());
    }
    this.pub.on('ready', () => this.connectionChanged());
    this.sub.on('ready', () => void this.resubscribe());
    this.sub.on('messageBuffer', (channel: Buffer, payload: Buffer) => {
      const name = channel.toString();
      this.deliver(exactKey(name), decodeMessage(payload), name);
    });
    this.sub.on('pmessageBuffer', (pattern: Buffer | string, channel: Buffer, payload: Buffer) => {
      const prefix = this.patterns.get(pattern.toString());
      if (prefix !== undefined) this.deliver(prefixKey(prefix), decodeMessage(payload), channel.toString());
    });
  }

  private connectionChanged(): void {
    if (this.sub.status !== 'ready') this.subLive = false;
    if (this.isClosed()) return;
    const up = this.pub.status === 'ready' && this.subLive;
    if (up) {
      if (this.state !== 'connected') this.log('info', `bus ${this.location}: connected`);
      this.setState('connected');
    } else if (this.state === 'connected') {
      this.log('warn', `bus ${this.location}: connection lost; reconnecting`);
      this.setState('disconnected');
    }
  }

  /** After the subscriber (re)connects: subscribe every key of the table, then report the bus connected. */
  private async resubscribe(): Promise<void> {
    const generation = ++this.subGeneration;
    const channels: string[] = [];
    const patterns: string[] = [];
    for (const key of this.keys()) {
      const { prefix, name } = parseKey(key);
      if (prefix) patterns.push(this.patternFor(name));
      else channels.push(name);
    }
    try {
      if (channels.length) await this.sub.subscribe(...channels);
      if (patterns.length) await this.sub.psubscribe(...patterns);
    } catch (err) {
      this.trouble(`re-subscribing failed: ${(err as Error).message}`);
      return; // the connection dropped again; the next 'ready' retries
    }
    if (generation !== this.subGeneration || this.sub.status !== 'ready') return;
    this.subLive = true;
    this.connectionChanged();
  }

  private patternFor(prefix: string): string {
    const pattern = redisPattern(prefix);
    this.patterns.set(pattern, prefix);
    return pattern;
  }

  protected async send(channel: string, message: Uint8Array | string): Promise<void> {
    await this.pub.publish(channel, encodeMessage(message));
  }

  protected async addRemote(key: SubKey): Promise<void> {
    const { prefix, name } = parseKey(key);
    // While the subscriber is down the key waits in the table; resubscribe() makes it on reconnect.
    if (this.sub.status !== 'ready') return;
    const command = prefix ? this.sub.psubscribe(this.patternFor(name)) : this.sub.subscribe(name);
    try {
      await withTimeout(command, this.commandTimeoutMs, () => new Error('no answer'));
    } catch (err) {
      if (this.isClosed()) return;
      this.trouble(
        `subscribing to '${name}' is not confirmed (${(err as Error).message}); kept for reconnect`,
      );
    }
  }

  protected async removeRemote(key: SubKey): Promise<void> {
    const { prefix, name } = parseKey(key);
    if (this.sub.status !== 'ready') return;
    try {
      if (prefix) await this.sub.punsubscribe(redisPattern(name));
      else await this.sub.unsubscribe(name);
    } catch {
      // Disconnected meanwhile: the new connection will not subscribe a key that left the table.
    }
  }

  protected async roundTrip(): Promise<void> {
    await Promise.all([this.pub.ping(), this.sub.ping()]);
  }

  protected async shutdown(): Promise<void> {
    await Promise.all([this.pub, this.sub].map((conn) => closeConnection(conn)));
  }
}

/** QUIT when connected (so Redis sees a clean goodbye), then disconnect: no reconnect timer is left behind. */
async function closeConnection(conn: Redis): Promise<void> {
  if (conn.status === 'ready') {
    try {
      await withTimeout(conn.quit(), 1000, () => new Error('quit timed out'));
    } catch {
      // fall through to disconnect
    }
  }
  conn.disconnect(false);
  await new Promise((resolve) => setTimeout(resolve, DISCONNECT_TIMEOUT_MS + 10));
}
