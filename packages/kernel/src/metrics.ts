import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpRequestsTotal: Counter<'method' | 'route' | 'status'>;
  httpRequestDurationSeconds: Histogram<'method' | 'route' | 'status'>;
  /** Share of cache reads answered from the cache since start, per layer (`local`, `redis`, `memory`). */
  cacheHitRate: Gauge<'layer'>;
  /** Commands sent to Redis, by command and outcome (`ok`, `error`). */
  redisOperationsTotal: Counter<'command' | 'outcome'>;
}

/** One registry per process, with the metric names the source systems document. */
export function createMetrics(options: { defaultLabels?: Record<string, string> } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequestsTotal: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route template and status code',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpRequestDurationSeconds: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from request received to response sent, by method, route template and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    cacheHitRate: new Gauge({
      name: 'cache_hit_rate',
      help: 'Share of cache reads answered from the cache since start (0 to 1), by layer',
      labelNames: ['layer'],
      registers: [registry],
    }),
    redisOperationsTotal: new Counter({
      name: 'redis_operations_total',
      help: 'Commands sent to Redis, by command and outcome',
      labelNames: ['command', 'outcome'],
      registers: [registry],
    }),
  };
}
