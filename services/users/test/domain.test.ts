import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_PREFERENCES, type Preferences } from '@switchyard/contracts';
import type { HttpProblem } from '@switchyard/kernel';
import {
  applyPatch,
  canonicalLocale,
  canonicalTimeZone,
  checkPatch,
  checkPreferences,
  decodeCursor,
  encodeCursor,
  likePrefix,
  mayReach,
  newUser,
  type PreferencesInput,
  refusedFields,
  removesActiveAdmin,
  replacePreferences,
  type UserRecord,
} from '../src/domain.ts';

const t0 = new Date('2026-11-22T10:00:00.000Z');
const t1 = new Date('2026-11-22T10:05:00.000Z');
const id = '01a204b0-8f10-727d-8a49-f7a461d9a4c6';
const other = '01a204b0-8f10-727d-8a49-f7a461d9a4c7';

function record(overrides: Partial<UserRecord['user']> = {}): UserRecord {
  const created = newUser({ name: 'Ada', email: 'Ada@Example.com' }, id, t0);
  assert.ok(created.ok);
  return { ...created.value, user: { ...created.value.user, ...overrides } };
}

const input = (overrides: Partial<PreferencesInput> = {}): PreferencesInput => ({
  ...DEFAULT_PREFERENCES,
  ...overrides,
});

function fieldsOf(checked: { ok: boolean; errors?: { field: string; reason: string }[] }) {
  return checked.ok ? [] : (checked.errors ?? []).map((error) => error.field);
}

describe('users domain', () => {
  describe('who may reach whom', () => {
    it('given a member, when they ask for themselves, then they may; for someone else, they may not', () => {
      assert.equal(mayReach({ userId: id, role: 'member' }, id), true);
      assert.equal(mayReach({ userId: id, role: 'member' }, other), false);
    });

    it('given an operator or an admin (users:all), when they ask for anyone, then they may', () => {
      assert.equal(mayReach({ userId: id, role: 'operator' }, other), true);
      assert.equal(mayReach({ userId: id, role: 'admin' }, other), true);
    });

    it('given an unknown role, when it asks for someone else, then it may not', () => {
      assert.equal(mayReach({ userId: id, role: 'root' }, other), false);
    });
  });

  describe('who may change what', () => {
    it('given a member, when the patch sets role, status or email, then each of those fields is refused', () => {
      const refused = refusedFields(
        { userId: id, role: 'member' },
        {
          name: 'x',
          role: 'admin',
          status: 'active',
          email: 'x@example.com',
        },
      );
      assert.deepEqual(
        refused.map((error) => error.field),
        ['email', 'role', 'status'],
      );
      assert.match(refused[0]?.reason ?? '', /users:write/);
    });

    it('given an operator, when the patch sets the role, then it is refused (users:all is not users:write)', () => {
      assert.deepEqual(
        refusedFields({ userId: id, role: 'operator' }, { role: 'member' }).map((error) => error.field),
        ['role'],
      );
    });

    it('given an admin, when the patch sets anything, then nothing is refused', () => {
      assert.deepEqual(refusedFields({ userId: id, role: 'admin' }, { role: 'member', email: 'a@b.co' }), []);
    });
  });

  describe('new users', () => {
    it('given name and email only, when created, then it is an active member with default preferences', () => {
      const created = newUser({ name: '  Ada  ', email: 'Ada@Example.COM' }, id, t0);
      assert.ok(created.ok);
      assert.deepEqual(created.value.user, {
        id,
        name: 'Ada',
        email: 'ada@example.com',
        role: 'member',
        status: 'active',
        locale: 'en',
        push_token: null,
        created_at: t0.toISOString(),
        updated_at: t0.toISOString(),
      });
      assert.deepEqual(created.value.preferences, DEFAULT_PREFERENCES);
    });

    it('given some preferences, when created, then the rest are defaults', () => {
      const created = newUser(
        { name: 'Ada', email: 'a@b.co', locale: 'pt-br', preferences: { sms: false } },
        id,
        t0,
      );
      assert.ok(created.ok);
      assert.deepEqual(created.value.preferences, { ...DEFAULT_PREFERENCES, sms: false, locale: 'pt-BR' });
    });

    it('given a blank name and a bad locale, when created, then both are named (locale as a top-level field)', () => {
      assert.deepEqual(fieldsOf(newUser({ name: '   ', email: 'a@b.co', locale: 'en_US' }, id, t0)), [
        'name',
        'locale',
      ]);
    });

    it('given bad quiet hours in the preferences, when created, then the field is named under preferences.', () => {
      const created = newUser(
        {
          name: 'Ada',
          email: 'a@b.co',
          preferences: { quiet_hours: { start: '25:00', end: '07:00', time_zone: 'UTC' } },
        },
        id,
        t0,
      );
      assert.deepEqual(fieldsOf(created), ['preferences.quiet_hours.start']);
    });
  });

  describe('preferences', () => {
    it('given a zone, a locale and opt-outs in any case and order, when checked, then they come back canonical', () => {
      const checked = checkPreferences(
        input({
          category_opt_outs: ['marketing', 'billing.invoices'],
          quiet_hours: { start: '22:00', end: '07:00', time_zone: 'europe/berlin' },
          locale: 'en-gb',
        }),
      );
      assert.ok(checked.ok);
      assert.deepEqual(checked.value.quiet_hours, {
        start: '22:00',
        end: '07:00',
        time_zone: 'Europe/Berlin',
      });
      assert.equal(checked.value.locale, 'en-GB');
      assert.deepEqual(checked.value.category_opt_outs, ['billing.invoices', 'marketing']);
    });

    for (const time of ['24:00', '7:00', '07:60', '07:00:00', 'seven', '']) {
      it(`given quiet hours starting at ${JSON.stringify(time)}, when checked, then start is refused`, () => {
        const checked = checkPreferences(
          input({ quiet_hours: { start: time, end: '07:00', time_zone: 'UTC' } }),
        );
        assert.deepEqual(fieldsOf(checked), ['quiet_hours.start']);
      });
    }

    it('given quiet hours that start when they end, when checked, then end is refused', () => {
      const checked = checkPreferences(
        input({ quiet_hours: { start: '07:00', end: '07:00', time_zone: 'UTC' } }),
      );
      assert.deepEqual(fieldsOf(checked), ['quiet_hours.end']);
    });

    for (const zone of ['Mars/Olympus_Mons', '+01:00', '-05:00', 'CET1', '']) {
      it(`given time zone ${JSON.stringify(zone)}, when checked, then time_zone is refused`, () => {
        const checked = checkPreferences(
          input({ quiet_hours: { start: '22:00', end: '07:00', time_zone: zone } }),
        );
        assert.deepEqual(fieldsOf(checked), ['quiet_hours.time_zone']);
      });
    }

    for (const locale of ['en_US', 'english', 'zz', 'x', '123', '']) {
      it(`given locale ${JSON.stringify(locale)}, when checked, then locale is refused`, () => {
        assert.deepEqual(fieldsOf(checkPreferences(input({ locale }))), ['locale']);
      });
    }

    it('given an opt-out listed twice or not a lower-case name, when checked, then that entry is refused', () => {
      const checked = checkPreferences(input({ category_opt_outs: ['news', 'News', 'news', '-x'] }));
      assert.deepEqual(fieldsOf(checked), [
        'category_opt_outs.1',
        'category_opt_outs.2',
        'category_opt_outs.3',
      ]);
    });

    it('given the same preferences, when replaced, then nothing happens', () => {
      assert.equal(replacePreferences(record(), { ...DEFAULT_PREFERENCES }, t1), null);
    });

    it('given a new locale in the preferences, when replaced, then the user locale changes too and is recorded', () => {
      const next: Preferences = { ...DEFAULT_PREFERENCES, locale: 'de' };
      const replaced = replacePreferences(record(), next, t1);
      assert.ok(replaced);
      assert.equal(replaced.record.user.locale, 'de');
      assert.equal(replaced.record.user.updated_at, t1.toISOString());
      assert.deepEqual(replaced.changes, { locale: { from: 'en', to: 'de' } });
    });

    it('given only a channel switched off, when replaced, then no user field is recorded as changed', () => {
      const replaced = replacePreferences(record(), { ...DEFAULT_PREFERENCES, push: false }, t1);
      assert.deepEqual(replaced?.changes, {});
      assert.equal(replaced?.record.preferences.push, false);
    });

    it('canonicalises zones and locales, and refuses offsets, which are not zones', () => {
      assert.equal(canonicalTimeZone('utc'), 'UTC');
      assert.equal(canonicalTimeZone('+02:00'), undefined);
      assert.equal(canonicalLocale('EN-us'), 'en-US');
      assert.equal(canonicalLocale('en_US'), undefined);
      assert.equal(canonicalLocale('sr-latn-rs'), 'sr-Latn-RS');
      assert.equal(canonicalLocale('gsw'), 'gsw');
    });
  });

  describe('patches', () => {
    it('given a name with spaces, an upper-case email and a lower-case locale, when checked, then they are normalised', () => {
      const checked = checkPatch({ name: ' Ada L. ', email: 'ADA@Example.com', locale: 'pt-br' });
      assert.ok(checked.ok);
      assert.deepEqual(checked.value, { name: 'Ada L.', email: 'ada@example.com', locale: 'pt-BR' });
    });

    it('given a blank name or a bad locale, when checked, then the fields are named', () => {
      assert.deepEqual(fieldsOf(checkPatch({ name: ' ', locale: 'en_US' })), ['name', 'locale']);
    });

    it('given a new name and push token, when applied, then only they and updated_at change and are recorded', () => {
      const before = record();
      const patched = applyPatch(before, { name: 'Ada L.', push_token: 'fcm-token' }, t1);
      assert.ok(patched);
      assert.deepEqual(patched.record.user, {
        ...before.user,
        name: 'Ada L.',
        push_token: 'fcm-token',
        updated_at: t1.toISOString(),
      });
      assert.deepEqual(patched.changes, {
        name: { from: 'Ada', to: 'Ada L.' },
        push_token: { from: null, to: 'fcm-token' },
      });
    });

    it('given a new locale, when applied, then the preferences carry it too', () => {
      const patched = applyPatch(record(), { locale: 'fr' }, t1);
      assert.equal(patched?.record.preferences.locale, 'fr');
      assert.deepEqual(patched?.changes, { locale: { from: 'en', to: 'fr' } });
    });

    it('given values equal to the current ones, when applied, then nothing happens', () => {
      assert.equal(applyPatch(record(), { name: 'Ada', email: 'ada@example.com', role: 'member' }, t1), null);
    });
  });

  describe('the last admin', () => {
    const admin = record({ role: 'admin' }).user;

    it('given an active admin, when deleted, demoted or disabled, then an active admin is taken away', () => {
      assert.equal(removesActiveAdmin(admin, null), true);
      assert.equal(removesActiveAdmin(admin, { ...admin, role: 'operator' }), true);
      assert.equal(removesActiveAdmin(admin, { ...admin, status: 'disabled' }), true);
    });

    it('given an admin who stays one, or a user who never was an active admin, then none is taken away', () => {
      assert.equal(removesActiveAdmin(admin, { ...admin, name: 'x' }), false);
      assert.equal(removesActiveAdmin(record().user, null), false);
      assert.equal(removesActiveAdmin({ ...admin, status: 'disabled' }, null), false);
    });
  });

  describe('cursors and search', () => {
    it('round-trips a cursor', () => {
      const user = record().user;
      assert.deepEqual(decodeCursor(encodeCursor(user)), { at: user.created_at, id: user.id });
    });

    it('refuses forged or garbled cursors, naming the cursor parameter', () => {
      const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      for (const text of [
        'garbage',
        forged({ at: 'yesterday', id }),
        forged({ at: t0.toISOString(), id: "1' OR '1'='1" }),
        forged({ at: '1', id }),
        forged(['x']),
        forged(null),
      ]) {
        assert.throws(
          () => decodeCursor(text),
          (error: HttpProblem) => error.status === 400 && error.problem.errors?.[0]?.field === 'cursor',
          text,
        );
      }
    });

    it('takes % and _ in a search literally', () => {
      assert.equal(likePrefix('a%b_c\\'), 'a\\%b\\_c\\\\%');
    });
  });
});
