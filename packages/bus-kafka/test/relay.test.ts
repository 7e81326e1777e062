import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  appendToOutbox,
  type Bus,
  busMigrations,
  createBrokerBus,
  createEvent,
  type Transport,
  type TransportConsumer,
  type TransportMessage,
} from '@switchyard/bus';
import { createPool, migrate, type Pool, systemClock, uuidV7, withTransaction } from '@switchyard/kernel';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import { testKafkaBrokers } from '@switchyard/testing/kafka';
import { createRecorder } from '@switchyard/testing/providers';
import { createKafkaTransport } from '../src/index.ts';

const log = silentLogger();
const TOPIC = 'relay-wire';

/**
 * What the outbox relay puts on the broker, read back with a plain consumer of the topic: CloudEvents'
 * binary content mode (the data as the value, every other attribute a `ce_` header).
 */
describe('outbox relay on Kafka: the messages on the wire', { timeout: 120_000 }, () => {
  let database: TestDatabase;
  let pool: Pool;
  let bus: Bus;
  let reader: Transport;
  let consumer: TransportConsumer | undefined;
  const namespace = `relay-${randomUUID().slice(0, 8)}.`;
  const received = createRecorder<TransportMessage>('relayed message');
  const withId = (id: string) => (message: TransportMessage) => message.headers.ce_id === id;

  before(async () => {
    const brokers = await testKafkaBrokers();
    database = await createTestDatabase('relay_wire');
    pool = createPool({ connectionString: database.url, maxConnections: 5, applicationName: 'relay-wire' });
    await migrate(pool, [busMigrations], log);
    const transport = (clientId: string) =>
      createKafkaTransport({ brokers: [brokers], clientId, partitions: 1, log });
    bus = createBrokerBus({
      pool,
      log,
      clock: systemClock,
      ids: uuidV7,
      transport: transport('relay-wire'),
      topics: [TOPIC],
      relayBatchSize: 100,
      pollIntervalMs: 100,
      namespace,
    });
    await bus.start();
    reader = transport('relay-wire-reader');
    consumer = await reader.consume(
      `${namespace}plain-reader`,
      [`${namespace}${TOPIC}`],
      async (message) => received.push(message),
      { concurrency: 1 },
    );
  });

  after(async () => {
    await consumer?.stop();
    await reader?.close();
    await bus?.stop();
    await pool?.end();
    await database?.drop();
  });

  it('sends the data as the value and each attribute the envelope has as a ce_ header', async () => {
    const data = { title: 'Ship it', tags: ['a', 'b'], done: false, points: 3.5, note: 'é "quoted"' };
    const event = createEvent(
      { type: 'task.created', subject: 'task-1', data, partitionKey: 'user-7' },
      { correlationId: 'corr-1', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
      { clock: systemClock, ids: uuidV7, source: '/switchyard/tasks' },
    );
    await withTransaction(pool, (tx) => appendToOutbox(tx, TOPIC, [event], () => ({ 'x-tenant': 'acme' })));
    const message = await received.waitFor(withId(event.id), { timeoutMs: 60_000 });
    assert.equal(message.key, 'user-7', 'the partition key is the Kafka key');
    assert.deepEqual(JSON.parse(message.value.toString('utf8')), data, 'the value is the data, as JSON');
    assert.deepEqual(message.headers, {
      'x-tenant': 'acme',
      'switchyard-outbox-id': event.id,
      ce_specversion: '1.0',
      ce_id: event.id,
      ce_type: 'task.created',
      ce_source: '/switchyard/tasks',
      ce_subject: 'task-1',
      ce_time: event.time,
      ce_partitionkey: 'user-7',
      ce_correlationid: 'corr-1',
      ce_traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      'content-type': 'application/json',
    });
  });

  it('relays a row written by hand as it is: no data is the value null, a number attribute its text', async () => {
    const id = randomUUID();
    await pool.query(
      `INSERT INTO bus.outbox (topic, event_id, partition_key, envelope, headers)
       VALUES ($1, $2::uuid, 'k', jsonb_build_object('id', $3::text, 'type', 'odd.event', 'subject', 42, 'traceparent', NULL), '{}')`,
      [TOPIC, id, id],
    );
    const message = await received.waitFor(withId(id), { timeoutMs: 60_000 });
    assert.equal(message.value.toString('utf8'), 'null');
    assert.deepEqual(message.headers, {
      'switchyard-outbox-id': id,
      ce_id: id,
      ce_type: 'odd.event',
      ce_subject: '42',
      'content-type': 'application/json',
    });
  });

  it('relays, in order, events whose data is not an object', async () => {
    const values: unknown[] = ['text', 7, null, [1, { a: 'b' }], { nested: { deep: [true] } }];
    const events = values.map((data) =>
      createEvent(
        { type: 'any.data', subject: 's', data },
        {},
        { clock: systemClock, ids: uuidV7, source: '/test' },
      ),
    );
    await withTransaction(pool, (tx) => appendToOutbox(tx, TOPIC, events));
    await received.waitFor(withId(events.at(-1)?.id ?? ''), { timeoutMs: 60_000 });
    const ids = new Set(events.map((event) => event.id));
    const messages = received.items.filter((message) => ids.has(message.headers.ce_id ?? ''));
    assert.deepEqual(
      messages.map((message) => JSON.parse(message.value.toString('utf8'))),
      values,
    );
    assert.deepEqual(
      messages.map((message) => message.headers.ce_id),
      events.map((event) => event.id),
    );
  });
});
