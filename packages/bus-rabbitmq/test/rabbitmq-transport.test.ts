import assert from 'node:assert/strict';
import { connect as connectTcp, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { TransportMessage } from '@switchyard/bus';
import {
  createRabbitTransport,
  declareNotificationTopology,
  EMAIL_QUEUE,
  EMAIL_ROUTING_KEY,
  FAILED_QUEUE,
  FAILED_ROUTING_KEY,
  KEY_HEADER,
  NOTIFICATIONS_DLX,
  NOTIFICATIONS_EXCHANGE,
  PUSH_QUEUE,
  PUSH_ROUTING_KEY,
  type RabbitStatus,
  type RabbitTransport,
  type RabbitTransportOptions,
  RUN_MAX_MESSAGES,
} from '@switchyard/bus-rabbitmq';
import { silentLogger } from '@switchyard/testing';
import { closeConnections, createTestVhost, type TestVhost } from '@switchyard/testing/rabbitmq';
import type { ChannelModel, ConsumeMessage } from 'amqplib';
import amqp from 'amqplib';

const log = silentLogger();

/** Conditions re-checked whenever a handler reports progress (`poke`): waiting on events, not on time. */
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

function message(topic: string, key: string, n: number): TransportMessage {
  const id = `${topic}/${key}/${n}`;
  return { topic, key, value: Buffer.from(JSON.stringify({ id, key, n })), headers: { 'ce-id': id } };
}

const idOf = (m: TransportMessage): string => m.headers['ce-id'] ?? '';
const numberOf = (m: TransportMessage): number => (JSON.parse(m.value.toString('utf8')) as { n: number }).n;
const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Resolves on the transport's next `status` event. */
function nextStatus(transport: RabbitTransport, status: RabbitStatus): Promise<void> {
  return new Promise((resolve) => {
    const off = transport.onStatus((seen) => {
      if (seen !== status) return;
      off();
      resolve();
    });
  });
}

/**
 * A TCP proxy in front of the real broker that can play "unreachable": `cut()` drops every proxied
 * connection and refuses new ones (counting the attempts), `restore()` lets them through again.
 */
async function brokerProxy(target: URL) {
  const sockets = new Set<Socket>();
  const watch = progress();
  let reachable = true;
  let attempts = 0;
  const server = createServer((client) => {
    attempts += 1;
    watch.poke();
    if (!reachable) {
      client.destroy();
      return;
    }
    const upstream = connectTcp({ host: target.hostname, port: Number(target.port || 5672) });
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.pipe(to);
      from.on('error', () => to.destroy());
      from.on('close', () => {
        sockets.delete(from);
        to.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  const url = new URL(target);
  url.host = `127.0.0.1:${address.port}`;
  return {
    url: url.toString(),
    get attempts() {
      return attempts;
    },
    until: watch.until,
    cut() {
      reachable = false;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      reachable = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('RabbitMQ transport', () => {
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

  /** A plain amqplib connection, to look at what the transport did from the outside. */
  const rawConnection = async () => {
    const connection = await amqp.connect(vhost.url);
    connection.on('error', () => {});
    rawConnections.push(connection);
    return connection;
  };

  /** Messages waiting (ready, not delivered) in `queue`, seen from outside the transport. */
  const waitingIn = async (queue: string) => {
    const check = await (await rawConnection()).createChannel();
    try {
      return (await check.checkQueue(queue)).messageCount;
    } finally {
      await check.close();
    }
  };

  before(async () => {
    vhost = await createTestVhost('rabbit_transport');
  });

  after(async () => {
    await Promise.all(transports.map((t) => t.close()));
    await Promise.all(rawConnections.map((c) => c.close().catch(() => {})));
    await vhost?.drop();
  });

  it('carries topic, key, headers and value intact, persistent and with the event id', async () => {
    const rabbit = transport();
    await rabbit.connect(['round-trip']);
    const inspect = await (await rawConnection()).createChannel();
    await inspect.assertQueue('round-trip-inspect', { exclusive: true });
    await inspect.bindQueue('round-trip-inspect', 'round-trip', '');

    const got: TransportMessage[] = [];
    const watch = progress();
    const consumer = await rabbit.consume(
      'round-trip-group',
      ['round-trip'],
      async (m) => {
        got.push(m);
        watch.poke();
      },
      { concurrency: 1 },
    );
    const sent: TransportMessage = {
      topic: 'round-trip',
      key: 'order-42/ü',
      value: Buffer.from('{"id":"e1","data":{"text":"naïve ✓"}}'),
      headers: {
        'ce-id': 'e1',
        'ce-type': 'order.placed',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
    };
    await rabbit.publish([sent]);
    await watch.until(() => got.length === 1, 'the message');
    assert.deepEqual(got[0], sent);

    // Confirmed means routed: the inspection queue has it now.
    const copy = await inspect.get('round-trip-inspect', { noAck: true });
    assert.ok(copy);
    assert.equal(copy.properties.deliveryMode, 2);
    assert.equal(copy.properties.contentType, 'application/json');
    assert.equal(copy.properties.messageId, 'e1');
    assert.equal(copy.fields.routingKey, 'order-42/ü');
    assert.equal(copy.properties.headers?.[KEY_HEADER], 'order-42/ü');

    // A key longer than a routing key may be (255 bytes) still arrives whole, via the header.
    const long: TransportMessage = { ...sent, key: 'k'.repeat(300), headers: { 'ce-id': 'e2' } };
    await rabbit.publish([long]);
    await watch.until(() => got.length === 2, 'the long-keyed message');
    assert.deepEqual(got[1], long);

    // A topic no group listens to yet: RabbitMQ confirms and drops (the transport logs it once).
    await rabbit.publish([{ ...sent, topic: 'round-trip-nobody' }]);
    await inspect.close();
    await consumer.stop();
  });

  it('gives every group every message', async () => {
    const rabbit = transport();
    await rabbit.connect(['fan']);
    const seen = { a: new Set<string>(), b: new Set<string>() };
    const watch = progress();
    const consumers = await Promise.all(
      (['a', 'b'] as const).map((group) =>
        rabbit.consume(
          `fan-${group}`,
          ['fan'],
          async (m) => {
            seen[group].add(idOf(m));
            watch.poke();
          },
          { concurrency: 2 },
        ),
      ),
    );
    const sent = Array.from({ length: 20 }, (_, n) => message('fan', `k${n % 3}`, n));
    await rabbit.publish(sent);
    await watch.until(() => seen.a.size === 20 && seen.b.size === 20, 'both groups to get all 20');
    assert.deepEqual([...seen.a].sort(), sent.map(idOf).sort());
    assert.deepEqual([...seen.b].sort(), sent.map(idOf).sort());
    await Promise.all(consumers.map((c) => c.stop()));
  });

  it('shares one group between two consumers, each message handled once', async () => {
    const first = transport();
    const second = transport();
    await first.connect(['shared']);
    await second.connect(['shared']);
    const handled: string[][] = [[], []];
    const watch = progress();
    const consumers = await Promise.all(
      [first, second].map((rabbit, i) =>
        rabbit.consume(
          'shared-group',
          ['shared'],
          async (m) => {
            handled[i]?.push(idOf(m));
            watch.poke();
          },
          { concurrency: 2 },
        ),
      ),
    );
    const sent = Array.from({ length: 40 }, (_, n) => message('shared', `k${n}`, n));
    await first.publish(sent);
    const total = () => (handled[0]?.length ?? 0) + (handled[1]?.length ?? 0);
    await watch.until(() => total() >= 40, 'all 40 handled');
    await Promise.all(consumers.map((c) => c.stop()));

    assert.ok((handled[0]?.length ?? 0) > 0 && (handled[1]?.length ?? 0) > 0, 'both consumers got work');
    const all = [...(handled[0] ?? []), ...(handled[1] ?? [])];
    assert.equal(all.length, 40, 'nothing handled twice');
    assert.deepEqual(all.sort(), sent.map(idOf).sort());
    assert.equal(await waitingIn('shared-group'), 0, 'everything acked');
  });

  it('keeps per-key order with concurrency 4 over many keys', async () => {
    const rabbit = transport();
    await rabbit.connect(['ordered']);
    const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
    const perKey = 25;
    const handled = new Map<string, number[]>();
    const busy = new Set<string>();
    let inFlight = 0;
    let maxInFlight = 0;
    let total = 0;
    const watch = progress();
    const consumer = await rabbit.consume(
      'ordered-group',
      ['ordered'],
      async (m) => {
        assert.ok(!busy.has(m.key), `two messages of ${m.key} at once`);
        busy.add(m.key);
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        // Uneven work, so that keys overtake one another.
        const turns = Math.floor(Math.random() * 6);
        for (let i = 0; i < turns; i++) await nextTick();
        handled.set(m.key, [...(handled.get(m.key) ?? []), numberOf(m)]);
        inFlight -= 1;
        busy.delete(m.key);
        total += 1;
        watch.poke();
      },
      { concurrency: 4 },
    );
    const sent: TransportMessage[] = [];
    for (let n = 0; n < perKey; n++) for (const key of keys) sent.push(message('ordered', key, n));
    for (let i = 0; i < sent.length; i += 100) await rabbit.publish(sent.slice(i, i + 100));
    await watch.until(() => total === sent.length, `all ${sent.length} handled`);
    await consumer.stop();

    const expected = Array.from({ length: perKey }, (_, n) => n);
    for (const key of keys) assert.deepEqual(handled.get(key), expected, `order of ${key}`);
    assert.ok(maxInFlight <= 4, `at most 4 at once (saw ${maxInFlight})`);
    assert.ok(maxInFlight > 1, `ran messages concurrently (saw ${maxInFlight})`);
  });

  it('delivers a message again after its handler rejected, keeping the key in order', async () => {
    const rabbit = transport({ retryDelayMs: 200 });
    await rabbit.connect(['retry']);
    const attempts: string[] = [];
    const succeeded: string[] = [];
    let failedAt = 0;
    let retriedAt = 0;
    const watch = progress();
    const consumer = await rabbit.consume(
      'retry-group',
      ['retry'],
      async (m) => {
        const label = `${m.key}:${numberOf(m)}`;
        attempts.push(label);
        if (label === 'k:1') {
          if (failedAt === 0) {
            failedAt = Date.now();
            throw new Error('database unavailable');
          }
          retriedAt = Date.now();
        }
        await nextTick();
        succeeded.push(label);
        watch.poke();
      },
      { concurrency: 2 },
    );
    const sent: TransportMessage[] = [];
    for (let n = 0; n < 5; n++) sent.push(message('retry', 'k', n), message('retry', 'other', n));
    await rabbit.publish(sent);
    await watch.until(() => succeeded.length === 10, 'all 10 handled');
    await consumer.stop();

    assert.deepEqual(
      attempts.filter((a) => a.startsWith('k:')),
      ['k:0', 'k:1', 'k:1', 'k:2', 'k:3', 'k:4'],
    );
    assert.deepEqual(
      succeeded.filter((a) => a.startsWith('other:')),
      ['other:0', 'other:1', 'other:2', 'other:3', 'other:4'],
    );
    assert.equal(new Set(succeeded).size, 10, 'nothing that succeeded was handled again');
    assert.ok(retriedAt - failedAt >= 150, `redelivered after the retry delay (${retriedAt - failedAt} ms)`);
  });

  it('stop() lets handlers finish and ack; the next consumer gets only the rest', async () => {
    const first = transport();
    await first.connect(['handover']);
    const sent = Array.from({ length: 10 }, (_, n) => message('handover', `k${n}`, n));
    const firstHandled: string[] = [];
    let finished = 0;
    let releaseGate = () => {};
    const gate = new Promise<void>((resolve) => {
      releaseGate = resolve;
    });
    const watch = progress();
    const consumer = await first.consume(
      'handover-group',
      ['handover'],
      async (m) => {
        firstHandled.push(idOf(m));
        watch.poke();
        await gate;
        finished += 1;
      },
      { concurrency: 2 },
    );
    await first.publish(sent);
    await watch.until(() => firstHandled.length === 2, 'two messages in the handler');
    const stopping = consumer.stop().then(() => finished);
    releaseGate();
    assert.equal(await stopping, 2, 'stop() waited for both handlers');
    assert.equal(firstHandled.length, 2, 'no handler started after stop()');

    const second = transport();
    await second.connect(['handover']);
    const secondHandled: string[] = [];
    const next = await second.consume(
      'handover-group',
      ['handover'],
      async (m) => {
        secondHandled.push(idOf(m));
        watch.poke();
      },
      { concurrency: 2 },
    );
    await watch.until(() => secondHandled.length >= 8, 'the 8 others');
    await next.stop();
    assert.equal(secondHandled.length, 8);
    assert.deepEqual([...firstHandled, ...secondHandled].sort(), sent.map(idOf).sort());
    assert.equal(await waitingIn('handover-group'), 0, 'everything acked');
  });

  it("hands a batch handler runs in delivery order, a rejected run's messages first again, then acks them", async () => {
    const rabbit = transport({ retryDelayMs: 100 });
    await rabbit.connect(['runs']);
    const runs: number[][] = [];
    const got: number[] = [];
    let rejected = false;
    const watch = progress();
    const consumer = await rabbit.consume(
      'runs-group',
      ['runs'],
      async () => {
        throw new Error('a consumer with a batch handler takes no message alone');
      },
      {
        concurrency: 4,
        batchHandler: async (messages) => {
          runs.push(messages.map(numberOf));
          if (!rejected) {
            rejected = true;
            throw new Error('database down');
          }
          await nextTick();
          got.push(...messages.map(numberOf));
          watch.poke();
        },
      },
    );
    const total = 2 * RUN_MAX_MESSAGES + 50;
    await rabbit.publish(Array.from({ length: total }, (_, n) => message('runs', `k${n % 5}`, n)));
    await watch.until(() => got.length >= total, `all ${total}`);
    await consumer.stop();

    // The rejected run's messages came again, first (in runs of whatever had arrived); every message
    // arrived once, in delivery order.
    assert.deepEqual(runs.slice(1).flat().slice(0, runs[0]?.length), runs[0]);
    assert.deepEqual(
      got,
      Array.from({ length: total }, (_, n) => n),
    );
    assert.ok(
      runs.every((run) => run.length >= 1 && run.length <= RUN_MAX_MESSAGES),
      `run sizes ${runs.map((run) => run.length)}`,
    );
    assert.ok(
      runs.some((run) => run.length > 1),
      'a run carries more than one message',
    );
    assert.equal(await waitingIn('runs-group'), 0, 'everything acked');
  });

  it('stop() lets the run under way finish and ack; the next consumer gets what was not in it', async () => {
    const first = transport();
    await first.connect(['run-handover']);
    const total = 150;
    const sent = Array.from({ length: total }, (_, n) => message('run-handover', `k${n % 7}`, n));
    const firstRuns: string[][] = [];
    let releaseGate = () => {};
    const gate = new Promise<void>((resolve) => {
      releaseGate = resolve;
    });
    const watch = progress();
    const consumer = await first.consume('run-handover-group', ['run-handover'], async () => {}, {
      concurrency: 2,
      batchHandler: async (messages) => {
        firstRuns.push(messages.map(idOf));
        watch.poke();
        await gate;
      },
    });
    await first.publish(sent);
    await watch.until(() => firstRuns.length === 1, 'a run in the handler');
    const stopping = consumer.stop();
    releaseGate();
    await stopping;
    assert.equal(firstRuns.length, 1, 'no run started after stop()');

    const second = transport();
    await second.connect(['run-handover']);
    const secondHandled: string[] = [];
    const next = await second.consume('run-handover-group', ['run-handover'], async () => {}, {
      concurrency: 2,
      batchHandler: async (messages) => {
        secondHandled.push(...messages.map(idOf));
        watch.poke();
      },
    });
    const firstCount = firstRuns[0]?.length ?? 0;
    await watch.until(() => secondHandled.length >= total - firstCount, 'the rest');
    await next.stop();
    assert.equal(secondHandled.length, total - firstCount, 'nothing of the finished run came again');
    assert.deepEqual([...(firstRuns[0] ?? []), ...secondHandled], sent.map(idOf), 'each once, in order');
    assert.equal(await waitingIn('run-handover-group'), 0, 'everything acked');
  });

  it('survives cut connections: reconnects, loses nothing confirmed, redelivers nothing acked', async () => {
    const publisher = transport();
    const subscriber = transport();
    await publisher.connect(['outage']);
    await subscriber.connect(['outage']);
    const prefetch = 8; // default: 2 × concurrency 4

    const handledCount = new Map<string, number>();
    const firstDoneAt = new Map<string, number>();
    const watch = progress();
    const consumer = await subscriber.consume(
      'outage-group',
      ['outage'],
      async (m) => {
        await nextTick();
        const id = idOf(m);
        handledCount.set(id, (handledCount.get(id) ?? 0) + 1);
        if (!firstDoneAt.has(id)) firstDoneAt.set(id, Date.now());
        watch.poke();
      },
      { concurrency: 4 },
    );

    const confirmed = new Set<string>();
    const maybeTwice = new Set<string>(); // in a publish that rejected, then published again
    let rejectedPublishes = 0;
    let stopPublishing = false;
    let seq = 0;
    const connected = (rabbit: RabbitTransport) =>
      rabbit.connected ? Promise.resolve() : nextStatus(rabbit, 'connected');
    const publishing = (async () => {
      while (!stopPublishing) {
        // Stay at most ~200 messages ahead of the consumer.
        await watch.until(
          () => confirmed.size - handledCount.size < 200 || stopPublishing,
          'consumer',
          30_000,
        );
        const batch = Array.from({ length: 10 }, () => {
          seq += 1;
          return message('outage', `k${seq % 7}`, seq);
        });
        for (;;) {
          try {
            await publisher.publish(batch);
            break;
          } catch {
            rejectedPublishes += 1;
            for (const m of batch) maybeTwice.add(idOf(m));
            await connected(publisher);
          }
        }
        for (const m of batch) confirmed.add(idOf(m));
        watch.poke();
      }
    })();

    await watch.until(() => handledCount.size >= 100, '100 handled before the cut');
    // While disconnected, publish must reject at once: probe from inside the status event.
    let probe: Promise<string> | null = null;
    const offProbe = publisher.onStatus((status) => {
      if (status === 'disconnected' && !probe) {
        probe = publisher.publish([message('outage', 'probe', 0)]).then(
          () => 'resolved',
          () => 'rejected',
        );
      }
    });
    const publisherDown = nextStatus(publisher, 'disconnected');
    const subscriberDown = nextStatus(subscriber, 'disconnected');
    const cutAt = Date.now();
    const cut = await closeConnections(vhost.name);
    assert.ok(cut >= 2, `closed the publisher's and the subscriber's connections (closed ${cut})`);
    await Promise.all([publisherDown, subscriberDown]);
    offProbe();
    await Promise.all([connected(publisher), connected(subscriber)]);
    const atReconnect = confirmed.size;
    await watch.until(() => confirmed.size >= atReconnect + 200, '200 more confirmed after reconnecting');
    stopPublishing = true;
    watch.poke();
    await publishing;
    await watch.until(
      () => [...confirmed].every((id) => handledCount.has(id)),
      `all ${confirmed.size} confirmed messages handled`,
      30_000,
    );
    await consumer.stop();

    assert.equal(await probe, 'rejected', 'publish rejects while disconnected');
    const duplicates = [...handledCount].filter(([, count]) => count > 1).map(([id]) => id);
    const redelivered = duplicates.filter((id) => !maybeTwice.has(id));
    for (const id of redelivered) {
      assert.ok(
        (firstDoneAt.get(id) ?? 0) >= cutAt,
        `${id} was handled (and acked) before the cut, yet came again`,
      );
    }
    assert.ok(
      redelivered.length <= prefetch,
      `at most the unacked window came again (${redelivered.length})`,
    );
    log.info(
      { confirmed: confirmed.size, rejectedPublishes, redelivered: redelivered.length },
      'outage test figures',
    );
  });

  it('keeps reconnecting with backoff while the broker is unreachable, then resumes', async () => {
    const proxy = await brokerProxy(new URL(vhost.url));
    try {
      const rabbit = transport({ url: proxy.url, reconnectDelayMs: 50 });
      await rabbit.connect(['unreachable']);
      const got = { early: [] as string[], late: [] as string[] };
      const watch = progress();
      const handler = (list: string[]) => async (m: TransportMessage) => {
        list.push(idOf(m));
        watch.poke();
      };
      const early = await rabbit.consume('unreachable-early', ['unreachable'], handler(got.early), {
        concurrency: 1,
      });

      const down = nextStatus(rabbit, 'disconnected');
      proxy.cut();
      await down;
      await assert.rejects(rabbit.publish([message('unreachable', 'k', 0)]), /not connected/);
      // A consumer can join while disconnected; it subscribes when the connection is back.
      const late = await rabbit.consume('unreachable-late', ['unreachable'], handler(got.late), {
        concurrency: 1,
      });
      const refused = proxy.attempts;
      await proxy.until(() => proxy.attempts >= refused + 3, 'three refused reconnect attempts');

      const up = nextStatus(rabbit, 'connected');
      proxy.restore();
      await up; // announced once both consumers are subscribed again
      const after = message('unreachable', 'k', 1);
      await rabbit.publish([after]);
      await watch.until(() => got.early.length === 1 && got.late.length === 1, 'both groups to get it');
      assert.deepEqual(got, { early: [idOf(after)], late: [idOf(after)] });
      await Promise.all([early.stop(), late.stop()]);
      await rabbit.close();
    } finally {
      await proxy.close();
    }
  });

  it("declares source system C's notification topology exactly", async () => {
    const rabbit = transport();
    await rabbit.connect([]);
    const raw = await rawConnection();
    const channel = await raw.createConfirmChannel();
    // Idempotent: declaring it again with the same arguments succeeds.
    await declareNotificationTopology(channel);

    // The queues carry the dead-letter arguments: declaring one without them is refused.
    const probe = await raw.createChannel();
    probe.on('error', () => {});
    await assert.rejects(probe.assertQueue(EMAIL_QUEUE, { durable: true }), /PRECONDITION_FAILED/);

    channel.publish(NOTIFICATIONS_EXCHANGE, EMAIL_ROUTING_KEY, Buffer.from('{"to":"ada@example.com"}'), {
      persistent: true,
    });
    channel.publish(NOTIFICATIONS_EXCHANGE, PUSH_ROUTING_KEY, Buffer.from('{"to":"device-1"}'), {
      persistent: true,
    });
    await channel.waitForConfirms();

    const email = await channel.get(EMAIL_QUEUE);
    assert.ok(email);
    assert.equal(email.content.toString(), '{"to":"ada@example.com"}');
    assert.equal(await channel.get(EMAIL_QUEUE), false, 'only the email message is in email.queue');
    const push = await channel.get(PUSH_QUEUE, { noAck: true });
    assert.ok(push);
    assert.equal(push.content.toString(), '{"to":"device-1"}');

    const deadLettered = new Promise<ConsumeMessage>((resolve) => {
      void channel.consume(FAILED_QUEUE, (m) => {
        if (m) resolve(m);
      });
    });
    channel.nack(email, false, false);
    const failed = await deadLettered;
    channel.ack(failed);
    assert.equal(failed.content.toString(), '{"to":"ada@example.com"}');
    assert.equal(failed.fields.exchange, NOTIFICATIONS_DLX);
    assert.equal(failed.fields.routingKey, FAILED_ROUTING_KEY);
    const death = failed.properties.headers?.['x-death']?.[0];
    assert.equal(death?.queue, EMAIL_QUEUE);
    assert.equal(death?.reason, 'rejected');
    await channel.close();
  });
});
