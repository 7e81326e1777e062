import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { busMigrations, createEvent } from '@switchyard/bus';
import { createPool, migrate, type Pool, systemClock, uuidV7 } from '@switchyard/kernel';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import { planDeliveries } from '../src/domain.ts';
import { createNotificationsService } from '../src/index.ts';
import { insertRequests, type NewRequest } from '../src/store.ts';

/** A request as the send API builds it, with one email recipient and its `notification.requested`. */
function newRequest(requestId: string, idempotencyKey: string | null, scheduled = false): NewRequest {
  return {
    request: {
      request_id: requestId,
      idempotency_key: idempotencyKey,
      body_hash: requestId,
      status: scheduled ? 'scheduled' : 'accepted',
      priority: 'normal',
      category: 'news',
      template_code: null,
      templates: null,
      language: 'en',
      variables: { name: 'Ada' },
      content: { subject: `about ${requestId}`, text: 'hello' },
      channels: ['email', 'sms'],
      scheduled_at: scheduled ? new Date(Date.now() + 3_600_000) : null,
      created_by: null,
      created_at: new Date(),
    },
    deliveries: planDeliveries([{ email: `${requestId}@example.com` }], ['email', 'sms']).map((delivery) => ({
      ...delivery,
      id: uuidV7(),
    })),
    event: scheduled
      ? undefined
      : createEvent(
          { type: 'notification.requested', subject: requestId, data: { request_id: requestId } },
          {},
          { clock: systemClock, ids: uuidV7, source: '/test' },
        ),
  };
}

describe('insertRequests: many accepted requests in one statement', () => {
  let database: TestDatabase;
  let pool: Pool;

  before(async () => {
    database = await createTestDatabase('notifications_store');
    pool = createPool({ connectionString: database.url, maxConnections: 2, applicationName: 'store-test' });
    const service = createNotificationsService({
      schedulerIntervalMs: 60_000,
      liveRecheckIntervalMs: 60_000,
    });
    await migrate(pool, [busMigrations, ...service.migrations], silentLogger());
  });
  after(async () => {
    await pool?.end();
    await database?.drop();
  });

  async function stored(requestIds: string[]) {
    const [requests, deliveries, events] = await Promise.all([
      pool.query<{ request_id: string; idempotency_key: string | null; channels: string[] }>(
        'SELECT request_id, idempotency_key, channels FROM notifications.requests WHERE request_id = ANY($1) ORDER BY request_id',
        [requestIds],
      ),
      pool.query<{ request_id: string; channel: string; status: string }>(
        'SELECT request_id, channel, status FROM notifications.deliveries WHERE request_id = ANY($1) ORDER BY request_id, channel',
        [requestIds],
      ),
      pool.query<{ subject: string }>(
        "SELECT envelope->>'subject' AS subject FROM bus.outbox WHERE envelope->>'subject' = ANY($1) ORDER BY 1",
        [requestIds],
      ),
    ]);
    return {
      requests: requests.rows,
      deliveries: deliveries.rows,
      events: events.rows.map((row) => row.subject),
    };
  }

  it('writes each request with its deliveries and event; a scheduled one without an event', async () => {
    const written = await insertRequests(pool, [
      newRequest('batch-a', null),
      newRequest('batch-b', 'key-b'),
      newRequest('batch-c', null, true),
    ]);
    assert.deepEqual([...written].sort(), ['batch-a', 'batch-b', 'batch-c']);
    const rows = await stored(['batch-a', 'batch-b', 'batch-c']);
    assert.deepEqual(rows.requests, [
      { request_id: 'batch-a', idempotency_key: null, channels: ['email', 'sms'] },
      { request_id: 'batch-b', idempotency_key: 'key-b', channels: ['email', 'sms'] },
      { request_id: 'batch-c', idempotency_key: null, channels: ['email', 'sms'] },
    ]);
    // The recipient has only an email address: its sms delivery is recorded as skipped, not dropped.
    assert.deepEqual(
      rows.deliveries.map((row) => `${row.request_id}/${row.channel}/${row.status}`),
      [
        'batch-a/email/pending',
        'batch-a/sms/skipped',
        'batch-b/email/pending',
        'batch-b/sms/skipped',
        'batch-c/email/pending',
        'batch-c/sms/skipped',
      ],
    );
    assert.deepEqual(rows.events, ['batch-a', 'batch-b']);
  });

  it('writes nothing for a request whose idempotency key or id is taken, in the table or earlier in the batch', async () => {
    const written = await insertRequests(pool, [
      newRequest('dup-1', 'key-shared'),
      newRequest('dup-2', 'key-shared'),
      newRequest('dup-3', 'key-b'),
      newRequest('batch-a', null),
      newRequest('dup-4', null),
    ]);
    assert.deepEqual([...written].sort(), ['dup-1', 'dup-4']);
    const rows = await stored(['dup-1', 'dup-2', 'dup-3', 'dup-4']);
    assert.deepEqual(
      rows.requests.map((row) => row.request_id),
      ['dup-1', 'dup-4'],
    );
    assert.deepEqual([...new Set(rows.deliveries.map((row) => row.request_id))], ['dup-1', 'dup-4']);
    assert.deepEqual(rows.events, ['dup-1', 'dup-4']);
    // batch-a was written by the first test: still one request, two deliveries and one event.
    const first = await stored(['batch-a']);
    assert.equal(first.deliveries.length, 2);
    assert.deepEqual(first.events, ['batch-a']);
  });
});
