import { appendToOutbox, createEvent, type EventOrigin, originOf } from '@switchyard/bus';
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
import { afterAttempt, type DeliveryDecision, decideForUser } from './domain.ts';
import { inboxView } from './http.ts';
import type { LiveInbox } from './live.ts';
import { statusCache } from './status.ts';
import {
  applyDeliveryChanges,
  type DeliveryChange,
  type DeliveryProgress,
  findRequests,
  type InboxItem,
  insertInboxItems,
  lockDeliveries,
  lockDueDeliveries,
  type NewAttempt,
  recordAttempts,
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
  // Variables belong to the request, so one rendering serves its recipients of one language.
  const key = `${request.request_id}\u0000${code}\u0000${language}`;
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

/** A request to dispatch, and the event that asked for it (the work events' cause). */
interface DispatchOrder {
  requestId: string;
  origin: EventOrigin;
}

/**
 * Turns accepted requests into work: each due delivery is skipped (preferences, opt-outs, no address),
 * held (quiet hours), written to the inbox (in_app) or sent to the channel's workers — once, since the
 * changes and the work events commit together with the processed mark. A whole batch of requests costs
 * a handful of statements: their rows and due deliveries are read and locked at once, and the inbox
 * items, work events and delivery changes are written at once.
 */
async function dispatch(deps: ServiceDeps, live: LiveInbox, tx: Queryable, orders: DispatchOrder[]) {
  const origins = new Map<string, EventOrigin>();
  for (const order of orders) if (!origins.has(order.requestId)) origins.set(order.requestId, order.origin);
  const requests = new Map(
    (await findRequests(tx, [...origins.keys()], true))
      .filter((request) => request.status === 'accepted')
      .map((request) => [request.request_id, request]),
  );
  if (requests.size === 0) return;
  const now = deps.clock();
  const due = await lockDueDeliveries(tx, [...requests.keys()], now);
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
  const inboxItems: (InboxItem & { delivery_id: string })[] = [];
  const memo = new Map<string, Promise<RenderedMessage>>();

  for (const delivery of due) {
    const request = requests.get(delivery.request_id);
    const origin = origins.get(delivery.request_id);
    if (!request || !origin) continue;
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
      inboxItems.push({
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
      });
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

  await insertInboxItems(tx, inboxItems);
  if (work.length > 0) await appendToOutbox(tx, NOTIFICATIONS_TOPIC, work);
  await applyDeliveryChanges(tx, changes, now);
  const statuses = statusCache(deps);
  const touched = [...new Set(due.map((delivery) => delivery.request_id))];
  const published = afterCommit(tx, () => {
    void statuses.invalidate(touched);
    for (const item of inboxItems) {
      live
        .publish(item.user_id, inboxView(item))
        .catch((error: unknown) => deps.log.warn({ err: error }, 'live inbox publish failed'));
    }
  });
  if (!published) await statuses.invalidate(touched);
}

/**
 * Records attempt reports, in the order they were sent, and moves each delivery's status on: one read
 * and one write for the whole batch. A repeated report is stored once.
 */
async function recordOutcomes(
  deps: ServiceDeps,
  tx: Queryable,
  reports: DeliveryAttempted[],
  metrics: ReturnType<typeof pipelineMetrics>,
) {
  const deliveries = new Map(
    (await lockDeliveries(tx, [...new Set(reports.map((report) => report.delivery_id))])).map((delivery) => [
      delivery.id,
      delivery,
    ]),
  );
  const progress = new Map<string, DeliveryProgress>();
  const attempts: NewAttempt[] = [];
  const reached: { report: DeliveryAttempted; requestId: string }[] = [];
  for (const report of reports) {
    const delivery = deliveries.get(report.delivery_id);
    if (!delivery) continue;
    const before = progress.get(delivery.id) ?? {
      id: delivery.id,
      status: delivery.status,
      reason: delivery.reason,
      provider: delivery.provider ?? report.provider,
      attempts: delivery.attempts,
    };
    const after = afterAttempt(before, report);
    progress.set(delivery.id, {
      id: delivery.id,
      ...after,
      provider: report.provider,
      attempts: Math.max(before.attempts, report.attempt),
    });
    attempts.push({
      deliveryId: report.delivery_id,
      attempt: report.attempt,
      outcome: report.outcome,
      at: new Date(report.at),
      provider: report.provider,
      error: report.error,
      providerMessageId: report.provider_message_id,
    });
    if ((report.outcome === 'sent' || report.outcome === 'delivered') && before.status !== after.status) {
      reached.push({ report, requestId: delivery.request_id });
    }
  }
  if (attempts.length === 0) return;
  await recordAttempts(tx, attempts, [...progress.values()], deps.clock());
  if (reached.length > 0) {
    const requests = new Map(
      (await findRequests(tx, [...new Set(reached.map((entry) => entry.requestId))])).map((request) => [
        request.request_id,
        request,
      ]),
    );
    for (const { report, requestId } of reached) {
      const request = requests.get(requestId);
      metrics.sent.inc({ channel: report.channel, type: request?.category ?? 'none' });
      if (request)
        metrics.latency.observe(
          { channel: report.channel },
          (Date.parse(report.at) - new Date(request.created_at).getTime()) / 1000,
        );
    }
  }
  const statuses = statusCache(deps);
  const touched = [...new Set([...deliveries.values()].map((delivery) => delivery.request_id))];
  if (!afterCommit(tx, () => void statuses.invalidate(touched))) await statuses.invalidate(touched);
}

/** The notifications events each group takes: narrower catalogs, so the rest cost nothing in a batch. */
const RequestedCatalog = { 'notification.requested': NotificationEventCatalog['notification.requested'] };
const AttemptedCatalog = {
  'notification.delivery.attempted': NotificationEventCatalog['notification.delivery.attempted'],
};

export function notificationSubscriptions(deps: ServiceDeps, live: LiveInbox) {
  const metrics = pipelineMetrics(deps);
  return [
    defineSubscription({
      group: DISPATCH_GROUP,
      topics: [NOTIFICATIONS_TOPIC],
      catalog: RequestedCatalog,
      handler: (event, { tx }) =>
        dispatch(deps, live, tx, [{ requestId: event.data.request_id, origin: originOf(event) }]),
      batchHandler: (events, { tx }) =>
        dispatch(
          deps,
          live,
          tx,
          events.map((event) => ({ requestId: event.data.request_id, origin: originOf(event) })),
        ),
    }),
    defineSubscription({
      group: STATUS_GROUP,
      topics: [NOTIFICATIONS_TOPIC],
      catalog: AttemptedCatalog,
      handler: (event, { tx }) => recordOutcomes(deps, tx, [event.data], metrics),
      batchHandler: (events, { tx }) =>
        recordOutcomes(
          deps,
          tx,
          events.map((event) => event.data),
          metrics,
        ),
    }),
  ];
}
