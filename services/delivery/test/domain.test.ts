import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  classifyFcmResponse,
  classifyOAuthTokenFailure,
  classifyRequestFailure,
  classifySmtpError,
  classifyTwilioResponse,
  classifyWebhookResponse,
  classifyWebPushResponse,
  FCM_QUOTA_BACKOFF_MS,
  htmlToText,
  isE164,
  isFcmTokenRejection,
  isProviderFault,
  isPublicAddress,
  messageIdFor,
  parseRetryAfterMs,
  pushTopicFor,
  signWebhook,
  targetUrlProblem,
  verifyWebhookSignature,
} from '../src/domain.ts';

const NOW_MS = Date.parse('2025-06-01T12:00:00Z');

/** The fields a table row asserts: status, cause, code, tokenUnregistered, retryAfterMs. */
function shape(outcome: ReturnType<typeof classifyFcmResponse>) {
  return {
    status: outcome.status,
    cause: outcome.status === 'permanent' ? outcome.cause : undefined,
    code: 'code' in outcome ? outcome.code : undefined,
    tokenUnregistered: outcome.status === 'permanent' ? (outcome.tokenUnregistered ?? false) : false,
    retryAfterMs: outcome.status === 'transient' ? outcome.retryAfterMs : undefined,
  };
}

describe('SMTP replies and errors', () => {
  const cases: Array<[string, Parameters<typeof classifySmtpError>[0], string, string | undefined]> = [
    [
      '550 at RCPT TO: mailbox unavailable',
      { message: 'x', code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO' },
      'permanent',
      'recipient',
    ],
    [
      '553 at RCPT TO: mailbox name not allowed',
      { message: 'x', code: 'EENVELOPE', responseCode: 553, command: 'RCPT TO' },
      'permanent',
      'recipient',
    ],
    [
      '552 at DATA: message too big',
      { message: 'x', code: 'EMESSAGE', responseCode: 552, command: 'DATA' },
      'permanent',
      'content',
    ],
    [
      '554 at DATA: rejected as spam',
      { message: 'x', code: 'EMESSAGE', responseCode: 554, command: 'DATA' },
      'permanent',
      'content',
    ],
    [
      '550 at MAIL FROM: sender refused',
      { message: 'x', code: 'EENVELOPE', responseCode: 550, command: 'MAIL FROM' },
      'permanent',
      'configuration',
    ],
    [
      '535 authentication failed',
      { message: 'x', code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN' },
      'permanent',
      'configuration',
    ],
    [
      '421 service not available',
      { message: 'x', code: 'EPROTOCOL', responseCode: 421, command: 'CONN' },
      'transient',
      undefined,
    ],
    [
      '450 mailbox busy',
      { message: 'x', code: 'EENVELOPE', responseCode: 450, command: 'RCPT TO' },
      'transient',
      undefined,
    ],
    [
      '451 local error',
      { message: 'x', code: 'EMESSAGE', responseCode: 451, command: 'DATA' },
      'transient',
      undefined,
    ],
    [
      '503 bad sequence',
      { message: 'x', code: 'EPROTOCOL', responseCode: 503, command: 'DATA' },
      'transient',
      undefined,
    ],
    ['connection refused', { message: 'connect ECONNREFUSED', code: 'ESOCKET' }, 'transient', undefined],
    ['connection closed', { message: 'closed', code: 'ECONNECTION' }, 'transient', undefined],
    ['greeting timeout', { message: 'Greeting never received', code: 'ETIMEDOUT' }, 'transient', undefined],
    ['DNS failure', { message: 'getaddrinfo ENOTFOUND', code: 'EDNS' }, 'transient', undefined],
    ['aborted by the caller', { message: 'aborted', code: 'EABORT' }, 'transient', undefined],
    [
      'no credentials configured',
      { message: 'Missing credentials', code: 'ENOAUTH' },
      'permanent',
      'configuration',
    ],
    ['no recipients', { message: 'No recipients defined', code: 'EENVELOPE' }, 'permanent', 'content'],
    ['unknown error', { message: 'something odd' }, 'transient', undefined],
  ];
  for (const [name, error, status, cause] of cases) {
    test(name, () => {
      const outcome = classifySmtpError(error);
      assert.equal(outcome.status, status);
      assert.equal(outcome.status === 'permanent' ? outcome.cause : undefined, cause);
      assert.ok(outcome.reason.length > 0);
    });
  }
});

describe('FCM HTTP v1 answers', () => {
  const fcmError = (code: number, status: string, errorCode?: string, message = 'm', extra: unknown[] = []) =>
    JSON.stringify({
      error: {
        code,
        message,
        status,
        details: [
          ...(errorCode
            ? [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }]
            : []),
          ...extra,
        ],
      },
    });

  test('200 is sent, with the message resource name as the id', () => {
    const outcome = classifyFcmResponse(200, '{"name":"projects/p/messages/0:1%ab"}', undefined, NOW_MS);
    assert.deepEqual(outcome, {
      status: 'sent',
      providerMessageId: 'projects/p/messages/0:1%ab',
      reason: 'accepted by FCM',
    });
  });

  const table: Array<[string, number, string, string | undefined, ReturnType<typeof shape>]> = [
    [
      '404 UNREGISTERED retires the token',
      404,
      fcmError(404, 'NOT_FOUND', 'UNREGISTERED'),
      undefined,
      {
        status: 'permanent',
        cause: 'recipient',
        code: 'UNREGISTERED',
        tokenUnregistered: true,
        retryAfterMs: undefined,
      },
    ],
    [
      '400 INVALID_ARGUMENT about the registration token retires it',
      400,
      fcmError(
        400,
        'INVALID_ARGUMENT',
        'INVALID_ARGUMENT',
        'The registration token is not a valid FCM registration token',
      ),
      undefined,
      {
        status: 'permanent',
        cause: 'recipient',
        code: 'INVALID_ARGUMENT',
        tokenUnregistered: true,
        retryAfterMs: undefined,
      },
    ],
    [
      '400 INVALID_ARGUMENT with a field violation on message.token retires it',
      400,
      fcmError(400, 'INVALID_ARGUMENT', undefined, 'Invalid value', [
        {
          '@type': 'type.googleapis.com/google.rpc.BadRequest',
          fieldViolations: [{ field: 'message.token' }],
        },
      ]),
      undefined,
      {
        status: 'permanent',
        cause: 'recipient',
        code: 'INVALID_ARGUMENT',
        tokenUnregistered: true,
        retryAfterMs: undefined,
      },
    ],
    [
      '400 INVALID_ARGUMENT about the payload keeps the token',
      400,
      fcmError(
        400,
        'INVALID_ARGUMENT',
        undefined,
        "Invalid value at 'message.data[0].value' (TYPE_STRING), 12",
        [
          {
            '@type': 'type.googleapis.com/google.rpc.BadRequest',
            fieldViolations: [{ field: 'message.data[0].value' }],
          },
        ],
      ),
      undefined,
      {
        status: 'permanent',
        cause: 'content',
        code: 'INVALID_ARGUMENT',
        tokenUnregistered: false,
        retryAfterMs: undefined,
      },
    ],
    [
      '403 SENDER_ID_MISMATCH is our configuration, the token is kept',
      403,
      fcmError(403, 'PERMISSION_DENIED', 'SENDER_ID_MISMATCH'),
      undefined,
      {
        status: 'permanent',
        cause: 'configuration',
        code: 'SENDER_ID_MISMATCH',
        tokenUnregistered: false,
        retryAfterMs: undefined,
      },
    ],
    [
      '401 THIRD_PARTY_AUTH_ERROR is our APNs/web credentials',
      401,
      fcmError(401, 'UNAUTHENTICATED', 'THIRD_PARTY_AUTH_ERROR'),
      undefined,
      {
        status: 'permanent',
        cause: 'configuration',
        code: 'THIRD_PARTY_AUTH_ERROR',
        tokenUnregistered: false,
        retryAfterMs: undefined,
      },
    ],
    [
      '429 QUOTA_EXCEEDED honours Retry-After',
      429,
      fcmError(429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED'),
      '30',
      {
        status: 'transient',
        cause: undefined,
        code: 'QUOTA_EXCEEDED',
        tokenUnregistered: false,
        retryAfterMs: 30_000,
      },
    ],
    [
      '429 QUOTA_EXCEEDED without Retry-After backs off a minute',
      429,
      fcmError(429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED'),
      undefined,
      {
        status: 'transient',
        cause: undefined,
        code: 'QUOTA_EXCEEDED',
        tokenUnregistered: false,
        retryAfterMs: FCM_QUOTA_BACKOFF_MS,
      },
    ],
    [
      '503 UNAVAILABLE honours Retry-After',
      503,
      fcmError(503, 'UNAVAILABLE', 'UNAVAILABLE'),
      '7',
      {
        status: 'transient',
        cause: undefined,
        code: 'UNAVAILABLE',
        tokenUnregistered: false,
        retryAfterMs: 7_000,
      },
    ],
    [
      '503 UNAVAILABLE without Retry-After leaves the schedule to the runner',
      503,
      fcmError(503, 'UNAVAILABLE', 'UNAVAILABLE'),
      undefined,
      {
        status: 'transient',
        cause: undefined,
        code: 'UNAVAILABLE',
        tokenUnregistered: false,
        retryAfterMs: undefined,
      },
    ],
    [
      '500 INTERNAL is transient',
      500,
      fcmError(500, 'INTERNAL', 'INTERNAL'),
      undefined,
      {
        status: 'transient',
        cause: undefined,
        code: 'INTERNAL',
        tokenUnregistered: false,
        retryAfterMs: undefined,
      },
    ],
    [
      'a bare 404 retires the token',
      404,
      'Not Found',
      undefined,
      {
        status: 'permanent',
        cause: 'recipient',
        code: '404',
        tokenUnregistered: true,
        retryAfterMs: undefined,
      },
    ],
    [
      'a bare 502 is transient',
      502,
      '<html>bad gateway</html>',
      undefined,
      {
        status: 'transient',
        cause: undefined,
        code: '502',
        tokenUnregistered: false,
        retryAfterMs: undefined,
      },
    ],
    [
      '401 UNAUTHENTICATED (after the retry) is configuration',
      401,
      fcmError(401, 'UNAUTHENTICATED'),
      undefined,
      {
        status: 'permanent',
        cause: 'configuration',
        code: 'UNAUTHENTICATED',
        tokenUnregistered: false,
        retryAfterMs: undefined,
      },
    ],
  ];
  for (const [name, status, body, retryAfter, expected] of table) {
    test(name, () =>
      assert.deepEqual(shape(classifyFcmResponse(status, body, retryAfter, NOW_MS)), expected),
    );
  }

  test('a 401 is worth a fresh access token unless it is THIRD_PARTY_AUTH_ERROR', () => {
    assert.equal(isFcmTokenRejection(401, fcmError(401, 'UNAUTHENTICATED')), true);
    assert.equal(isFcmTokenRejection(401, fcmError(401, 'UNAUTHENTICATED', 'THIRD_PARTY_AUTH_ERROR')), false);
    assert.equal(isFcmTokenRejection(403, fcmError(403, 'PERMISSION_DENIED')), false);
  });

  test('token endpoint: invalid_grant is configuration, 5xx transient', () => {
    const refused = classifyOAuthTokenFailure(
      400,
      '{"error":"invalid_grant","error_description":"Invalid JWT Signature."}',
      undefined,
      NOW_MS,
    );
    assert.equal(refused.status, 'permanent');
    assert.equal(refused.status === 'permanent' && refused.cause, 'configuration');
    assert.match(refused.reason, /Invalid JWT Signature/);
    assert.equal(classifyOAuthTokenFailure(503, '', '2', NOW_MS).status, 'transient');
  });
});

describe('Web Push answers', () => {
  const table: Array<[number, ReturnType<typeof shape>]> = [
    [
      410,
      {
        status: 'permanent',
        cause: 'recipient',
        code: '410',
        tokenUnregistered: true,
        retryAfterMs: undefined,
      },
    ],
    [
      404,
      {
        status: 'permanent',
        cause: 'recipient',
        code: '404',
        tokenUnregistered: true,
        retryAfterMs: undefined,
      },
    ],
    [
      413,
      {
        status: 'permanent',
        cause: 'content',
        code: '413',
        tokenUnregistered: false,
        retryAfterMs: undefined,
      },
    ],
    [
      400,
      {
        status: 'permanent',
        cause: 'content',
        code: '400',
        tokenUnregistered: false,
        retryAfterMs: undefined,
      },
    ],
    [
      401,
      {
        status: 'permanent',
        cause: 'configuration',
        code: '401',
        tokenUnregistered: false,
        retryAfterMs: undefined,
      },
    ],
    [
      403,
      {
        status: 'permanent',
        cause: 'configuration',
        code: '403',
        tokenUnregistered: false,
        retryAfterMs: undefined,
      },
    ],
    [
      429,
      { status: 'transient', cause: undefined, code: '429', tokenUnregistered: false, retryAfterMs: 12_000 },
    ],
    [
      503,
      { status: 'transient', cause: undefined, code: '503', tokenUnregistered: false, retryAfterMs: 12_000 },
    ],
  ];
  for (const [status, expected] of table) {
    test(`${status}`, () =>
      assert.deepEqual(shape(classifyWebPushResponse(status, undefined, '12', NOW_MS)), expected));
  }
  test('201 is sent with the Location as the id', () => {
    const outcome = classifyWebPushResponse(201, 'https://push.example/m/1', undefined, NOW_MS);
    assert.equal(outcome.status, 'sent');
    assert.equal(outcome.status === 'sent' && outcome.providerMessageId, 'https://push.example/m/1');
  });
  test('the Topic is stable per delivery and within RFC 8030 limits', () => {
    const topic = pushTopicFor('0197a1b2-0000-7000-8000-000000000001');
    assert.equal(topic, pushTopicFor('0197a1b2-0000-7000-8000-000000000001'));
    assert.notEqual(topic, pushTopicFor('0197a1b2-0000-7000-8000-000000000002'));
    assert.match(topic, /^[A-Za-z0-9_-]{32}$/);
  });
});

describe('Twilio answers', () => {
  const error = (code: number, status: number) =>
    JSON.stringify({
      code,
      message: `error ${code}`,
      more_info: `https://www.twilio.com/docs/errors/${code}`,
      status,
    });
  const table: Array<[string, number, string, string | undefined, ReturnType<typeof shape>]> = [
    [
      '21211 invalid To',
      400,
      error(21211, 400),
      undefined,
      {
        status: 'permanent',
        cause: 'recipient',
        code: '21211',
        tokenUnregistered: false,
        retryAfterMs: undefined,
      },
    ],
    [
      '21614 not a mobile number',
      400,
      error(21614, 400),
      undefined,
      {
        status: 'permanent',
        cause: 'recipient',
        code: '21614',
        tokenUnregistered: false,
        retryAfterMs: undefined,
      },
    ],
    [
      '21610 unsubscribed (STOP)',
      400,
      error(21610, 400),
      undefined,
      {
        status: 'permanent',
        cause: 'recipient',
        code: '21610',
        tokenUnregistered: false,
        retryAfterMs: undefined,
      },
    ],
    [
      '20003 authentication',
      401,
      error(20003, 401),
      undefined,
      {
        status: 'permanent',
        cause: 'configuration',
        code: '20003',
        tokenUnregistered: false,
        retryAfterMs: undefined,
      },
    ],
    [
      '21606 From cannot send SMS',
      400,
      error(21606, 400),
      undefined,
      {
        status: 'permanent',
        cause: 'configuration',
        code: '21606',
        tokenUnregistered: false,
        retryAfterMs: undefined,
      },
    ],
    [
      '20429 too many requests',
      429,
      error(20429, 429),
      '3',
      { status: 'transient', cause: undefined, code: '20429', tokenUnregistered: false, retryAfterMs: 3000 },
    ],
    [
      'a 503',
      503,
      error(20503, 503),
      undefined,
      {
        status: 'transient',
        cause: undefined,
        code: '20503',
        tokenUnregistered: false,
        retryAfterMs: undefined,
      },
    ],
    [
      'a 500 without a body',
      500,
      '',
      undefined,
      {
        status: 'transient',
        cause: undefined,
        code: '500',
        tokenUnregistered: false,
        retryAfterMs: undefined,
      },
    ],
    [
      'an unknown 400 code',
      400,
      error(21999, 400),
      undefined,
      {
        status: 'permanent',
        cause: 'content',
        code: '21999',
        tokenUnregistered: false,
        retryAfterMs: undefined,
      },
    ],
  ];
  for (const [name, status, body, retryAfter, expected] of table) {
    test(name, () =>
      assert.deepEqual(shape(classifyTwilioResponse(status, body, retryAfter, NOW_MS)), expected),
    );
  }
  test('201 is sent with the message SID', () => {
    const outcome = classifyTwilioResponse(201, '{"sid":"SMabc","status":"queued"}', undefined, NOW_MS);
    assert.deepEqual(outcome, {
      status: 'sent',
      providerMessageId: 'SMabc',
      reason: 'accepted by the SMS provider (queued)',
    });
  });
  test('E.164', () => {
    for (const valid of ['+14155552671', '+4915112345678', '+12', '+123456789012345'])
      assert.equal(isE164(valid), true, valid);
    for (const invalid of [
      '14155552671',
      '+04155552671',
      '+1 415 555 2671',
      '+1234567890123456',
      '+',
      '',
      '+1-415-555',
    ]) {
      assert.equal(isE164(invalid), false, invalid);
    }
  });
});

describe('webhook answers', () => {
  const table: Array<[number, string, string | undefined]> = [
    [200, 'delivered', undefined],
    [204, 'delivered', undefined],
    [301, 'permanent', 'configuration'],
    [400, 'permanent', 'content'],
    [401, 'permanent', 'configuration'],
    [404, 'permanent', 'recipient'],
    [410, 'permanent', 'recipient'],
    [422, 'permanent', 'content'],
    [408, 'transient', undefined],
    [429, 'transient', undefined],
    [500, 'transient', undefined],
    [503, 'transient', undefined],
  ];
  for (const [status, expected, cause] of table) {
    test(`${status} → ${expected}`, () => {
      const outcome = classifyWebhookResponse(status, undefined, NOW_MS, 'delivery-1');
      assert.equal(outcome.status, expected);
      assert.equal(outcome.status === 'permanent' ? outcome.cause : undefined, cause);
    });
  }
});

describe('webhook signatures', () => {
  const body = '{"event":"notification.created","id":"n1"}';

  test('the documented scheme: t=<seconds>,v1=hex(HMAC-SHA256(secret, "<t>.<body>"))', async () => {
    const { createHmac } = await import('node:crypto');
    const expected = createHmac('sha256', 'whsec_test').update(`1700000000.${body}`).digest('hex');
    assert.equal(signWebhook('whsec_test', 1700000000, body), `t=1700000000,v1=${expected}`);
  });

  test('verifies within the tolerance, with either secret during a rotation', () => {
    const header = signWebhook(['new-secret', 'old-secret'], 1700000000, body);
    assert.equal(header.split(',').length, 3);
    for (const secret of ['new-secret', 'old-secret']) {
      assert.deepEqual(verifyWebhookSignature({ header, rawBody: body, secret, nowSeconds: 1700000299 }), {
        ok: true,
        timestampSeconds: 1700000000,
      });
    }
    assert.equal(
      verifyWebhookSignature({
        header,
        rawBody: Buffer.from(body),
        secret: 'old-secret',
        nowSeconds: 1700000000,
      }).ok,
      true,
    );
  });

  test('refuses a changed body, a wrong secret, an old timestamp and garbage', () => {
    const header = signWebhook('s3cret', 1700000000, body);
    const verify = (overrides: Partial<Parameters<typeof verifyWebhookSignature>[0]>) =>
      verifyWebhookSignature({
        header,
        rawBody: body,
        secret: 's3cret',
        nowSeconds: 1700000000,
        ...overrides,
      });
    assert.deepEqual(verify({ rawBody: `${body} ` }), { ok: false, reason: 'signature does not match' });
    assert.deepEqual(verify({ secret: 'other' }), { ok: false, reason: 'signature does not match' });
    assert.deepEqual(verify({ nowSeconds: 1700000301 }), {
      ok: false,
      reason: 'timestamp outside the tolerance',
    });
    assert.deepEqual(verify({ nowSeconds: 1699999699 }), {
      ok: false,
      reason: 'timestamp outside the tolerance',
    });
    assert.deepEqual(verify({ header: undefined }), { ok: false, reason: 'no signature header' });
    assert.deepEqual(verify({ header: 'v1=abc' }), { ok: false, reason: 'no timestamp in the signature' });
    assert.deepEqual(verify({ header: 't=1700000000,v1=zz' }), { ok: false, reason: 'no v1 signature' });
    // A timestamp moved forward does not carry the old signature with it.
    const moved = header.replace('t=1700000000', 't=1700000100');
    assert.deepEqual(verify({ header: moved, nowSeconds: 1700000100 }), {
      ok: false,
      reason: 'signature does not match',
    });
  });

  test('an empty secret is refused when signing', () => {
    assert.throws(() => signWebhook('', 1, body), RangeError);
    assert.throws(() => signWebhook([], 1, body), RangeError);
  });
});

describe('outbound URL policy', () => {
  test('non-public addresses', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      '224.0.0.1',
      'not-an-ip',
    ]) {
      assert.equal(isPublicAddress(address), false, address);
    }
    for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      assert.equal(isPublicAddress(address), true, address);
    }
  });

  test('https only unless http is allowed; no credentials; no private literals unless allowed', () => {
    assert.equal(targetUrlProblem('https://hooks.example.com/x', {}), undefined);
    assert.equal(targetUrlProblem('http://hooks.example.com/x', {}), 'only https URLs are allowed');
    assert.equal(targetUrlProblem('http://hooks.example.com/x', { allowHttp: true }), undefined);
    assert.equal(
      targetUrlProblem('ftp://hooks.example.com/x', { allowHttp: true }),
      'only http and https URLs are allowed',
    );
    assert.equal(
      targetUrlProblem('https://user:pw@hooks.example.com/', {}),
      'credentials in the URL are not allowed',
    );
    assert.equal(targetUrlProblem('https://127.0.0.1/', {}), '127.0.0.1 is not a public address');
    assert.equal(targetUrlProblem('https://[::1]:8443/', {}), '::1 is not a public address');
    assert.equal(targetUrlProblem('https://2130706433/', {}), '127.0.0.1 is not a public address');
    assert.equal(
      targetUrlProblem('https://169.254.169.254/latest/meta-data', {}),
      '169.254.169.254 is not a public address',
    );
    assert.equal(targetUrlProblem('https://localhost:3000/', {}), 'localhost is not a public address');
    assert.equal(targetUrlProblem('https://127.0.0.1/', { allowPrivateAddresses: true }), undefined);
    assert.equal(targetUrlProblem('not a url', {}), 'not a valid URL');
  });
});

describe('the rest', () => {
  test('Retry-After: seconds, an HTTP date, garbage', () => {
    assert.equal(parseRetryAfterMs('120', NOW_MS), 120_000);
    assert.equal(parseRetryAfterMs(new Date(NOW_MS + 5_000).toUTCString(), NOW_MS), 5_000);
    assert.equal(parseRetryAfterMs(new Date(NOW_MS - 5_000).toUTCString(), NOW_MS), 0);
    assert.equal(parseRetryAfterMs('soon', NOW_MS), undefined);
    assert.equal(parseRetryAfterMs(undefined, NOW_MS), undefined);
  });

  test('request failures: only a blocked address or an unbuildable request is permanent', () => {
    assert.equal(classifyRequestFailure('timeout', 'after 10 ms').status, 'transient');
    assert.equal(classifyRequestFailure('network', 'ECONNREFUSED').status, 'transient');
    assert.equal(classifyRequestFailure('cancelled', 'aborted').status, 'transient');
    assert.equal(classifyRequestFailure('blocked', '10.0.0.1').status, 'permanent');
    assert.equal(classifyRequestFailure('invalid', 'bad header').status, 'permanent');
  });

  test('provider faults are transient failures and refused credentials', () => {
    assert.equal(isProviderFault({ status: 'transient', reason: 'x' }), true);
    assert.equal(isProviderFault({ status: 'permanent', cause: 'configuration', reason: 'x' }), true);
    assert.equal(isProviderFault({ status: 'permanent', cause: 'recipient', reason: 'x' }), false);
    assert.equal(isProviderFault({ status: 'permanent', cause: 'content', reason: 'x' }), false);
    assert.equal(isProviderFault({ status: 'sent', providerMessageId: 'x', reason: 'x' }), false);
  });

  test('Message-ID: the key itself when it is a safe token, its hash otherwise; the sender domain', () => {
    const key = '0197a1b2-0000-7000-8000-000000000001';
    assert.equal(messageIdFor(key, '"Switchyard" <noreply@Example.com>'), `<${key}@example.com>`);
    assert.equal(messageIdFor(key, 'noreply@mail.example.org'), `<${key}@mail.example.org>`);
    const hashed = messageIdFor('tenant/1:notification 7', 'noreply@example.com');
    assert.match(hashed, /^<[0-9a-f]{40}@example\.com>$/);
    assert.equal(hashed, messageIdFor('tenant/1:notification 7', 'noreply@example.com'));
  });

  test('text from HTML', () => {
    const html = `<html><head><title>T</title><style>p{color:red}</style></head><body>
      <h1>Welcome, Ada &amp; Bob</h1><p>Your task <b>Ship it</b> is due.<br>Tomorrow&nbsp;at 9.</p>
      <script>alert(1)</script><ul><li>one</li><li>two</li></ul>
      <p><a href="https://app.example.com/t/1">Open the task</a> or <a href="https://x.example">https://x.example</a></p>
      <!-- a comment --><p>&#8364;5 &#x2603; &lt;tag&gt;</p></body></html>`;
    assert.equal(
      htmlToText(html),
      [
        'Welcome, Ada & Bob',
        '',
        'Your task Ship it is due.',
        'Tomorrow at 9.',
        '',
        '- one',
        '- two',
        '',
        'Open the task (https://app.example.com/t/1) or https://x.example',
        '',
        '€5 ☃ <tag>',
      ].join('\n'),
    );
    assert.equal(htmlToText('<script>never closed'), '');
    assert.equal(htmlToText('plain'), 'plain');
  });
});
