import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@switchyard/testing';
import manifest from '../package.json' with { type: 'json' };
import { call } from './helpers.ts';
import { runCli, startServerProcess } from './process.ts';

describe('switchyard CLI', () => {
  it('prints its version and help', async () => {
    const version = await runCli(['--version']);
    assert.equal(version.code, 0);
    assert.equal(version.stdout.trim(), manifest.version);
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: switchyard <command>/);
    assert.match(help.stdout, /--services/);
  });

  it('exits 2 with usage for no command or an unknown one', async () => {
    const none = await runCli([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /Usage:/);
    const unknown = await runCli(['launch']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "launch"/);
    const badFlag = await runCli(['start', '--colour']);
    assert.equal(badFlag.code, 2);
  });

  it('exits 2 with one line naming the variable for each bad configuration value', async () => {
    const cases: [Record<string, string>, string[], RegExp][] = [
      [{ PORT: 'eighty' }, [], /^switchyard: PORT: expected a whole number from 0 to 65535, got "eighty"$/],
      [{ PORT: '70000' }, [], /^switchyard: PORT: /],
      [
        { SWITCHYARD_BUS: 'carrier-pigeon' },
        [],
        /^switchyard: SWITCHYARD_BUS: expected one of postgres, kafka, rabbitmq/,
      ],
      [{ SWITCHYARD_BUS: 'kafka' }, [], /^switchyard: KAFKA_BROKERS: expected a comma list of host:port/],
      [{ SWITCHYARD_BUS: 'kafka', KAFKA_BROKERS: 'localhost' }, [], /^switchyard: KAFKA_BROKERS: /],
      [{ SWITCHYARD_BUS: 'rabbitmq' }, [], /^switchyard: AMQP_URL: expected an amqp:\/\/ or amqps:\/\/ URL/],
      [{ SWITCHYARD_BUS: 'rabbitmq', AMQP_URL: 'http://x' }, [], /^switchyard: AMQP_URL: /],
      [{ DATABASE_URL: 'mysql://localhost/x' }, [], /^switchyard: DATABASE_URL: expected a postgres:\/\//],
      [{ DATABASE_URL: 'not a url' }, [], /^switchyard: DATABASE_URL: /],
      [
        { SWITCHYARD_SERVICES: 'tasks,billing' },
        [],
        /^switchyard: SWITCHYARD_SERVICES: expected a comma list of gateway, users, auth, tasks/,
      ],
      [{}, ['--services', 'nope'], /^switchyard: --services: /],
      [{ NODE_ENV: 'staging' }, [], /^switchyard: NODE_ENV: expected one of development, production, test/],
      [{ LOG_LEVEL: 'loud' }, [], /^switchyard: LOG_LEVEL: /],
      [
        { SWITCHYARD_CONSUMER_THREAD: 'yes' },
        [],
        /^switchyard: SWITCHYARD_CONSUMER_THREAD: expected one of auto, on, off, got "yes"$/,
      ],
      [
        { NODE_ENV: 'production' },
        [],
        /^switchyard: SWITCHYARD_SECRET_KEY: expected a random secret of at least 32/,
      ],
      [{ SWITCHYARD_SECRET_KEY: 'short' }, [], /^switchyard: SWITCHYARD_SECRET_KEY: /],
      [
        { SWITCHYARD_ADMIN_EMAIL: 'ops@example.com' },
        [],
        /^switchyard: SWITCHYARD_ADMIN_PASSWORD: .*required/,
      ],
      [
        { SWITCHYARD_ADMIN_EMAIL: 'ops@example.com', SWITCHYARD_ADMIN_PASSWORD: 'password1234' },
        [],
        /^switchyard: SWITCHYARD_ADMIN_PASSWORD: .*too common\), got "\(hidden\)"$/,
      ],
      [
        { SWITCHYARD_ADMIN_EMAIL: 'not-an-email', SWITCHYARD_ADMIN_PASSWORD: 'x' },
        [],
        /^switchyard: SWITCHYARD_ADMIN_EMAIL: /,
      ],
      [{ REDIS_URL: 'http://localhost:6379' }, [], /^switchyard: REDIS_URL: expected a redis:\/\//],
      [{ SWITCHYARD_CORS_ORIGINS: 'example.com' }, [], /^switchyard: SWITCHYARD_CORS_ORIGINS: /],
      [{ SWITCHYARD_RATE_LIMIT_ANONYMOUS: '0' }, [], /^switchyard: SWITCHYARD_RATE_LIMIT_ANONYMOUS: /],
      [{ SWITCHYARD_UPSTREAMS: 'tasks=somewhere' }, [], /^switchyard: SWITCHYARD_UPSTREAMS: /],
      [
        { SWITCHYARD_MAIL_FROM: 'Switchyard' },
        [],
        /^switchyard: SWITCHYARD_MAIL_FROM: expected one sender address, .*got "Switchyard"$/,
      ],
      [{ SWITCHYARD_MAIL_FROM: 'a@example.com, b@example.com' }, [], /^switchyard: SWITCHYARD_MAIL_FROM: /],
    ];
    for (const [env, flags, expected] of cases) {
      const result = await runCli(['start', ...flags], { DATABASE_URL: '', ...env });
      assert.equal(result.code, 2, JSON.stringify(env));
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0] ?? '', expected);
    }
  });
});

describe('first admin', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase('first_admin');
  });
  after(async () => {
    await database?.drop();
  });

  it('prints a one-time setup link when no admin is configured, and the link creates the admin once', async () => {
    const server = await startServerProcess({
      DATABASE_URL: database.url,
      SWITCHYARD_ADMIN_EMAIL: '',
      SWITCHYARD_ADMIN_PASSWORD: '',
      SWITCHYARD_SECRET_KEY: 'first-admin-test-secret-0123456789abcdef',
    });
    try {
      const link = server.lines.find((line) => line.includes('/setup#token='));
      assert.ok(link, server.lines.join('\n'));
      const token = new URL(link.trim()).hash.replace('#token=', '');
      const body = { name: 'Ada', email: 'ada@example.com', password: 'a long enough password', token };
      const wrong = await call(server.url, 'POST', '/api/v1/auth/setup', {
        json: { ...body, token: 'guess' },
      });
      assert.equal(wrong.status, 401);
      const created = await call<{ role: string }>(server.url, 'POST', '/api/v1/auth/setup', { json: body });
      assert.equal(created.status, 201);
      assert.equal(created.body.role, 'admin');
      const again = await call(server.url, 'POST', '/api/v1/auth/setup', {
        json: { ...body, email: 'eve@example.com' },
      });
      assert.equal(again.status, 409);
      const login = await call(server.url, 'POST', '/api/v1/auth/login', {
        json: { email: 'ada@example.com', password: body.password },
      });
      assert.equal(login.status, 200);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('`switchyard admin create` creates an admin from a password on stdin or in the environment', async () => {
    const env = { DATABASE_URL: database.url, SWITCHYARD_ADMIN_PASSWORD: '' };
    const weak = await runCli(['admin', 'create', '--email', 'ops@example.com'], env);
    assert.equal(weak.code, 2, 'no password on stdin');
    assert.match(weak.stderr, /password must be at least 12 characters/);
    const badEmail = await runCli(['admin', 'create', '--email', 'nope'], {
      ...env,
      SWITCHYARD_ADMIN_PASSWORD: 'a long enough password',
    });
    assert.equal(badEmail.code, 2);
    const created = await runCli(['admin', 'create', '--email', 'ops@example.com'], {
      ...env,
      SWITCHYARD_ADMIN_PASSWORD: 'a long enough password',
    });
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /created admin ops@example.com/);
    const twice = await runCli(['admin', 'create', '--email', 'OPS@example.com'], {
      ...env,
      SWITCHYARD_ADMIN_PASSWORD: 'a long enough password',
    });
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /exists already/);
    const fromStdin = await runCli(
      ['admin', 'create', '--email', 'night@example.com', '--name', 'Night Shift'],
      env,
      'stdin password here\n',
    );
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
  });
});
