import { CACHE_TTL_SECONDS, type Cache, cacheKeys } from '@switchyard/cache';
import type { Preferences, User } from '@switchyard/contracts';
import type { Logger } from '@switchyard/kernel';

/**
 * The cached views of one user. PostgreSQL is the system of record, so a cache that fails is skipped
 * (read from the database, log it) rather than failing the request.
 */
export function createUserCache(cache: Cache, log: Logger) {
  async function readThrough<T>(key: string, ttl: number, load: () => Promise<T | null>): Promise<T | null> {
    try {
      const cached = await cache.get<T>(key);
      if (cached !== undefined) return cached;
    } catch (error) {
      log.warn({ err: error, key }, 'cache read failed; reading the database');
    }
    const loaded = await load();
    // Misses are not cached: a user created a moment later must be found at once.
    if (loaded !== null) {
      await cache.set(key, loaded, ttl).catch((error: unknown) => {
        log.warn({ err: error, key }, 'cache write failed');
      });
    }
    return loaded;
  }

  return {
    user: (id: string, load: () => Promise<User | null>) =>
      readThrough(cacheKeys.user(id), CACHE_TTL_SECONDS.user, load),
    preferences: (id: string, load: () => Promise<Preferences | null>) =>
      readThrough(cacheKeys.userPreferences(id), CACHE_TTL_SECONDS.userPreferences, load),
    /**
     * Drops both views of a user right after a write commits. A failure is logged, not thrown: the write
     * has committed, and the users-cache subscription deletes the same keys when the event arrives.
     */
    async invalidate(id: string): Promise<void> {
      await cache.delete(cacheKeys.user(id), cacheKeys.userPreferences(id)).catch((error: unknown) => {
        log.warn(
          { err: error, user_id: id },
          'cache invalidation failed; the users-cache consumer will retry it',
        );
      });
    },
  };
}

export type UserCache = ReturnType<typeof createUserCache>;
