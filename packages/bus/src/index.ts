export {
  type CloudEvent,
  createEvent,
  type EnvelopeDeps,
  type EventOrigin,
  type NewEvent,
  originFrom,
} from './envelope.ts';
export {
  appendToOutbox,
  cursorAfter,
  OUTBOX_CHANNEL,
  OUTBOX_START,
  type OutboxCursor,
  type OutboxRecord,
  outboxHead,
  readOutbox,
} from './outbox.ts';
export {
  type Bus,
  DEFAULT_RETRY_POLICY,
  type EventHandler,
  type HandlerContext,
  type RetryPolicy,
} from './port.ts';
export { deliverOnce, retryDelayMs } from './runner.ts';

/** Migrations of the `bus` schema (outbox, processed events), applied before any service's. */
export const busMigrations = { schema: 'bus', directory: new URL('../migrations/', import.meta.url) };
