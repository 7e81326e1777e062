import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Task } from '@switchyard/contracts';
import type { ProblemDetails } from '@switchyard/kernel';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import { testKafkaBrokers } from '@switchyard/testing/kafka';
import { createTestVhost, type TestVhost } from '@switchyard/testing/rabbitmq';
import pg from 'pg';
import { type RunningSwitchyard, startSwitchyard } from '../src/server.ts';
import { adminCall as call, testConfig } from './helpers.ts';

interface AuditEntry {
  id: string;
  event_type: string;
  task_id: string;
  event_data: { task: Task; changes?: Record<string, { from: unknown; to: unknown }> };
  processed_at: string;
}

/** The same suite on each bus: the task service must not notice which one carries its events. */
for (const bus of ['postgres', 'kafka', 'rabbitmq'] as const)
  describe(`tasks API (source B) with audit history, ${bus} bus`, () => {
    let database: TestDatabase;
    let server: RunningSwitchyard;
    let base: string;
    let vhost: TestVhost | undefined;

    before(async () => {
      database = await createTestDatabase(`tasks_api_${bus}`);
      const env: Record<string, string> = { SWITCHYARD_BUS: bus };
      if (bus === 'kafka') {
        env.KAFKA_BROKERS = await testKafkaBrokers();
        env.SWITCHYARD_BUS_NAMESPACE = `${database.name}.`;
      }
      if (bus === 'rabbitmq') {
        vhost = await createTestVhost('tasks_api');
        env.AMQP_URL = vhost.url;
      }
      server = await startSwitchyard(testConfig(database.url, env), silentLogger());
      base = server.url;
    });
    after(async () => {
      await server?.close();
      await database?.drop();
      await vhost?.drop();
    });

    function expectProblem(response: { status: number; headers: Headers; body: unknown }, status: number) {
      assert.equal(response.status, status);
      assert.match(String(response.headers.get('content-type')), /^application\/problem\+json/);
      const problem = response.body as ProblemDetails;
      assert.equal(problem.status, status);
      assert.ok(problem.type.startsWith('https://'));
      return problem;
    }

    describe('happy paths', () => {
      it('creates a task with defaults, serves it on both paths and records its creation', async () => {
        const created = await call<Task>(base, 'POST', '/api/tasks', { json: { title: 'Write the README' } });
        assert.equal(created.status, 201);
        assert.equal(created.headers.get('location'), `/api/v1/tasks/${created.body.id}`);
        assert.equal(created.body.status, 'pending');
        assert.equal(created.body.description, null);
        assert.equal(created.body.created_at, created.body.updated_at);

        for (const path of ['/api/tasks', '/api/v1/tasks']) {
          const fetched = await call<Task>(base, 'GET', `${path}/${created.body.id}`);
          assert.equal(fetched.status, 200);
          assert.deepEqual(fetched.body, created.body);
        }

        await server.drain('task-audit');
        const history = await call<AuditEntry[]>(base, 'GET', `/api/tasks/${created.body.id}/audit`);
        assert.equal(history.status, 200);
        assert.equal(history.body.length, 1);
        assert.equal(history.body[0]?.event_type, 'task.created');
        assert.deepEqual(history.body[0]?.event_data.task, created.body);
      });

      it('updates only the fields given, records what changed, and keeps history after delete', async () => {
        const created = await call<Task>(base, 'POST', '/api/v1/tasks', {
          json: { title: 'Ship', description: 'first cut', status: 'in_progress' },
        });
        const updated = await call<Task>(base, 'PUT', `/api/tasks/${created.body.id}`, {
          json: { status: 'completed' },
        });
        assert.equal(updated.status, 200);
        assert.equal(updated.body.status, 'completed');
        assert.equal(updated.body.title, 'Ship');
        assert.equal(updated.body.description, 'first cut');
        assert.ok(updated.body.updated_at >= created.body.updated_at);

        const unchanged = await call<Task>(base, 'PUT', `/api/tasks/${created.body.id}`, {
          json: { status: 'completed' },
        });
        assert.deepEqual(
          unchanged.body,
          updated.body,
          'an update that changes nothing returns the task as it is',
        );

        const cleared = await call<Task>(base, 'PUT', `/api/v1/tasks/${created.body.id}`, {
          json: { description: null },
        });
        assert.equal(cleared.body.description, null);

        const deleted = await call(base, 'DELETE', `/api/tasks/${created.body.id}`);
        assert.equal(deleted.status, 204);
        expectProblem(await call(base, 'GET', `/api/tasks/${created.body.id}`), 404);

        await server.drain('task-audit');
        const history = await call<AuditEntry[]>(base, 'GET', `/api/v1/tasks/${created.body.id}/audit`);
        assert.deepEqual(
          history.body.map((entry) => entry.event_type),
          ['task.created', 'task.updated', 'task.updated', 'task.deleted'],
        );
        assert.deepEqual(history.body[1]?.event_data.changes, {
          status: { from: 'in_progress', to: 'completed' },
        });
      });

      it('emits CloudEvents envelopes on task-events with correlation and trace context', async () => {
        const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
        const created = await call<Task>(base, 'POST', '/api/tasks', {
          json: { title: 'Traced' },
          headers: { 'x-request-id': 'req-traced-1', traceparent },
        });
        const client = new pg.Client({ connectionString: server.databaseUrl });
        await client.connect();
        const rows = await client.query(
          "SELECT topic, partition_key, envelope FROM bus.outbox WHERE envelope->>'subject' = $1",
          [created.body.id],
        );
        await client.end();
        assert.equal(rows.rowCount, 1);
        const { topic, partition_key, envelope } = rows.rows[0];
        assert.equal(topic, 'task-events');
        assert.equal(partition_key, created.body.id);
        assert.equal(envelope.specversion, '1.0');
        assert.equal(envelope.type, 'task.created');
        assert.equal(envelope.source, '/switchyard/tasks');
        assert.match(envelope.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.equal(envelope.correlationid, 'req-traced-1');
        assert.equal(envelope.traceparent, traceparent);
        assert.deepEqual(envelope.data.task, created.body);
      });
    });

    describe('listing', () => {
      let titles: string[];

      before(async () => {
        titles = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf'].map((t) => `list-${t}`);
        for (const [index, title] of titles.entries()) {
          await call(base, 'POST', '/api/v1/tasks', {
            json: { title, status: index % 2 === 0 ? 'in_progress' : 'pending' },
          });
        }
      });

      async function allPages(query: string, limit: number): Promise<{ pages: Task[][] }> {
        const pages: Task[][] = [];
        let cursor: string | null = null;
        do {
          const page: { status: number; headers: Headers; body: Task[] } = await call<Task[]>(
            base,
            'GET',
            `/api/v1/tasks?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
          );
          assert.equal(page.status, 200);
          pages.push(page.body);
          cursor = page.headers.get('x-next-cursor');
          if (cursor) assert.match(String(page.headers.get('link')), /rel="next"/);
        } while (cursor);
        return { pages };
      }

      it('walks every task once with a cursor, in the requested order', async () => {
        const { pages } = await allPages('sort=title', 3);
        const listed = pages.flat().map((task) => task.title);
        const ours = listed.filter((title) => title.startsWith('list-'));
        assert.deepEqual(ours, titles);
        assert.equal(new Set(listed).size, listed.length);
        assert.ok(pages.slice(0, -1).every((page) => page.length === 3));
      });

      it('sorts descending with a - prefix and filters by status', async () => {
        const { pages } = await allPages('sort=-title&status=in_progress', 2);
        const ours = pages
          .flat()
          .map((task) => task.title)
          .filter((title) => title.startsWith('list-'));
        assert.deepEqual(ours, titles.filter((_, index) => index % 2 === 0).reverse());
        assert.ok(pages.flat().every((task) => task.status === 'in_progress'));
      });

      it('pages by creation time newest first by default', async () => {
        const { pages } = await allPages('sort=-created_at', 4);
        const times = pages.flat().map((task) => task.created_at);
        assert.deepEqual(times, [...times].sort().reverse());
      });
    });

    describe('bad input', () => {
      it('refuses unknown fields, wrong types, empty and blank titles with field errors', async () => {
        const cases: [unknown, { field: string; reason: RegExp }][] = [
          [
            { title: 'ok', owner: 'me' },
            { field: 'owner', reason: /not a known field/ },
          ],
          [{ title: 42 }, { field: 'title', reason: /must be string/ }],
          [
            { title: 'ok', status: 'done' },
            { field: 'status', reason: /one of: pending, in_progress, completed/ },
          ],
          [
            { title: 'ok', description: 7 },
            { field: 'description', reason: /must be/ },
          ],
          [{ title: '' }, { field: 'title', reason: /fewer than 1 characters/ }],
          [{ title: '   ' }, { field: 'title', reason: /must not be blank/ }],
          [{}, { field: 'title', reason: /is required/ }],
          [{ title: 'x'.repeat(256) }, { field: 'title', reason: /more than 255 characters/ }],
          [
            { title: 'ok', description: 'x'.repeat(10_001) },
            { field: 'description', reason: /more than 10000 characters/ },
          ],
          [[{ title: 'array' }], { field: '(root)', reason: /must be object/ }],
        ];
        for (const [json, expected] of cases) {
          const problem = expectProblem(await call(base, 'POST', '/api/tasks', { json }), 400);
          const error = problem.errors?.find((e) => e.field === expected.field);
          assert.ok(
            error,
            `${JSON.stringify(json).slice(0, 60)} → expected an error on ${expected.field}: ${JSON.stringify(problem)}`,
          );
          assert.match(error.reason, expected.reason);
          assert.equal(error.in, 'body');
        }
      });

      it('accepts a description of exactly 10,000 characters and a title of 255', async () => {
        const created = await call<Task>(base, 'POST', '/api/tasks', {
          json: { title: 't'.repeat(255), description: 'd'.repeat(10_000) },
        });
        assert.equal(created.status, 201);
      });

      it('answers 413 for a body over the limit, 415 for a non-JSON body, 400 for malformed JSON', async () => {
        const huge = expectProblem(
          await call(base, 'POST', '/api/tasks', {
            json: { title: 'big', description: 'x'.repeat(2 * 1024 * 1024) },
          }),
          413,
        );
        assert.match(String(huge.detail), /exceeds/);
        expectProblem(
          await call(base, 'POST', '/api/tasks', {
            raw: 'title=hello',
            headers: { 'content-type': 'text/plain' },
          }),
          415,
        );
        expectProblem(
          await call(base, 'POST', '/api/tasks', {
            raw: 'title=hello',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          }),
          415,
        );
        const malformed = expectProblem(
          await call(base, 'POST', '/api/tasks', {
            raw: '{"title": "unterminated',
            headers: { 'content-type': 'application/json' },
          }),
          400,
        );
        assert.equal(malformed.type, 'https://switchyard.dev/problems/malformed-json');
        expectProblem(await call(base, 'POST', '/api/tasks'), 400);
      });

      it('answers 404 for a missing id and 400 for an id that is not a UUID', async () => {
        const missing = '01890a5d-ac96-774b-bcce-b302099a8057';
        for (const method of ['GET', 'PUT', 'DELETE']) {
          const response = await call(
            base,
            method,
            `/api/tasks/${missing}`,
            method === 'PUT' ? { json: { title: 'x' } } : {},
          );
          const problem = expectProblem(response, 404);
          assert.match(String(problem.detail), new RegExp(missing));
        }
        const notUuid = expectProblem(await call(base, 'GET', '/api/tasks/42'), 400);
        assert.deepEqual(notUuid.errors?.[0], {
          field: 'id',
          in: 'path',
          reason: 'must match format "uuid"',
        });
      });

      it('refuses an update with no fields or bad fields, leaving the task as it was', async () => {
        const created = await call<Task>(base, 'POST', '/api/tasks', { json: { title: 'Keep me' } });
        expectProblem(await call(base, 'PUT', `/api/tasks/${created.body.id}`, { json: {} }), 400);
        expectProblem(await call(base, 'PUT', `/api/tasks/${created.body.id}`, { json: { title: '' } }), 400);
        expectProblem(
          await call(base, 'PUT', `/api/tasks/${created.body.id}`, { json: { id: 'new-id' } }),
          400,
        );
        const after = await call<Task>(base, 'GET', `/api/tasks/${created.body.id}`);
        assert.deepEqual(after.body, created.body);
      });

      it('refuses bad list parameters with the parameter named', async () => {
        const cases: [string, string][] = [
          ['status=done', 'status'],
          ['sort=owner', 'sort'],
          ['limit=0', 'limit'],
          ['limit=201', 'limit'],
          ['limit=ten', 'limit'],
          ['cursor=not-a-cursor', 'cursor'],
          ['colour=red', 'colour'],
        ];
        for (const [query, field] of cases) {
          const problem = expectProblem(await call(base, 'GET', `/api/tasks?${query}`), 400);
          assert.equal(problem.errors?.[0]?.field, field, query);
          assert.equal(problem.errors?.[0]?.in, 'query');
        }
        const page = await call<Task[]>(base, 'GET', '/api/tasks?sort=title&limit=1');
        const cursor = String(page.headers.get('x-next-cursor'));
        const mismatch = expectProblem(
          await call(base, 'GET', `/api/tasks?sort=-title&cursor=${cursor}`),
          400,
        );
        assert.match(String(mismatch.errors?.[0]?.reason), /made for sort title/);
      });

      it('keeps serving after all of that', async () => {
        const health = await call<{ status: string }>(base, 'GET', '/health');
        assert.equal(health.status, 200);
        const ready = await call<{ status: string }>(base, 'GET', '/ready');
        assert.deepEqual(ready.body, {
          status: 'ready',
          checks: { database: 'ok', migrations: 'ok', cache: 'ok' },
        });
      });
    });
  });
