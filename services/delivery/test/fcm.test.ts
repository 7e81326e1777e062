import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type FakeFcm, startFakeFcm } from '@switchyard/testing/providers';
import type { DeliveryOutcome } from '../src/domain.ts';
import {
  createFcmProvider,
  FCM_SCOPE,
  type FcmProvider,
  type FcmServiceAccount,
} from '../src/providers/fcm.ts';
import { closedPort, manualClock, testServiceAccount } from './helpers.ts';

describe('FCM HTTP v1 provider against a local FCM and OAuth token endpoint', () => {
  const clock = manualClock();
  let fcm: FakeFcm;
  let provider: FcmProvider;
  let account: FcmServiceAccount;

  before(async () => {
    const serviceAccount = testServiceAccount();
    fcm = await startFakeFcm({
      projectId: serviceAccount.projectId,
      clientEmail: serviceAccount.clientEmail,
      publicKey: serviceAccount.publicKey,
      clock: clock.now,
    });
    account = serviceAccount.keyFile(fcm.tokenUri);
    provider = createFcmProvider({ serviceAccount: account, baseUrl: fcm.url, clock: clock.now });
  });
  after(async () => {
    provider.close();
    await fcm.close();
  });

  test('sends the documented request with a service-account OAuth token', async () => {
    const outcome = await provider.send(
      {
        token: 'device-token-1',
        title: 'Task due',
        body: 'Ship it is due today',
        data: { taskId: 't-1', kind: 'due' },
      },
      { idempotencyKey: 'd-1' },
    );
    assert.equal(outcome.status, 'sent');
    const delivered = await fcm.sends.waitFor((send) => send.token === 'device-token-1');
    assert.equal(outcome.status === 'sent' && outcome.providerMessageId, delivered.name);
    assert.match(delivered.name, /^projects\/switchyard-test\/messages\//);
    assert.deepEqual(delivered.message, {
      token: 'device-token-1',
      notification: { title: 'Task due', body: 'Ship it is due today' },
      data: { taskId: 't-1', kind: 'due' },
    });
    assert.equal(delivered.contentType, 'application/json; charset=UTF-8');

    // The JWT grant: RS256 signed with the service account's key (the fake verified the signature).
    const [grant] = fcm.grants.items;
    assert.ok(grant);
    assert.equal(delivered.authorization, `Bearer ${grant.accessToken}`);
    assert.deepEqual(grant.header, { alg: 'RS256', typ: 'JWT', kid: 'key-1' });
    assert.equal(grant.claims.iss, account.client_email);
    assert.equal(grant.claims.aud, fcm.tokenUri);
    assert.equal(grant.claims.scope, FCM_SCOPE);
    assert.equal(grant.claims.iat, Math.floor(clock.now() / 1000));
    assert.equal(Number(grant.claims.exp) - Number(grant.claims.iat), 3600);
  });

  test('reuses the access token until shortly before it expires', async () => {
    const grantsBefore = fcm.grants.items.length;
    await Promise.all(
      ['a', 'b', 'c'].map((token) =>
        provider.send({ token, title: 't', body: 'b' }, { idempotencyKey: `k-${token}` }),
      ),
    );
    assert.equal(fcm.grants.items.length, grantsBefore, 'the cached token served all three');

    clock.advance(56 * 60_000); // past expiry (3599 s) minus the 5-minute margin
    const outcome = await provider.send({ token: 'd', title: 't', body: 'b' }, { idempotencyKey: 'k-d' });
    assert.equal(outcome.status, 'sent');
    assert.equal(fcm.grants.items.length, grantsBefore + 1);
  });

  test('concurrent sends without a token wait for one grant', async () => {
    const fresh = createFcmProvider({ serviceAccount: account, baseUrl: fcm.url, clock: clock.now });
    try {
      const grantsBefore = fcm.grants.items.length;
      const outcomes = await Promise.all(
        ['p', 'q', 'r'].map((token) =>
          fresh.send({ token, title: 't', body: 'b' }, { idempotencyKey: `k-${token}` }),
        ),
      );
      assert.deepEqual(
        outcomes.map((outcome) => outcome.status),
        ['sent', 'sent', 'sent'],
      );
      assert.equal(fcm.grants.items.length, grantsBefore + 1);
    } finally {
      fresh.close();
    }
  });

  test('a 401 gets one fresh token and one more try', async () => {
    const grantsBefore = fcm.grants.items.length;
    fcm.revokeAccessTokens();
    fcm.attempts.clear();
    const outcome = await provider.send(
      { token: 'after-revoke', title: 't', body: 'b' },
      { idempotencyKey: 'k-401' },
    );
    assert.equal(outcome.status, 'sent');
    assert.equal(fcm.grants.items.length, grantsBefore + 1);
    assert.deepEqual(
      fcm.attempts.items.map((attempt) => attempt.status),
      [401, 200],
    );
  });

  const cases: Array<
    [
      string,
      Parameters<FakeFcm['behave']>[1],
      number | undefined,
      Partial<DeliveryOutcome> & { status: string },
    ]
  > = [
    [
      'UNREGISTERED → permanent, token retired',
      'unregistered',
      undefined,
      { status: 'permanent', cause: 'recipient', code: 'UNREGISTERED', tokenUnregistered: true },
    ],
    [
      'INVALID_ARGUMENT for the token → permanent, token retired',
      'invalid-token',
      undefined,
      { status: 'permanent', cause: 'recipient', code: 'INVALID_ARGUMENT', tokenUnregistered: true },
    ],
    [
      'SENDER_ID_MISMATCH → configuration, token kept',
      'sender-id-mismatch',
      undefined,
      { status: 'permanent', cause: 'configuration', code: 'SENDER_ID_MISMATCH' },
    ],
    [
      'QUOTA_EXCEEDED with Retry-After → transient',
      'quota-exceeded',
      30,
      { status: 'transient', code: 'QUOTA_EXCEEDED', retryAfterMs: 30_000 },
    ],
    [
      'UNAVAILABLE with Retry-After → transient',
      'unavailable',
      5,
      { status: 'transient', code: 'UNAVAILABLE', retryAfterMs: 5_000 },
    ],
    ['INTERNAL → transient', 'internal', undefined, { status: 'transient', code: 'INTERNAL' }],
  ];
  for (const [name, behaviour, retryAfterSeconds, expected] of cases) {
    test(name, async () => {
      const token = `token-${behaviour}`;
      fcm.behave(token, behaviour, retryAfterSeconds === undefined ? {} : { retryAfterSeconds });
      const outcome = await provider.send(
        { token, title: 't', body: 'b' },
        { idempotencyKey: `k-${behaviour}` },
      );
      for (const [field, value] of Object.entries(expected)) {
        assert.deepEqual(
          (outcome as unknown as Record<string, unknown>)[field],
          value,
          `${field}: ${outcome.reason}`,
        );
      }
      if (outcome.status === 'permanent' && !('tokenUnregistered' in expected))
        assert.equal(outcome.tokenUnregistered, undefined);
    });
  }

  test('a service account the token endpoint does not trust is a configuration failure', async () => {
    const stranger = testServiceAccount().keyFile(fcm.tokenUri);
    const untrusted = createFcmProvider({ serviceAccount: stranger, baseUrl: fcm.url, clock: clock.now });
    try {
      fcm.attempts.clear();
      const outcome = await untrusted.send(
        { token: 'x', title: 't', body: 'b' },
        { idempotencyKey: 'k-untrusted' },
      );
      assert.equal(outcome.status, 'permanent');
      assert.equal(outcome.status === 'permanent' && outcome.cause, 'configuration');
      assert.match(outcome.reason, /invalid_grant/);
      assert.equal(fcm.attempts.items.length, 0, 'no send without a token');
    } finally {
      untrusted.close();
    }
  });

  test('an unreachable FCM is transient', async () => {
    const port = await closedPort();
    const unreachable = createFcmProvider({
      serviceAccount: account,
      baseUrl: `http://127.0.0.1:${port}`,
      clock: clock.now,
    });
    try {
      const outcome = await unreachable.send(
        { token: 'x', title: 't', body: 'b' },
        { idempotencyKey: 'k-down' },
      );
      assert.equal(outcome.status, 'transient');
      assert.equal(outcome.status === 'transient' && outcome.code, 'network');
    } finally {
      unreachable.close();
    }
  });

  test('a service account without a private key is refused at construction', () => {
    assert.throws(
      () => createFcmProvider({ serviceAccount: { ...account, private_key: '' } }),
      /private_key/,
    );
  });
});
