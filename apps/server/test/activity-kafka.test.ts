import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { DeadLetter, Transport, TransportMessage } from '@switchyard/bus';
import { createKafkaTransport } from '@switchyard/bus-kafka';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import { testKafkaBrokers } from '@switchyard/testing/kafka';
import { type RunningSwitchyard, startSwitchyard } from '../src/server.ts';
import { type ActivityEvent, adminCall as call, testConfig } from './helpers.ts';

/** Polls the server (another component's state, no event to await) until `check` holds. */
async function eventually<T>(
  read: () => Promise<T>,
  check: (value: T) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not reached in ${timeoutMs} ms (last: ${JSON.stringify(value).slice(0, 300)})`,
      );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('activity events on Kafka, with a producer that speaks source D directly', () => {
  let database: TestDatabase;
  let server: RunningSwitchyard;
  let producer: Transport;
  let topic: string;

  const sourceMessage = (event: ActivityEvent | string, key: string): TransportMessage => ({
    topic,
    key,
    value: Buffer.from(typeof event === 'string' ? event : JSON.stringify(event)),
    headers: typeof event === 'string' ? {} : { 'event-type': event.eventType, 'event-id': event.eventId },
  });
  const event = (userId: string, eventType: string, n: number): ActivityEvent => ({
    eventId: randomUUID(),
    userId,
    eventType,
    timestamp: new Date().toISOString(),
    payload: { n },
  });
  const processed = (userId: string) => async () =>
    (await call<ActivityEvent[]>(server.url, 'GET', `/events/processed?userId=${userId}`)).body;

  before(async () => {
    const brokers = await testKafkaBrokers();
    database = await createTestDatabase('activity_kafka');
    const namespace = `${database.name}.`;
    topic = `${namespace}user-activity-events`;
    server = await startSwitchyard(
      testConfig(database.url, {
        SWITCHYARD_BUS: 'kafka',
        KAFKA_BROKERS: brokers,
        SWITCHYARD_BUS_NAMESPACE: namespace,
      }),
      silentLogger(),
    );
    producer = createKafkaTransport({
      brokers: [brokers],
      clientId: 'source-d-producer',
      partitions: 3,
      log: silentLogger(),
    });
    await producer.connect([topic]);
  });
  after(async () => {
    await producer?.close();
    await server?.close();
    await database?.drop();
  });

  it("publishes accepted events in source D's wire format: key userId, headers event-type and event-id", async () => {
    const accepted = await call<{ event: ActivityEvent }>(server.url, 'POST', '/events/generate', {
      json: { userId: 'wire', eventType: 'LOGIN', payload: { ip: '10.0.0.1' } },
    });
    const seen = new Promise<TransportMessage>((resolve) => {
      void producer.consume(
        `${topic}.reader`,
        [topic],
        async (message) => {
          if (message.key === 'wire') resolve(message);
        },
        { concurrency: 1 },
      );
    });
    const message = await seen;
    assert.deepEqual(JSON.parse(message.value.toString()), accepted.body.event);
    assert.equal(message.headers['event-type'], 'LOGIN');
    assert.equal(message.headers['event-id'], accepted.body.event.eventId);
  });

  it('stores a duplicate delivery once, dead-letters non-JSON and bad eventType, and goes on', async () => {
    const first = event('dup-user', 'LOGIN', 1);
    const good = event('dup-user', 'LOGOUT', 2);
    await producer.publish([
      sourceMessage(first, 'dup-user'),
      sourceMessage(first, 'dup-user'),
      sourceMessage('{not json', 'dup-user'),
      sourceMessage({ ...event('dup-user', 'TELEPORT', 3) }, 'dup-user'),
      sourceMessage(good, 'dup-user'),
    ]);
    const stored = await eventually(
      processed('dup-user'),
      (events) => events.length >= 2,
      'good events stored',
    );
    assert.deepEqual(
      stored.map((each) => each.eventId),
      [first.eventId, good.eventId],
    );
    const letters = await eventually(
      async () =>
        (
          await call<DeadLetter[]>(
            server.url,
            'GET',
            '/api/v1/dead-letters?group=user-activity-consumer-group',
          )
        ).body,
      (found) => found.length >= 2,
      'dead letters',
    );
    assert.deepEqual(letters.map((letter) => letter.reason).sort(), ['malformed', 'schema']);
    assert.ok(letters.some((letter) => /eventType/.test(letter.error)));
  });

  it("stores one user's events in publish order", async () => {
    const events = Array.from({ length: 30 }, (_, n) =>
      event('ordered-user', n % 2 ? 'PRODUCT_VIEW' : 'LOGIN', n),
    );
    for (let i = 0; i < events.length; i += 7) {
      await producer.publish(events.slice(i, i + 7).map((each) => sourceMessage(each, 'ordered-user')));
    }
    const stored = await eventually(
      processed('ordered-user'),
      (found) => found.length >= 30,
      'ordered events stored',
    );
    assert.deepEqual(
      stored.map((each) => each.payload?.n),
      events.map((each) => each.payload?.n),
    );
  });
});
