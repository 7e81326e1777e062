import {
  appendToOutbox,
  BatchEventsFailed,
  type CloudEvent,
  createEvent,
  createKeyedQueue,
  type EventOrigin,
  originOf,
  SOURCE_C_RETRY,
} from '@switchyard/bus';
import {
  type Channel,
  type DeliveryAttempted,
  type DeliveryOutcomeKind,
  type DeliveryRequested,
  defineSubscription,
  NOTIFICATIONS_TOPIC,
  NotificationEventCatalog,
  type ServiceDeps,
  USER_EVENTS_TOPIC,
} from '@switchyard/contracts';
import { createCoalescer, type Queryable } from '@switchyard/kernel';
import type { SendContext } from './domain.ts';
import type { RoutedOutcome } from './resilience.ts';

const SOURCE = '/switchyard/delivery';
/** Source C: retries after 1 s, 2 s and 4 s, so four attempts in all before dead letters. */
export const DELIVERY_RETRY = SOURCE_C_RETRY;
const MAX_ATTEMPTS = DELIVERY_RETRY.retryDelaysMs.length + 1;
/**
 * Sends at once within a batch, where the service does not set a channel's own figure. A send is a few
 * round trips, each waiting its turn on this busy event loop, so it is latency that limits a batch.
 */
const SENDS_PER_BATCH_AT_ONCE = 128;
/**
 * Handlers at once where the bus hands events over one at a time (those of a failed batch, retried one
 * by one) and Kafka partitions whose runs are handled at once. Each holds a transaction's connection
 * while it sends and takes a second for the ledger, so this is bounded by the pool (20), which the API
 * and the other groups share.
 */
const HANDLERS_AT_ONCE = 8;

/** Sends one delivery on its channel; every failure is an outcome, never a throw. */
export type ChannelSender = (delivery: DeliveryRequested, context: SendContext) => Promise<RoutedOutcome>;

/** Thrown to make the consumer runner retry (and, after the last attempt, dead-letter with the reason). */
export class TransientDeliveryError extends Error {
  override name = 'TransientDeliveryError';
}

type SendState = 'sending' | 'sent' | 'delivered' | 'failed' | 'cancelled';

interface SendRecord {
  delivery_id: string;
  state: SendState;
  attempts: number;
  provider: string | null;
  provider_message_id: string | null;
}

async function sendRecords(db: Queryable, deliveryIds: string[]): Promise<Map<string, SendRecord>> {
  const result = await db.query<SendRecord>(
    `SELECT delivery_id, state, attempts, provider, provider_message_id FROM delivery.sends
      WHERE delivery_id = ANY($1::uuid[])`,
    [deliveryIds],
  );
  return new Map(result.rows.map((row) => [row.delivery_id, row]));
}

/** Sent on an earlier try, though its report may have been rolled back: report again, never send again. */
function wasSent(record: SendRecord | undefined): record is SendRecord & { state: 'sent' | 'delivered' } {
  return record?.state === 'sent' || record?.state === 'delivered';
}

interface LedgerRow {
  deliveryId: string;
  channel: Channel;
  state: SendState;
  attempt: number;
  provider: string | null;
  providerMessageId: string | null;
}

/** Writes ledger rows, one statement; a delivery given twice keeps its last row. */
async function saveStates(db: Queryable, given: LedgerRow[], now: Date): Promise<void> {
  const rows = [...new Map(given.map((row) => [row.deliveryId, row])).values()];
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO delivery.sends (delivery_id, channel, state, attempts, provider, provider_message_id, updated_at)
     SELECT id, channel, state, attempts, provider, message_id, $7
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[])
         AS r(id, channel, state, attempts, provider, message_id)
     ON CONFLICT (delivery_id) DO UPDATE SET state = EXCLUDED.state,
       attempts = GREATEST(delivery.sends.attempts, EXCLUDED.attempts),
       provider = COALESCE(EXCLUDED.provider, delivery.sends.provider),
       provider_message_id = COALESCE(EXCLUDED.provider_message_id, delivery.sends.provider_message_id),
       updated_at = EXCLUDED.updated_at`,
    [
      rows.map((row) => row.deliveryId),
      rows.map((row) => row.channel),
      rows.map((row) => row.state),
      rows.map((row) => row.attempt),
      rows.map((row) => row.provider),
      rows.map((row) => row.providerMessageId),
      now,
    ],
  );
}

export interface WorkerDeps {
  deps: ServiceDeps;
  senders: Partial<Record<Channel, ChannelSender>>;
  /** Whether the request was cancelled after this work was queued. */
  isCancelled(requestId: string): Promise<boolean>;
  /** Sends at once within a batch, by channel (SENDS_PER_BATCH_AT_ONCE where absent). */
  sendsAtOnce?: Partial<Record<Channel, number>>;
}

const WorkCatalog = {
  'notification.delivery.requested': NotificationEventCatalog['notification.delivery.requested'],
};

/** One piece of work as the worker takes it: the delivery, the event that carried it, which try this is. */
interface Work {
  eventId: string;
  data: DeliveryRequested;
  origin: EventOrigin;
  partitionKey: string;
  attempt: number;
}

function workOf(event: CloudEvent<DeliveryRequested>, attempt: number): Work {
  return {
    eventId: event.id,
    data: event.data,
    partitionKey: event.partitionkey,
    attempt,
    origin: originOf(event),
  };
}

/**
 * One consumer group per channel (`delivery-email`, …), so a slow channel never holds another back and
 * each can run in its own process. Each delivery is sent at most once successfully: the ledger is
 * checked first and written as `sending` before the provider is called.
 *
 * A batch (a PostgreSQL pass, a Kafka fetch) costs a few statements, not a few per message: one ledger
 * read, one `sending` write, the sends (many at once, one at a time per recipient), and the outcomes.
 * Successful sends are written to the ledger as they finish, each round of them in one statement, so a
 * crash after a send finds it recorded however long the rest of the batch takes.
 */
export function deliverySubscriptions(worker: WorkerDeps, channels: Channel[]) {
  const { deps } = worker;
  const sentLedger = createCoalescer<LedgerRow, void>(
    async (rows) => {
      await saveStates(deps.db, rows, deps.clock());
      return rows.map(() => undefined);
    },
    { maxItems: 500 },
  );

  function attempted(
    work: Work,
    attempt: number,
    outcome: DeliveryOutcomeKind,
    provider: string,
    error: string | null,
    providerMessageId: string | null,
  ) {
    const { data } = work;
    const payload: DeliveryAttempted = {
      delivery_id: data.delivery_id,
      request_id: data.request_id,
      channel: data.channel,
      attempt,
      provider,
      outcome,
      error,
      provider_message_id: providerMessageId,
      at: deps.clock().toISOString(),
    };
    return createEvent(
      {
        type: 'notification.delivery.attempted',
        subject: data.delivery_id,
        partitionKey: data.request_id,
        data: payload,
      },
      work.origin,
      { ...deps, source: SOURCE },
    );
  }

  /** The requests of `works` cancelled since their work was queued; looked up together, not in turn. */
  async function cancelledRequests(works: Work[]): Promise<Set<string>> {
    const requestIds = [...new Set(works.map((work) => work.data.request_id))];
    const flags = await Promise.all(requestIds.map((requestId) => worker.isCancelled(requestId)));
    return new Set(requestIds.filter((_, index) => flags[index]));
  }

  /**
   * Sends `works` and writes what became of them in `tx`. Returns the sends that failed for a reason
   * worth retrying, already reported as such; the caller throws so that the runner retries them (and the
   * transaction rolls back: those of a batch that were sent are then only reported again).
   */
  async function deliver(
    tx: Queryable,
    channel: Channel,
    works: Work[],
  ): Promise<Map<Work, TransientDeliveryError>> {
    const records = await sendRecords(
      deps.db,
      works.map((work) => work.data.delivery_id),
    );
    const reports: ReturnType<typeof attempted>[] = [];
    const finished: LedgerRow[] = [];
    const unregistered: ReturnType<typeof createEvent>[] = [];
    const toSend: Work[] = [];
    const cancelled = await cancelledRequests(
      works.filter((work) => {
        const record = records.get(work.data.delivery_id);
        return record?.state !== 'cancelled' && !wasSent(record);
      }),
    );
    const sender = worker.senders[channel];
    for (const work of works) {
      const { data, attempt } = work;
      const record = records.get(data.delivery_id);
      if (record?.state === 'cancelled') continue;
      if (wasSent(record)) {
        // The status consumer takes a repeated report once.
        reports.push(
          attempted(
            work,
            record.attempts,
            record.state,
            record.provider ?? 'unknown',
            null,
            record.provider_message_id,
          ),
        );
        continue;
      }
      const ledger = {
        deliveryId: data.delivery_id,
        channel,
        attempt,
        provider: null,
        providerMessageId: null,
      };
      if (cancelled.has(data.request_id)) {
        finished.push({ ...ledger, state: 'cancelled' });
        reports.push(attempted(work, attempt, 'cancelled', 'none', 'cancelled before sending', null));
        continue;
      }
      if (!sender) {
        finished.push({ ...ledger, state: 'failed' });
        reports.push(
          attempted(work, attempt, 'failed', 'none', `no ${channel} provider is configured`, null),
        );
        continue;
      }
      toSend.push(work);
    }

    const failures: { work: Work; provider: string; reason: string }[] = [];
    if (sender && toSend.length > 0) {
      // Committed before the sends (on its own connection, not in the handler's transaction).
      await saveStates(
        deps.db,
        toSend.map((work) => ({
          deliveryId: work.data.delivery_id,
          channel,
          state: 'sending',
          attempt: work.attempt,
          provider: null,
          providerMessageId: null,
        })),
        deps.clock(),
      );
      // Sends wait on providers, not on this process: many at once, one at a time per recipient.
      const queue = createKeyedQueue(worker.sendsAtOnce?.[channel] ?? SENDS_PER_BATCH_AT_ONCE);
      await Promise.all(
        toSend.map((work) =>
          queue.schedule(work.partitionKey, async () => {
            const { data, attempt } = work;
            const outcome = await sender(data, { idempotencyKey: data.delivery_id });
            if (outcome.status === 'sent' || outcome.status === 'delivered') {
              // Committed at once, on its own: if the handler's transaction is rolled back after this,
              // the next try finds the send recorded and only reports it.
              await sentLedger.add({
                deliveryId: data.delivery_id,
                channel,
                state: outcome.status,
                attempt,
                provider: outcome.provider,
                providerMessageId: outcome.providerMessageId,
              });
              reports.push(
                attempted(work, attempt, outcome.status, outcome.provider, null, outcome.providerMessageId),
              );
              return;
            }
            if (outcome.status === 'permanent') {
              finished.push({
                deliveryId: data.delivery_id,
                channel,
                state: 'failed',
                attempt,
                provider: outcome.provider,
                providerMessageId: null,
              });
              reports.push(attempted(work, attempt, 'failed', outcome.provider, outcome.reason, null));
              if (outcome.tokenUnregistered && data.user_id) {
                unregistered.push(
                  createEvent(
                    {
                      type: 'user.push_token.unregistered',
                      subject: data.user_id,
                      data: {
                        user_id: data.user_id,
                        push_token: data.address,
                        provider: outcome.provider,
                        reason: outcome.reason,
                      },
                    },
                    work.origin,
                    { ...deps, source: SOURCE },
                  ),
                );
              }
              return;
            }
            failures.push({ work, provider: outcome.provider, reason: outcome.reason });
          }),
        ),
      );
    }

    if (failures.length > 0) {
      // Transient: say so now (this transaction will roll back), then let the runner retry; after the
      // last attempt it dead-letters the work with this reason, and replaying it sends once more.
      await appendToOutbox(
        deps.db,
        NOTIFICATIONS_TOPIC,
        failures.map(({ work, provider, reason }) =>
          attempted(
            work,
            work.attempt,
            work.attempt >= MAX_ATTEMPTS ? 'failed' : 'retrying',
            provider,
            reason,
            null,
          ),
        ),
      );
      await saveStates(
        deps.db,
        failures.map(({ work, provider }) => ({
          deliveryId: work.data.delivery_id,
          channel,
          state: 'failed',
          attempt: work.attempt,
          provider,
          providerMessageId: null,
        })),
        deps.clock(),
      );
      return new Map(
        failures.map(({ work, provider, reason }) => [
          work,
          new TransientDeliveryError(`${provider}: ${reason}`),
        ]),
      );
    }
    await saveStates(tx, finished, deps.clock());
    await appendToOutbox(tx, NOTIFICATIONS_TOPIC, reports);
    await appendToOutbox(tx, USER_EVENTS_TOPIC, unregistered);
    return new Map();
  }

  return channels.map((channel) =>
    defineSubscription({
      group: `delivery-${channel}`,
      topics: [NOTIFICATIONS_TOPIC],
      catalog: WorkCatalog,
      // Other channels' work is passed over before any handler (the PostgreSQL bus does not even read it).
      accepts: { dataField: 'channel', values: [channel] },
      retry: DELIVERY_RETRY,
      concurrency: HANDLERS_AT_ONCE,
      handler: async (event, { tx, attempt }) => {
        const [failure] = (await deliver(tx, channel, [workOf(event, attempt)])).values();
        if (failure) throw failure;
      },
      batchHandler: async (events, { tx }) => {
        const works = events.map((event) => workOf(event, 1));
        if (new Set(works.map((work) => work.data.delivery_id)).size < works.length) {
          // The same delivery twice (a replay beside the original): one at a time sees the first's outcome.
          throw new Error('a batch holds one delivery twice');
        }
        const failures = await deliver(tx, channel, works);
        if (failures.size > 0) {
          // Each failed send used its first attempt; the runner retries it from the second.
          throw new BatchEventsFailed(new Map([...failures].map(([work, error]) => [work.eventId, error])));
        }
      },
    }),
  );
}
