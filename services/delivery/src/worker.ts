import { appendToOutbox, createEvent, type EventOrigin, SOURCE_C_RETRY } from '@switchyard/bus';
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
import type { Queryable } from '@switchyard/kernel';
import type { SendContext } from './domain.ts';
import type { RoutedOutcome } from './resilience.ts';

const SOURCE = '/switchyard/delivery';
/** Source C: retries after 1 s, 2 s and 4 s, so four attempts in all before dead letters. */
export const DELIVERY_RETRY = SOURCE_C_RETRY;
const MAX_ATTEMPTS = DELIVERY_RETRY.retryDelaysMs.length + 1;
const DELIVERY_CONCURRENCY = 32;

/** Sends one delivery on its channel; every failure is an outcome, never a throw. */
export type ChannelSender = (delivery: DeliveryRequested, context: SendContext) => Promise<RoutedOutcome>;

/** Thrown to make the consumer runner retry (and, after the last attempt, dead-letter with the reason). */
export class TransientDeliveryError extends Error {
  override name = 'TransientDeliveryError';
}

type SendState = 'sending' | 'sent' | 'delivered' | 'failed' | 'cancelled';

interface SendRecord {
  state: SendState;
  attempts: number;
  provider: string | null;
  provider_message_id: string | null;
}

async function sendRecord(db: Queryable, deliveryId: string): Promise<SendRecord | undefined> {
  const result = await db.query<SendRecord>(
    'SELECT state, attempts, provider, provider_message_id FROM delivery.sends WHERE delivery_id = $1',
    [deliveryId],
  );
  return result.rows[0];
}

async function saveState(
  db: Queryable,
  row: {
    deliveryId: string;
    channel: Channel;
    state: SendState;
    attempt: number;
    provider: string | null;
    providerMessageId: string | null;
  },
  now: Date,
): Promise<void> {
  await db.query(
    `INSERT INTO delivery.sends (delivery_id, channel, state, attempts, provider, provider_message_id, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (delivery_id) DO UPDATE SET state = $3, attempts = GREATEST(delivery.sends.attempts, $4),
       provider = COALESCE($5, delivery.sends.provider), provider_message_id = COALESCE($6, delivery.sends.provider_message_id), updated_at = $7`,
    [row.deliveryId, row.channel, row.state, row.attempt, row.provider, row.providerMessageId, now],
  );
}

export interface WorkerDeps {
  deps: ServiceDeps;
  senders: Partial<Record<Channel, ChannelSender>>;
  /** Whether the request was cancelled after this work was queued. */
  isCancelled(requestId: string): Promise<boolean>;
}

/**
 * One consumer group per channel (`delivery-email`, …), so a slow channel never holds another back and
 * each can run in its own process. Each delivery is sent at most once successfully: the ledger is
 * checked first and written as `sending` before the provider is called.
 */
export function deliverySubscriptions(worker: WorkerDeps, channels: Channel[]) {
  const { deps } = worker;

  function attempted(
    data: DeliveryRequested,
    attempt: number,
    outcome: DeliveryOutcomeKind,
    provider: string,
    error: string | null,
    providerMessageId: string | null,
    origin: EventOrigin,
  ) {
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
      origin,
      { ...deps, source: SOURCE },
    );
  }

  return channels.map((channel) =>
    defineSubscription({
      group: `delivery-${channel}`,
      topics: [NOTIFICATIONS_TOPIC],
      catalog: NotificationEventCatalog,
      retry: DELIVERY_RETRY,
      // Sends wait on providers, not on this process: many at once (one at a time per recipient).
      concurrency: DELIVERY_CONCURRENCY,
      handler: async (event, { tx, attempt }) => {
        if (event.type !== 'notification.delivery.requested' || event.data.channel !== channel) return;
        const data = event.data;
        const origin: EventOrigin = {
          causationId: event.id,
          ...(event.correlationid ? { correlationId: event.correlationid } : {}),
          ...(event.traceparent ? { traceparent: event.traceparent } : {}),
        };
        const record = await sendRecord(deps.db, data.delivery_id);
        if (record?.state === 'cancelled') return;
        if (record?.state === 'sent' || record?.state === 'delivered') {
          // Sent before, but the report of it was rolled back (a batch undone, a crash): report it again,
          // never send again. The status consumer takes a repeated report once.
          await appendToOutbox(tx, NOTIFICATIONS_TOPIC, [
            attempted(
              data,
              record.attempts,
              record.state,
              record.provider ?? 'unknown',
              null,
              record.provider_message_id,
              origin,
            ),
          ]);
          return;
        }
        const now = deps.clock();
        if (await worker.isCancelled(data.request_id)) {
          await saveState(
            tx,
            {
              deliveryId: data.delivery_id,
              channel,
              state: 'cancelled',
              attempt,
              provider: null,
              providerMessageId: null,
            },
            now,
          );
          await appendToOutbox(tx, NOTIFICATIONS_TOPIC, [
            attempted(data, attempt, 'cancelled', 'none', 'cancelled before sending', null, origin),
          ]);
          return;
        }
        const sender = worker.senders[channel];
        if (!sender) {
          await saveState(
            tx,
            {
              deliveryId: data.delivery_id,
              channel,
              state: 'failed',
              attempt,
              provider: null,
              providerMessageId: null,
            },
            now,
          );
          await appendToOutbox(tx, NOTIFICATIONS_TOPIC, [
            attempted(data, attempt, 'failed', 'none', `no ${channel} provider is configured`, null, origin),
          ]);
          return;
        }
        // Committed before the send (on its own connection, not in the handler's transaction).
        await saveState(
          deps.db,
          {
            deliveryId: data.delivery_id,
            channel,
            state: 'sending',
            attempt,
            provider: null,
            providerMessageId: null,
          },
          now,
        );
        const outcome = await sender(data, { idempotencyKey: data.delivery_id });

        if (outcome.status === 'sent' || outcome.status === 'delivered') {
          // Committed at once, on its own: if the handler's transaction is rolled back after this, the
          // next try finds the send recorded and only reports it.
          await saveState(
            deps.db,
            {
              deliveryId: data.delivery_id,
              channel,
              state: outcome.status,
              attempt,
              provider: outcome.provider,
              providerMessageId: outcome.providerMessageId,
            },
            deps.clock(),
          );
          await appendToOutbox(tx, NOTIFICATIONS_TOPIC, [
            attempted(
              data,
              attempt,
              outcome.status,
              outcome.provider,
              null,
              outcome.providerMessageId,
              origin,
            ),
          ]);
          return;
        }
        if (outcome.status === 'permanent') {
          await saveState(
            tx,
            {
              deliveryId: data.delivery_id,
              channel,
              state: 'failed',
              attempt,
              provider: outcome.provider,
              providerMessageId: null,
            },
            deps.clock(),
          );
          const events: ReturnType<typeof attempted>[] = [
            attempted(data, attempt, 'failed', outcome.provider, outcome.reason, null, origin),
          ];
          await appendToOutbox(tx, NOTIFICATIONS_TOPIC, events);
          if (outcome.tokenUnregistered && data.user_id) {
            await appendToOutbox(tx, USER_EVENTS_TOPIC, [
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
                origin,
                { ...deps, source: SOURCE },
              ),
            ]);
          }
          return;
        }
        // Transient: say so now (this transaction will roll back), then let the runner retry; after the
        // last attempt it dead-letters the work with this reason, and replaying it sends once more.
        const final = attempt >= MAX_ATTEMPTS;
        await appendToOutbox(deps.db, NOTIFICATIONS_TOPIC, [
          attempted(
            data,
            attempt,
            final ? 'failed' : 'retrying',
            outcome.provider,
            outcome.reason,
            null,
            origin,
          ),
        ]);
        await saveState(
          deps.db,
          {
            deliveryId: data.delivery_id,
            channel,
            state: 'failed',
            attempt,
            provider: outcome.provider,
            providerMessageId: null,
          },
          deps.clock(),
        );
        throw new TransientDeliveryError(`${outcome.provider}: ${outcome.reason}`);
      },
    }),
  );
}
