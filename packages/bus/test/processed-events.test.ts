import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPool, migrate, type Pool } from '@switchyard/kernel';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import { busMigrations, processedAmong } from '../src/index.ts';
import { explaining, nodes } from './fixtures/plans.ts';

describe('processedAmong: which events a group has handled', () => {
  let database: TestDatabase;
  let pool: Pool;
  const GROUP = 'probe-group';
  const handled: string[] = [];

  before(async () => {
    database = await createTestDatabase('processed_among');
    pool = createPool({
      connectionString: database.url,
      maxConnections: 2,
      applicationName: 'processed-among',
    });
    await migrate(pool, [busMigrations], silentLogger());
    // A group with many handled events and a table nobody has analyzed: the case that planned badly.
    const inserted = await pool.query<{ event_id: string }>(
      `INSERT INTO bus.processed_events (consumer_group, event_id)
       SELECT $1, gen_random_uuid() FROM generate_series(1, 20000) RETURNING event_id::text`,
      [GROUP],
    );
    handled.push(...inserted.rows.slice(0, 50).map((row) => row.event_id));
  });
  after(async () => {
    await pool?.end();
    await database?.drop();
  });

  it('names exactly the handled ones among the ids asked about, and nothing for no ids', async () => {
    const fresh = [crypto.randomUUID(), crypto.randomUUID()];
    const done = await processedAmong(pool, GROUP, [...handled.slice(0, 3), ...fresh]);
    assert.deepEqual([...done].sort(), handled.slice(0, 3).sort());
    assert.equal((await processedAmong(pool, 'another-group', handled.slice(0, 3))).size, 0);
    assert.equal((await processedAmong(pool, GROUP, [])).size, 0);
  });

  it("probes the primary key per id on an unanalyzed table, not a scan of the group's rows", async () => {
    const stats = await pool.query<{ analyzed: boolean }>(
      `SELECT (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL) AS analyzed
         FROM pg_stat_user_tables WHERE schemaname = 'bus' AND relname = 'processed_events'`,
    );
    assert.equal(stats.rows[0]?.analyzed, false, 'the table must not have statistics for this test');
    // Runs the statement processedAmong sends under EXPLAIN, with the same parameters.
    const explained = explaining(pool, () => true);
    await processedAmong(explained.db, GROUP, [...handled, crypto.randomUUID()]);
    const plan = explained.plan();
    assert.ok(plan, 'no plan');
    const all = nodes(plan);
    const probes = all.filter((node) => node['Index Cond']?.includes('event_id'));
    assert.ok(probes.length > 0, `no index condition on event_id: ${JSON.stringify(plan)}`);
    const removed = all.reduce((sum, node) => sum + (node['Rows Removed by Filter'] ?? 0), 0);
    assert.equal(removed, 0, `rows were read and filtered: ${JSON.stringify(plan)}`);
  });
});
