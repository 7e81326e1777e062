import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { busMigrations } from '@switchyard/bus';
import { createPostgresBus, postgresBusMigrations } from '@switchyard/bus-postgres';
import { createMemoryCache } from '@switchyard/cache';
import { can, type ServiceDeps, type Task } from '@switchyard/contracts';
import {
  createHttpApp,
  createMetrics,
  createPool,
  type HttpApp,
  HttpProblem,
  migrate,
  type Pool,
  type ProblemDetails,
  systemClock,
  uuidV7,
} from '@switchyard/kernel';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import { tasksService } from '../src/index.ts';

const ADMIN_TOKEN = 'token-admin';
const MEMBER_TOKEN = 'token-member';
const MEMBER_ID = '01a204b0-8f10-727d-8a49-f7a461d9a4c6';

describe('tasks API: searching titles (q)', () => {
  let database: TestDatabase;
  let pool: Pool;
  let app: HttpApp;

  before(async () => {
    const log = silentLogger();
    database = await createTestDatabase('tasks_search');
    pool = createPool({ connectionString: database.url, maxConnections: 5, applicationName: 'tasks-test' });
    await migrate(pool, [busMigrations, postgresBusMigrations, ...tasksService.migrations], log);
    const metrics = createMetrics();
    const deps: ServiceDeps = {
      db: pool,
      log,
      clock: systemClock,
      ids: uuidV7,
      bus: createPostgresBus({
        pool,
        log,
        clock: systemClock,
        ids: uuidV7,
        pollIntervalMs: 200,
        batchSize: 100,
      }),
      cache: createMemoryCache(),
      metrics,
      clients: {},
    };
    app = await createHttpApp({
      logger: log,
      metrics,
      bodyLimitBytes: 1024 * 1024,
      title: 'tasks test',
      version: '0',
      access: {
        authenticate: async (credentials) => {
          if (credentials.token === ADMIN_TOKEN) return { kind: 'user', userId: uuidV7(), role: 'admin' };
          if (credentials.token === MEMBER_TOKEN) return { kind: 'user', userId: MEMBER_ID, role: 'member' };
          throw new HttpProblem(401, 'unauthenticated', 'Unauthorized', 'unknown test token');
        },
        authorize: can,
      },
    });
    tasksService.routes?.(app, deps);
    await app.ready();

    const titles: [string, string | null][] = [
      ['Write the quarterly REPORT', null],
      ['Report the bug', MEMBER_ID],
      ['Plan 100% coverage', null],
      ['Plan 1000 coverage', null],
      ['snake_case names', null],
      ['snakeXcase names', null],
    ];
    for (const [index, [title, owner]] of titles.entries()) {
      const at = new Date(Date.UTC(2026, 0, 1, 0, index));
      await pool.query(
        `INSERT INTO tasks.tasks (id, title, description, status, created_at, updated_at, owner_id)
         VALUES ($1, $2, NULL, 'pending', $3, $3, $4)`,
        [uuidV7(), title, at, owner],
      );
    }
  });

  after(async () => {
    await app?.close();
    await pool?.end();
    await database?.drop();
  });

  async function titles(query: string, token = ADMIN_TOKEN): Promise<string[]> {
    const response = await app.inject({
      method: 'GET',
      url: `/api/v1/tasks?${query}`,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(response.statusCode, 200, response.body);
    return response.json<Task[]>().map((task) => task.title);
  }

  it('given q, then only titles containing it, ignoring case, in the requested order', async () => {
    assert.deepEqual(await titles('q=report&sort=title'), ['Report the bug', 'Write the quarterly REPORT']);
  });

  it('given q with % or _, then they match themselves, not as wildcards', async () => {
    assert.deepEqual(await titles('q=100%25'), ['Plan 100% coverage']);
    assert.deepEqual(await titles('q=snake_case'), ['snake_case names']);
  });

  it('given q and a member, then the search stays within their own tasks', async () => {
    assert.deepEqual(await titles('q=report', MEMBER_TOKEN), ['Report the bug']);
  });

  it('given q and a page size, then the next page (cursor) keeps the search', async () => {
    const first = await app.inject({
      method: 'GET',
      url: '/api/v1/tasks?q=plan&limit=1&sort=title',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.deepEqual(
      first.json<Task[]>().map((task) => task.title),
      ['Plan 100% coverage'],
    );
    const cursor = first.headers['x-next-cursor'];
    assert.equal(typeof cursor, 'string');
    assert.match(String(first.headers.link), /q=plan/);
    assert.deepEqual(await titles(`q=plan&limit=1&sort=title&cursor=${encodeURIComponent(String(cursor))}`), [
      'Plan 1000 coverage',
    ]);
  });

  it('given an empty q, then 400 naming the field', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/api/v1/tasks?q=',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json<ProblemDetails>().errors?.[0]?.field, 'q');
  });
});
