import { originOf } from '@switchyard/bus';
import { type Cache, cacheKeys } from '@switchyard/cache';
import {
  defineSubscription,
  type ServiceDeps,
  USER_EVENTS_TOPIC,
  UserEventCatalog,
} from '@switchyard/contracts';
import { afterCommit } from '@switchyard/kernel';
import { appendUserEvents, updateEvents } from './events.ts';
import { findUser, updateUser } from './store.ts';

export const USERS_CACHE_GROUP = 'users-cache';

/**
 * Drops the cached views of a user whenever a user event arrives. The instance that made a write already
 * deleted them right after its commit; this is the durable second path. The direct delete can be missed
 * (the process dies between commit and delete, Redis is unreachable for that one call) or undone (a read
 * that loaded the row before the commit stores the old value after the delete). The event is committed
 * with the write, and the runner retries this handler until the delete succeeds, so the cache converges
 * within moments instead of at the TTL. One instance per group handles each event; the Redis adapter
 * broadcasts the delete to every instance's in-process layer.
 */
export function usersCacheSubscription(cache: Cache) {
  return defineSubscription({
    group: USERS_CACHE_GROUP,
    topics: [USER_EVENTS_TOPIC],
    catalog: UserEventCatalog,
    handler: async (event) => {
      await cache.delete(cacheKeys.user(event.subject), cacheKeys.userPreferences(event.subject));
    },
  });
}

export const USERS_PUSH_TOKENS_GROUP = 'users-push-tokens';

/**
 * Removes a push token a provider reported as unregistered (FCM UNREGISTERED, Web Push 410), so no
 * more notifications are sent to a device that is gone. Only that exact token: the user may have
 * registered a new one since the delivery was queued.
 */
export function pushTokenSubscription(deps: ServiceDeps) {
  return defineSubscription({
    group: USERS_PUSH_TOKENS_GROUP,
    topics: [USER_EVENTS_TOPIC],
    catalog: UserEventCatalog,
    handler: async (event, { tx }) => {
      if (event.type !== 'user.push_token.unregistered') return;
      const current = await findUser(tx, event.data.user_id, { forUpdate: true });
      if (!current || current.user.push_token !== event.data.push_token) return;
      const now = deps.clock().toISOString();
      const after = { ...current, user: { ...current.user, push_token: null, updated_at: now } };
      await updateUser(tx, after);
      await appendUserEvents(
        tx,
        updateEvents(
          deps,
          current,
          after,
          { push_token: { from: current.user.push_token, to: null } },
          false,
          originOf(event),
        ),
      );
      const keys = [cacheKeys.user(current.user.id), cacheKeys.userPreferences(current.user.id)];
      if (!afterCommit(tx, () => void deps.cache.delete(...keys).catch(() => {})))
        await deps.cache.delete(...keys);
    },
  });
}
