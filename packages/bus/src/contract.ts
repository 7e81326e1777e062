/**
 * The bus contract: one suite every adapter must pass unchanged (postgres, kafka, rabbitmq). An adapter's
 * test file calls `busContract` with a harness that builds its bus; nothing here knows which it is.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Pool, systemClock, uuidV7, withTransaction } from '@switchyard/kernel';
import { type CloudEvent, createEvent } from './envelope.ts';
import { appendToOutbox } from './outbox.ts';
import {
  type BatchEventHandler,
  BatchEventsFailed,
  type Bus,
  type EventHandler,
  type SubscribeOptions,
} from './port.ts';

export interface BusContractHarness {
  /** A database with the bus migrations (and the adapter's) applied. */
  pool: Pool;
  /** A new bus instance: each stands for one process. */
  createBus(): Bus;
  /** Whether two consumers of one group both get work (not so for the PostgreSQL log: one at a time). */
  sharesLoad: boolean;
  /** Whether it hands a subscription's batch handler runs of events (PostgreSQL passes, Kafka fetches, RabbitMQ deliveries in hand). */
  deliversBatches: boolean;
  /** Environment for `packages/testing/src/consumer-process.ts` to run this bus in a child process. */
  childEnv: Record<string, string>;
  /** Puts raw bytes on a topic, bypassing the outbox (brokers only). */
  publishRaw?(topic: string, key: string, value: Buffer): Promise<void>;
  close(): Promise<void>;
}

const consumerProcess = fileURLToPath(import.meta.resolve('@switchyard/testing/consumer-process'));

interface Effect {
  event_id: string;
  partition_key: string;
  n: number;
}

export function busContract(name: string, setup: () => Promise<BusContractHarness>): void {
  describe(`bus contract: ${name}`, () => {
    let harness: BusContractHarness;
    const buses: Bus[] = [];

    const unique = (label: string) => `contract-${label}-${randomBytes(3).toString('hex')}`;
    const bus = () => {
      const created = harness.createBus();
      buses.push(created);
      return created;
    };

    before(async () => {
      harness = await setup();
      await harness.pool.query(
        `CREATE TABLE IF NOT EXISTS contract_effects (
           consumer_group text NOT NULL, event_id uuid NOT NULL, partition_key text NOT NULL, n int NOT NULL,
           attempt int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`,
      );
    });
    after(async () => {
      await Promise.all(buses.map((b) => b.stop().catch(() => {})));
      await harness.close();
    });

    function events(keys: string[], perKey: number): CloudEvent[] {
      const made: CloudEvent[] = [];
      for (let n = 0; n < perKey; n += 1) {
        for (const key of keys) {
          made.push(
            createEvent(
              { type: 'contract.happened', subject: key, data: { n, mod3: String(n % 3) } },
              {},
              { clock: systemClock, ids: uuidV7, source: '/contract' },
            ),
          );
        }
      }
      return made;
    }

    async function publish(topic: string, batch: CloudEvent[], perTransaction = 10) {
      for (let i = 0; i < batch.length; i += perTransaction) {
        await withTransaction(harness.pool, (tx) =>
          appendToOutbox(tx, topic, batch.slice(i, i + perTransaction)),
        );
      }
    }

    /** Records each handled event as an effect written in the delivery transaction. */
    function recorder(group: string, fail?: (event: CloudEvent, attempt: number) => boolean): EventHandler {
      return async (event, { tx, attempt }) => {
        if (fail?.(event, attempt)) throw new Error(`failing ${event.id} on purpose (attempt ${attempt})`);
        await tx.query(
          'INSERT INTO contract_effects (consumer_group, event_id, partition_key, n, attempt) VALUES ($1, $2, $3, $4, $5)',
          [group, event.id, event.partitionkey, (event.data as { n: number }).n, attempt],
        );
      };
    }

    async function effects(group: string): Promise<Effect[]> {
      return (
        await harness.pool.query<Effect>(
          'SELECT event_id, partition_key, n FROM contract_effects WHERE consumer_group = $1 ORDER BY at, n',
          [group],
        )
      ).rows;
    }

    async function started(
      group: string,
      topic: string,
      handler: EventHandler,
      options: SubscribeOptions = {},
    ) {
      const consumer = bus();
      consumer.subscribe(group, [topic], handler, options);
      await consumer.start();
      return consumer;
    }

    it('keeps order per partition key, with several messages in flight', async () => {
      const topic = unique('order');
      const group = unique('g');
      const consumer = await started(group, topic, recorder(group), { concurrency: 4 });
      const batch = events(['k1', 'k2', 'k3', 'k4', 'k5'], 12);
      await publish(topic, batch, 7);
      await consumer.drain(group);
      const handled = await effects(group);
      assert.equal(handled.length, batch.length);
      for (const key of ['k1', 'k2', 'k3', 'k4', 'k5']) {
        const ns = handled.filter((effect) => effect.partition_key === key).map((effect) => effect.n);
        assert.deepEqual(ns, [...Array(12).keys()], `order of ${key}`);
      }
    });

    /** The recorder's effect for many events in one statement, as a batch handler does it; counts its calls. */
    function batchRecorder(group: string, fail: boolean): { handler: BatchEventHandler; calls(): number } {
      let calls = 0;
      return {
        calls: () => calls,
        handler: async (batch, { tx }) => {
          calls += 1;
          if (fail) throw new Error(`failing a batch of ${batch.length} on purpose`);
          await tx.query(
            `INSERT INTO contract_effects (consumer_group, event_id, partition_key, n, attempt)
             SELECT $1, id, key, n, 1 FROM unnest($2::uuid[], $3::text[], $4::int[]) WITH ORDINALITY
                    AS batch (id, key, n, position)
              ORDER BY position`,
            [
              group,
              batch.map((event) => event.id),
              batch.map((event) => event.partitionkey ?? ''),
              batch.map((event) => (event.data as { n: number }).n),
            ],
          );
        },
      };
    }

    for (const failing of [false, true]) {
      it(
        failing
          ? 'hands the events of a failing batch handler to the handler one by one, each once, in order'
          : 'lets a batch handler take what arrives in batches: each event once, in order per key',
        async () => {
          const topic = unique('batch');
          const group = unique('g');
          const batchRecording = batchRecorder(group, failing);
          const consumer = await started(group, topic, recorder(group), {
            concurrency: 4,
            batchHandler: batchRecording.handler,
          });
          const keys = ['k1', 'k2', 'k3'];
          const batch = events(keys, 15);
          await publish(topic, batch, 9);
          await consumer.drain(group);
          const handled = await effects(group);
          assert.equal(handled.length, batch.length);
          assert.equal(new Set(handled.map((effect) => effect.event_id)).size, batch.length);
          for (const key of keys) {
            const ns = handled.filter((effect) => effect.partition_key === key).map((effect) => effect.n);
            assert.deepEqual(ns, [...Array(15).keys()], `order of ${key}`);
          }
          if (harness.deliversBatches) assert.ok(batchRecording.calls() > 0, 'the batch handler was used');
          else assert.equal(batchRecording.calls(), 0, 'this bus delivers one event at a time');
        },
      );
    }

    it('passes over the events a subscription does not accept, handling the rest in order', async () => {
      const topic = unique('accepts');
      const group = unique('g');
      const consumer = await started(group, topic, recorder(group), {
        accepts: { dataField: 'mod3', values: ['0'] },
        batchHandler: batchRecorder(group, false).handler,
      });
      await publish(topic, events(['k1', 'k2'], 12), 5);
      await consumer.drain(group);
      const handled = await effects(group);
      for (const key of ['k1', 'k2']) {
        assert.deepEqual(
          handled.filter((effect) => effect.partition_key === key).map((effect) => effect.n),
          [0, 3, 6, 9],
          `accepted events of ${key}`,
        );
      }
    });

    it('goes on from the first retry for the events a batch handler names as tried and failed', async () => {
      const topic = unique('batch-failed');
      const group = unique('g');
      const batch = events(['k1', 'k2'], 6);
      const tried = batch[4] as CloudEvent;
      let named = false;
      const consumer = await started(group, topic, recorder(group), {
        retry: { retryDelaysMs: [0, 0, 0] },
        batchHandler: async (given) => {
          if (!given.some((event) => event.id === tried.id)) throw new Error('not this batch');
          named = true;
          throw new BatchEventsFailed(new Map([[tried.id, new Error('tried and failed')]]));
        },
      });
      await publish(topic, batch, 12);
      await consumer.drain(group);
      const attempts = (
        await harness.pool.query<{ event_id: string; attempt: number }>(
          'SELECT event_id, attempt FROM contract_effects WHERE consumer_group = $1',
          [group],
        )
      ).rows;
      assert.equal(attempts.length, batch.length, 'each event once');
      for (const { event_id, attempt } of attempts) {
        assert.equal(attempt, event_id === tried.id && named ? 2 : 1, `attempt of ${event_id}`);
      }
      if (harness.deliversBatches) assert.ok(named, 'the batch handler saw the event');
    });

    it('fans out: every group gets every event', async () => {
      const topic = unique('fanout');
      const [a, b] = [unique('a'), unique('b')];
      const first = await started(a, topic, recorder(a));
      const second = await started(b, topic, recorder(b));
      const batch = events(['x', 'y'], 10);
      await publish(topic, batch);
      await Promise.all([first.drain(a), second.drain(b)]);
      const ids = batch.map((event) => event.id).sort();
      assert.deepEqual((await effects(a)).map((effect) => effect.event_id).sort(), ids);
      assert.deepEqual((await effects(b)).map((effect) => effect.event_id).sort(), ids);
    });

    it('shares one group between two consumers, each event handled once', async () => {
      const topic = unique('share');
      const group = unique('g');
      const one = await started(group, topic, recorder(group), { concurrency: 2 });
      const two = await started(group, topic, recorder(group), { concurrency: 2 });
      const batch = events(
        Array.from({ length: 12 }, (_, i) => `key-${i}`),
        10,
      );
      await publish(topic, batch, 4);
      await Promise.all([one.drain(group), two.drain(group)]);
      const handled = await effects(group);
      assert.equal(handled.length, batch.length);
      assert.equal(new Set(handled.map((effect) => effect.event_id)).size, batch.length);
    });

    it('retries with the policy delays, then succeeds with one effect', async () => {
      const topic = unique('retry');
      const group = unique('g');
      const attempts: number[] = [];
      const consumer = await started(
        group,
        topic,
        recorder(group, (_event, attempt) => {
          attempts.push(Date.now());
          return attempt < 3;
        }),
        { retry: { retryDelaysMs: [100, 300, 300] } },
      );
      await publish(topic, events(['r'], 1));
      await consumer.drain(group);
      assert.equal(attempts.length, 3);
      const gaps = attempts.slice(1).map((time, i) => time - (attempts[i] ?? 0));
      assert.ok((gaps[0] ?? 0) >= 95 && (gaps[0] ?? 0) < 600, `first retry after ${gaps[0]} ms, policy 100`);
      assert.ok(
        (gaps[1] ?? 0) >= 295 && (gaps[1] ?? 0) < 800,
        `second retry after ${gaps[1]} ms, policy 300`,
      );
      const handled = await effects(group);
      assert.equal(handled.length, 1);
    });

    it('dead-letters after the last attempt with the reason, and carries on with the next event', async () => {
      const topic = unique('dlq');
      const group = unique('g');
      const batch = events(['d'], 3);
      const poison = batch[1]?.id;
      const consumer = await started(
        group,
        topic,
        recorder(group, (event) => event.id === poison),
        { retry: { retryDelaysMs: [0, 10] } },
      );
      await publish(topic, batch);
      await consumer.drain(group);
      assert.deepEqual(
        (await effects(group)).map((effect) => effect.n),
        [0, 2],
      );
      const letters = await harness.pool.query(
        'SELECT reason, error, stack, attempts, topic, event_type, first_failed_at, last_failed_at FROM bus.dead_letters WHERE consumer_group = $1',
        [group],
      );
      assert.equal(letters.rowCount, 1);
      const letter = letters.rows[0];
      assert.equal(letter.reason, 'handler_failed');
      assert.equal(letter.attempts, 3);
      assert.equal(letter.topic, topic);
      assert.equal(letter.event_type, 'contract.happened');
      assert.match(letter.error, /failing .* on purpose \(attempt 3\)/);
      assert.match(letter.stack, /Error: failing/);
      assert.ok(letter.first_failed_at <= letter.last_failed_at);
      const notice = await harness.pool.query(
        "SELECT envelope FROM bus.outbox WHERE topic = 'dead-letter-queue' AND envelope->'data'->>'consumer_group' = $1",
        [group],
      );
      assert.equal(notice.rowCount, 1);
    });

    it('dead-letters malformed messages at once and keeps consuming', async () => {
      const topic = unique('malformed');
      const group = unique('g');
      const consumer = await started(group, topic, recorder(group));
      const [good1, good2] = events(['m'], 2);
      assert.ok(good1 && good2);
      await publish(topic, [good1]);
      await withTransaction(harness.pool, async (tx) => {
        await tx.query(
          `INSERT INTO bus.outbox (topic, event_id, partition_key, envelope) VALUES ($1, $2, 'm', $3)`,
          [
            topic,
            uuidV7(),
            JSON.stringify({ specversion: '1.0', id: 'not-a-uuid', type: 'contract.happened' }),
          ],
        );
      });
      if (harness.publishRaw) await harness.publishRaw(topic, 'm', Buffer.from('this is not json'));
      await publish(topic, [good2]);
      await consumer.drain(group);
      await waitFor(async () => (await effects(group)).length === 2);
      assert.deepEqual(
        (await effects(group)).map((effect) => effect.event_id),
        [good1.id, good2.id],
      );
      const letters = await harness.pool.query(
        'SELECT reason, attempts, payload FROM bus.dead_letters WHERE consumer_group = $1 ORDER BY last_failed_at',
        [group],
      );
      assert.ok(letters.rows.every((row) => row.reason === 'malformed' && row.attempts === 0));
      assert.equal(letters.rowCount, harness.publishRaw ? 2 : 1);
    });

    it('replays a dead letter with its original id: one effect in the failed group, none again elsewhere', async () => {
      const topic = unique('replay');
      const [failing, healthy] = [unique('failing'), unique('healthy')];
      let broken = true;
      const consumer = bus();
      consumer.subscribe(
        failing,
        [topic],
        recorder(failing, () => broken),
        { retry: { retryDelaysMs: [0] } },
      );
      consumer.subscribe(healthy, [topic], recorder(healthy));
      await consumer.start();
      const [event] = events(['p'], 1);
      assert.ok(event);
      await publish(topic, [event]);
      await Promise.all([consumer.drain(failing), consumer.drain(healthy)]);
      assert.equal((await effects(failing)).length, 0);
      const letter = (
        await harness.pool.query('SELECT id FROM bus.dead_letters WHERE consumer_group = $1', [failing])
      ).rows[0];
      assert.ok(letter);

      broken = false;
      const { replayDeadLetter } = await import('./dead-letters.ts');
      await withTransaction(harness.pool, (tx) => replayDeadLetter(tx, letter.id));
      await Promise.all([consumer.drain(failing), consumer.drain(healthy)]);
      assert.deepEqual(
        (await effects(failing)).map((effect) => effect.event_id),
        [event.id],
      );
      assert.equal(
        (await effects(healthy)).length,
        1,
        'a group that had handled it does not handle it again',
      );
    });

    it('delivers everything once after a consumer is killed mid-batch (SIGKILL)', async () => {
      const topic = unique('kill');
      const group = unique('g');
      const batch = events(
        Array.from({ length: 4 }, (_, i) => `kill-${i}`),
        40,
      );
      const child = spawn(process.execPath, [consumerProcess], {
        env: { ...process.env, ...harness.childEnv, GROUP: group, TOPIC: topic },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = once(child, 'exit');
      const lines = createInterface({ input: child.stdout });
      const ready = new Promise<void>((resolve) => lines.on('line', (line) => line === 'ready' && resolve()));
      const someHandled = new Promise<void>((resolve) =>
        lines.on('line', (line) => line.startsWith('handled ') && Number(line.slice(8)) >= 30 && resolve()),
      );
      await Promise.race([ready, exited.then(() => Promise.reject(new Error('consumer process died')))]);
      await publish(topic, batch, 20);
      await someHandled;
      child.kill('SIGKILL');
      await exited;
      const before = (await effects(group)).length;
      assert.ok(before < batch.length, `the kill came too late to test anything (${before} handled)`);

      const survivor = await started(group, topic, recorder(group), { concurrency: 2 });
      await survivor.drain(group);
      const handled = await effects(group);
      assert.equal(
        new Set(handled.map((effect) => effect.event_id)).size,
        batch.length,
        'every event handled',
      );
      assert.equal(handled.length, batch.length, 'no effect twice');
    });

    it('closes gracefully without losing or repeating events', async () => {
      const topic = unique('close');
      const group = unique('g');
      const batch = events(['c1', 'c2', 'c3'], 10);
      const first = await started(group, topic, recorder(group), { concurrency: 2 });
      await publish(topic, batch.slice(0, 15), 5);
      await first.stop();
      await publish(topic, batch.slice(15), 5);
      const second = await started(group, topic, recorder(group), { concurrency: 2 });
      await second.drain(group);
      const handled = await effects(group);
      assert.equal(
        new Set(handled.map((effect) => effect.event_id)).size,
        batch.length,
        'every event handled',
      );
      assert.equal(handled.length, batch.length, 'none handled twice');
    });
  });
}

/** Waits until `check` holds, re-checking every 20 ms, for at most `timeoutMs`. */
async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
