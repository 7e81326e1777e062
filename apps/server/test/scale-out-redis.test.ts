import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@switchyard/testing';
import { createTestRedisPrefix, TEST_REDIS_URL, type TestRedisPrefix } from '@switchyard/testing/redis';
import { bearer, call, signIn, userWithRole } from './helpers.ts';
import { type ServerProcess, startServerProcess } from './process.ts';

const ANONYMOUS_LIMIT = 12;

/** Re-asks until `check` holds: the other instance learns of a change by a message, not by a reply. */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function stop(server: ServerProcess | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null) return;
  server.child.kill('SIGTERM');
  await server.exited;
}

describe('two gateway processes on one Redis', () => {
  let database: TestDatabase;
  let redis: TestRedisPrefix;
  let a: ServerProcess;
  let b: ServerProcess;

  before(async () => {
    database = await createTestDatabase('scale_out_redis');
    redis = await createTestRedisPrefix('scale-out');
    const env = {
      DATABASE_URL: database.url,
      SWITCHYARD_SECRET_KEY: 'scale-out-test-secret-0123456789abcdef',
      REDIS_URL: TEST_REDIS_URL,
      SWITCHYARD_REDIS_KEY_PREFIX: redis.prefix,
      SWITCHYARD_RATE_LIMIT_ANONYMOUS: String(ANONYMOUS_LIMIT),
    };
    // One at a time: the first creates the signing key and the admin, the second finds them.
    a = await startServerProcess(env);
    b = await startServerProcess(env);
  });
  after(async () => {
    await stop(a);
    await stop(b);
    await redis?.cleanup();
    await database?.drop();
  });

  it('share one anonymous rate-limit budget per IP, with RateLimit headers and 429 + Retry-After', async () => {
    const remaining: number[] = [];
    for (let i = 0; i < ANONYMOUS_LIMIT; i += 1) {
      const response = await call(i % 2 === 0 ? a.url : b.url, 'GET', '/.well-known/jwks.json');
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('ratelimit-limit'), String(ANONYMOUS_LIMIT));
      remaining.push(Number(response.headers.get('ratelimit-remaining')));
    }
    assert.deepEqual(
      remaining,
      Array.from({ length: ANONYMOUS_LIMIT }, (_, i) => ANONYMOUS_LIMIT - 1 - i),
      "each instance counts the other one's requests",
    );
    for (const server of [a, b]) {
      const limited = await call<{ status: number }>(server.url, 'GET', '/.well-known/jwks.json');
      assert.equal(limited.status, 429);
      assert.equal(limited.body.status, 429);
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
    }
    const health = await call(a.url, 'GET', '/health');
    assert.equal(health.status, 200, 'probes are not limited');
    const admin = await signIn(b.url, undefined).catch((error: unknown) => error);
    assert.ok(admin instanceof Error, 'sign-in is anonymous traffic, and so limited too');
  });

  it("see each other's invalidations: a profile change, a demotion and a logout made on one are seen on the other", async () => {
    // The anonymous budget is spent; authenticated traffic has its own.
    await redis.cleanup();
    const operator = await userWithRole(a.url, 'operator');
    const admin = await signIn(a.url);
    const path = `/api/v1/users/${operator.user.id}`;

    const before = await call<{ name: string }>(b.url, 'GET', path, { headers: bearer(admin.access_token) });
    assert.equal(before.body.name, 'operator');
    const renamed = await call(a.url, 'PATCH', path, {
      headers: bearer(admin.access_token),
      json: { name: 'Renamed' },
    });
    assert.equal(renamed.status, 200);
    await eventually(
      async () =>
        (await call<{ name: string }>(b.url, 'GET', path, { headers: bearer(admin.access_token) })).body
          .name === 'Renamed',
      'b to serve the new name',
    );

    const asOperator = bearer(operator.access_token);
    assert.equal((await call(b.url, 'GET', '/api/v1/dead-letters', { headers: asOperator })).status, 200);
    const demoted = await call(a.url, 'PATCH', path, {
      headers: bearer(admin.access_token),
      json: { role: 'member' },
    });
    assert.equal(demoted.status, 200);
    await eventually(
      async () => (await call(b.url, 'GET', '/api/v1/dead-letters', { headers: asOperator })).status === 403,
      'b to see the demotion',
    );

    assert.equal((await call(b.url, 'GET', '/api/v1/auth/me', { headers: asOperator })).status, 200);
    assert.equal((await call(a.url, 'POST', '/api/v1/auth/logout', { headers: asOperator })).status, 204);
    await eventually(
      async () => (await call(b.url, 'GET', '/api/v1/auth/me', { headers: asOperator })).status === 401,
      'b to refuse the ended session',
    );
  });
});
