import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { busMigrations, type CloudEvent, createEvent, deliverOnce } from '@switchyard/bus';
import type { TaskEventData } from '@switchyard/contracts';
import { createPool, migrate, type Pool, systemClock, uuidV7, withTransaction } from '@switchyard/kernel';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import { recordTaskAudit, TASK_AUDIT_GROUP } from '../src/consumers.ts';
import { auditService } from '../src/index.ts';

const log = silentLogger();

function taskEvent(type: string, taskId: string, title: string) {
  const data: TaskEventData = {
    task: {
      id: taskId,
      title,
      description: null,
      status: 'pending',
      created_at: '2026-11-22T10:00:00.000Z',
      updated_at: '2026-11-22T10:00:00.000Z',
    },
  };
  return createEvent(
    { type, subject: taskId, data },
    {},
    { clock: systemClock, ids: uuidV7, source: '/test' },
  );
}

describe('task audit consumer', () => {
  let database: TestDatabase;
  let pool: Pool;

  before(async () => {
    database = await createTestDatabase('audit');
    pool = createPool({ connectionString: database.url, maxConnections: 5, applicationName: 'test' });
    await migrate(pool, [busMigrations, ...auditService.migrations], log);
  });
  after(async () => {
    await pool.end();
    await database.drop();
  });

  async function deliver(event: CloudEvent) {
    return withTransaction(pool, (tx) => deliverOnce(tx, TASK_AUDIT_GROUP, event, recordTaskAudit, log));
  }

  it('writes one task_audit_log row per event, even when the event is delivered again', async () => {
    const taskId = uuidV7();
    const created = taskEvent('task.created', taskId, 'first');
    assert.equal(await deliver(created), true);
    assert.equal(await deliver(created), false);
    const rows = await pool.query(
      'SELECT id, event_type, task_id, event_data FROM audit.task_audit_log WHERE task_id = $1',
      [taskId],
    );
    assert.equal(rows.rowCount, 1);
    assert.equal(rows.rows[0].id, created.id);
    assert.equal(rows.rows[0].event_type, 'task.created');
    assert.deepEqual(rows.rows[0].event_data, created.data);
  });

  it('writes nothing for an event that is not a task event, and does not fail on it', async () => {
    const before = await pool.query('SELECT count(*)::int AS n FROM audit.task_audit_log');
    const stray = createEvent(
      { type: 'task.created', subject: 'x', data: { nothing: true } },
      {},
      { clock: systemClock, ids: uuidV7, source: '/test' },
    );
    await deliver(stray);
    await deliver(taskEvent('task.exploded', uuidV7(), 'odd'));
    const afterCount = await pool.query('SELECT count(*)::int AS n FROM audit.task_audit_log');
    assert.equal(afterCount.rows[0].n, before.rows[0].n);
  });
});
