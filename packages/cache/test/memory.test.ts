import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryCache } from '@switchyard/cache';
import { createLogger, createMetrics } from '@switchyard/kernel';

function fakeClock(startMs = 1_000_000) {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    advance(ms: number) {
      nowMs += ms;
    },
  };
}

describe('memory cache', () => {
  it('expires an entry exactly when its lifetime ends, by the injected clock', async () => {
    const clock = fakeClock();
    const cache = createMemoryCache({ clock: clock.now });
    await cache.set('k', 'v', 2);
    clock.advance(1_999);
    assert.equal(await cache.get('k'), 'v');
    clock.advance(1);
    assert.equal(await cache.get('k'), undefined);
    assert.equal(await cache.setIfAbsent('k', 'again', 2), true);
  });

  it('keeps a fixed window from the first hit, with an exact time to reset', async () => {
    const clock = fakeClock();
    const cache = createMemoryCache({ clock: clock.now });
    assert.deepEqual(await cache.increment('hits', 60), { count: 1, resetInMs: 60_000 });
    clock.advance(45_000);
    assert.deepEqual(await cache.increment('hits', 60), { count: 2, resetInMs: 15_000 });
    clock.advance(15_000);
    assert.deepEqual(await cache.increment('hits', 60), { count: 1, resetInMs: 60_000 });
  });

  it('evicts the least recently used entry when full', async () => {
    const cache = createMemoryCache({ maxEntries: 2 });
    await cache.set('a', 1, 60);
    await cache.set('b', 2, 60);
    assert.equal(await cache.get('a'), 1);
    await cache.set('c', 3, 60);
    assert.equal(await cache.get('b'), undefined);
    assert.equal(await cache.get('a'), 1);
    assert.equal(await cache.get('c'), 3);
  });

  it('sets cache_hit_rate{layer="memory"} to hits over reads', async () => {
    const metrics = createMetrics();
    const cache = createMemoryCache({ metrics });
    await cache.set('k', 'v', 60);
    await cache.get('k');
    await cache.get('k');
    await cache.get('absent');
    await cache.get('absent');
    const { values } = await metrics.cacheHitRate.get();
    assert.deepEqual(
      values.map(({ labels, value }) => [labels.layer, value]),
      [['memory', 0.5]],
    );
  });

  it('delivers asynchronously, and logs a failing subscriber without starving the others', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'error', destination: { write: (line: string) => lines.push(line) } });
    const cache = createMemoryCache({ log });
    const received: string[] = [];
    const { promise, resolve } = Promise.withResolvers<void>();
    await cache.subscribe('c', () => {
      throw new Error('subscriber bug');
    });
    await cache.subscribe('c', (message) => {
      received.push(message);
      resolve();
    });
    const published = cache.publish('c', 'm');
    assert.deepEqual(received, [], 'not delivered inside the publish call, as with a broker');
    await published;
    await promise;
    assert.deepEqual(received, ['m']);
    assert.match(lines.join(''), /subscriber bug/);
  });

  it('rejects every call once closed', async () => {
    const cache = createMemoryCache();
    await cache.close();
    await assert.rejects(cache.get('k'), /closed/);
    await assert.rejects(cache.set('k', 1, 60), /closed/);
    assert.equal(await cache.ping(), false);
  });
});
