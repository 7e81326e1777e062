import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProblemDetails } from '@switchyard/kernel';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import pg from 'pg';
import { type RunningSwitchyard, startSwitchyard } from '../src/server.ts';
import { type ActivityEvent, adminCall as call, testConfig } from './helpers.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('activity events (source D)', () => {
  let database: TestDatabase;
  let server: RunningSwitchyard;
  let base: string;

  before(async () => {
    database = await createTestDatabase('activity');
    server = await startSwitchyard(
      testConfig(database.url, { SWITCHYARD_ACTIVITY_EVENT_TYPES: 'LOGIN,LOGOUT,PRODUCT_VIEW,CHECKOUT' }),
      silentLogger(),
    );
    base = server.url;
  });
  after(async () => {
    await server?.close();
    await database?.drop();
  });

  describe("the source document's examples, verbatim", () => {
    const accepted: ActivityEvent[] = [];

    it('accepts a LOGIN with a payload: 201 {success: true, event} with eventId and timestamp set', async () => {
      const response = await call<{ success: boolean; event: ActivityEvent }>(
        base,
        'POST',
        '/events/generate',
        {
          raw: '{"userId": "user-123", "eventType": "LOGIN", "payload": {"ip": "192.168.1.10", "device": "desktop"}}',
          headers: { 'content-type': 'application/json' },
        },
      );
      assert.equal(response.status, 201);
      assert.equal(response.body.success, true);
      const { event } = response.body;
      assert.match(event.eventId, UUID);
      assert.equal(new Date(event.timestamp).toISOString(), event.timestamp);
      assert.deepEqual(
        { userId: event.userId, eventType: event.eventType, payload: event.payload },
        { userId: 'user-123', eventType: 'LOGIN', payload: { ip: '192.168.1.10', device: 'desktop' } },
      );
      accepted.push(event);
    });

    it('accepts a PRODUCT_VIEW and a LOGOUT without payload', async () => {
      for (const body of [
        { userId: 'user-123', eventType: 'PRODUCT_VIEW', payload: { productId: 'sku-42' } },
        { userId: 'user-123', eventType: 'LOGOUT' },
      ]) {
        const response = await call<{ success: boolean; event: ActivityEvent }>(
          base,
          'POST',
          '/events/generate',
          { json: body },
        );
        assert.equal(response.status, 201);
        accepted.push(response.body.event);
      }
      assert.equal('payload' in (accepted[2] ?? {}), false);
    });

    it('refuses bad events with 400 {success: false, errors: [one message per problem]}', async () => {
      const cases: [unknown, string[]][] = [
        [{ eventType: 'LOGIN' }, ['userId is required']],
        [
          { userId: 'user-123', eventType: 'PURCHASE' },
          ['eventType must be one of LOGIN, LOGOUT, PRODUCT_VIEW, CHECKOUT'],
        ],
        [{ userId: 'user-123' }, ['eventType is required']],
        [
          { userId: '', eventType: 'LOGIN', payload: 'x' },
          ['userId must be a non-empty string', 'payload must be a JSON object'],
        ],
        [
          { userId: 42, eventType: 'LOGIN', payload: [1] },
          ['userId must be a non-empty string', 'payload must be a JSON object'],
        ],
        [{ userId: 'u'.repeat(257), eventType: 'LOGIN' }, ['userId must be at most 256 characters']],
        [
          { userId: 'u', eventType: 'LOGIN', payload: { blob: 'x'.repeat(70_000) } },
          ['payload must be at most 65536 bytes as JSON'],
        ],
        [{ userId: 'u', eventType: 'LOGIN', extra: true }, ['extra is not a known field']],
        [['not', 'an', 'object'], ['Request body must be a JSON object']],
      ];
      for (const [json, errors] of cases) {
        const response = await call(base, 'POST', '/events/generate', { json });
        assert.equal(response.status, 400, JSON.stringify(json).slice(0, 80));
        assert.deepEqual(response.body, { success: false, errors });
      }
    });

    it('answers non-JSON and malformed bodies in the same shape', async () => {
      const text = await call(base, 'POST', '/events/generate', {
        raw: 'userId=1',
        headers: { 'content-type': 'text/plain' },
      });
      assert.equal(text.status, 415);
      assert.deepEqual(text.body, { success: false, errors: ['Content-Type must be application/json'] });
      const broken = await call(base, 'POST', '/events/generate', {
        raw: '{"userId":',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(broken.status, 400);
      assert.deepEqual(broken.body, { success: false, errors: ['Request body must be valid JSON'] });
    });

    it('lists processed events as a JSON array in processing order', async () => {
      await server.drain('user-activity-consumer-group');
      const processed = await call<ActivityEvent[]>(base, 'GET', '/events/processed');
      assert.equal(processed.status, 200);
      assert.ok(Array.isArray(processed.body));
      assert.deepEqual(
        processed.body.map(({ processedAt, ...event }) => {
          assert.match(String(processedAt), /Z$/);
          return event;
        }),
        accepted,
      );
      assert.equal(processed.headers.get('link'), null, 'no next page');
    });
  });

  describe('beyond the source', () => {
    it('accepts configured event types and stores each eventId once', async () => {
      const response = await call<{ event: ActivityEvent }>(base, 'POST', '/api/v1/activity/events', {
        json: { userId: 'buyer', eventType: 'CHECKOUT' },
      });
      assert.equal(response.status, 201);
      await server.drain('user-activity-consumer-group');
      const db = new pg.Client({ connectionString: server.databaseUrl });
      await db.connect();
      const rows = await db.query('SELECT count(*)::int AS n FROM activity.events WHERE event_id = $1', [
        response.body.event.eventId,
      ]);
      const outbox = await db.query(
        "SELECT headers FROM bus.outbox WHERE event_id = $1 AND topic = 'user-activity-events'",
        [response.body.event.eventId],
      );
      await db.end();
      assert.equal(rows.rows[0].n, 1);
      assert.deepEqual(outbox.rows[0].headers, {
        'event-id': response.body.event.eventId,
        'event-type': 'CHECKOUT',
      });
    });

    it('answers problem+json on the /api/v1 path', async () => {
      const response = await call<ProblemDetails>(base, 'POST', '/api/v1/activity/events', {
        json: { userId: 'u' },
      });
      assert.equal(response.status, 400);
      assert.deepEqual(response.body.errors, [{ field: 'eventType', in: 'body', reason: 'is required' }]);
    });

    it('ingests a batch with a result per event, storing the valid ones', async () => {
      const response = await call<{
        accepted: number;
        rejected: number;
        results: { index: number; success: boolean; errors?: string[] }[];
      }>(base, 'POST', '/api/v1/activity/events:batch', {
        json: {
          events: [
            { userId: 'batcher', eventType: 'LOGIN' },
            { userId: 'batcher', eventType: 'NOPE' },
            { userId: 'batcher', eventType: 'PRODUCT_VIEW', payload: { productId: 'a' } },
          ],
        },
      });
      assert.equal(response.status, 200);
      assert.equal(response.body.accepted, 2);
      assert.equal(response.body.rejected, 1);
      assert.deepEqual(response.body.results[1], {
        index: 1,
        success: false,
        errors: ['eventType must be one of LOGIN, LOGOUT, PRODUCT_VIEW, CHECKOUT'],
      });
      const tooMany = await call<ProblemDetails>(base, 'POST', '/api/v1/activity/events:batch', {
        json: { events: Array.from({ length: 1001 }, () => ({ userId: 'x', eventType: 'LOGIN' })) },
      });
      assert.equal(tooMany.status, 400);
      assert.equal(tooMany.body.errors?.[0]?.field, 'events');
    });

    it('filters, pages with a Link header, and keeps the plain call unchanged', async () => {
      await server.drain('user-activity-consumer-group');
      const batcher = await call<ActivityEvent[]>(base, 'GET', '/events/processed?userId=batcher');
      assert.deepEqual(
        batcher.body.map((event) => event.eventType),
        ['LOGIN', 'PRODUCT_VIEW'],
      );
      const logins = await call<ActivityEvent[]>(base, 'GET', '/events/processed?eventType=LOGIN');
      assert.ok(logins.body.every((event) => event.eventType === 'LOGIN'));
      const first = await call<ActivityEvent[]>(base, 'GET', '/events/processed?limit=2');
      assert.equal(first.body.length, 2);
      const link = String(first.headers.get('link'));
      const next = /<([^>]+)>; rel="next"/.exec(link)?.[1];
      assert.ok(next, link);
      const second = await call<ActivityEvent[]>(base, 'GET', next);
      assert.notEqual(second.body[0]?.eventId, first.body[1]?.eventId);
      const all = await call<ActivityEvent[]>(base, 'GET', '/events/processed');
      assert.deepEqual(
        [...first.body, ...second.body].map((event) => event.eventId),
        all.body.slice(0, 4).map((event) => event.eventId),
      );
      for (const query of ['limit=0', 'limit=10001', 'from=yesterday', 'cursor=@@', 'colour=red']) {
        assert.equal((await call(base, 'GET', `/events/processed?${query}`)).status, 400, query);
      }
    });

    it("serves a user's timeline newest first and counts per type per interval", async () => {
      const timeline = await call<ActivityEvent[]>(base, 'GET', '/api/v1/activity/users/user-123/events');
      assert.deepEqual(
        timeline.body.map((event) => event.eventType),
        ['LOGOUT', 'PRODUCT_VIEW', 'LOGIN'],
      );
      const stats = await call<{ buckets: { start: string; counts: Record<string, number> }[] }>(
        base,
        'GET',
        '/api/v1/activity/stats?interval=day',
      );
      assert.equal(stats.status, 200);
      const totals: Record<string, number> = {};
      for (const bucket of stats.body.buckets) {
        for (const [type, count] of Object.entries(bucket.counts)) totals[type] = (totals[type] ?? 0) + count;
      }
      assert.equal(totals.LOGIN, 2);
      assert.equal(totals.PRODUCT_VIEW, 2);
      const reversed = await call(
        base,
        'GET',
        '/api/v1/activity/stats?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z',
      );
      assert.equal(reversed.status, 400);
      const tooFine = await call(
        base,
        'GET',
        '/api/v1/activity/stats?from=2000-01-01T00:00:00Z&interval=minute',
      );
      assert.equal(tooFine.status, 400);
    });

    it('answers 500 {success: false, error} when the event cannot be stored, and acknowledges nothing', async () => {
      const db = new pg.Client({ connectionString: server.databaseUrl });
      await db.connect();
      await db.query('ALTER TABLE bus.outbox RENAME TO outbox_away');
      try {
        const response = await call(base, 'POST', '/events/generate', {
          json: { userId: 'unlucky', eventType: 'LOGIN' },
        });
        assert.equal(response.status, 500);
        assert.deepEqual(response.body, {
          success: false,
          error: 'The event could not be stored; nothing was recorded',
        });
      } finally {
        await db.query('ALTER TABLE bus.outbox_away RENAME TO outbox');
        await db.end();
      }
      const after = await call<ActivityEvent[]>(base, 'GET', '/events/processed?userId=unlucky');
      assert.deepEqual(after.body, []);
    });
  });
});
