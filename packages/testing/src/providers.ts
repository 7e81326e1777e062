/**
 * Local HTTP servers that speak the documented protocols of the push, SMS and webhook providers, for
 * tests on a machine that cannot reach the real ones: Google's OAuth token endpoint and FCM HTTP v1,
 * Twilio's Messages API, an RFC 8030 push service with VAPID (RFC 8292) and message encryption (RFC
 * 8291), and a webhook receiver. They check what the real service checks (signatures, auth, required
 * fields), answer with its documented bodies and error codes, and record what they accepted.
 */
import {
  createDecipheriv,
  createECDH,
  createPublicKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
  randomUUID,
  verify,
} from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

// ---------------------------------------------------------------------------------------------------
// Shared plumbing

/** What a fake has recorded, with a way to wait for an entry that has not arrived yet. */
export interface Recorded<T> {
  readonly items: readonly T[];
  /** The first entry, recorded or still to come, that matches; rejects after `timeoutMs` (default 15 s: CI runs three test files at once on two cores). */
  waitFor(predicate?: (item: T) => boolean, options?: { timeoutMs?: number }): Promise<T>;
  clear(): void;
}

export interface Recorder<T> extends Recorded<T> {
  push(item: T): void;
}

export function createRecorder<T>(label: string): Recorder<T> {
  const items: T[] = [];
  const waiters = new Set<(item: T) => void>();
  return {
    items,
    push(item) {
      items.push(item);
      for (const waiter of [...waiters]) waiter(item);
    },
    clear() {
      items.length = 0;
    },
    waitFor(predicate = () => true, { timeoutMs = 15_000 } = {}) {
      const found = items.find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching ${label} within ${timeoutMs} ms (${items.length} recorded)`));
        }, timeoutMs);
        const waiter = (item: T) => {
          if (!predicate(item)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(item);
        };
        waiters.add(waiter);
      });
    },
  };
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

interface LocalServer {
  url: string;
  close(): Promise<void>;
}

async function listen(
  handler: (request: http.IncomingMessage, body: Buffer) => Reply | undefined | Promise<Reply | undefined>,
): Promise<LocalServer> {
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      let reply: Reply | undefined;
      try {
        reply = await handler(request, Buffer.concat(chunks));
      } catch (error) {
        reply = { status: 500, body: String(error) };
      }
      // No reply: the fake is told to hang, so the client's deadline is what ends the request.
      if (!reply) return;
      response.writeHead(reply.status, reply.headers ?? {});
      response.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=UTF-8', ...headers },
    body: JSON.stringify(value),
  };
}

function retryAfter(seconds: number | undefined): Record<string, string> {
  return seconds === undefined ? {} : { 'retry-after': String(seconds) };
}

function formOf(request: http.IncomingMessage, body: Buffer): URLSearchParams | undefined {
  const type = request.headers['content-type'] ?? '';
  return type.startsWith('application/x-www-form-urlencoded')
    ? new URLSearchParams(body.toString('utf8'))
    : undefined;
}

function readJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

type Jwt = { header: Record<string, unknown>; claims: Record<string, unknown> };

/** A compact JWS checked against `key`: RS256 (PKCS #1 v1.5) or ES256 (raw r‖s, RFC 7518 §3.4). */
function verifyJwt(token: string, key: KeyObject, algorithm: 'RS256' | 'ES256'): Jwt | undefined {
  const [header, payload, signature, ...rest] = token.split('.');
  if (header === undefined || payload === undefined || signature === undefined || rest.length > 0)
    return undefined;
  const decoded = {
    header: readJson(Buffer.from(header, 'base64url')),
    claims: readJson(Buffer.from(payload, 'base64url')),
  };
  if (!isRecord(decoded.header) || !isRecord(decoded.claims) || decoded.header.alg !== algorithm)
    return undefined;
  const valid = verify(
    'sha256',
    Buffer.from(`${header}.${payload}`),
    algorithm === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key,
    Buffer.from(signature, 'base64url'),
  );
  return valid ? { header: decoded.header, claims: decoded.claims } : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Google OAuth 2.0 token endpoint + Firebase Cloud Messaging HTTP v1

export type FcmBehaviour =
  | 'unregistered'
  | 'invalid-token'
  | 'sender-id-mismatch'
  | 'quota-exceeded'
  | 'unavailable'
  | 'internal';

export interface FakeFcmOptions {
  projectId: string;
  /** The service account the fake trusts: its `client_email` and public key. */
  clientEmail: string;
  publicKey: KeyObject | string;
  /** Milliseconds; for the JWT's iat/exp and the access tokens' expiry. */
  clock?: () => number;
  accessTokenLifetimeSeconds?: number;
}

export interface FcmSend {
  /** The `message` object as posted. */
  message: Record<string, unknown>;
  token: string;
  /** The returned resource name, `projects/{project}/messages/{id}`. */
  name: string;
  authorization: string | undefined;
  contentType: string | undefined;
}

export interface FcmGrant {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  accessToken: string;
}

export interface FakeFcm {
  /** FCM's base URL (the provider's `baseUrl`). */
  url: string;
  /** The token endpoint (the service account's `token_uri`). */
  tokenUri: string;
  /** Messages accepted with 200. */
  sends: Recorded<FcmSend>;
  /** Access tokens issued. */
  grants: Recorded<FcmGrant>;
  /** Every request to `messages:send`, answered or not, by status. */
  attempts: Recorded<{ token: string | undefined; status: number }>;
  /** How sends to `token` are answered from now on; `undefined` returns to 200. */
  behave(token: string, behaviour: FcmBehaviour | undefined, options?: { retryAfterSeconds?: number }): void;
  /** Every access token issued so far is answered 401 UNAUTHENTICATED, as after a revocation. */
  revokeAccessTokens(): void;
  close(): Promise<void>;
}

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const FCM_ERROR_TYPE = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';

/** The documented error bodies (firebase.google.com/docs/cloud-messaging/error-codes). */
function fcmError(
  httpCode: number,
  status: string,
  message: string,
  errorCode?: string,
  extra: unknown[] = [],
) {
  return {
    error: {
      code: httpCode,
      message,
      status,
      details: [...(errorCode ? [{ '@type': FCM_ERROR_TYPE, errorCode }] : []), ...extra],
    },
  };
}

function badRequest(field: string, description: string) {
  return json(
    400,
    fcmError(400, 'INVALID_ARGUMENT', description, undefined, [
      { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field, description }] },
    ]),
  );
}

export async function startFakeFcm(options: FakeFcmOptions): Promise<FakeFcm> {
  const clock = options.clock ?? Date.now;
  const publicKey =
    typeof options.publicKey === 'string' ? createPublicKey(options.publicKey) : options.publicKey;
  const lifetimeSeconds = options.accessTokenLifetimeSeconds ?? 3599;
  const accessTokens = new Map<string, number>(); // token → expiry (ms)
  const behaviours = new Map<string, { behaviour: FcmBehaviour; retryAfterSeconds: number | undefined }>();
  const sends = createRecorder<FcmSend>('FCM send');
  const grants = createRecorder<FcmGrant>('OAuth grant');
  const attempts = createRecorder<{ token: string | undefined; status: number }>('FCM request');
  let tokenUri = '';

  function grant(request: http.IncomingMessage, body: Buffer): Reply {
    const form = formOf(request, body);
    if (!form) return json(400, { error: 'invalid_request', error_description: 'Bad Request' });
    if (form.get('grant_type') !== JWT_BEARER) {
      return json(400, {
        error: 'unsupported_grant_type',
        error_description: `Invalid grant_type: ${form.get('grant_type') ?? ''}`,
      });
    }
    const jwt = verifyJwt(form.get('assertion') ?? '', publicKey, 'RS256');
    if (!jwt) return json(400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
    const { iss, aud, scope, iat, exp } = jwt.claims;
    const nowSeconds = clock() / 1000;
    if (iss !== options.clientEmail)
      return json(400, { error: 'invalid_grant', error_description: 'Invalid issuer.' });
    if (aud !== tokenUri)
      return json(400, { error: 'invalid_grant', error_description: 'Invalid JWT audience.' });
    if (
      typeof iat !== 'number' ||
      typeof exp !== 'number' ||
      exp - iat > 3600 ||
      exp < nowSeconds ||
      iat > nowSeconds + 300
    ) {
      return json(400, {
        error: 'invalid_grant',
        error_description:
          'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
      });
    }
    if (typeof scope !== 'string' || !scope.split(' ').includes(FCM_SCOPE)) {
      return json(400, {
        error: 'invalid_scope',
        error_description: 'Invalid OAuth scope or ID token audience provided.',
      });
    }
    const accessToken = `ya29.fake-${randomBytes(24).toString('base64url')}`;
    accessTokens.set(accessToken, clock() + lifetimeSeconds * 1000);
    grants.push({ header: jwt.header, claims: jwt.claims, accessToken });
    return json(200, { access_token: accessToken, expires_in: lifetimeSeconds, token_type: 'Bearer' });
  }

  function send(request: http.IncomingMessage, body: Buffer, projectId: string): Reply {
    const authorization = request.headers.authorization;
    const bearer = authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined;
    const expiresAtMs = bearer ? accessTokens.get(bearer) : undefined;
    if (expiresAtMs === undefined || expiresAtMs <= clock()) {
      return json(
        401,
        fcmError(
          401,
          'UNAUTHENTICATED',
          'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
        ),
        { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
      );
    }
    if (projectId !== options.projectId) {
      return json(
        403,
        fcmError(403, 'PERMISSION_DENIED', "Permission 'cloudmessaging.messages.create' denied on resource"),
      );
    }
    const parsed = readJson(body);
    const message = isRecord(parsed) && isRecord(parsed.message) ? parsed.message : undefined;
    if (!message)
      return badRequest('message', 'Invalid JSON payload received. Unknown name or missing "message".');
    const targets = ['token', 'topic', 'condition'].filter((field) => message[field] !== undefined);
    if (targets.length !== 1) return badRequest('message', 'Recipient of the message is not set.');
    if (message.data !== undefined) {
      if (!isRecord(message.data)) return badRequest('message.data', "Invalid value at 'message.data'");
      const entries = Object.entries(message.data);
      const index = entries.findIndex(([, value]) => typeof value !== 'string');
      if (index !== -1) {
        return badRequest(
          `message.data[${index}].value`,
          `Invalid value at 'message.data[${index}].value' (TYPE_STRING)`,
        );
      }
    }
    if (message.notification !== undefined && !isRecord(message.notification)) {
      return badRequest('message.notification', "Invalid value at 'message.notification'");
    }
    const token = typeof message.token === 'string' ? message.token : '';
    const configured = behaviours.get(token);
    const wait = retryAfter(configured?.retryAfterSeconds);
    switch (configured?.behaviour) {
      case 'unregistered':
        return json(404, fcmError(404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED'));
      case 'invalid-token':
        return json(
          400,
          fcmError(
            400,
            'INVALID_ARGUMENT',
            'The registration token is not a valid FCM registration token',
            'INVALID_ARGUMENT',
          ),
        );
      case 'sender-id-mismatch':
        return json(403, fcmError(403, 'PERMISSION_DENIED', 'SenderId mismatch', 'SENDER_ID_MISMATCH'));
      case 'quota-exceeded':
        return json(
          429,
          fcmError(
            429,
            'RESOURCE_EXHAUSTED',
            'Quota exceeded for sending messages to this device.',
            'QUOTA_EXCEEDED',
          ),
          wait,
        );
      case 'unavailable':
        return json(
          503,
          fcmError(503, 'UNAVAILABLE', 'The service is currently unavailable.', 'UNAVAILABLE'),
          wait,
        );
      case 'internal':
        return json(500, fcmError(500, 'INTERNAL', 'Internal error encountered.', 'INTERNAL'));
      case undefined:
        break;
    }
    const name = `projects/${projectId}/messages/0:${Date.now()}%${randomBytes(8).toString('hex')}`;
    sends.push({ message, token, name, authorization, contentType: request.headers['content-type'] });
    return json(200, { name });
  }

  const server = await listen((request, body) => {
    const path = new URL(request.url ?? '/', 'http://fake').pathname;
    if (request.method === 'POST' && path === '/token') return grant(request, body);
    const match = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(path);
    if (request.method === 'POST' && match) {
      const reply = send(request, body, decodeURIComponent(match[1] ?? ''));
      const parsed = readJson(body);
      const token =
        isRecord(parsed) && isRecord(parsed.message) && typeof parsed.message.token === 'string'
          ? parsed.message.token
          : undefined;
      attempts.push({ token, status: reply.status });
      return reply;
    }
    return json(404, fcmError(404, 'NOT_FOUND', 'The requested URL was not found on this server.'));
  });
  tokenUri = `${server.url}/token`;

  return {
    url: server.url,
    tokenUri,
    sends,
    grants,
    attempts,
    behave(token, behaviour, { retryAfterSeconds } = {}) {
      if (behaviour === undefined) behaviours.delete(token);
      else behaviours.set(token, { behaviour, retryAfterSeconds });
    },
    revokeAccessTokens() {
      accessTokens.clear();
    },
    close: server.close,
  };
}

// ---------------------------------------------------------------------------------------------------
// Twilio Messages API

export type TwilioBehaviour =
  | 'invalid-number'
  | 'not-mobile'
  | 'unsubscribed'
  | 'rate-limited'
  | 'unavailable';

export interface TwilioSms {
  sid: string;
  to: string;
  from: string | undefined;
  messagingServiceSid: string | undefined;
  body: string;
  statusCallback: string | undefined;
  /** Every form field as posted. */
  form: Record<string, string>;
}

export interface FakeTwilio {
  /** The API's base URL (the provider's `baseUrl`). */
  url: string;
  messages: Recorded<TwilioSms>;
  behave(to: string, behaviour: TwilioBehaviour | undefined, options?: { retryAfterSeconds?: number }): void;
  close(): Promise<void>;
}

/** Twilio's error body (twilio.com/docs/usage/twilios-response#response-formats-exceptions). */
function twilioError(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): Reply {
  return json(
    status,
    { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
    headers,
  );
}

export async function startFakeTwilio(options: {
  accountSid: string;
  authToken: string;
}): Promise<FakeTwilio> {
  const messages = createRecorder<TwilioSms>('Twilio message');
  const behaviours = new Map<string, { behaviour: TwilioBehaviour; retryAfterSeconds: number | undefined }>();

  const server = await listen((request, body) => {
    const path = new URL(request.url ?? '/', 'http://fake').pathname;
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(path);
    if (!match || request.method !== 'POST') {
      return twilioError(404, 20404, 'The requested resource was not found');
    }
    const expected = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
    if (
      request.headers.authorization !== expected ||
      decodeURIComponent(match[1] ?? '') !== options.accountSid
    ) {
      return twilioError(401, 20003, 'Authenticate', { 'www-authenticate': 'Basic realm="Twilio API"' });
    }
    const form = formOf(request, body);
    if (!form) return twilioError(400, 21602, 'Message body is required.');
    const to = form.get('To');
    const from = form.get('From') ?? undefined;
    const messagingServiceSid = form.get('MessagingServiceSid') ?? undefined;
    const text = form.get('Body');
    if (!to) return twilioError(400, 21604, "A 'To' phone number is required.");
    if (!/^\+[1-9]\d{1,14}$/.test(to)) return twilioError(400, 21211, `Invalid 'To' Phone Number: ${to}`);
    if (!from && !messagingServiceSid) return twilioError(400, 21603, "A 'From' phone number is required.");
    if (!text) return twilioError(400, 21602, 'Message body is required.');
    const configured = behaviours.get(to);
    switch (configured?.behaviour) {
      case 'invalid-number':
        return twilioError(400, 21211, `Invalid 'To' Phone Number: ${to}`);
      case 'not-mobile':
        return twilioError(400, 21614, `'To' number ${to} is not a valid mobile number`);
      case 'unsubscribed':
        return twilioError(400, 21610, 'Attempt to send to unsubscribed recipient');
      case 'rate-limited':
        return twilioError(429, 20429, 'Too Many Requests', retryAfter(configured.retryAfterSeconds));
      case 'unavailable':
        return twilioError(503, 20503, 'Service Unavailable', retryAfter(configured.retryAfterSeconds));
      case undefined:
        break;
    }
    const sid = `SM${randomBytes(16).toString('hex')}`;
    const now = new Date().toUTCString().replace('GMT', '+0000');
    messages.push({
      sid,
      to,
      from,
      messagingServiceSid,
      body: text,
      statusCallback: form.get('StatusCallback') ?? undefined,
      form: Object.fromEntries(form),
    });
    return json(201, {
      account_sid: options.accountSid,
      api_version: '2010-04-01',
      body: text,
      date_created: now,
      date_sent: null,
      date_updated: now,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: from ?? null,
      messaging_service_sid: messagingServiceSid ?? null,
      num_media: '0',
      num_segments: '1',
      price: null,
      price_unit: 'USD',
      sid,
      status: messagingServiceSid && !from ? 'accepted' : 'queued',
      subresource_uris: { media: `/2010-04-01/Accounts/${options.accountSid}/Messages/${sid}/Media.json` },
      to,
      uri: `/2010-04-01/Accounts/${options.accountSid}/Messages/${sid}.json`,
    });
  });

  return {
    url: server.url,
    messages,
    behave(to, behaviour, { retryAfterSeconds } = {}) {
      if (behaviour === undefined) behaviours.delete(to);
      else behaviours.set(to, { behaviour, retryAfterSeconds });
    },
    close: server.close,
  };
}

// ---------------------------------------------------------------------------------------------------
// Web Push service (RFC 8030) with VAPID (RFC 8292) and aes128gcm payloads (RFC 8291)

export type PushServiceBehaviour = 'gone' | 'not-found' | 'too-large' | 'rate-limited' | 'unavailable';

export interface TestSubscription {
  /** What the browser would hand the application server: `PushSubscription.toJSON()`. */
  subscription: { endpoint: string; keys: { p256dh: string; auth: string } };
}

export interface PushDelivery {
  endpoint: string;
  /** The decrypted payload. */
  payload: string;
  ttl: string | undefined;
  urgency: string | undefined;
  topic: string | undefined;
  /** The VAPID JWT's claims (`aud`, `exp`, `sub`) and the `k` public key. */
  vapid: { claims: Record<string, unknown>; publicKey: string };
  location: string;
}

export interface FakePushService {
  url: string;
  /**
   * A subscription as a browser would create one; with `applicationServerKey` the service refuses (403)
   * VAPID keys other than that one, as real push services do.
   */
  subscribe(options?: { applicationServerKey?: string }): TestSubscription;
  deliveries: Recorded<PushDelivery>;
  behave(
    endpoint: string,
    behaviour: PushServiceBehaviour | undefined,
    options?: { retryAfterSeconds?: number },
  ): void;
  close(): Promise<void>;
}

/** RFC 8188 / 8291 decryption of a single-record aes128gcm body with the user agent's keys. */
function decryptAes128gcm(
  body: Buffer,
  uaPrivateKey: Buffer,
  uaPublicKey: Buffer,
  authSecret: Buffer,
): string {
  const salt = body.subarray(0, 16);
  const idLength = body[20] ?? 0;
  const senderPublicKey = body.subarray(21, 21 + idLength);
  const record = body.subarray(21 + idLength);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(uaPrivateKey);
  const sharedSecret = ecdh.computeSecret(senderPublicKey);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublicKey, senderPublicKey]);
  const ikm = Buffer.from(hkdfSync('sha256', sharedSecret, authSecret, keyInfo, 32));
  const key = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', key, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  // The last record's padding starts with the delimiter 0x02.
  if (padded[end] !== 2) throw new Error('bad padding delimiter');
  return padded.subarray(0, end).toString('utf8');
}

function vapidKeyObject(publicKey: string): KeyObject {
  const point = Buffer.from(publicKey, 'base64url');
  if (point.length !== 65 || point[0] !== 4) throw new Error('not an uncompressed P-256 point');
  return createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  });
}

export async function startFakePushService(
  options: { clock?: () => number; maxPayloadBytes?: number } = {},
): Promise<FakePushService> {
  const clock = options.clock ?? Date.now;
  const maxBytes = options.maxPayloadBytes ?? 4096;
  const subscriptions = new Map<
    string,
    { privateKey: Buffer; publicKey: Buffer; auth: Buffer; applicationServerKey: string | undefined }
  >();
  const behaviours = new Map<
    string,
    { behaviour: PushServiceBehaviour; retryAfterSeconds: number | undefined }
  >();
  const deliveries = createRecorder<PushDelivery>('push message');
  let origin = '';

  const server = await listen((request, body) => {
    const path = new URL(request.url ?? '/', 'http://fake').pathname;
    const id = /^\/push\/([\w-]+)$/.exec(path)?.[1];
    const endpoint = `${origin}${path}`;
    const subscription = id ? subscriptions.get(id) : undefined;
    if (request.method !== 'POST' || !subscription) return { status: 404, body: 'no such subscription' };
    const configured = behaviours.get(endpoint);
    if (configured?.behaviour === 'gone')
      return { status: 410, body: 'push subscription has unsubscribed or expired.' };
    if (configured?.behaviour === 'not-found') return { status: 404, body: 'not found' };

    // RFC 8292 §3: Authorization: vapid t=<JWT>, k=<public key>
    const authorization = request.headers.authorization ?? '';
    const parameters = Object.fromEntries(
      [...authorization.replace(/^vapid\s+/i, '').matchAll(/(\w+)=([^,\s]+)/g)].map((match) => [
        match[1],
        match[2],
      ]),
    );
    if (!/^vapid\s/i.test(authorization) || !parameters.t || !parameters.k)
      return { status: 401, body: 'missing VAPID authorization' };
    let jwt: Jwt | undefined;
    try {
      jwt = verifyJwt(parameters.t, vapidKeyObject(parameters.k), 'ES256');
    } catch {
      jwt = undefined;
    }
    const nowSeconds = clock() / 1000;
    const exp = jwt?.claims.exp;
    const sub = jwt?.claims.sub;
    if (
      !jwt ||
      jwt.claims.aud !== origin ||
      typeof exp !== 'number' ||
      exp < nowSeconds ||
      exp > nowSeconds + 24 * 3600 ||
      typeof sub !== 'string' ||
      !/^(mailto:|https:)/.test(sub)
    ) {
      return { status: 401, body: 'invalid VAPID token' };
    }
    if (subscription.applicationServerKey && subscription.applicationServerKey !== parameters.k) {
      return { status: 403, body: 'VAPID key does not match the subscription' };
    }
    // RFC 8030 §5.2: TTL is required.
    const ttl = request.headers.ttl;
    if (typeof ttl !== 'string' || !/^\d+$/.test(ttl)) return { status: 400, body: 'TTL header required' };
    if (body.length > maxBytes || configured?.behaviour === 'too-large')
      return { status: 413, body: 'payload too large' };
    if (configured?.behaviour === 'rate-limited')
      return { status: 429, headers: retryAfter(configured.retryAfterSeconds), body: 'too many requests' };
    if (configured?.behaviour === 'unavailable')
      return { status: 503, headers: retryAfter(configured.retryAfterSeconds), body: 'unavailable' };
    let payload = '';
    if (body.length > 0) {
      if (request.headers['content-encoding'] !== 'aes128gcm')
        return { status: 415, body: 'content-encoding must be aes128gcm' };
      try {
        payload = decryptAes128gcm(body, subscription.privateKey, subscription.publicKey, subscription.auth);
      } catch {
        return { status: 400, body: 'payload cannot be decrypted' };
      }
    }
    const location = `${origin}/message/${randomUUID()}`;
    const topic = request.headers.topic;
    const urgency = request.headers.urgency;
    deliveries.push({
      endpoint,
      payload,
      ttl,
      urgency: typeof urgency === 'string' ? urgency : undefined,
      topic: typeof topic === 'string' ? topic : undefined,
      vapid: { claims: jwt.claims, publicKey: parameters.k },
      location,
    });
    return { status: 201, headers: { location }, body: '' };
  });
  origin = server.url;

  return {
    url: server.url,
    subscribe({ applicationServerKey } = {}) {
      const ecdh = createECDH('prime256v1');
      const publicKey = ecdh.generateKeys();
      const auth = randomBytes(16);
      const id = randomUUID();
      subscriptions.set(id, { privateKey: ecdh.getPrivateKey(), publicKey, auth, applicationServerKey });
      return {
        subscription: {
          endpoint: `${origin}/push/${id}`,
          keys: { p256dh: publicKey.toString('base64url'), auth: auth.toString('base64url') },
        },
      };
    },
    deliveries,
    behave(endpoint, behaviour, { retryAfterSeconds } = {}) {
      if (behaviour === undefined) behaviours.delete(endpoint);
      else behaviours.set(endpoint, { behaviour, retryAfterSeconds });
    },
    close: server.close,
  };
}

// ---------------------------------------------------------------------------------------------------
// Webhook receiver

export interface WebhookRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Exactly the bytes received: what a signature is checked over. */
  rawBody: Buffer;
}

export type WebhookAnswer = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

export interface WebhookReceiver {
  url: string;
  requests: Recorded<WebhookRequest>;
  /** How requests are answered from now on (default 200); `'hang'` never answers. */
  respondWith(answer: WebhookAnswer | ((request: WebhookRequest) => WebhookAnswer)): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const requests = createRecorder<WebhookRequest>('webhook request');
  let answer: WebhookAnswer | ((request: WebhookRequest) => WebhookAnswer) = { status: 200, body: 'ok' };
  const server = await listen((request, body) => {
    const recorded: WebhookRequest = {
      method: request.method ?? '',
      path: request.url ?? '/',
      headers: request.headers,
      rawBody: body,
    };
    requests.push(recorded);
    const chosen = typeof answer === 'function' ? answer(recorded) : answer;
    return chosen === 'hang' ? undefined : chosen;
  });
  return {
    url: server.url,
    requests,
    respondWith(next) {
      answer = next;
    },
    close: server.close,
  };
}
