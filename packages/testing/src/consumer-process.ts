/**
 * A consumer in a process of its own, for tests that SIGKILL it mid-batch. It subscribes GROUP to TOPIC on
 * the bus named by BUS (postgres | kafka | rabbitmq) over DATABASE_URL, writes one contract_effects row per
 * event in the delivery transaction, and prints `handled <count>` after each.
 */
import type { Bus } from '@switchyard/bus';
import { createLogger, createPool, systemClock, uuidV7 } from '@switchyard/kernel';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const pool = createPool({
  connectionString: env('DATABASE_URL'),
  maxConnections: 5,
  applicationName: 'consumer-process',
});
const log = createLogger({ level: 'warn' });
const deps = { pool, log, clock: systemClock, ids: uuidV7 };
const kind = env('BUS');
let bus: Bus;
if (kind === 'postgres') {
  const { createPostgresBus } = await import('@switchyard/bus-postgres');
  bus = createPostgresBus({ ...deps, pollIntervalMs: 200, batchSize: 20 });
} else {
  const { createBrokerBus } = await import('@switchyard/bus');
  const transport =
    kind === 'kafka'
      ? (await import('@switchyard/bus-kafka')).createKafkaTransport({
          brokers: env('KAFKA_BROKERS').split(','),
          clientId: 'consumer-process',
          partitions: 3,
          log,
        })
      : (await import('@switchyard/bus-rabbitmq')).createRabbitTransport({ url: env('AMQP_URL'), log });
  bus = createBrokerBus({ ...deps, transport, topics: [], relayBatchSize: 100, pollIntervalMs: 200 });
}

let handled = 0;
const group = env('GROUP');
bus.subscribe(group, [env('TOPIC')], async (event, { tx }) => {
  await tx.query(
    'INSERT INTO contract_effects (consumer_group, event_id, partition_key, n, attempt) VALUES ($1, $2, $3, $4, 1)',
    [group, event.id, event.partitionkey, (event.data as { n: number }).n],
  );
  // Slow enough that a kill lands in the middle of a batch.
  await new Promise((resolve) => setTimeout(resolve, 5));
  handled += 1;
  process.stdout.write(`handled ${handled}\n`);
});
await bus.start();
process.stdout.write('ready\n');
