import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { busMigrations, type CloudEvent, createConsumerRunner, createEvent } from '@switchyard/bus';
import type { TaskEventData } from '@switchyard/contracts';
import { createPool, migrate, type Pool, systemClock, uuidV7 } from '@switchyard/kernel';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import { taskAuditSubscription } from '../src/consumers.ts';
import { auditService } from '../src/index.ts';

const log = silentLogger();

function event(type: string, subject: string, data: unknown): CloudEvent {
  return createEvent({ type, subject, data }, {}, { clock: systemClock, ids: uuidV7, source: '/test' });
}

function taskEvent(type: string, taskId: string): CloudEvent {
  const data: TaskEventData = {
    task: {
      id: taskId,
      title: 'audited',
      description: null,
      status: 'pending',
      created_at: '2026-11-22T10:00:00.000Z',
      updated_at: '2026-11-22T10:00:00.000Z',
    },
  };
  return event(type, taskId, data);
}

describe('task audit consumer', () => {
  let database: TestDatabase;
  let pool: Pool;
  let runner: ReturnType<typeof createConsumerRunner>;

  before(async () => {
    database = await createTestDatabase('audit');
    pool = createPool({ connectionString: database.url, maxConnections: 5, applicationName: 'test' });
    await migrate(pool, [busMigrations, ...auditService.migrations], log);
    const { group, topics, handler, options } = taskAuditSubscription;
    runner = createConsumerRunner(
      { group, topics, handler, options },
      { pool, log, clock: systemClock, ids: uuidV7 },
    );
  });
  after(async () => {
    await pool.end();
    await database.drop();
  });

  const deliver = (delivered: CloudEvent) => runner.handle({ topic: 'task-events', value: delivered });
  const rowsFor = async (taskId: string) =>
    (
      await pool.query('SELECT id, event_type, event_data FROM audit.task_audit_log WHERE task_id = $1', [
        taskId,
      ])
    ).rows;

  it('is group task-audit on task-events', () => {
    assert.equal(taskAuditSubscription.group, 'task-audit');
    assert.deepEqual(taskAuditSubscription.topics, ['task-events']);
  });

  it('writes one task_audit_log row per event, even when the event is delivered again', async () => {
    const taskId = uuidV7();
    const created = taskEvent('task.created', taskId);
    assert.equal(await deliver(created), 'handled');
    assert.equal(await deliver(created), 'duplicate');
    const rows = await rowsFor(taskId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].id, created.id);
    assert.equal(rows[0].event_type, 'task.created');
    assert.deepEqual(rows[0].event_data, created.data);
  });

  it('dead-letters a task event whose data does not match the catalog, writing nothing', async () => {
    const taskId = uuidV7();
    const broken = event('task.created', taskId, { task: { id: taskId } });
    assert.equal(await deliver(broken), 'dead_lettered');
    assert.deepEqual(await rowsFor(taskId), []);
    const letters = await pool.query(
      'SELECT reason, error, consumer_group FROM bus.dead_letters WHERE event_id = $1',
      [broken.id],
    );
    assert.equal(letters.rows[0]?.reason, 'schema');
    assert.equal(letters.rows[0]?.consumer_group, 'task-audit');
    assert.match(letters.rows[0]?.error, /data of task\.created: \/task must have required property 'title'/);
  });

  it('passes over event types it does not audit', async () => {
    const taskId = uuidV7();
    assert.equal(await deliver(taskEvent('task.exploded', taskId)), 'passed_over');
    assert.deepEqual(await rowsFor(taskId), []);
  });
});
