import type { Clock, Logger, Pool } from '@switchyard/kernel';
import { HttpProblem } from '@switchyard/kernel';
import {
  type CryptoKey,
  decodeProtectedHeader,
  errors,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  jwtVerify,
  SignJWT,
} from 'jose';
import { ACCESS_TOKEN_TTL_SECONDS, randomToken } from './domain.ts';
import type { Sealer } from './secrets.ts';

const ALGORITHM = 'EdDSA';
const TOKEN_TYPE = 'at+jwt';
export const TOKEN_ISSUER = 'switchyard';
export const TOKEN_AUDIENCE = 'switchyard-api';
// Another instance may have rotated; an unknown kid reloads the keys, but not more often than this.
const RELOAD_INTERVAL_MS = 5_000;
// Keys a token may still be checked against are re-read this often so every instance signs with the newest.
const REFRESH_INTERVAL_MS = 60_000;
const CLOCK_SKEW_SECONDS = 30;

export interface AccessClaims {
  userId: string;
  sessionId: string;
  role: string;
  expiresAtMs: number;
}

interface LoadedKey {
  kid: string;
  publicJwk: JWK;
  publicKey: CryptoKey;
  privateKey: CryptoKey | undefined;
  retiresAtMs: number;
  expiresAtMs: number;
}

interface KeyRow {
  kid: string;
  public_jwk: JWK;
  sealed_private_key: string;
  retires_at: Date;
  expires_at: Date;
}

export interface KeyRing {
  /** Makes sure a key is signing now; rotates one that has signed for longer than the rotation period. */
  ensureSigningKey(): Promise<void>;
  /** Starts signing with a new key; the old one keeps verifying until its tokens have expired. */
  rotate(): Promise<string>;
  sign(claims: {
    userId: string;
    sessionId: string;
    role: string;
  }): Promise<{ token: string; expiresInSeconds: number }>;
  /** The claims of a valid access token, or an HttpProblem 401 saying what is wrong with it. */
  verify(token: string): Promise<AccessClaims>;
  jwks(): Promise<{ keys: JWK[] }>;
}

export function invalidToken(reason: string): HttpProblem {
  return new HttpProblem(401, 'invalid-token', 'Unauthorized', reason);
}

export function createKeyRing(options: {
  db: Pool;
  sealer: Sealer;
  clock: Clock;
  log: Logger;
  rotateAfterSeconds: number;
}): KeyRing {
  const { db, sealer, clock, log } = options;
  let keys = new Map<string, LoadedKey>();
  let loadedAtMs = 0;
  let loading: Promise<void> | undefined;

  async function load(): Promise<void> {
    const result = await db.query<KeyRow>(
      'SELECT kid, public_jwk, sealed_private_key, retires_at, expires_at FROM auth.signing_keys WHERE expires_at > $1',
      [clock()],
    );
    const next = new Map<string, LoadedKey>();
    for (const row of result.rows) {
      const known = keys.get(row.kid);
      const retiresAtMs = row.retires_at.getTime();
      const privateJwk = JSON.parse(sealer.unseal(row.sealed_private_key).toString('utf8')) as JWK;
      next.set(row.kid, {
        kid: row.kid,
        publicJwk: row.public_jwk,
        publicKey: known?.publicKey ?? ((await importJWK(row.public_jwk, ALGORITHM)) as CryptoKey),
        privateKey: known?.privateKey ?? ((await importJWK(privateJwk, ALGORITHM)) as CryptoKey),
        retiresAtMs,
        expiresAtMs: row.expires_at.getTime(),
      });
    }
    keys = next;
    loadedAtMs = clock().getTime();
  }

  function reload(): Promise<void> {
    loading ??= load().finally(() => {
      loading = undefined;
    });
    return loading;
  }

  function signingKey(): LoadedKey | undefined {
    const now = clock().getTime();
    let newest: LoadedKey | undefined;
    for (const key of keys.values()) {
      if (key.privateKey && key.retiresAtMs > now && (!newest || key.retiresAtMs > newest.retiresAtMs))
        newest = key;
    }
    return newest;
  }

  async function insertKey(retireCurrent: boolean): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(ALGORITHM, { crv: 'Ed25519', extractable: true });
    const kid = randomToken(12);
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALGORITHM, use: 'sig' };
    const privateJwk = await exportJWK(privateKey);
    const now = clock().getTime();
    const retiresAt = new Date(now + options.rotateAfterSeconds * 1000);
    const client = await db.connect();
    try {
      await client.query('BEGIN');
      if (retireCurrent) {
        // The retiring key stops signing now and is published until the last token it signed expires.
        await client.query(
          `UPDATE auth.signing_keys SET retires_at = $1, expires_at = $2 WHERE retires_at > $1`,
          [new Date(now), new Date(now + (ACCESS_TOKEN_TTL_SECONDS + CLOCK_SKEW_SECONDS) * 1000)],
        );
      }
      await client.query(
        `INSERT INTO auth.signing_keys (kid, algorithm, public_jwk, sealed_private_key, created_at, retires_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          kid,
          ALGORITHM,
          publicJwk,
          sealer.seal(Buffer.from(JSON.stringify(privateJwk))),
          new Date(now),
          retiresAt,
          new Date(retiresAt.getTime() + (ACCESS_TOKEN_TTL_SECONDS + CLOCK_SKEW_SECONDS) * 1000),
        ],
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
    log.info({ kid }, 'new access-token signing key');
    await reload();
    return kid;
  }

  async function resolveKey(token: string): Promise<CryptoKey> {
    let kid: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      if (header.alg !== ALGORITHM) throw invalidToken(`algorithm ${String(header.alg)} is not accepted`);
      if (header.typ !== TOKEN_TYPE) throw invalidToken('not an access token');
      kid = header.kid;
    } catch (error) {
      if (error instanceof HttpProblem) throw error;
      throw invalidToken('the token is malformed');
    }
    if (!kid) throw invalidToken('the token names no key');
    let key = keys.get(kid);
    if (!key && clock().getTime() - loadedAtMs > RELOAD_INTERVAL_MS) {
      await reload();
      key = keys.get(kid);
    }
    if (!key) throw invalidToken('the token was signed by an unknown key');
    return key.publicKey;
  }

  return {
    async ensureSigningKey() {
      const client = await db.connect();
      try {
        // Several instances may start at once; one of them creates the key.
        await client.query("SELECT pg_advisory_lock(hashtext('switchyard:auth:signing-keys'))");
        await reload();
        if (!signingKey()) await insertKey(false);
      } finally {
        await client
          .query("SELECT pg_advisory_unlock(hashtext('switchyard:auth:signing-keys'))")
          .catch(() => {});
        client.release();
      }
    },
    rotate: () => insertKey(true),
    async sign(claims) {
      if (clock().getTime() - loadedAtMs > REFRESH_INTERVAL_MS) await reload();
      let key = signingKey();
      if (!key) {
        await this.ensureSigningKey();
        key = signingKey();
      }
      if (!key?.privateKey) throw new Error('no signing key');
      const nowSeconds = Math.floor(clock().getTime() / 1000);
      const token = await new SignJWT({ role: claims.role, sid: claims.sessionId })
        .setProtectedHeader({ alg: ALGORITHM, kid: key.kid, typ: TOKEN_TYPE })
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setSubject(claims.userId)
        .setJti(randomToken(16))
        .setIssuedAt(nowSeconds)
        .setExpirationTime(nowSeconds + ACCESS_TOKEN_TTL_SECONDS)
        .sign(key.privateKey);
      return { token, expiresInSeconds: ACCESS_TOKEN_TTL_SECONDS };
    },
    async verify(token) {
      const key = await resolveKey(token);
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: [ALGORITHM],
          issuer: TOKEN_ISSUER,
          audience: TOKEN_AUDIENCE,
          typ: TOKEN_TYPE,
          requiredClaims: ['sub', 'exp', 'iat', 'sid'],
          clockTolerance: CLOCK_SKEW_SECONDS,
          currentDate: clock(),
        });
        if (typeof payload.sid !== 'string' || typeof payload.role !== 'string' || !payload.sub) {
          throw invalidToken('the token lacks its claims');
        }
        return {
          userId: payload.sub,
          sessionId: payload.sid,
          role: payload.role,
          expiresAtMs: (payload.exp as number) * 1000,
        };
      } catch (error) {
        if (error instanceof HttpProblem) throw error;
        if (error instanceof errors.JWTExpired) throw invalidToken('the token has expired');
        if (error instanceof errors.JWSSignatureVerificationFailed)
          throw invalidToken('the signature does not verify');
        if (error instanceof errors.JWTClaimValidationFailed)
          throw invalidToken(`claim ${error.claim} is invalid`);
        throw invalidToken('the token is malformed');
      }
    },
    async jwks() {
      if (clock().getTime() - loadedAtMs > REFRESH_INTERVAL_MS) await reload();
      return { keys: [...keys.values()].map((key) => key.publicJwk) };
    },
  };
}
