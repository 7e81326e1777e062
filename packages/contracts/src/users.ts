import Type, { type Static, type TSchema } from 'typebox';
import { ROLES, USER_STATUSES } from './identity.ts';

export const USER_NAME_MAX_LENGTH = 100;
/** RFC 5321's limit on a forward path. */
export const EMAIL_MAX_LENGTH = 254;
/** FCM tokens are ~160 characters; web push subscriptions, serialised, run longer. */
export const PUSH_TOKEN_MAX_LENGTH = 4096;
export const CATEGORY_MAX_LENGTH = 64;
export const CATEGORY_OPT_OUTS_MAX = 100;
/** A lower-case slug such as `marketing` or `billing.invoices`. */
export const CATEGORY_PATTERN = '^[a-z0-9][a-z0-9._:-]*$';
/** 24-hour local wall-clock time, `00:00` to `23:59`. */
export const LOCAL_TIME_PATTERN = '^([01][0-9]|2[0-3]):[0-5][0-9]$';
export const DEFAULT_LOCALE = 'en';

export const RoleSchema = Type.Enum(ROLES, {
  description: 'What the user may do (see the permission table)',
});
export const UserStatusSchema = Type.Enum(USER_STATUSES, {
  description: 'Disabled users keep their data but cannot sign in',
});

/** A user as the API and events show them; the password hash never leaves the users service. */
export const UserSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String({ minLength: 1, maxLength: USER_NAME_MAX_LENGTH }),
    email: Type.String({ format: 'email', maxLength: EMAIL_MAX_LENGTH, description: 'Stored lower-cased' }),
    role: RoleSchema,
    status: UserStatusSchema,
    locale: Type.String({ minLength: 1, maxLength: 35, description: 'BCP 47 language tag, canonical form' }),
    push_token: Type.Union([Type.String({ minLength: 1, maxLength: PUSH_TOKEN_MAX_LENGTH }), Type.Null()]),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'User', additionalProperties: false },
);
export type User = Static<typeof UserSchema>;

export const QuietHoursSchema = Type.Object(
  {
    start: Type.String({ pattern: LOCAL_TIME_PATTERN, description: 'HH:MM local time, inclusive' }),
    end: Type.String({ pattern: LOCAL_TIME_PATTERN, description: 'HH:MM local time, exclusive' }),
    time_zone: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'IANA time zone, e.g. Europe/Berlin',
    }),
  },
  { additionalProperties: false },
);
export type QuietHours = Static<typeof QuietHoursSchema>;

/**
 * What a user wants to receive. `email` and `push` are source C's `email_preference` and
 * `push_preference`; the other channels, category opt-outs, quiet hours and locale are ours.
 */
export const PreferencesSchema = Type.Object(
  {
    email: Type.Boolean(),
    push: Type.Boolean(),
    sms: Type.Boolean(),
    in_app: Type.Boolean(),
    webhook: Type.Boolean(),
    category_opt_outs: Type.Array(
      Type.String({ minLength: 1, maxLength: CATEGORY_MAX_LENGTH, pattern: CATEGORY_PATTERN }),
      { maxItems: CATEGORY_OPT_OUTS_MAX, uniqueItems: true },
    ),
    quiet_hours: Type.Union([QuietHoursSchema, Type.Null()]),
    locale: UserSchema.properties.locale,
  },
  // No $id: the schema appears twice in one event (preferences and previous), which Ajv refuses for an $id.
  { additionalProperties: false },
);
export type Preferences = Static<typeof PreferencesSchema>;

export const DEFAULT_PREFERENCES: Preferences = {
  email: true,
  push: true,
  sms: true,
  in_app: true,
  webhook: true,
  category_opt_outs: [],
  quiet_hours: null,
  locale: DEFAULT_LOCALE,
};

/**
 * Topic of user events. Not a source system's name (none of them publishes user events): ours, keyed by
 * user id so one user's events stay in order.
 */
export const USER_EVENTS_TOPIC = 'user-events';
export const USER_EVENT_TYPES = [
  'user.created',
  'user.updated',
  'user.deleted',
  'user.preferences.updated',
  'user.push_token.unregistered',
] as const;
export type UserEventType = (typeof USER_EVENT_TYPES)[number];

export const USER_CHANGE_FIELDS = ['name', 'email', 'role', 'status', 'locale', 'push_token'] as const;
export type UserChangeField = (typeof USER_CHANGE_FIELDS)[number];
/** What an update changed: field → value before and after. */
export type UserChanges = Partial<{ [K in UserChangeField]: { from: User[K]; to: User[K] } }>;

const Change = <T extends TSchema>(value: T) =>
  Type.Object({ from: value, to: value }, { additionalProperties: false });

export const UserCreatedDataSchema = Type.Object({ user: UserSchema, preferences: PreferencesSchema });
export const UserUpdatedDataSchema = Type.Object({
  user: UserSchema,
  changes: Type.Object(
    {
      name: Type.Optional(Change(UserSchema.properties.name)),
      email: Type.Optional(Change(UserSchema.properties.email)),
      role: Type.Optional(Change(RoleSchema)),
      status: Type.Optional(Change(UserStatusSchema)),
      locale: Type.Optional(Change(UserSchema.properties.locale)),
      push_token: Type.Optional(Change(UserSchema.properties.push_token)),
    },
    { additionalProperties: false, minProperties: 1 },
  ),
});
export const UserDeletedDataSchema = Type.Object({ user: UserSchema });
export const UserPreferencesUpdatedDataSchema = Type.Object({
  user_id: Type.String({ format: 'uuid' }),
  preferences: PreferencesSchema,
  previous: PreferencesSchema,
});

/** Emitted by the delivery workers when a push provider no longer knows a user's token. */
export const PushTokenUnregisteredDataSchema = Type.Object({
  user_id: Type.String({ format: 'uuid' }),
  push_token: Type.String({ minLength: 1 }),
  provider: Type.String(),
  reason: Type.String(),
});
export interface PushTokenUnregisteredData {
  user_id: string;
  push_token: string;
  provider: string;
  reason: string;
}

export interface UserCreatedData {
  user: User;
  preferences: Preferences;
}
export interface UserUpdatedData {
  user: User;
  changes: UserChanges;
}
export interface UserDeletedData {
  user: User;
}
export interface UserPreferencesUpdatedData {
  user_id: string;
  preferences: Preferences;
  previous: Preferences;
}
export interface UserEventDataOf {
  'user.created': UserCreatedData;
  'user.updated': UserUpdatedData;
  'user.deleted': UserDeletedData;
  'user.preferences.updated': UserPreferencesUpdatedData;
  'user.push_token.unregistered': PushTokenUnregisteredData;
}

/**
 * The user events and the schema of their data. `subject` and the partition key are the user id. A
 * change to `locale` emits both `user.updated` and `user.preferences.updated`, since both views show it.
 */
export const UserEventCatalog = {
  'user.created': UserCreatedDataSchema,
  'user.updated': UserUpdatedDataSchema,
  'user.deleted': UserDeletedDataSchema,
  'user.preferences.updated': UserPreferencesUpdatedDataSchema,
  'user.push_token.unregistered': PushTokenUnregisteredDataSchema,
} satisfies Record<UserEventType, TSchema>;

const wallClocks = new Map<string, Intl.DateTimeFormat>();

/** Minutes since local midnight at `instant` on the wall clocks of `timeZone` (DST included). */
function localMinutes(timeZone: string, instant: Date): number {
  let clock = wallClocks.get(timeZone);
  if (!clock) {
    // h23, not hour12: false, which some engines render as 24:05 just after midnight.
    clock = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      hour: '2-digit',
      minute: '2-digit',
    });
    wallClocks.set(timeZone, clock);
  }
  let hour = 0;
  let minute = 0;
  for (const part of clock.formatToParts(instant)) {
    if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return hour * 60 + minute;
}

function minutesOf(time: string): number {
  return Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));
}

/**
 * Whether `instant` falls in the user's quiet hours: from `start` (inclusive) to `end` (exclusive) on the
 * wall clock of `time_zone`. A window whose end is not after its start crosses midnight (22:00–07:00).
 * Being wall-clock times, the window follows DST: 22:00–07:00 in Europe/Berlin is 21:00–05:00 UTC in
 * summer and 21:00–06:00 UTC in winter; on a spring-forward night it is an hour shorter, on fall-back an
 * hour longer, and a start that the clock skips (02:30) begins at the first minute after it.
 */
export function isInQuietHours(preferences: Pick<Preferences, 'quiet_hours'>, instant: Date): boolean {
  const window = preferences.quiet_hours;
  if (!window) return false;
  const now = localMinutes(window.time_zone, instant);
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  if (start === end) return false;
  return start < end ? now >= start && now < end : now >= start || now < end;
}
