import { type Config, readConfig } from '../src/config.ts';

/** Configuration for an in-process server on a test database and a free port. */
export function testConfig(databaseUrl: string, env: Record<string, string> = {}): Config {
  return readConfig({ DATABASE_URL: databaseUrl, PORT: '0', LOG_LEVEL: 'silent', NODE_ENV: 'test', ...env });
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
    body: (text ? JSON.parse(text) : undefined) as T,
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
