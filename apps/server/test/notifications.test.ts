import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import {
  type FakeFcm,
  type FakeTwilio,
  startFakeFcm,
  startFakeTwilio,
  startWebhookReceiver,
  type WebhookReceiver,
} from '@switchyard/testing/providers';
import { type SmtpSink, startSmtpSink } from '@switchyard/testing/smtp';
import { type RunningSwitchyard, startSwitchyard } from '../src/server.ts';
import { adminCall, testConfig } from './helpers.ts';

interface StatusView {
  request_id: string;
  status: string;
  deliveries: {
    recipient_index: number;
    channel: string;
    status: string;
    reason: string | null;
    not_before: string | null;
    attempts: { outcome: string; provider: string; error: string | null }[];
  }[];
}

/** Re-reads the status until `done` holds: delivery happens after the 202, through the bus. */
async function statusWhen(
  base: string,
  requestId: string,
  done: (view: StatusView) => boolean,
  timeoutMs = 15_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = (await adminCall<StatusView>(base, 'GET', `/api/v1/notifications/${requestId}`)).body;
    if (done(view)) return view;
    if (Date.now() > deadline) assert.fail(`status never settled: ${JSON.stringify(view)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('notifications end to end', () => {
  let database: TestDatabase;
  let server: RunningSwitchyard;
  let smtp: SmtpSink;
  let fcm: FakeFcm;
  let twilio: FakeTwilio;
  let webhooks: WebhookReceiver;
  let base: string;
  let userId: string;
  const pushToken = 'device-token-1';

  before(async () => {
    database = await createTestDatabase('notifications');
    smtp = await startSmtpSink();
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const clientEmail = 'switchyard@test-project.iam.gserviceaccount.com';
    fcm = await startFakeFcm({ projectId: 'test-project', clientEmail, publicKey: keys.publicKey });
    twilio = await startFakeTwilio({
      accountSid: 'AC0123456789abcdef0123456789abcdef',
      authToken: 'twilio-token',
    });
    webhooks = await startWebhookReceiver();
    server = await startSwitchyard(
      testConfig(database.url, {
        SMTP_URL: smtp.url,
        SWITCHYARD_FCM_SERVICE_ACCOUNT: JSON.stringify({
          type: 'service_account',
          project_id: 'test-project',
          client_email: clientEmail,
          private_key: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
          token_uri: fcm.tokenUri,
        }),
        SWITCHYARD_FCM_URL: fcm.url,
        TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
        TWILIO_AUTH_TOKEN: 'twilio-token',
        TWILIO_FROM: '+15005550006',
        SWITCHYARD_TWILIO_URL: twilio.url,
        SWITCHYARD_WEBHOOK_SECRET: 'webhook-secret-webhook-secret-0123456789',
        SWITCHYARD_ALLOW_PRIVATE_TARGETS: 'true',
      }),
      silentLogger(),
    );
    base = server.url;
    const template = await adminCall(base, 'POST', '/api/v1/templates', {
      json: {
        code: 'welcome',
        name: 'Welcome',
        type: 'email',
        subject: 'Welcome, {{ user.name }}',
        content: '<p>Hello {{ user.name }}, your code is <b>{{ code }}</b>.</p>',
      },
    });
    assert.equal(template.status, 201, JSON.stringify(template.body));
    const user = await adminCall<{ id: string }>(base, 'POST', '/api/v1/users', {
      json: { name: 'Ada', email: 'ada@example.com', password: 'a long enough password', role: 'member' },
    });
    assert.equal(user.status, 201, JSON.stringify(user.body));
    userId = user.body.id;
    const patched = await adminCall(base, 'PATCH', `/api/v1/users/${userId}`, {
      json: { push_token: pushToken },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
  });

  after(async () => {
    await server?.close();
    await Promise.all([smtp?.close(), fcm?.close(), twilio?.close(), webhooks?.close()]);
    await database?.drop();
  });

  it('accepts with 202 before delivery and emails a user from a template, HTML and text', async () => {
    const accepted = await adminCall<{ request_id: string; status: string }>(
      base,
      'POST',
      '/api/v1/notifications',
      {
        json: {
          recipients: [{ user_id: userId }],
          channels: ['email'],
          template_code: 'welcome',
          variables: { user: { name: 'Ada' }, code: '4242' },
        },
      },
    );
    assert.equal(accepted.status, 202);
    assert.equal(accepted.body.status, 'pending');
    const mail = await smtp.messages.waitFor((message) => message.envelope.to.includes('ada@example.com'));
    assert.equal(mail.subject, 'Welcome, Ada');
    assert.match(mail.html ?? '', /<b>4242<\/b>/);
    assert.match(mail.text ?? '', /your code is 4242/);
    const view = await statusWhen(base, accepted.body.request_id, (status) => status.status === 'sent');
    assert.equal(view.deliveries[0]?.attempts[0]?.outcome, 'sent');
  });

  it('names every missing template variable with 422 at send time', async () => {
    const response = await adminCall<{ errors: { field: string }[] }>(base, 'POST', '/api/v1/notifications', {
      json: {
        recipients: [{ user_id: userId }],
        channels: ['email'],
        template_code: 'welcome',
        variables: {},
      },
    });
    assert.equal(response.status, 422);
    assert.deepEqual(response.body.errors.map((error) => error.field).sort(), [
      'variables.code',
      'variables.user.name',
    ]);
  });

  it('refuses bad requests with 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ recipients: [], channels: ['email'], content: { text: 'x' } }, 'recipients'],
      [{ recipients: [{ user_id: userId }], channels: ['fax'], content: { text: 'x' } }, 'channels.0'],
      [{ recipients: [{ phone: '12345' }], channels: ['sms'], content: { text: 'x' } }, 'recipients.0.phone'],
      [{ recipients: [{ user_id: userId }], channels: ['email'] }, 'template_code'],
      [{ recipients: [{}], channels: ['email'], content: { text: 'x' } }, 'recipients.0'],
      [
        {
          recipients: Array.from({ length: 1001 }, () => ({ email: 'a@example.com' })),
          channels: ['email'],
          content: { text: 'x' },
        },
        'recipients',
      ],
    ];
    for (const [json, field] of cases) {
      const response = await adminCall<{ errors: { field: string }[] }>(
        base,
        'POST',
        '/api/v1/notifications',
        { json },
      );
      assert.equal(response.status, 400, JSON.stringify(json).slice(0, 100));
      assert.ok(
        response.body.errors.some((error) => error.field === field),
        `${field}: ${JSON.stringify(response.body.errors)}`,
      );
    }
  });

  it('sends one notification for 50 concurrent requests with the same Idempotency-Key, and 422 for another body', async () => {
    const json = {
      recipients: [{ email: 'once@example.com' }],
      channels: ['email'],
      content: { subject: 'Only once', text: 'You should get this once.' },
    };
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        adminCall<{ request_id: string }>(base, 'POST', '/api/v1/notifications', {
          json,
          headers: { 'idempotency-key': 'order-77' },
        }),
      ),
    );
    assert.deepEqual([...new Set(responses.map((response) => response.status))], [202]);
    const ids = new Set(responses.map((response) => response.body.request_id));
    assert.equal(ids.size, 1);
    const [requestId] = [...ids] as [string];
    await statusWhen(base, requestId, (status) => status.status === 'sent');
    await smtp.messages.waitFor((message) => message.envelope.to.includes('once@example.com'));
    assert.equal(
      smtp.messages.items.filter((message) => message.envelope.to.includes('once@example.com')).length,
      1,
    );

    const other = await adminCall(base, 'POST', '/api/v1/notifications', {
      json: { ...json, content: { text: 'different' } },
      headers: { 'idempotency-key': 'order-77' },
    });
    assert.equal(other.status, 422);
  });

  it('delivers SMS through a Twilio-compatible API, push through FCM, and a signed webhook', async () => {
    const accepted = await adminCall<{ request_id: string }>(base, 'POST', '/api/v1/notifications', {
      json: {
        recipients: [
          { phone: '+4915112345678', webhook_url: `${webhooks.url}/hooks/switchyard` },
          { user_id: userId },
        ],
        channels: ['sms', 'webhook', 'push'],
        content: { subject: 'Build', text: 'Build 12 passed' },
      },
    });
    assert.equal(accepted.status, 202);
    const sms = await twilio.messages.waitFor((message) => message.to === '+4915112345678');
    assert.equal(sms.body, 'Build 12 passed');
    const hook = await webhooks.requests.waitFor((request) => request.path === '/hooks/switchyard');
    assert.match(String(hook.headers['x-switchyard-signature']), /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.equal((JSON.parse(hook.rawBody.toString()) as { text: string }).text, 'Build 12 passed');
    const push = await fcm.sends.waitFor((send) => send.token === pushToken);
    assert.equal((push.message.notification as { title: string }).title, 'Build');
    const view = await statusWhen(base, accepted.body.request_id, (status) =>
      status.deliveries.every((delivery) => delivery.status !== 'pending'),
    );
    const status = (recipient: number, channel: string) =>
      view.deliveries.find(
        (delivery) => delivery.recipient_index === recipient && delivery.channel === channel,
      )?.status;
    assert.equal(status(0, 'sms'), 'sent');
    assert.equal(status(0, 'webhook'), 'delivered');
    assert.equal(status(1, 'push'), 'sent');
    assert.equal(status(0, 'push'), 'skipped');
    assert.equal(status(1, 'sms'), 'skipped');
    // The direct recipient has no push token and the user no phone or webhook: skipped, with reasons.
    assert.ok(
      view.deliveries
        .filter((delivery) => delivery.status === 'skipped')
        .every((delivery) => delivery.reason),
    );
  });

  it('skips a channel the user turned off, with the reason', async () => {
    const preferences = await adminCall<Record<string, unknown>>(
      base,
      'GET',
      `/api/v1/users/${userId}/preferences`,
    );
    const off = await adminCall(base, 'PUT', `/api/v1/users/${userId}/preferences`, {
      json: { ...preferences.body, sms: false, email: false },
    });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    const accepted = await adminCall<{ request_id: string }>(base, 'POST', '/api/v1/notifications', {
      json: { recipients: [{ user_id: userId }], channels: ['email'], content: { text: 'muted' } },
    });
    const view = await statusWhen(base, accepted.body.request_id, (status) => status.status !== 'pending');
    assert.equal(view.deliveries[0]?.status, 'skipped');
    assert.match(view.deliveries[0]?.reason ?? '', /turned email off/);
    await adminCall(base, 'PUT', `/api/v1/users/${userId}/preferences`, { json: preferences.body });
  });

  it('removes a push token FCM reports as unregistered', async () => {
    fcm.behave(pushToken, 'unregistered');
    const accepted = await adminCall<{ request_id: string }>(base, 'POST', '/api/v1/notifications', {
      json: {
        recipients: [{ user_id: userId }],
        channels: ['push'],
        content: { subject: 'Hi', text: 'gone device' },
      },
    });
    const view = await statusWhen(base, accepted.body.request_id, (status) => status.status === 'failed');
    assert.match(view.deliveries[0]?.reason ?? '', /UNREGISTERED|unregistered/i);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const user = await adminCall<{ push_token: string | null }>(base, 'GET', `/api/v1/users/${userId}`);
      if (user.body.push_token === null) break;
      if (Date.now() > deadline) assert.fail('the push token was not removed');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  it('puts in-app notifications in the inbox of the user', async () => {
    const accepted = await adminCall<{ request_id: string }>(base, 'POST', '/api/v1/notifications', {
      json: {
        recipients: [{ user_id: userId }],
        channels: ['in_app'],
        content: { subject: 'Inbox', text: 'In the app' },
      },
    });
    await statusWhen(base, accepted.body.request_id, (status) => status.status === 'delivered');
  });

  it('holds a scheduled notification until its time and can cancel it first', async () => {
    const accepted = await adminCall<{ request_id: string; status: string }>(
      base,
      'POST',
      '/api/v1/notifications',
      {
        json: {
          recipients: [{ email: 'later@example.com' }],
          channels: ['email'],
          content: { text: 'later' },
          scheduled_at: new Date(Date.now() + 3600_000).toISOString(),
        },
      },
    );
    assert.equal(accepted.body.status, 'scheduled');
    const cancelled = await adminCall<{ cancelled: number }>(
      base,
      'DELETE',
      `/api/v1/notifications/${accepted.body.request_id}`,
    );
    assert.equal(cancelled.body.cancelled, 1);
    const view = await adminCall<StatusView>(
      base,
      'GET',
      `/api/v1/notifications/${accepted.body.request_id}`,
    );
    assert.equal(view.body.deliveries[0]?.status, 'cancelled');
  });
});
