import {
  announceOutboxCommit,
  appendToOutbox,
  type CloudEvent,
  createEvent,
  type EventOrigin,
  outboxInsert,
} from '@switchyard/bus';
import {
  type ServiceDeps,
  USER_EVENTS_TOPIC,
  type UserChanges,
  type UserEventDataOf,
  type UserEventType,
} from '@switchyard/contracts';
import type { Queryable } from '@switchyard/kernel';
import type { UserRecord } from './domain.ts';
import { emailTaken } from './domain.ts';
import { FIRST_EVENT_PARAMETER, insertUserWithEvent, isEmailTaken } from './store.ts';

export const SOURCE = '/switchyard/users';

type EnvelopeDeps = Pick<ServiceDeps, 'clock' | 'ids'>;

/** A user event; subject and partition key are the user id, so one user's events stay in order. */
export function userEvent<T extends UserEventType>(
  deps: EnvelopeDeps,
  type: T,
  userId: string,
  data: UserEventDataOf[T],
  origin: EventOrigin,
): CloudEvent<UserEventDataOf[T], T> {
  return createEvent({ type, subject: userId, data }, origin, { ...deps, source: SOURCE });
}

/**
 * The events an update of `before` into `after` stands for: `user.updated` when the user view changed,
 * `user.preferences.updated` when the preferences did (a locale change is both).
 */
export function updateEvents(
  deps: EnvelopeDeps,
  before: UserRecord,
  after: UserRecord,
  changes: UserChanges,
  preferencesChanged: boolean,
  origin: EventOrigin,
): CloudEvent[] {
  const events: CloudEvent[] = [];
  const id = after.user.id;
  if (Object.keys(changes).length > 0) {
    events.push(userEvent(deps, 'user.updated', id, { user: after.user, changes }, origin));
  }
  if (preferencesChanged) {
    events.push(
      userEvent(
        deps,
        'user.preferences.updated',
        id,
        { user_id: id, preferences: after.preferences, previous: before.preferences },
        origin,
      ),
    );
  }
  return events;
}

export function appendUserEvents(tx: Queryable, events: CloudEvent[]): Promise<void> {
  return appendToOutbox(tx, USER_EVENTS_TOPIC, events);
}

/**
 * Inserts a new user with its `user.created` event in one statement (atomic, one round trip). A taken
 * email becomes a 409 naming the field; nothing is written, event included.
 */
export async function insertNewUser(
  deps: EnvelopeDeps & { db: Queryable },
  record: UserRecord,
  passwordHash: string,
  origin: EventOrigin,
): Promise<void> {
  const event = userEvent(
    deps,
    'user.created',
    record.user.id,
    { user: record.user, preferences: record.preferences },
    origin,
  );
  try {
    await insertUserWithEvent(
      deps.db,
      record,
      passwordHash,
      outboxInsert(USER_EVENTS_TOPIC, [event], FIRST_EVENT_PARAMETER),
    );
  } catch (error) {
    if (isEmailTaken(error)) throw emailTaken();
    throw error;
  }
  announceOutboxCommit(USER_EVENTS_TOPIC);
}
