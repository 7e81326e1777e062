/**
 * In-process adapter of the Cache port (embedded mode), and the bounded store the Redis adapter keeps in
 * front of Redis. Values are JSON text, so every `get` hands out a fresh copy, as Redis does. Expiry is
 * checked on read against the injected clock (no timers); the least recently used entry goes first when
 * the store is full. Eviction forgets idempotency keys and rate-limit windows early, so size `maxEntries`
 * above the number of live keys.
 */
import type { Logger, Metrics } from '@switchyard/kernel';
import type { Cache } from './port.ts';
import { decode, encode, hitRecorder, toMs } from './values.ts';

export interface LocalEntry {
  readonly value: string;
  readonly expiresAtMs: number;
}

/** A synchronous LRU map of JSON text with absolute expiry times. */
export interface LocalStore {
  /** The live entry, marked most recently used; expired entries are dropped, never returned. */
  get(key: string): LocalEntry | undefined;
  set(key: string, value: string, expiresAtMs: number): void;
  delete(key: string): void;
  clear(): void;
  readonly size: number;
}

export function createLocalStore(options: { clock: () => number; maxEntries: number }): LocalStore {
  const { clock, maxEntries } = options;
  if (!(maxEntries >= 1)) throw new RangeError(`maxEntries must be at least 1; got ${maxEntries}`);
  // A Map iterates in insertion order: re-inserting on use keeps the least recently used first.
  const entries = new Map<string, LocalEntry>();
  return {
    get(key) {
      const entry = entries.get(key);
      if (!entry) return undefined;
      entries.delete(key);
      if (entry.expiresAtMs <= clock()) return undefined;
      entries.set(key, entry);
      return entry;
    },
    set(key, value, expiresAtMs) {
      entries.delete(key);
      entries.set(key, { value, expiresAtMs });
      if (entries.size > maxEntries) {
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
    },
    delete(key) {
      entries.delete(key);
    },
    clear() {
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}

export interface MemoryCacheOptions {
  /** Milliseconds since the epoch; Date.now by default. */
  clock?: () => number;
  /** Entries kept before the least recently used is evicted; 100,000 by default. */
  maxEntries?: number;
  metrics?: Metrics;
  /** Where errors thrown by subscribers go; without it they are rethrown (an uncaught exception). */
  log?: Logger;
}

export function createMemoryCache(options: MemoryCacheOptions = {}): Cache {
  const clock = options.clock ?? Date.now;
  const store = createLocalStore({ clock, maxEntries: options.maxEntries ?? 100_000 });
  const recordRead = hitRecorder(options.metrics, 'memory');
  const channels = new Map<string, Set<(message: string) => void>>();
  let closed = false;

  // Async like the rest of the port, so a closed cache rejects rather than throws.
  const open = async () => {
    if (closed) throw new Error('cache is closed');
  };

  function deliver(
    listeners: Set<(message: string) => void>,
    listener: (message: string) => void,
    message: string,
  ) {
    // A listener removed between publish and delivery gets nothing, as after a confirmed UNSUBSCRIBE.
    if (!listeners.has(listener)) return;
    try {
      listener(message);
    } catch (error) {
      if (!options.log) throw error;
      options.log.error({ err: error }, 'cache subscriber failed');
    }
  }

  return {
    async get<T>(key: string) {
      await open();
      const entry = store.get(key);
      recordRead(entry !== undefined);
      return entry ? decode<T>(entry.value) : undefined;
    },
    async set(key, value, ttlSeconds) {
      await open();
      store.set(key, encode(value), clock() + toMs(ttlSeconds, 'ttlSeconds'));
    },
    async setIfAbsent(key, value, ttlSeconds) {
      await open();
      const json = encode(value);
      const ttlMs = toMs(ttlSeconds, 'ttlSeconds');
      if (store.get(key)) return false;
      store.set(key, json, clock() + ttlMs);
      return true;
    },
    async delete(...keys) {
      await open();
      for (const key of keys) store.delete(key);
    },
    async increment(key, windowSeconds) {
      await open();
      const windowMs = toMs(windowSeconds, 'windowSeconds');
      const now = clock();
      const entry = store.get(key);
      const count = entry ? Number(entry.value) + 1 : 1;
      // Same refusal as Redis INCR on a value that is not an integer.
      if (!Number.isSafeInteger(count)) throw new Error(`${key} does not hold an integer counter`);
      const expiresAtMs = entry ? entry.expiresAtMs : now + windowMs;
      store.set(key, String(count), expiresAtMs);
      return { count, resetInMs: expiresAtMs - now };
    },
    async publish(channel, message) {
      await open();
      const listeners = channels.get(channel);
      if (!listeners) return;
      for (const listener of listeners) queueMicrotask(() => deliver(listeners, listener, message));
    },
    async subscribe(channel, listener) {
      await open();
      let listeners = channels.get(channel);
      if (!listeners) {
        listeners = new Set();
        channels.set(channel, listeners);
      }
      // A wrapper per call, so subscribing one function twice needs two unsubscribes, as with Redis.
      const subscription = (message: string) => listener(message);
      listeners.add(subscription);
      const subscribed = listeners;
      return async () => {
        subscribed.delete(subscription);
        if (subscribed.size === 0 && channels.get(channel) === subscribed) channels.delete(channel);
      };
    },
    async ping() {
      return !closed;
    },
    async close() {
      closed = true;
      store.clear();
      for (const listeners of channels.values()) listeners.clear();
      channels.clear();
    },
  };
}
