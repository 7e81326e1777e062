import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { API_CSP, DOCUMENT_CSP } from '../src/domain.ts';
import { bearer, gatewayApp } from './helpers.ts';

const APP_ORIGIN = 'https://app.example.com';

function assertSecurityHeaders(headers: Record<string, unknown>, what: string) {
  assert.equal(headers['x-frame-options'], 'DENY', what);
  assert.equal(headers['referrer-policy'], 'no-referrer', what);
  assert.equal(headers['cross-origin-opener-policy'], 'same-origin', what);
  assert.equal(headers['cross-origin-resource-policy'], 'same-origin', what);
  assert.equal(headers['x-content-type-options'], 'nosniff', what);
  assert.equal(headers['x-powered-by'], undefined, what);
}

describe('gateway security headers', () => {
  it('given JSON answers, refusals (401, 404, 429) and probes, then each carries the strict API headers', async () => {
    const gateway = await gatewayApp({ rateLimit: { anonymous: { max: 1, windowSeconds: 60 } } });
    try {
      const responses = {
        ok: await gateway.app.inject({ url: '/open' }),
        limited: await gateway.app.inject({ url: '/open' }),
        unauthenticated: await gateway.app.inject({ url: '/things', remoteAddress: '10.9.9.9' }),
        missing: await gateway.app.inject({ url: '/nowhere', remoteAddress: '10.9.9.8' }),
        health: await gateway.app.inject({ url: '/health' }),
      };
      assert.deepEqual(
        Object.fromEntries(Object.entries(responses).map(([name, response]) => [name, response.statusCode])),
        { ok: 200, limited: 429, unauthenticated: 401, missing: 404, health: 200 },
      );
      for (const [name, response] of Object.entries(responses)) {
        assertSecurityHeaders(response.headers, name);
        assert.equal(response.headers['content-security-policy'], API_CSP, name);
        assert.equal(
          response.headers['strict-transport-security'],
          undefined,
          `${name}: HSTS is off by default`,
        );
      }
    } finally {
      await gateway.close();
    }
  });

  it('given hsts: true, then Strict-Transport-Security is sent for a year with subdomains', async () => {
    const gateway = await gatewayApp({ hsts: true });
    try {
      const response = await gateway.app.inject({ url: '/open' });
      assert.equal(response.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains');
    } finally {
      await gateway.close();
    }
  });

  it('given the /docs HTML page, then a same-origin document policy lets Swagger UI load, still unframeable', async () => {
    const gateway = await gatewayApp({});
    try {
      const page = await gateway.app.inject({ url: '/docs' });
      assert.equal(page.statusCode, 200);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      assert.equal(page.headers['content-security-policy'], DOCUMENT_CSP);
      assert.equal(page.headers['x-frame-options'], 'DENY');
      const spec = await gateway.app.inject({ url: '/docs/json' });
      assert.equal(spec.headers['content-security-policy'], API_CSP);
    } finally {
      await gateway.close();
    }
  });
});

describe('gateway CORS', () => {
  it('given an allowed origin, when it preflights a protected route, then 204 with the CORS answer, no 401, no budget spent', async () => {
    const gateway = await gatewayApp({
      corsOrigins: [APP_ORIGIN, 'http://localhost:5173'],
      rateLimit: { anonymous: { max: 1, windowSeconds: 60 } },
    });
    try {
      const preflight = () =>
        gateway.app.inject({
          method: 'OPTIONS',
          url: '/things',
          headers: {
            origin: APP_ORIGIN,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'authorization, content-type',
          },
        });
      const first = await preflight();
      assert.equal(first.statusCode, 204);
      assert.equal(first.body, '');
      assert.equal(first.headers['access-control-allow-origin'], APP_ORIGIN);
      assert.equal(first.headers.vary, 'Origin');
      assert.match(String(first.headers['access-control-allow-methods']), /\bPOST\b/);
      assert.match(
        String(first.headers['access-control-allow-headers']),
        /\bauthorization\b.*\bcontent-type\b/,
      );
      assert.equal(first.headers['access-control-max-age'], '600');
      assert.equal(first.headers['ratelimit-limit'], undefined, 'a preflight spends no budget');
      assertSecurityHeaders(first.headers, 'preflight');
      assert.equal((await preflight()).statusCode, 204, 'a second preflight is not rate limited either');
      const real = await gateway.app.inject({ url: '/open', headers: { origin: APP_ORIGIN } });
      assert.equal(real.headers['ratelimit-remaining'], '0', 'the one request of the budget is still there');
    } finally {
      await gateway.close();
    }
  });

  it('given a foreign origin, when it preflights, then no CORS header at all, so the browser blocks the call', async () => {
    const gateway = await gatewayApp({ corsOrigins: [APP_ORIGIN] });
    try {
      const response = await gateway.app.inject({
        method: 'OPTIONS',
        url: '/things',
        headers: { origin: 'https://evil.example.net', 'access-control-request-method': 'POST' },
      });
      assert.notEqual(response.statusCode, 204);
      assert.deepEqual(
        Object.keys(response.headers).filter((name) => name.startsWith('access-control-')),
        [],
      );
      assert.equal(response.headers.vary, 'Origin');
    } finally {
      await gateway.close();
    }
  });

  it('given an allowed origin on a real request, then the origin is echoed and the useful headers exposed; a foreign one is not', async () => {
    const gateway = await gatewayApp({ corsOrigins: [APP_ORIGIN] });
    try {
      const allowed = await gateway.app.inject({
        url: '/things',
        headers: { origin: APP_ORIGIN, ...bearer('token-alice') },
      });
      assert.equal(allowed.statusCode, 200);
      assert.equal(allowed.headers['access-control-allow-origin'], APP_ORIGIN);
      assert.match(
        String(allowed.headers['access-control-expose-headers']),
        /RateLimit-Remaining.*Retry-After/,
      );
      const foreign = await gateway.app.inject({
        url: '/things',
        headers: { origin: 'https://evil.example.net', ...bearer('token-alice') },
      });
      assert.equal(foreign.headers['access-control-allow-origin'], undefined);
      assert.equal(foreign.headers.vary, 'Origin');
    } finally {
      await gateway.close();
    }
  });

  it('given CORS not configured, when a browser preflights, then nothing CORS-related is answered', async () => {
    const gateway = await gatewayApp({});
    try {
      const response = await gateway.app.inject({
        method: 'OPTIONS',
        url: '/open',
        headers: { origin: APP_ORIGIN, 'access-control-request-method': 'GET' },
      });
      assert.equal(response.statusCode, 404);
      assert.equal(response.headers['access-control-allow-origin'], undefined);
      assert.equal(response.headers.vary, undefined);
    } finally {
      await gateway.close();
    }
  });

  it('given origins ["*"], when any origin calls, then "*" without vary', async () => {
    const gateway = await gatewayApp({ corsOrigins: ['*'] });
    try {
      const response = await gateway.app.inject({
        url: '/open',
        headers: { origin: 'https://anyone.example' },
      });
      assert.equal(response.headers['access-control-allow-origin'], '*');
      assert.equal(response.headers.vary, undefined);
    } finally {
      await gateway.close();
    }
  });
});
