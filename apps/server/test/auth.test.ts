import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, silentLogger, type TestDatabase } from '@switchyard/testing';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { type RunningSwitchyard, startSwitchyard } from '../src/server.ts';
import { bearer, call, signIn, TEST_ADMIN, testClock, testConfig, totp, userWithRole } from './helpers.ts';

describe('auth', () => {
  let database: TestDatabase;
  let server: RunningSwitchyard;
  const time = testClock();
  let base: string;

  before(async () => {
    database = await createTestDatabase('auth');
    server = await startSwitchyard(testConfig(database.url), silentLogger(), { clock: time.clock });
    base = server.url;
  });
  after(async () => {
    await server?.close();
    await database?.drop();
  });

  describe('sign-in', () => {
    it('signs in the first admin (created from SWITCHYARD_ADMIN_*) and the token identifies them', async () => {
      const tokens = await signIn(base);
      const me = await call<{ kind: string; role: string; user: { email: string } }>(
        base,
        'GET',
        '/api/v1/auth/me',
        {
          headers: bearer(tokens.access_token),
        },
      );
      assert.equal(me.status, 200);
      assert.equal(me.body.kind, 'user');
      assert.equal(me.body.role, 'admin');
      assert.equal(me.body.user.email, TEST_ADMIN.email);
    });

    it('answers a wrong password and an unknown email with the same 401', async () => {
      const wrong = await call<{ type: string; detail: string }>(base, 'POST', '/api/v1/auth/login', {
        json: { email: TEST_ADMIN.email, password: 'not the password at all' },
      });
      const unknown = await call<{ type: string; detail: string }>(base, 'POST', '/api/v1/auth/login', {
        json: { email: 'nobody-here@switchyard.test', password: 'not the password at all' },
      });
      assert.equal(wrong.status, 401);
      assert.equal(unknown.status, 401);
      assert.deepEqual(
        { type: wrong.body.type, detail: wrong.body.detail },
        { type: unknown.body.type, detail: unknown.body.detail },
      );
    });

    it('refuses a malformed sign-in body with 400 naming the field', async () => {
      const response = await call<{ errors: { field: string }[] }>(base, 'POST', '/api/v1/auth/login', {
        json: { email: 'not-an-email', password: 'x' },
      });
      assert.equal(response.status, 400);
      assert.deepEqual(
        response.body.errors.map((error) => error.field),
        ['email'],
      );
    });

    it('locks an email for 15 minutes after 5 failures, the same whether the account exists or not', async () => {
      const member = await userWithRole(base, 'member');
      for (const email of [member.user.email, 'ghost-account@switchyard.test']) {
        for (let attempt = 0; attempt < 5; attempt += 1) {
          const failed = await call(base, 'POST', '/api/v1/auth/login', {
            json: { email, password: 'wrong password guess' },
          });
          assert.equal(failed.status, 401);
        }
      }
      const lockedReal = await call<{ type: string }>(base, 'POST', '/api/v1/auth/login', {
        json: { email: member.user.email, password: member.password },
      });
      const lockedGhost = await call<{ type: string }>(base, 'POST', '/api/v1/auth/login', {
        json: { email: 'ghost-account@switchyard.test', password: member.password },
      });
      assert.equal(lockedReal.status, 429, 'even the right password is refused while locked');
      assert.equal(lockedGhost.status, 429);
      assert.equal(lockedReal.body.type, lockedGhost.body.type);
      assert.ok(Number(lockedReal.headers.get('retry-after')) > 14 * 60);

      time.advance(15 * 60_000 + 1000);
      const afterLock = await call(base, 'POST', '/api/v1/auth/login', {
        json: { email: member.user.email, password: member.password },
      });
      assert.equal(afterLock.status, 200, 'the lock expires after 15 minutes');
    });
  });

  describe('tokens', () => {
    it('rotates refresh tokens, and a replayed one ends the whole session', async () => {
      const member = await userWithRole(base, 'member');
      const first = await call<{ access_token: string; refresh_token: string }>(
        base,
        'POST',
        '/api/v1/auth/refresh',
        {
          json: { refresh_token: member.refresh_token },
        },
      );
      assert.equal(first.status, 200);
      assert.notEqual(first.body.refresh_token, member.refresh_token);
      const second = await call<{ access_token: string; refresh_token: string }>(
        base,
        'POST',
        '/api/v1/auth/refresh',
        {
          json: { refresh_token: first.body.refresh_token },
        },
      );
      assert.equal(second.status, 200);

      const replay = await call<{ type: string }>(base, 'POST', '/api/v1/auth/refresh', {
        json: { refresh_token: member.refresh_token },
      });
      assert.equal(replay.status, 401);
      assert.match(replay.body.type, /refresh-token-reused/);
      const newest = await call(base, 'POST', '/api/v1/auth/refresh', {
        json: { refresh_token: second.body.refresh_token },
      });
      assert.equal(newest.status, 401, 'the newest token of the family is dead too');
      const me = await call(base, 'GET', '/api/v1/auth/me', { headers: bearer(second.body.access_token) });
      assert.equal(me.status, 401, 'and so are its access tokens');
    });

    it('only one of two concurrent refreshes with the same token wins', async () => {
      const member = await userWithRole(base, 'member');
      const results = await Promise.all(
        [1, 2].map(() =>
          call(base, 'POST', '/api/v1/auth/refresh', { json: { refresh_token: member.refresh_token } }),
        ),
      );
      assert.deepEqual(results.map((result) => result.status).sort(), [200, 401]);
    });

    it('logout ends the session: its access token and refresh token stop working', async () => {
      const member = await userWithRole(base, 'member');
      const logout = await call(base, 'POST', '/api/v1/auth/logout', {
        headers: bearer(member.access_token),
      });
      assert.equal(logout.status, 204);
      assert.equal(
        (await call(base, 'GET', '/api/v1/auth/me', { headers: bearer(member.access_token) })).status,
        401,
      );
      assert.equal(
        (await call(base, 'POST', '/api/v1/auth/refresh', { json: { refresh_token: member.refresh_token } }))
          .status,
        401,
      );
    });

    it('lists sessions and logs out everywhere', async () => {
      const member = await userWithRole(base, 'member');
      const second = await signIn(base, { email: member.user.email, password: member.password });
      const sessions = await call<{ id: string; current: boolean }[]>(base, 'GET', '/api/v1/auth/sessions', {
        headers: bearer(member.access_token),
      });
      assert.equal(sessions.body.length, 2);
      assert.deepEqual(
        sessions.body.filter((session) => session.current).map((session) => session.id),
        [member.session_id],
      );
      const everywhere = await call<{ ended: number }>(base, 'DELETE', '/api/v1/auth/sessions', {
        headers: bearer(second.access_token),
      });
      assert.equal(everywhere.body.ended, 2);
      assert.equal(
        (await call(base, 'GET', '/api/v1/auth/me', { headers: bearer(member.access_token) })).status,
        401,
      );
    });

    it('refuses malformed, expired, tampered, alg:none, HS256 and foreign-key tokens with 401', async () => {
      const member = await userWithRole(base, 'member');
      const [header, payload, signature] = member.access_token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      const kid = (JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string }).kid;
      const elevated = Buffer.from(JSON.stringify({ ...claims, role: 'admin', sub: claims.sub })).toString(
        'base64url',
      );
      const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid })).toString('base64url');
      const hsHeader = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'at+jwt', kid })).toString(
        'base64url',
      );
      const jwks = await call<{ keys: unknown[] }>(base, 'GET', '/.well-known/jwks.json');
      const hsSignature = createHmac('sha256', JSON.stringify(jwks.body.keys[0]))
        .update(`${hsHeader}.${payload}`)
        .digest('base64url');
      const foreign = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
      assert.ok(await exportJWK(foreign.publicKey));
      const foreignToken = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
        .sign(foreign.privateKey);

      const bad: Record<string, string> = {
        malformed: 'not-a-jwt',
        'three garbage parts': 'a.b.c',
        tampered: `${header}.${elevated}.${signature}`,
        'alg none': `${none}.${payload}.`,
        'HS256 with the public key as secret': `${hsHeader}.${payload}.${hsSignature}`,
        'signed by a foreign key under our kid': foreignToken,
      };
      for (const [name, token] of Object.entries(bad)) {
        const response = await call<{ status: number }>(base, 'GET', '/api/v1/auth/me', {
          headers: bearer(token),
        });
        assert.equal(response.status, 401, name);
        assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/, name);
      }

      time.advance(16 * 60_000);
      const expired = await call<{ detail: string }>(base, 'GET', '/api/v1/auth/me', {
        headers: bearer(member.access_token),
      });
      assert.equal(expired.status, 401);
      assert.match(expired.body.detail, /expired/);
    });

    it('publishes the verifying keys as a JWKS, and rotation keeps old tokens valid', async () => {
      const admin = await signIn(base);
      const rotated = await call<{ kid: string }>(base, 'POST', '/api/v1/auth/signing-keys/rotate', {
        headers: bearer(admin.access_token),
      });
      assert.equal(rotated.status, 200);
      const jwks = await call<{ keys: { kid: string; kty: string; crv: string; d?: string }[] }>(
        base,
        'GET',
        '/.well-known/jwks.json',
      );
      assert.ok(jwks.body.keys.some((key) => key.kid === rotated.body.kid));
      assert.ok(jwks.body.keys.length >= 2, 'the retired key is still published');
      assert.ok(
        jwks.body.keys.every((key) => key.d === undefined),
        'no private parts',
      );
      assert.equal(
        (await call(base, 'GET', '/api/v1/auth/me', { headers: bearer(admin.access_token) })).status,
        200,
      );
      const fresh = await signIn(base);
      const kid = (
        JSON.parse(Buffer.from(fresh.access_token.split('.')[0] as string, 'base64url').toString()) as {
          kid: string;
        }
      ).kid;
      assert.equal(kid, rotated.body.kid);
    });
  });

  describe('TOTP', () => {
    it('enrolls, requires a code at sign-in, refuses a replayed code, and takes each recovery code once', async () => {
      const member = await userWithRole(base, 'member');
      const headers = bearer(member.access_token);
      const enroll = await call<{ secret: string; otpauth_uri: string }>(
        base,
        'POST',
        '/api/v1/auth/mfa/totp',
        { headers },
      );
      assert.equal(enroll.status, 200);
      assert.match(enroll.body.otpauth_uri, /^otpauth:\/\/totp\//);

      const wrong = await call(base, 'POST', '/api/v1/auth/mfa/totp/verify', {
        headers,
        json: { code: '000000' },
      });
      assert.equal(wrong.status, 400);
      const code = totp(enroll.body.secret, time.clock().getTime());
      const verified = await call<{ recovery_codes: string[] }>(
        base,
        'POST',
        '/api/v1/auth/mfa/totp/verify',
        {
          headers,
          json: { code },
        },
      );
      assert.equal(verified.status, 200);
      assert.equal(verified.body.recovery_codes.length, 10);

      const credentials = { email: member.user.email, password: member.password };
      const needsCode = await call<{ type: string; mfa_required: boolean }>(
        base,
        'POST',
        '/api/v1/auth/login',
        {
          json: credentials,
        },
      );
      assert.equal(needsCode.status, 401);
      assert.equal(needsCode.body.mfa_required, true);
      const replayed = await call<{ detail: string }>(base, 'POST', '/api/v1/auth/login', {
        json: { ...credentials, totp_code: code },
      });
      assert.equal(replayed.status, 401, 'the code used to enroll cannot sign in');

      time.advance(30_000);
      const next = totp(enroll.body.secret, time.clock().getTime());
      assert.equal(
        (await call(base, 'POST', '/api/v1/auth/login', { json: { ...credentials, totp_code: next } }))
          .status,
        200,
      );
      assert.equal(
        (await call(base, 'POST', '/api/v1/auth/login', { json: { ...credentials, totp_code: next } }))
          .status,
        401,
        'and a code signs in once',
      );

      const recovery = verified.body.recovery_codes[0] as string;
      const withRecovery = { ...credentials, recovery_code: recovery.toUpperCase() };
      assert.equal((await call(base, 'POST', '/api/v1/auth/login', { json: withRecovery })).status, 200);
      assert.equal((await call(base, 'POST', '/api/v1/auth/login', { json: withRecovery })).status, 401);
      const remaining = await call<{ remaining: number }>(base, 'GET', '/api/v1/auth/mfa/recovery-codes', {
        headers,
      });
      assert.equal(remaining.body.remaining, 9);

      time.advance(30_000);
      const disable = await call(base, 'POST', '/api/v1/auth/mfa/totp/disable', {
        headers,
        json: { password: member.password, code: totp(enroll.body.secret, time.clock().getTime()) },
      });
      assert.equal(disable.status, 204);
      assert.equal((await call(base, 'POST', '/api/v1/auth/login', { json: credentials })).status, 200);
    });
  });

  describe('API keys', () => {
    it('creates a key shown once, honours its scope, records use, and stops working when revoked', async () => {
      const admin = await signIn(base);
      const created = await call<{ id: string; key: string; role: string }>(
        base,
        'POST',
        '/api/v1/api-keys',
        {
          headers: bearer(admin.access_token),
          json: { name: 'ci robot', role: 'operator' },
        },
      );
      assert.equal(created.status, 201);
      assert.match(created.body.key, /^syk_/);

      const viaHeader = await call(base, 'GET', '/api/v1/tasks', {
        headers: { 'x-api-key': created.body.key },
      });
      const viaBearer = await call(base, 'GET', '/api/v1/dead-letters', {
        headers: bearer(created.body.key),
      });
      assert.equal(viaHeader.status, 200);
      assert.equal(viaBearer.status, 200);
      const beyondScope = await call(base, 'POST', '/api/v1/api-keys', {
        headers: { 'x-api-key': created.body.key },
        json: { name: 'escalate', role: 'admin' },
      });
      assert.equal(beyondScope.status, 403, 'an operator key cannot mint keys');

      const listed = await call<{ id: string; last_used_at: string | null; key?: string }[]>(
        base,
        'GET',
        '/api/v1/api-keys',
        {
          headers: bearer(admin.access_token),
        },
      );
      const entry = listed.body.find((key) => key.id === created.body.id);
      assert.ok(entry?.last_used_at, 'use is recorded');
      assert.equal(entry?.key, undefined, 'the key is never listed');

      const revoked = await call(base, 'DELETE', `/api/v1/api-keys/${created.body.id}`, {
        headers: bearer(admin.access_token),
      });
      assert.equal(revoked.status, 204);
      const after = await call<{ detail: string }>(base, 'GET', '/api/v1/tasks', {
        headers: { 'x-api-key': created.body.key },
      });
      assert.equal(after.status, 401);
      assert.match(after.body.detail, /revoked/);
    });

    it('refuses an expired key, an unknown key and an expiry in the past', async () => {
      const admin = await signIn(base);
      const past = await call<{ errors: { field: string }[] }>(base, 'POST', '/api/v1/api-keys', {
        headers: bearer(admin.access_token),
        json: {
          name: 'old',
          role: 'member',
          expires_at: new Date(time.clock().getTime() - 1000).toISOString(),
        },
      });
      assert.equal(past.status, 400);
      assert.equal(past.body.errors[0]?.field, 'expires_at');

      const soon = await call<{ key: string }>(base, 'POST', '/api/v1/api-keys', {
        headers: bearer(admin.access_token),
        json: {
          name: 'short-lived',
          role: 'member',
          expires_at: new Date(time.clock().getTime() + 60_000).toISOString(),
        },
      });
      assert.equal(
        (await call(base, 'GET', '/api/v1/tasks', { headers: { 'x-api-key': soon.body.key } })).status,
        200,
      );
      time.advance(61_000);
      assert.equal(
        (await call(base, 'GET', '/api/v1/tasks', { headers: { 'x-api-key': soon.body.key } })).status,
        401,
      );
      assert.equal(
        (await call(base, 'GET', '/api/v1/tasks', { headers: { 'x-api-key': 'syk_unknown' } })).status,
        401,
      );
    });
  });

  describe('accounts', () => {
    it('lets only admins register accounts, and applies the password policy', async () => {
      const member = await userWithRole(base, 'member');
      const byMember = await call(base, 'POST', '/api/v1/auth/register', {
        headers: bearer(member.access_token),
        json: { name: 'x', email: 'x-by-member@switchyard.test', password: 'a long enough password' },
      });
      assert.equal(byMember.status, 403);
      const admin = await signIn(base);
      const weak = await call<{ errors: { field: string; reason: string }[] }>(
        base,
        'POST',
        '/api/v1/auth/register',
        {
          headers: bearer(admin.access_token),
          json: { name: 'x', email: 'weak@switchyard.test', password: 'short' },
        },
      );
      assert.equal(weak.status, 400);
      assert.equal(weak.body.errors[0]?.field, 'password');
      const anonymous = await call(base, 'POST', '/api/v1/auth/register', {
        json: { name: 'x', email: 'anon@switchyard.test', password: 'a long enough password' },
      });
      assert.equal(anonymous.status, 401);
    });

    it('refuses the setup link once an admin exists', async () => {
      const setup = await call(base, 'POST', '/api/v1/auth/setup', {
        json: {
          token: 'anything',
          name: 'x',
          email: 'second-admin@switchyard.test',
          password: 'a long enough password',
        },
      });
      assert.equal(setup.status, 409);
    });
  });
});
