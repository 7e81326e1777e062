import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { afterCommit, createPool, type Pool, withTransaction } from '@switchyard/kernel';
import { createTestDatabase, type TestDatabase } from '@switchyard/testing';

describe('withTransaction', () => {
  let database: TestDatabase;
  let pool: Pool;

  before(async () => {
    database = await createTestDatabase('db');
    pool = createPool({ connectionString: database.url, maxConnections: 2, applicationName: 'test' });
    await pool.query('CREATE TABLE notes (text text)');
  });
  after(async () => {
    await pool.end();
    await database.drop();
  });

  it('runs commit hooks once the rows are visible to others, in order', async () => {
    const seen: string[] = [];
    await withTransaction(pool, async (tx) => {
      await tx.query("INSERT INTO notes VALUES ('committed')");
      assert.equal(
        afterCommit(tx, () => seen.push('first')),
        true,
      );
      afterCommit(tx, () => seen.push('second'));
      assert.deepEqual(seen, [], 'not before the commit');
    });
    assert.deepEqual(seen, ['first', 'second']);
    const rows = await pool.query("SELECT count(*)::int AS n FROM notes WHERE text = 'committed'");
    assert.equal(rows.rows[0].n, 1);
  });

  it('never runs them when the work fails and rolls back', async () => {
    let ran = false;
    await assert.rejects(
      withTransaction(pool, async (tx) => {
        await tx.query("INSERT INTO notes VALUES ('rolled back')");
        afterCommit(tx, () => {
          ran = true;
        });
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    assert.equal(ran, false);
    const rows = await pool.query("SELECT count(*)::int AS n FROM notes WHERE text = 'rolled back'");
    assert.equal(rows.rows[0].n, 0);
  });

  it('says so when the queryable is not a transaction it runs, so callers can fall back', async () => {
    assert.equal(
      afterCommit(pool, () => {}),
      false,
    );
  });
});
