/**
 * The cache contract: one suite every adapter must pass unchanged (memory, Redis). An adapter's test file
 * calls `cacheContract` with a harness that opens its caches; nothing here knows which adapter it is.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Cache } from './port.ts';

export interface CacheContractHarness {
  cache: Cache;
  /** A second instance on the same store (another process, as far as the cache can tell), if it has one. */
  second?: Cache;
  /** Closes the caches and removes what the suite stored. */
  close(): Promise<void>;
}

const WAIT_MS = 5_000;

/** Rejects with `what` instead of letting a lost message hang the suite. */
async function within<T>(promise: Promise<T>, what: string, timeoutMs = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Re-checks `condition` until it holds; for expiry, which has no event to wait on. */
async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Messages of one channel, each awaitable by its position. */
function inbox() {
  const received: string[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  return {
    received,
    listener(message: string) {
      received.push(message);
      for (const waiter of waiters.filter((w) => received.length >= w.count)) waiter.resolve();
    },
    async count(count: number, what: string): Promise<string[]> {
      if (received.length < count) {
        const { promise, resolve } = Promise.withResolvers<void>();
        waiters.push({ count, resolve });
        await within(promise, what);
      }
      return received.slice(0, count);
    },
  };
}

export function cacheContract(
  name: string,
  open: () => Promise<CacheContractHarness>,
  /** Whether the harness gives a second instance on one store; if not, those cases are not registered. */
  options: { sharedStore: boolean },
): void {
  describe(`cache contract: ${name}`, () => {
    let harness: CacheContractHarness;
    let cache: Cache;
    const unique = (label: string) => `contract:${label}:${randomBytes(4).toString('hex')}`;

    before(async () => {
      harness = await open();
      cache = harness.cache;
    });
    after(async () => {
      await harness.close();
    });

    it('answers ping', async () => {
      assert.equal(await cache.ping(), true);
      if (harness.second) assert.equal(await harness.second.ping(), true);
    });

    it('round-trips JSON values and misses absent keys', async () => {
      const values: unknown[] = [
        { a: 1, nested: { list: [1, 'two', null] } },
        'text',
        42,
        0,
        false,
        null,
        [],
      ];
      const keys = values.map((_, i) => unique(`value-${i}`));
      await Promise.all(values.map((value, i) => cache.set(keys[i] ?? '', value, 60)));
      for (const [i, key] of keys.entries()) assert.deepEqual(await cache.get(key), values[i]);
      assert.equal(await cache.get(unique('absent')), undefined);
    });

    it('stores and hands out copies, never the caller’s object', async () => {
      const key = unique('copy');
      const value = { tags: ['a'], at: new Date(0) };
      await cache.set(key, value, 60);
      value.tags.push('changed after set');
      const first = await cache.get<{ tags: string[]; at: string }>(key);
      assert.deepEqual(first, { tags: ['a'], at: '1970-01-01T00:00:00.000Z' });
      first?.tags.push('changed after get');
      assert.deepEqual(await cache.get(key), { tags: ['a'], at: '1970-01-01T00:00:00.000Z' });
    });

    it('rejects values that are not JSON and lifetimes that are not positive', async () => {
      await assert.rejects(cache.set(unique('undefined'), undefined, 60), TypeError);
      await assert.rejects(cache.set(unique('zero'), 'x', 0), RangeError);
      await assert.rejects(cache.setIfAbsent(unique('negative'), 'x', -1), RangeError);
      await assert.rejects(cache.increment(unique('nan'), Number.NaN), RangeError);
    });

    it('forgets entries when their lifetime ends: get, setIfAbsent and increment alike', async () => {
      const [plain, claimed, counter] = [unique('ttl'), unique('ttl-claim'), unique('ttl-count')];
      const startedAtMs = Date.now();
      await cache.set(plain, 'short-lived', 1);
      assert.equal(await cache.setIfAbsent(claimed, 'first', 1), true);
      await cache.increment(counter, 1);
      assert.equal((await cache.increment(counter, 1)).count, 2);
      assert.equal(await cache.get(plain), 'short-lived');
      if (harness.second) assert.equal(await harness.second.get(plain), 'short-lived');

      await until(async () => (await cache.get(plain)) === undefined, `${plain} to expire`);
      assert.ok(Date.now() - startedAtMs >= 950, `expired after ${Date.now() - startedAtMs} ms, not 1 s`);
      if (harness.second) {
        const other = harness.second;
        await until(async () => (await other.get(plain)) === undefined, `${plain} to expire in the second`);
      }
      await until(() => cache.setIfAbsent(claimed, 'second', 60), `${claimed} to be free again`);
      assert.equal(await cache.get(claimed), 'second');
      await until(async () => (await cache.increment(counter, 1)).count === 1, `${counter} to start over`);
    });

    it('lets exactly one of 50 concurrent setIfAbsent calls store its value', async () => {
      const key = unique('claim');
      const caches = [cache, harness.second ?? cache];
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, n) => caches[n % 2]?.setIfAbsent(key, { n }, 60)),
      );
      const winners = results.flatMap((stored, n) => (stored ? [n] : []));
      assert.equal(winners.length, 1, `winners: ${winners.join(', ')}`);
      assert.deepEqual(await cache.get(key), { n: winners[0] });
    });

    it('counts 200 concurrent increments exactly once each, in one fixed window', async () => {
      const key = unique('count');
      const windowMs = 60_000;
      const caches = [cache, harness.second ?? cache];
      const hits = await Promise.all(
        Array.from({ length: 200 }, (_, n) => caches[n % 2]?.increment(key, 60)),
      );
      const counts = hits.map((hit) => hit?.count ?? 0).sort((a, b) => a - b);
      assert.deepEqual(
        counts,
        Array.from({ length: 200 }, (_, n) => n + 1),
      );
      for (const hit of hits) {
        assert.ok(hit && hit.resetInMs > 0 && hit.resetInMs <= windowMs, `resetInMs ${hit?.resetInMs}`);
      }
      // Later hits, even with another window, neither extend nor restart the window of the first.
      const later = await cache.increment(key, 3_600);
      assert.equal(later.count, 201);
      assert.ok(later.resetInMs > 0 && later.resetInMs <= windowMs, `resetInMs ${later.resetInMs}`);
    });

    it('refuses to increment a value that is not a counter', async () => {
      const key = unique('not-a-counter');
      await cache.set(key, 'text', 60);
      await assert.rejects(cache.increment(key, 60));
      assert.equal(await cache.get(key), 'text');
    });

    it('deletes several keys at once and leaves the others', async () => {
      const [a, b, kept] = [unique('del-a'), unique('del-b'), unique('del-kept')];
      await Promise.all([cache.set(a, 1, 60), cache.set(b, 2, 60), cache.set(kept, 3, 60)]);
      assert.equal(await cache.get(a), 1);
      await cache.delete(a, b, unique('del-absent'));
      await cache.delete();
      assert.equal(await cache.get(a), undefined);
      assert.equal(await cache.get(b), undefined);
      assert.equal(await cache.get(kept), 3);
    });

    it('delivers published messages in order to every subscriber until it unsubscribes', async () => {
      const channel = unique('channel');
      const [first, second, elsewhere] = [inbox(), inbox(), inbox()];
      const stopFirst = await cache.subscribe(channel, first.listener);
      const stopSecond = await cache.subscribe(channel, second.listener);
      const stopElsewhere = await cache.subscribe(unique('other-channel'), elsewhere.listener);
      for (const n of [1, 2, 3]) await cache.publish(channel, `m${n}`);
      assert.deepEqual(await first.count(3, 'three messages'), ['m1', 'm2', 'm3']);
      assert.deepEqual(await second.count(3, 'three messages'), ['m1', 'm2', 'm3']);

      await stopFirst();
      await cache.publish(channel, 'm4');
      // Both listeners hear a message in one dispatch, so once the second has m4 the first would have too.
      assert.deepEqual(await second.count(4, 'm4'), ['m1', 'm2', 'm3', 'm4']);
      assert.equal(first.received.length, 3);
      assert.equal(elsewhere.received.length, 0);
      await Promise.all([stopSecond(), stopElsewhere(), stopFirst()]);
      await cache.publish(channel, 'unheard');
    });

    if (options.sharedStore)
      describe('two instances on one store', () => {
        const second = () => {
          assert.ok(harness.second);
          return harness.second;
        };

        /**
         * Resolves once `to` has received everything `from` wrote before: invalidations and messages from
         * one instance reach another in the order they were sent, so a marker sent last arrives last.
         */
        async function propagated(from: Cache, to: Cache): Promise<void> {
          const channel = unique('marker');
          const { promise, resolve } = Promise.withResolvers<void>();
          const stop = await to.subscribe(channel, () => resolve());
          await from.publish(channel, 'marker');
          await within(promise, 'the marker');
          await stop();
        }

        it('sees a delete made by the other instance, though it had the value locally', async () => {
          const key = unique('shared-delete');
          await cache.set(key, 'v1', 60);
          // Past the set's own invalidation, so the copy read next stays in the second's local layer.
          await propagated(cache, second());
          assert.equal(await second().get(key), 'v1');
          assert.equal(await second().get(key), 'v1');
          await cache.delete(key);
          await propagated(cache, second());
          assert.equal(await second().get(key), undefined);
        });

        it('sees a new value set by the other instance, though it had the old one locally', async () => {
          const key = unique('shared-set');
          await cache.set(key, 'v1', 60);
          await propagated(cache, second());
          assert.equal(await second().get(key), 'v1');
          await cache.set(key, 'v2', 60);
          await propagated(cache, second());
          assert.equal(await second().get(key), 'v2');
          await second().set(key, 'v3', 60);
          await propagated(second(), cache);
          assert.equal(await cache.get(key), 'v3');
        });

        it('shares one increment budget', async () => {
          const key = unique('shared-count');
          assert.equal((await cache.increment(key, 60)).count, 1);
          assert.equal((await second().increment(key, 60)).count, 2);
          assert.equal((await cache.increment(key, 60)).count, 3);
        });

        it('delivers a message published by one instance to a subscriber on the other', async () => {
          const channel = unique('shared-channel');
          const received = inbox();
          const stop = await second().subscribe(channel, received.listener);
          await cache.publish(channel, 'across');
          assert.deepEqual(await received.count(1, 'the message'), ['across']);
          await stop();
        });
      });
  });
}
