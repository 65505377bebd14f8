// Live deltas: the outbox publisher (every server runs one; one at a time publishes), the hub that fans the bus's
// deltas out, `WS /live`, presence, and the HTTP fallback `GET /api/deltas` with `GET /api/config`.
// Services for the other modules: 'outbox' ({ nudge() } — call it after a commit) and 'presence'
// ({ count(nodeId) }). Look them up when handling a request: the API module is built before this one.
import { provide, redisKeyPrefix, type ServeContext, type ServeModule } from '../context.js';
import { LiveHttp, type HttpLiveOptions } from './http.js';
import { LiveHub, type HubOptions } from './hub.js';
import { MemoryPresenceStore, Presence, RedisPresenceStore, type PresenceOptions } from './presence.js';
import { OutboxPublisher, type PublisherOptions } from './publisher.js';
import { LiveSockets, type SocketOptions } from './ws.js';

export interface OutboxService {
  /** Publish now: call after committing events. */
  nudge(): void;
}

export interface PresenceService {
  /** How many clients look at the node now (all servers when Redis is configured). */
  count(nodeId: string): Promise<number>;
}

export interface LiveOptions {
  publisher: Partial<PublisherOptions>;
  hub: Partial<HubOptions>;
  sockets: Partial<SocketOptions>;
  http: Partial<HttpLiveOptions>;
  presence: Partial<PresenceOptions>;
}

export interface LiveModule extends ServeModule {
  readonly publisher: OutboxPublisher;
  readonly hub: LiveHub;
  readonly sockets: LiveSockets;
  readonly presence: Presence;
}

export function createLiveModule(ctx: ServeContext, options: Partial<LiveOptions> = {}): LiveModule {
  const heartbeatMs = options.sockets?.heartbeatMs ?? 30_000;
  const presenceOptions: PresenceOptions = {
    ttlMs: Math.max(heartbeatMs * 2.5, 5_000),
    sweepMs: 10_000,
    ...options.presence,
  };
  const publisher = new OutboxPublisher(ctx.db, ctx.bus, ctx.logger, options.publisher);
  const hub = new LiveHub(ctx.db, ctx.bus, ctx.metrics, ctx.logger, options.hub);
  const store = ctx.redis
    ? new RedisPresenceStore(ctx.redis, presenceOptions.ttlMs, redisKeyPrefix(ctx.config.namespace))
    : new MemoryPresenceStore();
  let sockets: LiveSockets | undefined;
  const presence = new Presence(
    store,
    ctx.bus,
    (region, nodeId, count) => sockets?.broadcastPresence(region, nodeId, count),
    ctx.logger,
    presenceOptions,
  );
  sockets = new LiveSockets(ctx.config.websockets, ctx.db, hub, presence, ctx.metrics, ctx.logger, {
    ...options.sockets,
    heartbeatMs,
  });
  const http = new LiveHttp(ctx.config.websockets, ctx.db, hub, ctx.metrics, options.http);

  provide<OutboxService>(ctx, 'outbox', { nudge: () => publisher.nudge() });
  provide<PresenceService>(ctx, 'presence', { count: (nodeId) => presence.count(nodeId) });

  const live = sockets;
  return {
    name: 'live',
    publisher,
    hub,
    sockets: live,
    presence,
    async start() {
      await hub.start();
      await presence.start();
      live.start();
      publisher.start();
    },
    routes(router) {
      http.routes(router);
    },
    upgrade(req, socket, head) {
      return live.upgrade(req, socket, head);
    },
    async close() {
      await live.close();
      http.close();
      await hub.close();
      await presence.close();
      await publisher.close();
    },
  };
}
