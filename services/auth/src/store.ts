import type { Role } from '@switchyard/contracts';
import type { Queryable } from '@switchyard/kernel';
import type { FailureRecord } from './domain.ts';

// SQL for the auth schema. Timestamps go in and out as Date; the callers work in milliseconds.

export async function findFailures(db: Queryable, email: string): Promise<FailureRecord | undefined> {
  const result = await db.query<{ failures: number; window_started_at: Date; locked_until: Date | null }>(
    'SELECT failures, window_started_at, locked_until FROM auth.login_failures WHERE email = $1',
    [email],
  );
  const row = result.rows[0];
  return row
    ? {
        failures: row.failures,
        windowStartedAtMs: row.window_started_at.getTime(),
        lockedUntilMs: row.locked_until?.getTime() ?? null,
      }
    : undefined;
}

export async function saveFailures(db: Queryable, email: string, record: FailureRecord): Promise<void> {
  await db.query(
    `INSERT INTO auth.login_failures (email, failures, window_started_at, locked_until) VALUES ($1, $2, $3, $4)
     ON CONFLICT (email) DO UPDATE SET failures = $2, window_started_at = $3, locked_until = $4`,
    [
      email,
      record.failures,
      new Date(record.windowStartedAtMs),
      record.lockedUntilMs === null ? null : new Date(record.lockedUntilMs),
    ],
  );
}

export async function clearFailures(db: Queryable, email: string): Promise<void> {
  await db.query('DELETE FROM auth.login_failures WHERE email = $1', [email]);
}

export interface NewSession {
  id: string;
  userId: string;
  now: Date;
  absoluteExpiresAt: Date;
  userAgent: string | null;
  ip: string | null;
}

export async function insertSession(db: Queryable, session: NewSession): Promise<void> {
  await db.query(
    `INSERT INTO auth.sessions (id, user_id, created_at, last_used_at, absolute_expires_at, user_agent, ip)
     VALUES ($1, $2, $3, $3, $4, $5, $6)`,
    [session.id, session.userId, session.now, session.absoluteExpiresAt, session.userAgent, session.ip],
  );
}

export async function insertRefreshToken(
  db: Queryable,
  token: { hash: Buffer; sessionId: string; issuedAt: Date; expiresAt: Date },
): Promise<void> {
  await db.query(
    'INSERT INTO auth.refresh_tokens (token_hash, session_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)',
    [token.hash, token.sessionId, token.issuedAt, token.expiresAt],
  );
}

export interface RefreshTokenState {
  sessionId: string;
  userId: string;
  expiresAtMs: number;
  usedAtMs: number | null;
  revokedAtMs: number | null;
  absoluteExpiresAtMs: number;
}

/** Locks the token's row so two concurrent refreshes with one token cannot both rotate it. */
export async function findRefreshTokenForUpdate(
  db: Queryable,
  hash: Buffer,
): Promise<RefreshTokenState | undefined> {
  const result = await db.query<{
    session_id: string;
    user_id: string;
    expires_at: Date;
    used_at: Date | null;
    revoked_at: Date | null;
    absolute_expires_at: Date;
  }>(
    `SELECT t.session_id, s.user_id, t.expires_at, t.used_at, s.revoked_at, s.absolute_expires_at
       FROM auth.refresh_tokens t JOIN auth.sessions s ON s.id = t.session_id
      WHERE t.token_hash = $1 FOR UPDATE OF t`,
    [hash],
  );
  const row = result.rows[0];
  return row
    ? {
        sessionId: row.session_id,
        userId: row.user_id,
        expiresAtMs: row.expires_at.getTime(),
        usedAtMs: row.used_at?.getTime() ?? null,
        revokedAtMs: row.revoked_at?.getTime() ?? null,
        absoluteExpiresAtMs: row.absolute_expires_at.getTime(),
      }
    : undefined;
}

export async function markRefreshTokenUsed(db: Queryable, hash: Buffer, now: Date): Promise<void> {
  await db.query('UPDATE auth.refresh_tokens SET used_at = $2 WHERE token_hash = $1', [hash, now]);
}

export async function touchSession(db: Queryable, id: string, now: Date): Promise<void> {
  await db.query('UPDATE auth.sessions SET last_used_at = $2 WHERE id = $1', [id, now]);
}

export interface SessionState {
  userId: string;
  revoked: boolean;
  absoluteExpiresAtMs: number;
}

export async function findSession(db: Queryable, id: string): Promise<SessionState | undefined> {
  const result = await db.query<{ user_id: string; revoked_at: Date | null; absolute_expires_at: Date }>(
    'SELECT user_id, revoked_at, absolute_expires_at FROM auth.sessions WHERE id = $1',
    [id],
  );
  const row = result.rows[0];
  return row
    ? {
        userId: row.user_id,
        revoked: row.revoked_at !== null,
        absoluteExpiresAtMs: row.absolute_expires_at.getTime(),
      }
    : undefined;
}

/** Revokes sessions matching the filter; returns the ids it revoked. */
export async function revokeSessions(
  db: Queryable,
  filter: { sessionId?: string; userId?: string },
  reason: string,
  now: Date,
): Promise<string[]> {
  const result = await db.query<{ id: string }>(
    `UPDATE auth.sessions SET revoked_at = $3, revoked_reason = $4
      WHERE revoked_at IS NULL AND ($1::uuid IS NULL OR id = $1) AND ($2::uuid IS NULL OR user_id = $2)
      RETURNING id`,
    [filter.sessionId ?? null, filter.userId ?? null, now, reason],
  );
  return result.rows.map((row) => row.id);
}

export interface SessionView {
  id: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  user_agent: string | null;
  ip: string | null;
}

export async function listActiveSessions(db: Queryable, userId: string, now: Date): Promise<SessionView[]> {
  const result = await db.query<{
    id: string;
    created_at: Date;
    last_used_at: Date;
    absolute_expires_at: Date;
    user_agent: string | null;
    ip: string | null;
  }>(
    `SELECT id, created_at, last_used_at, absolute_expires_at, user_agent, ip FROM auth.sessions
      WHERE user_id = $1 AND revoked_at IS NULL AND absolute_expires_at > $2
        AND EXISTS (SELECT 1 FROM auth.refresh_tokens t WHERE t.session_id = sessions.id AND t.used_at IS NULL AND t.expires_at > $2)
      ORDER BY created_at DESC`,
    [userId, now],
  );
  return result.rows.map((row) => ({
    id: row.id,
    created_at: row.created_at.toISOString(),
    last_used_at: row.last_used_at.toISOString(),
    expires_at: row.absolute_expires_at.toISOString(),
    user_agent: row.user_agent,
    ip: row.ip,
  }));
}

export interface TotpFactor {
  sealedSecret: string;
  enabled: boolean;
  lastUsedStep: number;
}

export async function findTotp(db: Queryable, userId: string): Promise<TotpFactor | undefined> {
  const result = await db.query<{ sealed_secret: string; enabled_at: Date | null; last_used_step: string }>(
    'SELECT sealed_secret, enabled_at, last_used_step FROM auth.totp_factors WHERE user_id = $1',
    [userId],
  );
  const row = result.rows[0];
  return row
    ? {
        sealedSecret: row.sealed_secret,
        enabled: row.enabled_at !== null,
        lastUsedStep: Number(row.last_used_step),
      }
    : undefined;
}

/** A new, not yet verified secret; replaces an earlier unverified one but never an enabled factor. */
export async function savePendingTotp(
  db: Queryable,
  userId: string,
  sealedSecret: string,
  now: Date,
): Promise<boolean> {
  const result = await db.query(
    `INSERT INTO auth.totp_factors (user_id, sealed_secret, created_at) VALUES ($1, $2, $3)
     ON CONFLICT (user_id) DO UPDATE SET sealed_secret = $2, created_at = $3, last_used_step = 0
       WHERE auth.totp_factors.enabled_at IS NULL`,
    [userId, sealedSecret, now],
  );
  return result.rowCount === 1;
}

/**
 * Records `step` as used, only if it is newer than the last one: of two concurrent requests with the same
 * code, exactly one wins.
 */
export async function useTotpStep(
  db: Queryable,
  userId: string,
  step: number,
  options: { enableAt?: Date } = {},
): Promise<boolean> {
  const result = await db.query(
    `UPDATE auth.totp_factors SET last_used_step = $2, enabled_at = COALESCE(enabled_at, $3)
      WHERE user_id = $1 AND last_used_step < $2`,
    [userId, step, options.enableAt ?? null],
  );
  return result.rowCount === 1;
}

export async function deleteTotp(db: Queryable, userId: string): Promise<void> {
  await db.query('DELETE FROM auth.totp_factors WHERE user_id = $1', [userId]);
  await db.query('DELETE FROM auth.recovery_codes WHERE user_id = $1', [userId]);
}

export async function replaceRecoveryCodes(db: Queryable, userId: string, hashes: Buffer[]): Promise<void> {
  await db.query('DELETE FROM auth.recovery_codes WHERE user_id = $1', [userId]);
  await db.query('INSERT INTO auth.recovery_codes (user_id, code_hash) SELECT $1, unnest($2::bytea[])', [
    userId,
    hashes,
  ]);
}

export async function useRecoveryCode(
  db: Queryable,
  userId: string,
  hash: Buffer,
  now: Date,
): Promise<boolean> {
  const result = await db.query(
    'UPDATE auth.recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL',
    [userId, hash, now],
  );
  return result.rowCount === 1;
}

export async function countUnusedRecoveryCodes(db: Queryable, userId: string): Promise<number> {
  const result = await db.query<{ count: string }>(
    'SELECT count(*) FROM auth.recovery_codes WHERE user_id = $1 AND used_at IS NULL',
    [userId],
  );
  return Number(result.rows[0]?.count ?? 0);
}

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  created_by: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  created_by: string;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

const API_KEY_COLUMNS =
  'id, name, prefix, role, created_by, created_at, expires_at, revoked_at, last_used_at';

function toApiKeyView(row: ApiKeyRow): ApiKeyView {
  return {
    ...row,
    created_at: row.created_at.toISOString(),
    expires_at: row.expires_at?.toISOString() ?? null,
    revoked_at: row.revoked_at?.toISOString() ?? null,
    last_used_at: row.last_used_at?.toISOString() ?? null,
  };
}

export async function insertApiKey(
  db: Queryable,
  key: {
    id: string;
    name: string;
    prefix: string;
    hash: Buffer;
    role: Role;
    createdBy: string;
    now: Date;
    expiresAt: Date | null;
  },
): Promise<ApiKeyView> {
  const result = await db.query<ApiKeyRow>(
    `INSERT INTO auth.api_keys (id, name, prefix, key_hash, role, created_by, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${API_KEY_COLUMNS}`,
    [key.id, key.name, key.prefix, key.hash, key.role, key.createdBy, key.now, key.expiresAt],
  );
  return toApiKeyView(result.rows[0] as ApiKeyRow);
}

export async function listApiKeys(db: Queryable): Promise<ApiKeyView[]> {
  const result = await db.query<ApiKeyRow>(
    `SELECT ${API_KEY_COLUMNS} FROM auth.api_keys ORDER BY created_at DESC`,
  );
  return result.rows.map(toApiKeyView);
}

/** Returns the revoked key's hash so its cache entry can be dropped; undefined when unknown or already revoked. */
export async function revokeApiKey(db: Queryable, id: string, now: Date): Promise<Buffer | undefined> {
  const result = await db.query<{ key_hash: Buffer }>(
    'UPDATE auth.api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING key_hash',
    [id, now],
  );
  return result.rows[0]?.key_hash;
}

export async function findApiKeyByHash(
  db: Queryable,
  hash: Buffer,
): Promise<
  { id: string; role: Role; createdBy: string; expiresAtMs: number | null; revoked: boolean } | undefined
> {
  const result = await db.query<{
    id: string;
    role: Role;
    created_by: string;
    expires_at: Date | null;
    revoked_at: Date | null;
  }>('SELECT id, role, created_by, expires_at, revoked_at FROM auth.api_keys WHERE key_hash = $1', [hash]);
  const row = result.rows[0];
  return row
    ? {
        id: row.id,
        role: row.role,
        createdBy: row.created_by,
        expiresAtMs: row.expires_at?.getTime() ?? null,
        revoked: row.revoked_at !== null,
      }
    : undefined;
}

export async function touchApiKey(db: Queryable, id: string, now: Date): Promise<void> {
  await db.query('UPDATE auth.api_keys SET last_used_at = $2 WHERE id = $1', [id, now]);
}

export async function insertSetupToken(
  db: Queryable,
  hash: Buffer,
  now: Date,
  expiresAt: Date,
): Promise<void> {
  await db.query('INSERT INTO auth.setup_tokens (token_hash, created_at, expires_at) VALUES ($1, $2, $3)', [
    hash,
    now,
    expiresAt,
  ]);
}

/** Spends a setup token; false when it is unknown, spent or expired. */
export async function useSetupToken(db: Queryable, hash: Buffer, now: Date): Promise<boolean> {
  const result = await db.query(
    'UPDATE auth.setup_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2',
    [hash, now],
  );
  return result.rowCount === 1;
}
