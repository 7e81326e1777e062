/**
 * Redis adapter of the Cache port (scale-out), with an in-process first level (L1) in front of it.
 *
 * - Two connections: one for commands, one in subscriber mode. `keyPrefix` goes in front of every key and
 *   every channel, so installations and tests can share one Redis.
 * - `get` answers from L1 when it can, without a round trip; otherwise one script returns the value with
 *   its remaining lifetime, and L1 keeps it for at most min(that lifetime, `localTtlMs`). Concurrent misses
 *   of one key share one read.
 * - `set` and `delete` run in a MULTI together with a PUBLISH of the keys on `<keyPrefix>cache:invalidate`,
 *   so the write and its invalidation cannot be separated. Every instance subscribes to that channel and
 *   drops those keys from its L1; a read still in flight for such a key is not stored in L1 either.
 * - L1 is only trusted while the invalidation subscription is confirmed: when the subscriber connection
 *   drops, L1 is emptied and stays unused until the subscription is confirmed again, since invalidations
 *   published meanwhile are lost (Redis pub/sub is at most once).
 * - `increment` is one Lua script (INCRBY, PEXPIRE on the first hit, PTTL); it does not invalidate other
 *   instances' L1, so counters are read through `increment`, not `get`. Increments of one key that arrive
 *   while one is in flight are sent together as one INCRBY when it returns: every caller still gets its
 *   own exact count from Redis, but a busy key (one API key's rate limit under load) costs one command
 *   per round trip instead of one per request.
 * - Commands are bounded by `commandTimeoutMs`. Before the first connection they wait for it (start-up
 *   must not race the socket) until a connection attempt fails; after it, the offline queue is off, so
 *   while Redis is unreachable commands fail at once instead of piling up, and commands in flight when a
 *   connection drops fail rather than being sent again later. ioredis reconnects with backoff (50 ms more
 *   per attempt, up to 2 s).
 * - `ping` is true when Redis answers and the invalidation subscription is confirmed (it waits up to
 *   `commandTimeoutMs` for that after a reconnect): only then is the cache coherent across instances.
 */
import { randomUUID } from 'node:crypto';
import type { Logger, Metrics } from '@switchyard/kernel';
import { type ChainableCommander, Redis } from 'ioredis';
import { createLocalStore } from './memory.ts';
import type { Cache } from './port.ts';
import { decode, encode, hitRecorder, toMs } from './values.ts';

export interface RedisCacheOptions {
  /** `redis://[user:password@]host:port[/db]`. */
  url: string;
  /** Goes in front of every key and channel, e.g. `switchyard:`. */
  keyPrefix: string;
  log: Logger;
  metrics?: Metrics;
  /**
   * Longest an L1 copy is served; 5,000 by default, 0 turns L1 off. Invalidation messages keep L1 in step,
   * so this only bounds staleness when a change bypasses them (another instance's `increment`, a write
   * made to Redis directly). Five seconds still means a hot key is read from Redis at most once per five
   * seconds per process.
   */
  localTtlMs?: number;
  /** L1 entries kept before the least recently used is evicted; 10,000 by default. */
  localMaxEntries?: number;
  /** A command without a reply within this time rejects; 1,000 by default. */
  commandTimeoutMs?: number;
}

/** The channel (after the key prefix) that carries invalidations; reserved. */
export const INVALIDATION_CHANNEL = 'cache:invalidate';

// Atomic, so the lifetime belongs to the value read.
const GET_SCRIPT = `local value = redis.call('GET', KEYS[1])
if not value then return nil end
return {value, redis.call('PTTL', KEYS[1])}`;

// One script, so concurrent first hits from several instances cannot open two windows, and a counter
// without an expiry (its first hit) always gets one.
const INCREMENT_SCRIPT = `local count = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}`;

interface Hit {
  count: number;
  resetInMs: number;
}

interface IncrementCaller {
  resolve(hit: Hit): void;
  reject(error: unknown): void;
}

interface ScriptedRedis extends Redis {
  cacheGet(key: string): Promise<[string, number] | null>;
  cacheIncrement(key: string, windowMs: number, by: number): Promise<[number, number]>;
}

type ExecReply = [Error | null, unknown][] | null;

function execOk(replies: ExecReply): void {
  if (!replies) throw new Error('transaction aborted');
  for (const [error] of replies) if (error) throw error;
}

export function createRedisCache(options: RedisCacheOptions): Cache {
  const { keyPrefix, log, metrics } = options;
  const localTtlMs = options.localTtlMs ?? 5_000;
  const commandTimeoutMs = options.commandTimeoutMs ?? 1_000;
  const invalidationChannel = `${keyPrefix}${INVALIDATION_CHANNEL}`;
  // Tags this instance's invalidations: it has already applied them when its write was acknowledged, and
  // applying its own echo again would evict copies read since.
  const instanceId = randomUUID();
  const local = createLocalStore({ clock: Date.now, maxEntries: options.localMaxEntries ?? 10_000 });
  const recordLocal = hitRecorder(metrics, 'local');
  const recordRedis = hitRecorder(metrics, 'redis');
  let closing = false;

  function connect(role: string): Redis {
    const redis = new Redis(options.url, {
      commandTimeout: commandTimeoutMs,
      // A lost connection fails its commands at once; none is sent again after its caller saw it fail.
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectionName: `switchyard-cache-${role}`,
    });
    let down = false;
    redis.on('ready', () => {
      redis.options.enableOfflineQueue = false;
      if (down) log.info({ role }, 'redis connection restored');
      down = false;
    });
    // One warning per outage: ioredis reports every failed reconnect attempt.
    const lost = (error?: Error) => {
      if (closing || down) return;
      down = true;
      log.warn({ err: error, role }, 'redis connection lost; reconnecting');
    };
    redis.on('error', lost);
    redis.on('close', () => lost());
    return redis;
  }

  const client = connect('commands') as ScriptedRedis;
  client.defineCommand('cacheGet', { numberOfKeys: 1, lua: GET_SCRIPT });
  client.defineCommand('cacheIncrement', { numberOfKeys: 1, lua: INCREMENT_SCRIPT });
  const subscriber = connect('subscriber');

  // Per key: the increments that arrived while one was in flight; present while one is in flight.
  const nextIncrements = new Map<string, IncrementCaller[]>();

  /** Sends `callers` as one INCRBY, then whoever queued meanwhile, until nobody waits for `key`. */
  async function sendIncrements(key: string, windowMs: number, first: IncrementCaller[]): Promise<void> {
    for (let callers = first; callers.length > 0; ) {
      try {
        const by = callers.length;
        const [total, resetInMs] = await command('incr', () =>
          client.cacheIncrement(keyOf(key), windowMs, by),
        );
        // Redis counted the batch at once; each caller gets the count its own increment reached.
        for (const [index, caller] of callers.entries()) {
          caller.resolve({ count: total - by + 1 + index, resetInMs });
        }
      } catch (error) {
        for (const caller of callers) caller.reject(error);
      } finally {
        forget([key]);
      }
      callers = nextIncrements.get(key) ?? [];
      if (callers.length === 0) nextIncrements.delete(key);
      else nextIncrements.set(key, []);
    }
  }

  async function command<T>(name: string, send: () => Promise<T>): Promise<T> {
    try {
      const reply = await send();
      metrics?.redisOperationsTotal.inc({ command: name, outcome: 'ok' });
      return reply;
    } catch (error) {
      metrics?.redisOperationsTotal.inc({ command: name, outcome: 'error' });
      throw new Error(`redis ${name} failed: ${(error as Error).message}`, { cause: error });
    }
  }

  const keyOf = (key: string) => `${keyPrefix}${key}`;
  const channelOf = (channel: string) => {
    if (channel === INVALIDATION_CHANNEL) throw new Error(`channel ${channel} is reserved for the cache`);
    return `${keyPrefix}${channel}`;
  };

  // L1 is trusted only while invalidations arrive; `epoch` tells a confirmation of an older connection.
  let localLive = false;
  let epoch = 0;
  // Settles when the invalidation subscription is confirmed; replaced by a pending one when it is lost.
  let invalidationsFlowing = Promise.withResolvers<void>();
  // Reads from Redis in flight; `stale` once an invalidation of their key arrived, so they do not fill L1.
  const reads = new Map<string, { stale: boolean; raw?: Promise<string | undefined> }>();

  function forget(keys: Iterable<string>): void {
    for (const key of keys) {
      local.delete(key);
      const read = reads.get(key);
      if (read) {
        read.stale = true;
        reads.delete(key);
      }
    }
  }

  function forgetAll(): void {
    local.clear();
    for (const read of reads.values()) read.stale = true;
    reads.clear();
  }

  subscriber.on('ready', () => {
    const confirmedFor = epoch;
    // ioredis resubscribes by itself after a reconnect but does not say when Redis confirmed it.
    command('subscribe', () => subscriber.subscribe(invalidationChannel)).then(
      () => {
        if (confirmedFor !== epoch || closing) return;
        localLive = true;
        invalidationsFlowing.resolve();
      },
      (error: Error) =>
        log.debug({ err: error }, 'invalidation subscription not confirmed; retried on reconnect'),
    );
  });
  subscriber.on('close', () => {
    epoch += 1;
    if (localLive) invalidationsFlowing = Promise.withResolvers<void>();
    localLive = false;
    forgetAll();
  });

  /** False when the invalidation subscription is not confirmed within the command timeout. */
  async function subscribed(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), commandTimeoutMs);
    });
    try {
      return await Promise.race([invalidationsFlowing.promise.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  function quit(redis: Redis): Promise<void> {
    if (redis.status !== 'ready') {
      redis.disconnect();
      return Promise.resolve();
    }
    return redis.quit().then(
      () => {},
      () => redis.disconnect(),
    );
  }

  const channels = new Map<string, { listeners: Set<(message: string) => void>; ready: Promise<void> }>();
  subscriber.on('message', (channel: string, message: string) => {
    if (channel === invalidationChannel) {
      try {
        const { from, keys } = JSON.parse(message) as { from: string; keys: string[] };
        if (from !== instanceId) forget(keys);
      } catch (error) {
        log.warn({ err: error, message }, 'malformed cache invalidation ignored');
      }
      return;
    }
    for (const listener of channels.get(channel)?.listeners ?? []) {
      try {
        listener(message);
      } catch (error) {
        log.error({ err: error, channel }, 'cache subscriber failed');
      }
    }
  });

  async function fetch(key: string, read: { stale: boolean }): Promise<string | undefined> {
    const sentAtMs = Date.now();
    try {
      const reply = await command('get', () => client.cacheGet(keyOf(key)));
      if (!reply) return undefined;
      const [raw, ttlMs] = reply;
      // Counting the lifetime from the send keeps the L1 copy from outliving the Redis key.
      if (localLive && !read.stale && localTtlMs > 0 && ttlMs > 0) {
        local.set(key, raw, sentAtMs + Math.min(ttlMs, localTtlMs));
      }
      return raw;
    } finally {
      if (reads.get(key) === read) reads.delete(key);
    }
  }

  function readThrough(key: string): Promise<string | undefined> {
    const pending = reads.get(key)?.raw;
    if (pending) return pending;
    const read: { stale: boolean; raw?: Promise<string | undefined> } = { stale: false };
    reads.set(key, read);
    read.raw = fetch(key, read);
    return read.raw;
  }

  async function write(name: string, keys: string[], send: (multi: ChainableCommander) => void) {
    const multi = client.multi();
    send(multi);
    multi.publish(invalidationChannel, JSON.stringify({ from: instanceId, keys }));
    try {
      await command(name, () => multi.exec().then(execOk));
    } finally {
      // Also after a failure: the write may have happened without its reply reaching us.
      forget(keys);
    }
  }

  return {
    get<T>(key: string): Promise<T | undefined> {
      const entry = local.get(key);
      recordLocal(entry !== undefined);
      if (entry) return Promise.resolve(decode<T>(entry.value));
      return readThrough(key).then((raw) => {
        recordRedis(raw !== undefined);
        return raw === undefined ? undefined : decode<T>(raw);
      });
    },
    async set(key, value, ttlSeconds) {
      const raw = encode(value);
      const ttlMs = toMs(ttlSeconds, 'ttlSeconds');
      await write('set', [key], (multi) => multi.set(keyOf(key), raw, 'PX', ttlMs));
    },
    async setIfAbsent(key, value, ttlSeconds) {
      const raw = encode(value);
      const ttlMs = toMs(ttlSeconds, 'ttlSeconds');
      // No invalidation needed: an absent key cannot be in any L1, whose copies expire before Redis's.
      const stored = await command('set', () => client.set(keyOf(key), raw, 'PX', ttlMs, 'NX'));
      return stored === 'OK';
    },
    async delete(...keys) {
      if (keys.length === 0) return;
      await write('del', keys, (multi) => multi.del(...keys.map(keyOf)));
    },
    async increment(key, windowSeconds) {
      const windowMs = toMs(windowSeconds, 'windowSeconds');
      const { promise, resolve, reject } = Promise.withResolvers<Hit>();
      const waiting = nextIncrements.get(key);
      if (waiting) {
        waiting.push({ resolve, reject });
        return promise;
      }
      nextIncrements.set(key, []);
      void sendIncrements(key, windowMs, [{ resolve, reject }]);
      return promise;
    },
    async publish(channel, message) {
      const name = channelOf(channel);
      await command('publish', () => client.publish(name, message));
    },
    async subscribe(channel, listener) {
      const name = channelOf(channel);
      let subscription = channels.get(name);
      if (!subscription) {
        const created = {
          listeners: new Set<(message: string) => void>(),
          ready: command('subscribe', () => subscriber.subscribe(name)).then(
            () => {},
            (error: unknown) => {
              // Let the next subscribe try again rather than wait on this failure.
              if (channels.get(name) === created) channels.delete(name);
              throw error;
            },
          ),
        };
        channels.set(name, created);
        subscription = created;
      }
      const { listeners, ready } = subscription;
      // A wrapper per call, so subscribing one function twice needs two unsubscribes.
      const own = (message: string) => listener(message);
      listeners.add(own);
      try {
        await ready;
      } catch (error) {
        listeners.delete(own);
        throw error;
      }
      let active = true;
      return async () => {
        if (!active) return;
        active = false;
        listeners.delete(own);
        if (listeners.size > 0 || channels.get(name)?.listeners !== listeners) return;
        channels.delete(name);
        await command('unsubscribe', () => subscriber.unsubscribe(name));
      };
    },
    async ping() {
      try {
        await command('ping', () => client.ping());
      } catch {
        return false;
      }
      // Without invalidations the cache still works but L1 is off; ready means coherent as well.
      return subscribed();
    },
    async close() {
      if (closing) return;
      closing = true;
      localLive = false;
      forgetAll();
      channels.clear();
      await Promise.all([quit(client), quit(subscriber)]);
    },
  };
}
