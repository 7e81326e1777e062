/** Helpers both adapters share, so they agree on encoding, TTL rules and hit-rate accounting. */
import type { Metrics } from '@switchyard/kernel';

/** JSON text of `value`; what both adapters store, so a caller's later mutation cannot reach the cache. */
export function encode(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError(`cache values must be JSON; got ${typeof value}`);
  return json;
}

export function decode<T>(json: string): T {
  return JSON.parse(json) as T;
}

/** Whole milliseconds (Redis PX/PEXPIRE take integers); fractions of a second are allowed, zero is not. */
export function toMs(seconds: number, what: string): number {
  const ms = Math.round(seconds * 1000);
  if (!Number.isFinite(ms) || ms < 1) {
    throw new RangeError(`${what} must be a positive number; got ${seconds}`);
  }
  return ms;
}

// Keyed by the gauge so caches sharing one registry report one rate per layer, not the last writer's.
const tallies = new WeakMap<object, Map<string, { hits: number; misses: number }>>();

/** Records reads of one layer and sets `cache_hit_rate{layer}` to hits / (hits + misses) since start. */
export function hitRecorder(metrics: Metrics | undefined, layer: string): (hit: boolean) => void {
  if (!metrics) return () => {};
  let layers = tallies.get(metrics.cacheHitRate);
  if (!layers) {
    layers = new Map();
    tallies.set(metrics.cacheHitRate, layers);
  }
  let tally = layers.get(layer);
  if (!tally) {
    tally = { hits: 0, misses: 0 };
    layers.set(layer, tally);
  }
  const counts = tally;
  const gauge = metrics.cacheHitRate.labels({ layer });
  return (hit) => {
    if (hit) counts.hits += 1;
    else counts.misses += 1;
    gauge.set(counts.hits / (counts.hits + counts.misses));
  };
}
