import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  afterFailure,
  base32Decode,
  base32Encode,
  checkTotp,
  isLocked,
  LOCKOUT,
  newRecoveryCodes,
  normalizeRecoveryCode,
  otpauthUri,
  refreshOutcome,
  totpCode,
} from '../src/domain.ts';

const RFC_SECRET = Buffer.from('12345678901234567890');

describe('TOTP (RFC 6238 test vectors, SHA-1)', () => {
  for (const [seconds, expected] of [
    [59, '94287082'],
    [1111111109, '07081804'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
  ] as const) {
    it(`gives ${expected} at T=${seconds}`, () => {
      assert.equal(totpCode(RFC_SECRET, Math.floor(seconds / 30), 8), expected);
    });
  }

  it('accepts the current code once: the same step again is a replay', () => {
    const now = 1_700_000_000_000;
    const code = totpCode(RFC_SECRET, Math.floor(now / 30_000));
    const first = checkTotp(RFC_SECRET, code, now, 0);
    assert.equal(first.ok, true);
    const step = first.ok ? first.step : 0;
    assert.deepEqual(checkTotp(RFC_SECRET, code, now, step), { ok: false, reason: 'replayed' });
  });

  it('accepts one step of drift either side, not two', () => {
    const now = 1_700_000_000_000;
    const step = Math.floor(now / 30_000);
    assert.equal(checkTotp(RFC_SECRET, totpCode(RFC_SECRET, step - 1), now, 0).ok, true);
    assert.equal(checkTotp(RFC_SECRET, totpCode(RFC_SECRET, step + 1), now, 0).ok, true);
    assert.deepEqual(checkTotp(RFC_SECRET, totpCode(RFC_SECRET, step - 2), now, 0), {
      ok: false,
      reason: 'invalid',
    });
  });

  it('refuses codes that are not six digits without comparing them', () => {
    for (const code of ['', '12345', '1234567', 'abcdef', '12 456']) {
      assert.deepEqual(checkTotp(RFC_SECRET, code, 0, 0), { ok: false, reason: 'invalid' });
    }
  });

  it('round-trips base32 and builds an otpauth URI apps can scan', () => {
    assert.equal(base32Encode(RFC_SECRET), 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    assert.deepEqual(base32Decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'), RFC_SECRET);
    const uri = new URL(otpauthUri({ secret: RFC_SECRET, account: 'ada@example.com', issuer: 'Switchyard' }));
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.searchParams.get('secret'), 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    assert.equal(uri.searchParams.get('period'), '30');
  });
});

describe('lockout', () => {
  it('locks on the fifth failure within the window, for 15 minutes', () => {
    let record = afterFailure(undefined, 0);
    for (let minute = 1; minute < LOCKOUT.maxFailures; minute += 1) {
      assert.equal(isLocked(record, minute * 60_000), false);
      record = afterFailure(record, minute * 60_000);
    }
    const lockedAt = (LOCKOUT.maxFailures - 1) * 60_000;
    assert.equal(record.failures, LOCKOUT.maxFailures);
    assert.equal(isLocked(record, lockedAt + LOCKOUT.lockMs - 1), true);
    assert.equal(isLocked(record, lockedAt + LOCKOUT.lockMs), false);
  });

  it('starts counting again once the window has passed', () => {
    let record = afterFailure(undefined, 0);
    for (let i = 0; i < 3; i += 1) record = afterFailure(record, 1000);
    const later = afterFailure(record, LOCKOUT.windowMs + 1000);
    assert.equal(later.failures, 1);
    assert.equal(later.lockedUntilMs, null);
  });

  it('after a lock expires, one more failure does not lock again at once', () => {
    let record = afterFailure(undefined, 0);
    for (let i = 1; i < LOCKOUT.maxFailures; i += 1) record = afterFailure(record, i);
    const after = afterFailure(record, (record.lockedUntilMs ?? 0) + 1);
    assert.equal(after.failures, 1);
    assert.equal(isLocked(after, (record.lockedUntilMs ?? 0) + 2), false);
  });
});

describe('refresh rotation', () => {
  const session = { revokedAtMs: null, absoluteExpiresAtMs: 10_000 };
  it('rotates an unused, unexpired token', () => {
    assert.equal(refreshOutcome({ expiresAtMs: 5000, usedAtMs: null }, session, 1000), 'rotate');
  });
  it('calls a spent token presented again a reuse', () => {
    assert.equal(refreshOutcome({ expiresAtMs: 5000, usedAtMs: 900 }, session, 1000), 'reuse');
  });
  it('expires with the token or with the session, whichever is first', () => {
    assert.equal(refreshOutcome({ expiresAtMs: 5000, usedAtMs: null }, session, 5000), 'expired');
    assert.equal(refreshOutcome({ expiresAtMs: 50_000, usedAtMs: null }, session, 10_000), 'expired');
  });
  it('refuses any token of a revoked session', () => {
    assert.equal(
      refreshOutcome(
        { expiresAtMs: 5000, usedAtMs: null },
        { revokedAtMs: 10, absoluteExpiresAtMs: 10_000 },
        1000,
      ),
      'revoked',
    );
  });
});

describe('recovery codes', () => {
  it('gives ten distinct codes that match however they are typed', () => {
    const codes = newRecoveryCodes();
    assert.equal(new Set(codes).size, 10);
    const code = codes[0] as string;
    assert.match(code, /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
    assert.equal(normalizeRecoveryCode(code.toUpperCase().replaceAll('-', ' ')), normalizeRecoveryCode(code));
  });
});
