/**
 * Kafka adapter of the Transport port (packages/bus/src/transport.ts), on @platformatic/kafka (pure
 * TypeScript, no native addon).
 *
 * Topics: `connect(topics)` creates the missing ones with `partitions` partitions and the broker's default
 * replication factor (an existing topic is left as it is), then waits until every partition has a leader.
 *
 * Publishing: one idempotent producer (acks = all, so the idempotence rules of the broker apply: no
 * duplicates or reordering from its own retries). The message key is the Kafka key (the default murmur2
 * partitioner, the same as Java's, puts one key always on one partition), headers are Kafka headers, the
 * value goes as is. Compression is lz4 by default (WebAssembly in the client, no native module); zstd
 * (Node's own zlib), gzip and snappy are available. `publish` calls go out one after another, so per-key
 * order holds across calls too, and each resolves only when the broker acknowledged every message of it; a
 * failure rejects it (the caller publishes again). While the broker is unreachable `publish` rejects after
 * the client's few retries; it works again once the broker is back.
 *
 * Consuming: see consumer.ts (a consumer-group member per `consume` call; per-partition order, concurrency
 * across partitions, commits only after the handler resolved, redelivery of a failed message after a
 * backoff, clean hand-over on rebalance, rejoin after a broker outage).
 */
import {
  Admin,
  type CompressionAlgorithmValue,
  findErrorBy,
  ProduceAcks,
  Producer,
} from '@platformatic/kafka';
import type {
  ConsumeOptions,
  Transport,
  TransportConsumer,
  TransportHandler,
  TransportMessage,
} from '@switchyard/bus';
import type { Logger } from '@switchyard/kernel';
import { GroupMember } from './consumer.ts';

export type KafkaCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface KafkaTransportOptions {
  /** Bootstrap brokers, `host:port`. */
  brokers: string[];
  clientId: string;
  /** Partitions of the topics `connect` creates. */
  partitions: number;
  log: Logger;
  /** Producer compression; lz4 by default. */
  compression?: KafkaCompression;
  /** First delay before a failed message is handed to the handler again (doubles up to 30 s); 1 s. */
  retryDelayMs?: number;
  /** Consumer group session timeout; 10 s. Within the broker's group.min/max.session.timeout.ms. */
  sessionTimeoutMs?: number;
  /** Consumer heartbeat interval; 1 s. */
  heartbeatIntervalMs?: number;
  /** How long a rebalance waits for members to rejoin (they finish their running handlers first); 60 s. */
  rebalanceTimeoutMs?: number;
  /** Records of one partition fetched ahead of the handler at most; 500. */
  maxBufferedPerPartition?: number;
}

const TOPIC_READY_TIMEOUT_MS = 30_000;

export function createKafkaTransport(options: KafkaTransportOptions): Transport {
  if (options.brokers.length === 0) throw new Error('kafka: no brokers given');
  if (!Number.isInteger(options.partitions) || options.partitions < 1)
    throw new Error('kafka: partitions must be a positive integer');
  const log = options.log.child({ component: 'bus-kafka' });
  const compression: CompressionAlgorithmValue = options.compression ?? 'lz4';
  const members = new Set<GroupMember>();
  let admin: Admin | undefined;
  let producer: Producer | undefined;
  let closed = false;
  /** The tail of the publish chain: one send at a time keeps per-key order across calls. */
  let publishing: Promise<unknown> = Promise.resolve();
  let consumers = 0;

  function ensureOpen(): void {
    if (closed) throw new Error('kafka transport is closed');
  }

  function getProducer(): Producer {
    ensureOpen();
    producer ??= new Producer({
      clientId: `${options.clientId}-producer`,
      bootstrapBrokers: options.brokers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      compression,
      autocreateTopics: false,
      retries: 3,
      retryDelay: 250,
    });
    return producer;
  }

  function getAdmin(): Admin {
    ensureOpen();
    admin ??= new Admin({ clientId: `${options.clientId}-admin`, bootstrapBrokers: options.brokers });
    return admin;
  }

  async function ensureTopics(topics: string[]): Promise<void> {
    const client = getAdmin();
    const wanted = [...new Set(topics)];
    const existing = new Set(await client.listTopics());
    const missing = wanted.filter((topic) => !existing.has(topic));
    if (missing.length > 0) {
      try {
        await client.createTopics({ topics: missing, partitions: options.partitions, replicas: -1 });
        log.info({ topics: missing, partitions: options.partitions }, 'created kafka topics');
      } catch (error) {
        // Another process may have created some of them meanwhile; anything else is a real failure.
        if (!onlyAlreadyExists(error)) throw error;
      }
    }
    // A new topic's partitions get their leaders shortly after CreateTopics returns.
    const deadline = Date.now() + TOPIC_READY_TIMEOUT_MS;
    for (;;) {
      let notReady = wanted;
      let failure: unknown;
      try {
        const metadata = await client.metadata({ topics: wanted, forceUpdate: true });
        notReady = wanted.filter((topic) => {
          const partitions = metadata.topics.get(topic)?.partitions ?? [];
          return (
            partitions.length === 0 || partitions.some((partition) => !partition || partition.leader < 0)
          );
        });
      } catch (error) {
        failure = error; // UNKNOWN_TOPIC_OR_PARTITION while the creation spreads
      }
      if (notReady.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(`kafka topics not ready: ${notReady.join(', ')}`, { cause: failure });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  return {
    kind: 'kafka',

    async connect(topics: string[]): Promise<void> {
      await ensureTopics(topics);
      // Fetches the producer id now, so the first publish does not pay for it (and a bad broker shows early).
      // Only once: asking again would start a new producer id (and sequences) under publishes in flight.
      const client = getProducer();
      if (client.producerId === undefined) await client.initIdempotentProducer({});
    },

    publish(messages: TransportMessage[]): Promise<void> {
      if (messages.length === 0) return Promise.resolve();
      let client: Producer;
      try {
        client = getProducer();
      } catch (error) {
        return Promise.reject(error);
      }
      const batch = messages.map((message) => ({
        topic: message.topic,
        key: Buffer.from(message.key),
        value: message.value,
        headers: new Map(
          Object.entries(message.headers).map(
            ([name, value]) => [Buffer.from(name), Buffer.from(value)] as const,
          ),
        ),
      }));
      const sent = publishing.then(async () => {
        await client.send({ messages: batch });
      });
      publishing = sent.catch(() => {});
      return sent.catch((error: unknown) => {
        throw new Error(`kafka publish failed: ${(error as Error).message}`, { cause: error });
      });
    },

    async consume(
      group: string,
      topics: string[],
      handler: TransportHandler,
      consumeOptions: ConsumeOptions,
    ): Promise<TransportConsumer> {
      ensureOpen();
      if (!Number.isInteger(consumeOptions.concurrency) || consumeOptions.concurrency < 1)
        throw new Error('concurrency must be a positive integer');
      consumers += 1;
      const member = new GroupMember({
        brokers: options.brokers,
        clientId: `${options.clientId}-consumer-${consumers}`,
        group,
        topics: [...new Set(topics)],
        handler,
        batchHandler: consumeOptions.batchHandler,
        concurrency: consumeOptions.concurrency,
        log,
        retryDelayMs: options.retryDelayMs ?? 1000,
        sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
        heartbeatIntervalMs: options.heartbeatIntervalMs ?? 1000,
        rebalanceTimeoutMs: options.rebalanceTimeoutMs ?? 60_000,
        maxBufferedPerPartition: options.maxBufferedPerPartition ?? 500,
      });
      await member.start();
      members.add(member);
      return {
        async stop() {
          await member.stop();
          members.delete(member);
        },
      };
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...members].map((member) => member.stop()));
      members.clear();
      await publishing;
      await Promise.allSettled([producer?.close(true), admin?.close()]);
    },
  };
}

function onlyAlreadyExists(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const nested = (error as { errors?: unknown }).errors;
  if (Array.isArray(nested) && nested.length > 0) return nested.every(onlyAlreadyExists);
  return findErrorBy(error, 'apiId', 'TOPIC_ALREADY_EXISTS') !== null;
}
