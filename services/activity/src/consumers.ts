import { defineSubscription } from '@switchyard/contracts';
import Type from 'typebox';
import {
  ACTIVITY_EVENT_TYPE,
  ACTIVITY_GROUP,
  ACTIVITY_TOPIC,
  type ActivityEvent,
  decodeSourceMessage,
  USER_ID_MAX_LENGTH,
} from './domain.ts';
import { storeEvent, storeEvents } from './store.ts';

/** Schema of source D's event, with the event types this installation accepts. */
export function activityEventSchema(eventTypes: readonly string[]) {
  return Type.Object({
    eventId: Type.String({ format: 'uuid' }),
    userId: Type.String({ minLength: 1, maxLength: USER_ID_MAX_LENGTH }),
    eventType: Type.Enum([...eventTypes]),
    timestamp: Type.String({ format: 'date-time' }),
    payload: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  });
}

/**
 * Source D's consumer: validates each message, dead-letters malformed ones and carries on, stores each
 * eventId once. Messages of one user keep their order (the key is the userId); users run in parallel.
 */
export function activitySubscription(eventTypes: readonly string[]) {
  return defineSubscription({
    group: ACTIVITY_GROUP,
    topics: [ACTIVITY_TOPIC],
    catalog: { [ACTIVITY_EVENT_TYPE]: activityEventSchema(eventTypes) },
    decode: decodeSourceMessage,
    concurrency: 4,
    handler: async (event, { tx }) => {
      await storeEvent(tx, event.data as ActivityEvent);
    },
    // A batch in one statement: the rows are stored in the order of the batch, as one by one.
    batchHandler: async (events, { tx }) => {
      await storeEvents(
        tx,
        events.map((event) => event.data as ActivityEvent),
      );
    },
  });
}
