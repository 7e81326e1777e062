/**
 * Pure decisions of the delivery layer: what a provider's answer means (sent, failed for good, worth
 * another try), the webhook signature, which addresses a user-supplied URL may reach, and the small text
 * helpers. No I/O here; every function is tested on its own.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';

export type Channel = 'email' | 'push' | 'sms' | 'webhook' | 'in_app';

export interface SendContext {
  /** The notification's delivery id: the same on every retry, so a provider can recognise a re-send. */
  idempotencyKey: string;
  signal?: AbortSignal;
}

/**
 * `sent`: the provider accepted the message for delivery (SMTP 250, FCM, Twilio `queued`, a push
 * service's 201). `delivered`: the recipient's own endpoint confirmed it (a webhook receiver's 2xx).
 */
export interface DeliverySuccess {
  status: 'sent' | 'delivered';
  /** The provider's id for the message, or ours where the provider gives none. */
  providerMessageId: string;
  reason: string;
}

/**
 * Why a permanent failure happened decides what the caller does next: `recipient` (bad address, number
 * or token — stop using it), `content` (this message can never be sent as it is), `configuration` (our
 * credentials or sender are refused — the provider is unusable, another one may work).
 */
export type PermanentCause = 'recipient' | 'content' | 'configuration';

/** Retrying the same message would fail the same way: dead-letter it with the reason. */
export interface PermanentFailure {
  status: 'permanent';
  cause: PermanentCause;
  reason: string;
  /** The provider's own code (SMTP reply, FCM errorCode, Twilio code, HTTP status). */
  code?: string;
  /** A push token or subscription the provider no longer knows: remove it from the user. */
  tokenUnregistered?: boolean;
}

/** May succeed later: retry (1 s / 2 s / 4 s, or no sooner than `retryAfterMs` when the provider says). */
export interface TransientFailure {
  status: 'transient';
  reason: string;
  code?: string;
  retryAfterMs?: number;
}

export type DeliveryOutcome = DeliverySuccess | PermanentFailure | TransientFailure;

/** The port every channel implementation sits behind. `send` never throws: every failure is an outcome. */
export interface ChannelProvider<M> {
  readonly name: string;
  readonly channel: Channel;
  send(message: M, context: SendContext): Promise<DeliveryOutcome>;
}

export function sent(providerMessageId: string, reason: string): DeliverySuccess {
  return { status: 'sent', providerMessageId, reason };
}

export function permanent(
  cause: PermanentCause,
  reason: string,
  extra: { code?: string; tokenUnregistered?: boolean } = {},
): PermanentFailure {
  return { status: 'permanent', cause, reason, ...extra };
}

export function transient(
  reason: string,
  extra: { code?: string; retryAfterMs?: number } = {},
): TransientFailure {
  const { retryAfterMs, ...rest } = extra;
  return { status: 'transient', reason, ...rest, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
}

export function isSuccess(outcome: DeliveryOutcome): outcome is DeliverySuccess {
  return outcome.status === 'sent' || outcome.status === 'delivered';
}

/**
 * Whether an outcome says something about the provider's health, so its circuit breaker should count it.
 * Transient failures do, and so do refused credentials (the provider is unusable for every message);
 * a bad address or payload is about the message, and a healthy provider reports it.
 */
export function isProviderFault(outcome: DeliveryOutcome): boolean {
  return (
    outcome.status === 'transient' || (outcome.status === 'permanent' && outcome.cause === 'configuration')
  );
}

// ---------------------------------------------------------------------------------------------------
// Transport failures shared by the HTTP providers

export type RequestFailureKind = 'timeout' | 'cancelled' | 'network' | 'blocked' | 'invalid';

/**
 * A request that got no HTTP answer. `blocked`: the target resolved to an address the policy refuses;
 * `invalid`: the request could not even be built (a header value with a line break).
 */
export function classifyRequestFailure(kind: RequestFailureKind, detail: string): DeliveryOutcome {
  switch (kind) {
    case 'timeout':
      return transient(`no answer in time: ${detail}`, { code: 'timeout' });
    case 'cancelled':
      return transient(`cancelled before an answer: ${detail}`, { code: 'cancelled' });
    case 'network':
      return transient(`connection failed: ${detail}`, { code: 'network' });
    case 'blocked':
      return permanent('recipient', `target refused by the address policy: ${detail}`, { code: 'blocked' });
    case 'invalid':
      return permanent('content', `request not sendable: ${detail}`, { code: 'invalid-request' });
  }
}

/**
 * `Retry-After` as milliseconds from now: delta-seconds or an HTTP date (RFC 9110 §10.2.3). Undefined
 * when absent or unreadable; a date in the past is 0.
 */
export function parseRetryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const dateMs = Date.parse(trimmed);
  if (Number.isNaN(dateMs)) return undefined;
  return Math.max(0, dateMs - nowMs);
}

function withRetryAfter(extra: { code?: string }, retryAfterMs: number | undefined) {
  return retryAfterMs === undefined ? extra : { ...extra, retryAfterMs };
}

// ---------------------------------------------------------------------------------------------------
// Email (SMTP)

/** What nodemailer reports on a failed send (its `NodemailerError` fields). */
export interface SmtpFailure {
  message: string;
  code?: string;
  responseCode?: number;
  /** The SMTP command in flight when the server refused: `RCPT TO`, `MAIL FROM`, `DATA`, `AUTH PLAIN` … */
  command?: string;
  response?: string;
}

const SMTP_CONFIGURATION_CODES = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2', 'ECONFIG', 'EREQUIRETLS']);
const SMTP_CONTENT_CODES = new Set(['EENVELOPE', 'EMESSAGE', 'EMAXRECIPIENTS', 'ESTREAM', 'EOTP']);

/**
 * RFC 5321: a 5yz reply is a permanent refusal and a 4yz a transient one. 503 (bad sequence of commands)
 * is a session-state error, so a new connection may succeed. Without a reply the failure is the
 * connection's (refused, timed out, TLS) and worth another try, unless nodemailer says the message or
 * our configuration can never work.
 */
export function classifySmtpError(error: SmtpFailure): PermanentFailure | TransientFailure {
  const replyCode = error.responseCode;
  const said = error.response ?? error.message;
  if (error.code === 'EABORT') return transient(`cancelled: ${error.message}`, { code: 'EABORT' });
  if (replyCode !== undefined) {
    const code = String(replyCode);
    if (replyCode >= 400 && replyCode < 500) return transient(`SMTP server deferred: ${said}`, { code });
    if (replyCode === 503) return transient(`SMTP session out of sequence: ${said}`, { code });
    if (replyCode >= 500 && replyCode < 600) {
      const command = (error.command ?? '').toUpperCase();
      if (command.startsWith('RCPT')) return permanent('recipient', `recipient refused: ${said}`, { code });
      if (
        command.startsWith('MAIL') ||
        command.startsWith('AUTH') ||
        SMTP_CONFIGURATION_CODES.has(error.code ?? '') ||
        replyCode === 530 ||
        replyCode === 534 ||
        replyCode === 535
      ) {
        return permanent('configuration', `sender or credentials refused: ${said}`, { code });
      }
      return permanent('content', `message refused: ${said}`, { code });
    }
  }
  if (SMTP_CONFIGURATION_CODES.has(error.code ?? '')) {
    return permanent('configuration', `SMTP configuration: ${error.message}`, { code: error.code ?? '' });
  }
  if (SMTP_CONTENT_CODES.has(error.code ?? '')) {
    return permanent('content', `message not sendable: ${error.message}`, { code: error.code ?? '' });
  }
  return transient(`SMTP connection failed: ${error.message}`, error.code ? { code: error.code } : {});
}

/**
 * A Message-ID that is the same for every attempt at one delivery, so a re-send after a crash can be
 * recognised (and de-duplicated by the receiving side). A key that is already a safe dot-atom (a UUID)
 * is used as it is, anything else by its hash, and the domain is the sender's.
 */
export function messageIdFor(idempotencyKey: string, fromAddress: string): string {
  const local = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/.test(idempotencyKey)
    ? idempotencyKey
    : createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40);
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(fromAddress)?.[1] ?? 'switchyard.local';
  return `<${local}@${domain.toLowerCase()}>`;
}

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  copy: '©',
  reg: '®',
  hellip: '…',
  mdash: '—',
  ndash: '–',
};

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,8});/gi, (whole, entity: string) => {
    if (entity.startsWith('#')) {
      const codePoint =
        entity[1] === 'x' || entity[1] === 'X'
          ? Number.parseInt(entity.slice(2), 16)
          : Number.parseInt(entity.slice(1), 10);
      return codePoint > 0 && codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : whole;
    }
    return ENTITIES[entity.toLowerCase()] ?? whole;
  });
}

/** Removes `<tag …>…</tag>` blocks by scanning, not by one regex: a lazy regex is quadratic on broken input. */
function dropBlocks(html: string, tag: string): string {
  const lower = html.toLowerCase();
  let out = '';
  let at = 0;
  for (;;) {
    const start = lower.indexOf(`<${tag}`, at);
    if (start === -1) break;
    const close = lower.indexOf(`</${tag}`, start);
    out += html.slice(at, start);
    if (close === -1) return out;
    const end = lower.indexOf('>', close);
    at = end === -1 ? html.length : end + 1;
  }
  return out + html.slice(at);
}

/**
 * A readable plain-text part from HTML, for mail clients that show only text and for spam filters that
 * penalise HTML-only mail. Deliberately simple: drops script/style/head, turns block ends and `<br>` into
 * line breaks, keeps a link's address beside its text, strips every other tag, decodes entities.
 */
export function htmlToText(html: string): string {
  let text = html.replace(/<!--[\s\S]*?-->/g, '');
  for (const tag of ['head', 'script', 'style', 'title']) text = dropBlocks(text, tag);
  text = text
    .replace(
      /<a\b[^>]*?\bhref\s*=\s*["']?(https?:[^"'\s>]+)["']?[^>]*>([\s\S]*?)<\/a\s*>/gi,
      (_m, href, inner) => {
        const label = String(inner)
          .replace(/<[^>]*>/g, '')
          .trim();
        return label === '' || label === href ? href : `${label} (${href})`;
      },
    )
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<li\b[^>]*>/gi, '\n- ')
    .replace(/<\/(p|div|h[1-6]|tr|table|ul|ol|blockquote|section|article|header|footer)\s*>/gi, '\n')
    .replace(/<(p|div|h[1-6]|tr|table|ul|ol|blockquote)\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, '');
  return decodeEntities(text)
    .split('\n')
    .map((line) => line.replace(/[ \t\r\f\v\u00a0]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

// ---------------------------------------------------------------------------------------------------
// Push: Firebase Cloud Messaging HTTP v1

interface FcmErrorBody {
  httpCode?: number;
  status?: string;
  message?: string;
  /** `FcmError.errorCode`: UNREGISTERED, INVALID_ARGUMENT, QUOTA_EXCEEDED … */
  errorCode?: string;
  fieldViolations: string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The `google.rpc.Status` error body FCM answers with; every field optional, for bodies that aren't. */
function readFcmError(body: string): FcmErrorBody {
  const parsed = parseJson(body);
  const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : {};
  const details = Array.isArray(error.details) ? error.details.filter(isRecord) : [];
  const fcmError = details.find((detail) =>
    String(detail['@type']).endsWith('google.firebase.fcm.v1.FcmError'),
  );
  const fieldViolations = details.flatMap((detail) =>
    Array.isArray(detail.fieldViolations)
      ? detail.fieldViolations.filter(isRecord).map((violation) => String(violation.field ?? ''))
      : [],
  );
  return {
    ...(typeof error.code === 'number' ? { httpCode: error.code } : {}),
    ...(typeof error.status === 'string' ? { status: error.status } : {}),
    ...(typeof error.message === 'string' ? { message: error.message } : {}),
    ...(fcmError && typeof fcmError.errorCode === 'string' ? { errorCode: fcmError.errorCode } : {}),
    fieldViolations,
  };
}

/** FCM documents a minimum initial back-off of one minute for QUOTA_EXCEEDED when no Retry-After is given. */
export const FCM_QUOTA_BACKOFF_MS = 60_000;

/**
 * A 401 that a fresh OAuth access token may fix: the token expired or was revoked. THIRD_PARTY_AUTH_ERROR
 * is also a 401 but about the APNs certificate or web push key, which a new token does not change.
 */
export function isFcmTokenRejection(status: number, body: string): boolean {
  return status === 401 && readFcmError(body).errorCode !== 'THIRD_PARTY_AUTH_ERROR';
}

/**
 * FCM HTTP v1 `messages:send` answers (firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode).
 * INVALID_ARGUMENT covers both a malformed token and a malformed payload; only the first retires the
 * token, told apart by the field violation on `message.token` or the "registration token" message.
 * SENDER_ID_MISMATCH does not retire tokens: one wrong project id would otherwise wipe every user's.
 */
export function classifyFcmResponse(
  status: number,
  body: string,
  retryAfter: string | undefined,
  nowMs: number,
): DeliveryOutcome {
  if (status >= 200 && status < 300) {
    const parsed = parseJson(body);
    const name = isRecord(parsed) && typeof parsed.name === 'string' ? parsed.name : '';
    return sent(name, 'accepted by FCM');
  }
  const error = readFcmError(body);
  const code = error.errorCode ?? error.status ?? String(status);
  const said = `${code}: ${error.message ?? `HTTP ${status}`}`;
  const retryAfterMs = parseRetryAfterMs(retryAfter, nowMs);
  // The FcmError code when given; a bare google.rpc status (INVALID_ARGUMENT with only a BadRequest) else.
  switch (code) {
    case 'UNREGISTERED':
      return permanent('recipient', `token no longer registered (${said})`, {
        code,
        tokenUnregistered: true,
      });
    case 'INVALID_ARGUMENT': {
      const aboutToken =
        error.fieldViolations.some((field) => field === 'message.token') ||
        /registration token/i.test(error.message ?? '');
      return aboutToken
        ? permanent('recipient', `token is not a valid registration token (${said})`, {
            code,
            tokenUnregistered: true,
          })
        : permanent('content', `message refused (${said})`, { code });
    }
    case 'SENDER_ID_MISMATCH':
    case 'THIRD_PARTY_AUTH_ERROR':
      return permanent('configuration', `FCM project or credentials refused (${said})`, { code });
    case 'QUOTA_EXCEEDED':
      return transient(`sending quota exceeded (${said})`, {
        code,
        retryAfterMs: retryAfterMs ?? FCM_QUOTA_BACKOFF_MS,
      });
    case 'UNAVAILABLE':
    case 'INTERNAL':
      return transient(`FCM unavailable (${said})`, withRetryAfter({ code }, retryAfterMs));
  }
  if (status === 404) {
    return permanent('recipient', `token no longer registered (${said})`, { code, tokenUnregistered: true });
  }
  if (status === 429) {
    return transient(`rate limited (${said})`, { code, retryAfterMs: retryAfterMs ?? FCM_QUOTA_BACKOFF_MS });
  }
  if (status >= 500) return transient(`FCM failed (${said})`, withRetryAfter({ code }, retryAfterMs));
  if (status === 401 || status === 403) {
    return permanent('configuration', `FCM refused our credentials (${said})`, { code });
  }
  return permanent('content', `message refused (${said})`, { code });
}

/** The OAuth token endpoint's answer to a failed grant (RFC 6749 §5.2 `{error, error_description}`). */
export function classifyOAuthTokenFailure(
  status: number,
  body: string,
  retryAfter: string | undefined,
  nowMs: number,
): PermanentFailure | TransientFailure {
  const parsed = parseJson(body);
  const error = isRecord(parsed) && typeof parsed.error === 'string' ? parsed.error : `HTTP ${status}`;
  const description =
    isRecord(parsed) && typeof parsed.error_description === 'string' ? `: ${parsed.error_description}` : '';
  if (status === 429 || status >= 500) {
    return transient(
      `OAuth token endpoint unavailable (${error}${description})`,
      withRetryAfter({ code: error }, parseRetryAfterMs(retryAfter, nowMs)),
    );
  }
  return permanent('configuration', `service account refused (${error}${description})`, { code: error });
}

// ---------------------------------------------------------------------------------------------------
// Push: Web Push (RFC 8030 / 8291 / 8292)

/**
 * A push service's answer (RFC 8030 §5, §8). 404 and 410 mean the subscription is gone for good. 403 is
 * usually a VAPID key other than the one the subscription was made with: treated as ours to fix, so a
 * key mix-up cannot retire every subscription.
 */
export function classifyWebPushResponse(
  status: number,
  location: string | undefined,
  retryAfter: string | undefined,
  nowMs: number,
): DeliveryOutcome {
  const code = String(status);
  if (status >= 200 && status < 300) return sent(location ?? '', `accepted by the push service (${status})`);
  if (status === 404 || status === 410) {
    return permanent('recipient', `subscription expired or unsubscribed (${status})`, {
      code,
      tokenUnregistered: true,
    });
  }
  if (status === 413) return permanent('content', 'payload too large for the push service (413)', { code });
  if (status === 429) {
    return transient(
      'rate limited by the push service (429)',
      withRetryAfter({ code }, parseRetryAfterMs(retryAfter, nowMs)),
    );
  }
  if (status >= 500) {
    return transient(
      `push service failed (${status})`,
      withRetryAfter({ code }, parseRetryAfterMs(retryAfter, nowMs)),
    );
  }
  if (status === 401 || status === 403) {
    return permanent('configuration', `push service refused our VAPID credentials (${status})`, { code });
  }
  return permanent('content', `push service refused the request (${status})`, { code });
}

/**
 * RFC 8030 §5.4 Topic: a pending message with the same topic is replaced, so a re-send of one delivery
 * (after a timeout that hid a success) shows once on the device. At most 32 URL-safe base64 characters.
 */
export function pushTopicFor(idempotencyKey: string): string {
  return createHash('sha256').update(idempotencyKey).digest('base64url').slice(0, 32);
}

// ---------------------------------------------------------------------------------------------------
// SMS (Twilio-compatible)

/** E.164: a plus sign, then a country code not starting with 0, at most 15 digits in all. */
export function isE164(phoneNumber: string): boolean {
  return /^\+[1-9]\d{1,14}$/.test(phoneNumber);
}

const TWILIO_RECIPIENT_CODES: Record<number, string> = {
  21211: 'invalid To number',
  21612: 'To number unreachable from this sender',
  21614: 'To number is not a mobile number',
  21610: 'recipient unsubscribed (replied STOP)',
};
const TWILIO_CONFIGURATION_CODES: Record<number, string> = {
  20003: 'authentication failed',
  20404: 'account or resource not found',
  21212: 'invalid From number',
  21408: 'sending to this region is not enabled',
  21603: 'a From number or messaging service is required',
  21606: 'From number cannot send SMS',
  21608: 'trial account: To number not verified',
};
const TWILIO_TRANSIENT_CODES: Record<number, string> = {
  20429: 'too many requests',
  14107: 'SMS send rate limit exceeded',
};

/** Twilio's Messages API answers: 201 with the message resource, or `{code, message, more_info, status}`. */
export function classifyTwilioResponse(
  status: number,
  body: string,
  retryAfter: string | undefined,
  nowMs: number,
): DeliveryOutcome {
  const parsed = parseJson(body);
  const record = isRecord(parsed) ? parsed : {};
  if (status >= 200 && status < 300) {
    const sid = typeof record.sid === 'string' ? record.sid : '';
    return sent(sid, `accepted by the SMS provider (${String(record.status ?? 'queued')})`);
  }
  const errorCode = typeof record.code === 'number' ? record.code : undefined;
  const code = String(errorCode ?? status);
  const said = typeof record.message === 'string' ? record.message : `HTTP ${status}`;
  const retryAfterMs = parseRetryAfterMs(retryAfter, nowMs);
  if (errorCode !== undefined) {
    const recipient = TWILIO_RECIPIENT_CODES[errorCode];
    if (recipient) return permanent('recipient', `${recipient}: ${said}`, { code });
    const configuration = TWILIO_CONFIGURATION_CODES[errorCode];
    if (configuration) return permanent('configuration', `${configuration}: ${said}`, { code });
    const retryable = TWILIO_TRANSIENT_CODES[errorCode];
    if (retryable) return transient(`${retryable}: ${said}`, withRetryAfter({ code }, retryAfterMs));
  }
  if (status === 429 || status >= 500) {
    return transient(`SMS provider unavailable (${status}): ${said}`, withRetryAfter({ code }, retryAfterMs));
  }
  if (status === 401 || status === 403 || status === 404) {
    return permanent('configuration', `SMS provider refused our account (${status}): ${said}`, { code });
  }
  return permanent('content', `SMS provider refused the message (${status}): ${said}`, { code });
}

// ---------------------------------------------------------------------------------------------------
// Webhooks

export const WEBHOOK_SIGNATURE_HEADER = 'x-switchyard-signature';
export const WEBHOOK_EVENT_HEADER = 'x-switchyard-event';
export const WEBHOOK_DELIVERY_HEADER = 'x-switchyard-delivery';
/** How old a signed timestamp a receiver should still accept; bounds replays of a captured request. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

function hmacHex(secret: string, timestampSeconds: number, rawBody: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.`).update(rawBody).digest('hex');
}

/**
 * The `x-switchyard-signature` value: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 * With several secrets (during a rotation) there is one `v1` per secret; a receiver accepts any match.
 */
export function signWebhook(
  secret: string | readonly string[],
  timestampSeconds: number,
  rawBody: string | Uint8Array,
): string {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0 || secrets.some((value) => value === '')) {
    throw new RangeError('a webhook needs at least one non-empty secret');
  }
  const signatures = secrets.map((value) => `v1=${hmacHex(value, timestampSeconds, rawBody)}`);
  return [`t=${timestampSeconds}`, ...signatures].join(',');
}

export type WebhookVerification = { ok: true; timestampSeconds: number } | { ok: false; reason: string };

/** The receiver's side of `signWebhook`; constant-time comparison, timestamps outside the tolerance refused. */
export function verifyWebhookSignature(options: {
  header: string | undefined;
  rawBody: string | Uint8Array;
  secret: string | readonly string[];
  nowSeconds: number;
  toleranceSeconds?: number;
}): WebhookVerification {
  if (!options.header) return { ok: false, reason: 'no signature header' };
  let timestampSeconds: number | undefined;
  const given: Buffer[] = [];
  for (const part of options.header.split(',')) {
    const [key, value] = part.trim().split('=', 2);
    if (key === 't' && value !== undefined && /^\d{1,12}$/.test(value)) timestampSeconds = Number(value);
    if (key === 'v1' && value !== undefined && /^[0-9a-f]{64}$/i.test(value))
      given.push(Buffer.from(value, 'hex'));
  }
  if (timestampSeconds === undefined) return { ok: false, reason: 'no timestamp in the signature' };
  if (given.length === 0) return { ok: false, reason: 'no v1 signature' };
  const tolerance = options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  if (Math.abs(options.nowSeconds - timestampSeconds) > tolerance) {
    return { ok: false, reason: 'timestamp outside the tolerance' };
  }
  const secrets = typeof options.secret === 'string' ? [options.secret] : options.secret;
  for (const secret of secrets) {
    const expected = Buffer.from(hmacHex(secret, timestampSeconds, options.rawBody), 'hex');
    if (given.some((signature) => timingSafeEqual(signature, expected)))
      return { ok: true, timestampSeconds };
  }
  return { ok: false, reason: 'signature does not match' };
}

/**
 * A webhook receiver's answer. 2xx is delivered. 3xx is refused: redirects are not followed, since they
 * could lead a signed request anywhere. 410 and 404 mean the endpoint is gone, 401/403 that the receiver
 * does not accept our signature — both for its owner to fix. 408, 429 and 5xx may pass later.
 */
export function classifyWebhookResponse(
  status: number,
  retryAfter: string | undefined,
  nowMs: number,
  deliveryId: string,
): DeliveryOutcome {
  const code = String(status);
  if (status >= 200 && status < 300) {
    return { status: 'delivered', providerMessageId: deliveryId, reason: `receiver answered ${status}` };
  }
  if (status === 408 || status === 429 || status >= 500) {
    return transient(
      `receiver answered ${status}`,
      withRetryAfter({ code }, parseRetryAfterMs(retryAfter, nowMs)),
    );
  }
  if (status >= 300 && status < 400)
    return permanent('configuration', `receiver redirected (${status}); redirects are not followed`, {
      code,
    });
  if (status === 404 || status === 410)
    return permanent('recipient', `receiver endpoint gone (${status})`, { code });
  if (status === 401 || status === 403)
    return permanent('configuration', `receiver refused the signature (${status})`, { code });
  return permanent('content', `receiver refused the payload (${status})`, { code });
}

// ---------------------------------------------------------------------------------------------------
// Outbound URL policy (webhooks and Web Push endpoints are URLs that users hand us)

export interface TargetPolicy {
  /** Plain `http:` targets; for development and tests only. */
  allowHttp?: boolean;
  /** Loopback, private, link-local and other non-public addresses; for development and tests only. */
  allowPrivateAddresses?: boolean;
}

/**
 * Addresses a user-supplied URL must not reach unless allowed: they lead into our own network (SSRF),
 * to the cloud metadata service (169.254.169.254) or nowhere. IPv4-mapped IPv6 addresses are matched by
 * their IPv4 part.
 */
const NON_PUBLIC = (() => {
  const list = new BlockList();
  const v4: Array<[string, number]> = [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.0.2.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ];
  for (const [network, prefix] of v4) list.addSubnet(network, prefix, 'ipv4');
  const v6: Array<[string, number]> = [
    ['::', 128],
    ['::1', 128],
    ['64:ff9b::', 96],
    ['100::', 64],
    ['2001:db8::', 32],
    ['fc00::', 7],
    ['fe80::', 10],
    ['ff00::', 8],
  ];
  for (const [network, prefix] of v6) list.addSubnet(network, prefix, 'ipv6');
  return list;
})();

export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return !NON_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Why a target URL may not be called, or undefined when it may. Checks what the URL itself shows; a host
 * name is checked again on every connection against the addresses it resolves to (see the HTTP client),
 * which is what stops DNS answers that point inside.
 */
export function targetUrlProblem(url: string, policy: TargetPolicy): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a valid URL';
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && policy.allowHttp)) {
    return policy.allowHttp ? 'only http and https URLs are allowed' : 'only https URLs are allowed';
  }
  if (parsed.username !== '' || parsed.password !== '') return 'credentials in the URL are not allowed';
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (!policy.allowPrivateAddresses) {
    if (isIP(host) !== 0 && !isPublicAddress(host)) return `${host} is not a public address`;
    if (host === 'localhost' || host.endsWith('.localhost')) return `${host} is not a public address`;
  }
  return undefined;
}
