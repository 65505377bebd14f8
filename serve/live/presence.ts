// Presence per node: how many clients are looking at it, as counts only. Each look is a member with an expiry,
// refreshed by its client's heartbeat and dropped on unlook, on disconnect, or when it expires (a server that died
// leaves nothing behind for long). With Redis the members live in a sorted set per node shared by every server,
// and changes travel between servers on the bus (`presence.region:<id>`); without Redis they live in memory.
// Every change of a count is broadcast to the subscribers of the node's region.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Bus, Unsubscribe } from '../../core/bus/adapter.js';
import { errorMessage } from '../../core/errors.js';
import { PRESENCE_PREFIX, presenceChannel, regionOfChannel } from './envelope.js';

/** Where the looks are kept. */
export interface PresenceStore {
  readonly shared: boolean;
  /** Adds or refreshes a member's look; true when it is new. */
  add(region: string, nodeId: string, member: string, expiresAt: number): Promise<boolean>;
  /** True when the member was there. */
  remove(nodeId: string, member: string): Promise<boolean>;
  /** Extends a member's looks (those still there). */
  refresh(nodeIds: string[], member: string, expiresAt: number): Promise<void>;
  count(nodeId: string, now: number): Promise<number>;
  /** Drops expired members; returns the nodes (with their regions) whose count went down. */
  sweep(now: number): Promise<{ region: string; nodeId: string }[]>;
  close(): Promise<void>;
}

export class MemoryPresenceStore implements PresenceStore {
  readonly shared = false;
  private readonly nodes = new Map<string, { region: string; members: Map<string, number> }>();

  async add(region: string, nodeId: string, member: string, expiresAt: number): Promise<boolean> {
    let n = this.nodes.get(nodeId);
    if (!n) this.nodes.set(nodeId, (n = { region, members: new Map() }));
    const isNew = !n.members.has(member);
    n.members.set(member, expiresAt);
    return isNew;
  }

  async remove(nodeId: string, member: string): Promise<boolean> {
    const n = this.nodes.get(nodeId);
    if (!n) return false;
    const had = n.members.delete(member);
    if (!n.members.size) this.nodes.delete(nodeId);
    return had;
  }

  async refresh(nodeIds: string[], member: string, expiresAt: number): Promise<void> {
    for (const id of nodeIds) {
      const m = this.nodes.get(id)?.members;
      if (m?.has(member)) m.set(member, expiresAt);
    }
  }

  async count(nodeId: string, now: number): Promise<number> {
    const n = this.nodes.get(nodeId);
    if (!n) return 0;
    let c = 0;
    for (const exp of n.members.values()) if (exp > now) c += 1;
    return c;
  }

  async sweep(now: number): Promise<{ region: string; nodeId: string }[]> {
    const changed: { region: string; nodeId: string }[] = [];
    for (const [nodeId, n] of this.nodes) {
      let dropped = false;
      for (const [m, exp] of n.members) {
        if (exp <= now) {
          n.members.delete(m);
          dropped = true;
        }
      }
      if (dropped) changed.push({ region: n.region, nodeId });
      if (!n.members.size) this.nodes.delete(nodeId);
    }
    return changed;
  }

  async close(): Promise<void> {}
}

/** A sorted set per node (member → expiry in ms) and a hash node → region of the nodes with members. */
export class RedisPresenceStore implements PresenceStore {
  readonly shared = true;

  private readonly indexKey: string;
  private readonly nodePrefix: string;

  /** `keyPrefix`: the deployment's Redis key prefix (`weft:` or `weft:<namespace>:`). */
  constructor(
    private readonly redis: Redis,
    private readonly ttlMs: number,
    keyPrefix = 'weft:',
  ) {
    this.indexKey = `${keyPrefix}presence:index`;
    this.nodePrefix = `${keyPrefix}presence:node:`;
  }

  private nodeKey(nodeId: string): string {
    return this.nodePrefix + nodeId;
  }

  async add(region: string, nodeId: string, member: string, expiresAt: number): Promise<boolean> {
    const key = this.nodeKey(nodeId);
    const res = await this.redis
      .multi()
      .zadd(key, expiresAt, member)
      .pexpire(key, this.ttlMs * 2)
      .hset(this.indexKey, nodeId, region)
      .exec();
    if (!res) throw new Error('presence: the Redis transaction was aborted');
    const [err, added] = res[0]!;
    if (err) throw err;
    return Number(added) === 1;
  }

  async remove(nodeId: string, member: string): Promise<boolean> {
    return (await this.redis.zrem(this.nodeKey(nodeId), member)) === 1;
  }

  async refresh(nodeIds: string[], member: string, expiresAt: number): Promise<void> {
    if (!nodeIds.length) return;
    const p = this.redis.pipeline();
    for (const id of nodeIds) {
      p.zadd(this.nodeKey(id), 'XX', expiresAt, member);
      p.pexpire(this.nodeKey(id), this.ttlMs * 2);
    }
    await p.exec();
  }

  async count(nodeId: string, now: number): Promise<number> {
    return this.redis.zcount(this.nodeKey(nodeId), `(${now}`, '+inf');
  }

  async sweep(now: number): Promise<{ region: string; nodeId: string }[]> {
    const index = await this.redis.hgetall(this.indexKey);
    const changed: { region: string; nodeId: string }[] = [];
    for (const [nodeId, region] of Object.entries(index)) {
      const key = this.nodeKey(nodeId);
      const removed = await this.redis.zremrangebyscore(key, '-inf', now);
      if (removed > 0) changed.push({ region, nodeId });
      if ((await this.redis.zcard(key)) === 0) await this.redis.hdel(this.indexKey, nodeId);
    }
    return changed;
  }

  async close(): Promise<void> {}
}

export interface PresenceOptions {
  /** How long a look lasts without a refresh (the heartbeat refreshes it). */
  ttlMs: number;
  /** How often expired looks are dropped. */
  sweepMs: number;
}

export type PresenceBroadcast = (region: string, nodeId: string, count: number) => void;

/** The presence of one server: its clients' looks, and the broadcast of every count change. */
export class Presence {
  /** Names this server's members (several servers may share one Redis). */
  private readonly instance = randomBytes(6).toString('hex');
  private readonly lastCount = new Map<string, number>();
  /** One announcement at a time per node, so counts are broadcast in the order they were read. */
  private readonly announcing = new Map<string, Promise<void>>();
  private sweeper: NodeJS.Timeout | undefined;
  private unsubscribe: Unsubscribe | undefined;

  constructor(
    private readonly store: PresenceStore,
    private readonly bus: Bus,
    private readonly broadcast: PresenceBroadcast,
    private readonly logger: Logger,
    private readonly options: PresenceOptions,
  ) {}

  async start(): Promise<void> {
    if (this.store.shared) {
      this.unsubscribe = await this.bus.subscribePrefix(PRESENCE_PREFIX, (m, channel) => {
        const region = regionOfChannel(channel);
        try {
          const { nodeId } = JSON.parse(typeof m === 'string' ? m : m.toString('utf8')) as {
            nodeId?: unknown;
          };
          if (region && typeof nodeId === 'string') void this.announce(region, nodeId);
        } catch {
          // not ours
        }
      });
    }
    this.sweeper = setInterval(() => void this.sweep(), this.options.sweepMs);
    this.sweeper.unref();
  }

  /** The member name of a client of this server. */
  member(clientId: string): string {
    return `${this.instance}:${clientId}`;
  }

  async look(region: string, nodeId: string, member: string): Promise<void> {
    if (await this.store.add(region, nodeId, member, Date.now() + this.options.ttlMs))
      await this.changed(region, nodeId);
  }

  async unlook(region: string, nodeId: string, member: string): Promise<void> {
    if (await this.store.remove(nodeId, member)) await this.changed(region, nodeId);
  }

  async refresh(nodeIds: string[], member: string): Promise<void> {
    await this.store.refresh(nodeIds, member, Date.now() + this.options.ttlMs);
  }

  /** How many clients look at the node now. */
  count(nodeId: string): Promise<number> {
    return this.store.count(nodeId, Date.now());
  }

  /** A count changed: tell every server (through the bus when the store is shared), or just this one. */
  private async changed(region: string, nodeId: string): Promise<void> {
    if (this.store.shared) {
      try {
        await this.bus.publish(presenceChannel(region), JSON.stringify({ nodeId }));
        return;
      } catch (err) {
        this.logger.debug({ component: 'live' }, `presence change not sent on the bus: ${errorMessage(err)}`);
      }
    }
    await this.announce(region, nodeId);
  }

  /** Reads the count and broadcasts it to this server's subscribers of the region when it differs. */
  private announce(region: string, nodeId: string): Promise<void> {
    const key = `${region}\u0000${nodeId}`;
    const next = (this.announcing.get(key) ?? Promise.resolve()).then(() => this.announceNow(region, nodeId));
    this.announcing.set(key, next);
    void next.finally(() => {
      if (this.announcing.get(key) === next) this.announcing.delete(key);
    });
    return next;
  }

  private async announceNow(region: string, nodeId: string): Promise<void> {
    let count: number;
    try {
      count = await this.count(nodeId);
    } catch (err) {
      this.logger.debug({ component: 'live' }, `presence count unavailable: ${errorMessage(err)}`);
      return;
    }
    const key = `${region}\u0000${nodeId}`;
    if ((this.lastCount.get(key) ?? 0) === count) return;
    if (count === 0) this.lastCount.delete(key);
    else this.lastCount.set(key, count);
    this.broadcast(region, nodeId, count);
  }

  private async sweep(): Promise<void> {
    try {
      for (const { region, nodeId } of await this.store.sweep(Date.now())) await this.changed(region, nodeId);
    } catch (err) {
      this.logger.debug({ component: 'live' }, `presence sweep failed: ${errorMessage(err)}`);
    }
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.unsubscribe?.().catch(() => {});
    await this.store.close();
  }
}
