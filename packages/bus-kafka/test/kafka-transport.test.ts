import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Admin } from '@platformatic/kafka';
import type { Transport, TransportConsumer, TransportMessage } from '@switchyard/bus';
import { silentLogger } from '@switchyard/testing';
import { startKafka, testKafkaBrokers } from '@switchyard/testing/kafka';
import { createKafkaTransport, type KafkaTransportOptions } from '../src/index.ts';

const log = silentLogger();
const TEST_TIMEOUT = 60_000;

function unique(label: string): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}

/** Resolves when `predicate` holds after a message arrived; rejects after `ms` so a test fails, not hangs. */
function collector() {
  const received: TransportMessage[] = [];
  let waiters: { predicate: () => boolean; resolve: () => void }[] = [];
  return {
    received,
    push(message: TransportMessage) {
      received.push(message);
      const ready = waiters.filter((waiter) => waiter.predicate());
      waiters = waiters.filter((waiter) => !ready.includes(waiter));
      for (const waiter of ready) waiter.resolve();
    },
    until(predicate: () => boolean, what: string, ms = 30_000): Promise<void> {
      if (predicate()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${what} (${received.length} received)`)),
          ms,
        );
        waiters.push({
          predicate,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
  };
}

function message(
  topic: string,
  key: string,
  body: unknown,
  headers: Record<string, string> = {},
): TransportMessage {
  return { topic, key, value: Buffer.from(JSON.stringify(body)), headers };
}

function body(received: TransportMessage): { n: number; key?: string } {
  return JSON.parse(received.value.toString()) as { n: number; key?: string };
}

async function committedOffsets(brokers: string, group: string, topic: string): Promise<Map<number, bigint>> {
  const admin = new Admin({ clientId: 'test-admin', bootstrapBrokers: [brokers] });
  try {
    const [result] = await admin.listConsumerGroupOffsets({ groups: [group] });
    const offsets = new Map<number, bigint>();
    for (const listed of result?.topics ?? []) {
      if (listed.name !== topic) continue;
      for (const partition of listed.partitions)
        offsets.set(partition.partitionIndex, partition.committedOffset);
    }
    return offsets;
  } finally {
    await admin.close();
  }
}

describe('Kafka transport', { timeout: 180_000 }, () => {
  let brokers: string;
  const transports: Transport[] = [];
  const consumers: TransportConsumer[] = [];

  function transport(overrides: Partial<KafkaTransportOptions> = {}): Transport {
    const created = createKafkaTransport({
      brokers: [brokers],
      clientId: unique('test'),
      partitions: 3,
      log,
      retryDelayMs: 1000,
      ...overrides,
    });
    transports.push(created);
    return created;
  }

  before(async () => {
    brokers = await testKafkaBrokers();
  });

  after(async () => {
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    await Promise.all(transports.map((created) => created.close()));
  });

  it('carries key, headers and value from publish to the handler', { timeout: TEST_TIMEOUT }, async () => {
    const topic = unique('roundtrip');
    const bus = transport({ compression: 'zstd' });
    await bus.connect([topic]);
    const got = collector();
    consumers.push(await bus.consume(unique('group'), [topic], async (m) => got.push(m), { concurrency: 1 }));
    const value = Buffer.from([0, 1, 2, 0xff, 0xfe, ...Buffer.from('{"é":"ü"}')]);
    await bus.publish([
      { topic, key: 'task-42', value, headers: { 'ce-id': 'abc', traceparent: '00-x-y-01', empty: '' } },
    ]);
    await got.until(() => got.received.length >= 1, 'the message');
    assert.deepEqual(got.received, [
      { topic, key: 'task-42', value, headers: { 'ce-id': 'abc', traceparent: '00-x-y-01', empty: '' } },
    ]);
  });

  it('gives every group every message (fan-out)', { timeout: TEST_TIMEOUT }, async () => {
    const topic = unique('fanout');
    const bus = transport();
    await bus.connect([topic]);
    const sent = Array.from({ length: 30 }, (_, n) => message(topic, `k${n % 7}`, { n }));
    await bus.publish(sent);
    const a = collector();
    const b = collector();
    consumers.push(await bus.consume(unique('group-a'), [topic], async (m) => a.push(m), { concurrency: 2 }));
    consumers.push(await bus.consume(unique('group-b'), [topic], async (m) => b.push(m), { concurrency: 2 }));
    await a.until(() => a.received.length >= 30, 'group a');
    await b.until(() => b.received.length >= 30, 'group b');
    const numbers = (received: TransportMessage[]) => received.map((m) => body(m).n).sort((x, y) => x - y);
    assert.deepEqual(numbers(a.received), [...Array(30).keys()]);
    assert.deepEqual(numbers(b.received), [...Array(30).keys()]);
  });

  it('shares one group between its consumers, each message handled once', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const topic = unique('shared');
    const group = unique('group');
    const bus = transport();
    await bus.connect([topic]);
    const all = collector();
    const handledBy = { a: [] as number[], b: [] as number[] };
    let work = 100; // ms per message in phase 1: slow enough that the group rebalances while handlers run
    const handler = (who: 'a' | 'b') => async (m: TransportMessage) => {
      await delay(work);
      handledBy[who].push(body(m).n);
      all.push(m);
    };
    const distinct = () => new Set(all.received.map((m) => body(m).n)).size;
    const batch = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => message(topic, `key-${(from + i) % 30}`, { n: from + i }));

    // 1. A second member joins while the first is busy: the first finishes and commits its running handlers
    //    before giving its partitions up, so the newcomer starts exactly after them.
    const first = await bus.consume(group, [topic], handler('a'), { concurrency: 2 });
    await bus.publish(batch(0, 90));
    await all.until(() => distinct() >= 10, 'the first few');
    // Resolves once the rebalance is complete: both members have their partitions.
    consumers.push(await bus.consume(group, [topic], handler('b'), { concurrency: 2 }));
    await all.until(() => distinct() >= 90, 'the first 90');

    // 2. Both members share new messages.
    work = 5;
    const beforeB = handledBy.b.length;
    await bus.publish(batch(90, 60));
    await all.until(() => distinct() >= 150, 'the next 60');
    assert.ok(handledBy.a.length > 0 && handledBy.b.length > beforeB, 'both members got work');

    // 3. One leaves: it commits what it handled and the other takes its partitions over from there.
    await first.stop();
    await bus.publish(batch(150, 30));
    await all.until(() => distinct() >= 180, 'the last 30');

    const handled = [...handledBy.a, ...handledBy.b].sort((x, y) => x - y);
    assert.deepEqual(handled, [...Array(180).keys()], 'every message handled exactly once');
  });

  it('keeps per-key order with concurrency 4 over many keys', { timeout: TEST_TIMEOUT }, async () => {
    const topic = unique('order');
    const bus = transport();
    await bus.connect([topic]);
    const keys = 24;
    const perKey = 25;
    const sequence = new Map<string, number>();
    let published = 0;
    // Several publish calls in flight at once: they must still reach the broker in call order.
    const batches: Promise<void>[] = [];
    for (let round = 0; round < 5; round += 1) {
      const batch: TransportMessage[] = [];
      for (let i = 0; i < (keys * perKey) / 5; i += 1) {
        const key = `key-${published % keys}`;
        const n = sequence.get(key) ?? 0;
        sequence.set(key, n + 1);
        batch.push(message(topic, key, { n, key }));
        published += 1;
      }
      batches.push(bus.publish(batch));
    }
    await Promise.all(batches);

    const got = collector();
    const lastSeen = new Map<string, number>();
    const violations: string[] = [];
    const busy = new Set<string>();
    let running = 0;
    let maxRunning = 0;
    consumers.push(
      await bus.consume(
        unique('group'),
        [topic],
        async (m) => {
          const { n } = body(m);
          if (busy.has(m.key)) violations.push(`${m.key} handled twice at once`);
          busy.add(m.key);
          running += 1;
          maxRunning = Math.max(maxRunning, running);
          const previous = lastSeen.get(m.key) ?? -1;
          if (n !== previous + 1) violations.push(`${m.key}: ${n} after ${previous}`);
          lastSeen.set(m.key, n);
          await delay(Math.random() * 3); // some work, so handlers overlap
          running -= 1;
          busy.delete(m.key);
          got.push(m);
        },
        { concurrency: 4 },
      ),
    );
    await got.until(() => got.received.length >= keys * perKey, 'every message');
    assert.deepEqual(violations, []);
    assert.equal(got.received.length, keys * perKey);
    for (let k = 0; k < keys; k += 1) assert.equal(lastSeen.get(`key-${k}`), perKey - 1);
    assert.ok(maxRunning <= 4, `at most 4 handlers at once (saw ${maxRunning})`);
    assert.ok(maxRunning > 1, `partitions are handled concurrently (saw ${maxRunning})`);
  });

  it('delivers a rejected message again, holding back the rest of its partition', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const topic = unique('retry');
    const group = unique('group');
    const bus = transport({ partitions: 1 });
    await bus.connect([topic]);
    await bus.publish(Array.from({ length: 5 }, (_, n) => message(topic, `key-${n}`, { n })));
    const calls: { n: number; at: number }[] = [];
    const committedWhileFailing: bigint[] = [];
    const got = collector();
    let failures = 0;
    const consumer = await bus.consume(
      group,
      [topic],
      async (m) => {
        const { n } = body(m);
        calls.push({ n, at: Date.now() });
        if (n === 1 && failures < 2) {
          failures += 1;
          // Nothing at or after the failing message may be committed meanwhile.
          const committed = (await committedOffsets(brokers, group, topic)).get(0);
          if (committed !== undefined) committedWhileFailing.push(committed);
          throw new Error('database down');
        }
        got.push(m);
      },
      { concurrency: 4 },
    );
    await got.until(() => got.received.length >= 5, 'all five');
    assert.deepEqual(
      calls.map((call) => call.n),
      [0, 1, 1, 1, 2, 3, 4],
    );
    const [, firstTry, secondTry, thirdTry] = calls;
    assert.ok(firstTry && secondTry && thirdTry);
    assert.ok(secondTry.at - firstTry.at >= 900, 'backs off about a second before redelivering');
    assert.ok(thirdTry.at - secondTry.at >= 900, 'and again');
    assert.ok(
      committedWhileFailing.every((offset) => offset <= 1n),
      `committed offsets while failing: ${committedWhileFailing.join(', ')}`,
    );
    await consumer.stop();
    assert.equal((await committedOffsets(brokers, group, topic)).get(0), 5n, 'all five committed after stop');
  });

  it('hands a batch handler whole runs of a partition in order, again after a rejection, then commits them', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const topic = unique('runs');
    const group = unique('group');
    const bus = transport({ partitions: 1 });
    await bus.connect([topic]);
    await bus.publish(Array.from({ length: 50 }, (_, n) => message(topic, `key-${n % 7}`, { n })));
    const runs: number[][] = [];
    const got = collector();
    let rejected = false;
    const consumer = await bus.consume(
      group,
      [topic],
      async () => {
        throw new Error('the one-by-one handler is not used when a batch handler is given');
      },
      {
        concurrency: 4,
        batchHandler: async (messages) => {
          runs.push(messages.map((m) => body(m).n));
          if (!rejected) {
            rejected = true;
            throw new Error('database down');
          }
          for (const m of messages) got.push(m);
        },
      },
    );
    await got.until(() => got.received.length >= 50, 'all fifty');
    assert.ok(runs.length >= 2, `runs: ${runs.length}`);
    // The rejected run came again, whole and first; every message arrived once, in offset order.
    assert.deepEqual(runs[1]?.slice(0, runs[0]?.length), runs[0]);
    assert.deepEqual(
      got.received.map((m) => body(m).n),
      Array.from({ length: 50 }, (_, n) => n),
    );
    assert.ok((runs[1]?.length ?? 0) > 1, 'a run carries more than one message');
    await consumer.stop();
    assert.equal((await committedOffsets(brokers, group, topic)).get(0), 50n, 'all fifty committed');
  });

  it('continues a group from its committed offsets after stop()', { timeout: TEST_TIMEOUT }, async () => {
    const topic = unique('resume');
    const group = unique('group');
    const bus = transport();
    await bus.connect([topic]);
    await bus.publish(Array.from({ length: 20 }, (_, n) => message(topic, `key-${n % 6}`, { n })));
    const first = collector();
    const consumer = await bus.consume(group, [topic], async (m) => first.push(m), { concurrency: 3 });
    await first.until(() => first.received.length >= 20, 'the first 20');
    await consumer.stop();

    await bus.publish(Array.from({ length: 20 }, (_, n) => message(topic, `key-${n % 6}`, { n: 20 + n })));
    const second = collector();
    consumers.push(await bus.consume(group, [topic], async (m) => second.push(m), { concurrency: 3 }));
    // Partitions are handled in order: a redelivered old message would come before the new ones.
    await second.until(() => second.received.length >= 20, 'the next 20');
    assert.deepEqual(
      second.received.map((m) => body(m).n).sort((x, y) => x - y),
      Array.from({ length: 20 }, (_, n) => 20 + n),
    );
  });

  it('rejects publishing while the broker is down and recovers when it is back', {
    timeout: 120_000,
  }, async () => {
    const broker = await startKafka(); // its own broker (own data dir), not the shared one
    let consumer: TransportConsumer | undefined;
    try {
      const topic = unique('outage');
      const bus = createKafkaTransport({
        brokers: [broker.brokers],
        clientId: unique('outage'),
        partitions: 3,
        log,
      });
      transports.push(bus);
      await bus.connect([topic]);
      const got = collector();
      const numbers = () => new Set(got.received.map((m) => body(m).n));
      consumer = await bus.consume(unique('group'), [topic], async (m) => got.push(m), { concurrency: 2 });
      await bus.publish(Array.from({ length: 10 }, (_, n) => message(topic, `key-${n}`, { n })));
      await got.until(() => numbers().size >= 10, 'messages before the outage');

      await broker.stop();
      await assert.rejects(bus.publish([message(topic, 'key-x', { n: -1 })]), /kafka publish failed/);

      await broker.start();
      await bus.publish(Array.from({ length: 10 }, (_, n) => message(topic, `key-${n}`, { n: 10 + n })));
      await got.until(() => numbers().size >= 20, 'messages after the outage', 60_000);
      assert.deepEqual(
        [...numbers()].sort((x, y) => x - y),
        [...Array(20).keys()],
      );
    } finally {
      await consumer?.stop();
      await broker.remove();
    }
  });
});
