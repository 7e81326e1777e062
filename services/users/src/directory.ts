import {
  DEFAULT_PREFERENCES,
  type ServiceDeps,
  type User,
  type UserAccount,
  type UserDirectory,
} from '@switchyard/contracts';
import { problems } from '@switchyard/kernel';
import type { UserCache } from './cache.ts';
import { isUuid, newUser, normalizeEmail, valid } from './domain.ts';
import { insertNewUser } from './events.ts';
import { countActive, findAccountByEmail, findUser, updatePasswordHash } from './store.ts';

function accountOf(user: User): UserAccount {
  return { id: user.id, name: user.name, email: user.email, role: user.role, status: user.status };
}

/** The users module as the auth service sees it (in one process: these functions, called directly). */
export function createUserDirectory(deps: ServiceDeps, cache: UserCache): UserDirectory {
  return {
    async findByEmail(email) {
      // Never cached: the only read of the password hash, which must not sit in a shared cache.
      return (await findAccountByEmail(deps.db, normalizeEmail(email))) ?? undefined;
    },

    async findById(id) {
      if (!isUuid(id)) return undefined;
      const user = await cache.user(id, async () => (await findUser(deps.db, id))?.user ?? null);
      return user ? accountOf(user) : undefined;
    },

    async create(input) {
      const record = valid(newUser(input, deps.ids(), deps.clock()));
      await insertNewUser(deps, record, input.passwordHash, {});
      return accountOf(record.user);
    },

    /**
     * No event and no new `updated_at`: the hash is not part of the user anyone else sees, and events never
     * carry it. Whatever should follow a password change (ending sessions) is the auth service's to do.
     */
    async setPasswordHash(id, passwordHash) {
      if (!isUuid(id) || !(await updatePasswordHash(deps.db, id, passwordHash))) {
        throw problems.notFound('user', id);
      }
    },

    countByRole: (role) => countActive(deps.db, role),

    async findRecipient(id) {
      if (!isUuid(id)) return undefined;
      const user = await cache.user(id, async () => (await findUser(deps.db, id))?.user ?? null);
      if (!user) return undefined;
      const preferences = await cache.preferences(
        id,
        async () => (await findUser(deps.db, id))?.preferences ?? null,
      );
      return {
        ...accountOf(user),
        locale: user.locale,
        push_token: user.push_token,
        preferences: preferences ?? DEFAULT_PREFERENCES,
      };
    },
  };
}
