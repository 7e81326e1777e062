import {
  CATEGORY_PATTERN,
  can,
  DEFAULT_LOCALE,
  DEFAULT_PREFERENCES,
  LOCAL_TIME_PATTERN,
  type Preferences,
  type Role,
  type User,
  type UserChanges,
  type UserStatus,
} from '@switchyard/contracts';
import {
  decodePageCursor,
  encodePageCursor,
  type FieldError,
  HttpProblem,
  isTimestamp,
  problems,
} from '@switchyard/kernel';

/** Who is asking: their user id and role (for an API key, the admin who made it). */
export interface Caller {
  userId: string;
  role: string;
}

/** A user's row as the service holds it: the public view and the preferences, read together. */
export interface UserRecord {
  user: User;
  preferences: Preferences;
}

/**
 * Whether the caller may see or change user `id` at all: themselves, or anyone with `users:all`. Callers
 * who may not are answered 404, as if the user did not exist, so ids cannot be probed.
 */
export function mayReach(caller: Caller, id: string): boolean {
  return caller.userId === id || can(caller.role, 'users:all');
}

/**
 * Fields only `users:write` holders may change: role and status decide what an account can do, and the
 * email is the login name — changing it with a borrowed session would take the account over, so a
 * self-service change belongs to the auth service, where it can ask for the password.
 */
export const PRIVILEGED_FIELDS = ['email', 'role', 'status'] as const;

export interface UserPatch {
  name?: string;
  email?: string;
  locale?: string;
  push_token?: string | null;
  role?: Role;
  status?: UserStatus;
}

/** The privileged fields a patch sets that the caller may not change; empty when it may apply. */
export function refusedFields(caller: Caller, patch: UserPatch): FieldError[] {
  if (can(caller.role, 'users:write')) return [];
  return PRIVILEGED_FIELDS.filter((field) => patch[field] !== undefined).map((field) => ({
    field,
    in: 'body' as const,
    reason: `changing it needs the users:write permission, which the ${caller.role} role lacks`,
  }));
}

export function forbidden(errors: FieldError[]): HttpProblem {
  return new HttpProblem(
    403,
    'forbidden',
    'Forbidden',
    'The request changes fields the caller may not change',
    {
      errors,
    },
  );
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The canonical IANA name (`europe/berlin` → `Europe/Berlin`), or undefined when it is not one. */
export function canonicalTimeZone(name: string): string | undefined {
  // Intl also takes UTC offsets (+01:00); they are not zones, and they know nothing of DST.
  if (/^[+-]/.test(name)) return undefined;
  try {
    return new Intl.DateTimeFormat('en', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

const languages = new Intl.DisplayNames('en', { type: 'language', fallback: 'none' });

/**
 * The canonical BCP 47 tag (`en-us` → `en-US`), or undefined when it is not one (`en_US`) or its language
 * is one ICU does not know: `english` and `zz` are well-formed tags, but no language.
 */
export function canonicalLocale(tag: string): string | undefined {
  try {
    const [canonical] = Intl.getCanonicalLocales(tag);
    if (!canonical || canonical.length > 35) return undefined;
    return languages.of(new Intl.Locale(canonical).language) === undefined ? undefined : canonical;
  } catch {
    return undefined;
  }
}

const TIME = new RegExp(LOCAL_TIME_PATTERN);
const CATEGORY = new RegExp(CATEGORY_PATTERN);
const LOCALE_REASON = 'must be a BCP 47 language tag such as en, de or pt-BR';

/** Preferences as a request sends them: the right types, not yet checked for meaning. */
export interface PreferencesInput {
  email: boolean;
  push: boolean;
  sms: boolean;
  in_app: boolean;
  webhook: boolean;
  category_opt_outs: string[];
  quiet_hours: { start: string; end: string; time_zone: string } | null;
  locale: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/**
 * Checks preferences for meaning and puts them in canonical form: zone and locale canonicalised, opt-outs
 * sorted (they are a set). `prefix` names where they sit in the body (`preferences.` inside a create).
 */
export function checkPreferences(input: PreferencesInput, prefix = ''): Checked<Preferences> {
  const errors: FieldError[] = [];
  const fail = (field: string, reason: string) =>
    errors.push({ field: `${prefix}${field}`, in: 'body', reason });

  const seen = new Set<string>();
  input.category_opt_outs.forEach((category, index) => {
    if (!CATEGORY.test(category)) {
      fail(
        `category_opt_outs.${index}`,
        'must be a lower-case category name: a-z, 0-9, and . _ : - after the first character',
      );
    } else if (seen.has(category)) {
      fail(`category_opt_outs.${index}`, `lists ${category} a second time`);
    }
    seen.add(category);
  });

  let quietHours: Preferences['quiet_hours'] = null;
  if (input.quiet_hours) {
    const { start, end, time_zone } = input.quiet_hours;
    const hhmm = 'must be a 24-hour local time HH:MM, 00:00 to 23:59';
    if (!TIME.test(start)) fail('quiet_hours.start', hhmm);
    if (!TIME.test(end)) fail('quiet_hours.end', hhmm);
    if (TIME.test(start) && start === end) {
      fail('quiet_hours.end', 'must differ from start (an empty or all-day window says nothing clear)');
    }
    const zone = canonicalTimeZone(time_zone);
    if (!zone) fail('quiet_hours.time_zone', 'must be an IANA time zone such as Europe/Berlin or UTC');
    quietHours = { start, end, time_zone: zone ?? time_zone };
  }

  const locale = canonicalLocale(input.locale);
  if (!locale) fail('locale', LOCALE_REASON);

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      email: input.email,
      push: input.push,
      sms: input.sms,
      in_app: input.in_app,
      webhook: input.webhook,
      category_opt_outs: [...seen].sort(),
      quiet_hours: quietHours,
      locale: locale ?? DEFAULT_LOCALE,
    },
  };
}

export function valid<T>(checked: Checked<T>): T {
  if (!checked.ok) throw problems.validation(checked.errors, 'The request body has invalid fields');
  return checked.value;
}

function checkName(name: string, errors: FieldError[]): string {
  const trimmed = name.trim();
  if (trimmed === '') errors.push({ field: 'name', in: 'body', reason: 'must not be blank' });
  return trimmed;
}

export interface NewUserInput {
  name: string;
  email: string;
  role?: Role;
  status?: UserStatus;
  locale?: string;
  push_token?: string | null;
  preferences?: Partial<Omit<PreferencesInput, 'locale'>>;
}

/** A new user and their preferences (defaults for what the input leaves out), or why the input is refused. */
export function newUser(input: NewUserInput, id: string, now: Date): Checked<UserRecord> {
  const errors: FieldError[] = [];
  const name = checkName(input.name, errors);
  const preferences = checkPreferences(
    { ...DEFAULT_PREFERENCES, ...input.preferences, locale: input.locale ?? DEFAULT_LOCALE },
    'preferences.',
  );
  if (!preferences.ok) {
    // Locale is a top-level field of a create, not one of its preferences.
    errors.push(
      ...preferences.errors.map((error) =>
        error.field === 'preferences.locale' ? { ...error, field: 'locale' } : error,
      ),
    );
  }
  if (!preferences.ok || errors.length > 0) return { ok: false, errors };
  const at = now.toISOString();
  return {
    ok: true,
    value: {
      user: {
        id,
        name,
        email: normalizeEmail(input.email),
        role: input.role ?? 'member',
        status: input.status ?? 'active',
        locale: preferences.value.locale,
        push_token: input.push_token ?? null,
        created_at: at,
        updated_at: at,
      },
      preferences: preferences.value,
    },
  };
}

/** Puts a patch in canonical form (trimmed name, lower-cased email, canonical locale) or says why not. */
export function checkPatch(patch: UserPatch): Checked<UserPatch> {
  const errors: FieldError[] = [];
  const checked: UserPatch = { ...patch };
  if (patch.name !== undefined) checked.name = checkName(patch.name, errors);
  if (patch.email !== undefined) checked.email = normalizeEmail(patch.email);
  if (patch.locale !== undefined) {
    const locale = canonicalLocale(patch.locale);
    if (locale) checked.locale = locale;
    else errors.push({ field: 'locale', in: 'body', reason: LOCALE_REASON });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: checked };
}

/** Applies a checked patch; null when it changes nothing, so no write and no event happen. */
export function applyPatch(
  record: UserRecord,
  patch: UserPatch,
  now: Date,
): { record: UserRecord; changes: UserChanges } | null {
  const { user } = record;
  const changes: UserChanges = {};
  const next: User = { ...user };
  if (patch.name !== undefined && patch.name !== user.name) {
    changes.name = { from: user.name, to: patch.name };
    next.name = patch.name;
  }
  if (patch.email !== undefined && patch.email !== user.email) {
    changes.email = { from: user.email, to: patch.email };
    next.email = patch.email;
  }
  if (patch.role !== undefined && patch.role !== user.role) {
    changes.role = { from: user.role, to: patch.role };
    next.role = patch.role;
  }
  if (patch.status !== undefined && patch.status !== user.status) {
    changes.status = { from: user.status, to: patch.status };
    next.status = patch.status;
  }
  if (patch.locale !== undefined && patch.locale !== user.locale) {
    changes.locale = { from: user.locale, to: patch.locale };
    next.locale = patch.locale;
  }
  if (patch.push_token !== undefined && patch.push_token !== user.push_token) {
    changes.push_token = { from: user.push_token, to: patch.push_token };
    next.push_token = patch.push_token;
  }
  if (Object.keys(changes).length === 0) return null;
  next.updated_at = now.toISOString();
  return { record: { user: next, preferences: { ...record.preferences, locale: next.locale } }, changes };
}

/** Replaces the preferences; null when they are the same, so no write and no event happen. */
export function replacePreferences(
  record: UserRecord,
  preferences: Preferences,
  now: Date,
): { record: UserRecord; changes: UserChanges } | null {
  if (samePreferences(record.preferences, preferences)) return null;
  const changes: UserChanges =
    preferences.locale === record.user.locale
      ? {}
      : { locale: { from: record.user.locale, to: preferences.locale } };
  return {
    record: {
      user: { ...record.user, locale: preferences.locale, updated_at: now.toISOString() },
      preferences,
    },
    changes,
  };
}

export function samePreferences(a: Preferences, b: Preferences): boolean {
  return (
    a.email === b.email &&
    a.push === b.push &&
    a.sms === b.sms &&
    a.in_app === b.in_app &&
    a.webhook === b.webhook &&
    a.locale === b.locale &&
    a.category_opt_outs.length === b.category_opt_outs.length &&
    a.category_opt_outs.every((category, index) => category === b.category_opt_outs[index]) &&
    (a.quiet_hours === null
      ? b.quiet_hours === null
      : b.quiet_hours !== null &&
        a.quiet_hours.start === b.quiet_hours.start &&
        a.quiet_hours.end === b.quiet_hours.end &&
        a.quiet_hours.time_zone === b.quiet_hours.time_zone)
  );
}

/** Whether going from `before` to `after` (null: deleted) takes an active admin away. */
export function removesActiveAdmin(before: User, after: User | null): boolean {
  if (before.role !== 'admin' || before.status !== 'active') return false;
  return after === null || after.role !== 'admin' || after.status !== 'active';
}

export function lastAdmin(user: User, action: 'delete' | 'patch', patch: UserPatch = {}): HttpProblem {
  const errors: FieldError[] =
    action === 'delete'
      ? []
      : (['role', 'status'] as const)
          .filter((field) => patch[field] !== undefined)
          .map((field) => ({
            field,
            in: 'body' as const,
            reason: 'would leave no active admin; make another user an active admin first',
          }));
  return new HttpProblem(
    409,
    'last-admin',
    'Conflict',
    `${user.email} is the last active admin; ${action === 'delete' ? 'deleting' : 'demoting or disabling'} them would leave nobody able to manage users`,
    errors.length > 0 ? { errors } : {},
  );
}

export function emailTaken(): HttpProblem {
  return new HttpProblem(409, 'conflict', 'Conflict', 'Another user has this email', {
    errors: [
      { field: 'email', in: 'body', reason: 'is already registered (emails compare case-insensitively)' },
    ],
  });
}

/** Position after the last user of a page (newest first): its creation time and id. */
export interface ListCursor {
  at: string;
  id: string;
}

export function encodeCursor(user: User): string {
  return encodePageCursor({ at: user.created_at, id: user.id } satisfies ListCursor);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(text: string): boolean {
  return UUID.test(text);
}

export function decodeCursor(text: string): ListCursor {
  return decodePageCursor(text, ({ at, id }) =>
    isTimestamp(at) && typeof id === 'string' && isUuid(id) ? { at, id } : undefined,
  );
}

/** A LIKE pattern matching text that starts with `prefix` taken literally (`%` and `_` included). */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, '\\$&')}%`;
}
