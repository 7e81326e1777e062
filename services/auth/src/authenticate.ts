import type { Cache } from '@switchyard/cache';
import type { UserDirectory } from '@switchyard/contracts';
import type { Authenticate, Clock, Credentials, Identity, Logger, Pool } from '@switchyard/kernel';
import { ACCESS_TOKEN_TTL_SECONDS, looksLikeApiKey, sha256 } from './domain.ts';
import { findApiKeyByHash, findSession, touchApiKey } from './store.ts';
import { type AccessClaims, invalidToken, type KeyRing } from './tokens.ts';

// Cache entries the authenticator keeps. Each is dropped (on every instance) when what it mirrors
// changes: a session revoked, a key revoked, a user updated or deleted.
export const authCacheKeys = {
  session: (sessionId: string) => `auth:session:${sessionId}`,
  principal: (userId: string) => `auth:principal:${userId}`,
  apiKey: (hash: Buffer) => `auth:api_key:${hash.toString('hex')}`,
};
const PRINCIPAL_TTL_SECONDS = 300;
const API_KEY_TTL_SECONDS = 300;
// Writing last_used_at on every request would turn reads into writes; a minute's precision is enough.
const API_KEY_TOUCH_INTERVAL_MS = 60_000;
// Verified tokens are remembered so a client's next requests skip the signature check.
const VERIFIED_TOKENS_MAX = 10_000;

interface CachedSession {
  userId: string;
  active: boolean;
}
interface CachedPrincipal {
  role: string;
  active: boolean;
}
interface CachedApiKey {
  id: string;
  role: string;
  createdBy: string;
  expiresAtMs: number | null;
  revoked: boolean;
}

export function createAuthenticator(options: {
  db: Pool;
  cache: Cache;
  keyRing: KeyRing;
  users: () => UserDirectory;
  clock: Clock;
  log: Logger;
}): Authenticate {
  const { db, cache, keyRing, clock, log } = options;
  const verified = new Map<string, AccessClaims>();
  const lastTouchMs = new Map<string, number>();

  async function verifyAccessToken(token: string): Promise<AccessClaims> {
    const now = clock().getTime();
    const known = verified.get(token);
    if (known && known.expiresAtMs > now) return known;
    if (known) verified.delete(token);
    const claims = await keyRing.verify(token);
    if (verified.size >= VERIFIED_TOKENS_MAX) verified.delete(verified.keys().next().value as string);
    verified.set(token, claims);
    return claims;
  }

  async function sessionOf(sessionId: string): Promise<CachedSession | undefined> {
    const key = authCacheKeys.session(sessionId);
    const cached = await cache.get<CachedSession>(key);
    if (cached) return cached;
    const session = await findSession(db, sessionId);
    if (!session) return undefined;
    const value = {
      userId: session.userId,
      active: !session.revoked && session.absoluteExpiresAtMs > clock().getTime(),
    };
    await cache.set(key, value, ACCESS_TOKEN_TTL_SECONDS);
    return value;
  }

  async function principalOf(userId: string): Promise<CachedPrincipal> {
    const key = authCacheKeys.principal(userId);
    const cached = await cache.get<CachedPrincipal>(key);
    if (cached) return cached;
    const user = await options.users().findById(userId);
    const value = { role: user?.role ?? 'none', active: user?.status === 'active' };
    await cache.set(key, value, PRINCIPAL_TTL_SECONDS);
    return value;
  }

  async function apiKeyOf(token: string): Promise<CachedApiKey | undefined> {
    const hash = sha256(token);
    const key = authCacheKeys.apiKey(hash);
    const cached = await cache.get<CachedApiKey>(key);
    if (cached) return cached;
    const row = await findApiKeyByHash(db, hash);
    if (!row) return undefined;
    await cache.set(key, row, API_KEY_TTL_SECONDS);
    return row;
  }

  // Awaited (once a minute per key), so "last used" is true when the response arrives.
  async function touch(apiKeyId: string): Promise<void> {
    const now = clock().getTime();
    if (now - (lastTouchMs.get(apiKeyId) ?? 0) < API_KEY_TOUCH_INTERVAL_MS) return;
    lastTouchMs.set(apiKeyId, now);
    await touchApiKey(db, apiKeyId, clock()).catch((error: unknown) =>
      log.warn({ err: error, apiKeyId }, 'could not record API key use'),
    );
  }

  async function byApiKey(token: string): Promise<Identity> {
    const key = await apiKeyOf(token);
    if (!key) throw invalidToken('the API key is not known');
    if (key.revoked) throw invalidToken('the API key has been revoked');
    if (key.expiresAtMs !== null && key.expiresAtMs <= clock().getTime())
      throw invalidToken('the API key has expired');
    await touch(key.id);
    return { kind: 'api_key', userId: key.createdBy, role: key.role, apiKeyId: key.id };
  }

  return async (credentials: Credentials) => {
    if (credentials.scheme === 'api_key' || looksLikeApiKey(credentials.token))
      return byApiKey(credentials.token);
    const claims = await verifyAccessToken(credentials.token);
    const session = await sessionOf(claims.sessionId);
    if (!session?.active || session.userId !== claims.userId) throw invalidToken('the session has ended');
    const principal = await principalOf(claims.userId);
    if (!principal.active) throw invalidToken('the account is disabled or deleted');
    // The role is the user's current one, not the one in the token: a demotion takes effect at once.
    return { kind: 'user', userId: claims.userId, role: principal.role, sessionId: claims.sessionId };
  };
}
