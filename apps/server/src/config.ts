import { resolve } from 'node:path';
import { DEFAULT_EVENT_TYPES } from '@switchyard/activity';
import type { LogLevel } from '@switchyard/kernel';
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
  /** Source D's event types this installation accepts. */
  activityEventTypes: string[];
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
    nodeEnv: oneOf(env, 'NODE_ENV', ['development', 'production', 'test'] as const, 'development'),
    logLevel: oneOf(
      env,
      'LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
      'info',
    ),
    bodyLimitBytes: integer(env, 'SWITCHYARD_BODY_LIMIT_BYTES', 1024, 64 * 1024 * 1024, 1024 * 1024),
    activityEventTypes: activityEventTypes(env),
  };
}
