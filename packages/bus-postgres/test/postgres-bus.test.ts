import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  appendToOutbox,
  type Bus,
  busMigrations,
  type CloudEvent,
  createEvent,
  type EventHandler,
} from '@switchyard/bus';
import { createPostgresBus, postgresBusMigrations } from '@switchyard/bus-postgres';
import { createPool, migrate, type Pool, systemClock, uuidV7, withTransaction } from '@switchyard/kernel';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';

const log = silentLogger();
const TOPIC = 'things';

function event(subject: string, n: number): CloudEvent {
  return createEvent(
    { type: 'thing.happened', subject, data: { n } },
    {},
    { clock: systemClock, ids: uuidV7, source: '/test' },
  );
}

describe('PostgreSQL bus', () => {
  let database: TestDatabase;
  let pool: Pool;
  const buses: Bus[] = [];
  const passWaiters: { group: string; remaining: number; resolve: () => void }[] = [];

  /** Resolves after `count` more passes of `group` over the outbox have finished. */
  function passes(group: string, count: number): Promise<void> {
    return new Promise((resolve) => passWaiters.push({ group, remaining: count, resolve }));
  }

  function bus(): Bus {
    const created = createPostgresBus({
      pool,
      log,
      clock: systemClock,
      ids: uuidV7,
      pollIntervalMs: 200,
      batchSize: 10,
      onPass: (group) => {
        for (const waiter of passWaiters.filter((w) => w.group === group)) {
          waiter.remaining -= 1;
          if (waiter.remaining === 0) {
            passWaiters.splice(passWaiters.indexOf(waiter), 1);
            waiter.resolve();
          }
        }
      },
    });
    buses.push(created);
    return created;
  }

  /** A handler that records each event it is given and writes one effect row in the delivery transaction. */
  function recorder(group: string, seen: CloudEvent[], failFirst = 0): EventHandler {
    let failures = 0;
    return async (delivered, { tx }) => {
      if (failures < failFirst && (delivered.data as { n: number }).n === 2) {
        failures += 1;
        throw new Error('handler failed on purpose');
      }
      seen.push(delivered);
      await tx.query('INSERT INTO effects (consumer_group, event_id) VALUES ($1, $2)', [group, delivered.id]);
    };
  }

  async function publish(...events: CloudEvent[]) {
    await withTransaction(pool, (tx) => appendToOutbox(tx, TOPIC, events));
  }

  async function effects(group: string): Promise<number> {
    const result = await pool.query('SELECT count(*)::int AS n FROM effects WHERE consumer_group = $1', [
      group,
    ]);
    return result.rows[0].n;
  }

  before(async () => {
    database = await createTestDatabase('bus');
    pool = createPool({ connectionString: database.url, maxConnections: 20, applicationName: 'test' });
    await migrate(pool, [busMigrations, postgresBusMigrations], log);
    // Effects are unique per group and event: a second effect for one event fails the test loudly.
    await pool.query(
      'CREATE TABLE effects (consumer_group text, event_id uuid, PRIMARY KEY (consumer_group, event_id))',
    );
  });
  beforeEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.stop()));
  });
  after(async () => {
    await Promise.all(buses.splice(0).map((b) => b.stop()));
    await pool.end();
    await database.drop();
  });

  it('delivers committed events to every group, in order, once each', async () => {
    const a: CloudEvent[] = [];
    const b: CloudEvent[] = [];
    const consumer = bus();
    consumer.subscribe('order-a', [TOPIC], recorder('order-a', a));
    consumer.subscribe('order-b', [TOPIC], recorder('order-b', b));
    await consumer.start();
    const events = Array.from({ length: 25 }, (_, n) => event('s1', n));
    await publish(...events.slice(0, 10));
    await publish(...events.slice(10));
    await consumer.drain('order-a');
    await consumer.drain('order-b');
    assert.deepEqual(
      a.map((e) => e.id),
      events.map((e) => e.id),
    );
    assert.deepEqual(
      b.map((e) => e.id),
      events.map((e) => e.id),
    );
  });

  it('never skips an event whose transaction commits after a later one', async () => {
    const seen: CloudEvent[] = [];
    const consumer = bus();
    consumer.subscribe('late-commit', [TOPIC], recorder('late-commit', seen));
    await consumer.start();
    await consumer.drain('late-commit');
    const before = seen.length;

    const slow = await pool.connect();
    const early = event('slow', 1);
    const late = event('fast', 2);
    await slow.query('BEGIN');
    await appendToOutbox(slow, TOPIC, [early]);
    await publish(late); // commits while the slow transaction is still open
    // The second pass from now certainly started after `late` committed. Reading `late` then and moving the
    // cursor past it would lose `early` for good once it commits.
    await passes('late-commit', 2);
    assert.equal(seen.length, before, 'nothing may be delivered past a transaction that is still open');
    const caughtUp = consumer.drain('late-commit');
    await slow.query('COMMIT');
    slow.release();
    await caughtUp;
    await consumer.drain('late-commit');
    assert.deepEqual(
      seen.slice(before).map((e) => e.id),
      [early.id, late.id],
    );
  });

  it('publishes nothing for a rolled-back write', async () => {
    const seen: CloudEvent[] = [];
    const consumer = bus();
    consumer.subscribe('rollback', [TOPIC], recorder('rollback', seen));
    await consumer.start();
    await consumer.drain('rollback');
    const before = seen.length;
    const doomed = event('doomed', 1);
    await assert.rejects(
      withTransaction(pool, async (tx) => {
        await appendToOutbox(tx, TOPIC, [doomed]);
        throw new Error('write failed');
      }),
    );
    const kept = event('kept', 1);
    await publish(kept);
    await consumer.drain('rollback');
    assert.deepEqual(
      seen.slice(before).map((e) => e.id),
      [kept.id],
    );
  });

  it('resumes after a restart without delivering anything twice', async () => {
    const first: CloudEvent[] = [];
    const one = bus();
    one.subscribe('restart', [TOPIC], recorder('restart', first));
    await one.start();
    await one.drain('restart');
    const handledBefore = first.length;
    const batch1 = [event('r', 1), event('r', 2), event('r', 3)];
    await publish(...batch1);
    await one.drain('restart');
    await one.stop();

    const batch2 = [event('r', 4), event('r', 5)];
    await publish(...batch2);
    const second: CloudEvent[] = [];
    const two = bus();
    two.subscribe('restart', [TOPIC], recorder('restart', second));
    await two.start();
    await two.drain('restart');
    assert.equal(first.length - handledBefore, 3);
    assert.deepEqual(
      second.map((e) => e.id),
      batch2.map((e) => e.id),
    );
  });

  it('retries a failing handler with backoff; earlier events commit and the effect happens once', async () => {
    const seen: CloudEvent[] = [];
    const consumer = bus();
    consumer.subscribe('flaky', [TOPIC], recorder('flaky', seen, 2), { retry: { retryDelaysMs: [5, 10] } });
    await consumer.start();
    await consumer.drain('flaky');
    const before = await effects('flaky');
    const events = [event('f', 1), event('f', 2), event('f', 3)];
    await publish(...events);
    await consumer.drain('flaky');
    assert.equal((await effects('flaky')) - before, 3);
    assert.deepEqual(
      seen.slice(-3).map((e) => e.id),
      events.map((e) => e.id),
    );
  });

  it('handles an event published twice with the same id only once per group', async () => {
    const seen: CloudEvent[] = [];
    const consumer = bus();
    consumer.subscribe('dedupe', [TOPIC], recorder('dedupe', seen));
    await consumer.start();
    await consumer.drain('dedupe');
    const before = seen.length;
    const twice = event('d', 1);
    await publish(twice);
    await publish(twice);
    await consumer.drain('dedupe');
    assert.deepEqual(
      seen.slice(before).map((e) => e.id),
      [twice.id],
    );
  });

  it('marks the events it handles as processed, not those it passes over (its offset says it read them)', async () => {
    const seen: CloudEvent[] = [];
    const consumer = bus();
    consumer.subscribe('picky', [TOPIC], recorder('picky', seen), {
      accepts: (given) => (given.data as { n: number }).n % 2 === 0,
    });
    await consumer.start();
    await consumer.drain('picky');
    const before = seen.length;
    const events = Array.from({ length: 8 }, (_, n) => event('p', n));
    await publish(...events);
    await consumer.drain('picky');
    const even = events.filter((_, n) => n % 2 === 0).map((e) => e.id);
    assert.deepEqual(
      seen.slice(before).map((e) => e.id),
      even,
    );
    const marked = await pool.query<{ event_id: string }>(
      'SELECT event_id FROM bus.processed_events WHERE consumer_group = $1 AND event_id = ANY($2::uuid[]) ORDER BY event_id',
      ['picky', events.map((e) => e.id)],
    );
    assert.deepEqual(
      marked.rows.map((row) => row.event_id),
      [...even].sort(),
    );
  });

  it('lets two processes share a group without handling an event twice', async () => {
    const seenA: CloudEvent[] = [];
    const seenB: CloudEvent[] = [];
    const a = bus();
    const b = bus();
    a.subscribe('shared', [TOPIC], recorder('shared', seenA));
    b.subscribe('shared', [TOPIC], recorder('shared', seenB));
    await Promise.all([a.start(), b.start()]);
    await Promise.all([a.drain('shared'), b.drain('shared')]);
    const before = await effects('shared');
    const events = Array.from({ length: 40 }, (_, n) => event(`p${n % 4}`, n));
    for (let i = 0; i < events.length; i += 4) await publish(...events.slice(i, i + 4));
    await Promise.all([a.drain('shared'), b.drain('shared')]);
    assert.equal((await effects('shared')) - before, 40);
    const ids = [...seenA, ...seenB].map((e) => e.id).slice(-40);
    assert.equal(new Set(ids).size, ids.length);
  });
});
