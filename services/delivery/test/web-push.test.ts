import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type FakePushService, startFakePushService } from '@switchyard/testing/providers';
import webpush from 'web-push';
import { pushTopicFor } from '../src/domain.ts';
import { createWebPushProvider, type WebPushProvider } from '../src/providers/web-push.ts';
import { closedPort, manualClock } from './helpers.ts';

describe('Web Push provider against a local push service', () => {
  const clock = manualClock(Date.now());
  const vapid = { subject: 'mailto:ops@switchyard.test', ...webpush.generateVAPIDKeys() };
  let service: FakePushService;
  let provider: WebPushProvider;

  before(async () => {
    service = await startFakePushService({ clock: clock.now });
    // The push service is on loopback over http; production keeps both policies off.
    provider = createWebPushProvider({
      vapid,
      allowHttp: true,
      allowPrivateAddresses: true,
      clock: clock.now,
    });
  });
  after(async () => {
    provider.close();
    await service.close();
  });

  test('delivers an encrypted payload with VAPID, TTL, urgency and a Topic per delivery', async () => {
    const { subscription } = service.subscribe({ applicationServerKey: vapid.publicKey });
    const key = '0197a1b2-0000-7000-8000-00000000ab01';
    const outcome = await provider.send(
      {
        subscription,
        title: 'Task due',
        body: 'Ship it ✅',
        data: { taskId: 't-1' },
        urgency: 'high',
        ttlSeconds: 600,
      },
      { idempotencyKey: key },
    );
    assert.equal(outcome.status, 'sent');
    const delivery = await service.deliveries.waitFor((entry) => entry.endpoint === subscription.endpoint);
    assert.equal(outcome.status === 'sent' && outcome.providerMessageId, delivery.location);
    // Decrypted by the fake with the subscription's private key (RFC 8291).
    assert.deepEqual(JSON.parse(delivery.payload), {
      title: 'Task due',
      body: 'Ship it ✅',
      data: { taskId: 't-1' },
    });
    assert.equal(delivery.ttl, '600');
    assert.equal(delivery.urgency, 'high');
    assert.equal(delivery.topic, pushTopicFor(key));
    // VAPID (RFC 8292): verified ES256 JWT for the push service's origin, our contact and key.
    assert.equal(delivery.vapid.publicKey, vapid.publicKey);
    assert.equal(delivery.vapid.claims.aud, service.url);
    assert.equal(delivery.vapid.claims.sub, vapid.subject);
  });

  const cases: Array<
    [Parameters<FakePushService['behave']>[1], number | undefined, Record<string, unknown>]
  > = [
    ['gone', undefined, { status: 'permanent', cause: 'recipient', code: '410', tokenUnregistered: true }],
    [
      'not-found',
      undefined,
      { status: 'permanent', cause: 'recipient', code: '404', tokenUnregistered: true },
    ],
    ['too-large', undefined, { status: 'permanent', cause: 'content', code: '413' }],
    ['rate-limited', 20, { status: 'transient', code: '429', retryAfterMs: 20_000 }],
    ['unavailable', undefined, { status: 'transient', code: '503' }],
  ];
  for (const [behaviour, retryAfterSeconds, expected] of cases) {
    test(`push service answers ${behaviour}`, async () => {
      const { subscription } = service.subscribe();
      service.behave(
        subscription.endpoint,
        behaviour,
        retryAfterSeconds === undefined ? {} : { retryAfterSeconds },
      );
      const outcome = await provider.send(
        { subscription, title: 't', body: 'b' },
        { idempotencyKey: `k-${behaviour}` },
      );
      for (const [field, value] of Object.entries(expected)) {
        assert.deepEqual(
          (outcome as unknown as Record<string, unknown>)[field],
          value,
          `${field}: ${outcome.reason}`,
        );
      }
    });
  }

  test('a payload over 4096 bytes is refused with 413', async () => {
    const { subscription } = service.subscribe();
    const outcome = await provider.send(
      { subscription, title: 't', body: 'x'.repeat(5000) },
      { idempotencyKey: 'k-big' },
    );
    assert.equal(outcome.status, 'permanent');
    assert.equal(outcome.status === 'permanent' && outcome.cause, 'content');
  });

  test('VAPID keys other than the subscription was made with are our configuration (403), not the user', async () => {
    const { subscription } = service.subscribe({
      applicationServerKey: webpush.generateVAPIDKeys().publicKey,
    });
    const outcome = await provider.send({ subscription, title: 't', body: 'b' }, { idempotencyKey: 'k-403' });
    assert.equal(outcome.status, 'permanent');
    assert.equal(outcome.status === 'permanent' && outcome.cause, 'configuration');
    assert.equal(outcome.status === 'permanent' && outcome.tokenUnregistered, undefined);
  });

  test('a subscription whose keys cannot be encrypted to is retired', async () => {
    const { subscription } = service.subscribe();
    const broken = { ...subscription, keys: { ...subscription.keys, p256dh: 'AAAA' } };
    const outcome = await provider.send(
      { subscription: broken, title: 't', body: 'b' },
      { idempotencyKey: 'k-keys' },
    );
    assert.equal(outcome.status, 'permanent');
    assert.equal(outcome.status === 'permanent' && outcome.tokenUnregistered, true);
  });

  test('an unreachable push service is transient', async () => {
    const { subscription } = service.subscribe();
    const port = await closedPort();
    const endpoint = subscription.endpoint.replace(/:\d+\//, `:${port}/`);
    const outcome = await provider.send(
      { subscription: { ...subscription, endpoint }, title: 't', body: 'b' },
      { idempotencyKey: 'k-down' },
    );
    assert.equal(outcome.status, 'transient');
  });

  test('by default, endpoints must be https and public: a loopback endpoint is refused without a request', async () => {
    const strict = createWebPushProvider({ vapid });
    try {
      const { subscription } = service.subscribe();
      const before = service.deliveries.items.length;
      const plain = await strict.send({ subscription, title: 't', body: 'b' }, { idempotencyKey: 'k-http' });
      assert.equal(plain.status, 'permanent');
      assert.match(plain.reason, /only https/);
      const loopback = { ...subscription, endpoint: subscription.endpoint.replace('http:', 'https:') };
      const refused = await strict.send(
        { subscription: loopback, title: 't', body: 'b' },
        { idempotencyKey: 'k-loop' },
      );
      assert.equal(refused.status, 'permanent');
      assert.match(refused.reason, /not a public address/);
      assert.equal(service.deliveries.items.length, before);
    } finally {
      strict.close();
    }
  });

  test('VAPID settings are checked at construction', () => {
    assert.throws(
      () => createWebPushProvider({ vapid: { ...vapid, subject: 'ops@example.com' } }),
      /subject/,
    );
    assert.throws(() => createWebPushProvider({ vapid: { ...vapid, privateKey: 'short' } }), /P-256/);
  });
});
