import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { appendToOutbox, createEvent } from '@switchyard/bus';
import { cacheKeys } from '@switchyard/cache';
import { USER_EVENTS_TOPIC, type User, type UserUpdatedData } from '@switchyard/contracts';
import { systemClock, uuidV7 } from '@switchyard/kernel';
import { USERS_CACHE_GROUP } from '../src/consumers.ts';
import { usersService } from '../src/index.ts';
import { startUsers, type UsersHarness } from './helpers.ts';

describe('users-cache subscription', () => {
  let h: UsersHarness;
  before(async () => {
    h = await startUsers('users_cache');
    for (const subscription of usersService.subscriptions?.(h.deps) ?? []) {
      h.bus.subscribe(subscription.group, subscription.topics, subscription.handler, subscription.options);
    }
    await h.bus.start();
  });
  after(() => h.close());

  it('is group users-cache on user-events', () => {
    const [subscription] = usersService.subscriptions?.(h.deps) ?? [];
    assert.equal(subscription?.group, USERS_CACHE_GROUP);
    assert.equal(USERS_CACHE_GROUP, 'users-cache');
    assert.deepEqual(subscription?.topics, [USER_EVENTS_TOPIC]);
  });

  it("given cached views another instance's write left behind, when its event arrives, then both keys are gone", async () => {
    const target = await h.user('member');
    const bystander = await h.user('member');
    // Their user.created events would drop what is cached next, which is this consumer doing its job.
    await h.bus.drain(USERS_CACHE_GROUP);
    const user = (await h.call(target.token, 'GET', `/api/v1/users/${target.id}`)).json<User>();
    await h.call(target.token, 'GET', `/api/v1/users/${target.id}/preferences`);
    await h.call(bystander.token, 'GET', `/api/v1/users/${bystander.id}`);
    assert.ok(await h.cache.get(cacheKeys.user(target.id)));
    assert.ok(await h.cache.get(cacheKeys.userPreferences(target.id)));

    // The event alone, as another instance whose own delete did not reach this cache would have written it.
    const data: UserUpdatedData = {
      user: { ...user, name: 'Renamed' },
      changes: { name: { from: user.name, to: 'Renamed' } },
    };
    await appendToOutbox(h.pool, USER_EVENTS_TOPIC, [
      createEvent(
        { type: 'user.updated', subject: target.id, data },
        {},
        {
          clock: systemClock,
          ids: uuidV7,
          source: '/switchyard/users',
        },
      ),
    ]);
    await h.bus.drain(USERS_CACHE_GROUP);

    assert.equal(await h.cache.get(cacheKeys.user(target.id)), undefined);
    assert.equal(await h.cache.get(cacheKeys.userPreferences(target.id)), undefined);
    assert.ok(await h.cache.get(cacheKeys.user(bystander.id)), "other users' keys stay");
  });

  it('given a write through the API, when its events are consumed, then the consumer handled them all', async () => {
    const account = await h.user('member');
    await h.call(account.token, 'PATCH', `/api/v1/users/${account.id}`, { locale: 'fr' });
    await h.bus.drain(USERS_CACHE_GROUP);
    const processed = await h.pool.query(
      `SELECT count(*)::int AS count FROM bus.processed_events p JOIN bus.outbox o ON o.event_id = p.event_id
        WHERE p.consumer_group = $1 AND o.partition_key = $2`,
      [USERS_CACHE_GROUP, account.id],
    );
    // user.created, user.updated and user.preferences.updated.
    assert.equal(processed.rows[0].count, 3);
    const dead = await h.pool.query(
      'SELECT count(*)::int AS count FROM bus.dead_letters WHERE consumer_group = $1',
      [USERS_CACHE_GROUP],
    );
    assert.equal(dead.rows[0].count, 0);
  });
});
