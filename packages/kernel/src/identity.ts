/**
 * Who is calling. The kernel only carries it; the auth service decides how credentials become one, and
 * the role → permission table (contracts) decides what it may do.
 */
export interface Identity {
  kind: 'user' | 'api_key';
  /** The user's id; for an API key, the id of the admin who created it. */
  userId: string;
  role: string;
  /** The login session (refresh-token family) a user's access token belongs to. */
  sessionId?: string;
  /** The API key's id when `kind` is `api_key`. */
  apiKeyId?: string;
}

/** The credentials a request carries, taken from `Authorization: Bearer` or `x-api-key`. */
export interface Credentials {
  scheme: 'bearer' | 'api_key';
  token: string;
}

/**
 * Resolves credentials to an identity, or throws an `HttpProblem` (401) saying why they are refused:
 * expired, bad signature, revoked, unknown key.
 */
export type Authenticate = (credentials: Credentials) => Promise<Identity>;

/** Whether `role` holds `permission`. */
export type Authorize = (role: string, permission: string) => boolean;

/** Reads the credentials of a request's headers; undefined when there are none. */
export function credentialsOf(
  headers: Record<string, string | string[] | undefined>,
): Credentials | undefined {
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey !== '') return { scheme: 'api_key', token: apiKey };
  const authorization = headers.authorization;
  if (typeof authorization !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) return undefined;
  return { scheme: 'bearer', token: match[1] as string };
}
