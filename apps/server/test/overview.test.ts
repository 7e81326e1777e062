import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import {
  createDeltaCounter,
  createThroughputRing,
  type Overview,
  runtimeMode,
  serviceStatus,
  THROUGHPUT_MINUTES,
} from '../src/overview.ts';
import { type RunningSwitchyard, startSwitchyard } from '../src/server.ts';
import { adminCall, bearer, call, testConfig, until, userWithRole } from './helpers.ts';

describe('overview: pure parts', () => {
  it('keeps 60 per-minute buckets, oldest first, and forgets what falls out of the hour', () => {
    const ring = createThroughputRing();
    const at = Date.UTC(2026, 0, 1, 12, 30, 15);
    ring.add('published', 3, at);
    ring.add('handled', 2, at + 10_000);
    ring.add('published', 5, at - 59 * 60_000);
    ring.add('published', 7, at - 60 * 60_000);
    const series = ring.series(at + 20_000);
    assert.equal(series.length, THROUGHPUT_MINUTES);
    assert.deepEqual(series.at(-1), { startMs: Date.UTC(2026, 0, 1, 12, 30), published: 3, handled: 2 });
    assert.equal(series[0]?.published, 5, 'the minute 59 minutes ago is the oldest kept');
    assert.equal(
      series.reduce((sum, minute) => sum + minute.published, 0),
      8,
      'the minute an hour ago is gone',
    );
  });

  it('turns a growing total into increments from a baseline, restarting after a reset', () => {
    const delta = createDeltaCounter();
    assert.equal(delta(100n), 0);
    assert.equal(delta(104n), 4);
    assert.equal(delta(104n), 0);
    assert.equal(delta(2n), 0);
    assert.equal(delta(5n), 3);
  });

  it('marks a service degraded by a deep backlog or waiting dead letters, never by an unknown lag', () => {
    assert.equal(serviceStatus([]), 'ok');
    assert.equal(serviceStatus([{ waiting: null, dead_letters: 0 }]), 'ok');
    assert.equal(serviceStatus([{ waiting: 999, dead_letters: 0 }]), 'ok');
    assert.equal(serviceStatus([{ waiting: 1_000, dead_letters: 0 }]), 'degraded');
    assert.equal(serviceStatus([{ waiting: 0, dead_letters: 1 }]), 'degraded');
    assert.equal(runtimeMode({ busKind: 'postgres', redis: false, allServices: true }), 'embedded');
    assert.equal(runtimeMode({ busKind: 'postgres', redis: true, allServices: true }), 'scale-out');
    assert.equal(runtimeMode({ busKind: 'kafka', redis: false, allServices: true }), 'scale-out');
  });
});

describe('GET /api/v1/system/overview (postgres bus)', () => {
  let database: TestDatabase;
  let server: RunningSwitchyard;
  let base: string;

  before(async () => {
    database = await createTestDatabase('system_overview');
    server = await startSwitchyard(testConfig(database.url), silentLogger());
    base = server.url;
  });
  after(async () => {
    await server?.close();
    await database?.drop();
  });

  const overview = async () => {
    const response = await adminCall<Overview>(base, 'GET', '/api/v1/system/overview');
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body;
  };

  it('refuses anonymous callers (401) and members (403)', async () => {
    const anonymous = await call(base, 'GET', '/api/v1/system/overview');
    assert.equal(anonymous.status, 401);
    const member = await userWithRole(base, 'member');
    const refused = await call(base, 'GET', '/api/v1/system/overview', {
      headers: bearer(member.access_token),
    });
    assert.equal(refused.status, 403);
  });

  it('reports the process, every dependency healthy and every running service', async () => {
    const body = await overview();
    assert.equal(body.bus, 'postgres');
    assert.equal(body.mode, 'embedded');
    assert.match(body.version, /\d+\.\d+/);
    assert.ok(body.uptime_seconds >= 0);
    assert.deepEqual(
      body.dependencies.map((dependency) => [dependency.name, dependency.status]),
      [
        ['database', 'ok'],
        ['migrations', 'ok'],
        ['cache', 'ok'],
        ['bus', 'ok'],
      ],
    );
    assert.equal(body.dependencies.find((dependency) => dependency.name === 'cache')?.detail, 'memory');
    const names = body.services.map((service) => service.name);
    for (const name of ['gateway', 'tasks', 'audit', 'activity', 'notifications', 'delivery']) {
      assert.ok(names.includes(name), `${name} is listed`);
    }
    const audit = body.services.find((service) => service.name === 'audit');
    assert.ok(audit && audit.groups.length > 0, 'audit subscribes consumer groups');
    for (const group of audit.groups) {
      const lag = body.consumer_groups.find((candidate) => candidate.group === group);
      assert.equal(lag?.service, 'audit');
      assert.equal(typeof lag?.waiting, 'number');
    }
    assert.equal(body.throughput.minutes.length, 60);
  });

  it('counts published and handled events of created tasks, and the lag settles to 0', async () => {
    const before = await overview();
    const tasks = 5;
    for (let index = 0; index < tasks; index += 1) {
      const created = await adminCall(base, 'POST', '/api/v1/tasks', { json: { title: `Task ${index}` } });
      assert.equal(created.status, 201);
    }
    const after = await until(
      overview,
      (body) =>
        body.throughput.published_last_hour >= before.throughput.published_last_hour + tasks &&
        body.throughput.handled_last_hour >= before.throughput.handled_last_hour + tasks &&
        body.consumer_groups.every((group) => group.waiting === 0),
      'the tasks counted and every consumer group caught up',
    );
    const lastMinutes = after.throughput.minutes.slice(-2);
    assert.ok(
      lastMinutes.reduce((sum, minute) => sum + minute.published, 0) >= tasks,
      'the events are in the latest minutes',
    );
    assert.ok(after.services.every((service) => service.status === 'ok'));
  });
});
