/**
 * RabbitMQ adapter of the Transport port (packages/bus/src/transport.ts).
 *
 * Topology
 * - Each topic is a durable **fanout** exchange named after the topic. The key does not route (every queue
 *   bound to the exchange gets every message); it travels as the routing key (when it fits AMQP's 255-byte
 *   limit) and always in the `x-switchyard-key` header, which is taken out again on delivery.
 * - Each consumer group is one durable classic queue named exactly after the group, bound to the exchange of
 *   every topic the group consumes. Several groups → several queues → fan-out; several consumers on one
 *   group's queue → competing consumers, each message to one of them. Bindings are only ever added: a
 *   topic dropped from a group's list stays bound until an operator unbinds it.
 * - A group's queue exists from its first `consume` on; RabbitMQ drops what a topic's exchange received
 *   before any queue was bound to it. So "a new group starts from the oldest message the broker still
 *   has" means here: from the moment the group was first declared. Such drops are logged (mandatory flag,
 *   one warning per topic).
 * - Source system C's notification topology (`declareNotificationTopology`) is declared on every connect.
 *
 * Delivery
 * - Publishing goes through one confirm channel; messages are persistent, `application/json`, with the
 *   CloudEvent id (`ce-id` or `id` header) as message id. `publish` resolves when every message is confirmed
 *   and rejects on a nack, a closed channel, or when the transport is not connected.
 * - Consumers ack manually, after the handler resolved, with prefetch `options.prefetch ?? 2 × concurrency`.
 *   Up to `concurrency` handlers run at once; messages with one key run one after another in delivery order
 *   (createKeyedQueue).
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
  type Transport,
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

const MAX_RECONNECT_DELAY_MS = 30_000;
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

export interface RabbitTransportOptions {
  /** amqp://user:password@host:port/vhost */
  url: string;
  log: Logger;
  /** Unacked messages per consumer; default 2 × the consumer's concurrency. */
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

function toTransportMessage(message: ConsumeMessage): TransportMessage {
  const raw: Record<string, unknown> = message.properties.headers ?? {};
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (name !== KEY_HEADER) headers[name] = headerText(value);
  }
  const key = raw[KEY_HEADER];
  return {
    topic: message.fields.exchange,
    key: key === undefined ? message.fields.routingKey : headerText(key),
    value: message.content,
    headers,
  };
}

function publishOptions(message: TransportMessage): Options.Publish {
  const messageId = message.headers['ce-id'] ?? message.headers.id;
  return {
    persistent: true,
    mandatory: true,
    contentType: 'application/json',
    ...(messageId ? { messageId } : {}),
    headers: { ...message.headers, [KEY_HEADER]: message.key },
  };
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
      const topic = message.fields.exchange;
      if (unroutableWarned.has(topic)) return;
      unroutableWarned.add(topic);
      log.warn({ topic }, 'no queue is bound to this topic yet: RabbitMQ dropped the message (warned once)');
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
    const prefetch = Math.max(1, options.prefetch ?? consumeOptions.concurrency * 2);
    const clog = log.child({ consumer_group: group });

    interface Session {
      channel: Channel;
      tag: string | null;
      open: boolean;
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
      const message = toTransportMessage(delivery);
      const handled = queue.schedule(message.key, async () => {
        // Not started: left unacked, RabbitMQ delivers it again once this channel is closed.
        if (halted || session !== current || !current.open) return;
        try {
          await handler(message);
        } catch (error) {
          clog.warn(
            { err: error, topic: message.topic, key: message.key },
            'handler rejected; will redeliver',
          );
          rewind(current);
          return;
        }
        if (!current.open) return; // the connection went: RabbitMQ redelivers it
        try {
          current.channel.ack(delivery);
        } catch (error) {
          clog.debug({ err: error }, 'ack failed (channel closing); message will be redelivered');
        }
      });
      handled.catch((error: unknown) => clog.error({ err: error }, 'delivery task failed'));
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
          await Promise.all([queue.idle(), delay(retryDelayMs)]);
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
      const current: Session = { channel, tag: null, open: true };
      channel.on('error', (error: Error) => clog.warn({ err: error }, 'consumer channel error'));
      channel.on('close', () => {
        const wasOpen = current.open;
        current.open = false;
        if (session === current) session = null;
        if (wasOpen) onSessionLost();
      });
      try {
        await channel.prefetch(prefetch);
        await channel.assertQueue(group, { durable: true });
        await declareTopics(channel, groupTopics);
        for (const topic of groupTopics) await channel.bindQueue(group, topic, '');
        session = current;
        const { consumerTag } = await channel.consume(group, (delivery) => onDelivery(current, delivery), {
          noAck: false,
        });
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
            // Handlers already running finish and ack; the rest stay unacked.
            await queue.idle();
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
      const confirms: Promise<void>[] = [];
      for (const message of messages) {
        let writable = true;
        const confirmed = new Promise<void>((resolve, reject) => {
          try {
            writable = channel.publish(
              message.topic,
              routingKeyOf(message.key),
              message.value,
              publishOptions(message),
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
      if (confirms.length < messages.length)
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
