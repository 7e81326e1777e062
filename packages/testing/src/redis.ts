import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * The Redis tests use: SWITCHYARD_TEST_REDIS_URL, or the machine's server on 127.0.0.1:6379. Tests share
 * it through key prefixes of their own. A test that cannot reach it fails; it is never skipped.
 */
export const TEST_REDIS_URL = process.env.SWITCHYARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestRedisPrefix {
  /** `test:<label>:<random>:`; put it in front of every key and channel of the test. */
  prefix: string;
  /** Deletes every key under the prefix. */
  cleanup(): Promise<void>;
}

const CONNECT_TIMEOUT_MS = 5_000;

async function onServer<T>(work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    // A fixture fails on the first refusal instead of retrying behind the test's back.
    retryStrategy: () => null,
  });
  // The socket's error says why (connect() only says the connection closed); without a listener ioredis
  // would also print it.
  let cause: Error | undefined;
  redis.on('error', (error: Error) => {
    cause ??= error;
  });
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new Error(
      `tests need a Redis server at ${TEST_REDIS_URL} (set SWITCHYARD_TEST_REDIS_URL): ${(cause ?? (error as Error)).message}`,
    );
  }
  try {
    return await work(redis);
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** Deletes every key matching `pattern` with SCAN, which does not block the server as KEYS does. */
async function deleteMatching(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** Glob metacharacters in the label would widen the cleanup's MATCH pattern. */
const safe = (label: string) => label.replace(/[^\w-]/g, '_');

/** A prefix of its own for one test, checked reachable now so a missing server fails the test at once. */
export async function createTestRedisPrefix(label = 'test'): Promise<TestRedisPrefix> {
  const prefix = `test:${safe(label)}:${randomBytes(6).toString('hex')}:`;
  await onServer((redis) => redis.ping());
  return {
    prefix,
    cleanup: () => onServer((redis) => deleteMatching(redis, `${prefix}*`)),
  };
}
