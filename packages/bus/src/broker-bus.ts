import { type Clock, type IdGenerator, type Logger, type Pool, withTransaction } from '@switchyard/kernel';
import { BROKER_ATTRIBUTES, toBrokerMessage } from './binding.ts';
import {
  type CursorRow,
  claimCursor,
  countOutboxAfter,
  OUTBOX_START,
  onOutboxCommit,
  outboxHead,
  peekCursor,
  readOutboxText,
  saveCursor,
} from './outbox.ts';
import { createWaker, listenForOutboxCommits, type OutboxListener } from './outbox-listener.ts';
import { addSubscription, type Bus, type GroupLag, LAG_COUNT_CAP, type Subscription } from './port.ts';
import {
  BatchFailure,
  type ConsumerRunner,
  createConsumerRunner,
  type Outcome,
  type RawMessage,
  RunnerStoppingError,
} from './runner.ts';
import type { EventSelector, Transport, TransportConsumer } from './transport.ts';

export interface BrokerBusOptions {
  pool: Pool;
  log: Logger;
  clock: Clock;
  ids: IdGenerator;
  transport: Transport;
  /** Topics declared at start even before anything is published to them. */
  topics: string[];
  /** Outbox rows published per broker round trip. */
  relayBatchSize: number;
  /** How often the relay looks for rows that came without a notification. */
  pollIntervalMs: number;
  /** Longest wait between relay attempts while the broker is unreachable. */
  maxRelayBackoffMs?: number;
  /**
   * Prefix for broker topic and group names, so several installations (or test runs) can share one
   * broker. Empty by default: the source systems' names are used as they are.
   */
  namespace?: string;
}

/**
 * A run of messages from the broker (one Kafka fetch of a partition, the deliveries a RabbitMQ consumer
 * has in hand), as the PostgreSQL bus takes a pass: marked processed and handled in one transaction; if
 * anything in it needs a retry or a dead letter, the transaction is undone and the runner takes the
 * messages one by one, each in its own, in order per key. Returns their outcomes in that case.
 */
async function handleRun(
  deps: { pool: Pool; clock: Clock },
  runner: ConsumerRunner,
  messages: RawMessage[],
): Promise<Outcome[] | undefined> {
  try {
    await withTransaction(deps.pool, (tx) => runner.handleBatchInTransaction(tx, messages));
    runner.onSettled?.();
    return undefined;
  } catch (error) {
    if (!(error instanceof BatchFailure)) throw error;
    return runner.handleEach(messages, error, deps.clock());
  }
}

/**
 * The bus over a broker (Kafka, RabbitMQ). Writes still go to the outbox in the writer's transaction; a
 * relay publishes them to the broker and only then moves its offset, so a broker outage delays events
 * and loses none. Consumers take messages from the broker through the shared runner.
 */
export function createBrokerBus(options: BrokerBusOptions): Bus {
  const { pool, log, transport } = options;
  const relayLog = log.child({ component: 'outbox-relay', broker: transport.kind });
  const relayName = transport.kind;
  const relayRow: CursorRow = { table: 'bus.relay_offsets', keyColumn: 'relay', key: relayName };
  const namespace = options.namespace ?? '';
  const onBroker = (name: string) => `${namespace}${name}`;
  const subscriptions: Subscription[] = [];
  const runners = new Map<string, ConsumerRunner>();
  const consumers: TransportConsumer[] = [];
  const declaredTopics = new Set<string>();
  const relayWaker = createWaker();
  const progress = createWaker();
  let active = false;
  let listener: OutboxListener | undefined;
  let relayLoop: Promise<void> | undefined;
  let stopHearingCommits = () => {};

  /** SQL narrowing `drain` to the events the transport routes to a group, appending its parameters. */
  function selectionClause(selectors: EventSelector[] | undefined, params: unknown[]): string {
    if (!selectors) return '';
    const alternatives = selectors.map((selector) => {
      const topic = selector.topic.startsWith(namespace)
        ? selector.topic.slice(namespace.length)
        : selector.topic;
      params.push(topic, selector.type, selector.dataField, selector.values);
      const n = params.length;
      return `(o.topic = $${n - 3}::text AND o.envelope->>'type' = $${n - 2}::text AND o.envelope->'data'->>($${n - 1}::text) = ANY($${n}::text[]))`;
    });
    return `AND (${alternatives.join(' OR ') || 'false'})`;
  }

  async function declare(topics: string[]) {
    const missing = [...new Set(topics)].filter((topic) => !declaredTopics.has(topic));
    if (missing.length === 0) return;
    await transport.connect(missing.map(onBroker));
    for (const topic of missing) declaredTopics.add(topic);
  }

  /** Publishes one batch; returns how many rows, or null when another process holds the relay. */
  async function relayPass(): Promise<number | null> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const cursor = await claimCursor(client, relayRow);
      if (!cursor) {
        await client.query('ROLLBACK');
        return null;
      }
      const records = await readOutboxText(client, cursor, options.relayBatchSize, BROKER_ATTRIBUTES);
      const last = records.at(-1);
      if (!last) {
        await client.query('ROLLBACK');
        return 0;
      }
      await declare(records.map((record) => record.topic));
      const messages = records.map((record) => toBrokerMessage(record, onBroker(record.topic)));
      // Published before the offset moves: a crash in between publishes the batch again, and consumers
      // drop the repeats by event id.
      await transport.publish(messages);
      await saveCursor(client, relayRow, last.cursor);
      await client.query('COMMIT');
      return records.length;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async function relay(): Promise<void> {
    let failures = 0;
    while (active) {
      try {
        const published = await relayPass();
        if (failures > 0) relayLog.info({ after_failures: failures }, 'relay publishing again');
        failures = 0;
        if (published !== null && published > 0) continue;
        await relayWaker.wait(options.pollIntervalMs);
      } catch (error) {
        if (!active) break;
        failures += 1;
        const delayMs = Math.min(options.maxRelayBackoffMs ?? 10_000, 200 * 2 ** (failures - 1));
        relayLog.warn(
          { err: error, attempt: failures, retry_in_ms: delayMs },
          'relay could not publish; backing off',
        );
        await relayWaker.wait(delayMs);
      }
    }
  }

  return {
    kind: transport.kind,

    subscribe(group, topics, handler, subscribeOptions = {}) {
      addSubscription(subscriptions, active, group, topics, handler, subscribeOptions);
    },

    async start() {
      active = true;
      await pool.query('INSERT INTO bus.relay_offsets (relay) VALUES ($1) ON CONFLICT DO NOTHING', [
        relayName,
      ]);
      await declare([...options.topics, ...subscriptions.flatMap((subscription) => subscription.topics)]);
      for (const subscription of subscriptions) {
        const runner = createConsumerRunner(subscription, options);
        runner.onSettled = () => progress.wake();
        runners.set(subscription.group, runner);
        consumers.push(
          await transport.consume(
            onBroker(subscription.group),
            subscription.topics.map(onBroker),
            // The outcome goes back to the transport: a broker with dead-letter routing of its own
            // (RabbitMQ's routed queues) takes a dead-lettered message there as well.
            (message) => runner.handle({ ...message, topic: message.topic.slice(namespace.length) }),
            {
              concurrency: subscription.options.concurrency ?? 1,
              batchHandler: (messages) =>
                handleRun(
                  options,
                  runner,
                  messages.map((message) => ({ ...message, topic: message.topic.slice(namespace.length) })),
                ),
            },
          ),
        );
      }
      // Consumers first: RabbitMQ drops what is published before a group's queue is bound.
      stopHearingCommits = onOutboxCommit({ wake: () => relayWaker.wake(), pool });
      listener = listenForOutboxCommits(pool, relayLog, () => relayWaker.wake(), options.pollIntervalMs);
      relayLoop = relay();
    },

    async stop() {
      if (!active) return;
      active = false;
      stopHearingCommits();
      for (const runner of runners.values()) runner.stop();
      relayWaker.wake();
      await Promise.all(consumers.splice(0).map((consumer) => consumer.stop()));
      await relayLoop;
      await listener?.stop();
      listener = undefined;
      runners.clear();
      await transport.close();
    },

    async drain(group) {
      const subscription = subscriptions.find((candidate) => candidate.group === group);
      if (!subscription || !active) throw new Error(`consumer group ${group} is not running in this process`);
      const target = await outboxHead(pool, subscription.topics);
      if (target === OUTBOX_START) return;
      const params: unknown[] = [
        subscription.topics,
        target.txid.toString(),
        target.position.toString(),
        group,
      ];
      const selected = selectionClause(transport.selection?.(onBroker(group)), params);
      // Every event up to the target that reaches the group must be marked processed by it (handled,
      // passed over, or dead-lettered); the marks live in the database, whichever process did the work.
      for (;;) {
        const pending = await pool.query(
          `SELECT 1 FROM bus.outbox o
            WHERE o.topic = ANY($1) AND (o.txid, o.position) <= ($2::text::xid8, $3::bigint) ${selected}
              AND NOT EXISTS (SELECT 1 FROM bus.processed_events p WHERE p.consumer_group = $4 AND p.event_id = o.event_id)
            LIMIT 1`,
          params,
        );
        if (pending.rowCount === 0) return;
        if (!active) throw new RunnerStoppingError();
        await progress.wait(100);
      }
    },

    /**
     * The relay's backlog (outbox rows not yet on the broker) is the one figure the database answers
     * cheaply: it is reported as the group `relay:<broker>`. Where each consumer group stands is kept by
     * the broker, which this port does not ask, so their `waiting` is null.
     */
    async lag() {
      const relayCursor = await peekCursor(pool, relayRow);
      const relayWaiting = relayCursor
        ? await countOutboxAfter(pool, null, relayCursor, LAG_COUNT_CAP)
        : null;
      const relay: GroupLag = {
        group: `relay:${relayName}`,
        topics: ['*'],
        waiting: relayWaiting,
        capped: relayWaiting !== null && relayWaiting >= LAG_COUNT_CAP,
        ...(relayWaiting === null ? { reason: 'not started' } : {}),
      };
      return [
        relay,
        ...subscriptions.map(
          ({ group, topics }): GroupLag => ({
            group,
            topics,
            waiting: null,
            capped: false,
            reason: `the ${transport.kind} broker keeps this group's position; ask its own tooling`,
          }),
        ),
      ];
    },
  };
}
