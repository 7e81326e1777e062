import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';

// Pure decisions of the auth service: token formats, TOTP (RFC 6238), lockout and refresh rotation.
// Randomness is passed in where a test needs to pin it; hashing is deterministic, so it lives here too.

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const REFRESH_TOKEN_TTL_SECONDS = 7 * 24 * 3600;
/** However often it is refreshed, a session ends this long after login (ASVS 10.4.8). */
export const SESSION_MAX_AGE_SECONDS = 30 * 24 * 3600;

export interface LockoutPolicy {
  maxFailures: number;
  windowMs: number;
  lockMs: number;
}
export const LOCKOUT: LockoutPolicy = { maxFailures: 5, windowMs: 15 * 60_000, lockMs: 15 * 60_000 };

export interface FailureRecord {
  failures: number;
  windowStartedAtMs: number;
  lockedUntilMs: number | null;
}

export function isLocked(record: FailureRecord | undefined, nowMs: number): boolean {
  return record?.lockedUntilMs != null && record.lockedUntilMs > nowMs;
}

/** The record after one more failed login: a new window once the old one ran out, a lock at the limit. */
export function afterFailure(
  record: FailureRecord | undefined,
  nowMs: number,
  policy: LockoutPolicy = LOCKOUT,
): FailureRecord {
  const fresh =
    !record || nowMs - record.windowStartedAtMs >= policy.windowMs || isExpiredLock(record, nowMs);
  const failures = fresh ? 1 : record.failures + 1;
  const windowStartedAtMs = fresh ? nowMs : record.windowStartedAtMs;
  return {
    failures,
    windowStartedAtMs,
    lockedUntilMs: failures >= policy.maxFailures ? nowMs + policy.lockMs : null,
  };
}

function isExpiredLock(record: FailureRecord, nowMs: number): boolean {
  return record.lockedUntilMs !== null && record.lockedUntilMs <= nowMs;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** One call instead of a Hash object: this runs on every API-key request (about 5× faster). */
export function sha256(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

// API keys: a fixed prefix makes them recognisable (secret scanners, logs) and tells them from JWTs.
export const API_KEY_PREFIX = 'syk_';

export function newApiKey(): { key: string; displayPrefix: string } {
  const key = `${API_KEY_PREFIX}${randomToken(32)}`;
  return { key, displayPrefix: key.slice(0, 12) };
}

export function looksLikeApiKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX);
}

export type RefreshOutcome = 'rotate' | 'reuse' | 'expired' | 'revoked';

/**
 * What presenting a refresh token means. A spent token presented again is a replay (stolen token or a
 * race lost by the thief): the whole family is revoked (ASVS 10.4.5).
 */
export function refreshOutcome(
  token: { expiresAtMs: number; usedAtMs: number | null },
  session: { revokedAtMs: number | null; absoluteExpiresAtMs: number },
  nowMs: number,
): RefreshOutcome {
  if (session.revokedAtMs !== null) return 'revoked';
  if (token.usedAtMs !== null) return 'reuse';
  if (token.expiresAtMs <= nowMs || session.absoluteExpiresAtMs <= nowMs) return 'expired';
  return 'rotate';
}

// --- TOTP (RFC 6238 over RFC 4226), SHA-1, 30-second steps, 6 digits: what authenticator apps expect.

export const TOTP_STEP_SECONDS = 30;
const TOTP_DIGITS = 6;
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Encode(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let output = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      output += BASE32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) output += BASE32_ALPHABET[(value << (5 - bits)) & 31];
  return output;
}

export function base32Decode(text: string): Buffer {
  const clean = text.replace(/=+$/, '').toUpperCase();
  let bits = 0;
  let value = 0;
  const bytes: number[] = [];
  for (const char of clean) {
    const index = BASE32_ALPHABET.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_STEP_SECONDS);
}

/** The code for one time step (RFC 4226 dynamic truncation). */
export function totpCode(secret: Buffer, step: number, digits = TOTP_DIGITS): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', secret).update(counter).digest();
  const offset = (mac[mac.length - 1] as number) & 0xf;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

export type TotpCheck = { ok: true; step: number } | { ok: false; reason: 'invalid' | 'replayed' };

/**
 * Accepts the code of the current step or one step either side (clock drift), but never a step at or
 * before the last one accepted: a code works once (ASVS 6.5.1).
 */
export function checkTotp(secret: Buffer, code: string, nowMs: number, lastUsedStep: number): TotpCheck {
  if (!/^\d{6}$/.test(code)) return { ok: false, reason: 'invalid' };
  const current = totpStep(nowMs);
  for (const step of [current, current - 1, current + 1]) {
    if (safeEqual(totpCode(secret, step), code)) {
      return step <= lastUsedStep ? { ok: false, reason: 'replayed' } : { ok: true, step };
    }
  }
  return { ok: false, reason: 'invalid' };
}

function safeEqual(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export function otpauthUri(options: { secret: Buffer; account: string; issuer: string }): string {
  const label = encodeURIComponent(`${options.issuer}:${options.account}`);
  const query = new URLSearchParams({
    secret: base32Encode(options.secret),
    issuer: options.issuer,
    algorithm: 'SHA1',
    digits: String(TOTP_DIGITS),
    period: String(TOTP_STEP_SECONDS),
  });
  return `otpauth://totp/${label}?${query}`;
}

// --- Recovery codes: ten, each usable once, shown once, stored hashed.

export const RECOVERY_CODE_COUNT = 10;

export function newRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    const text = base32Encode(randomBytes(10)).toLowerCase();
    return `${text.slice(0, 4)}-${text.slice(4, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}`;
  });
}

/** People type codes with or without dashes, in either case. */
export function normalizeRecoveryCode(code: string): string {
  return code.replace(/[\s-]/g, '').toLowerCase();
}
