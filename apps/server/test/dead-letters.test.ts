import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DeadLetter } from '@switchyard/bus';
import type { ProblemDetails } from '@switchyard/kernel';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import pg from 'pg';
import { type RunningSwitchyard, startSwitchyard } from '../src/server.ts';
import { adminCall as call, testConfig } from './helpers.ts';
import { runCli } from './process.ts';

describe('dead letters: API and CLI', () => {
  let database: TestDatabase;
  let server: RunningSwitchyard;
  let base: string;
  let db: pg.Client;

  /** Writes a task event by hand, as a buggy producer would, straight into the outbox. */
  async function writeRaw(envelope: unknown) {
    await db.query(
      `INSERT INTO bus.outbox (topic, event_id, partition_key, envelope) VALUES ('task-events', gen_random_uuid(), 'k', $1)`,
      [JSON.stringify(envelope)],
    );
  }

  before(async () => {
    database = await createTestDatabase('dead_letters');
    server = await startSwitchyard(testConfig(database.url), silentLogger());
    base = server.url;
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    // One event whose data breaks the catalog (reason schema), one that is no event at all (malformed).
    await writeRaw({
      specversion: '1.0',
      id: '01a204b0-0000-7000-8000-000000000001',
      type: 'task.created',
      source: '/elsewhere',
      subject: 'x',
      time: new Date().toISOString(),
      partitionkey: 'x',
      data: { task: { id: 'not-even-a-uuid' } },
    });
    await writeRaw({ hello: 'world' });
    await server.drain('task-audit');
  });
  after(async () => {
    await db?.end();
    await server?.close();
    await database?.drop();
  });

  it('lists what the audit consumer gave up on, filtered, with the reasons', async () => {
    const all = await call<DeadLetter[]>(
      base,
      'GET',
      '/api/v1/dead-letters?group=task-audit&topic=task-events',
    );
    assert.equal(all.status, 200);
    assert.deepEqual(all.body.map((letter) => letter.reason).sort(), ['malformed', 'schema']);
    const schema = all.body.find((letter) => letter.reason === 'schema');
    assert.equal(schema?.event_type, 'task.created');
    assert.equal(schema?.attempts, 0);
    assert.match(String(schema?.error), /data of task\.created/);
    const byType = await call<DeadLetter[]>(base, 'GET', '/api/v1/dead-letters?type=task.created');
    assert.equal(byType.body.length, 1);
    const none = await call<DeadLetter[]>(base, 'GET', '/api/v1/dead-letters?group=nobody');
    assert.deepEqual(none.body, []);
    const one = await call<DeadLetter>(base, 'GET', `/api/v1/dead-letters/${schema?.id}`);
    assert.equal(one.body.id, schema?.id);
  });

  it('refuses bad ids and filters with problem+json', async () => {
    const notUuid = await call<ProblemDetails>(base, 'GET', '/api/v1/dead-letters/42');
    assert.equal(notUuid.status, 400);
    assert.equal(notUuid.body.errors?.[0]?.field, 'id');
    const missing = '01a204b0-0000-7000-8000-00000000ffff';
    assert.equal((await call(base, 'GET', `/api/v1/dead-letters/${missing}`)).status, 404);
    assert.equal((await call(base, 'POST', `/api/v1/dead-letters/${missing}/replay`)).status, 404);
    assert.equal((await call(base, 'DELETE', `/api/v1/dead-letters/${missing}`)).status, 404);
    const badDate = await call<ProblemDetails>(base, 'GET', '/api/v1/dead-letters?from=yesterday');
    assert.equal(badDate.status, 400);
    assert.equal(badDate.body.errors?.[0]?.field, 'from');
    const emptyFilter = await call<ProblemDetails>(base, 'POST', '/api/v1/dead-letters/replay', { json: {} });
    assert.equal(emptyFilter.status, 400, 'replaying everything needs at least one filter field');
  });

  it('answers 409 when asked to replay a message that was never an event', async () => {
    const list = await call<DeadLetter[]>(base, 'GET', '/api/v1/dead-letters?group=task-audit');
    const malformed = list.body.find((letter) => letter.reason === 'malformed');
    const response = await call<ProblemDetails>(base, 'POST', `/api/v1/dead-letters/${malformed?.id}/replay`);
    assert.equal(response.status, 409);
    assert.match(String(response.body.detail), /nothing to replay/);
  });

  it('replays by id with the original event id, and the consumer sees it again', async () => {
    const list = await call<DeadLetter[]>(base, 'GET', '/api/v1/dead-letters?type=task.created');
    const letter = list.body[0];
    assert.ok(letter);
    const replayed = await call<{ status: string }>(base, 'POST', `/api/v1/dead-letters/${letter.id}/replay`);
    assert.deepEqual(replayed.body, { id: letter.id, status: 'replayed' });
    await server.drain('task-audit');
    // Still broken, so the consumer dead-letters it again — as a new letter for the same event id.
    const again = await call<DeadLetter[]>(
      base,
      'GET',
      '/api/v1/dead-letters?type=task.created&include_replayed=true',
    );
    assert.equal(again.body.length, 2);
    assert.ok(again.body.every((each) => each.event_id === letter.event_id));
    assert.equal(again.body.filter((each) => each.replayed_at !== null).length, 1);
  });

  it('works from the CLI too: list, replay by filter, discard', async () => {
    const env = { DATABASE_URL: database.url, LOG_LEVEL: 'silent' };
    const listed = await runCli(['dead-letters', 'list', '--group', 'task-audit', '--json'], env);
    assert.equal(listed.code, 0, listed.stderr);
    const letters = JSON.parse(listed.stdout) as DeadLetter[];
    assert.deepEqual(letters.map((letter) => letter.reason).sort(), ['malformed', 'schema']);

    const replayed = await runCli(['dead-letters', 'replay', '--type', 'task.created'], env);
    assert.equal(replayed.code, 0, replayed.stderr);
    assert.equal(replayed.stdout.trim(), 'replayed 1');

    const malformed = letters.find((letter) => letter.reason === 'malformed');
    const discarded = await runCli(['dead-letters', 'discard', String(malformed?.id)], env);
    assert.equal(discarded.stdout.trim(), `discarded ${malformed?.id}`);
    const gone = await call(base, 'GET', `/api/v1/dead-letters/${malformed?.id}`);
    assert.equal(gone.status, 404);

    const usage = await runCli(['dead-letters', 'replay'], env);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /needs an id, or at least one of --topic, --group, --type/);
    const badId = await runCli(['dead-letters', 'discard', 'nope'], env);
    assert.equal(badId.code, 2);
  });

  it('discards through the API', async () => {
    const list = await call<DeadLetter[]>(base, 'GET', '/api/v1/dead-letters?include_replayed=true');
    const target = list.body[0];
    assert.ok(target);
    assert.equal((await call(base, 'DELETE', `/api/v1/dead-letters/${target.id}`)).status, 204);
    assert.equal((await call(base, 'GET', `/api/v1/dead-letters/${target.id}`)).status, 404);
  });
});
