export {
  type CatalogEvent,
  CloudEventSchema,
  createInspector,
  type EventCatalog,
  type Inspection,
} from './catalog.ts';
export {
  DEAD_LETTER_EVENT,
  DEAD_LETTER_TOPIC,
  type DeadLetter,
  type DeadLetterFilter,
  type DeadLetterReason,
  discardDeadLetter,
  getDeadLetter,
  listDeadLetters,
  NotReplayableError,
  OUTBOX_ID_HEADER,
  recordDeadLetter,
  replayableIds,
  replayDeadLetter,
} from './dead-letters.ts';
export {
  type CloudEvent,
  createEvent,
  type EnvelopeDeps,
  type EventOrigin,
  type NewEvent,
  originOf,
} from './envelope.ts';
export { createKeyedQueue, type KeyedQueue } from './keyed-queue.ts';
export {
  announceOutboxCommit,
  appendToOutbox,
  type CommitListener,
  type CursorRow,
  claimCursor,
  countOutboxAfter,
  cursorAfter,
  linkOutboxCommitsAcrossThreads,
  OUTBOX_CHANNEL,
  OUTBOX_START,
  type OutboxCursor,
  type OutboxRecord,
  type OutboxSelection,
  onOutboxCommit,
  outboxHead,
  outboxInsert,
  peekCursor,
  readOutboxSelecting,
  saveCursor,
} from './outbox.ts';
export {
  addSubscription,
  type BatchEventHandler,
  BatchEventsFailed,
  type Bus,
  type DataSelector,
  type EventHandler,
  type GroupLag,
  type HandlerContext,
  LAG_COUNT_CAP,
  type RetryPolicy,
  SOURCE_A_RETRY,
  SOURCE_C_RETRY,
  type SubscribeOptions,
  type Subscription,
  selects,
} from './port.ts';
export {
  BatchFailure,
  type ConsumerRunner,
  type ConsumerRunnerDeps,
  createConsumerRunner,
  deliverOnce,
  type Outcome,
  type PriorFailure,
  processedAmong,
  type RawMessage,
  RunnerStoppingError,
} from './runner.ts';
export type {
  ConsumeOptions,
  Transport,
  TransportBatchHandler,
  TransportConsumer,
  TransportHandler,
  TransportMessage,
} from './transport.ts';

/** Migrations of the `bus` schema (outbox, processed events, dead letters), applied before any service's. */
export const busMigrations = { schema: 'bus', directory: new URL('../migrations/', import.meta.url) };
export { type BrokerBusOptions, createBrokerBus } from './broker-bus.ts';
export { registerDeadLetterRoutes } from './dead-letters-http.ts';
