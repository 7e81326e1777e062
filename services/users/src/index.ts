import type { ServiceDeps, ServiceModule } from '@switchyard/contracts';
import { createUserCache, type UserCache } from './cache.ts';
import { pushTokenSubscription, usersCacheSubscription } from './consumers.ts';
import { createUserDirectory } from './directory.ts';
import { registerUserRoutes } from './http.ts';

// One cache view per set of deps, so routes and the directory share the same logger-bound instance.
const caches = new WeakMap<ServiceDeps, UserCache>();
function userCache(deps: ServiceDeps): UserCache {
  let cache = caches.get(deps);
  if (!cache) {
    cache = createUserCache(deps.cache, deps.log);
    caches.set(deps, cache);
  }
  return cache;
}

/**
 * Users (source system C's user service, plus roles for RBAC): CRUD and preferences at /api/v1/users,
 * events on `user-events`, the `UserDirectory` client for the auth service.
 */
export const usersService: ServiceModule = {
  name: 'users',
  migrations: [{ schema: 'users', directory: new URL('../migrations/', import.meta.url) }],
  routes: (app, deps) => registerUserRoutes(app, deps, userCache(deps)),
  provides: (deps) => ({ users: createUserDirectory(deps, userCache(deps)) }),
  subscriptions: (deps) => [usersCacheSubscription(deps.cache), pushTokenSubscription(deps)],
};
