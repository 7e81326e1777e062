import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import { type SmtpSink, startSmtpSink } from '@switchyard/testing/smtp';
import { type RunningSwitchyard, startSwitchyard } from '../src/server.ts';
import { adminCall, testClock, testConfig, until } from './helpers.ts';

interface StatusView {
  status: string;
  deliveries: { status: string; reason: string | null; not_before: string | null }[];
}

function hhmm(date: Date): string {
  return date.toISOString().slice(11, 16);
}

describe('notification rules', () => {
  let database: TestDatabase;
  let smtp: SmtpSink;
  let server: RunningSwitchyard;
  const time = testClock();
  let userId: string;

  before(async () => {
    database = await createTestDatabase('notify_rules');
    smtp = await startSmtpSink();
    server = await startSwitchyard(testConfig(database.url, { SMTP_URL: smtp.url }), silentLogger(), {
      clock: time.clock,
    });
    const user = await adminCall<{ id: string }>(server.url, 'POST', '/api/v1/users', {
      json: { name: 'Night Owl', email: 'owl@example.com', password: 'a long enough password' },
    });
    userId = user.body.id;
  });
  after(async () => {
    await server?.close();
    await smtp?.close();
    await database?.drop();
  });

  const status = (requestId: string) => async () =>
    (await adminCall<StatusView>(server.url, 'GET', `/api/v1/notifications/${requestId}`)).body;

  async function send(json: Record<string, unknown>): Promise<string> {
    const accepted = await adminCall<{ request_id: string }>(server.url, 'POST', '/api/v1/notifications', {
      json,
    });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    return accepted.body.request_id;
  }

  it('holds an email during quiet hours and sends it when they end; a critical one goes at once', async () => {
    const now = time.clock();
    const preferences = (
      await adminCall<Record<string, unknown>>(server.url, 'GET', `/api/v1/users/${userId}/preferences`)
    ).body;
    const quiet = {
      ...preferences,
      quiet_hours: {
        start: hhmm(new Date(now.getTime() - 3600_000)),
        end: hhmm(new Date(now.getTime() + 3600_000)),
        time_zone: 'UTC',
      },
    };
    assert.equal(
      (await adminCall(server.url, 'PUT', `/api/v1/users/${userId}/preferences`, { json: quiet })).status,
      200,
    );

    const held = await send({
      recipients: [{ user_id: userId }],
      channels: ['email'],
      content: { subject: 'night', text: 'can wait' },
    });
    const critical = await send({
      recipients: [{ user_id: userId }],
      channels: ['email'],
      priority: 'critical',
      content: { subject: 'pager', text: 'cannot wait' },
    });
    await smtp.messages.waitFor((message) => message.subject === 'pager', { timeoutMs: 15_000 });
    const waiting = await until(status(held), (view) => view.deliveries[0]?.not_before !== null, 'the hold');
    assert.equal(waiting.deliveries[0]?.status, 'pending');
    assert.match(waiting.deliveries[0]?.reason ?? '', /quiet hours/);
    assert.ok(!smtp.messages.items.some((message) => message.subject === 'night'));
    await until(status(critical), (view) => view.status === 'sent', 'the critical one sent');

    time.advance(2 * 3600_000);
    await smtp.messages.waitFor((message) => message.subject === 'night', { timeoutMs: 15_000 });
    await until(status(held), (view) => view.status === 'sent', 'the held one sent after quiet hours');
    assert.equal(
      (
        await adminCall(server.url, 'PUT', `/api/v1/users/${userId}/preferences`, {
          json: { ...preferences },
        })
      ).status,
      200,
    );
  });

  it('skips a category the user opted out of', async () => {
    const preferences = (
      await adminCall<Record<string, unknown>>(server.url, 'GET', `/api/v1/users/${userId}/preferences`)
    ).body;
    await adminCall(server.url, 'PUT', `/api/v1/users/${userId}/preferences`, {
      json: { ...preferences, category_opt_outs: ['marketing'] },
    });
    const requestId = await send({
      recipients: [{ user_id: userId }],
      channels: ['email'],
      category: 'marketing',
      content: { text: 'sale' },
    });
    const view = await until(status(requestId), (current) => current.status !== 'pending', 'a decision');
    assert.equal(view.deliveries[0]?.status, 'skipped');
    assert.match(view.deliveries[0]?.reason ?? '', /opted out of marketing/);
    await adminCall(server.url, 'PUT', `/api/v1/users/${userId}/preferences`, { json: preferences });
  });

  it('accepts 1,000 recipients in one request and delivers each once', async () => {
    const recipients = Array.from({ length: 1000 }, (_, i) => ({ email: `bulk-${i}@example.com` }));
    const started = performance.now();
    const requestId = await send({
      recipients,
      channels: ['email'],
      content: { subject: 'bulk', text: 'to all' },
    });
    assert.ok(performance.now() - started < 5_000, 'accepted without waiting for delivery');
    await until(status(requestId), (view) => view.status === 'sent', 'every delivery sent', 120_000);
    const received = smtp.messages.items.filter((message) => message.subject === 'bulk');
    assert.equal(received.length, 1000);
    assert.equal(new Set(received.map((message) => message.envelope.to[0])).size, 1000);
  });
});

describe('embedded mail capture', () => {
  let database: TestDatabase;
  let server: RunningSwitchyard;
  before(async () => {
    database = await createTestDatabase('notify_dev_mail');
    server = await startSwitchyard(testConfig(database.url), silentLogger());
  });
  after(async () => {
    await server?.close();
    await database?.drop();
  });

  it('catches mail without SMTP_URL and shows it at /api/v1/dev/mail', async () => {
    const accepted = await adminCall<{ request_id: string }>(server.url, 'POST', '/api/v1/notifications', {
      json: {
        recipients: [{ email: 'new-user@example.com' }],
        channels: ['email'],
        content: { subject: 'It works', text: 'first mail' },
      },
    });
    assert.equal(accepted.status, 202);
    const mail = await until(
      async () =>
        (
          await adminCall<{ subject: string; text: string; envelope: { to: string[] } }[]>(
            server.url,
            'GET',
            '/api/v1/dev/mail?to=new-user@example.com',
          )
        ).body,
      (list) => list.length === 1,
      'the captured mail',
    );
    assert.equal(mail[0]?.subject, 'It works');
    assert.match(mail[0]?.text ?? '', /first mail/);
  });
});
