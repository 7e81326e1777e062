import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Cache, createMemoryCache } from '@switchyard/cache';
import { bearer, capturingLogger, gatewayApp, metricValue } from './helpers.ts';

describe('gateway rate limits', () => {
  it('given an anonymous client over its budget, then 429 problem+json with Retry-After; another IP is unaffected', async () => {
    const gateway = await gatewayApp({ rateLimit: { anonymous: { max: 3, windowSeconds: 60 } } });
    try {
      const from = (remoteAddress: string) => gateway.app.inject({ url: '/open', remoteAddress });
      const remaining: string[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await from('198.51.100.1');
        assert.equal(response.statusCode, 200);
        assert.equal(response.headers['ratelimit-limit'], '3');
        assert.equal(response.headers['ratelimit-policy'], '3;w=60');
        assert.equal(response.headers['ratelimit-reset'], '60');
        remaining.push(String(response.headers['ratelimit-remaining']));
      }
      assert.deepEqual(remaining, ['2', '1', '0']);

      gateway.advance(15_000);
      const refused = await from('198.51.100.1');
      assert.equal(refused.statusCode, 429);
      assert.match(String(refused.headers['content-type']), /^application\/problem\+json/);
      assert.equal(refused.json().type, 'https://switchyard.dev/problems/rate-limited');
      assert.equal(refused.json().status, 429);
      assert.equal(refused.headers['retry-after'], '45');
      assert.equal(refused.headers['ratelimit-reset'], '45');
      assert.equal(refused.headers['ratelimit-remaining'], '0');

      assert.equal((await from('198.51.100.2')).statusCode, 200, 'a second IP has its own budget');
      assert.equal(
        await metricValue(gateway.metrics, 'rate_limit_rejections_total', { scope: 'anonymous' }),
        1,
      );

      gateway.advance(45_000);
      assert.equal((await from('198.51.100.1')).statusCode, 200, 'a new window starts after the reset');
    } finally {
      await gateway.close();
    }
  });

  it('given the source C default, then an anonymous IP gets 100 requests per 15 minutes and is refused at 101', async () => {
    const gateway = await gatewayApp({});
    try {
      let last = await gateway.app.inject({ url: '/open' });
      for (let i = 1; i < 100; i++) last = await gateway.app.inject({ url: '/open' });
      assert.equal(last.statusCode, 200);
      assert.equal(last.headers['ratelimit-policy'], '100;w=900');
      const refused = await gateway.app.inject({ url: '/open' });
      assert.equal(refused.statusCode, 429);
      assert.equal(refused.headers['retry-after'], '900');
      assert.ok(await gateway.cache.get('rate_limit:127.0.0.1'), "source C's key pattern rate_limit:{ip}");
    } finally {
      await gateway.close();
    }
  });

  it('given authenticated users, then each has a budget apart from the others and from their IP', async () => {
    const gateway = await gatewayApp({
      rateLimit: { anonymous: { max: 1, windowSeconds: 60 }, authenticated: { max: 2, windowSeconds: 120 } },
    });
    try {
      const as = (token: string) => gateway.app.inject({ url: '/things', headers: bearer(token) });
      const first = await as('token-alice');
      assert.equal(first.statusCode, 200);
      assert.equal(first.headers['ratelimit-policy'], '2;w=120');
      assert.equal((await as('token-alice')).statusCode, 200);
      const refused = await as('token-alice');
      assert.equal(refused.statusCode, 429);
      assert.equal(refused.headers['retry-after'], '120');
      assert.equal(await metricValue(gateway.metrics, 'rate_limit_rejections_total', { scope: 'user' }), 1);

      assert.equal((await as('token-bob')).statusCode, 200, 'bob has his own budget');
      const key = await gateway.app.inject({ url: '/things', headers: { 'x-api-key': 'key-ci' } });
      assert.equal(key.statusCode, 200, "an API key has its own budget, apart from its creator's");
      assert.equal(key.headers['ratelimit-remaining'], '1');
      assert.equal(
        (await gateway.app.inject({ url: '/open' })).statusCode,
        200,
        "the IP's budget is untouched",
      );
    } finally {
      await gateway.close();
    }
  });

  it('given a bad token, then the request spends the IP budget and is refused with 429 before the 401 check', async () => {
    const gateway = await gatewayApp({ rateLimit: { anonymous: { max: 2, windowSeconds: 60 } } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        statuses.push(
          (await gateway.app.inject({ url: '/things', headers: bearer('forged-token') })).statusCode,
        );
      }
      assert.deepEqual(statuses, [401, 401, 429]);
      const anonymous = await gateway.app.inject({ url: '/open' });
      assert.equal(anonymous.statusCode, 429, 'the same IP without a token shares that budget');
    } finally {
      await gateway.close();
    }
  });

  it('given probe paths, then they are never limited and carry no RateLimit headers; /healthz is not exempt', async () => {
    const gateway = await gatewayApp({
      rateLimit: { anonymous: { max: 1, windowSeconds: 60 }, authenticated: { max: 1, windowSeconds: 60 } },
    });
    try {
      // Prometheus scrapes with an API key (metrics:read); the probes are anonymous.
      const scraper = { 'x-api-key': 'key-ci' };
      for (let i = 0; i < 3; i++) {
        for (const url of ['/health', '/ready', '/metrics', '/health?deep=1']) {
          const response = await gateway.app.inject({ url, headers: url === '/metrics' ? scraper : {} });
          assert.equal(response.statusCode, 200, url);
          assert.equal(response.headers['ratelimit-limit'], undefined, url);
        }
      }
      assert.equal((await gateway.app.inject({ url: '/healthz' })).statusCode, 404);
      assert.equal((await gateway.app.inject({ url: '/healthz' })).statusCode, 429);
    } finally {
      await gateway.close();
    }
  });

  it('given the rate-limit store down, then requests pass unlimited (fail open) and the outage is logged once, and its end once', async () => {
    const memory = createMemoryCache();
    let storeDown = true;
    const flaky: Cache = {
      ...memory,
      async increment(key, windowSeconds) {
        if (storeDown) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
        return memory.increment(key, windowSeconds);
      },
    };
    const { log, lines } = capturingLogger();
    const gateway = await gatewayApp(
      { rateLimit: { anonymous: { max: 1, windowSeconds: 60 } } },
      { cache: flaky, log },
    );
    try {
      for (let i = 0; i < 4; i++) {
        const response = await gateway.app.inject({ url: '/open' });
        assert.equal(response.statusCode, 200);
        assert.equal(response.headers['ratelimit-limit'], undefined);
      }
      assert.equal(
        (await gateway.app.inject({ url: '/things' })).statusCode,
        401,
        'authentication still applies',
      );
      const outage = lines.filter((line) => /rate limit store failed/.test(line.msg));
      assert.equal(outage.length, 1);
      assert.equal(outage[0]?.level, 'error');

      storeDown = false;
      assert.equal((await gateway.app.inject({ url: '/open' })).statusCode, 200);
      assert.equal((await gateway.app.inject({ url: '/open' })).statusCode, 429, 'limits apply again');
      assert.equal(lines.filter((line) => /answers again/.test(line.msg)).length, 1);

      storeDown = true;
      await gateway.app.inject({ url: '/open' });
      assert.equal(
        lines.filter((line) => /rate limit store failed/.test(line.msg)).length,
        2,
        'a second outage is logged again',
      );
    } finally {
      await gateway.close();
    }
  });
});
