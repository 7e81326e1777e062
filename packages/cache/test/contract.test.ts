import { createMemoryCache } from '@switchyard/cache';
import { cacheContract } from '@switchyard/cache/contract';
import { createRedisCache } from '@switchyard/cache/redis';
import { silentLogger } from '@switchyard/testing';
import { createTestRedisPrefix, TEST_REDIS_URL } from '@switchyard/testing/redis';

cacheContract(
  'memory',
  async () => {
    const cache = createMemoryCache();
    return { cache, close: () => cache.close() };
  },
  { sharedStore: false },
);

cacheContract(
  'redis',
  async () => {
    const { prefix, cleanup } = await createTestRedisPrefix('cache-contract');
    const open = () => createRedisCache({ url: TEST_REDIS_URL, keyPrefix: prefix, log: silentLogger() });
    const [cache, second] = [open(), open()];
    return {
      cache,
      second,
      async close() {
        await Promise.all([cache.close(), second.close()]);
        await cleanup();
      },
    };
  },
  { sharedStore: true },
);
