/**
 * The port a message broker adapter implements (Kafka, RabbitMQ). It moves bytes; everything about
 * events (parsing, validation, retries, dead letters, idempotency) is done once, above it, by the
 * consumer runner, so every adapter behaves the same.
 */

import type { Outcome } from './runner.ts';

/** A message as a broker carries it. */
export interface TransportMessage {
  topic: string;
  /** Partition key: messages with the same key are delivered and handled in publish order. */
  key: string;
  /** The serialised CloudEvent (JSON). May be anything at all when it comes from outside. */
  value: Buffer;
  headers: Record<string, string>;
}

/**
 * Called once per delivered message. Resolving acknowledges it (Kafka: offset committed; RabbitMQ:
 * basic.ack). Rejecting means "could not even record the outcome" (e.g. the database is down): the adapter
 * must not acknowledge, and must deliver the message again later, keeping per-key order.
 *
 * It may resolve with the consumer runner's outcome. `dead_lettered` (already recorded in
 * `bus.dead_letters`) lets a broker with dead-letter routing of its own take the message there too
 * (RabbitMQ: basic.nack without requeue, so the queue's dead-letter exchange gets it); adapters without
 * one acknowledge it like any other.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: handlers written before outcomes existed return Promise<void>
export type TransportHandler = (message: TransportMessage) => Promise<void | Outcome>;

/**
 * Events of one topic picked by their CloudEvent type and the value of one top-level field of their data.
 * `topic` is the name on the broker (namespace included).
 */
export interface EventSelector {
  topic: string;
  type: string;
  dataField: string;
  values: string[];
}

/**
 * Called with a run of messages (of one partition, in order). Resolving acknowledges them all; rejecting
 * means none of them could be recorded: the adapter delivers them again later, before what came after
 * them (Kafka as the same run; RabbitMQ in runs of whatever it has in hand then). It may resolve with
 * each message's outcome, in the run's order, as `TransportHandler` does for one: a broker with
 * dead-letter routing of its own takes the `dead_lettered` ones there. Resolving with nothing means no
 * message was dead-lettered.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a batch handler that only handles returns Promise<void>
export type TransportBatchHandler = (messages: TransportMessage[]) => Promise<void | readonly Outcome[]>;

export interface ConsumeOptions {
  /**
   * How many messages may be in the handler at once. Messages with the same key are never handled at the
   * same time and are handled in the order they were published.
   */
  concurrency: number;
  /**
   * Optional. An adapter that receives messages in runs (a Kafka fetch, the deliveries a RabbitMQ
   * consumer has in hand) may hand each run to this instead of passing its messages to the handler one
   * by one, so the consumer can record them in one transaction.
   */
  batchHandler?: TransportBatchHandler;
}

export interface TransportConsumer {
  /** Stops taking messages, waits for those in the handler, acknowledges them, leaves the group. */
  stop(): Promise<void>;
}

export interface Transport {
  readonly kind: 'kafka' | 'rabbitmq';
  /** Connects and declares `topics` (Kafka topics / RabbitMQ exchanges) if they do not exist. */
  connect(topics: string[]): Promise<void>;
  /**
   * Publishes in order and resolves only when the broker has durably accepted every message (Kafka acks
   * from all in-sync replicas with the idempotent producer; RabbitMQ publisher confirms, persistent
   * messages). Rejects if any message was not accepted; the caller publishes them all again.
   */
  publish(messages: TransportMessage[]): Promise<void>;
  /**
   * Joins consumer group `group` on `topics`. Every group gets every message (fan-out); consumers of one
   * group share the messages (each handled by one of them). A new group starts from the oldest message
   * the broker still has.
   */
  consume(
    group: string,
    topics: string[],
    handler: TransportHandler,
    options: ConsumeOptions,
  ): Promise<TransportConsumer>;
  /**
   * Optional. When the adapter hands group `group` (broker name) only some events of its topics (RabbitMQ
   * groups reading a routed queue), which ones, so `drain` waits for those alone. Undefined: all of them.
   */
  selection?(group: string): EventSelector[] | undefined;
  /** Stops every consumer and closes connections. */
  close(): Promise<void>;
}
