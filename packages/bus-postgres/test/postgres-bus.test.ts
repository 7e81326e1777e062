import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  appendToOutbox,
  BatchEventsFailed,
  type Bus,
  busMigrations,
  type CloudEvent,
  createEvent,
  type EventHandler,
  OUTBOX_START,
  readOutboxSelecting,
} from '@switchyard/bus';
import { createPostgresBus, postgresBusMigrations } from '@switchyard/bus-postgres';
import { createPool, migrate, type Pool, systemClock, uuidV7, withTransaction } from '@switchyard/kernel';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import Type from 'typebox';

const log = silentLogger();
const TOPIC = 'things';

function event(subject: string, n: number): CloudEvent {
  return createEvent(
    { type: 'thing.happened', subject, data: { n, parity: n % 2 === 0 ? 'even' : 'odd' } },
    {},
    { clock: systemClock, ids: uuidV7, source: '/test' },
  );
}

/** An event of a type the catalogued subscriptions below do not take. */
function foreignEvent(n: number): CloudEvent {
  return createEvent(
    { type: 'other.happened', subject: 'o', data: { n } },
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
      accepts: { dataField: 'parity', values: ['even'] },
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

  it('passes over types outside its catalog in the read itself, yet dead-letters an event without a type', async () => {
    const topic = 'catalogued';
    const seen: CloudEvent[] = [];
    const consumer = bus();
    consumer.subscribe('typed', [topic], recorder('typed', seen), {
      catalog: { 'thing.happened': Type.Object({ n: Type.Number() }) },
    });
    await consumer.start();
    // More foreign events than a pass reads (10): one pass finds none of its own and still moves on.
    const foreign = Array.from({ length: 12 }, (_, n) => foreignEvent(n));
    const own = Array.from({ length: 3 }, (_, n) => event('t', n));
    const [first, second, third] = own;
    assert.ok(first && second && third);
    await withTransaction(pool, (tx) =>
      appendToOutbox(tx, topic, [...foreign, first, foreignEvent(12), second]),
    );
    await withTransaction(pool, async (tx) => {
      await tx.query(
        `INSERT INTO bus.outbox (topic, event_id, partition_key, envelope)
         VALUES ($1, $2, 't', $3), ($1, $4, 't', $5)`,
        [
          topic,
          uuidV7(),
          JSON.stringify({ specversion: '1.0', id: 'no-type' }),
          uuidV7(),
          JSON.stringify({ specversion: '1.0', id: 'not-a-uuid', type: 'other.happened' }),
        ],
      );
      await appendToOutbox(tx, topic, [third]);
    });

    const read = await readOutboxSelecting(pool, [topic], OUTBOX_START, 100, { types: ['thing.happened'] });
    assert.equal(read.read, 18);
    assert.deepEqual(
      read.records.map((record) => record.event.id),
      [first.id, second.id, 'no-type', third.id],
    );
    // With `accepts` as well: the odd one of its own, and still the row without a type (or data).
    const odd = await readOutboxSelecting(pool, [topic], OUTBOX_START, 100, {
      types: ['thing.happened'],
      accepts: { dataField: 'parity', values: ['odd'] },
    });
    assert.deepEqual(
      odd.records.map((record) => record.event.id),
      [second.id, 'no-type'],
    );

    await consumer.drain('typed');
    assert.deepEqual(
      seen.map((e) => e.id),
      own.map((e) => e.id),
    );
    const marked = await pool.query('SELECT event_id FROM bus.processed_events WHERE consumer_group = $1', [
      'typed',
    ]);
    assert.equal(marked.rowCount, 3);
    const letters = await pool.query<{ reason: string; payload: string }>(
      'SELECT reason, payload::text AS payload FROM bus.dead_letters WHERE consumer_group = $1',
      ['typed'],
    );
    assert.deepEqual(
      letters.rows.map((row) => [row.reason, row.payload.includes('no-type')]),
      [['malformed', true]],
    );
    const lags = (await consumer.lag?.()) ?? [];
    assert.deepEqual(
      lags.map((lag) => [lag.group, lag.waiting]),
      [['typed', 0]],
    );
  });

  it('after passes over nothing but foreign events, a restart handles the next event once', async () => {
    const topic = 'mostly-foreign';
    const group = 'sparse';
    const seen: CloudEvent[] = [];
    const catalog = { 'thing.happened': Type.Object({ n: Type.Number() }) };
    const first = bus();
    first.subscribe(group, [topic], recorder(group, seen), { catalog });
    await first.start();
    // Passes of foreign events only, one transaction each: their offset is not written every pass.
    for (let n = 0; n < 25; n++) {
      await withTransaction(pool, (tx) => appendToOutbox(tx, topic, [foreignEvent(n)]));
      await first.drain(group);
    }
    // Idle, it writes where it read to within a second or so: lag then says it is at the end.
    const waiting = async () => (await first.lag?.())?.find((lag) => lag.group === group)?.waiting;
    for (let pass = 0; pass < 30 && (await waiting()) !== 0; pass++) await passes(group, 1);
    assert.equal(await waiting(), 0);
    const mine = event('s', 1);
    await withTransaction(pool, (tx) => appendToOutbox(tx, topic, [foreignEvent(25), mine]));
    await first.drain(group);
    await first.stop();
    const later = event('s', 2);
    await withTransaction(pool, (tx) => appendToOutbox(tx, topic, [foreignEvent(26), later]));
    const second = bus();
    second.subscribe(group, [topic], recorder(group, seen), { catalog });
    await second.start();
    await second.drain(group);
    assert.deepEqual(
      seen.map((e) => e.id),
      [mine.id, later.id],
    );
    assert.equal(await effects(group), 2);
  });

  it('after a failed batch, retries events of different keys side by side, not one after another', async () => {
    const topic = 'batch-retries';
    const group = 'retrying';
    const batch = ['k0', 'k1', 'k2', 'k3'].map((key, n) => event(key, n));
    const inHandler = new Set<string>();
    let allTogether: () => void = () => {};
    const together = new Promise<void>((resolve) => {
      allTogether = resolve;
    });
    const consumer = bus();
    consumer.subscribe(
      group,
      [topic],
      async (delivered, context) => {
        // One at a time, the first retry would wait here for the others until the test gives up.
        inHandler.add(delivered.id);
        if (inHandler.size === batch.length) allTogether();
        const timeout = new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('retries ran one after another')), 5_000).unref(),
        );
        await Promise.race([together, timeout]);
        await recorder(group, [])(delivered, context);
      },
      {
        concurrency: 4,
        retry: { retryDelaysMs: [0, 0] },
        batchHandler: async (given) => {
          throw new BatchEventsFailed(new Map(given.map((e) => [e.id, new Error('provider down')])));
        },
      },
    );
    await consumer.start();
    await withTransaction(pool, (tx) => appendToOutbox(tx, topic, batch));
    await consumer.drain(group);
    assert.equal(inHandler.size, batch.length);
    assert.equal(await effects(group), batch.length);
    const letters = await pool.query('SELECT 1 FROM bus.dead_letters WHERE consumer_group = $1', [group]);
    assert.equal(letters.rowCount, 0);
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
