import { isIPv4, isIPv6 } from 'node:net';
import type { CircuitBreakerOptions, Identity } from '@switchyard/kernel';
import { SOURCE_C_BREAKER } from '@switchyard/kernel';

/** How many requests one caller may make per window. */
export interface Quota {
  max: number;
  windowSeconds: number;
}

export interface Upstream {
  /** Path prefix served elsewhere, e.g. `/api/v1/tasks`; requests under it are forwarded unchanged. */
  prefix: string;
  /** Base URLs of the instances serving it, e.g. `http://10.0.0.5:3001`; tried round robin. */
  urls: string[];
}

export type BreakerSettings = Omit<CircuitBreakerOptions, 'clock' | 'onStateChange'>;

export interface GatewayOptions {
  /** Exact browser origins (`https://app.example.com`) allowed to call the API, or `['*']`; empty: no CORS. */
  corsOrigins?: string[];
  /** How long a browser may reuse a preflight answer. */
  corsMaxAgeSeconds?: number;
  /** Send Strict-Transport-Security; only when clients reach the process over HTTPS. */
  hsts?: boolean;
  rateLimit?: {
    /** Per client IP (IPv6: per /64), for requests without a valid identity. */
    anonymous?: Quota;
    /** Per API key, or per user for access tokens. */
    authenticated?: Quota;
    /** Exact paths never counted (probes and scrapes). */
    exemptPaths?: string[];
  };
  upstreams?: Upstream[];
  /** Time allowed to get an upstream's response headers, all retries included. */
  upstreamTimeoutMs?: number;
  /** Per upstream URL. */
  breaker?: Partial<BreakerSettings>;
  /** The built dashboard (apps/dashboard/dist) to serve at `/`; without it, `/` says how to build it. */
  dashboardDir?: string;
}

export interface ResolvedGatewayOptions {
  corsOrigins: string[];
  corsMaxAgeSeconds: number;
  hsts: boolean;
  rateLimit: { anonymous: Quota; authenticated: Quota; exemptPaths: string[] };
  upstreams: Upstream[];
  upstreamTimeoutMs: number;
  breaker: BreakerSettings;
  dashboardDir: string | undefined;
}

/** Source system C: 100 requests per 15 minutes per IP. */
export const SOURCE_C_ANONYMOUS_QUOTA: Quota = { max: 100, windowSeconds: 900 };
export const DEFAULT_AUTHENTICATED_QUOTA: Quota = { max: 1000, windowSeconds: 900 };
export const DEFAULT_EXEMPT_PATHS = ['/health', '/ready', '/metrics'];
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 10_000;
export const DEFAULT_CORS_MAX_AGE_SECONDS = 600;
/** Retries after the first attempt, for idempotent methods only. */
export const MAX_RETRIES = 2;

/** Fills in defaults and refuses settings that cannot work, naming the setting, so a bad config stops the start. */
export function resolveGatewayOptions(options: GatewayOptions): ResolvedGatewayOptions {
  const resolved: ResolvedGatewayOptions = {
    corsOrigins: options.corsOrigins ?? [],
    corsMaxAgeSeconds: options.corsMaxAgeSeconds ?? DEFAULT_CORS_MAX_AGE_SECONDS,
    hsts: options.hsts ?? false,
    rateLimit: {
      anonymous: options.rateLimit?.anonymous ?? SOURCE_C_ANONYMOUS_QUOTA,
      authenticated: options.rateLimit?.authenticated ?? DEFAULT_AUTHENTICATED_QUOTA,
      exemptPaths: options.rateLimit?.exemptPaths ?? DEFAULT_EXEMPT_PATHS,
    },
    upstreams: options.upstreams ?? [],
    upstreamTimeoutMs: options.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
    breaker: { ...SOURCE_C_BREAKER, ...options.breaker },
    dashboardDir: options.dashboardDir,
  };

  for (const origin of resolved.corsOrigins) {
    if (origin !== '*' && originOf(origin) !== origin) {
      throw new Error(`gateway corsOrigins: "${origin}" is not an origin like https://app.example.com`);
    }
  }
  positiveInteger('corsMaxAgeSeconds', resolved.corsMaxAgeSeconds);
  for (const scope of ['anonymous', 'authenticated'] as const) {
    positiveInteger(`rateLimit.${scope}.max`, resolved.rateLimit[scope].max);
    positiveInteger(`rateLimit.${scope}.windowSeconds`, resolved.rateLimit[scope].windowSeconds);
  }
  for (const path of resolved.rateLimit.exemptPaths) {
    if (!path.startsWith('/')) throw new Error(`gateway rateLimit.exemptPaths: "${path}" must start with /`);
  }
  positiveInteger('upstreamTimeoutMs', resolved.upstreamTimeoutMs);

  const prefixes = new Set<string>();
  for (const upstream of resolved.upstreams) {
    if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(upstream.prefix) || hasDotSegment(upstream.prefix)) {
      throw new Error(
        `gateway upstreams: prefix "${upstream.prefix}" must be a path like /api/v1/tasks (no trailing /)`,
      );
    }
    if (prefixes.has(upstream.prefix))
      throw new Error(`gateway upstreams: prefix ${upstream.prefix} is repeated`);
    prefixes.add(upstream.prefix);
    if (upstream.urls.length === 0) throw new Error(`gateway upstreams: ${upstream.prefix} has no urls`);
    for (const url of upstream.urls) {
      const parsed = URL.canParse(url) ? new URL(url) : undefined;
      if (
        !parsed ||
        (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') ||
        parsed.username !== '' ||
        parsed.password !== '' ||
        parsed.search !== '' ||
        parsed.hash !== ''
      ) {
        throw new Error(
          `gateway upstreams: "${url}" for ${upstream.prefix} must be an http(s) base URL without credentials or query`,
        );
      }
    }
  }
  return resolved;
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new Error(`gateway ${name} must be a positive integer`);
}

function originOf(text: string): string | undefined {
  if (!URL.canParse(text)) return undefined;
  const url = new URL(text);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
}

// --- security headers ---------------------------------------------------------------------------------

/** JSON answers are never rendered, so they may load nothing and be framed by no one. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";
/**
 * HTML pages (the /docs Swagger UI, the dashboard) load their own scripts and styles. Swagger UI sets
 * inline `style` attributes, hence the one relaxation; scripts stay same-origin only.
 */
export const DOCUMENT_CSP =
  "default-src 'self'; base-uri 'self'; connect-src 'self'; font-src 'self' data:; form-action 'self'; " +
  "frame-ancestors 'none'; img-src 'self' data:; object-src 'none'; script-src 'self'; " +
  "style-src 'self' 'unsafe-inline'";

export function securityHeaders(hsts: boolean): Record<string, string> {
  return {
    'content-security-policy': API_CSP,
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'x-content-type-options': 'nosniff',
    'x-permitted-cross-domain-policies': 'none',
    ...(hsts ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
  };
}

/** The policy for a response, by what it is: only an HTML document needs to load anything. */
export function contentSecurityPolicyFor(contentType: string | undefined): string {
  return contentType !== undefined && /^\s*text\/html\b/i.test(contentType) ? DOCUMENT_CSP : API_CSP;
}

// --- CORS ---------------------------------------------------------------------------------------------

export const CORS_ALLOW_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';
export const CORS_ALLOW_HEADERS = 'authorization, content-type, x-api-key, idempotency-key, x-request-id';
export const CORS_EXPOSE_HEADERS =
  'RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy, Retry-After, X-Next-Cursor, ' +
  'X-Request-Id, Location, Link';

/** The Access-Control-Allow-Origin value for a request's Origin, or undefined when it is not allowed. */
export function allowedOrigin(allowed: string[], origin: string | undefined): string | undefined {
  if (origin === undefined || allowed.length === 0) return undefined;
  if (allowed.includes('*')) return '*';
  return allowed.includes(origin) ? origin : undefined;
}

export function isPreflight(method: string, headers: Record<string, string | string[] | undefined>): boolean {
  return (
    method === 'OPTIONS' &&
    typeof headers.origin === 'string' &&
    typeof headers['access-control-request-method'] === 'string'
  );
}

/**
 * CORS headers for a response. With a list of origins the answer depends on the Origin header, so every
 * response says so (`vary: origin`), allowed or not, or a shared cache could hand one origin's answer to
 * another.
 */
export function corsHeaders(
  allowed: string[],
  origin: string | undefined,
  preflight: { maxAgeSeconds: number } | undefined,
): Record<string, string> {
  if (allowed.length === 0) return {};
  const vary: Record<string, string> = allowed.includes('*') ? {} : { vary: 'Origin' };
  const allow = allowedOrigin(allowed, origin);
  if (!allow) return vary;
  if (preflight) {
    return {
      ...vary,
      'access-control-allow-origin': allow,
      'access-control-allow-methods': CORS_ALLOW_METHODS,
      'access-control-allow-headers': CORS_ALLOW_HEADERS,
      'access-control-max-age': String(preflight.maxAgeSeconds),
    };
  }
  return {
    ...vary,
    'access-control-allow-origin': allow,
    'access-control-expose-headers': CORS_EXPOSE_HEADERS,
  };
}

// --- rate limits --------------------------------------------------------------------------------------

export type RateLimitScope = 'anonymous' | 'user' | 'api_key';

export interface RateLimitSubject {
  scope: RateLimitScope;
  key: string;
  quota: Quota;
}

/**
 * Whose budget a request spends: an API key's, a user's, or (no valid credentials, bad tokens included)
 * its IP's, under source C's key pattern `rate_limit:{ip}`.
 */
export function rateLimitSubject(
  identity: Identity | undefined,
  ip: string,
  quotas: { anonymous: Quota; authenticated: Quota },
): RateLimitSubject {
  if (identity?.kind === 'api_key' && identity.apiKeyId) {
    return { scope: 'api_key', key: `rate_limit:key:${identity.apiKeyId}`, quota: quotas.authenticated };
  }
  if (identity) {
    return { scope: 'user', key: `rate_limit:user:${identity.userId}`, quota: quotas.authenticated };
  }
  return { scope: 'anonymous', key: `rate_limit:${clientAddressKey(ip)}`, quota: quotas.anonymous };
}

/**
 * The address a budget belongs to. One IPv6 subscriber usually holds a whole /64, so counting single
 * IPv6 addresses would give each client billions of budgets; IPv4-mapped addresses count as IPv4.
 */
export function clientAddressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  const address = ip.split('%')[0] ?? ip;
  if (!isIPv6(address)) return ip;
  const groups = ipv6Groups(address);
  return `${groups.slice(0, 4).join(':')}::/64`;
}

function ipv6Groups(address: string): string[] {
  let text = address.toLowerCase();
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (tail && isIPv4(tail)) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    text = `${text.slice(0, -tail.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => Number.parseInt(group, 16).toString(16));
}

export interface RateLimitVerdict {
  limited: boolean;
  headers: Record<string, string>;
}

/**
 * The IETF draft's RateLimit headers for a count in a fixed window, and whether the request is over.
 * Reset is rounded up so a client that waits that long is never refused again for the same window.
 */
export function rateLimitVerdict(quota: Quota, hit: { count: number; resetInMs: number }): RateLimitVerdict {
  const resetSeconds = Math.max(1, Math.ceil(hit.resetInMs / 1000));
  const limited = hit.count > quota.max;
  return {
    limited,
    headers: {
      'ratelimit-limit': String(quota.max),
      'ratelimit-remaining': String(Math.max(0, quota.max - hit.count)),
      'ratelimit-reset': String(resetSeconds),
      'ratelimit-policy': `${quota.max};w=${quota.windowSeconds}`,
      ...(limited ? { 'retry-after': String(resetSeconds) } : {}),
    },
  };
}

/** Exact paths, with or without a trailing slash or query; `/health` does not exempt `/healthz`. */
export function isExemptPath(url: string, exemptPaths: string[]): boolean {
  const path = url.split('?')[0] ?? url;
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return exemptPaths.includes(trimmed);
}

// --- forwarding ---------------------------------------------------------------------------------------

export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
export const FORWARDED_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'];

/** What came back from one attempt at an upstream. */
export type AttemptOutcome =
  | { kind: 'response'; status: number }
  | { kind: 'connection_error' }
  | { kind: 'timeout' };

/**
 * Whether the upstream instance looks unwell: unreachable, too slow, or its own proxy/overload answers.
 * Any other status, 500 included, is an answer about this request, not about the instance's health.
 */
export function isUpstreamFailure(outcome: AttemptOutcome): boolean {
  return (
    outcome.kind !== 'response' || outcome.status === 502 || outcome.status === 503 || outcome.status === 504
  );
}

/**
 * Whether to try again (on the next URL). Only methods that may be repeated safely, only for failures
 * the next instance may not have, and never after a timeout: the budget is spent and the slow instance
 * may still be doing the work.
 */
export function shouldRetry(method: string, outcome: AttemptOutcome, retriesDone: number): boolean {
  return (
    retriesDone < MAX_RETRIES &&
    IDEMPOTENT_METHODS.has(method) &&
    outcome.kind !== 'timeout' &&
    isUpstreamFailure(outcome)
  );
}

/** RFC 9110 §7.6.1: headers about one connection, never passed on. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Headers the gateway sets itself; an upstream's own values would contradict them. */
const GATEWAY_OWNED = new Set([
  'content-security-policy',
  'x-frame-options',
  'referrer-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'cross-origin-embedder-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-permitted-cross-domain-policies',
  'x-request-id',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'ratelimit-policy',
  // Software banners tell an attacker what to try.
  'x-powered-by',
  'server',
]);

type HeaderMap = Record<string, string | string[] | undefined>;

/** Hop-by-hop headers, including any the sender named in its Connection header. */
export function withoutHopByHop(headers: HeaderMap, alsoDrop: ReadonlySet<string> = new Set()): HeaderMap {
  const named = new Set(
    [headers.connection]
      .flat()
      .filter((value): value is string => typeof value === 'string')
      .flatMap((value) => value.split(','))
      .map((name) => name.trim().toLowerCase())
      .filter((name) => name !== ''),
  );
  const kept: HeaderMap = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(lower) || named.has(lower) || alsoDrop.has(lower)) continue;
    kept[lower] = value;
  }
  return kept;
}

const RECOMPUTED_ON_REQUEST = new Set([
  'host',
  'content-length',
  'expect',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-request-id',
]);

/**
 * The headers sent upstream: the client's end-to-end headers unchanged (credentials included, since the
 * upstream authenticates the request itself), plus where the request came from.
 */
export function upstreamRequestHeaders(
  incoming: HeaderMap,
  context: {
    peerAddress: string;
    protocol: string;
    host: string;
    requestId: string;
    bodyBytes: number | undefined;
  },
): Record<string, string | string[]> {
  const headers = withoutHopByHop(incoming, RECOMPUTED_ON_REQUEST);
  const earlier = [incoming['x-forwarded-for']]
    .flat()
    .filter((value): value is string => typeof value === 'string');
  const result: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) result[name] = value;
  result['x-forwarded-for'] = [...earlier, context.peerAddress].join(', ');
  result['x-forwarded-proto'] = context.protocol;
  // HTTP/1.0 clients may send no Host; an empty header would be refused by the HTTP client.
  if (context.host !== '') result['x-forwarded-host'] = context.host;
  result['x-request-id'] = context.requestId;
  if (context.bodyBytes !== undefined) result['content-length'] = String(context.bodyBytes);
  return result;
}

/** The upstream's response headers the client sees: end-to-end ones, minus those the gateway owns. */
export function downstreamResponseHeaders(upstream: HeaderMap): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(withoutHopByHop(upstream, GATEWAY_OWNED))) {
    if (value !== undefined && !name.startsWith('access-control-')) result[name] = value;
  }
  return result;
}

/**
 * Whether a path has `.` or `..` segments, plain or percent-encoded. Routing does not resolve them, but a
 * server behind the gateway might, and so reach a path outside the prefix the request was routed by.
 */
export function hasDotSegment(url: string): boolean {
  const path = url.split('?')[0] ?? url;
  return path.split(/\/|%2f|%5c|\\/i).some((segment) => /^(\.|%2e){1,2}$/i.test(segment));
}

/** The upstream URL for a request: the instance's base, then the request's path and query unchanged. */
export function upstreamTarget(baseUrl: string, requestUrl: string): URL {
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  return new URL(`${base.origin}${basePath}${requestUrl}`);
}

/** Seconds a client is told to wait, never 0 (which would invite an immediate retry storm). */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
