import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_EVENT_TYPES } from '@switchyard/activity';
import { mailboxAddress } from '@switchyard/delivery';
import { type LogLevel, passwordPolicyViolation } from '@switchyard/kernel';
import { SERVICE_NAMES, type ServiceName } from './services.ts';

export type BusConfig =
  | { kind: 'postgres' }
  | { kind: 'kafka'; brokers: string[]; partitions: number; namespace: string }
  | { kind: 'rabbitmq'; url: string; namespace: string };

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** Absent: start the embedded PostgreSQL in `dataDir`. */
  databaseUrl: string | undefined;
  bus: BusConfig;
  services: ServiceName[];
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: LogLevel;
  bodyLimitBytes: number;
  /** SWITCHYARD_LIVE_RECHECK_SECONDS: how often open live inbox connections' (SSE, Socket.IO) credentials are checked again. */
  liveRecheckSeconds: number;
  /** Source D's event types this installation accepts. */
  activityEventTypes: string[];
  /**
   * SWITCHYARD_SECRET_KEY: seals signing keys and TOTP seeds. Required in production; elsewhere, when
   * absent, one is generated once and kept in the data dir.
   */
  secretKey: string | undefined;
  /** SWITCHYARD_ADMIN_EMAIL + SWITCHYARD_ADMIN_PASSWORD: the first admin, created on first start. */
  firstAdmin: { email: string; password: string } | undefined;
  /** REDIS_URL: the shared cache, rate limits and fan-out; absent, they live in process memory. */
  redisUrl: string | undefined;
  /** SWITCHYARD_REDIS_KEY_PREFIX: lets installations (and test runs) share one Redis. */
  redisKeyPrefix: string;
  gateway: GatewayConfig;
  delivery: DeliveryConfig;
  /**
   * SWITCHYARD_CONSUMER_THREAD (`auto` | `on` | `off`, default auto): a process that serves the API and
   * runs consumer groups runs the groups in a thread of their own, so delivery work never queues behind
   * requests or they behind it. `auto` is on where the process may use two cores or more: with one, the
   * thread only adds its cost (docs/BENCHMARKS.md, stop 17).
   */
  consumerThread: boolean;
}

export interface DeliveryConfig {
  smtpUrl: string | undefined;
  smtpFallbackUrl: string | undefined;
  /** SMTP_MAX_CONNECTIONS: pooled connections to each SMTP server. */
  smtpMaxConnections: number;
  mailFrom: string;
  /** SWITCHYARD_FCM_SERVICE_ACCOUNT: the service-account JSON, or a path to it. */
  fcmServiceAccount: string | undefined;
  fcmUrl: string | undefined;
  vapid: { subject: string; publicKey: string; privateKey: string } | undefined;
  twilio: { accountSid: string; authToken: string; from: string; baseUrl: string | undefined } | undefined;
  webhookSecret: string | undefined;
  allowPrivateTargets: boolean;
}

export interface GatewayConfig {
  /** SWITCHYARD_CORS_ORIGINS: exact origins allowed to call the API from a browser, or `*`. */
  corsOrigins: string[];
  /** SWITCHYARD_HSTS: send Strict-Transport-Security (only behind HTTPS). */
  hsts: boolean;
  /** Source C: anonymous clients get 100 requests per 15 minutes per IP. */
  anonymousRateLimit: { max: number; windowSeconds: number };
  /** Per user or API key. */
  authenticatedRateLimit: { max: number; windowSeconds: number };
  /** SWITCHYARD_UPSTREAMS: scale-out forwarding, `/api/v1/tasks=http://a:3001|http://b:3001,…`. */
  upstreams: { prefix: string; urls: string[] }[];
  upstreamTimeoutMs: number;
  /** SWITCHYARD_DASHBOARD_DIR: the built dashboard served at `/`; apps/dashboard/dist by default. */
  dashboardDir: string;
}

/** A configuration value that cannot be used; the message names the variable and what it expects. */
export class ConfigError extends Error {
  readonly variable: string;

  constructor(variable: string, expected: string, received: string) {
    super(`${variable}: expected ${expected}, got ${JSON.stringify(received)}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

type Env = Record<string, string | undefined>;

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (!(allowed as readonly string[]).includes(value))
    throw new ConfigError(name, `one of ${allowed.join(', ')}`, value);
  return value as T;
}

function integer(env: Env, name: string, min: number, max: number, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < min || parsed > max) {
    throw new ConfigError(name, `a whole number from ${min} to ${max}`, value);
  }
  return parsed;
}

const BROKER_PATTERN = /^[A-Za-z0-9.-]+:\d{1,5}$/;

function activityEventTypes(env: Env): string[] {
  const value = env.SWITCHYARD_ACTIVITY_EVENT_TYPES;
  if (value === undefined || value === '') return [...DEFAULT_EVENT_TYPES];
  const types = value.split(',').map((type) => type.trim());
  if (!types.every((type) => /^[A-Z][A-Z0-9_]{0,63}$/.test(type))) {
    throw new ConfigError(
      'SWITCHYARD_ACTIVITY_EVENT_TYPES',
      'a comma list of names like LOGIN, PRODUCT_VIEW',
      value,
    );
  }
  return [...new Set(types)];
}

function brokerNamespace(env: Env): string {
  const value = env.SWITCHYARD_BUS_NAMESPACE ?? '';
  if (!/^[a-z0-9._-]{0,64}$/i.test(value)) {
    throw new ConfigError('SWITCHYARD_BUS_NAMESPACE', 'up to 64 of a-z, 0-9, dot, dash, underscore', value);
  }
  return value;
}

function busConfig(env: Env): BusConfig {
  const kind = oneOf(env, 'SWITCHYARD_BUS', ['postgres', 'kafka', 'rabbitmq'] as const, 'postgres');
  if (kind === 'kafka') {
    const value = env.KAFKA_BROKERS ?? '';
    const brokers = value
      .split(',')
      .map((broker) => broker.trim())
      .filter(Boolean);
    if (brokers.length === 0 || !brokers.every((broker) => BROKER_PATTERN.test(broker))) {
      throw new ConfigError(
        'KAFKA_BROKERS',
        'a comma list of host:port (needed with SWITCHYARD_BUS=kafka)',
        value,
      );
    }
    return {
      kind,
      brokers,
      partitions: integer(env, 'SWITCHYARD_KAFKA_PARTITIONS', 1, 1024, 3),
      namespace: brokerNamespace(env),
    };
  }
  if (kind === 'rabbitmq') {
    const url = env.AMQP_URL ?? '';
    if (!/^amqps?:\/\/\S+$/.test(url)) {
      throw new ConfigError(
        'AMQP_URL',
        'an amqp:// or amqps:// URL (needed with SWITCHYARD_BUS=rabbitmq)',
        url,
      );
    }
    return { kind, url, namespace: brokerNamespace(env) };
  }
  return { kind };
}

function secretKey(env: Env, nodeEnv: string): string | undefined {
  const value = env.SWITCHYARD_SECRET_KEY;
  if (value === undefined || value === '') {
    if (nodeEnv === 'production') {
      throw new ConfigError(
        'SWITCHYARD_SECRET_KEY',
        'a random secret of at least 32 characters in production',
        '',
      );
    }
    return undefined;
  }
  if (value.length < 32) {
    throw new ConfigError(
      'SWITCHYARD_SECRET_KEY',
      'a random secret of at least 32 characters',
      '(too short)',
    );
  }
  return value;
}

function firstAdmin(env: Env): { email: string; password: string } | undefined {
  const email = env.SWITCHYARD_ADMIN_EMAIL ?? '';
  const password = env.SWITCHYARD_ADMIN_PASSWORD ?? '';
  if (email === '' && password === '') return undefined;
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
    throw new ConfigError(
      'SWITCHYARD_ADMIN_EMAIL',
      'an email address (set with SWITCHYARD_ADMIN_PASSWORD)',
      email,
    );
  }
  const violation =
    password === ''
      ? 'it is required with SWITCHYARD_ADMIN_EMAIL'
      : passwordPolicyViolation(password, { email });
  if (violation) {
    throw new ConfigError(
      'SWITCHYARD_ADMIN_PASSWORD',
      `a password of 12 to 256 characters, not a common one (this one ${violation})`,
      '(hidden)',
    );
  }
  return { email, password };
}

function redisUrl(env: Env): string | undefined {
  const value = env.REDIS_URL;
  if (value === undefined || value === '') return undefined;
  if (!/^rediss?:\/\/\S+$/.test(value))
    throw new ConfigError('REDIS_URL', 'a redis:// or rediss:// URL', value);
  return value;
}

function redisKeyPrefix(env: Env): string {
  const value = env.SWITCHYARD_REDIS_KEY_PREFIX ?? 'switchyard:';
  if (!/^[\w.:-]{0,64}$/.test(value)) {
    throw new ConfigError(
      'SWITCHYARD_REDIS_KEY_PREFIX',
      'up to 64 of a-z, 0-9, dot, colon, dash, underscore',
      value,
    );
  }
  return value;
}

function corsOrigins(env: Env): string[] {
  const value = env.SWITCHYARD_CORS_ORIGINS ?? '';
  const origins = value
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  for (const origin of origins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(
        'SWITCHYARD_CORS_ORIGINS',
        'a comma list of origins like https://app.example.com, or *',
        value,
      );
    }
  }
  return origins;
}

function upstreams(env: Env): { prefix: string; urls: string[] }[] {
  const value = env.SWITCHYARD_UPSTREAMS ?? '';
  if (value.trim() === '') return [];
  const expected = 'a comma list of /api/v1/<service>=http://host:port|http://host:port';
  return value.split(',').map((entry) => {
    const [prefix, targets] = entry.trim().split('=');
    const urls = (targets ?? '')
      .split('|')
      .map((url) => url.trim())
      .filter(Boolean);
    if (
      !prefix ||
      !/^\/[\w/-]+$/.test(prefix) ||
      urls.length === 0 ||
      !urls.every((url) => /^https?:\/\/[^\s/]+\/?$/.test(url))
    ) {
      throw new ConfigError('SWITCHYARD_UPSTREAMS', expected, value);
    }
    return { prefix: prefix.replace(/\/$/, ''), urls: urls.map((url) => url.replace(/\/$/, '')) };
  });
}

function gatewayConfig(env: Env): GatewayConfig {
  return {
    corsOrigins: corsOrigins(env),
    hsts: oneOf(env, 'SWITCHYARD_HSTS', ['true', 'false'] as const, 'false') === 'true',
    anonymousRateLimit: {
      max: integer(env, 'SWITCHYARD_RATE_LIMIT_ANONYMOUS', 1, 10_000_000, 100),
      windowSeconds: integer(env, 'SWITCHYARD_RATE_LIMIT_ANONYMOUS_WINDOW_SECONDS', 1, 86_400, 900),
    },
    authenticatedRateLimit: {
      max: integer(env, 'SWITCHYARD_RATE_LIMIT_AUTHENTICATED', 1, 10_000_000, 6000),
      windowSeconds: integer(env, 'SWITCHYARD_RATE_LIMIT_AUTHENTICATED_WINDOW_SECONDS', 1, 86_400, 60),
    },
    upstreams: upstreams(env),
    upstreamTimeoutMs: integer(env, 'SWITCHYARD_UPSTREAM_TIMEOUT_MS', 100, 300_000, 10_000),
    dashboardDir: env.SWITCHYARD_DASHBOARD_DIR
      ? resolve(env.SWITCHYARD_DASHBOARD_DIR)
      : fileURLToPath(new URL('../../dashboard/dist', import.meta.url)),
  };
}

function optionalUrl(env: Env, name: string, protocols: string[], expected: string): string | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  let protocol = '';
  try {
    protocol = new URL(value).protocol;
  } catch {
    throw new ConfigError(name, expected, '(unparseable)');
  }
  if (!protocols.includes(protocol)) throw new ConfigError(name, expected, `${protocol}…`);
  return value;
}

function deliveryConfig(env: Env, nodeEnv: string): DeliveryConfig {
  const smtp = 'an smtp:// or smtps:// URL like smtps://user:password@mail.example.com:465';
  const vapidParts = [
    env.SWITCHYARD_VAPID_SUBJECT,
    env.SWITCHYARD_VAPID_PUBLIC_KEY,
    env.SWITCHYARD_VAPID_PRIVATE_KEY,
  ];
  if (vapidParts.some(Boolean) && !vapidParts.every(Boolean)) {
    throw new ConfigError(
      'SWITCHYARD_VAPID_PRIVATE_KEY',
      'SWITCHYARD_VAPID_SUBJECT, _PUBLIC_KEY and _PRIVATE_KEY together',
      '(incomplete)',
    );
  }
  const twilioParts = [env.TWILIO_ACCOUNT_SID, env.TWILIO_AUTH_TOKEN, env.TWILIO_FROM];
  if (twilioParts.some(Boolean) && !twilioParts.every(Boolean)) {
    throw new ConfigError(
      'TWILIO_FROM',
      'TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM together',
      '(incomplete)',
    );
  }
  const webhookSecret = env.SWITCHYARD_WEBHOOK_SECRET || undefined;
  if (webhookSecret !== undefined && webhookSecret.length < 32) {
    throw new ConfigError(
      'SWITCHYARD_WEBHOOK_SECRET',
      'a random secret of at least 32 characters',
      '(too short)',
    );
  }
  const mailFrom = env.SWITCHYARD_MAIL_FROM || 'Switchyard <no-reply@switchyard.localhost>';
  try {
    mailboxAddress(mailFrom);
  } catch {
    throw new ConfigError(
      'SWITCHYARD_MAIL_FROM',
      'one sender address, like "Switchyard <no-reply@example.com>"',
      mailFrom,
    );
  }
  return {
    smtpUrl: optionalUrl(env, 'SMTP_URL', ['smtp:', 'smtps:'], smtp),
    smtpFallbackUrl: optionalUrl(env, 'SMTP_FALLBACK_URL', ['smtp:', 'smtps:'], smtp),
    smtpMaxConnections: integer(env, 'SMTP_MAX_CONNECTIONS', 1, 100, 64),
    mailFrom,
    fcmServiceAccount: env.SWITCHYARD_FCM_SERVICE_ACCOUNT || undefined,
    fcmUrl: optionalUrl(env, 'SWITCHYARD_FCM_URL', ['http:', 'https:'], 'an http(s):// URL'),
    vapid: vapidParts.every(Boolean)
      ? {
          subject: env.SWITCHYARD_VAPID_SUBJECT as string,
          publicKey: env.SWITCHYARD_VAPID_PUBLIC_KEY as string,
          privateKey: env.SWITCHYARD_VAPID_PRIVATE_KEY as string,
        }
      : undefined,
    twilio: twilioParts.every(Boolean)
      ? {
          accountSid: env.TWILIO_ACCOUNT_SID as string,
          authToken: env.TWILIO_AUTH_TOKEN as string,
          from: env.TWILIO_FROM as string,
          baseUrl: optionalUrl(env, 'SWITCHYARD_TWILIO_URL', ['http:', 'https:'], 'an http(s):// URL'),
        }
      : undefined,
    webhookSecret,
    // Never in production: webhooks to private addresses are how SSRF reaches internal services.
    allowPrivateTargets:
      nodeEnv !== 'production' &&
      oneOf(env, 'SWITCHYARD_ALLOW_PRIVATE_TARGETS', ['true', 'false'] as const, 'false') === 'true',
  };
}

export function parseServiceList(variable: string, value: string): ServiceName[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !(SERVICE_NAMES as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new ConfigError(variable, `a comma list of ${SERVICE_NAMES.join(', ')}`, value);
  }
  return [...new Set(names)] as ServiceName[];
}

/** Exported for its test: `auto` depends on the cores this process may use. */
export function consumerThread(env: Env, cores: number): boolean {
  const setting = oneOf(env, 'SWITCHYARD_CONSUMER_THREAD', ['auto', 'on', 'off'] as const, 'auto');
  return setting === 'auto' ? cores >= 2 : setting === 'on';
}

/**
 * Reads and validates the whole configuration once. `servicesFlag` (from `--services`) wins over
 * SWITCHYARD_SERVICES. Nothing else in Switchyard reads the environment.
 */
export function readConfig(env: Env, servicesFlag?: string): Config {
  const bus = busConfig(env);
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl !== undefined) {
    let protocol = '';
    try {
      protocol = new URL(databaseUrl).protocol;
    } catch {
      throw new ConfigError(
        'DATABASE_URL',
        'a URL like postgres://user:password@host:5432/database',
        '(unparseable)',
      );
    }
    if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
      throw new ConfigError('DATABASE_URL', 'a postgres:// or postgresql:// URL', `${protocol}…`);
    }
  }
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const host = env.HOST || '127.0.0.1';
  if (!/^[\w.:-]+$/.test(host)) throw new ConfigError('HOST', 'a host name or IP address to listen on', host);
  return {
    port: integer(env, 'PORT', 0, 65_535, 3000),
    host,
    dataDir: resolve(env.SWITCHYARD_DATA_DIR || '.switchyard'),
    databaseUrl,
    bus,
    services:
      servicesFlag !== undefined
        ? parseServiceList('--services', servicesFlag)
        : env.SWITCHYARD_SERVICES
          ? parseServiceList('SWITCHYARD_SERVICES', env.SWITCHYARD_SERVICES)
          : [...SERVICE_NAMES],
    nodeEnv,
    logLevel: oneOf(
      env,
      'LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
      'info',
    ),
    bodyLimitBytes: integer(env, 'SWITCHYARD_BODY_LIMIT_BYTES', 1024, 64 * 1024 * 1024, 1024 * 1024),
    liveRecheckSeconds: integer(env, 'SWITCHYARD_LIVE_RECHECK_SECONDS', 1, 3600, 60),
    activityEventTypes: activityEventTypes(env),
    secretKey: secretKey(env, nodeEnv),
    firstAdmin: firstAdmin(env),
    redisUrl: redisUrl(env),
    redisKeyPrefix: redisKeyPrefix(env),
    gateway: gatewayConfig(env),
    delivery: deliveryConfig(env, nodeEnv),
    consumerThread: consumerThread(env, availableParallelism()),
  };
}
