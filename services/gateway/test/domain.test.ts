import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  API_CSP,
  allowedOrigin,
  clientAddressKey,
  contentSecurityPolicyFor,
  corsHeaders,
  DOCUMENT_CSP,
  downstreamResponseHeaders,
  hasDotSegment,
  isExemptPath,
  isPreflight,
  isUpstreamFailure,
  rateLimitSubject,
  rateLimitVerdict,
  resolveGatewayOptions,
  retryAfterSeconds,
  shouldRetry,
  upstreamRequestHeaders,
  upstreamTarget,
} from '../src/domain.ts';

const quotas = {
  anonymous: { max: 100, windowSeconds: 900 },
  authenticated: { max: 1000, windowSeconds: 900 },
};

describe('gateway domain', () => {
  describe('options', () => {
    it('given nothing, when resolved, then source C limits, the documented defaults and no CORS apply', () => {
      const resolved = resolveGatewayOptions({});
      assert.deepEqual(resolved.rateLimit, {
        anonymous: { max: 100, windowSeconds: 900 },
        authenticated: { max: 1000, windowSeconds: 900 },
        exemptPaths: ['/health', '/ready', '/metrics'],
      });
      assert.deepEqual(resolved.corsOrigins, []);
      assert.equal(resolved.hsts, false);
      assert.equal(resolved.upstreamTimeoutMs, 10_000);
      assert.equal(resolved.breaker.failureThreshold, 5);
    });

    it('given settings that cannot work, when resolved, then each is refused naming the setting', () => {
      const cases: Array<[Parameters<typeof resolveGatewayOptions>[0], RegExp]> = [
        [{ corsOrigins: ['https://app.example.com/'] }, /corsOrigins: "https:\/\/app.example.com\/"/],
        [{ corsOrigins: ['app.example.com'] }, /corsOrigins/],
        [{ rateLimit: { anonymous: { max: 0, windowSeconds: 60 } } }, /rateLimit.anonymous.max/],
        [
          { rateLimit: { authenticated: { max: 5, windowSeconds: 1.5 } } },
          /rateLimit.authenticated.windowSeconds/,
        ],
        [{ rateLimit: { exemptPaths: ['health'] } }, /exemptPaths/],
        [{ upstreamTimeoutMs: -1 }, /upstreamTimeoutMs/],
        [{ upstreams: [{ prefix: '/api/v1/tasks/', urls: ['http://a:1'] }] }, /prefix "\/api\/v1\/tasks\/"/],
        [{ upstreams: [{ prefix: '/api/../admin', urls: ['http://a:1'] }] }, /prefix/],
        [{ upstreams: [{ prefix: '/api/v1/tasks', urls: [] }] }, /has no urls/],
        [{ upstreams: [{ prefix: '/api/v1/tasks', urls: ['ftp://a'] }] }, /"ftp:\/\/a"/],
        [{ upstreams: [{ prefix: '/api/v1/tasks', urls: ['http://user:pw@a:1'] }] }, /without credentials/],
        [
          {
            upstreams: [
              { prefix: '/x', urls: ['http://a:1'] },
              { prefix: '/x', urls: ['http://b:1'] },
            ],
          },
          /repeated/,
        ],
      ];
      for (const [options, message] of cases) {
        assert.throws(() => resolveGatewayOptions(options), message, JSON.stringify(options));
      }
    });
  });

  describe('security headers', () => {
    it('given a JSON or unknown response, then the API policy; given HTML, then the document policy', () => {
      assert.equal(contentSecurityPolicyFor('application/json; charset=utf-8'), API_CSP);
      assert.equal(contentSecurityPolicyFor(undefined), API_CSP);
      assert.equal(contentSecurityPolicyFor('text/html; charset=utf-8'), DOCUMENT_CSP);
      assert.doesNotMatch(DOCUMENT_CSP, /script-src[^;]*unsafe/);
      assert.match(DOCUMENT_CSP, /frame-ancestors 'none'/);
    });
  });

  describe('CORS', () => {
    const origins = ['https://app.example.com'];

    it('given an exact list, then only a listed origin is echoed', () => {
      assert.equal(allowedOrigin(origins, 'https://app.example.com'), 'https://app.example.com');
      assert.equal(allowedOrigin(origins, 'https://app.example.com.evil.net'), undefined);
      assert.equal(allowedOrigin(origins, 'null'), undefined);
      assert.equal(allowedOrigin(origins, undefined), undefined);
      assert.equal(allowedOrigin(['*'], 'https://anyone.net'), '*');
      assert.equal(allowedOrigin([], 'https://app.example.com'), undefined);
    });

    it('given a refused origin, then only vary: Origin, so caches keep answers per origin', () => {
      assert.deepEqual(corsHeaders(origins, 'https://evil.net', undefined), { vary: 'Origin' });
      assert.deepEqual(corsHeaders(origins, 'https://evil.net', { maxAgeSeconds: 600 }), { vary: 'Origin' });
    });

    it('given CORS switched off, then no header at all', () => {
      assert.deepEqual(corsHeaders([], 'https://app.example.com', { maxAgeSeconds: 600 }), {});
    });

    it('given an allowed preflight, then methods, request headers and max age; no expose list', () => {
      const headers = corsHeaders(origins, 'https://app.example.com', { maxAgeSeconds: 600 });
      assert.equal(headers['access-control-allow-origin'], 'https://app.example.com');
      assert.equal(headers['access-control-max-age'], '600');
      for (const name of ['authorization', 'content-type', 'x-api-key', 'idempotency-key', 'x-request-id']) {
        assert.match(String(headers['access-control-allow-headers']), new RegExp(`\\b${name}\\b`));
      }
      assert.match(String(headers['access-control-allow-methods']), /\bPATCH\b/);
      assert.equal(headers['access-control-expose-headers'], undefined);
    });

    it('given an allowed actual request, then the rate-limit, cursor and request-id headers are exposed', () => {
      const headers = corsHeaders(origins, 'https://app.example.com', undefined);
      for (const name of [
        'RateLimit-Remaining',
        'RateLimit-Reset',
        'Retry-After',
        'X-Next-Cursor',
        'X-Request-Id',
      ]) {
        assert.match(String(headers['access-control-expose-headers']), new RegExp(name));
      }
    });

    it('given OPTIONS without Origin or without a requested method, then it is not a preflight', () => {
      assert.equal(
        isPreflight('OPTIONS', { origin: 'https://a', 'access-control-request-method': 'PUT' }),
        true,
      );
      assert.equal(isPreflight('OPTIONS', { origin: 'https://a' }), false);
      assert.equal(isPreflight('OPTIONS', { 'access-control-request-method': 'PUT' }), false);
      assert.equal(
        isPreflight('GET', { origin: 'https://a', 'access-control-request-method': 'PUT' }),
        false,
      );
    });
  });

  describe('rate limits', () => {
    it('given an API key, a user and no identity, then each spends its own budget under its own key', () => {
      assert.deepEqual(
        rateLimitSubject(
          { kind: 'api_key', userId: 'u1', role: 'admin', apiKeyId: 'k1' },
          '10.0.0.1',
          quotas,
        ),
        { scope: 'api_key', key: 'rate_limit:key:k1', quota: quotas.authenticated },
      );
      assert.deepEqual(rateLimitSubject({ kind: 'user', userId: 'u1', role: 'member' }, '10.0.0.1', quotas), {
        scope: 'user',
        key: 'rate_limit:user:u1',
        quota: quotas.authenticated,
      });
      assert.deepEqual(rateLimitSubject(undefined, '10.0.0.1', quotas), {
        scope: 'anonymous',
        key: 'rate_limit:10.0.0.1',
        quota: quotas.anonymous,
      });
    });

    it('given IPv6 addresses in one /64, then they share one budget; IPv4-mapped counts as IPv4', () => {
      assert.equal(clientAddressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
      assert.equal(clientAddressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
      assert.equal(clientAddressKey('::1'), '0:0:0:0::/64');
      assert.equal(clientAddressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
      assert.equal(clientAddressKey('::ffff:192.0.2.7'), '192.0.2.7');
      assert.equal(clientAddressKey('192.0.2.7'), '192.0.2.7');
    });

    it('given counts up to the max, then remaining counts down and nothing is limited', () => {
      const quota = { max: 3, windowSeconds: 60 };
      assert.deepEqual(rateLimitVerdict(quota, { count: 1, resetInMs: 60_000 }), {
        limited: false,
        headers: {
          'ratelimit-limit': '3',
          'ratelimit-remaining': '2',
          'ratelimit-reset': '60',
          'ratelimit-policy': '3;w=60',
        },
      });
      assert.equal(rateLimitVerdict(quota, { count: 3, resetInMs: 1 }).limited, false);
    });

    it('given a count over the max, then limited, remaining 0 and Retry-After rounded up, never 0', () => {
      const quota = { max: 3, windowSeconds: 60 };
      const verdict = rateLimitVerdict(quota, { count: 9, resetInMs: 12_001 });
      assert.equal(verdict.limited, true);
      assert.equal(verdict.headers['ratelimit-remaining'], '0');
      assert.equal(verdict.headers['retry-after'], '13');
      assert.equal(rateLimitVerdict(quota, { count: 4, resetInMs: 0 }).headers['retry-after'], '1');
    });

    it('given probe paths, then only those exact paths are exempt', () => {
      const exempt = ['/health', '/ready', '/metrics'];
      assert.equal(isExemptPath('/health', exempt), true);
      assert.equal(isExemptPath('/health/?verbose=1', exempt), true);
      assert.equal(isExemptPath('/healthz', exempt), false);
      assert.equal(isExemptPath('/health/../api/v1/tasks', exempt), false);
      assert.equal(isExemptPath('/api/v1/tasks?x=/health', exempt), false);
    });
  });

  describe('retries', () => {
    const refused = { kind: 'connection_error' } as const;
    const timeout = { kind: 'timeout' } as const;
    const status = (code: number) => ({ kind: 'response', status: code }) as const;

    it('given an idempotent method and a connection error or 502/503/504, then retry up to twice', () => {
      for (const method of ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']) {
        for (const outcome of [refused, status(502), status(503), status(504)]) {
          assert.equal(shouldRetry(method, outcome, 0), true, `${method} ${JSON.stringify(outcome)}`);
          assert.equal(shouldRetry(method, outcome, 1), true);
          assert.equal(shouldRetry(method, outcome, 2), false, 'a third retry is one too many');
        }
      }
    });

    it('given POST or PATCH, then never retry, whatever failed', () => {
      for (const method of ['POST', 'PATCH']) {
        for (const outcome of [refused, status(502), status(503)])
          assert.equal(shouldRetry(method, outcome, 0), false);
      }
    });

    it('given a timeout or an ordinary answer (500 and 429 included), then no retry', () => {
      for (const outcome of [timeout, status(200), status(404), status(429), status(500)]) {
        assert.equal(shouldRetry('GET', outcome, 0), false, JSON.stringify(outcome));
      }
    });

    it('given a 500, then the instance is not counted as failing; given 503 or a timeout, it is', () => {
      assert.equal(isUpstreamFailure(status(500)), false);
      assert.equal(isUpstreamFailure(status(503)), true);
      assert.equal(isUpstreamFailure(timeout), true);
      assert.equal(isUpstreamFailure(refused), true);
    });

    it('given an open period, then Retry-After is whole seconds, at least 1', () => {
      assert.equal(retryAfterSeconds(30_000), 30);
      assert.equal(retryAfterSeconds(29_001), 30);
      assert.equal(retryAfterSeconds(0), 1);
    });
  });

  describe('forwarded headers', () => {
    const context = {
      peerAddress: '10.1.1.1',
      protocol: 'https',
      host: 'api.example.com',
      requestId: 'req-1',
      bodyBytes: 7,
    };

    it('given hop-by-hop headers and headers named in Connection, then they are not passed upstream', () => {
      const headers = upstreamRequestHeaders(
        {
          connection: 'keep-alive, X-Secret-Hop',
          'keep-alive': 'timeout=5',
          'x-secret-hop': 'internal',
          te: 'trailers',
          'transfer-encoding': 'chunked',
          upgrade: 'websocket',
          'proxy-authorization': 'Basic abc',
          host: 'api.example.com',
          'content-length': '999',
          authorization: 'Bearer t',
          'x-api-key': 'k',
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
          'idempotency-key': 'i-1',
          'content-type': 'application/json',
          'x-request-id': 'forged',
        },
        context,
      );
      assert.deepEqual(headers, {
        authorization: 'Bearer t',
        'x-api-key': 'k',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        'idempotency-key': 'i-1',
        'content-type': 'application/json',
        'x-forwarded-for': '10.1.1.1',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'api.example.com',
        'x-request-id': 'req-1',
        'content-length': '7',
      });
    });

    it('given an earlier X-Forwarded-For, then the peer is appended, not substituted', () => {
      const headers = upstreamRequestHeaders(
        { 'x-forwarded-for': '203.0.113.9' },
        { ...context, bodyBytes: undefined },
      );
      assert.equal(headers['x-forwarded-for'], '203.0.113.9, 10.1.1.1');
      assert.equal(headers['content-length'], undefined);
    });

    it('given an upstream answer, then banners, its CORS and its security headers are dropped, the rest kept', () => {
      assert.deepEqual(
        downstreamResponseHeaders({
          'content-type': 'application/json',
          'content-length': '2',
          'content-encoding': 'gzip',
          'set-cookie': ['a=1', 'b=2'],
          location: '/api/v1/tasks/1',
          'x-next-cursor': 'abc',
          'retry-after': '5',
          connection: 'close',
          'transfer-encoding': 'chunked',
          'x-powered-by': 'Express',
          server: 'nginx/1.2',
          'access-control-allow-origin': '*',
          'content-security-policy': 'default-src *',
          'ratelimit-remaining': '99',
        }),
        {
          'content-type': 'application/json',
          'content-length': '2',
          'content-encoding': 'gzip',
          'set-cookie': ['a=1', 'b=2'],
          location: '/api/v1/tasks/1',
          'x-next-cursor': 'abc',
          'retry-after': '5',
        },
      );
    });

    it('given dot segments, plain or encoded, then the path is refused; dots inside names are fine', () => {
      for (const url of [
        '/api/v1/tasks/../users',
        '/api/v1/tasks/%2e%2E/users',
        '/api/v1/tasks/./x',
        '/a/.%2e',
        '/a\\..\\b',
        '/a/..%2fb',
      ]) {
        assert.equal(hasDotSegment(url), true, url);
      }
      for (const url of [
        '/api/v1/tasks/a.b',
        '/api/v1/tasks/...',
        '/api/v1/tasks?x=../y',
        '/api/v1/tasks/.well',
      ]) {
        assert.equal(hasDotSegment(url), false, url);
      }
    });

    it('given a base URL with or without a path, then the request path and query follow it unchanged', () => {
      assert.equal(
        upstreamTarget('http://10.0.0.5:3001', '/api/v1/tasks?a=1&b=%20').href,
        'http://10.0.0.5:3001/api/v1/tasks?a=1&b=%20',
      );
      assert.equal(upstreamTarget('http://h/base/', '/api/v1/tasks/1').href, 'http://h/base/api/v1/tasks/1');
    });
  });
});
