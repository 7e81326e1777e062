// What the benchmarks need now that every route of the server wants an identity: the environment that
// gives a server child a first admin, a secret key and rate limits a load test does not run into, and the
// calls that turn the admin into credentials (sign-in, refresh, an API key).
import { randomBytes } from 'node:crypto';

/** Who a benchmark run signs in as; the password and secret are new for every run. */
export interface BenchIdentity {
  email: string;
  password: string;
  /** SWITCHYARD_SECRET_KEY (at least 32 characters). */
  secretKey: string;
}

/** Requests per window, the most apps/server/src/config.ts accepts: no bench comes near it. */
export const BENCH_RATE_LIMIT = 10_000_000;
const BENCH_RATE_LIMIT_WINDOW_SECONDS = 60;

/**
 * Variables of the caller's environment that would change who the server trusts, how it counts requests
 * or which cache it uses; a bench sets what it needs of them itself.
 */
const REPLACED_VARIABLES = [
  'SWITCHYARD_ADMIN_EMAIL',
  'SWITCHYARD_ADMIN_PASSWORD',
  'SWITCHYARD_SECRET_KEY',
  'SWITCHYARD_RATE_LIMIT_ANONYMOUS',
  'SWITCHYARD_RATE_LIMIT_ANONYMOUS_WINDOW_SECONDS',
  'SWITCHYARD_RATE_LIMIT_AUTHENTICATED',
  'SWITCHYARD_RATE_LIMIT_AUTHENTICATED_WINDOW_SECONDS',
  'SWITCHYARD_UPSTREAMS',
  'REDIS_URL',
  'SWITCHYARD_REDIS_KEY_PREFIX',
];

export function newBenchIdentity(): BenchIdentity {
  return {
    email: 'bench-admin@switchyard.test',
    password: `bench-${randomBytes(12).toString('base64url')}`,
    secretKey: randomBytes(32).toString('base64url'),
  };
}

/**
 * `base` (usually process.env) with the identity settings of `identity`: the first admin is created when
 * the server starts on a fresh database, and anonymous and authenticated rate limits are raised to
 * BENCH_RATE_LIMIT per minute (the defaults, 100 per 15 min per IP and 6,000 per min per user, would
 * answer a load test with 429). REDIS_URL and its prefix are removed: the cache is process memory unless
 * the bench sets them.
 */
export function identityEnv(base: NodeJS.ProcessEnv, identity: BenchIdentity): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of REPLACED_VARIABLES) delete env[name];
  const limit = String(BENCH_RATE_LIMIT);
  const window = String(BENCH_RATE_LIMIT_WINDOW_SECONDS);
  return {
    ...env,
    SWITCHYARD_ADMIN_EMAIL: identity.email,
    SWITCHYARD_ADMIN_PASSWORD: identity.password,
    SWITCHYARD_SECRET_KEY: identity.secretKey,
    SWITCHYARD_RATE_LIMIT_ANONYMOUS: limit,
    SWITCHYARD_RATE_LIMIT_ANONYMOUS_WINDOW_SECONDS: window,
    SWITCHYARD_RATE_LIMIT_AUTHENTICATED: limit,
    SWITCHYARD_RATE_LIMIT_AUTHENTICATED_WINDOW_SECONDS: window,
  };
}

/** What /api/v1/auth/login and /api/v1/auth/refresh answer (the fields the benches use). */
export interface TokenPair {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  session_id: string;
  user: { id: string; role: string; email: string };
}

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(`POST ${new URL(url).pathname}: ${response.status} ${text.slice(0, 300)}`);
  }
  return JSON.parse(text) as unknown;
}

function tokenPair(value: unknown, what: string): TokenPair {
  const pair = value as Partial<TokenPair> | null;
  if (
    typeof pair?.access_token !== 'string' ||
    typeof pair.refresh_token !== 'string' ||
    typeof pair.session_id !== 'string' ||
    typeof pair.user?.id !== 'string'
  ) {
    throw new Error(`${what}: the answer holds no token pair`);
  }
  return pair as TokenPair;
}

/** Signs the bench admin in (one argon2 verification on the server, tens of milliseconds). */
export async function signIn(baseUrl: string, identity: BenchIdentity): Promise<TokenPair> {
  const body = await postJson(`${baseUrl}/api/v1/auth/login`, {
    email: identity.email,
    password: identity.password,
  });
  return tokenPair(body, 'sign-in');
}

/** Spends `refreshToken` for a new pair in the same session (access tokens live 15 minutes). */
export async function refreshTokens(baseUrl: string, refreshToken: string): Promise<TokenPair> {
  const body = await postJson(`${baseUrl}/api/v1/auth/refresh`, { refresh_token: refreshToken });
  return tokenPair(body, 'refresh');
}

export function bearer(accessToken: string): Record<string, string> {
  return { authorization: `Bearer ${accessToken}` };
}

/** Creates an API key with `role` as the signed-in admin; returns the key (shown only once). */
export async function createApiKey(
  baseUrl: string,
  accessToken: string,
  options: { name: string; role: 'admin' | 'operator' | 'member' },
): Promise<string> {
  const body = (await postJson(`${baseUrl}/api/v1/api-keys`, options, bearer(accessToken))) as {
    key?: unknown;
  };
  if (typeof body.key !== 'string') throw new Error('POST /api/v1/api-keys: the answer holds no key');
  return body.key;
}

/**
 * The headers a load generator sends: an API key (x-api-key) the admin creates after signing in. An API key
 * does not expire with the 15-minute access token, so runs of any length keep working.
 */
export async function apiKeyHeaders(
  baseUrl: string,
  identity: BenchIdentity,
  role: 'admin' | 'operator' | 'member' = 'operator',
): Promise<Record<string, string>> {
  const admin = await signIn(baseUrl, identity);
  const key = await createApiKey(baseUrl, admin.access_token, { name: `bench ${role}`, role });
  return { 'x-api-key': key };
}
