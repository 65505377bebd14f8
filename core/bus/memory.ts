// The in-process bus (the embedded default): one process only, delivery on a later turn of the event loop, one
// queue per hub so every subscriber sees messages in publish order.
import { DEFAULT_MAX_MESSAGE_BYTES, type BusLogger, type BusMessage } from './adapter.js';
import { BaseBus, exactKey, parseKey, type SubKey } from './base.js';

interface Queued {
  channel: string;
  message: BusMessage;
}

/**
 * Connects the memory buses that share it, as a broker would connect processes. Each MemoryBus gets its own hub
 * unless given one, so two buses are separate unless a test (or one process serving twice) shares a hub.
 */
export class MemoryHub {
  private readonly buses = new Set<MemoryBus>();
  private queue: Queued[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  /** @internal */
  attach(bus: MemoryBus): void {
    this.buses.add(bus);
  }

  /** @internal */
  detach(bus: MemoryBus): void {
    this.buses.delete(bus);
    if (this.buses.size === 0) {
      if (this.scheduled) clearImmediate(this.scheduled);
      this.scheduled = undefined;
      this.queue = [];
    }
  }

  /** @internal Queues a message for every attached bus; delivery never happens inside this call. */
  enqueue(channel: string, message: BusMessage): void {
    this.queue.push({ channel, message });
    this.scheduled ??= setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = undefined;
    const batch = this.queue;
    this.queue = [];
    for (const { channel, message } of batch) {
      for (const bus of [...this.buses]) bus.receive(channel, message);
    }
  }
}

export interface MemoryBusOptions {
  /** Share a hub to connect several buses in one process (default: a hub of its own). */
  hub?: MemoryHub;
  maxMessageBytes?: number;
  log?: BusLogger;
}

export class MemoryBus extends BaseBus {
  readonly kind = 'memory' as const;
  readonly location = 'memory';
  readonly maxMessageBytes: number;
  private readonly hub: MemoryHub;

  constructor(options: MemoryBusOptions = {}) {
    super('connected', options.log);
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.hub = options.hub ?? new MemoryHub();
    this.hub.attach(this);
  }

  protected async send(channel: string, message: Uint8Array | string): Promise<void> {
    // Copy the bytes now: the publisher may reuse its buffer once publish() returns, as with a network broker.
    this.hub.enqueue(channel, typeof message === 'string' ? message : Buffer.from(message));
  }

  /** @internal A message from the hub. */
  receive(channel: string, message: BusMessage): void {
    if (this.isClosed()) return;
    this.deliver(exactKey(channel), message, channel);
    for (const key of this.keys()) {
      const { prefix, name } = parseKey(key);
      if (prefix && channel.startsWith(name)) this.deliver(key, message, channel);
    }
  }

  protected async addRemote(_key: SubKey): Promise<void> {}
  protected async removeRemote(_key: SubKey): Promise<void> {}
  protected async roundTrip(): Promise<void> {}

  protected async shutdown(): Promise<void> {
    this.hub.detach(this);
  }
}
