import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TransportMessage } from '@switchyard/bus';
import {
  createRabbitTransport,
  EMAIL_QUEUE,
  EMAIL_ROUTING_KEY,
  NOTIFICATIONS_EXCHANGE,
  PUSH_QUEUE,
  PUSH_ROUTING_KEY,
  type RabbitRoute,
  type RabbitTransport,
  type RabbitTransportOptions,
  TOPIC_HEADER,
} from '@switchyard/bus-rabbitmq';
import { silentLogger } from '@switchyard/testing';
import { createTestVhost, type TestVhost } from '@switchyard/testing/rabbitmq';
import type { Channel, ChannelModel, ConsumeMessage, GetMessage } from 'amqplib';
import amqp from 'amqplib';

const log = silentLogger();

/** Resolves when `check` holds, re-checked whenever a handler calls `poke`; never sleeps. */
function progress() {
  const waiters = new Set<{ check: () => boolean; done: () => void }>();
  return {
    poke() {
      for (const waiter of waiters) {
        if (waiter.check()) {
          waiters.delete(waiter);
          waiter.done();
        }
      }
    },
    until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
      if (check()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        const waiter = {
          check,
          done: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        waiters.add(waiter);
      });
    },
  };
}

/** A delivery-work event as the outbox relay sends it: CloudEvents binary mode. */
function work(topic: string, key: string, id: string, channel: string, extra: object = {}): TransportMessage {
  return {
    topic,
    key,
    value: Buffer.from(JSON.stringify({ channel, address: `${key}@example.com`, ...extra })),
    headers: {
      ce_id: id,
      ce_type: 'notification.delivery.requested',
      ce_specversion: '1.0',
      'content-type': 'application/json',
    },
  };
}

const idOf = (m: TransportMessage): string => m.headers.ce_id ?? m.headers['ce-id'] ?? '';

/** Source C's table as apps/server passes it, for topic `topic`. */
function sourceCRoute(topic: string): RabbitRoute {
  return {
    topic,
    type: 'notification.delivery.requested',
    dataField: 'channel',
    values: {
      email: { exchange: NOTIFICATIONS_EXCHANGE, routingKey: EMAIL_ROUTING_KEY, queue: EMAIL_QUEUE },
      push: { exchange: NOTIFICATIONS_EXCHANGE, routingKey: PUSH_ROUTING_KEY, queue: PUSH_QUEUE },
    },
  };
}

/** Takes the next message of `queue`; confirmed publishes are in it already. */
async function getOne(channel: Channel, queue: string): Promise<GetMessage> {
  const got = await channel.get(queue, { noAck: true });
  assert.ok(got, `a message in ${queue}`);
  return got;
}

describe('RabbitMQ transport: routed queues', () => {
  let vhost: TestVhost;
  const transports: RabbitTransport[] = [];
  const rawConnections: ChannelModel[] = [];

  const transport = (extra: Partial<RabbitTransportOptions> = {}) => {
    const created = createRabbitTransport({
      url: vhost.url,
      log,
      reconnectDelayMs: 100,
      retryDelayMs: 200,
      ...extra,
    });
    transports.push(created);
    return created;
  };

  const channel = async () => {
    const connection = await amqp.connect(vhost.url);
    connection.on('error', () => {});
    rawConnections.push(connection);
    const opened = await connection.createChannel();
    opened.on('error', () => {});
    return opened;
  };

  /** A topology like source C's under fresh names, so each test starts from empty queues. */
  async function declareTopology(prefix: string) {
    const inspect = await channel();
    const names = {
      exchange: `${prefix}.direct`,
      dlx: `${prefix}.dlx`,
      email: `${prefix}.email`,
      push: `${prefix}.push`,
      failed: `${prefix}.failed`,
    };
    await inspect.assertExchange(names.exchange, 'direct', { durable: true });
    await inspect.assertExchange(names.dlx, 'direct', { durable: true });
    const deadLettered = {
      durable: true,
      arguments: { 'x-dead-letter-exchange': names.dlx, 'x-dead-letter-routing-key': 'failed' },
    };
    await inspect.assertQueue(names.email, deadLettered);
    await inspect.bindQueue(names.email, names.exchange, 'email');
    await inspect.assertQueue(names.push, deadLettered);
    await inspect.bindQueue(names.push, names.exchange, 'push');
    await inspect.assertQueue(names.failed, { durable: true });
    await inspect.bindQueue(names.failed, names.dlx, 'failed');
    const route = (topic: string): RabbitRoute => ({
      topic,
      type: 'notification.delivery.requested',
      dataField: 'channel',
      values: {
        email: { exchange: names.exchange, routingKey: 'email', queue: names.email },
        push: { exchange: names.exchange, routingKey: 'push', queue: names.push },
      },
    });
    return { inspect, names, route };
  }

  before(async () => {
    vhost = await createTestVhost('rabbit_routes');
  });

  after(async () => {
    await Promise.all(transports.map((t) => t.close()));
    await Promise.all(rawConnections.map((c) => c.close().catch(() => {})));
    await vhost?.drop();
  });

  it('also publishes matching events to the route destination; the topic still gets everything', async () => {
    const rabbit = transport({ routes: [sourceCRoute('notifications')] });
    await rabbit.connect(['notifications']);
    const inspect = await channel();
    await inspect.assertQueue('everything', { exclusive: true });
    await inspect.bindQueue('everything', 'notifications', '');

    const email = work('notifications', 'ada', 'e-email', 'email');
    const push = work('notifications', 'bob', 'e-push', 'push');
    const sms = work('notifications', 'cy', 'e-sms', 'sms');
    const attempted = { ...work('notifications', 'ada', 'e-other', 'email') };
    attempted.headers = { ...attempted.headers, ce_type: 'notification.delivery.attempted' };
    const notJson = { ...email, value: Buffer.from('not json'), headers: { ce_id: 'e-bad' } };
    // Structured mode: the envelope is the value.
    const structured: TransportMessage = {
      topic: 'notifications',
      key: 'dee',
      value: Buffer.from(
        JSON.stringify({
          id: 'e-structured',
          type: 'notification.delivery.requested',
          data: { channel: 'email' },
        }),
      ),
      headers: { 'ce-id': 'e-structured' },
    };
    await rabbit.publish([email, push, sms, attempted, notJson, structured]);

    assert.equal((await inspect.checkQueue('everything')).messageCount, 6, 'the topic got all six');
    assert.equal((await inspect.checkQueue(EMAIL_QUEUE)).messageCount, 2);
    assert.equal((await inspect.checkQueue(PUSH_QUEUE)).messageCount, 1);

    const first = await getOne(inspect, EMAIL_QUEUE);
    assert.equal(first.fields.exchange, NOTIFICATIONS_EXCHANGE);
    assert.equal(first.fields.routingKey, EMAIL_ROUTING_KEY);
    assert.equal(first.properties.deliveryMode, 2, 'persistent');
    assert.equal(first.properties.headers?.[TOPIC_HEADER], 'notifications');
    assert.equal(first.properties.headers?.ce_id, 'e-email');
    assert.deepEqual(JSON.parse(first.content.toString()), JSON.parse(email.value.toString()));
    assert.equal((await getOne(inspect, EMAIL_QUEUE)).properties.headers?.['ce-id'], 'e-structured');
    assert.equal((await getOne(inspect, PUSH_QUEUE)).properties.headers?.ce_id, 'e-push');
  });

  it('lets a group read a routed queue instead of a queue of its own, with topic and key intact', async () => {
    const { inspect, names, route } = await declareTopology('read');
    const rabbit = transport({ routes: [route('read-topic')], groupQueues: { 'read-email': names.email } });
    await rabbit.connect(['read-topic']);
    const got: TransportMessage[] = [];
    const watch = progress();
    const consumer = await rabbit.consume(
      'read-email',
      ['read-topic'],
      async (m) => {
        got.push(m);
        watch.poke();
      },
      { concurrency: 2 },
    );
    const email = work('read-topic', 'ada', 'r1', 'email');
    await rabbit.publish([work('read-topic', 'bob', 'r0', 'push'), email]);
    await watch.until(() => got.length === 1, 'the email work');
    assert.deepEqual(got[0], email, 'topic, key, value and headers as published; no routing headers');

    // Put there by someone else (source C's own publisher): it counts as the route's topic.
    inspect.publish(names.exchange, 'email', Buffer.from('{"channel":"email"}'), {
      headers: { ce_id: 'r2' },
    });
    await watch.until(() => got.length === 2, 'the outside message');
    assert.equal(got[1]?.topic, 'read-topic');
    assert.equal(got[1]?.key, 'email', 'no key header: the routing key');

    await consumer.stop();
    assert.equal((await inspect.checkQueue(names.email)).messageCount, 0, 'acked');
    assert.equal((await inspect.checkQueue(names.push)).messageCount, 1, 'push work waits for its group');
    await assert.rejects(inspect.checkQueue('read-email'), /NOT_FOUND/, 'no queue of its own');
    assert.deepEqual(rabbit.selection?.('read-email'), [
      {
        topic: 'read-topic',
        type: 'notification.delivery.requested',
        dataField: 'channel',
        values: ['email'],
      },
    ]);
    assert.equal(rabbit.selection?.('some-other-group'), undefined);
  });

  it('rejects what the handler dead-lettered, so the dead-letter exchange moves it to the failed queue', async () => {
    const { inspect, names, route } = await declareTopology('dead');
    const rabbit = transport({ routes: [route('dead-topic')], groupQueues: { 'dead-email': names.email } });
    await rabbit.connect(['dead-topic']);
    const seen: string[] = [];
    const watch = progress();
    const consumer = await rabbit.consume(
      'dead-email',
      ['dead-topic'],
      async (m) => {
        seen.push(idOf(m));
        watch.poke();
        return idOf(m) === 'd-bad' ? 'dead_lettered' : 'handled';
      },
      { concurrency: 1 },
    );
    const failed = new Promise<ConsumeMessage>((resolve) => {
      void inspect.consume(names.failed, (m) => {
        if (m) resolve(m);
      });
    });
    await rabbit.publish([
      work('dead-topic', 'ada', 'd-ok', 'email'),
      work('dead-topic', 'ada', 'd-bad', 'email'),
      work('dead-topic', 'ada', 'd-after', 'email'),
    ]);
    const dead = await failed;
    inspect.ack(dead);
    await watch.until(() => seen.length === 3, 'all three handled');
    await consumer.stop();

    assert.deepEqual(seen, ['d-ok', 'd-bad', 'd-after'], 'in order, and the rejected one only once');
    assert.equal(dead.properties.headers?.ce_id, 'd-bad');
    assert.equal(dead.properties.headers?.[TOPIC_HEADER], 'dead-topic');
    const death = dead.properties.headers?.['x-death']?.[0];
    assert.equal(death?.queue, names.email);
    assert.equal(death?.reason, 'rejected');
    assert.equal((await inspect.checkQueue(names.email)).messageCount, 0);
  });

  it('rejects what a run came back dead-lettered, acks the rest of the run', async () => {
    const { inspect, names, route } = await declareTopology('run-dead');
    const rabbit = transport({ routes: [route('run-topic')], groupQueues: { 'run-email': names.email } });
    await rabbit.connect(['run-topic']);
    const runs: string[][] = [];
    const watch = progress();
    const consumer = await rabbit.consume('run-email', ['run-topic'], async () => 'handled' as const, {
      concurrency: 1,
      batchHandler: async (messages) => {
        runs.push(messages.map(idOf));
        watch.poke();
        return messages.map((m) => (idOf(m).endsWith('-bad') ? 'dead_lettered' : 'handled'));
      },
    });
    const failed: ConsumeMessage[] = [];
    await inspect.consume(names.failed, (m) => {
      if (!m) return;
      failed.push(m);
      inspect.ack(m);
      watch.poke();
    });
    await rabbit.publish([
      work('run-topic', 'ada', 'r-ok', 'email'),
      work('run-topic', 'ada', 'r1-bad', 'email'),
      work('run-topic', 'bob', 'r-after', 'email'),
      work('run-topic', 'bob', 'r2-bad', 'email'),
    ]);
    await watch.until(
      () => failed.length === 2 && runs.flat().length >= 4,
      'both dead letters in the failed queue',
    );
    await consumer.stop();

    assert.deepEqual(runs.flat(), ['r-ok', 'r1-bad', 'r-after', 'r2-bad'], 'each once, in order');
    assert.deepEqual(
      failed.map((m) => m.properties.headers?.ce_id),
      ['r1-bad', 'r2-bad'],
    );
    assert.equal(failed[0]?.properties.headers?.['x-death']?.[0]?.reason, 'rejected');
    assert.equal((await inspect.checkQueue(names.email)).messageCount, 0, 'the others acked');
  });

  it("rejects dead letters of an ordinary group queue too: without a dead-letter exchange they're gone", async () => {
    const rabbit = transport();
    await rabbit.connect(['plain-topic']);
    let calls = 0;
    const watch = progress();
    const consumer = await rabbit.consume(
      'plain-group',
      ['plain-topic'],
      async () => {
        calls += 1;
        watch.poke();
        return 'dead_lettered' as const;
      },
      { concurrency: 1 },
    );
    await rabbit.publish([work('plain-topic', 'k', 'p1', 'email'), work('plain-topic', 'k', 'p2', 'email')]);
    await watch.until(() => calls === 2, 'both');
    await consumer.stop();
    const inspect = await channel();
    assert.equal((await inspect.checkQueue('plain-group')).messageCount, 0, 'not requeued');
    assert.equal(calls, 2, 'handled once each');
  });

  it('shares a routed queue between the consumers of its group: each message once, keys in order in each', async () => {
    const { inspect, names, route } = await declareTopology('order');
    const options = { routes: [route('order-topic')], groupQueues: { 'order-email': names.email } };
    const producer = transport(options);
    await producer.connect(['order-topic']);
    const keys = Array.from({ length: 10 }, (_, i) => `recipient-${i}`);
    const perKey = 20;
    const sent: TransportMessage[] = [];
    for (let n = 0; n < perKey; n++) {
      for (const key of keys) sent.push(work('order-topic', key, `${key}/${n}`, 'email', { n }));
    }

    const handledBy = [new Map<string, number[]>(), new Map<string, number[]>()];
    const ids: string[] = [];
    const watch = progress();
    const handler = (seen: Map<string, number[]>) => {
      const busy = new Set<string>();
      return async (m: TransportMessage) => {
        assert.ok(!busy.has(m.key), `two messages of ${m.key} at once in one consumer`);
        busy.add(m.key);
        // Uneven work, so that keys overtake one another.
        for (let i = Math.floor(Math.random() * 4); i > 0; i--) {
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        const { n } = JSON.parse(m.value.toString('utf8')) as { n: number };
        seen.set(m.key, [...(seen.get(m.key) ?? []), n]);
        ids.push(idOf(m));
        busy.delete(m.key);
        watch.poke();
      };
    };
    const consumers = await Promise.all(
      handledBy.map(async (seen) => {
        const rabbit = transport(options);
        await rabbit.connect(['order-topic']);
        return rabbit.consume('order-email', ['order-topic'], handler(seen), { concurrency: 4 });
      }),
    );
    await producer.publish(sent);
    await watch.until(() => ids.length >= sent.length, `all ${sent.length}`);
    await Promise.all(consumers.map((consumer) => consumer.stop()));

    assert.equal(ids.length, sent.length, 'nothing handled twice');
    assert.deepEqual(ids.sort(), sent.map(idOf).sort());
    assert.ok(
      handledBy.every((seen) => seen.size > 0),
      'both consumers got work',
    );
    // RabbitMQ gives no per-key order across competing consumers; within each one it holds.
    for (const seen of handledBy) {
      for (const [key, numbers] of seen) {
        assert.deepEqual(
          numbers,
          [...numbers].sort((a, b) => a - b),
          `order of ${key}`,
        );
      }
    }
    assert.equal((await inspect.checkQueue(names.email)).messageCount, 0, 'everything acked');
  });

  it('refuses to connect while an exchange or queue of the table is missing', async () => {
    const missingExchange = transport({
      routes: [
        {
          topic: 't',
          type: 'x',
          dataField: 'f',
          values: { v: { exchange: 'no-such-exchange', routingKey: 'v', queue: EMAIL_QUEUE } },
        },
      ],
    });
    await assert.rejects(missingExchange.connect(['t']), /no-such-exchange/);
    const missingQueue = transport({ groupQueues: { g: 'no-such-queue' } });
    await assert.rejects(missingQueue.connect(['t']), /no-such-queue/);
  });
});
