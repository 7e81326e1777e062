import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as connectTcp, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createRedisCache, type RedisCacheOptions } from '@switchyard/cache/redis';
import { createMetrics } from '@switchyard/kernel';
import { silentLogger } from '@switchyard/testing';
import { createTestRedisPrefix, TEST_REDIS_URL, type TestRedisPrefix } from '@switchyard/testing/redis';
import { Redis } from 'ioredis';

const log = silentLogger();

/** Re-checks `condition` until it holds; connection state has no event the Cache port exposes. */
async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function listen(server: Server, port = 0): Promise<number> {
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return address.port;
}

/** A port on 127.0.0.1 that refuses connections: taken from the kernel, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  server.close();
  await once(server, 'close');
  return port;
}

/** A TCP proxy to the test Redis whose connections a test can cut and let back in, for outages. */
async function startProxy() {
  const target = new URL(TEST_REDIS_URL);
  const sockets = new Set<Socket>();
  const serve = () =>
    createServer((downstream) => {
      const upstream = connectTcp({ host: target.hostname, port: Number(target.port || 6379) });
      for (const socket of [downstream, upstream]) {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        socket.on('error', () => {
          downstream.destroy();
          upstream.destroy();
        });
      }
      downstream.pipe(upstream).pipe(downstream);
    });
  let server = serve();
  const port = await listen(server);
  return {
    port,
    async cut() {
      for (const socket of sockets) socket.destroy();
      if (!server.listening) return;
      server.close();
      await once(server, 'close');
    },
    async restore() {
      server = serve();
      await listen(server, port);
    },
  };
}

describe('redis cache', () => {
  let redis: Redis;
  let namespace: TestRedisPrefix;
  const opened: { close(): Promise<void> }[] = [];
  const open = (options: Partial<RedisCacheOptions> = {}) => {
    const cache = createRedisCache({ url: TEST_REDIS_URL, keyPrefix: namespace.prefix, log, ...options });
    opened.push(cache);
    return cache;
  };

  before(async () => {
    namespace = await createTestRedisPrefix('cache-redis');
    redis = new Redis(TEST_REDIS_URL);
  });
  after(async () => {
    await Promise.all(opened.map((cache) => cache.close()));
    await namespace.cleanup();
    await redis.quit();
  });

  it('puts keyPrefix in front of every key and channel', async () => {
    const cache = open();
    const other = open({ keyPrefix: `${namespace.prefix}other:` });
    await cache.set('k', { a: 1 }, 60);
    assert.equal(await redis.get(`${namespace.prefix}k`), '{"a":1}');
    const ttlMs = await redis.pttl(`${namespace.prefix}k`);
    assert.ok(ttlMs > 59_000 && ttlMs <= 60_000, `pttl ${ttlMs}`);
    assert.equal(await other.get('k'), undefined);

    const heard: string[] = [];
    const { promise, resolve } = Promise.withResolvers<void>();
    await other.subscribe('news', (message) => {
      heard.push(message);
      resolve();
    });
    // One connection publishes both, so `other` would get the first before the second if it heard it.
    await redis.publish(`${namespace.prefix}news`, 'not for other');
    await redis.publish(`${namespace.prefix}other:news`, 'for other');
    await promise;
    assert.deepEqual(heard, ['for other']);
    await assert.rejects(
      cache.subscribe('cache:invalidate', () => {}),
      /reserved/,
    );
  });

  it('answers a repeated get locally, and counts commands and hit rates per layer', async () => {
    const metrics = createMetrics();
    const cache = open({ metrics });
    // Ready means invalidations flow, so from here on reads are kept locally.
    assert.equal(await cache.ping(), true);
    await cache.set('metered', 'v', 60);
    assert.equal(await cache.get('metered'), 'v');
    assert.equal(await cache.get('metered'), 'v');
    assert.equal(await cache.get('metered'), 'v');
    assert.equal(await cache.get('metered-absent'), undefined);
    await assert.rejects(cache.increment('metered', 60), /redis incr failed/);

    const operations = Object.fromEntries(
      (await metrics.redisOperationsTotal.get()).values.map(({ labels, value }) => [
        `${labels.command}/${labels.outcome}`,
        value,
      ]),
    );
    assert.deepEqual(operations, {
      'subscribe/ok': 1,
      'ping/ok': 1,
      'set/ok': 1,
      'get/ok': 2,
      'incr/error': 1,
    });
    const rates = Object.fromEntries(
      (await metrics.cacheHitRate.get()).values.map(({ labels, value }) => [labels.layer, value]),
    );
    assert.deepEqual(rates, { local: 2 / 4, redis: 1 / 2 });
  });

  it('sends concurrent increments of one key together, each still counted once, in far fewer commands', async () => {
    const metrics = createMetrics();
    const cache = open({ metrics });
    const hits = await Promise.all(Array.from({ length: 300 }, () => cache.increment('busy-counter', 60)));
    assert.deepEqual(
      hits.map((hit) => hit.count).sort((a, b) => a - b),
      Array.from({ length: 300 }, (_, n) => n + 1),
    );
    const [incr] = (await metrics.redisOperationsTotal.get()).values.filter(
      ({ labels }) => labels.command === 'incr',
    );
    // The first goes alone; the rest queue behind it and go as one (or a few, on a slow machine).
    assert.ok(incr && incr.value >= 2 && incr.value <= 10, `incr commands: ${incr?.value}`);
    // Another key is not held back by this one's batch.
    assert.equal((await cache.increment('quiet-counter', 60)).count, 1);
  });

  it('reads Redis every time when the local layer is off', async () => {
    const cache = open({ localTtlMs: 0 });
    assert.equal(await cache.ping(), true);
    await cache.set('unlayered', 'v1', 60);
    assert.equal(await cache.get('unlayered'), 'v1');
    // A write that bypasses the cache, so no invalidation is published.
    await redis.set(`${namespace.prefix}unlayered`, '"v2"', 'EX', 60);
    assert.equal(await cache.get('unlayered'), 'v2');
  });

  it('rejects at once and reports not ready when nothing listens at the address', async () => {
    const port = await closedPort();
    const cache = open({ url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 300 });
    const startedAtMs = Date.now();
    await Promise.all([
      assert.rejects(cache.get('k'), /redis get failed/),
      assert.rejects(cache.set('k', 1, 60), /redis set failed/),
      assert.rejects(cache.increment('k', 60), /redis incr failed/),
      assert.rejects(
        cache.subscribe('c', () => {}),
        /redis subscribe failed/,
      ),
      (async () => assert.equal(await cache.ping(), false))(),
    ]);
    const elapsedMs = Date.now() - startedAtMs;
    assert.ok(elapsedMs < 2_000, `took ${elapsedMs} ms`);
  });

  it('rejects after the command timeout when the server accepts connections but never answers', async () => {
    const silent = createServer(() => {});
    const accepted = new Set<Socket>();
    silent.on('connection', (socket) => accepted.add(socket));
    const port = await listen(silent);
    const cache = open({ url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 300 });
    try {
      const startedAtMs = Date.now();
      await Promise.all([
        assert.rejects(cache.get('k'), /redis get failed: Command timed out/),
        assert.rejects(cache.increment('k', 60), /redis incr failed: Command timed out/),
        (async () => assert.equal(await cache.ping(), false))(),
      ]);
      const elapsedMs = Date.now() - startedAtMs;
      assert.ok(elapsedMs >= 250 && elapsedMs < 2_000, `took ${elapsedMs} ms`);
    } finally {
      await cache.close();
      for (const socket of accepted) socket.destroy();
      silent.close();
    }
  });

  it('fails fast during an outage, then reconnects without serving what it missed', async () => {
    const proxy = await startProxy();
    const metrics = createMetrics();
    const cache = open({ url: `redis://127.0.0.1:${proxy.port}`, localTtlMs: 60_000, metrics });
    const writer = open();
    try {
      assert.equal(await cache.ping(), true);
      const heard: string[] = [];
      const { promise: heardAfter, resolve } = Promise.withResolvers<void>();
      await cache.subscribe('outage-news', (message) => {
        heard.push(message);
        resolve();
      });
      // Written by `cache` itself, so no invalidation from elsewhere can evict the copy it keeps.
      await cache.set('outage', 'before', 60);
      assert.equal(await cache.get('outage'), 'before');
      assert.equal(await cache.get('outage'), 'before');
      const [local] = (await metrics.cacheHitRate.get()).values.filter(
        ({ labels }) => labels.layer === 'local',
      );
      assert.equal(local?.value, 1 / 2, 'the second read came from the local copy');

      await proxy.cut();
      await until(async () => !(await cache.ping()), 'the cache to notice the outage');
      const startedAtMs = Date.now();
      await assert.rejects(cache.get('outage-other'), /redis get failed/);
      await assert.rejects(cache.set('outage-other', 1, 60), /redis set failed/);
      assert.ok(Date.now() - startedAtMs < 250, 'failed at once, not after the command timeout');
      // Its invalidation is lost on the way to `cache`, which held 'before' locally.
      await writer.set('outage', 'during', 60);

      await proxy.restore();
      await until(() => cache.ping(), 'the cache to reconnect');
      assert.equal(await cache.get('outage'), 'during');
      await writer.publish('outage-news', 'after');
      await heardAfter;
      assert.deepEqual(heard, ['after']);
    } finally {
      await cache.close();
      await proxy.cut();
    }
  });
});

describe('createTestRedisPrefix', () => {
  it('cleans up every key under its prefix and nothing else', async () => {
    const [mine, theirs] = await Promise.all([
      createTestRedisPrefix('cleanup'),
      createTestRedisPrefix('cleanup'),
    ]);
    const redis = new Redis(TEST_REDIS_URL);
    const countKeys = async (prefix: string) => {
      let count = 0;
      for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 500 })) {
        count += (keys as string[]).length;
      }
      return count;
    };
    try {
      // More than one SCAN page.
      const pairs = Array.from({ length: 1_200 }, (_, n) => [`${mine.prefix}key:${n}`, String(n)]);
      await redis.mset(pairs.flat());
      await redis.set(`${theirs.prefix}key`, 'kept');
      await mine.cleanup();
      assert.equal(await countKeys(mine.prefix), 0);
      assert.equal(await redis.get(`${theirs.prefix}key`), 'kept');
      await theirs.cleanup();
      assert.equal(await countKeys(theirs.prefix), 0);
    } finally {
      await redis.quit();
    }
  });
});
