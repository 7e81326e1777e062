import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type FakeTwilio, startFakeTwilio } from '@switchyard/testing/providers';
import { createTwilioSmsProvider, type SmsProvider } from '../src/providers/twilio-sms.ts';
import { closedPort } from './helpers.ts';

const ACCOUNT_SID = `AC${'0123456789abcdef'.repeat(2)}`;
const AUTH_TOKEN = 'test-auth-token';

describe('Twilio-compatible SMS provider against a local Messages API', () => {
  let twilio: FakeTwilio;
  let provider: SmsProvider;

  before(async () => {
    twilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    provider = createTwilioSmsProvider({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      from: '+15005550006',
      baseUrl: twilio.url,
      statusCallbackUrl: 'https://switchyard.example/api/v1/delivery/twilio/status',
    });
  });
  after(async () => {
    provider.close();
    await twilio.close();
  });

  test('posts To, From and Body form-encoded with Basic auth and gets the message SID', async () => {
    const outcome = await provider.send(
      { to: '+4915112345678', body: 'Ihre Aufgabe ist fällig ✅' },
      { idempotencyKey: 'k-1' },
    );
    assert.equal(outcome.status, 'sent');
    const message = await twilio.messages.waitFor((entry) => entry.to === '+4915112345678');
    assert.equal(outcome.status === 'sent' && outcome.providerMessageId, message.sid);
    assert.match(message.sid, /^SM[0-9a-f]{32}$/);
    assert.match(outcome.reason, /queued/);
    assert.deepEqual(message.form, {
      To: '+4915112345678',
      Body: 'Ihre Aufgabe ist fällig ✅',
      From: '+15005550006',
      StatusCallback: 'https://switchyard.example/api/v1/delivery/twilio/status',
    });
  });

  test('with a messaging service, MessagingServiceSid replaces From', async () => {
    const viaService = createTwilioSmsProvider({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      messagingServiceSid: 'MG0123456789abcdef0123456789abcdef',
      baseUrl: twilio.url,
    });
    try {
      const outcome = await viaService.send({ to: '+14155550100', body: 'hi' }, { idempotencyKey: 'k-mg' });
      assert.equal(outcome.status, 'sent');
      assert.match(outcome.reason, /accepted/);
      const message = await twilio.messages.waitFor((entry) => entry.to === '+14155550100');
      assert.equal(message.messagingServiceSid, 'MG0123456789abcdef0123456789abcdef');
      assert.equal(message.from, undefined);
    } finally {
      viaService.close();
    }
  });

  test('a number that is not E.164 is refused without a request', async () => {
    const before = twilio.messages.items.length;
    const outcome = await provider.send({ to: '0151 1234 5678', body: 'hi' }, { idempotencyKey: 'k-e164' });
    assert.equal(outcome.status, 'permanent');
    assert.equal(outcome.status === 'permanent' && outcome.cause, 'recipient');
    assert.equal(twilio.messages.items.length, before);
  });

  const cases: Array<[Parameters<FakeTwilio['behave']>[1], number | undefined, Record<string, unknown>]> = [
    ['invalid-number', undefined, { status: 'permanent', cause: 'recipient', code: '21211' }],
    ['not-mobile', undefined, { status: 'permanent', cause: 'recipient', code: '21614' }],
    ['unsubscribed', undefined, { status: 'permanent', cause: 'recipient', code: '21610' }],
    ['rate-limited', 2, { status: 'transient', code: '20429', retryAfterMs: 2_000 }],
    ['unavailable', undefined, { status: 'transient', code: '20503' }],
  ];
  for (const [behaviour, retryAfterSeconds, expected] of cases) {
    test(`Twilio answers ${behaviour}`, async () => {
      const to = `+1415555${String(cases.findIndex(([name]) => name === behaviour)).padStart(4, '0')}`;
      twilio.behave(to, behaviour, retryAfterSeconds === undefined ? {} : { retryAfterSeconds });
      const outcome = await provider.send({ to, body: 'hi' }, { idempotencyKey: `k-${behaviour}` });
      for (const [field, value] of Object.entries(expected)) {
        assert.deepEqual(
          (outcome as unknown as Record<string, unknown>)[field],
          value,
          `${field}: ${outcome.reason}`,
        );
      }
    });
  }

  test('a wrong auth token is 20003: our configuration', async () => {
    const wrong = createTwilioSmsProvider({
      accountSid: ACCOUNT_SID,
      authToken: 'nope',
      from: '+15005550006',
      baseUrl: twilio.url,
    });
    try {
      const outcome = await wrong.send({ to: '+14155550199', body: 'hi' }, { idempotencyKey: 'k-auth' });
      assert.equal(outcome.status, 'permanent');
      assert.equal(outcome.status === 'permanent' && outcome.cause, 'configuration');
      assert.equal(outcome.status === 'permanent' && outcome.code, '20003');
    } finally {
      wrong.close();
    }
  });

  test('an unreachable API is transient', async () => {
    const port = await closedPort();
    const down = createTwilioSmsProvider({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      from: '+15005550006',
      baseUrl: `http://127.0.0.1:${port}`,
    });
    try {
      const outcome = await down.send({ to: '+14155550198', body: 'hi' }, { idempotencyKey: 'k-down' });
      assert.equal(outcome.status, 'transient');
    } finally {
      down.close();
    }
  });

  test('a sender is required at construction', () => {
    assert.throws(
      () => createTwilioSmsProvider({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN }),
      /From number/,
    );
  });
});
