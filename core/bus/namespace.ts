// One deployment's view of a shared broker: every channel it publishes or subscribes to is prefixed with its
// namespace (`WEFT_NAMESPACE=staging`: `deltas.region:monaco` travels as `staging.deltas.region:monaco`), so two
// deployments on one Redis or NATS never see each other's messages. Callers keep using the bare channel names:
// handlers receive them without the prefix.
import { UserError } from '../errors.js';
import type { Bus, BusHandler, BusState, Unsubscribe } from './adapter.js';
import { checkChannel, checkPrefix } from './channels.js';

/** A namespace is one channel token that is also a safe Redis key part. */
export const NAMESPACE = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** Throws a UserError naming the setting unless `ns` is a valid namespace. */
export function checkNamespace(ns: string, setting = 'WEFT_NAMESPACE'): string {
  if (!NAMESPACE.test(ns))
    throw new UserError(
      `${setting} '${ns}': must be 1–32 of a-z, 0-9, '_', '-', starting with a letter or digit`,
    );
  return ns;
}

export class NamespacedBus implements Bus {
  private readonly prefix: string;

  constructor(
    private readonly inner: Bus,
    readonly namespace: string,
  ) {
    this.prefix = `${checkNamespace(namespace)}.`;
  }

  get kind(): Bus['kind'] {
    return this.inner.kind;
  }
  get location(): string {
    return `${this.inner.location} (namespace ${this.namespace})`;
  }
  get maxMessageBytes(): number {
    return this.inner.maxMessageBytes;
  }
  get state(): BusState {
    return this.inner.state;
  }
  ready(timeoutMs?: number): Promise<void> {
    return this.inner.ready(timeoutMs);
  }
  ping(timeoutMs?: number): Promise<boolean> {
    return this.inner.ping(timeoutMs);
  }
  isConnected(): boolean {
    return this.inner.isConnected();
  }
  onStateChange(listener: (state: BusState) => void): () => void {
    return this.inner.onStateChange(listener);
  }
  // names are checked as the caller wrote them, so that errors name them so
  async publish(channel: string, message: Uint8Array | string): Promise<void> {
    checkChannel(channel);
    return this.inner.publish(this.prefix + channel, message);
  }
  async subscribe(channel: string, handler: BusHandler): Promise<Unsubscribe> {
    checkChannel(channel);
    return this.inner.subscribe(this.prefix + channel, this.unprefixed(handler));
  }
  async subscribePrefix(prefix: string, handler: BusHandler): Promise<Unsubscribe> {
    checkPrefix(prefix);
    return this.inner.subscribePrefix(this.prefix + prefix, this.unprefixed(handler));
  }
  close(): Promise<void> {
    return this.inner.close();
  }

  private unprefixed(handler: BusHandler): BusHandler {
    const n = this.prefix.length;
    return (message, channel) => handler(message, channel.slice(n));
  }
}
