import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { busMigrations } from '@switchyard/bus';
import { createPostgresBus, postgresBusMigrations } from '@switchyard/bus-postgres';
import { createMemoryCache } from '@switchyard/cache';
import { can, type DeliveryStatus, type Role, type ServiceDeps } from '@switchyard/contracts';
import {
  createHttpApp,
  createMetrics,
  createPool,
  type HttpApp,
  HttpProblem,
  type Identity,
  migrate,
  type Pool,
  type ProblemDetails,
  systemClock,
  uuidV7,
} from '@switchyard/kernel';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import { planDeliveries, REQUEST_STATUSES, type RequestStatus, requestStatus } from '../src/domain.ts';
import { createNotificationsService } from '../src/index.ts';
import { applyDeliveryChanges, insertRequests, listDeliveries, type StoredRequest } from '../src/store.ts';

interface Summary {
  request_id: string;
  status: RequestStatus;
  recipients: number;
  deliveries: number;
  subject: string | null;
  created_at: string;
}

const DELIVERY_STATUSES: DeliveryStatus[] = [
  'pending',
  'sent',
  'delivered',
  'failed',
  'skipped',
  'cancelled',
];
const REQUEST_STATES: StoredRequest['status'][] = ['scheduled', 'accepted', 'cancelled'];

/**
 * The request list on a database of its own: the notifications module's routes on the kernel's HTTP app
 * with real access control, requests written with the module's own store.
 */
describe('GET /api/v1/notifications', () => {
  let database: TestDatabase;
  let pool: Pool;
  let app: HttpApp;
  const tokens = new Map<string, Identity>();
  const tokenOf = (role: Role) => {
    const token = `token-${role}`;
    tokens.set(token, { kind: 'user', userId: uuidV7(), role });
    return token;
  };
  let operator: string;
  /** Every request written, with the status the status view gives it, newest first. */
  const written: { id: string; status: RequestStatus }[] = [];
  let clock = Date.parse('2026-03-01T00:00:00Z');

  async function call(token: string | undefined, url: string) {
    const response = await app.inject({
      method: 'GET',
      url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return { status: response.statusCode, headers: response.headers, body: response.json() as unknown };
  }

  /** One request whose deliveries end up in `statuses` (one recipient per status). */
  async function writeRequest(state: StoredRequest['status'], statuses: DeliveryStatus[]): Promise<void> {
    clock += 1000;
    const id = `req-${written.length.toString().padStart(4, '0')}`;
    const recipients = statuses.map((_, index) => ({ email: `r${index}@example.com` }));
    const planned = planDeliveries(recipients, ['email']).map((delivery) => ({ ...delivery, id: uuidV7() }));
    const now = new Date(clock);
    await insertRequests(pool, [
      {
        request: {
          request_id: id,
          idempotency_key: null,
          body_hash: id,
          status: state,
          priority: 'normal',
          category: null,
          template_code: null,
          templates: null,
          language: null,
          variables: {},
          content: { subject: `Subject ${id}`, text: 'x' },
          channels: ['email'],
          scheduled_at: state === 'scheduled' ? new Date(clock + 3600_000) : null,
          created_by: null,
          created_at: now,
        },
        deliveries: planned,
        event: undefined,
      },
    ]);
    await applyDeliveryChanges(
      pool,
      planned.map((delivery, index) => ({
        id: delivery.id,
        status: statuses[index] ?? 'pending',
        reason: null,
        notBefore: null,
        queued: false,
      })),
      now,
    );
    const deliveries = await listDeliveries(pool, id);
    written.unshift({ id, status: requestStatus(state, deliveries) });
  }

  before(async () => {
    const log = silentLogger();
    database = await createTestDatabase('notifications_list');
    pool = createPool({
      connectionString: database.url,
      maxConnections: 5,
      applicationName: 'notifications-test',
    });
    const service = createNotificationsService({
      schedulerIntervalMs: 60_000,
      liveRecheckIntervalMs: 60_000,
    });
    await migrate(pool, [busMigrations, postgresBusMigrations, ...service.migrations], log);
    const cache = createMemoryCache();
    const metrics = createMetrics();
    const bus = createPostgresBus({
      pool,
      log,
      clock: systemClock,
      ids: uuidV7,
      pollIntervalMs: 200,
      batchSize: 100,
    });
    const deps: ServiceDeps = {
      db: pool,
      log,
      clock: systemClock,
      ids: uuidV7,
      bus,
      cache,
      metrics,
      clients: {},
    };
    app = await createHttpApp({
      logger: log,
      metrics,
      bodyLimitBytes: 1024 * 1024,
      title: 'notifications test',
      version: '0',
      access: {
        authenticate: async (credentials) => {
          const identity = tokens.get(credentials.token);
          if (!identity) throw new HttpProblem(401, 'unauthenticated', 'Unauthorized', 'unknown test token');
          return identity;
        },
        authorize: can,
      },
    });
    service.routes?.(app, deps);
    await app.ready();
    operator = tokenOf('operator');

    // Every request state with every non-empty set of delivery statuses: 3 × 63 requests.
    for (const state of REQUEST_STATES) {
      for (let mask = 1; mask < 1 << DELIVERY_STATUSES.length; mask += 1) {
        await writeRequest(
          state,
          DELIVERY_STATUSES.filter((_, bit) => mask & (1 << bit)),
        );
      }
    }
  });

  after(async () => {
    await app?.close();
    await pool?.end();
    await database?.drop();
  });

  it('lists newest first with the status the status view shows, for every combination of deliveries', async () => {
    const response = await call(operator, '/api/v1/notifications?limit=200');
    assert.equal(response.status, 200);
    const page = response.body as Summary[];
    assert.equal(page.length, written.length);
    assert.deepEqual(
      page.map((item) => [item.request_id, item.status]),
      written.map((item) => [item.id, item.status]),
    );
    const first = page[0];
    assert.ok(first);
    assert.equal(first.subject, `Subject ${first.request_id}`);
    assert.equal(first.recipients, first.deliveries);
    assert.equal(response.headers['x-next-cursor'], undefined, 'no next page after the last one');
  });

  it('pages with a cursor, 50 by default', async () => {
    const seen: string[] = [];
    let url: string | undefined = '/api/v1/notifications';
    let pages = 0;
    while (url) {
      const response = await call(operator, url);
      assert.equal(response.status, 200);
      const page = response.body as Summary[];
      seen.push(...page.map((item) => item.request_id));
      pages += 1;
      const cursor = response.headers['x-next-cursor'];
      if (typeof cursor === 'string') {
        assert.equal(page.length, 50);
        assert.match(String(response.headers.link), /rel="next"/);
      }
      url = typeof cursor === 'string' ? `/api/v1/notifications?cursor=${cursor}` : undefined;
    }
    assert.equal(pages, Math.ceil(written.length / 50));
    assert.deepEqual(
      seen,
      written.map((item) => item.id),
    );
  });

  it('filters by status, paging within the filter', async () => {
    for (const status of REQUEST_STATUSES) {
      const expected = written.filter((item) => item.status === status).map((item) => item.id);
      assert.ok(expected.length > 0, `the combinations produce ${status}`);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const response = await call(
          operator,
          `/api/v1/notifications?status=${status}&limit=7${cursor ? `&cursor=${cursor}` : ''}`,
        );
        assert.equal(response.status, 200);
        const page = response.body as Summary[];
        assert.ok(page.every((item) => item.status === status));
        seen.push(...page.map((item) => item.request_id));
        const next = response.headers['x-next-cursor'];
        cursor = typeof next === 'string' ? next : undefined;
        if (cursor) assert.match(String(response.headers.link), new RegExp(`status=${status}`));
      } while (cursor);
      assert.deepEqual(seen, expected, status);
    }
  });

  it('refuses bad input with 400 naming the field', async () => {
    const notACursor = Buffer.from(JSON.stringify({ at: 'yesterday', id: 'x' })).toString('base64url');
    const cases: [string, string][] = [
      ['status=lost', 'status'],
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['limit=ten', 'limit'],
      [`cursor=${notACursor}`, 'cursor'],
      ['cursor=%25%25%25', 'cursor'],
      ['colour=blue', 'colour'],
    ];
    for (const [query, field] of cases) {
      const response = await call(operator, `/api/v1/notifications?${query}`);
      assert.equal(response.status, 400, query);
      const errors = (response.body as ProblemDetails).errors ?? [];
      assert.ok(
        errors.some((error) => error.field === field),
        `${query}: ${JSON.stringify(errors)}`,
      );
    }
  });

  it('needs notifications:read: 401 without a credential, 403 for a member', async () => {
    assert.equal((await call(undefined, '/api/v1/notifications')).status, 401);
    assert.equal((await call(tokenOf('member'), '/api/v1/notifications')).status, 403);
  });

  it('answers a request status with the documented shape', async () => {
    const [newest] = written;
    assert.ok(newest);
    const response = await call(operator, `/api/v1/notifications/${newest.id}`);
    assert.equal(response.status, 200);
    const view = response.body as { status: string; deliveries: { address: string; attempts: unknown[] }[] };
    assert.equal(view.status, newest.status);
    assert.equal(view.deliveries.length, DELIVERY_STATUSES.length);
    assert.equal(view.deliveries[0]?.address, 'r0@example.com');
  });
});
