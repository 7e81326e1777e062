import {
  type Clock,
  type IdGenerator,
  type Logger,
  type Pool,
  type Queryable,
  withTransaction,
} from '@switchyard/kernel';
import { createInspector, type Inspection } from './catalog.ts';
import { type DeadLetterReason, recordDeadLetter, stackSummary } from './dead-letters.ts';
import type { CloudEvent } from './envelope.ts';
import { createKeyedQueue } from './keyed-queue.ts';
import {
  BatchEventsFailed,
  type EventHandler,
  type HandlerContext,
  type RetryPolicy,
  SOURCE_A_RETRY,
  type Subscription,
  selects,
} from './port.ts';
import type { TransportMessage } from './transport.ts';

const noop = async () => {};

/**
 * Hands `event` to `handler` inside the caller's transaction unless `group` already processed it. The
 * processed-event row and the handler's writes commit together, so a redelivered event has no effect.
 * Returns false when the event was a duplicate.
 */

/**
 * Which of `ids` the group has handled already: one probe of the primary key per event. With
 * `event_id = ANY($2)` a table without statistics yet (its first minute or so) was read as all of the
 * group's rows, filtered, so each pass grew with the table and the PostgreSQL path ran at half its rate
 * (docs/BENCHMARKS.md, stop 15). The LIMIT keeps the planner from flattening the probe into that scan.
 */
export async function processedAmong(tx: Queryable, group: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const result = await tx.query<{ event_id: string }>(
    `SELECT done.event_id FROM unnest($2::uuid[]) AS id
     CROSS JOIN LATERAL (
       SELECT event_id FROM bus.processed_events WHERE consumer_group = $1 AND event_id = id LIMIT 1
     ) AS done`,
    [group, ids],
  );
  return new Set(result.rows.map((row) => row.event_id));
}

export async function deliverOnce(
  tx: Queryable,
  group: string,
  event: CloudEvent,
  handler: EventHandler,
  context: Omit<HandlerContext, 'tx'>,
): Promise<boolean> {
  const fresh = await tx.query(
    `INSERT INTO bus.processed_events (consumer_group, event_id) VALUES ($1, $2)
     ON CONFLICT DO NOTHING RETURNING 1`,
    [group, event.id],
  );
  if (fresh.rowCount === 0) return false;
  await handler(event, { ...context, tx });
  return true;
}

export type Outcome = 'handled' | 'duplicate' | 'passed_over' | 'dead_lettered';

export interface RawMessage {
  topic: string;
  value: unknown;
  key?: string;
  headers?: Record<string, string>;
}

/** A first attempt that already failed elsewhere (in a batch); `handle` goes on from the first retry. */
export interface PriorFailure {
  error: unknown;
  at: Date;
}

/**
 * Thrown by `handleBatchInTransaction`: which events of the batch (by index) failed an attempt, with its
 * error. Events not named used no attempt (a malformed neighbour, a batch handler that failed as a whole).
 */
export class BatchFailure extends Error {
  readonly attempted: ReadonlyMap<number, unknown>;
  override readonly cause: unknown;

  constructor(attempted: ReadonlyMap<number, unknown>, cause: unknown) {
    super(`the batch failed: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'BatchFailure';
    this.attempted = attempted;
    this.cause = cause;
  }

  /** What the one-at-a-time handling of event `index` starts from. */
  priorFailure(index: number, at: Date): PriorFailure | undefined {
    return this.attempted.has(index) ? { error: this.attempted.get(index), at } : undefined;
  }
}

export interface ConsumerRunner {
  readonly group: string;
  /**
   * Deals with one message completely: handled (with retries), or dead-lettered. Rejects only when the
   * outcome could not be recorded (database unreachable) or the runner is stopping; the message must then
   * be delivered again.
   */
  handle(message: TransportMessage | RawMessage, priorFailure?: PriorFailure): Promise<Outcome>;
  /**
   * Handles already-parsed events in the caller's transaction in one go, for adapters that read batches
   * (the PostgreSQL log). Throws if any needs a retry or a dead letter; the caller then rolls back and
   * hands them to `handle` one by one.
   */
  handleBatchInTransaction(tx: Queryable, events: RawMessage[]): Promise<void>;
  /**
   * After a failed batch: `handle` for each message, a few at once (up to the subscription's concurrency,
   * at most MAX_SIDE_BY_SIDE_RETRIES) and in order per key, so one key's retry waits hold up no other
   * key. Resolves with each message's outcome, in order, when all are dealt with; rejects (after all have
   * settled) with the first rejection.
   */
  handleEach(messages: RawMessage[], failure: BatchFailure, failedAt: Date): Promise<Outcome[]>;
  /** Aborts retry waits; messages in hand are left unacknowledged for redelivery. */
  stop(): void;
  /** Called after each message is dealt with (for drain). */
  onSettled?: () => void;
}

export interface ConsumerRunnerDeps {
  pool: Pool;
  log: Logger;
  clock: Clock;
  ids: IdGenerator;
  /**
   * True for a bus whose batches of a group never run side by side (the PostgreSQL bus claims the group
   * for a pass) and that keeps its place in the log in the batch's transaction. Then a batch marks only
   * the events it handles, after their handler (nothing looks up the marks of events passed over, and
   * reading first keeps the transaction without an xid until its writes). Otherwise (a broker, where a
   * rebalance may hand a partition's messages to two consumers for a moment) every event is marked
   * first, so the second of two concurrent batches waits on the first's marks and skips those events.
   */
  exclusiveBatches?: boolean;
}

/**
 * Events of a failed batch handled at once. Each attempt holds a pool connection for its transaction
 * (and a handler may take another, as a delivery worker does while it sends), so a batch of a group
 * with a high concurrency must not take the pool from the API and every other group; the retry waits in
 * between hold none.
 */
const MAX_SIDE_BY_SIDE_RETRIES = 4;

export class RunnerStoppingError extends Error {
  constructor() {
    super('consumer is stopping; message left for redelivery');
    this.name = 'RunnerStoppingError';
  }
}

/**
 * The consumer runner every adapter shares: validation against the catalog, idempotency, retries with the
 * subscription's backoff, and dead letters for what cannot be handled — so all buses behave alike.
 */
export function createConsumerRunner(subscription: Subscription, deps: ConsumerRunnerDeps): ConsumerRunner {
  const { group, handler } = subscription;
  const policy: RetryPolicy = subscription.options.retry ?? SOURCE_A_RETRY;
  const inspect = createInspector(subscription.options.catalog);
  const decode = subscription.options.decode;
  const batchConcurrency = subscription.options.concurrency ?? 1;
  const batchHandler = subscription.options.batchHandler;
  const accepts = subscription.options.accepts;
  const exclusiveBatches = deps.exclusiveBatches ?? false;
  const inspectMessage = (message: RawMessage): Inspection => {
    const decoded = decode?.(message);
    const inspection = decoded === undefined ? inspect(message.value, message.headers) : inspect(decoded);
    return inspection.kind === 'event' && accepts && !selects(accepts, inspection.event.data)
      ? { kind: 'foreign', event: inspection.event }
      : inspection;
  };
  const log = deps.log.child({ consumer_group: group });
  const abort = new AbortController();

  function wait(ms: number): Promise<void> {
    if (abort.signal.aborted) return Promise.reject(new RunnerStoppingError());
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        abort.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(new RunnerStoppingError());
      };
      abort.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  async function deadLetter(
    topic: string,
    inspection: Inspection,
    raw: { value: unknown; key?: string; headers?: Record<string, string> },
    failure: {
      reason: DeadLetterReason;
      error: string;
      stack?: string;
      attempts: number;
      first: Date;
      last: Date;
    },
  ): Promise<Outcome> {
    // The event when there is one (so replay can send it again), the message as received otherwise.
    const payload = inspection.event
      ? JSON.stringify(inspection.event)
      : Buffer.isBuffer(raw.value)
        ? raw.value.toString('utf8')
        : JSON.stringify(raw.value);
    await withTransaction(deps.pool, (tx) =>
      recordDeadLetter(
        tx,
        {
          group,
          topic,
          ...(inspection.event ? { event: inspection.event } : {}),
          payload,
          ...(raw.key ? { partitionKey: raw.key } : {}),
          headers: raw.headers ?? {},
          reason: failure.reason,
          error: failure.error,
          ...(failure.stack ? { stack: failure.stack } : {}),
          attempts: failure.attempts,
          firstFailedAt: failure.first,
          lastFailedAt: failure.last,
        },
        deps,
      ),
    );
    log.warn(
      {
        topic,
        event_id: inspection.event?.id,
        reason: failure.reason,
        error: failure.error,
        attempts: failure.attempts,
      },
      'message dead-lettered',
    );
    return 'dead_lettered';
  }

  const runner: ConsumerRunner = {
    group,

    async handle(message, priorFailure) {
      const inspection = inspectMessage(message);
      const now = deps.clock();
      let outcome: Outcome;
      if (inspection.kind === 'malformed' || inspection.kind === 'schema') {
        outcome = await deadLetter(message.topic, inspection, message, {
          reason: inspection.kind,
          error: inspection.error,
          attempts: 0,
          first: now,
          last: now,
        });
      } else if (inspection.kind === 'foreign') {
        // Recorded as processed so progress (drain, lag) can be told from the database alone.
        await withTransaction(deps.pool, (tx) =>
          deliverOnce(tx, group, inspection.event, noop, { log, attempt: 1 }),
        );
        outcome = 'passed_over';
      } else {
        outcome = await handleWithRetries(message, inspection.event, priorFailure);
      }
      runner.onSettled?.();
      return outcome;
    },

    async handleEach(messages, failure, failedAt) {
      const queue = createKeyedQueue(Math.min(batchConcurrency, MAX_SIDE_BY_SIDE_RETRIES));
      const settled = await Promise.allSettled(
        messages.map((message, index) =>
          queue.schedule(message.key ?? '', () =>
            runner.handle(message, failure.priorFailure(index, failedAt)),
          ),
        ),
      );
      const outcomes: Outcome[] = [];
      for (const result of settled) {
        if (result.status === 'rejected') throw result.reason;
        outcomes.push(result.value);
      }
      return outcomes;
    },

    async handleBatchInTransaction(tx, events) {
      const inspected = events.map((message) => {
        const inspection = inspectMessage(message);
        if (inspection.kind === 'malformed' || inspection.kind === 'schema') {
          throw new BatchFailure(new Map(), new Error(`${message.topic}: ${inspection.error}`));
        }
        return inspection;
      });
      let fresh: Set<string>;
      if (exclusiveBatches) {
        const ids = inspected.filter(({ kind }) => kind !== 'foreign').map(({ event }) => event.id);
        const done = await processedAmong(tx, group, ids);
        fresh = new Set(ids.filter((id) => !done.has(id)));
      } else {
        // One statement marks the whole batch processed; what it reports as new is what gets handled.
        fresh = new Set(
          (
            await tx.query<{ event_id: string }>({
              name: 'bus.mark-processed',
              text: `INSERT INTO bus.processed_events (consumer_group, event_id)
                     SELECT $1, id FROM unnest($2::uuid[]) AS id
                     ON CONFLICT DO NOTHING RETURNING event_id`,
              values: [group, inspected.map((inspection) => inspection.event.id)],
            })
          ).rows.map((row) => row.event_id),
        );
      }
      const due = [...inspected.entries()].filter(
        ([, inspection]) => inspection.kind !== 'foreign' && fresh.delete(inspection.event.id),
      );
      const markHandled = async () => {
        if (!exclusiveBatches || due.length === 0) return;
        await tx.query(
          `INSERT INTO bus.processed_events (consumer_group, event_id)
           SELECT $1, id FROM unnest($2::uuid[]) AS id ON CONFLICT DO NOTHING`,
          [group, due.map(([, { event }]) => event.id)],
        );
      };
      if (batchHandler && due.length > 0) {
        try {
          await batchHandler(
            due.map(([, { event }]) => event),
            { tx, log },
          );
        } catch (error) {
          log.warn(
            { err: error, events: due.length },
            'batch handler failed; handling the events one by one',
          );
          // Events the handler names as tried have used their first attempt; the rest get all of theirs.
          const attempted = new Map<number, unknown>();
          if (error instanceof BatchEventsFailed) {
            for (const [index, { event }] of due) {
              if (error.failures.has(event.id)) attempted.set(index, error.failures.get(event.id));
            }
          }
          throw new BatchFailure(attempted, error);
        }
        await markHandled();
        return;
      }
      const run = async (index: number, event: CloudEvent) => {
        const eventLog = log.child({ event_id: event.id, event_type: event.type });
        try {
          await handler(event, { tx, log: eventLog, attempt: 1 });
        } catch (error) {
          eventLog.warn({ err: error, attempt: 1, of: policy.retryDelaysMs.length + 1 }, 'handler failed');
          throw new BatchFailure(new Map([[index, error]]), error);
        }
      };
      if (batchConcurrency === 1) {
        for (const [index, { event }] of due) await run(index, event);
        await markHandled();
        return;
      }
      // Handlers that wait on something outside (a mail server) overlap; one key's events still run in
      // order. Their queries share the transaction's connection, which runs them one at a time.
      const queue = createKeyedQueue(batchConcurrency);
      const results = await Promise.allSettled(
        due.map(([index, { event }]) =>
          queue.schedule(event.partitionkey ?? event.id, () => run(index, event)),
        ),
      );
      const failure = results.find((result) => result.status === 'rejected');
      if (failure) throw (failure as PromiseRejectedResult).reason;
      await markHandled();
    },

    stop() {
      abort.abort();
    },
  };

  async function handleWithRetries(
    message: RawMessage,
    event: CloudEvent,
    prior?: PriorFailure,
  ): Promise<Outcome> {
    const eventLog = log.child({ event_id: event.id, event_type: event.type });
    let first: Date | undefined = prior?.at;
    let lastError: unknown = prior?.error;
    const attempts = policy.retryDelaysMs.length + 1;
    for (let attempt = prior ? 2 : 1; attempt <= attempts; attempt += 1) {
      if (attempt > 1) await wait(policy.retryDelaysMs[attempt - 2] ?? 0);
      try {
        const fresh = await withTransaction(deps.pool, (tx) =>
          deliverOnce(tx, group, event, handler, { log: eventLog, attempt }),
        );
        return fresh ? 'handled' : 'duplicate';
      } catch (error) {
        if (error instanceof RunnerStoppingError) throw error;
        first ??= deps.clock();
        lastError = error;
        eventLog.warn({ err: error, attempt, of: attempts }, 'handler failed');
      }
    }
    return deadLetter(message.topic, { kind: 'event', event }, message, {
      reason: 'handler_failed',
      error: lastError instanceof Error ? lastError.message : String(lastError),
      ...(stackSummary(lastError) ? { stack: stackSummary(lastError) } : {}),
      attempts,
      first: first ?? deps.clock(),
      last: deps.clock(),
    });
  }

  return runner;
}
