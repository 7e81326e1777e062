import { appendToOutbox, createEvent, type EventOrigin } from '@switchyard/bus';
import {
  type Channel,
  type DeliveryAttempted,
  type DeliveryRequested,
  defineSubscription,
  NOTIFICATIONS_TOPIC,
  NotificationEventCatalog,
  type NotificationRecipient,
  type RenderedMessage,
  type ServiceDeps,
} from '@switchyard/contracts';
import { afterCommit, HttpProblem, type Queryable } from '@switchyard/kernel';
import { Counter, Histogram } from 'prom-client';
import { type DeliveryDecision, decideForUser, nextDeliveryStatus } from './domain.ts';
import { inboxView } from './http.ts';
import type { LiveInbox } from './live.ts';
import { statusCache } from './status.ts';
import {
  applyDeliveryChanges,
  type DeliveryChange,
  findDeliveryForUpdate,
  findRequest,
  insertInboxItem,
  lockDueDeliveries,
  recordAttempt,
  type StoredRequest,
} from './store.ts';

export const DISPATCH_GROUP = 'notification-dispatch';
export const STATUS_GROUP = 'notification-status';
const SOURCE = '/switchyard/notifications';

function pipelineMetrics(deps: ServiceDeps) {
  const registry = deps.metrics.registry;
  const sent =
    (registry.getSingleMetric('notifications_sent_total') as Counter<'channel' | 'type'> | undefined) ??
    new Counter({
      name: 'notifications_sent_total',
      help: 'Notifications handed to a provider (sent) or delivered, by channel and category',
      labelNames: ['channel', 'type'],
      registers: [registry],
    });
  const latency =
    (registry.getSingleMetric('notification_delivery_latency_seconds') as Histogram<'channel'> | undefined) ??
    new Histogram({
      name: 'notification_delivery_latency_seconds',
      help: 'From acceptance of the request to the provider taking the message, by channel',
      labelNames: ['channel'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    });
  return { sent, latency };
}

/** Renders one delivery's message in the recipient's language; a template may have gone since acceptance. */
async function renderFor(
  deps: ServiceDeps,
  request: StoredRequest,
  channel: Channel,
  language: string,
  memo: Map<string, Promise<RenderedMessage>>,
): Promise<RenderedMessage> {
  const data: Record<string, string> = { request_id: request.request_id };
  if (request.category) data.category = request.category;
  if (request.content) {
    return {
      subject: request.content.subject ?? null,
      text: request.content.text,
      html: request.content.html ?? null,
      data,
    };
  }
  const code = request.templates?.[channel] ?? request.template_code;
  if (!code) throw new HttpProblem(422, 'no-template', 'Unprocessable Content', `no template for ${channel}`);
  const key = `${code}:${language}`;
  let rendered = memo.get(key);
  if (!rendered) {
    const templates = deps.clients.templates;
    if (!templates)
      throw new Error('the notifications service needs the templates service in the same process');
    rendered = templates
      .render({ code, language, variables: request.variables })
      .then((result) => ({ subject: result.subject, text: result.text, html: result.html, data }));
    memo.set(key, rendered);
  }
  return rendered;
}

/**
 * Turns an accepted request into work: each due delivery is skipped (preferences, opt-outs, no address),
 * held (quiet hours), written to the inbox (in_app) or sent to the channel's workers — once, since the
 * changes and the work events commit together with the processed mark.
 */
async function dispatch(
  deps: ServiceDeps,
  live: LiveInbox,
  tx: Queryable,
  requestId: string,
  origin: EventOrigin,
) {
  const request = await findRequest(tx, requestId, true);
  if (request?.status !== 'accepted') return;
  const now = deps.clock();
  const due = await lockDueDeliveries(tx, requestId, now);
  if (due.length === 0) return;

  const users = new Map<string, Promise<NotificationRecipient | undefined>>();
  for (const delivery of due) {
    if (delivery.user_id && !users.has(delivery.user_id)) {
      const directory = deps.clients.users;
      if (!directory)
        throw new Error('the notifications service needs the users service in the same process');
      users.set(delivery.user_id, directory.findRecipient(delivery.user_id));
    }
  }

  const changes: DeliveryChange[] = [];
  const work: ReturnType<typeof createEvent<DeliveryRequested, 'notification.delivery.requested'>>[] = [];
  const inboxItems: { userId: string; item: ReturnType<typeof inboxView> }[] = [];
  const memo = new Map<string, Promise<RenderedMessage>>();

  for (const delivery of due) {
    const decision: DeliveryDecision = delivery.user_id
      ? decideForUser(delivery.channel, await users.get(delivery.user_id), request, now)
      : { kind: 'send', address: delivery.address as string, locale: null };
    if (decision.kind === 'skip') {
      changes.push({
        id: delivery.id,
        status: 'skipped',
        reason: decision.reason,
        notBefore: null,
        queued: false,
      });
      continue;
    }
    if (decision.kind === 'delay') {
      changes.push({
        id: delivery.id,
        status: 'pending',
        reason: 'held for quiet hours',
        notBefore: decision.until,
        queued: false,
      });
      continue;
    }
    let message: RenderedMessage;
    try {
      message = await renderFor(
        deps,
        request,
        delivery.channel,
        decision.locale ?? request.language ?? 'en',
        memo,
      );
    } catch (error) {
      if (!(error instanceof HttpProblem)) throw error;
      changes.push({
        id: delivery.id,
        status: 'failed',
        reason: `could not render: ${error.message}`,
        notBefore: null,
        queued: false,
      });
      continue;
    }
    if (delivery.channel === 'in_app') {
      const item = {
        id: deps.ids(),
        user_id: decision.address,
        delivery_id: delivery.id,
        request_id: request.request_id,
        title: message.subject,
        body: message.text,
        data: message.data,
        category: request.category,
        created_at: now,
        read_at: null,
        archived_at: null,
      };
      await insertInboxItem(tx, item);
      inboxItems.push({ userId: decision.address, item: inboxView(item) });
      changes.push({ id: delivery.id, status: 'delivered', reason: null, notBefore: null, queued: true });
      continue;
    }
    work.push(
      createEvent(
        {
          type: 'notification.delivery.requested',
          subject: delivery.id,
          // Keyed by recipient so one person's notifications on a channel arrive in order.
          partitionKey: delivery.user_id ?? decision.address,
          data: {
            delivery_id: delivery.id,
            request_id: request.request_id,
            channel: delivery.channel,
            user_id: delivery.user_id,
            address: decision.address,
            message,
            category: request.category,
            priority: request.priority,
          },
        },
        origin,
        { ...deps, source: SOURCE },
      ),
    );
    changes.push({ id: delivery.id, status: 'pending', reason: null, notBefore: null, queued: true });
  }

  if (work.length > 0) await appendToOutbox(tx, NOTIFICATIONS_TOPIC, work);
  await applyDeliveryChanges(tx, changes, now);
  const statuses = statusCache(deps);
  const published = afterCommit(tx, () => {
    void statuses.invalidate(requestId);
    for (const { userId, item } of inboxItems) {
      live
        .publish(userId, item)
        .catch((error: unknown) => deps.log.warn({ err: error }, 'live inbox publish failed'));
    }
  });
  if (!published) await statuses.invalidate(requestId);
}

async function recordOutcome(
  deps: ServiceDeps,
  tx: Queryable,
  data: DeliveryAttempted,
  metrics: ReturnType<typeof pipelineMetrics>,
) {
  const delivery = await findDeliveryForUpdate(tx, data.delivery_id);
  if (!delivery) return;
  const status = nextDeliveryStatus(delivery.status, data.outcome);
  const reason = data.outcome === 'failed' ? data.error : status === delivery.status ? delivery.reason : null;
  await recordAttempt(
    tx,
    {
      deliveryId: data.delivery_id,
      attempt: data.attempt,
      outcome: data.outcome,
      at: new Date(data.at),
      provider: data.provider,
      error: data.error,
      providerMessageId: data.provider_message_id,
    },
    { status, reason },
    deps.clock(),
  );
  if ((data.outcome === 'sent' || data.outcome === 'delivered') && delivery.status !== status) {
    const request = await findRequest(tx, delivery.request_id);
    metrics.sent.inc({ channel: data.channel, type: request?.category ?? 'none' });
    if (request)
      metrics.latency.observe(
        { channel: data.channel },
        (Date.parse(data.at) - new Date(request.created_at).getTime()) / 1000,
      );
  }
  const statuses = statusCache(deps);
  if (!afterCommit(tx, () => void statuses.invalidate(delivery.request_id)))
    await statuses.invalidate(delivery.request_id);
}

export function notificationSubscriptions(deps: ServiceDeps, live: LiveInbox) {
  const metrics = pipelineMetrics(deps);
  return [
    defineSubscription({
      group: DISPATCH_GROUP,
      topics: [NOTIFICATIONS_TOPIC],
      catalog: NotificationEventCatalog,
      handler: async (event, { tx }) => {
        if (event.type !== 'notification.requested') return;
        await dispatch(deps, live, tx, event.data.request_id, {
          causationId: event.id,
          ...(event.correlationid ? { correlationId: event.correlationid } : {}),
          ...(event.traceparent ? { traceparent: event.traceparent } : {}),
        });
      },
    }),
    defineSubscription({
      group: STATUS_GROUP,
      topics: [NOTIFICATIONS_TOPIC],
      catalog: NotificationEventCatalog,
      handler: async (event, { tx }) => {
        if (event.type !== 'notification.delivery.attempted') return;
        await recordOutcome(deps, tx, event.data, metrics);
      },
    }),
  ];
}
