import { createHmac } from 'node:crypto';
import type { Clock } from '@switchyard/kernel';
import { type Config, readConfig } from '../src/config.ts';

export const TEST_ADMIN = { email: 'admin@switchyard.test', password: 'correct horse battery staple' };
// Tests share one IP (loopback); the source's 100 requests per 15 minutes would stop them, not protect.
export const TEST_RATE_LIMITS = {
  SWITCHYARD_RATE_LIMIT_ANONYMOUS: '1000000',
  SWITCHYARD_RATE_LIMIT_AUTHENTICATED: '1000000',
};

/** What a server process under test needs besides its own settings: a secret, a first admin, room. */
export const TEST_IDENTITY_ENV: Record<string, string> = {
  SWITCHYARD_ADMIN_EMAIL: TEST_ADMIN.email,
  SWITCHYARD_ADMIN_PASSWORD: TEST_ADMIN.password,
  ...TEST_RATE_LIMITS,
};

/** Configuration for an in-process server on a test database and a free port, with a first admin. */
export function testConfig(databaseUrl: string, env: Record<string, string> = {}): Config {
  return readConfig({
    DATABASE_URL: databaseUrl,
    PORT: '0',
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    SWITCHYARD_SECRET_KEY: 'test-secret-key-test-secret-key-0123456789',
    SWITCHYARD_ADMIN_EMAIL: TEST_ADMIN.email,
    SWITCHYARD_ADMIN_PASSWORD: TEST_ADMIN.password,
    ...TEST_RATE_LIMITS,
    ...env,
  });
}

// TOTP codes are computed the way an authenticator app does (RFC 6238), not with the service's code.
export function totp(secretBase32: string, atMs: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const char of secretBase32) bits += alphabet.indexOf(char).toString(2).padStart(5, '0');
  const secret = Buffer.from((bits.match(/.{8}/g) ?? []).map((byte) => Number.parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 30_000)));
  const mac = createHmac('sha1', secret).update(counter).digest();
  const offset = (mac.at(-1) as number) & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** A clock tests move forward by hand (token expiry, lockout expiry). */
export function testClock(): { clock: Clock; advance(ms: number): void } {
  let offsetMs = 0;
  return {
    clock: () => new Date(Date.now() + offsetMs),
    advance(ms) {
      offsetMs += ms;
    },
  };
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  session_id: string;
  user: { id: string; role: string; email: string };
}

/** Signs in and returns the tokens; fails the test when sign-in fails. */
export async function signIn(
  base: string,
  credentials: { email: string; password: string; totp_code?: string; recovery_code?: string } = TEST_ADMIN,
): Promise<TokenPair> {
  const response = await call<TokenPair>(base, 'POST', '/api/v1/auth/login', { json: credentials });
  if (response.status !== 200)
    throw new Error(`sign-in failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

const adminTokens = new Map<string, Promise<string>>();

/**
 * `call` as the test admin (SWITCHYARD_ADMIN_* of `testConfig`): what tests of other features need. It
 * signs in once per server and again when the token stops working (a restarted server).
 */
export async function adminCall<T = unknown>(
  base: string,
  method: string,
  path: string,
  options: { json?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  for (let attempt = 0; ; attempt += 1) {
    let token = adminTokens.get(base);
    if (!token) {
      token = signIn(base).then((tokens) => tokens.access_token);
      adminTokens.set(base, token);
      token.catch(() => adminTokens.delete(base));
    }
    const response = await call<T>(base, method, path, {
      ...options,
      headers: { ...bearer(await token), ...options.headers },
    });
    if (response.status !== 401 || attempt > 0) return response;
    adminTokens.delete(base);
  }
}

/** `call` with a signed-in admin's token: what most API tests need. */
export async function adminCaller(base: string): Promise<typeof call> {
  const { access_token } = await signIn(base);
  return (url, method, path, options = {}) =>
    call(url, method, path, { ...options, headers: { ...bearer(access_token), ...options.headers } });
}

/** Creates a user with `role` as the admin, signs them in, and returns their tokens. */
export async function userWithRole(
  base: string,
  role: 'admin' | 'operator' | 'member',
  email = `${role}-${Math.random().toString(36).slice(2)}@switchyard.test`,
): Promise<TokenPair & { password: string }> {
  const admin = await signIn(base);
  const password = 'a long enough password';
  const created = await call(base, 'POST', '/api/v1/auth/register', {
    json: { name: role, email, password, role },
    headers: bearer(admin.access_token),
  });
  if (created.status !== 201)
    throw new Error(`register failed: ${created.status} ${JSON.stringify(created.body)}`);
  return { ...(await signIn(base, { email, password })), password };
}

export interface JsonResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** A fetch that sends JSON (or a raw body when `raw` is given) and parses what comes back. */
export async function call<T = unknown>(
  base: string,
  method: string,
  path: string,
  options: { json?: unknown; raw?: string; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.raw !== undefined) {
    body = options.raw;
  }
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text && /json/.test(response.headers.get('content-type') ?? '')
      ? JSON.parse(text)
      : text || undefined) as T,
  };
}

/** Source D's event as its API returns it (`processedAt` in processed lists). */
export interface ActivityEvent {
  eventId: string;
  userId: string;
  eventType: string;
  timestamp: string;
  payload?: Record<string, unknown>;
  processedAt?: string;
}

/**
 * Reads until `done` holds, for outcomes that arrive through the bus after the reply (a delivery, a
 * status): fails with what it last saw when `timeoutMs` passes.
 */
export async function until<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}: ${JSON.stringify(value).slice(0, 500)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
