// Prometheus metrics (prom-client), one registry per server: request latency by route, WebSocket connections,
// deltas sent, bus lag, tile cache hits and misses, plus the process's default metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  /** Request latency in seconds by route pattern (e.g. `/tiles/:region/:layer/:z/:x/:y.mvt`), method, status. */
  httpDuration: Histogram<'route' | 'method' | 'status'>;
  wsConnections: Gauge;
  deltasSent: Counter;
  /** Seconds from an event's commit to its arrival from the bus. */
  busLag: Histogram;
  tileCacheHits: Counter;
  tileCacheMisses: Counter;
  /** Records one finished request (call once per response). */
  observe(route: string, method: string, status: number, startNs: bigint): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'weft_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const tileCacheHits = new Counter({
    name: 'weft_tile_cache_hits_total',
    help: 'Tile and directory reads answered from memory',
    registers: [registry],
  });
  const tileCacheMisses = new Counter({
    name: 'weft_tile_cache_misses_total',
    help: 'Tile and directory reads that went to the blob store',
    registers: [registry],
  });
  new Gauge({
    name: 'weft_tile_cache_hit_ratio',
    help: 'Hits / (hits + misses) of the tile cache since start',
    registers: [registry],
    async collect() {
      const h = (await tileCacheHits.get()).values[0]?.value ?? 0;
      const m = (await tileCacheMisses.get()).values[0]?.value ?? 0;
      this.set(h + m === 0 ? 0 : h / (h + m));
    },
  });
  return {
    registry,
    httpDuration,
    wsConnections: new Gauge({
      name: 'weft_ws_connections',
      help: 'Open WebSocket connections on /live',
      registers: [registry],
    }),
    deltasSent: new Counter({
      name: 'weft_deltas_sent_total',
      help: 'Delta messages sent to clients (WebSocket and HTTP)',
      registers: [registry],
    }),
    busLag: new Histogram({
      name: 'weft_bus_lag_seconds',
      help: 'Seconds from an event commit to its delta arriving from the bus',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: [registry],
    }),
    tileCacheHits,
    tileCacheMisses,
    observe(route, method, status, startNs) {
      const s = Number(process.hrtime.bigint() - startNs) / 1e9;
      httpDuration.observe({ route, method, status: String(status) }, s);
    },
  };
}
