import type { Cache } from '@switchyard/cache';
import { defineSubscription, USER_EVENTS_TOPIC, UserEventCatalog } from '@switchyard/contracts';
import { afterCommit, type Clock } from '@switchyard/kernel';
import { authCacheKeys } from './authenticate.ts';
import { revokeSessions } from './store.ts';

export const AUTH_USERS_GROUP = 'auth-users';

/**
 * Keeps sign-in state in step with the users service: a changed role or status is seen by the next
 * request (the cached principal is dropped), and a disabled or deleted account loses every session
 * (ASVS 7.4.2).
 */
export function userChangesSubscription(deps: { cache: Cache; clock: Clock }) {
  return defineSubscription({
    group: AUTH_USERS_GROUP,
    topics: [USER_EVENTS_TOPIC],
    catalog: UserEventCatalog,
    handler: async (event, { tx }) => {
      if (event.type !== 'user.updated' && event.type !== 'user.deleted') return;
      const user = event.data.user;
      const ends = event.type === 'user.deleted' || user.status !== 'active';
      const ended = ends
        ? await revokeSessions(
            tx,
            { userId: user.id },
            event.type === 'user.deleted' ? 'account deleted' : 'account disabled',
            deps.clock(),
          )
        : [];
      const keys = [authCacheKeys.principal(user.id), ...ended.map(authCacheKeys.session)];
      // Dropped after the revocation commits, so no request can cache the session as live in between.
      const deferred = afterCommit(tx, () => {
        deps.cache.delete(...keys).catch(() => {});
      });
      if (!deferred) await deps.cache.delete(...keys);
    },
  });
}
