import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { busMigrations, createEvent } from '@switchyard/bus';
import { createMemoryCache } from '@switchyard/cache';
import { createPool, migrate, type Pool, systemClock, uuidV7 } from '@switchyard/kernel';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import { planDeliveries } from '../src/domain.ts';
import { createNotificationsService } from '../src/index.ts';
import { statusCache } from '../src/status.ts';
import { insertRequests, recordAttempts } from '../src/store.ts';

describe('statusCache: the status view of a request', () => {
  let database: TestDatabase;
  let pool: Pool;

  before(async () => {
    database = await createTestDatabase('notifications_status');
    pool = createPool({ connectionString: database.url, maxConnections: 4, applicationName: 'status-test' });
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

  it('never shows a delivery failed without its failing attempt, when the report lands mid-read', async () => {
    const requestId = uuidV7();
    const deliveries = planDeliveries([{ email: 'mid-read@example.com' }], ['email']).map((delivery) => ({
      ...delivery,
      id: uuidV7(),
    }));
    const emailDelivery = deliveries[0];
    assert.ok(emailDelivery);
    await insertRequests(pool, [
      {
        request: {
          request_id: requestId,
          idempotency_key: null,
          body_hash: requestId,
          status: 'accepted',
          priority: 'normal',
          category: null,
          template_code: null,
          templates: null,
          language: 'en',
          variables: {},
          content: { subject: 'mid-read', text: 'hello' },
          channels: ['email'],
          scheduled_at: null,
          created_by: null,
          created_at: new Date(),
        },
        deliveries,
        event: createEvent(
          { type: 'notification.requested', subject: requestId, data: { request_id: requestId } },
          {},
          { clock: systemClock, ids: uuidV7, source: '/test' },
        ),
      },
    ]);
    const finalReport = () =>
      recordAttempts(
        pool,
        [
          {
            deliveryId: emailDelivery.id,
            attempt: 4,
            outcome: 'failed',
            at: new Date(),
            provider: 'smtp',
            error: 'connection refused',
            providerMessageId: null,
          },
        ],
        [
          {
            id: emailDelivery.id,
            status: 'failed',
            reason: 'connection refused',
            provider: 'smtp',
            attempts: 4,
          },
        ],
        new Date(),
      );

    // The worst moment for the report: right after the attempts were read, before the deliveries are
    // (when the two reads are under way together, the deliveries' read waits for the report).
    let attemptsAsked = false;
    let reported: Promise<void> | undefined;
    const interleaving = {
      async query(text: string, params?: unknown[]) {
        if (text.includes('FROM notifications.attempts')) {
          attemptsAsked = true;
          const rows = await pool.query(text, params);
          reported = finalReport();
          await reported;
          return rows;
        }
        if (text.includes('FROM notifications.deliveries')) {
          await Promise.resolve();
          if (attemptsAsked) await until(() => reported);
        }
        return pool.query(text, params);
      },
    } as unknown as Pool;

    const view = await statusCache({ db: interleaving, cache: createMemoryCache(), log: silentLogger() }).get(
      requestId,
    );
    assert.ok(view, 'the request is found');
    assert.ok(reported, 'the report landed during the read');
    for (const delivery of view.deliveries) {
      if (delivery.status !== 'failed') continue;
      assert.ok(
        delivery.attempts.some((attempt) => attempt.outcome === 'failed'),
        `delivery ${delivery.id} shows failed with attempts ${JSON.stringify(delivery.attempts)}`,
      );
    }
    // Read again after the report: the final status and its attempt, together.
    const settled = await statusCache({ db: pool, cache: createMemoryCache(), log: silentLogger() }).get(
      requestId,
    );
    assert.equal(settled?.status, 'failed');
    assert.deepEqual(
      settled?.deliveries[0]?.attempts.map((attempt) => attempt.outcome),
      ['failed'],
    );
  });
});

/** Resolves once `promise()` gives a promise and it has settled. */
async function until(promise: () => Promise<void> | undefined): Promise<void> {
  for (;;) {
    const pending = promise();
    if (pending) return pending;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
