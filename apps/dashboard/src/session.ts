/**
 * The signed-in session: tokens in localStorage so a reload or a second tab stays signed in, refreshed
 * before the access token runs out. A refresh token works once and a replayed one ends the session on the
 * server, so refreshes are serialised across tabs with a Web Lock and the winner's tokens are shared.
 */
export interface SessionUser {
  id: string;
  name: string;
  email: string;
  role: string;
}

interface StoredSession {
  accessToken: string;
  accessExpiresAtMs: number;
  refreshToken: string;
  user: SessionUser;
}

interface TokenPair {
  access_token: string;
  expires_in: number;
  refresh_token: string;
  user: SessionUser;
}

const STORAGE_KEY = 'switchyard.session';
/** Refresh this long before the access token expires, so a request never leaves with a dying token. */
const REFRESH_MARGIN_MS = 30_000;

const listeners = new Set<() => void>();
let cachedRaw: string | null | undefined;
let cachedSession: StoredSession | null = null;

function read(): StoredSession | null {
  const raw = localStorage.getItem(STORAGE_KEY);
  if (raw === cachedRaw) return cachedSession;
  cachedRaw = raw;
  try {
    cachedSession = raw ? (JSON.parse(raw) as StoredSession) : null;
  } catch {
    cachedSession = null;
  }
  return cachedSession;
}

function write(session: StoredSession | null): void {
  if (session) localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  else localStorage.removeItem(STORAGE_KEY);
  for (const listener of listeners) listener();
}

function stored(pair: TokenPair): StoredSession {
  return {
    accessToken: pair.access_token,
    accessExpiresAtMs: Date.now() + pair.expires_in * 1000,
    refreshToken: pair.refresh_token,
    user: pair.user,
  };
}

// Another tab signed in, refreshed or signed out.
window.addEventListener('storage', (event) => {
  if (event.key !== STORAGE_KEY) return;
  for (const listener of listeners) listener();
});

export function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function currentUser(): SessionUser | null {
  return read()?.user ?? null;
}

/** After the signed-in person's own profile changed: the header shows the new name at once. */
export function updateCurrentUser(changed: Partial<Omit<SessionUser, 'id'>>): void {
  const session = read();
  if (session) write({ ...session, user: { ...session.user, ...changed } });
}

async function withRefreshLock<T>(work: () => Promise<T>): Promise<T> {
  if ('locks' in navigator) return navigator.locks.request('switchyard.refresh', work);
  return work();
}

let refreshing: Promise<StoredSession | null> | undefined;

/**
 * A session whose access token is good for a while yet: the stored one, or a refreshed one. `stale` is a
 * token the server refused, so it is replaced even if its clock says it is still valid.
 */
function freshSession(stale?: string): Promise<StoredSession | null> {
  refreshing ??= withRefreshLock(async () => {
    const session = read();
    if (!session) return null;
    if (session.accessToken !== stale && session.accessExpiresAtMs - Date.now() > REFRESH_MARGIN_MS) {
      return session;
    }
    const response = await fetch('/api/v1/auth/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: session.refreshToken }),
    });
    if (response.status === 200) {
      const renewed = stored((await response.json()) as TokenPair);
      write(renewed);
      return renewed;
    }
    // Spent, expired or revoked (signed out elsewhere): the session is over.
    if (response.status === 400 || response.status === 401) write(null);
    return null;
  }).finally(() => {
    refreshing = undefined;
  });
  return refreshing;
}

export async function accessToken(): Promise<string | null> {
  return (await freshSession())?.accessToken ?? null;
}

/** `fetch` with the session's token; a 401 refreshes once and tries again. */
export async function authorizedFetch(request: Request): Promise<Response> {
  const retry = request.clone();
  const token = await accessToken();
  if (token) request.headers.set('authorization', `Bearer ${token}`);
  const response = await fetch(request);
  if (response.status !== 401 || !token) return response;
  const renewed = await freshSession(token);
  if (!renewed) return response;
  retry.headers.set('authorization', `Bearer ${renewed.accessToken}`);
  return fetch(retry);
}

export interface SignInInput {
  email: string;
  password: string;
  totp_code?: string;
  recovery_code?: string;
}

export type SignInResult =
  | { kind: 'signed-in' }
  | { kind: 'mfa-required' }
  | { kind: 'refused'; status: number; detail: string; fields: Record<string, string> };

export async function signIn(input: SignInInput): Promise<SignInResult> {
  const response = await fetch('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  if (response.status === 200) {
    write(stored((await response.json()) as TokenPair));
    return { kind: 'signed-in' };
  }
  const problem = (await response.json().catch(() => ({}))) as {
    detail?: string;
    title?: string;
    mfa_required?: boolean;
    errors?: { field: string; reason: string }[];
  };
  if (problem.mfa_required) return { kind: 'mfa-required' };
  return {
    kind: 'refused',
    status: response.status,
    detail: problem.detail ?? problem.title ?? `Sign-in failed (${response.status})`,
    fields: Object.fromEntries((problem.errors ?? []).map((error) => [error.field, error.reason])),
  };
}

/** Ends the session here; `{ endedOnServer: true }` when the server has ended it already (everywhere). */
export async function signOut(options: { endedOnServer?: boolean } = {}): Promise<void> {
  const session = read();
  if (session && !options.endedOnServer) {
    // The server ends the session; the tokens are forgotten here whatever it answers.
    await authorizedFetch(new Request('/api/v1/auth/logout', { method: 'POST' })).catch(() => undefined);
  }
  write(null);
}
