import { importPKCS8, SignJWT } from 'jose';
import {
  type ChannelProvider,
  classifyFcmResponse,
  classifyOAuthTokenFailure,
  classifyRequestFailure,
  type DeliveryOutcome,
  isFcmTokenRejection,
  permanent,
} from '../domain.ts';
import { createAgents, headerValue, post } from '../http-client.ts';

/** The fields of a Google service-account key file (the JSON downloaded from the console) that are used. */
export interface FcmServiceAccount {
  project_id: string;
  client_email: string;
  /** PKCS #8 PEM. */
  private_key: string;
  private_key_id?: string;
  token_uri?: string;
}

/** What a push notification says, whichever push provider carries it. */
export interface PushContent {
  title: string;
  body: string;
  /** FCM data values must be strings. */
  data?: Record<string, string>;
}

export interface FcmMessage extends PushContent {
  /** The device's FCM registration token. */
  token: string;
}

export interface FcmProviderOptions {
  serviceAccount: FcmServiceAccount;
  name?: string;
  /** Default `https://fcm.googleapis.com`. */
  baseUrl?: string;
  /** Default: the service account's `token_uri`, else `https://oauth2.googleapis.com/token`. */
  tokenUri?: string;
  timeoutMs?: number;
  /** Milliseconds; drives the access token's expiry (injectable for tests). */
  clock?: () => number;
}

export interface FcmProvider extends ChannelProvider<FcmMessage> {
  close(): void;
}

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Google signs grants of at most one hour. */
const ASSERTION_LIFETIME_SECONDS = 3600;
/** A token this close to its expiry is replaced, so it cannot expire between check and use. */
const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

type TokenResult = { ok: true; accessToken: string } | { ok: false; outcome: DeliveryOutcome };

/**
 * Firebase Cloud Messaging HTTP v1: an OAuth access token from a service-account JWT grant (RS256),
 * cached until shortly before it expires, then `POST /v1/projects/{project}/messages:send`. A 401 gets
 * one fresh token and one more try; every other answer is classified by `classifyFcmResponse`.
 */
export function createFcmProvider(options: FcmProviderOptions): FcmProvider {
  const account = options.serviceAccount;
  for (const field of ['project_id', 'client_email', 'private_key'] as const) {
    if (typeof account[field] !== 'string' || account[field] === '') {
      throw new Error(`the FCM service account has no ${field}`);
    }
  }
  const clock = options.clock ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const tokenUri = options.tokenUri ?? account.token_uri ?? 'https://oauth2.googleapis.com/token';
  const sendUrl = new URL(
    `/v1/projects/${encodeURIComponent(account.project_id)}/messages:send`,
    options.baseUrl ?? 'https://fcm.googleapis.com',
  );
  const agents = createAgents();
  let signingKey: ReturnType<typeof importPKCS8> | undefined;
  let cached: { accessToken: string; refreshAtMs: number } | undefined;
  // Concurrent sends with no valid token share one grant request.
  let inFlight: Promise<TokenResult> | undefined;

  // No caller's signal: the grant is shared by every send waiting for it, so one cancelled send must
  // not fail the others. The timeout still bounds it.
  async function requestToken(): Promise<TokenResult> {
    let assertion: string;
    try {
      signingKey ??= importPKCS8(account.private_key, 'RS256');
      const nowSeconds = Math.floor(clock() / 1000);
      assertion = await new SignJWT({ scope: FCM_SCOPE })
        .setProtectedHeader({
          alg: 'RS256',
          typ: 'JWT',
          ...(account.private_key_id ? { kid: account.private_key_id } : {}),
        })
        .setIssuer(account.client_email)
        .setAudience(tokenUri)
        .setIssuedAt(nowSeconds)
        .setExpirationTime(nowSeconds + ASSERTION_LIFETIME_SECONDS)
        .sign(await signingKey);
    } catch (error) {
      signingKey = undefined;
      const detail = error instanceof Error ? error.message : String(error);
      return { ok: false, outcome: permanent('configuration', `service account key unusable: ${detail}`) };
    }
    const result = await post({
      url: tokenUri,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString(),
      timeoutMs,
      agents,
    });
    if (!result.ok)
      return { ok: false, outcome: classifyRequestFailure(result.kind, `token endpoint: ${result.detail}`) };
    const { status, body, headers } = result.answer;
    if (status !== 200) {
      return {
        ok: false,
        outcome: classifyOAuthTokenFailure(status, body, headerValue(headers, 'retry-after'), clock()),
      };
    }
    const token = readToken(body);
    if (!token)
      return {
        ok: false,
        outcome: permanent('configuration', 'token endpoint answered without an access_token'),
      };
    const marginMs = Math.min(TOKEN_REFRESH_MARGIN_MS, token.expiresInMs / 2);
    cached = { accessToken: token.accessToken, refreshAtMs: clock() + token.expiresInMs - marginMs };
    return { ok: true, accessToken: token.accessToken };
  }

  function accessToken(): Promise<TokenResult> {
    if (cached && clock() < cached.refreshAtMs)
      return Promise.resolve({ ok: true, accessToken: cached.accessToken });
    inFlight ??= requestToken().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  return {
    name: options.name ?? 'fcm',
    channel: 'push',

    async send(message, context) {
      const body = JSON.stringify({
        message: {
          token: message.token,
          notification: { title: message.title, body: message.body },
          ...(message.data && Object.keys(message.data).length > 0 ? { data: message.data } : {}),
        },
      });
      for (let attempt = 1; ; attempt++) {
        const token = await accessToken();
        if (!token.ok) return token.outcome;
        const result = await post({
          url: sendUrl,
          headers: {
            authorization: `Bearer ${token.accessToken}`,
            'content-type': 'application/json; charset=UTF-8',
          },
          body,
          timeoutMs,
          signal: context.signal,
          agents,
        });
        if (!result.ok) return classifyRequestFailure(result.kind, result.detail);
        const { status, headers, body: answer } = result.answer;
        if (attempt === 1 && isFcmTokenRejection(status, answer)) {
          // Revoked or expired early: this token is no good whatever its stated expiry.
          if (cached?.accessToken === token.accessToken) cached = undefined;
          continue;
        }
        return classifyFcmResponse(status, answer, headerValue(headers, 'retry-after'), clock());
      }
    },

    close() {
      agents.destroy();
    },
  };
}

function readToken(body: string): { accessToken: string; expiresInMs: number } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { access_token: accessToken, expires_in: expiresIn } = parsed as Record<string, unknown>;
  if (typeof accessToken !== 'string' || accessToken === '') return undefined;
  // Google states 3599 s; a missing value is taken as the hour a grant lasts.
  const seconds = typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : ASSERTION_LIFETIME_SECONDS;
  return { accessToken, expiresInMs: seconds * 1000 };
}
