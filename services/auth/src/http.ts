import type { Cache } from '@switchyard/cache';
import type { Role, UserAccount, UserDirectory } from '@switchyard/contracts';
import {
  type Clock,
  type HttpApp,
  HttpProblem,
  hashPassword,
  type Identity,
  type IdGenerator,
  type Logger,
  type Pool,
  passwordPolicyViolation,
  problems,
  verifyPassword,
  withTransaction,
} from '@switchyard/kernel';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import { authCacheKeys } from './authenticate.ts';
import {
  afterFailure,
  checkTotp,
  isLocked,
  newApiKey,
  newRecoveryCodes,
  normalizeEmail,
  normalizeRecoveryCode,
  otpauthUri,
  REFRESH_TOKEN_TTL_SECONDS,
  randomToken,
  refreshOutcome,
  SESSION_MAX_AGE_SECONDS,
  sha256,
} from './domain.ts';
import type { Sealer } from './secrets.ts';
import {
  clearFailures,
  countUnusedRecoveryCodes,
  deleteTotp,
  findFailures,
  findRefreshTokenForUpdate,
  findTotp,
  insertApiKey,
  insertRefreshToken,
  insertSession,
  listActiveSessions,
  listApiKeys,
  markRefreshTokenUsed,
  replaceRecoveryCodes,
  revokeApiKey,
  revokeSessions,
  saveFailures,
  savePendingTotp,
  touchSession,
  useRecoveryCode,
  useSetupToken,
  useTotpStep,
} from './store.ts';
import type { KeyRing } from './tokens.ts';

export interface AuthRouteDeps {
  db: Pool;
  cache: Cache;
  clock: Clock;
  ids: IdGenerator;
  log: Logger;
  keyRing: KeyRing;
  sealer: Sealer;
  users: () => UserDirectory;
  issuer: string;
}

const Email = Type.String({ format: 'email', maxLength: 254 });
const Password = Type.String({ minLength: 1, maxLength: 1024 });
const Name = Type.String({ minLength: 1, maxLength: 200 });
const RoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('operator'), Type.Literal('member')]);
const TotpCode = Type.String({
  pattern: '^\\d{6}$',
  description: 'The 6-digit code of the authenticator app',
});
const RecoveryCode = Type.String({ minLength: 1, maxLength: 64 });

const UserView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  email: Type.String(),
  role: RoleSchema,
  status: Type.String(),
});
const TokenPair = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'Seconds the access token is valid' }),
  refresh_token: Type.String({
    description: 'Spend it once at /api/v1/auth/refresh; a spent token replayed ends the session',
  }),
  refresh_expires_in: Type.Integer(),
  session_id: Type.String(),
  user: UserView,
});
const SessionParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const ApiKeyView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  role: RoleSchema,
  created_by: Type.String(),
  created_at: Type.String(),
  expires_at: Type.Union([Type.String(), Type.Null()]),
  revoked_at: Type.Union([Type.String(), Type.Null()]),
  last_used_at: Type.Union([Type.String(), Type.Null()]),
});

const tags = ['auth'];

function passwordProblem(password: string, email: string): void {
  const violation = passwordPolicyViolation(password, { email });
  if (violation) throw problems.validation([{ field: 'password', in: 'body', reason: violation }]);
}

function unauthorized(slug: string, detail: string, extra: Record<string, unknown> = {}): HttpProblem {
  return new HttpProblem(401, slug, 'Unauthorized', detail, extra);
}

function userView(user: UserAccount) {
  return { id: user.id, name: user.name, email: user.email, role: user.role, status: user.status };
}

function requireUser(identity: Identity | undefined): Identity & { sessionId?: string } {
  if (!identity) throw unauthorized('unauthenticated', 'Sign in first');
  return identity;
}

function requirePerson(identity: Identity | undefined): Identity {
  const caller = requireUser(identity);
  if (caller.kind !== 'user') {
    throw new HttpProblem(
      403,
      'forbidden',
      'Forbidden',
      'API keys have no session, password or second factor',
    );
  }
  return caller;
}

// Verifying against this when no account has the email keeps a failed login's duration the same either
// way, so timing does not reveal which emails have accounts.
let dummyHash: Promise<string> | undefined;

export function registerAuthRoutes(app: HttpApp, deps: AuthRouteDeps): void {
  const { db, cache, clock } = deps;

  async function issueTokens(
    user: UserAccount,
    request: FastifyRequest,
    sessionId?: string,
  ): Promise<{
    access_token: string;
    token_type: 'Bearer';
    expires_in: number;
    refresh_token: string;
    refresh_expires_in: number;
    session_id: string;
    user: ReturnType<typeof userView>;
  }> {
    const now = clock();
    const refreshToken = randomToken(32);
    const session = sessionId ?? deps.ids();
    await withTransaction(db, async (tx) => {
      if (!sessionId) {
        await insertSession(tx, {
          id: session,
          userId: user.id,
          now,
          absoluteExpiresAt: new Date(now.getTime() + SESSION_MAX_AGE_SECONDS * 1000),
          userAgent: request.headers['user-agent']?.slice(0, 300) ?? null,
          ip: request.ip,
        });
      }
      await insertRefreshToken(tx, {
        hash: sha256(refreshToken),
        sessionId: session,
        issuedAt: now,
        expiresAt: new Date(now.getTime() + REFRESH_TOKEN_TTL_SECONDS * 1000),
      });
    });
    const access = await deps.keyRing.sign({ userId: user.id, sessionId: session, role: user.role });
    return {
      access_token: access.token,
      token_type: 'Bearer',
      expires_in: access.expiresInSeconds,
      refresh_token: refreshToken,
      refresh_expires_in: REFRESH_TOKEN_TTL_SECONDS,
      session_id: session,
      user: userView(user),
    };
  }

  async function endSessions(
    filter: { sessionId?: string; userId?: string },
    reason: string,
  ): Promise<string[]> {
    const ids = await revokeSessions(db, filter, reason, clock());
    if (ids.length > 0) await cache.delete(...ids.map(authCacheKeys.session));
    return ids;
  }

  async function recordFailure(email: string): Promise<void> {
    // Serialised per email so concurrent guesses cannot each see four failures and slip past the limit.
    await withTransaction(db, async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`switchyard:login:${email}`]);
      await saveFailures(tx, email, afterFailure(await findFailures(tx, email), clock().getTime()));
    });
  }

  async function checkSecondFactor(
    user: UserAccount,
    body: { totp_code?: string | undefined; recovery_code?: string | undefined },
    email: string,
  ): Promise<void> {
    const factor = await findTotp(db, user.id);
    if (!factor?.enabled) return;
    if (body.recovery_code !== undefined) {
      const used = await useRecoveryCode(
        db,
        user.id,
        sha256(normalizeRecoveryCode(body.recovery_code)),
        clock(),
      );
      if (used) return;
      await recordFailure(email);
      throw unauthorized('invalid-mfa-code', 'The recovery code is wrong or already used');
    }
    if (body.totp_code === undefined) {
      throw unauthorized(
        'mfa-required',
        'This account has a second factor: send totp_code or recovery_code',
        {
          mfa_required: true,
        },
      );
    }
    const check = checkTotp(
      deps.sealer.unseal(factor.sealedSecret),
      body.totp_code,
      clock().getTime(),
      factor.lastUsedStep,
    );
    if (check.ok && (await useTotpStep(db, user.id, check.step))) return;
    await recordFailure(email);
    const replayed = check.ok || check.reason === 'replayed';
    throw unauthorized(
      'invalid-mfa-code',
      replayed ? 'That code has been used already; wait for the next one' : 'The code is wrong',
    );
  }

  app.post(
    '/api/v1/auth/login',
    {
      schema: {
        tags,
        summary: 'Sign in with email and password (and a second factor when enrolled)',
        body: Type.Object(
          {
            email: Email,
            password: Password,
            totp_code: Type.Optional(TotpCode),
            recovery_code: Type.Optional(RecoveryCode),
          },
          { additionalProperties: false },
        ),
        response: { 200: TokenPair },
      },
      config: { permission: 'public' },
    },
    async (request, reply) => {
      const email = normalizeEmail(request.body.email);
      const failures = await findFailures(db, email);
      const now = clock().getTime();
      if (isLocked(failures, now)) {
        const retryAfterSeconds = Math.ceil(((failures?.lockedUntilMs ?? now) - now) / 1000);
        reply.header('retry-after', String(retryAfterSeconds));
        throw new HttpProblem(
          429,
          'login-locked',
          'Too Many Requests',
          `Too many failed sign-ins for this email; try again in ${Math.ceil(retryAfterSeconds / 60)} min`,
        );
      }
      const user = await deps.users().findByEmail(email);
      dummyHash ??= hashPassword(randomToken(16));
      const passwordOk = await verifyPassword(user?.passwordHash ?? (await dummyHash), request.body.password);
      if (!user || !passwordOk || user.status !== 'active') {
        await recordFailure(email);
        deps.log.info({ event: 'login.failed' }, 'sign-in refused');
        throw unauthorized('invalid-credentials', 'The email or password is wrong');
      }
      await checkSecondFactor(user, request.body, email);
      if (failures) await clearFailures(db, email);
      deps.log.info({ event: 'login.succeeded', user_id: user.id }, 'signed in');
      return issueTokens(user, request);
    },
  );

  app.post(
    '/api/v1/auth/refresh',
    {
      schema: {
        tags,
        summary: 'Trade a refresh token for a new pair; each refresh token works once',
        body: Type.Object(
          { refresh_token: Type.String({ minLength: 1, maxLength: 512 }) },
          { additionalProperties: false },
        ),
        response: { 200: TokenPair },
      },
      config: { permission: 'public' },
    },
    async (request) => {
      const hash = sha256(request.body.refresh_token);
      const result = await withTransaction(db, async (tx) => {
        const state = await findRefreshTokenForUpdate(tx, hash);
        if (!state) return { outcome: 'unknown' as const };
        const outcome = refreshOutcome(state, state, clock().getTime());
        if (outcome === 'rotate') {
          await markRefreshTokenUsed(tx, hash, clock());
          await touchSession(tx, state.sessionId, clock());
        }
        return { outcome, state };
      });
      if (result.outcome === 'unknown')
        throw unauthorized('invalid-refresh-token', 'The refresh token is not known');
      const { outcome, state } = result;
      if (outcome === 'reuse') {
        await endSessions({ sessionId: state.sessionId }, 'refresh token reused');
        deps.log.warn(
          { event: 'refresh.reused', user_id: state.userId, session_id: state.sessionId },
          'refresh token replayed; session revoked',
        );
        throw unauthorized(
          'refresh-token-reused',
          'This refresh token was already used; the session has been ended, sign in again',
        );
      }
      if (outcome === 'revoked') throw unauthorized('session-ended', 'The session has ended; sign in again');
      if (outcome === 'expired')
        throw unauthorized('refresh-token-expired', 'The refresh token has expired; sign in again');
      const user = await deps.users().findById(state.userId);
      if (user?.status !== 'active') {
        await endSessions({ userId: state.userId }, 'account disabled');
        throw unauthorized('session-ended', 'The account is disabled or deleted');
      }
      return issueTokens(user, request, state.sessionId);
    },
  );

  app.post(
    '/api/v1/auth/logout',
    {
      schema: {
        tags,
        summary: 'End the current session (its access and refresh tokens stop working)',
        response: { 204: Type.Null() },
      },
      config: { permission: 'auth:self' },
    },
    async (request, reply) => {
      const caller = requirePerson(request.identity);
      if (caller.sessionId) await endSessions({ sessionId: caller.sessionId }, 'logout');
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/auth/me',
    {
      schema: {
        tags,
        summary: 'Who the caller is',
        response: {
          200: Type.Object({
            kind: Type.String(),
            user: Type.Union([UserView, Type.Null()]),
            role: Type.String(),
            session_id: Type.Union([Type.String(), Type.Null()]),
            api_key_id: Type.Union([Type.String(), Type.Null()]),
            mfa_enabled: Type.Boolean(),
          }),
        },
      },
      config: { permission: 'auth:self' },
    },
    async (request) => {
      const caller = requireUser(request.identity);
      const user = await deps.users().findById(caller.userId);
      const factor = caller.kind === 'user' ? await findTotp(db, caller.userId) : undefined;
      return {
        kind: caller.kind,
        user: user ? userView(user) : null,
        role: caller.role,
        session_id: caller.sessionId ?? null,
        api_key_id: caller.apiKeyId ?? null,
        mfa_enabled: factor?.enabled ?? false,
      };
    },
  );

  app.get(
    '/api/v1/auth/sessions',
    {
      schema: {
        tags,
        summary: "The caller's active sessions",
        response: {
          200: Type.Array(
            Type.Object({
              id: Type.String(),
              created_at: Type.String(),
              last_used_at: Type.String(),
              expires_at: Type.String(),
              user_agent: Type.Union([Type.String(), Type.Null()]),
              ip: Type.Union([Type.String(), Type.Null()]),
              current: Type.Boolean(),
            }),
          ),
        },
      },
      config: { permission: 'auth:self' },
    },
    async (request) => {
      const caller = requirePerson(request.identity);
      const sessions = await listActiveSessions(db, caller.userId, clock());
      return sessions.map((session) => ({ ...session, current: session.id === caller.sessionId }));
    },
  );

  app.delete(
    '/api/v1/auth/sessions/:id',
    {
      schema: {
        tags,
        summary: 'End one of your sessions',
        params: SessionParams,
        response: { 204: Type.Null() },
      },
      config: { permission: 'auth:self' },
    },
    async (request, reply) => {
      const caller = requirePerson(request.identity);
      const ended = await endSessions(
        { sessionId: request.params.id, userId: caller.userId },
        'revoked by user',
      );
      if (ended.length === 0) throw problems.notFound('session', request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/api/v1/auth/sessions',
    {
      schema: {
        tags,
        summary: 'Log out everywhere: end every session of the caller, this one included',
        response: { 200: Type.Object({ ended: Type.Integer() }) },
      },
      config: { permission: 'auth:self' },
    },
    async (request) => {
      const caller = requirePerson(request.identity);
      const ended = await endSessions({ userId: caller.userId }, 'logged out everywhere');
      return { ended: ended.length };
    },
  );

  app.post(
    '/api/v1/auth/register',
    {
      schema: {
        tags,
        summary: 'Create an account (admins only)',
        body: Type.Object(
          { name: Name, email: Email, password: Password, role: Type.Optional(RoleSchema) },
          { additionalProperties: false },
        ),
        response: { 201: UserView },
      },
      config: { permission: 'auth:register' },
    },
    async (request, reply) => {
      const email = normalizeEmail(request.body.email);
      passwordProblem(request.body.password, email);
      const user = await deps.users().create({
        name: request.body.name,
        email,
        passwordHash: await hashPassword(request.body.password),
        role: request.body.role ?? 'member',
      });
      return reply.code(201).send(userView(user));
    },
  );

  app.post(
    '/api/v1/auth/setup',
    {
      schema: {
        tags,
        summary: 'Create the first admin with the one-time link printed at first start',
        body: Type.Object(
          {
            token: Type.String({ minLength: 1, maxLength: 256 }),
            name: Name,
            email: Email,
            password: Password,
          },
          { additionalProperties: false },
        ),
        response: { 201: UserView },
      },
      config: { permission: 'public' },
    },
    async (request, reply) => {
      const email = normalizeEmail(request.body.email);
      passwordProblem(request.body.password, email);
      if ((await deps.users().countByRole('admin')) > 0) {
        throw problems.conflict('An admin exists already; ask them for an account');
      }
      if (!(await useSetupToken(db, sha256(request.body.token), clock()))) {
        throw unauthorized(
          'invalid-setup-token',
          'The setup token is wrong, spent or expired; restart Switchyard for a new link',
        );
      }
      const user = await deps.users().create({
        name: request.body.name,
        email,
        passwordHash: await hashPassword(request.body.password),
        role: 'admin',
      });
      deps.log.info({ event: 'setup.admin-created', user_id: user.id }, 'first admin created');
      return reply.code(201).send(userView(user));
    },
  );

  app.post(
    '/api/v1/auth/mfa/totp',
    {
      schema: {
        tags,
        summary: 'Start TOTP enrolment: returns the secret and an otpauth URI for an authenticator app',
        response: { 200: Type.Object({ secret: Type.String(), otpauth_uri: Type.String() }) },
      },
      config: { permission: 'auth:self' },
    },
    async (request) => {
      const caller = requirePerson(request.identity);
      const user = await deps.users().findById(caller.userId);
      if (!user) throw problems.notFound('user', caller.userId);
      const secret = randomToken(20);
      const secretBytes = Buffer.from(secret, 'base64url');
      const saved = await savePendingTotp(db, user.id, deps.sealer.seal(secretBytes), clock());
      if (!saved) throw problems.conflict('A second factor is enrolled already; disable it first');
      const uri = otpauthUri({ secret: secretBytes, account: user.email, issuer: deps.issuer });
      return { secret: new URL(uri).searchParams.get('secret') as string, otpauth_uri: uri };
    },
  );

  app.post(
    '/api/v1/auth/mfa/totp/verify',
    {
      schema: {
        tags,
        summary: 'Finish enrolment with a code from the app; returns ten one-time recovery codes, shown once',
        body: Type.Object({ code: TotpCode }, { additionalProperties: false }),
        response: {
          200: Type.Object({ enabled: Type.Boolean(), recovery_codes: Type.Array(Type.String()) }),
        },
      },
      config: { permission: 'auth:self' },
    },
    async (request) => {
      const caller = requirePerson(request.identity);
      const factor = await findTotp(db, caller.userId);
      if (!factor) throw problems.conflict('Start enrolment first (POST /api/v1/auth/mfa/totp)');
      if (factor.enabled) throw problems.conflict('The second factor is enabled already');
      const check = checkTotp(
        deps.sealer.unseal(factor.sealedSecret),
        request.body.code,
        clock().getTime(),
        factor.lastUsedStep,
      );
      if (!check.ok || !(await useTotpStep(db, caller.userId, check.step, { enableAt: clock() }))) {
        throw problems.validation([{ field: 'code', in: 'body', reason: 'is wrong or already used' }]);
      }
      const codes = newRecoveryCodes();
      await replaceRecoveryCodes(
        db,
        caller.userId,
        codes.map((code) => sha256(normalizeRecoveryCode(code))),
      );
      return { enabled: true, recovery_codes: codes };
    },
  );

  app.post(
    '/api/v1/auth/mfa/totp/disable',
    {
      schema: {
        tags,
        summary: 'Remove the second factor; needs the password and a current code or a recovery code',
        body: Type.Object(
          { password: Password, code: Type.Optional(TotpCode), recovery_code: Type.Optional(RecoveryCode) },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null() },
      },
      config: { permission: 'auth:self' },
    },
    async (request, reply) => {
      const caller = requirePerson(request.identity);
      const user = await deps.users().findById(caller.userId);
      const withHash = user ? await deps.users().findByEmail(user.email) : undefined;
      if (!withHash || !(await verifyPassword(withHash.passwordHash, request.body.password))) {
        throw problems.validation([{ field: 'password', in: 'body', reason: 'is wrong' }]);
      }
      const factor = await findTotp(db, caller.userId);
      if (!factor?.enabled) throw problems.conflict('No second factor is enabled');
      let proven = false;
      if (request.body.recovery_code !== undefined) {
        proven = await useRecoveryCode(
          db,
          caller.userId,
          sha256(normalizeRecoveryCode(request.body.recovery_code)),
          clock(),
        );
      } else if (request.body.code !== undefined) {
        const check = checkTotp(
          deps.sealer.unseal(factor.sealedSecret),
          request.body.code,
          clock().getTime(),
          factor.lastUsedStep,
        );
        proven = check.ok && (await useTotpStep(db, caller.userId, check.step));
      }
      if (!proven) {
        throw problems.validation([
          {
            field: request.body.recovery_code !== undefined ? 'recovery_code' : 'code',
            in: 'body',
            reason: 'is wrong or already used',
          },
        ]);
      }
      await deleteTotp(db, caller.userId);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/auth/mfa/recovery-codes',
    {
      schema: {
        tags,
        summary: 'How many recovery codes are left',
        response: { 200: Type.Object({ remaining: Type.Integer() }) },
      },
      config: { permission: 'auth:self' },
    },
    async (request) => {
      const caller = requirePerson(request.identity);
      return { remaining: await countUnusedRecoveryCodes(db, caller.userId) };
    },
  );

  app.post(
    '/api/v1/api-keys',
    {
      schema: {
        tags: ['api-keys'],
        summary: 'Create an API key for a machine; the key is in this response only',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            role: RoleSchema,
            expires_at: Type.Optional(Type.String({ format: 'date-time' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Intersect([ApiKeyView, Type.Object({ key: Type.String() })]) },
      },
      config: { permission: 'api-keys:manage' },
    },
    async (request, reply) => {
      const caller = requireUser(request.identity);
      const expiresAt = request.body.expires_at ? new Date(request.body.expires_at) : null;
      if (expiresAt && expiresAt.getTime() <= clock().getTime()) {
        throw problems.validation([{ field: 'expires_at', in: 'body', reason: 'must be in the future' }]);
      }
      const { key, displayPrefix } = newApiKey();
      const view = await insertApiKey(db, {
        id: deps.ids(),
        name: request.body.name,
        prefix: displayPrefix,
        hash: sha256(key),
        role: request.body.role as Role,
        createdBy: caller.userId,
        now: clock(),
        expiresAt,
      });
      return reply
        .code(201)
        .header('location', `/api/v1/api-keys/${view.id}`)
        .send({ ...view, key });
    },
  );

  app.get(
    '/api/v1/api-keys',
    {
      schema: {
        tags: ['api-keys'],
        summary: 'List API keys (never the keys themselves)',
        response: { 200: Type.Array(ApiKeyView) },
      },
      config: { permission: 'api-keys:manage' },
    },
    async () => listApiKeys(db),
  );

  app.delete(
    '/api/v1/api-keys/:id',
    {
      schema: {
        tags: ['api-keys'],
        summary: 'Revoke an API key',
        params: SessionParams,
        response: { 204: Type.Null() },
      },
      config: { permission: 'api-keys:manage' },
    },
    async (request, reply) => {
      const hash = await revokeApiKey(db, request.params.id, clock());
      if (!hash) throw problems.notFound('active API key', request.params.id);
      await cache.delete(authCacheKeys.apiKey(hash));
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/v1/auth/signing-keys/rotate',
    {
      schema: {
        tags,
        summary:
          'Sign new access tokens with a new key; tokens signed with the old one stay valid until they expire',
        response: { 200: Type.Object({ kid: Type.String() }) },
      },
      config: { permission: 'auth:manage' },
    },
    async () => ({ kid: await deps.keyRing.rotate() }),
  );

  app.get(
    '/.well-known/jwks.json',
    {
      schema: { tags, summary: 'Public keys that verify access tokens (JWKS)' },
      config: { permission: 'public' },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return deps.keyRing.jwks();
    },
  );
}
