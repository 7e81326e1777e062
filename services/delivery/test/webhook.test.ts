import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startWebhookReceiver, type WebhookReceiver } from '@switchyard/testing/providers';
import { verifyWebhookSignature } from '../src/domain.ts';
import { post } from '../src/http-client.ts';
import { createWebhookProvider, type WebhookProvider } from '../src/providers/webhook.ts';
import { manualClock } from './helpers.ts';

describe('webhook provider against a local receiver', () => {
  const clock = manualClock(Date.parse('2025-06-01T12:00:00Z'));
  let receiver: WebhookReceiver;
  let provider: WebhookProvider;

  before(async () => {
    receiver = await startWebhookReceiver();
    provider = createWebhookProvider({
      allowHttp: true,
      allowPrivateAddresses: true,
      clock: clock.now,
      timeoutMs: 2_000,
    });
  });
  after(async () => {
    provider.close();
    await receiver.close();
  });

  test('posts signed JSON that the receiver can verify with the documented scheme', async () => {
    receiver.respondWith({ status: 204 });
    const payload = { id: 'n-1', type: 'notification.created', data: { title: 'Grüße' } };
    const outcome = await provider.send(
      {
        url: `${receiver.url}/hooks/switchyard`,
        secret: 'whsec_abc',
        event: 'notification.created',
        payload,
      },
      { idempotencyKey: 'delivery-0001' },
    );
    assert.deepEqual(outcome, {
      status: 'delivered',
      providerMessageId: 'delivery-0001',
      reason: 'receiver answered 204',
    });
    const request = await receiver.requests.waitFor((entry) => entry.path === '/hooks/switchyard');
    assert.equal(request.method, 'POST');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['x-switchyard-event'], 'notification.created');
    assert.equal(request.headers['x-switchyard-delivery'], 'delivery-0001');
    assert.deepEqual(JSON.parse(request.rawBody.toString('utf8')), payload);
    const header = request.headers['x-switchyard-signature'];
    assert.equal(typeof header, 'string');
    assert.match(String(header), /^t=1748779200,v1=[0-9a-f]{64}$/);
    assert.deepEqual(
      verifyWebhookSignature({
        header: String(header),
        rawBody: request.rawBody,
        secret: 'whsec_abc',
        nowSeconds: 1748779260,
      }),
      { ok: true, timestampSeconds: 1748779200 },
    );
    assert.equal(
      verifyWebhookSignature({
        header: String(header),
        rawBody: request.rawBody,
        secret: 'other',
        nowSeconds: 1748779260,
      }).ok,
      false,
    );
  });

  test('during a secret rotation the request carries one v1 per secret', async () => {
    receiver.respondWith({ status: 200 });
    await provider.send(
      { url: `${receiver.url}/rotating`, secret: ['new', 'old'], event: 'e', payload: {} },
      { idempotencyKey: 'delivery-rot' },
    );
    const request = await receiver.requests.waitFor((entry) => entry.path === '/rotating');
    const header = String(request.headers['x-switchyard-signature']);
    assert.equal(header.match(/v1=/g)?.length, 2);
    for (const secret of ['new', 'old']) {
      assert.equal(
        verifyWebhookSignature({ header, rawBody: request.rawBody, secret, nowSeconds: 1748779200 }).ok,
        true,
      );
    }
  });

  const cases: Array<[number, Record<string, string>, Record<string, unknown>]> = [
    [410, {}, { status: 'permanent', cause: 'recipient', code: '410' }],
    [400, {}, { status: 'permanent', cause: 'content', code: '400' }],
    [401, {}, { status: 'permanent', cause: 'configuration', code: '401' }],
    [429, { 'retry-after': '30' }, { status: 'transient', code: '429', retryAfterMs: 30_000 }],
    [500, {}, { status: 'transient', code: '500' }],
    [503, {}, { status: 'transient', code: '503' }],
  ];
  for (const [status, headers, expected] of cases) {
    test(`a receiver answering ${status}`, async () => {
      receiver.respondWith({ status, headers });
      const outcome = await provider.send(
        { url: receiver.url, secret: 's', event: 'e', payload: {} },
        { idempotencyKey: `k-${status}` },
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

  test('redirects are not followed', async () => {
    receiver.requests.clear();
    receiver.respondWith({ status: 302, headers: { location: `${receiver.url}/elsewhere` } });
    const outcome = await provider.send(
      { url: `${receiver.url}/moved`, secret: 's', event: 'e', payload: {} },
      { idempotencyKey: 'k-302' },
    );
    assert.equal(outcome.status, 'permanent');
    assert.deepEqual(
      receiver.requests.items.map((request) => request.path),
      ['/moved'],
    );
  });

  test('a receiver that does not answer in time is transient', async () => {
    receiver.respondWith('hang');
    const quick = createWebhookProvider({ allowHttp: true, allowPrivateAddresses: true, timeoutMs: 100 });
    try {
      const outcome = await quick.send(
        { url: receiver.url, secret: 's', event: 'e', payload: {} },
        { idempotencyKey: 'k-slow' },
      );
      assert.equal(outcome.status, 'transient');
      assert.equal(outcome.status === 'transient' && outcome.code, 'timeout');
    } finally {
      quick.close();
    }
  });

  test('a cancelled send is transient and says so', async () => {
    receiver.respondWith('hang');
    receiver.requests.clear();
    const controller = new AbortController();
    const sending = provider.send(
      { url: `${receiver.url}/cancel`, secret: 's', event: 'e', payload: {} },
      { idempotencyKey: 'k-cancel', signal: controller.signal },
    );
    await receiver.requests.waitFor((request) => request.path === '/cancel');
    controller.abort();
    const outcome = await sending;
    assert.equal(outcome.status, 'transient');
    assert.equal(outcome.status === 'transient' && outcome.code, 'cancelled');
  });

  test('an event name that cannot be a header value is refused without a request', async () => {
    receiver.respondWith({ status: 200 });
    receiver.requests.clear();
    const outcome = await provider.send(
      { url: receiver.url, secret: 's', event: 'evil\r\nx-injected: 1', payload: {} },
      { idempotencyKey: 'k-crlf' },
    );
    assert.equal(outcome.status, 'permanent');
    assert.equal(receiver.requests.items.length, 0);
  });

  test('by default only https to public addresses: http and loopback are refused before any request', async () => {
    receiver.requests.clear();
    const strict = createWebhookProvider();
    try {
      const http = await strict.send(
        { url: receiver.url, secret: 's', event: 'e', payload: {} },
        { idempotencyKey: 'k-1' },
      );
      assert.match(http.reason, /only https/);
      const loopback = await strict.send(
        { url: receiver.url.replace('http:', 'https:'), secret: 's', event: 'e', payload: {} },
        { idempotencyKey: 'k-2' },
      );
      assert.match(loopback.reason, /127\.0\.0\.1 is not a public address/);
      const metadata = await strict.send(
        { url: 'https://169.254.169.254/latest/meta-data/', secret: 's', event: 'e', payload: {} },
        { idempotencyKey: 'k-3' },
      );
      assert.match(metadata.reason, /not a public address/);
      for (const outcome of [http, loopback, metadata]) assert.equal(outcome.status, 'permanent');
      assert.equal(receiver.requests.items.length, 0);
    } finally {
      strict.close();
    }
  });

  test('a host name is checked against the addresses it resolves to when connecting', async () => {
    receiver.requests.clear();
    // `localhost` resolves to loopback everywhere; the URL check is bypassed here to reach the connection.
    const url = receiver.url.replace('127.0.0.1', 'localhost');
    const result = await post({ url, headers: {}, body: '{}', timeoutMs: 2_000, publicAddressesOnly: true });
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.kind, 'blocked');
    assert.equal(receiver.requests.items.length, 0);
    const allowed = await post({ url, headers: {}, body: '{}', timeoutMs: 2_000 });
    assert.equal(allowed.ok, true);
  });
});
