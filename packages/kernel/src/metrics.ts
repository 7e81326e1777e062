import { AggregatorRegistry, Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpRequestsTotal: Counter<'method' | 'route' | 'status'>;
  httpRequestDurationSeconds: Histogram<'method' | 'route' | 'status'>;
  /** Share of cache reads answered from the cache since start, per layer (`local`, `redis`, `memory`). */
  cacheHitRate: Gauge<'layer'>;
  /** Commands sent to Redis, by command and outcome (`ok`, `error`). */
  redisOperationsTotal: Counter<'command' | 'outcome'>;
  /**
   * Registries of other threads of this process, asked for their figures on every scrape and merged in
   * (counters and histograms summed), so one `/metrics` covers the whole process.
   */
  linked: (() => Promise<MetricsSnapshot>)[];
}

/** A registry's figures as data (`getMetricsAsJSON`), which can cross between threads. */
export type MetricsSnapshot = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** One registry per process, with the metric names the source systems document. */
export function createMetrics(
  options: {
    defaultLabels?: Record<string, string>;
    /** Process metrics (CPU, memory, event loop); off in a thread whose figures another thread exposes. */
    processMetrics?: boolean;
  } = {},
): Metrics {
  const registry = new Registry();
  if (options.defaultLabels) registry.setDefaultLabels(options.defaultLabels);
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return {
    registry,
    linked: [],
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

/** Prometheus text of `metrics` and of every registry linked to it. */
export async function metricsText(metrics: Metrics): Promise<string> {
  if (metrics.linked.length === 0) return metrics.registry.metrics();
  const snapshots = await Promise.all([
    metrics.registry.getMetricsAsJSON(),
    ...metrics.linked.map((snapshot) => snapshot()),
  ]);
  return AggregatorRegistry.aggregate(snapshots).metrics();
}
