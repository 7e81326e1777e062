/**
 * RabbitMQ adapter of the Transport port (packages/bus/src/transport.ts).
 *
 * Topology
 * - Each topic is a durable **fanout** exchange named after the topic. The key does not route (every queue
 *   bound to the exchange gets every message); it travels as the routing key (when it fits AMQP's 255-byte
 *   limit) and always in the `x-switchyard-key` header, which is taken out again on delivery.
 * - Each consumer group is one durable classic queue named exactly after the group (unless `groupQueues`
 *   gives it a routed queue, below), bound to the exchange of every topic the group consumes. Several
 *   groups → several queues → fan-out; several consumers on one group's queue → competing consumers, each
 *   message to one of them. Bindings are only ever added: a topic dropped from a group's list stays bound
 *   until an operator unbinds it.
 * - A group's queue exists from its first `consume` on; RabbitMQ drops what a topic's exchange received
 *   before any queue was bound to it. So "a new group starts from the oldest message the broker still
 *   has" means here: from the moment the group was first declared. Such drops are logged (mandatory flag,
 *   one warning per topic).
 * - Source system C's notification topology (`declareNotificationTopology`) is declared on every connect.
 *
 * Routed queues (`routes`, `groupQueues`: an explicit table the application passes, empty by default)
 * - A route picks events of one topic by CloudEvent type and the value of one field of their data
 *   (`ce_type` header and the JSON value in binary mode, the envelope in structured mode) and publishes
 *   each such event a second time, to a fixed exchange with a fixed routing key: apps/server sends
 *   `notification.delivery.requested` with `data.channel` `email` / `push` to `notifications.direct` with
 *   routing key `email` / `push`, so the work waits in source C's `email.queue` / `push.queue` even while
 *   no worker runs. The topic's own exchange still gets it, so every other group sees what it saw before.
 *   The copy carries the topic in the `x-switchyard-topic` header (taken out again on delivery), so its
 *   consumers, dead letters and replays name the topic, not the exchange.
 * - `groupQueues` names, per consumer group, an existing queue it reads instead of a queue of its own;
 *   that queue is not bound to the group's topics, so the group gets only what the routes put in it. The
 *   queue is shared like any group queue: every consumer of the group (and any outside worker reading
 *   it) competes for its messages. `selection` tells the bus which events such a group gets, so `drain`
 *   does not wait for the others.
 * - The exchanges of the routes and the queues of `groupQueues` are not declared here (they are part of a
 *   topology, like source C's, with its dead-letter arguments); connecting fails while one is missing.
 *   A queue a group used to have before it was given a routed queue stays bound and fills up until an
 *   operator deletes it.
 *
 * Delivery
 * - Publishing goes through one confirm channel; messages are persistent, `application/json`, with the
 *   CloudEvent id (`ce-id`, `ce_id` or `id` header) as message id. `publish` resolves when every message
 *   is confirmed and rejects on a nack, a closed channel, or when the transport is not connected.
 * - Consumers ack manually, after the handler resolved, with prefetch `options.prefetch ?? 2 × concurrency`.
 *   Up to `concurrency` handlers run at once; messages with one key run one after another in delivery order
 *   (createKeyedQueue).
 * - With a batch handler (the bus passes one) a consumer hands over runs instead: the deliveries it has in
 *   hand, up to RUN_MAX_MESSAGES, one run at a time, so the bus records each run in one transaction.
 *   Deliveries that arrive meanwhile make the next run; prefetch is then at least 2 × RUN_MAX_MESSAGES,
 *   so the next run is waiting when one ends. A run resolved is acked message by message (a `dead_lettered`
 *   outcome nacked, as below); a run rejected rewinds, as a rejected handler does.
 * - A message the handler reports as `dead_lettered` (the runner gave up on it and recorded it in
 *   `bus.dead_letters`) is rejected without requeue (basic.nack, requeue=false) instead of acked: a queue
 *   with a dead-letter exchange (`email.queue`, `push.queue` → `notifications.dlx` → `failed.queue`) moves
 *   it there; a queue without one (every group queue declared here) discards it, exactly as an ack would.
 * - When a handler rejects, the consumer **rewinds** rather than nacking that message alone (a lone requeue
 *   would let the same key's next messages, already delivered to us, overtake it): it stops starting
 *   handlers and cancels its subscription, lets the handlers already running finish (and acks them), waits
 *   `retryDelayMs` (1 s), then closes its channel. RabbitMQ requeues every unacked message of the channel —
 *   the failed one and those not yet started — at its original place in the queue, and the consumer
 *   subscribes again on a new channel. Handler rejection means "cannot even record the outcome" (database
 *   down), so pausing the whole consumer is what is wanted anyway.
 * - Per-key order holds within one consumer. Across competing consumers of one group RabbitMQ gives no
 *   per-key order: two messages of a key can be handled at once by two processes. Run one consumer per
 *   group where that matters (or, later, single-active-consumer queues / consistent-hash exchanges).
 *
 * Failures
 * - A lost connection (broker restart, forced close) is reopened with exponential backoff from
 *   `reconnectDelayMs` (1 s) up to 30 s with ±20 % jitter; topology is declared again and every consumer
 *   subscribes again. `publish` rejects while disconnected. Messages that were unacked when the connection
 *   went are redelivered by RabbitMQ; handlers still running from the old connection finish but cannot ack,
 *   and messages of the old connection not yet started are dropped locally (RabbitMQ redelivers them).
 * - A consumer channel closed on its own (e.g. its queue was deleted) is reopened after `reconnectDelayMs`.
 */
import {
  type ConsumeOptions,
  createKeyedQueue,
  type Outcome,
  type Transport,
  type TransportBatchHandler,
  type TransportConsumer,
  type TransportHandler,
  type TransportMessage,
} from '@switchyard/bus';
import type { Logger } from '@switchyard/kernel';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Message, Options } from 'amqplib';
import amqp from 'amqplib';

// Source system C's notification topology.
export const NOTIFICATIONS_EXCHANGE = 'notifications.direct';
export const NOTIFICATIONS_DLX = 'notifications.dlx';
export const EMAIL_QUEUE = 'email.queue';
export const PUSH_QUEUE = 'push.queue';
export const FAILED_QUEUE = 'failed.queue';
export const EMAIL_ROUTING_KEY = 'email';
export const PUSH_ROUTING_KEY = 'push';
export const FAILED_ROUTING_KEY = 'failed';

/** The header carrying the partition key; removed from the headers handed to consumers. */
export const KEY_HEADER = 'x-switchyard-key';
/** The header carrying the topic of a routed copy; removed from the headers handed to consumers. */
export const TOPIC_HEADER = 'x-switchyard-topic';

const MAX_RECONNECT_DELAY_MS = 30_000;
/**
 * Most messages in one run for a batch handler: as many as a PostgreSQL bus pass takes, so a run's
 * transaction (with a delivery worker's sends in it) stays as short as a pass's.
 */
export const RUN_MAX_MESSAGES = 100;
const MAX_ROUTING_KEY_BYTES = 255;

/**
 * Declares source system C's topology, exactly: direct exchange `notifications.direct` routing `email` to
 * `email.queue` and `push` to `push.queue`, both dead-lettering to direct exchange `notifications.dlx` with
 * routing key `failed`, which routes to `failed.queue`. Everything durable. Idempotent.
 */
export async function declareNotificationTopology(channel: Channel): Promise<void> {
  await channel.assertExchange(NOTIFICATIONS_EXCHANGE, 'direct', { durable: true });
  await channel.assertExchange(NOTIFICATIONS_DLX, 'direct', { durable: true });
  const deadLettered = {
    durable: true,
    arguments: {
      'x-dead-letter-exchange': NOTIFICATIONS_DLX,
      'x-dead-letter-routing-key': FAILED_ROUTING_KEY,
    },
  };
  await channel.assertQueue(EMAIL_QUEUE, deadLettered);
  await channel.bindQueue(EMAIL_QUEUE, NOTIFICATIONS_EXCHANGE, EMAIL_ROUTING_KEY);
  await channel.assertQueue(PUSH_QUEUE, deadLettered);
  await channel.bindQueue(PUSH_QUEUE, NOTIFICATIONS_EXCHANGE, PUSH_ROUTING_KEY);
  await channel.assertQueue(FAILED_QUEUE, { durable: true });
  await channel.bindQueue(FAILED_QUEUE, NOTIFICATIONS_DLX, FAILED_ROUTING_KEY);
}

/** Where a routed event is published besides its topic's exchange. */
export interface RabbitDestination {
  exchange: string;
  routingKey: string;
  /** The queue that exchange and routing key fill (bound by the topology), for groups reading it. */
  queue: string;
}

/** Routes some events of a topic to a fixed exchange and routing key as well (see the module comment). */
export interface RabbitRoute {
  /** The topic's name on the broker (namespace included). */
  topic: string;
  /** CloudEvent type of the events routed. */
  type: string;
  /** Top-level field of the event's data whose value picks the destination. */
  dataField: string;
  /** Value → destination; events with any other value (or none) go to their topic's exchange only. */
  values: Record<string, RabbitDestination>;
}

export interface RabbitTransportOptions {
  /** amqp://user:password@host:port/vhost */
  url: string;
  log: Logger;
  /** Events also published to a fixed exchange and routing key. None by default. */
  routes?: RabbitRoute[];
  /**
   * Consumer group (name on the broker) → existing queue it consumes instead of a queue of its own, e.g.
   * `{ 'delivery-email': 'email.queue' }`. None by default.
   */
  groupQueues?: Record<string, string>;
  /**
   * Unacked messages per consumer; default 2 × the consumer's concurrency, and at least
   * 2 × RUN_MAX_MESSAGES for a consumer with a batch handler.
   */
  prefetch?: number;
  /** First reconnect delay; doubles per failed attempt up to 30 s. Default 1000. */
  reconnectDelayMs?: number;
  /** How long a consumer waits after a handler rejected before the messages are delivered again. Default 1000. */
  retryDelayMs?: number;
}

export type RabbitStatus = 'connected' | 'disconnected';

export interface RabbitTransport extends Transport {
  readonly kind: 'rabbitmq';
  /** True while a connection with its publish channel is open. */
  readonly connected: boolean;
  /** Calls `listener` on every connect and every lost connection; returns the unsubscribe function. */
  onStatus(listener: (status: RabbitStatus) => void): () => void;
}

interface GroupConsumer extends TransportConsumer {
  /** Subscribes on `model` unless already subscribed; failures are logged and retried. Never rejects. */
  resume(model: ChannelModel): Promise<void>;
  /** Subscribes on `model`; rejects if that fails (used by `consume` so bad topology surfaces). */
  attach(model: ChannelModel): Promise<void>;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function headerText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value, (_name, inner: unknown) =>
    typeof inner === 'bigint' ? inner.toString() : inner,
  );
}

/** `defaultTopic`: for a message without a topic header, when its exchange is not a topic's. */
function toTransportMessage(message: ConsumeMessage, defaultTopic?: string): TransportMessage {
  const raw: Record<string, unknown> = message.properties.headers ?? {};
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (name !== KEY_HEADER && name !== TOPIC_HEADER) headers[name] = headerText(value);
  }
  const key = raw[KEY_HEADER];
  const topic = raw[TOPIC_HEADER];
  return {
    topic: topic === undefined ? (defaultTopic ?? message.fields.exchange) : headerText(topic),
    key: key === undefined ? message.fields.routingKey : headerText(key),
    value: message.content,
    headers,
  };
}

function publishOptions(
  message: TransportMessage,
  extraHeaders: Record<string, string> = {},
): Options.Publish {
  // `ce_id` is how the outbox relay sends it (CloudEvents binary mode, binding.ts).
  const messageId = message.headers['ce-id'] ?? message.headers.ce_id ?? message.headers.id;
  return {
    persistent: true,
    mandatory: true,
    contentType: 'application/json',
    ...(messageId ? { messageId } : {}),
    headers: { ...message.headers, [KEY_HEADER]: message.key, ...extraHeaders },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The CloudEvent type and data a message carries, in binary or structured mode; undefined if unreadable. */
function eventOf(message: TransportMessage): { type: unknown; data: unknown } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message.value.toString('utf8'));
  } catch {
    return undefined;
  }
  const binaryType = message.headers.ce_type;
  if (binaryType !== undefined) return { type: binaryType, data: parsed };
  return isRecord(parsed) ? { type: parsed.type, data: parsed.data } : undefined;
}

function routingKeyOf(key: string): string {
  return Buffer.byteLength(key) <= MAX_ROUTING_KEY_BYTES ? key : '';
}

/** The broker address without credentials, for logs. */
function describe(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname || '/'}`;
  } catch {
    return 'amqp (unparseable url)';
  }
}

export function createRabbitTransport(options: RabbitTransportOptions): RabbitTransport {
  const log = options.log.child({ component: 'bus-rabbitmq', broker: describe(options.url) });
  const reconnectDelayMs = options.reconnectDelayMs ?? 1_000;
  const retryDelayMs = options.retryDelayMs ?? 1_000;
  const routes = options.routes ?? [];
  const groupQueues = options.groupQueues ?? {};
  const routedTopics = new Set(routes.map((route) => route.topic));
  const routeExchanges = new Set(
    routes.flatMap((route) => Object.values(route.values).map((destination) => destination.exchange)),
  );

  /** Where `message` goes besides its topic's exchange, if a route picks it. */
  function destinationOf(message: TransportMessage): RabbitDestination | undefined {
    if (!routedTopics.has(message.topic)) return undefined;
    const event = eventOf(message);
    if (!event || !isRecord(event.data)) return undefined;
    for (const route of routes) {
      if (route.topic !== message.topic || route.type !== event.type) continue;
      const value = event.data[route.dataField];
      if (typeof value === 'string' && Object.hasOwn(route.values, value)) return route.values[value];
    }
    return undefined;
  }

  /** Fails (closing `channel`) unless every exchange and queue the routing table names exists. */
  async function checkRouting(channel: Channel): Promise<void> {
    for (const exchange of routeExchanges) await channel.checkExchange(exchange);
    for (const queue of new Set(Object.values(groupQueues))) await channel.checkQueue(queue);
  }

  let model: ChannelModel | null = null;
  let publisher: ConfirmChannel | null = null;
  let opening: Promise<void> | null = null;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let attempt = 0;
  let everConnected = false;
  let closed = false;
  const topics = new Set<string>();
  const consumers = new Set<GroupConsumer>();
  const listeners = new Set<(status: RabbitStatus) => void>();
  const unroutableWarned = new Set<string>();

  function notify(status: RabbitStatus) {
    for (const listener of listeners) {
      try {
        listener(status);
      } catch (error) {
        log.error({ err: error }, 'status listener threw');
      }
    }
  }

  async function withChannel<T>(on: ChannelModel, work: (channel: Channel) => Promise<T>): Promise<T> {
    const channel = await on.createChannel();
    channel.on('error', (error: Error) => log.warn({ err: error }, 'declaration channel error'));
    try {
      return await work(channel);
    } finally {
      await channel.close().catch(() => {});
    }
  }

  async function declareTopics(channel: Channel, names: Iterable<string>): Promise<void> {
    for (const name of names) await channel.assertExchange(name, 'fanout', { durable: true });
  }

  function watchPublisher(on: ChannelModel, channel: ConfirmChannel) {
    channel.on('error', (error: Error) => log.warn({ err: error }, 'publish channel error'));
    channel.on('return', (message: Message) => {
      const { exchange, routingKey } = message.fields;
      if (routeExchanges.has(exchange)) {
        const where = `${exchange} ${routingKey}`;
        if (unroutableWarned.has(where)) return;
        unroutableWarned.add(where);
        log.warn(
          { exchange, routing_key: routingKey },
          'no queue is bound to this routing key: RabbitMQ dropped the routed copy (warned once)',
        );
        return;
      }
      if (unroutableWarned.has(exchange)) return;
      unroutableWarned.add(exchange);
      log.warn(
        { topic: exchange },
        'no queue is bound to this topic yet: RabbitMQ dropped the message (warned once)',
      );
    });
    channel.on('close', () => {
      if (publisher !== channel) return;
      publisher = null;
      // amqplib closes a dying connection's channels before it reports the connection closed: decide
      // once that has happened whether only this channel went.
      setImmediate(() => reopenPublisher(on));
    });
  }

  function reopenPublisher(on: ChannelModel) {
    if (closed || model !== on || publisher) return;
    // The connection is still up: only the channel went (e.g. a protocol error). Open another.
    log.warn('publish channel closed; opening a new one');
    on.createConfirmChannel().then(
      (fresh) => {
        if (model !== on || closed) {
          void fresh.close().catch(() => {});
          return;
        }
        publisher = fresh;
        watchPublisher(on, fresh);
      },
      (error: unknown) => {
        log.error({ err: error }, 'cannot reopen the publish channel; reconnecting');
        void on.close().catch(() => {});
      },
    );
  }

  function onConnectionLost(lost: ChannelModel, error: Error | undefined) {
    if (model !== lost) return;
    model = null;
    publisher = null;
    if (closed) return;
    log.warn({ err: error }, 'RabbitMQ connection lost; reconnecting');
    notify('disconnected');
    scheduleReconnect();
  }

  async function open(): Promise<void> {
    const next = await amqp.connect(options.url, { clientProperties: { connection_name: 'switchyard' } });
    let lost = false;
    next.on('error', (error: Error) => log.warn({ err: error }, 'RabbitMQ connection error'));
    next.on('blocked', (reason: string) => log.warn({ reason }, 'RabbitMQ blocked the connection'));
    next.on('unblocked', () => log.info('RabbitMQ unblocked the connection'));
    next.on('close', (error?: Error) => {
      lost = true;
      onConnectionLost(next, error);
    });
    let channel: ConfirmChannel;
    try {
      await withChannel(next, async (setup) => {
        await declareNotificationTopology(setup);
        await declareTopics(setup, topics);
        await checkRouting(setup);
      });
      channel = await next.createConfirmChannel();
      if (lost) throw new Error('connection closed during setup');
      if (closed) throw new Error('transport closed');
    } catch (error) {
      await next.close().catch(() => {});
      throw error;
    }
    model = next;
    publisher = channel;
    watchPublisher(next, channel);
    attempt = 0;
    everConnected = true;
    // `publish` works from here on; 'connected' is announced once the consumers are subscribed again.
    await Promise.all([...consumers].map((consumer) => consumer.resume(next)));
    if (model !== next) return; // lost again meanwhile; ensureOpen schedules the next attempt
    log.info('connected to RabbitMQ');
    notify('connected');
  }

  function ensureOpen(): Promise<void> {
    if (model) return Promise.resolve();
    if (!opening) {
      if (reconnectTimer) {
        clearTimeout(reconnectTimer);
        reconnectTimer = null;
      }
      opening = open().finally(() => {
        opening = null;
        // Also covers a connection lost again while consumers were being resubscribed.
        if (!model && everConnected && !closed) scheduleReconnect();
      });
    }
    return opening;
  }

  function scheduleReconnect() {
    if (closed || reconnectTimer || opening) return;
    const base = Math.min(reconnectDelayMs * 2 ** attempt, MAX_RECONNECT_DELAY_MS);
    const wait = Math.round(base * (0.8 + Math.random() * 0.4));
    attempt += 1;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      ensureOpen().catch((error: unknown) => {
        log.warn({ err: error, attempt }, 'reconnect to RabbitMQ failed');
        scheduleReconnect();
      });
    }, wait);
  }

  function createConsumer(
    group: string,
    groupTopics: string[],
    handler: TransportHandler,
    consumeOptions: ConsumeOptions,
  ): GroupConsumer {
    const queue = createKeyedQueue(consumeOptions.concurrency);
    const batchHandler = consumeOptions.batchHandler;
    const prefetch = Math.max(
      1,
      options.prefetch ?? Math.max(consumeOptions.concurrency * 2, batchHandler ? 2 * RUN_MAX_MESSAGES : 0),
    );
    const routedQueue = Object.hasOwn(groupQueues, group) ? groupQueues[group] : undefined;
    const queueName = routedQueue ?? group;
    // A message put in a routed queue from outside (without the topic header) belongs to the topic of the
    // route that fills the queue: dead letters and replays then name a topic, never the exchange.
    const defaultTopic =
      routedQueue === undefined
        ? undefined
        : (routes.find((route) =>
            Object.values(route.values).some((destination) => destination.queue === routedQueue),
          )?.topic ?? groupTopics[0]);
    const clog = log.child({
      consumer_group: group,
      ...(routedQueue === undefined ? {} : { queue: routedQueue }),
    });

    interface Session {
      channel: Channel;
      tag: string | null;
      open: boolean;
      /** Batch mode: deliveries not yet in a run, in delivery order. */
      pending: { delivery: ConsumeMessage; message: TransportMessage }[];
      /** Batch mode: the loop handing runs over, while there is one. */
      running: Promise<void> | null;
    }

    let session: Session | null = null;
    let attaching: Promise<void> | null = null;
    let reattachTimer: NodeJS.Timeout | null = null;
    /** No new handler starts (rewinding or stopping). */
    let halted = false;
    let rewinding = false;
    let stopped = false;
    let stopping: Promise<void> | null = null;

    async function closeSession(ended: Session): Promise<void> {
      if (session === ended) session = null;
      if (!ended.open) return;
      ended.open = false;
      // Closing the channel hands every message it has not acked back to RabbitMQ.
      await ended.channel.close().catch(() => {});
    }

    async function cancel(current: Session): Promise<void> {
      if (!current.open || current.tag === null) return;
      await current.channel.cancel(current.tag).catch(() => {});
    }

    function onSessionLost() {
      if (stopped || rewinding) return;
      // A lost connection is resumed by the reconnect; a channel closed on its own is reopened here.
      scheduleReattach();
    }

    function scheduleReattach() {
      if (stopped || reattachTimer) return;
      reattachTimer = setTimeout(() => {
        reattachTimer = null;
        if (model) void consumer.resume(model);
      }, reconnectDelayMs);
    }

    function onDelivery(current: Session, delivery: ConsumeMessage | null) {
      if (delivery === null) {
        clog.warn('RabbitMQ cancelled the subscription (queue deleted?); subscribing again');
        void closeSession(current).then(scheduleReattach);
        return;
      }
      const message = toTransportMessage(delivery, defaultTopic);
      if (batchHandler) {
        current.pending.push({ delivery, message });
        current.running ??= handOverRuns(current, batchHandler);
        return;
      }
      const handled = queue.schedule(message.key, async () => {
        // Not started: left unacked, RabbitMQ delivers it again once this channel is closed.
        if (halted || session !== current || !current.open) return;
        let outcome: Outcome | undefined;
        try {
          outcome = (await handler(message)) ?? undefined;
        } catch (error) {
          clog.warn(
            { err: error, topic: message.topic, key: message.key },
            'handler rejected; will redeliver',
          );
          rewind(current);
          return;
        }
        settle(current, delivery, outcome);
      });
      handled.catch((error: unknown) => clog.error({ err: error }, 'delivery task failed'));
    }

    /** Acks (or, when dead-lettered, rejects) a delivery the handler is done with. */
    function settle(current: Session, delivery: ConsumeMessage, outcome: Outcome | undefined) {
      if (!current.open) return; // the connection went: RabbitMQ redelivers it
      try {
        if (outcome === 'dead_lettered') current.channel.nack(delivery, false, false);
        else current.channel.ack(delivery);
      } catch (error) {
        clog.debug({ err: error }, 'ack failed (channel closing); message will be redelivered');
      }
    }

    /**
     * Hands the session's pending deliveries to `handleRun` a run at a time until none are left. What is
     * still pending when the consumer halts or the session ends stays unacked: RabbitMQ delivers it again
     * once the channel is closed.
     */
    async function handOverRuns(current: Session, handleRun: TransportBatchHandler): Promise<void> {
      try {
        // The first run takes every delivery of this turn of the event loop, not only the one that woke it.
        await new Promise(setImmediate);
        while (current.pending.length > 0) {
          if (halted || session !== current || !current.open) return;
          const run = current.pending.splice(0, RUN_MAX_MESSAGES);
          let outcomes: readonly Outcome[] | undefined;
          try {
            outcomes = (await handleRun(run.map((entry) => entry.message))) ?? undefined;
          } catch (error) {
            clog.warn({ err: error, messages: run.length }, 'batch handler rejected; will redeliver');
            rewind(current);
            return;
          }
          run.forEach((entry, index) => {
            settle(current, entry.delivery, outcomes?.[index]);
          });
        }
      } finally {
        current.running = null;
      }
    }

    /** Until the handlers (or the run) under way for `current` have finished. */
    function idle(current: Session | null): Promise<unknown> {
      return Promise.all([queue.idle(), current?.running]);
    }

    function rewind(current: Session) {
      if (rewinding || stopped) return;
      // A handler from a connection already gone: RabbitMQ has taken its messages back already.
      if (session !== current || !current.open) return;
      rewinding = true;
      halted = true;
      void (async () => {
        try {
          await cancel(current);
          await Promise.all([idle(current), delay(retryDelayMs)]);
          await closeSession(current);
        } finally {
          rewinding = false;
          halted = stopped;
          if (!stopped && model) void consumer.resume(model);
        }
      })();
    }

    async function subscribe(on: ChannelModel): Promise<void> {
      const channel = await on.createChannel();
      const current: Session = { channel, tag: null, open: true, pending: [], running: null };
      channel.on('error', (error: Error) => clog.warn({ err: error }, 'consumer channel error'));
      channel.on('close', () => {
        const wasOpen = current.open;
        current.open = false;
        if (session === current) session = null;
        if (wasOpen) onSessionLost();
      });
      try {
        await channel.prefetch(prefetch);
        if (routedQueue === undefined) {
          await channel.assertQueue(group, { durable: true });
          await declareTopics(channel, groupTopics);
          for (const topic of groupTopics) await channel.bindQueue(group, topic, '');
        } else {
          // Declared by its topology with arguments this transport does not know: only checked.
          await channel.checkQueue(routedQueue);
        }
        session = current;
        const { consumerTag } = await channel.consume(
          queueName,
          (delivery) => onDelivery(current, delivery),
          { noAck: false },
        );
        current.tag = consumerTag;
      } catch (error) {
        if (session === current) session = null;
        current.open = false;
        await channel.close().catch(() => {});
        throw error;
      }
      clog.debug({ prefetch, concurrency: consumeOptions.concurrency }, 'subscribed');
    }

    const consumer: GroupConsumer = {
      attach(on) {
        if (stopped || rewinding || session) return Promise.resolve();
        if (!attaching) {
          attaching = subscribe(on).finally(() => {
            attaching = null;
          });
        }
        return attaching;
      },
      resume(on) {
        return consumer.attach(on).catch((error: unknown) => {
          clog.error({ err: error }, 'cannot subscribe; retrying');
          scheduleReattach();
        });
      },
      stop() {
        if (!stopping) {
          stopped = true;
          halted = true;
          if (reattachTimer) clearTimeout(reattachTimer);
          reattachTimer = null;
          stopping = (async () => {
            await attaching?.catch(() => {});
            const current = session;
            if (current) await cancel(current);
            // Handlers (or the run) already under way finish and ack; the rest stay unacked.
            await idle(current);
            if (current) await closeSession(current);
            consumers.delete(consumer);
            clog.debug('consumer stopped');
          })();
        }
        return stopping;
      },
    };
    return consumer;
  }

  const transport: RabbitTransport = {
    kind: 'rabbitmq',
    get connected() {
      return model !== null && publisher !== null;
    },
    onStatus(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },

    async connect(names) {
      if (closed) throw new Error('RabbitMQ transport is closed');
      const fresh = names.filter((name) => !topics.has(name));
      for (const name of names) topics.add(name);
      if (!model) {
        try {
          await ensureOpen();
        } catch (error) {
          if (everConnected) scheduleReconnect();
          throw new Error(`cannot connect to RabbitMQ at ${describe(options.url)}: ${errorText(error)}`);
        }
      }
      // open() declares every known topic, but may have passed that point before `fresh` was added.
      const current = model;
      if (!current) throw new Error('RabbitMQ connection lost while connecting');
      if (fresh.length > 0) await withChannel(current, (channel) => declareTopics(channel, fresh));
    },

    async publish(messages) {
      if (messages.length === 0) return;
      if (!model || !publisher) throw new Error('RabbitMQ transport is not connected');
      const unknown = [...new Set(messages.map((message) => message.topic))].filter(
        (name) => !topics.has(name),
      );
      if (unknown.length > 0) {
        await withChannel(model, (channel) => declareTopics(channel, unknown));
        for (const name of unknown) topics.add(name);
      }
      const channel = publisher;
      if (!channel) throw new Error('RabbitMQ transport is not connected');
      // A routed event's copy goes right after it, on the same channel: both keep the publish order.
      const copies = messages.flatMap((message) => {
        const topicCopy = {
          exchange: message.topic,
          routingKey: routingKeyOf(message.key),
          value: message.value,
          options: publishOptions(message),
        };
        const destination = destinationOf(message);
        if (!destination) return [topicCopy];
        return [
          topicCopy,
          {
            exchange: destination.exchange,
            routingKey: destination.routingKey,
            value: message.value,
            options: publishOptions(message, { [TOPIC_HEADER]: message.topic }),
          },
        ];
      });
      const confirms: Promise<void>[] = [];
      for (const copy of copies) {
        let writable = true;
        const confirmed = new Promise<void>((resolve, reject) => {
          try {
            writable = channel.publish(
              copy.exchange,
              copy.routingKey,
              copy.value,
              copy.options,
              (error: unknown) => {
                if (error) reject(new Error(`RabbitMQ did not confirm a message: ${errorText(error)}`));
                else resolve();
              },
            );
          } catch (error) {
            reject(new Error(`cannot publish to RabbitMQ: ${errorText(error)}`));
          }
        });
        confirmed.catch(() => {}); // observed by Promise.all below; avoids an unhandled rejection meanwhile
        confirms.push(confirmed);
        if (publisher !== channel) break; // the channel went; what was written is rejected above
        if (!writable) {
          await new Promise<void>((resolve) => {
            const done = () => {
              channel.off('drain', done);
              channel.off('close', done);
              resolve();
            };
            channel.on('drain', done);
            channel.on('close', done);
          });
        }
      }
      await Promise.all(confirms);
      if (confirms.length < copies.length)
        throw new Error('RabbitMQ publish channel closed while publishing');
    },

    async consume(group, groupTopics, handler, consumeOptions) {
      if (closed) throw new Error('RabbitMQ transport is closed');
      if (!everConnected) throw new Error('RabbitMQ transport: call connect() before consume()');
      for (const name of groupTopics) topics.add(name);
      const consumer = createConsumer(group, groupTopics, handler, consumeOptions);
      consumers.add(consumer);
      if (model) {
        try {
          await consumer.attach(model);
        } catch (error) {
          await consumer.stop();
          throw error;
        }
      }
      // Disconnected: the consumer subscribes when the connection is back.
      return consumer;
    },

    selection(group) {
      if (!Object.hasOwn(groupQueues, group)) return undefined;
      const queueName = groupQueues[group];
      return routes.flatMap((route) => {
        const values = Object.entries(route.values)
          .filter(([, destination]) => destination.queue === queueName)
          .map(([value]) => value);
        if (values.length === 0) return [];
        return [{ topic: route.topic, type: route.type, dataField: route.dataField, values }];
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      reconnectTimer = null;
      await Promise.all([...consumers].map((consumer) => consumer.stop()));
      await opening?.catch(() => {});
      const current = model;
      const channel = publisher;
      model = null;
      publisher = null;
      if (channel) await channel.close().catch(() => {});
      if (current) await current.close().catch(() => {});
      log.debug('RabbitMQ transport closed');
    },
  };
  return transport;
}
