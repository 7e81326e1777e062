import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cacheKeys } from '@switchyard/cache';
import {
  DEFAULT_PREFERENCES,
  type Preferences,
  type User,
  type UserPreferencesUpdatedData,
  type UserUpdatedData,
} from '@switchyard/contracts';
import type { FieldError, ProblemDetails } from '@switchyard/kernel';
import { conformsToCatalog, GOOD_PASSWORD, startUsers, type UsersHarness } from './helpers.ts';

type Account = Awaited<ReturnType<UsersHarness['user']>>;

const MISSING = '01a204b0-8f10-727d-8a49-f7a461d9a4c6';

function fieldOf(body: unknown): FieldError | undefined {
  return (body as ProblemDetails).errors?.[0];
}

describe('users API', () => {
  let h: UsersHarness;
  let admin: Account;
  let operator: Account;
  let member: Account;
  let other: Account;

  before(async () => {
    h = await startUsers('users_api');
    admin = await h.user('admin', 'Ada Admin');
    operator = await h.user('operator', 'Otto Operator');
    member = await h.user('member', 'Mia Member');
    other = await h.user('member', 'Oscar Other');
  });
  after(() => h.close());

  const create = (body: Record<string, unknown>, token = admin.token) =>
    h.call(token, 'POST', '/api/v1/users', { password: GOOD_PASSWORD, ...body });

  /** Runs `request`, then checks it wrote no user event at all. */
  async function writesNoEvent<T>(request: () => Promise<T>): Promise<T> {
    const before = await h.eventCount();
    const result = await request();
    assert.equal(await h.eventCount(), before, 'a refused write must not emit an event');
    return result;
  }

  describe('create', () => {
    it('creates a user: 201 with Location, email lower-cased, no password anywhere, and user.created in the outbox', async () => {
      const response = await create({
        name: 'Grace Hopper',
        email: 'Grace.Hopper@Example.COM',
        role: 'operator',
        push_token: 'fcm:abc',
        locale: 'en-gb',
        preferences: {
          sms: false,
          quiet_hours: { start: '22:00', end: '07:00', time_zone: 'europe/london' },
        },
      });
      assert.equal(response.status, 201);
      const user = response.json<User>();
      assert.equal(response.headers.location, `/api/v1/users/${user.id}`);
      assert.equal(user.email, 'grace.hopper@example.com');
      assert.equal(user.role, 'operator');
      assert.equal(user.status, 'active');
      assert.equal(user.locale, 'en-GB');
      assert.equal(user.push_token, 'fcm:abc');
      assert.doesNotMatch(JSON.stringify(response.body), /password|argon2/);

      const events = await h.events(user.id);
      assert.deepEqual(
        events.map((event) => event.type),
        ['user.created'],
      );
      const [created] = events;
      assert.ok(created && conformsToCatalog(created));
      assert.equal(created.partitionkey, user.id);
      assert.equal(created.subject, user.id);
      assert.deepEqual(created.data, {
        user,
        preferences: {
          ...DEFAULT_PREFERENCES,
          sms: false,
          quiet_hours: { start: '22:00', end: '07:00', time_zone: 'Europe/London' },
          locale: 'en-GB',
        },
      });
      assert.doesNotMatch(JSON.stringify(created), /password|argon2/);

      const stored = await h.pool.query('SELECT password FROM users.users WHERE id = $1', [user.id]);
      assert.match(stored.rows[0].password, /^\$argon2id\$/);
    });

    it('defaults role to member and preferences to all channels on', async () => {
      const user = (await create({ name: 'Plain', email: 'plain@example.com' })).json<User>();
      assert.equal(user.role, 'member');
      const preferences = await h.call(admin.token, 'GET', `/api/v1/users/${user.id}/preferences`);
      assert.deepEqual(preferences.body, DEFAULT_PREFERENCES);
    });

    it('refuses a duplicate email in any case with 409 naming email, and emits nothing', async () => {
      const response = await writesNoEvent(() => create({ name: 'Again', email: 'PLAIN@example.com' }));
      assert.equal(response.status, 409);
      assert.equal(fieldOf(response.body)?.field, 'email');
    });

    const refusals: [string, Record<string, unknown>, string, RegExp][] = [
      ['a bad email', { name: 'x', email: 'not-an-email' }, 'email', /format "email"/],
      [
        'a short password',
        { name: 'x', email: 'short@example.com', password: 'short' },
        'password',
        /at least 12/,
      ],
      [
        'a common password',
        { name: 'x', email: 'common@example.com', password: 'password1234' },
        'password',
        /too common/,
      ],
      [
        'a password containing the email',
        { name: 'x', email: 'rosalind@example.com', password: 'rosalind-forever' },
        'password',
        /email/,
      ],
      [
        'an unknown field',
        { name: 'x', email: 'u@example.com', nickname: 'x' },
        'nickname',
        /not a known field/,
      ],
      ['a blank name', { name: '   ', email: 'blank@example.com' }, 'name', /blank/],
      ['a missing name', { email: 'noname@example.com' }, 'name', /required/],
      ['an unknown role', { name: 'x', email: 'r@example.com', role: 'root' }, 'role', /one of/],
      ['a bad locale', { name: 'x', email: 'l@example.com', locale: 'en_US' }, 'locale', /BCP 47/],
      [
        'a bad time zone in the preferences',
        {
          name: 'x',
          email: 'tz@example.com',
          preferences: { quiet_hours: { start: '22:00', end: '07:00', time_zone: 'Moon/Tranquility' } },
        },
        'preferences.quiet_hours.time_zone',
        /IANA/,
      ],
      [
        'a preference of the wrong type',
        { name: 'x', email: 'pt@example.com', preferences: { email: 'yes' } },
        'preferences.email',
        /boolean/,
      ],
      [
        'a password hash smuggled in',
        { name: 'x', email: 'h@example.com', password_hash: 'x' },
        'password_hash',
        /known/,
      ],
    ];
    for (const [what, body, field, reason] of refusals) {
      it(`refuses ${what} with 400 naming ${field}, and creates nothing`, async () => {
        const response = await writesNoEvent(() => create(body));
        assert.equal(response.status, 400, JSON.stringify(response.body));
        const error = (response.body as ProblemDetails).errors?.find((e) => e.field === field);
        assert.ok(error, `no error for ${field}: ${JSON.stringify(response.body)}`);
        assert.match(error.reason, reason);
      });
    }

    it('refuses members and operators (users:write) with 403', async () => {
      assert.equal((await create({ name: 'x', email: 'm1@example.com' }, member.token)).status, 403);
      assert.equal((await create({ name: 'x', email: 'o1@example.com' }, operator.token)).status, 403);
    });

    it('refuses anonymous callers and unknown tokens with 401', async () => {
      assert.equal((await h.call(undefined, 'GET', `/api/v1/users/${member.id}`)).status, 401);
      assert.equal((await h.call('nonsense', 'GET', `/api/v1/users/${member.id}`)).status, 401);
    });
  });

  describe('read', () => {
    it('lets a member read themselves', async () => {
      const response = await h.call(member.token, 'GET', `/api/v1/users/${member.id}`);
      assert.equal(response.status, 200);
      assert.equal(response.json<User>().email, member.email);
    });

    it('answers a member asking for someone else exactly as for a missing user: 404', async () => {
      const theirs = await h.call(member.token, 'GET', `/api/v1/users/${other.id}`);
      const missing = await h.call(admin.token, 'GET', `/api/v1/users/${MISSING}`);
      assert.equal(theirs.status, 404);
      assert.equal(missing.status, 404);
      assert.equal((theirs.body as ProblemDetails).type, (missing.body as ProblemDetails).type);
      assert.equal((await h.call(member.token, 'GET', `/api/v1/users/${MISSING}`)).status, 404);
      assert.equal((await h.call(member.token, 'GET', `/api/v1/users/${other.id}/preferences`)).status, 404);
    });

    it('lets an operator read anyone', async () => {
      assert.equal((await h.call(operator.token, 'GET', `/api/v1/users/${member.id}`)).status, 200);
    });

    it('refuses an id that is not a UUID with 400 naming id', async () => {
      const response = await h.call(admin.token, 'GET', '/api/v1/users/42');
      assert.equal(response.status, 400);
      assert.deepEqual(fieldOf(response.body), {
        field: 'id',
        in: 'path',
        reason: 'must match format "uuid"',
      });
    });
  });

  describe('list', () => {
    let listed: User[];
    before(async () => {
      listed = [];
      for (const [name, role] of [
        ['Zed Zebra', 'member'],
        ['Zelda Zed', 'operator'],
        ['zoe_underscore', 'member'],
        ['Zack 100%', 'member'],
      ] as const) {
        listed.push(
          (await create({ name, email: `${name.split(' ')[0]?.toLowerCase()}@zoo.example`, role })).json(),
        );
      }
    });

    it('lists for an operator, newest first', async () => {
      const response = await h.call(operator.token, 'GET', '/api/v1/users?limit=200');
      assert.equal(response.status, 200);
      const users = response.json<User[]>();
      const created = users.map((user) => user.created_at);
      assert.deepEqual(created, [...created].sort().reverse());
      assert.ok(users.some((user) => user.id === member.id));
    });

    it('refuses to list for a member (users:all) with 403', async () => {
      assert.equal((await h.call(member.token, 'GET', '/api/v1/users')).status, 403);
    });

    it('searches name and email by case-insensitive prefix', async () => {
      const byName = await h.call(admin.token, 'GET', '/api/v1/users?q=ZE');
      assert.deepEqual(
        byName.json<User[]>().map((user) => user.name),
        ['Zelda Zed', 'Zed Zebra'],
      );
      const byEmail = await h.call(admin.token, 'GET', `/api/v1/users?q=${encodeURIComponent('ZOE_')}`);
      assert.deepEqual(
        byEmail.json<User[]>().map((user) => user.name),
        ['zoe_underscore'],
      );
      // A prefix, not a substring: "ebra" is inside "Zebra" but starts nothing.
      assert.deepEqual((await h.call(admin.token, 'GET', '/api/v1/users?q=ebra')).body, []);
    });

    it('takes % and _ in a search literally', async () => {
      const percent = await h.call(admin.token, 'GET', `/api/v1/users?q=${encodeURIComponent('Zack 100%')}`);
      assert.deepEqual(
        percent.json<User[]>().map((user) => user.name),
        ['Zack 100%'],
      );
      assert.deepEqual(
        (await h.call(admin.token, 'GET', `/api/v1/users?q=${encodeURIComponent('%')}`)).body,
        [],
      );
      assert.deepEqual(
        (await h.call(admin.token, 'GET', `/api/v1/users?q=${encodeURIComponent('z_e')}`)).body,
        [],
      );
    });

    it('filters by role and status', async () => {
      const operators = (await h.call(admin.token, 'GET', '/api/v1/users?role=operator&q=z')).json<User[]>();
      assert.deepEqual(
        operators.map((user) => user.name),
        ['Zelda Zed'],
      );
      const active = (await h.call(admin.token, 'GET', '/api/v1/users?status=active&limit=200')).json<
        User[]
      >();
      assert.ok(active.every((user) => user.status === 'active'));
      assert.deepEqual((await h.call(admin.token, 'GET', '/api/v1/users?status=disabled&q=z')).body, []);
    });

    it('pages with X-Next-Cursor until every match has been seen once', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const response = await h.call(
          admin.token,
          'GET',
          `/api/v1/users?q=z&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        );
        assert.equal(response.status, 200);
        seen.push(...response.json<User[]>().map((user) => user.id));
        cursor = response.headers['x-next-cursor'] as string | undefined;
        if (cursor) assert.match(String(response.headers.link), /rel="next"/);
        pages += 1;
      } while (cursor && pages < 10);
      assert.deepEqual(
        seen,
        [...listed].reverse().map((user) => user.id),
      );
    });

    const bad: [string, string][] = [
      ['cursor', 'cursor=not-a-cursor'],
      ['cursor', `cursor=${Buffer.from('{"at":"2026-01-01T00:00:00.000Z","id":"x"}').toString('base64url')}`],
      ['role', 'role=root'],
      ['status', 'status=gone'],
      ['limit', 'limit=0'],
      ['limit', 'limit=201'],
      ['q', 'q='],
      ['sort', 'sort=name'],
    ];
    for (const [field, query] of bad) {
      it(`refuses ?${query} with 400 naming ${field}`, async () => {
        const response = await h.call(admin.token, 'GET', `/api/v1/users?${query}`);
        assert.equal(response.status, 400);
        assert.equal(fieldOf(response.body)?.field, field);
      });
    }
  });

  describe('update', () => {
    it('lets a member change their own name, locale and push token, with one user.updated event', async () => {
      const before = (await h.events(member.id)).length;
      const response = await h.call(member.token, 'PATCH', `/api/v1/users/${member.id}`, {
        name: 'Mia M.',
        push_token: 'apns:123',
      });
      assert.equal(response.status, 200);
      const user = response.json<User>();
      assert.equal(user.name, 'Mia M.');
      assert.equal(user.push_token, 'apns:123');
      const events = (await h.events(member.id)).slice(before);
      assert.deepEqual(
        events.map((event) => event.type),
        ['user.updated'],
      );
      const [updated] = events;
      assert.ok(updated && conformsToCatalog(updated));
      assert.deepEqual((updated.data as UserUpdatedData).changes, {
        name: { from: 'Mia Member', to: 'Mia M.' },
        push_token: { from: null, to: 'apns:123' },
      });
    });

    it('emits nothing when a patch changes nothing', async () => {
      const response = await writesNoEvent(() =>
        h.call(member.token, 'PATCH', `/api/v1/users/${member.id}`, { name: 'Mia M.' }),
      );
      assert.equal(response.status, 200);
    });

    it('changes the locale in both views and emits user.updated and user.preferences.updated', async () => {
      const before = (await h.events(member.id)).length;
      const response = await h.call(member.token, 'PATCH', `/api/v1/users/${member.id}`, { locale: 'de-at' });
      assert.equal(response.json<User>().locale, 'de-AT');
      const preferences = await h.call(member.token, 'GET', `/api/v1/users/${member.id}/preferences`);
      assert.equal(preferences.json<Preferences>().locale, 'de-AT');
      const events = (await h.events(member.id)).slice(before);
      assert.deepEqual(
        events.map((event) => event.type),
        ['user.updated', 'user.preferences.updated'],
      );
      assert.ok(events.every(conformsToCatalog));
    });

    it("gives a member 404 for someone else's profile and 403 naming role for their own role", async () => {
      assert.equal(
        (await writesNoEvent(() => h.call(member.token, 'PATCH', `/api/v1/users/${other.id}`, { name: 'x' })))
          .status,
        404,
      );
      const role = await writesNoEvent(() =>
        h.call(member.token, 'PATCH', `/api/v1/users/${member.id}`, { role: 'admin' }),
      );
      assert.equal(role.status, 403);
      assert.equal(fieldOf(role.body)?.field, 'role');
      const email = await h.call(member.token, 'PATCH', `/api/v1/users/${member.id}`, {
        email: 'mine@example.com',
      });
      assert.equal(email.status, 403);
      assert.equal(fieldOf(email.body)?.field, 'email');
    });

    it('lets an operator rename someone else but not change their status (403 naming status)', async () => {
      const renamed = await h.call(operator.token, 'PATCH', `/api/v1/users/${other.id}`, {
        name: 'Oscar O.',
      });
      assert.equal(renamed.status, 200);
      const status = await h.call(operator.token, 'PATCH', `/api/v1/users/${other.id}`, {
        status: 'disabled',
      });
      assert.equal(status.status, 403);
      assert.equal(fieldOf(status.body)?.field, 'status');
    });

    it('lets an admin change email, role and status', async () => {
      const response = await h.call(admin.token, 'PATCH', `/api/v1/users/${other.id}`, {
        email: 'Oscar@Example.com',
        role: 'operator',
        status: 'disabled',
      });
      assert.equal(response.status, 200);
      assert.deepEqual((({ email, role, status }) => ({ email, role, status }))(response.json<User>()), {
        email: 'oscar@example.com',
        role: 'operator',
        status: 'disabled',
      });
    });

    it('refuses an email another user has, in any case, with 409 naming email', async () => {
      const response = await writesNoEvent(() =>
        h.call(admin.token, 'PATCH', `/api/v1/users/${other.id}`, { email: member.email.toUpperCase() }),
      );
      assert.equal(response.status, 409);
      assert.equal(fieldOf(response.body)?.field, 'email');
    });

    const bad: [string, unknown, string][] = [
      ['an empty patch', {}, '(root)'],
      ['an unknown field', { nickname: 'x' }, 'nickname'],
      ['a blank name', { name: ' ' }, 'name'],
      ['a bad email', { email: 'nope' }, 'email'],
      ['a bad locale', { locale: 'en_US' }, 'locale'],
      ['an empty push token', { push_token: '' }, 'push_token'],
    ];
    for (const [what, body, field] of bad) {
      it(`refuses ${what} with 400 naming ${field}`, async () => {
        const response = await writesNoEvent(() =>
          h.call(admin.token, 'PATCH', `/api/v1/users/${member.id}`, body),
        );
        assert.equal(response.status, 400);
        assert.equal(fieldOf(response.body)?.field, field);
      });
    }

    it('answers 404 for a missing user', async () => {
      assert.equal(
        (await h.call(admin.token, 'PATCH', `/api/v1/users/${MISSING}`, { name: 'x' })).status,
        404,
      );
    });
  });

  describe('preferences', () => {
    const full: Preferences = {
      email: true,
      push: false,
      sms: false,
      in_app: true,
      webhook: false,
      category_opt_outs: ['marketing', 'digest'],
      quiet_hours: { start: '22:30', end: '06:45', time_zone: 'America/New_York' },
      locale: 'de-AT',
    };

    it('replaces them (PUT), canonical and sorted, with one user.preferences.updated event', async () => {
      const before = (await h.events(member.id)).length;
      const response = await h.call(member.token, 'PUT', `/api/v1/users/${member.id}/preferences`, full);
      assert.equal(response.status, 200);
      const expected = { ...full, category_opt_outs: ['digest', 'marketing'] };
      assert.deepEqual(response.body, expected);
      assert.deepEqual(
        (await h.call(member.token, 'GET', `/api/v1/users/${member.id}/preferences`)).body,
        expected,
      );
      const events = (await h.events(member.id)).slice(before);
      assert.deepEqual(
        events.map((event) => event.type),
        ['user.preferences.updated'],
      );
      const [replaced] = events;
      assert.ok(replaced && conformsToCatalog(replaced));
      const data = replaced.data as UserPreferencesUpdatedData;
      assert.deepEqual(data.preferences, expected);
      assert.deepEqual(data.previous.locale, 'de-AT');
      assert.equal(data.user_id, member.id);
    });

    it('emits nothing when the same preferences are put again', async () => {
      const response = await writesNoEvent(() =>
        h.call(member.token, 'PUT', `/api/v1/users/${member.id}/preferences`, full),
      );
      assert.equal(response.status, 200);
    });

    it("gives a member 404 for someone else's preferences", async () => {
      const response = await writesNoEvent(() =>
        h.call(member.token, 'PUT', `/api/v1/users/${other.id}/preferences`, full),
      );
      assert.equal(response.status, 404);
    });

    it("lets an operator replace someone else's preferences", async () => {
      const response = await h.call(operator.token, 'PUT', `/api/v1/users/${other.id}/preferences`, {
        ...full,
        quiet_hours: null,
      });
      assert.equal(response.status, 200);
    });

    const bad: [string, Partial<Record<keyof Preferences, unknown>> & Record<string, unknown>, string][] = [
      [
        'a bad time zone',
        { quiet_hours: { start: '22:00', end: '07:00', time_zone: 'Europe/Atlantis' } },
        'quiet_hours.time_zone',
      ],
      [
        'a UTC offset for a zone',
        { quiet_hours: { start: '22:00', end: '07:00', time_zone: '+02:00' } },
        'quiet_hours.time_zone',
      ],
      ['a bad HH:MM', { quiet_hours: { start: '22:00', end: '7:00', time_zone: 'UTC' } }, 'quiet_hours.end'],
      ['24:00', { quiet_hours: { start: '24:00', end: '07:00', time_zone: 'UTC' } }, 'quiet_hours.start'],
      [
        'an empty window',
        { quiet_hours: { start: '07:00', end: '07:00', time_zone: 'UTC' } },
        'quiet_hours.end',
      ],
      [
        'quiet hours without a zone',
        { quiet_hours: { start: '22:00', end: '07:00' } },
        'quiet_hours.time_zone',
      ],
      ['a bad locale', { locale: 'english' }, 'locale'],
      ['an opt-out in capitals', { category_opt_outs: ['Marketing'] }, 'category_opt_outs.0'],
      ['an opt-out twice', { category_opt_outs: ['news', 'news'] }, 'category_opt_outs.1'],
      ['a channel that is not a boolean', { sms: 'no' }, 'sms'],
      ['an unknown field', { fax: true }, 'fax'],
    ];
    for (const [what, change, field] of bad) {
      it(`refuses ${what} with 400 naming ${field}, and changes nothing`, async () => {
        const response = await writesNoEvent(() =>
          h.call(member.token, 'PUT', `/api/v1/users/${member.id}/preferences`, { ...full, ...change }),
        );
        assert.equal(response.status, 400, JSON.stringify(response.body));
        assert.equal(fieldOf(response.body)?.field, field, JSON.stringify(response.body));
      });
    }

    it('refuses a PUT that leaves a field out with 400 naming it (PUT replaces everything)', async () => {
      const { webhook: _left, ...partial } = full;
      const response = await h.call(member.token, 'PUT', `/api/v1/users/${member.id}/preferences`, partial);
      assert.equal(response.status, 400);
      assert.deepEqual(fieldOf(response.body), { field: 'webhook', in: 'body', reason: 'is required' });
    });
  });

  describe('cache', () => {
    it('reads through user:{id} and drops it after an update, so the next read shows the change', async () => {
      const key = cacheKeys.user(member.id);
      await h.cache.delete(key);
      const first = (await h.call(member.token, 'GET', `/api/v1/users/${member.id}`)).json<User>();
      assert.deepEqual(await h.cache.get(key), first);

      await h.call(member.token, 'PATCH', `/api/v1/users/${member.id}`, { name: 'Mia Cached' });
      assert.equal(await h.cache.get(key), undefined, 'the write drops the key right after commit');
      const second = (await h.call(member.token, 'GET', `/api/v1/users/${member.id}`)).json<User>();
      assert.equal(second.name, 'Mia Cached');
    });

    it('serves user:{id} from the cache while it is there', async () => {
      const key = cacheKeys.user(member.id);
      const cached = (await h.call(member.token, 'GET', `/api/v1/users/${member.id}`)).json<User>();
      await h.cache.set(key, { ...cached, name: 'From the cache' }, 60);
      assert.equal(
        (await h.call(member.token, 'GET', `/api/v1/users/${member.id}`)).json<User>().name,
        'From the cache',
      );
      await h.cache.delete(key);
    });

    it('reads through user:preferences:{id} and drops it after a PUT', async () => {
      const key = cacheKeys.userPreferences(member.id);
      const url = `/api/v1/users/${member.id}/preferences`;
      const first = (await h.call(member.token, 'GET', url)).json<Preferences>();
      assert.deepEqual(await h.cache.get(key), first);
      await h.call(member.token, 'PUT', url, { ...first, in_app: !first.in_app });
      assert.equal(await h.cache.get(key), undefined);
      assert.equal((await h.call(member.token, 'GET', url)).json<Preferences>().in_app, !first.in_app);
    });
  });

  describe('delete and the last admin', () => {
    it('refuses to delete, demote or disable the last active admin (409), emitting nothing', async () => {
      assert.equal(await h.directory.countByRole('admin'), 1);
      const deleted = await writesNoEvent(() => h.call(admin.token, 'DELETE', `/api/v1/users/${admin.id}`));
      assert.equal(deleted.status, 409);
      assert.match(String((deleted.body as ProblemDetails).detail), /last active admin/);
      for (const change of [{ role: 'operator' }, { status: 'disabled' }]) {
        const response = await writesNoEvent(() =>
          h.call(admin.token, 'PATCH', `/api/v1/users/${admin.id}`, change),
        );
        assert.equal(response.status, 409);
        assert.equal(fieldOf(response.body)?.field, Object.keys(change)[0]);
      }
    });

    it('of three admins demoted at once, leaves exactly one (the check holds under concurrency)', async () => {
      const second = await h.user('admin');
      const third = await h.user('admin');
      const responses = await Promise.all([
        h.call(admin.token, 'PATCH', `/api/v1/users/${admin.id}`, { role: 'member' }),
        h.call(admin.token, 'PATCH', `/api/v1/users/${second.id}`, { status: 'disabled' }),
        h.call(admin.token, 'PATCH', `/api/v1/users/${third.id}`, { role: 'operator' }),
      ]);
      assert.deepEqual(responses.map((response) => response.status).sort(), [200, 200, 409]);
      assert.equal(await h.directory.countByRole('admin'), 1);
      // Put the first admin back for the tests that follow.
      await h.call(admin.token, 'PATCH', `/api/v1/users/${admin.id}`, { role: 'admin', status: 'active' });
    });

    it('refuses members and operators (users:write) with 403', async () => {
      assert.equal((await h.call(member.token, 'DELETE', `/api/v1/users/${member.id}`)).status, 403);
      assert.equal((await h.call(operator.token, 'DELETE', `/api/v1/users/${member.id}`)).status, 403);
    });

    it('lets an admin delete a user: 204, gone afterwards, user.deleted with the user as it was', async () => {
      const doomed = (await create({ name: 'Doomed', email: 'doomed@example.com' })).json<User>();
      await h.call(admin.token, 'GET', `/api/v1/users/${doomed.id}`);
      const response = await h.call(admin.token, 'DELETE', `/api/v1/users/${doomed.id}`);
      assert.equal(response.status, 204);
      assert.equal(await h.cache.get(cacheKeys.user(doomed.id)), undefined);
      assert.equal((await h.call(admin.token, 'GET', `/api/v1/users/${doomed.id}`)).status, 404);
      const events = await h.events(doomed.id);
      assert.deepEqual(
        events.map((event) => event.type),
        ['user.created', 'user.deleted'],
      );
      assert.ok(events.every(conformsToCatalog));
      assert.deepEqual(events[1]?.data, { user: doomed });
      assert.equal((await h.call(admin.token, 'DELETE', `/api/v1/users/${doomed.id}`)).status, 404);
    });

    it('lets an admin delete an admin who is not the last', async () => {
      const spare = await h.user('admin');
      assert.equal((await h.call(admin.token, 'DELETE', `/api/v1/users/${spare.id}`)).status, 204);
    });
  });
});
