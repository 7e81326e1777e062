import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPool, migrate, type Pool, type PoolClient } from '@switchyard/kernel';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import { busMigrations, OUTBOX_START, type OutboxSelection, readOutboxSelecting } from '../src/index.ts';
import { explaining, nodes } from './fixtures/plans.ts';

const TOPIC = 'plan-topic';
const BACKLOG = 20_000;
const LIMIT = 500;

describe('readOutboxSelecting: the consumer read of the PostgreSQL bus', () => {
  let database: TestDatabase;
  let pool: Pool;

  before(async () => {
    database = await createTestDatabase('outbox_read');
    pool = createPool({ connectionString: database.url, maxConnections: 2, applicationName: 'outbox-read' });
    await migrate(pool, [busMigrations], silentLogger());
    // A backlog nobody has analyzed (autovacuum kept away), beside another topic's: the case that planned
    // a bitmap scan of the whole backlog and a sort, once more rows were asked for than the planner guessed.
    await pool.query('ALTER TABLE bus.outbox SET (autovacuum_enabled = false)');
    await pool.query(
      `INSERT INTO bus.outbox (topic, event_id, partition_key, envelope)
       SELECT CASE WHEN n % 4 = 0 THEN 'other-topic' ELSE $1 END, id, 'k' || (n % 16),
              jsonb_build_object('specversion', '1.0', 'id', id, 'type', 't', 'source', '/test',
                                 'partitionkey', 'k' || (n % 16), 'data', jsonb_build_object('n', n))
         FROM generate_series(1, $2::int) AS n, LATERAL (SELECT gen_random_uuid() AS id) AS made`,
      [TOPIC, BACKLOG],
    );
  });
  after(async () => {
    await pool?.end();
    await database?.drop();
  });

  /** Runs `work` in a transaction on one connection, rolled back at the end. */
  async function inTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      return await work(client);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  }

  for (const [name, selection] of [
    ['every type', {}],
    ['a catalog of types', { types: ['t'] }],
  ] as [string, OutboxSelection][]) {
    it(`reads a batch in index order from an unanalyzed backlog (${name}): no bitmap scan, no sort`, async () => {
      const stats = await pool.query<{ analyzed: boolean }>(
        `SELECT (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL) AS analyzed
           FROM pg_stat_user_tables WHERE schemaname = 'bus' AND relname = 'outbox'`,
      );
      assert.equal(stats.rows[0]?.analyzed, false, 'the outbox must not have statistics for this test');
      const plan = await inTransaction(async (client) => {
        // The read under EXPLAIN; the planner settings around it go to the same connection as they are.
        const explained = explaining(client, (text) => text.includes('FROM bus.outbox'));
        await readOutboxSelecting(explained.db, [TOPIC], OUTBOX_START, LIMIT, selection);
        const setting = await client.query<{ enable_bitmapscan: string }>('SHOW enable_bitmapscan');
        assert.equal(setting.rows[0]?.enable_bitmapscan, 'on', 'the rest of the transaction plans as usual');
        return explained.plan();
      });
      assert.ok(plan, 'no plan');
      const all = nodes(plan);
      const types = all.map((node) => node['Node Type']);
      assert.ok(!types.includes('Sort'), `sorted: ${types.join(' > ')}`);
      assert.ok(!types.some((type) => type.startsWith('Bitmap')), `bitmap scan: ${types.join(' > ')}`);
      const scan = all.find((node) => node['Node Type'] === 'Index Scan');
      assert.ok(scan, `no index scan: ${types.join(' > ')}`);
      assert.ok((scan['Actual Rows'] ?? Number.POSITIVE_INFINITY) <= LIMIT * 2, 'stopped near the limit');
    });
  }

  it('returns the first batch of the topic in order, and where the next read starts', async () => {
    const { records, end, read } = await inTransaction((client) =>
      readOutboxSelecting(client, [TOPIC], OUTBOX_START, LIMIT, {}),
    );
    assert.equal(read, LIMIT);
    assert.equal(records.length, LIMIT);
    const ns = records.map((record) => (record.event.data as { n: number }).n);
    const expected = Array.from({ length: BACKLOG }, (_, i) => i + 1)
      .filter((n) => n % 4 !== 0)
      .slice(0, LIMIT);
    assert.deepEqual(ns, expected);
    assert.deepEqual(end, records.at(-1)?.cursor);
  });
});
