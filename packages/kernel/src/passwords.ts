import { hash, verify } from '@node-rs/argon2';

// OWASP's Argon2id floor: 19 MiB, two passes, one lane.
const ARGON2ID = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

// A short list of the passwords attackers try first; long enough ones that are still guessable.
const COMMON_PASSWORDS = new Set([
  '123456789012',
  'password1234',
  'password12345',
  'qwertyuiop12',
  'qwerty123456',
  'iloveyou1234',
  'administrator',
  'letmein12345',
  'welcome12345',
  'changeme1234',
  'switchyard123',
  'passwordpassword',
  'aaaaaaaaaaaa',
  '111111111111',
  '000000000000',
]);

/**
 * Why a password is refused, or undefined when it is acceptable. Length and a list of common passwords
 * only, no composition rules (ASVS 6.2): they make passwords harder to remember, not to guess.
 */
export function passwordPolicyViolation(
  password: string,
  context: { email?: string } = {},
): string | undefined {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `must be at most ${PASSWORD_MAX_LENGTH} characters`;
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) return 'is too common';
  if (/^(.)\1+$/.test(password)) return 'must not repeat one character';
  const local = context.email?.split('@')[0]?.toLowerCase();
  if (local && local.length >= 4 && lower.includes(local)) return 'must not contain the email address';
  return undefined;
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2ID);
}

/** False for a wrong password and for a hash that cannot be read. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}
