import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Task } from '@switchyard/contracts';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import { type KafkaBroker, startKafka } from '@switchyard/testing/kafka';
import { closeConnections, createTestVhost, type TestVhost } from '@switchyard/testing/rabbitmq';
import pg from 'pg';
import { type RunningSwitchyard, startSwitchyard } from '../src/server.ts';
import { adminCall as call, testConfig } from './helpers.ts';

/** Creates `count` tasks, `parallel` at a time; every one must be accepted whatever the broker is doing. */
async function createTasks(base: string, label: string, count: number, parallel = 5): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += parallel) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(parallel, count - i) }, (_, j) =>
        call<Task>(base, 'POST', '/api/v1/tasks', { json: { title: `${label} ${i + j}` } }),
      ),
    );
    for (const response of batch) {
      assert.equal(response.status, 201, 'a write is accepted while the broker is away');
      ids.push(response.body.id);
    }
  }
  return ids;
}

async function assertAuditedOnce(server: RunningSwitchyard, ids: string[]) {
  await server.drain('task-audit');
  const db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  try {
    const rows = await db.query<{ task_id: string; n: number }>(
      "SELECT task_id, count(*)::int AS n FROM audit.task_audit_log WHERE event_type = 'task.created' GROUP BY task_id",
    );
    const counts = new Map(rows.rows.map((row) => [row.task_id, row.n]));
    const missing = ids.filter((id) => !counts.has(id));
    assert.deepEqual(missing, [], 'every created task is in the audit log');
    assert.ok(
      ids.every((id) => counts.get(id) === 1),
      'no task audited twice',
    );
  } finally {
    await db.end();
  }
}

describe('broker outage while tasks are written', () => {
  let database: TestDatabase | undefined;
  let server: RunningSwitchyard | undefined;
  let broker: KafkaBroker | undefined;
  let vhost: TestVhost | undefined;

  after(async () => {
    await server?.close();
    await broker?.remove();
    await vhost?.drop();
    await database?.drop();
  });

  it('Kafka stopped and started again: every event reaches the audit consumer exactly once', async () => {
    broker = await startKafka();
    database = await createTestDatabase('outage_kafka');
    server = await startSwitchyard(
      testConfig(database.url, { SWITCHYARD_BUS: 'kafka', KAFKA_BROKERS: broker.brokers }),
      silentLogger(),
    );
    const before = await createTasks(server.url, 'before', 20);
    await server.drain('task-audit');

    await broker.stop();
    const during = await createTasks(server.url, 'during', 30);
    await broker.start();
    const afterwards = await createTasks(server.url, 'after', 20);

    await assertAuditedOnce(server, [...before, ...during, ...afterwards]);
    await server.close();
    server = undefined;
    await database.drop();
    database = undefined;
  });

  it('RabbitMQ connections cut: every event reaches the audit consumer exactly once', async () => {
    vhost = await createTestVhost('outage');
    database = await createTestDatabase('outage_rabbit');
    server = await startSwitchyard(
      testConfig(database.url, { SWITCHYARD_BUS: 'rabbitmq', AMQP_URL: vhost.url }),
      silentLogger(),
    );
    const running = server;
    const vhostName = vhost.name;
    const before = await createTasks(running.url, 'before', 20);
    const [during] = await Promise.all([
      createTasks(running.url, 'during', 60, 3),
      (async () => {
        await closeConnections(vhostName);
        await closeConnections(vhostName);
      })(),
    ]);
    const afterwards = await createTasks(running.url, 'after', 20);
    await assertAuditedOnce(running, [...before, ...(during ?? []), ...afterwards]);
  });
});
