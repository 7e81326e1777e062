import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { isPublicAddress, type RequestFailureKind } from './domain.ts';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** At most `maxResponseBytes` of it: enough to classify an error, bounded against hostile receivers. */
  body: string;
}

export type HttpResult =
  | { ok: true; answer: HttpAnswer }
  | { ok: false; kind: RequestFailureKind; detail: string };

export interface PostOptions {
  url: string | URL;
  headers: Record<string, string>;
  body: string | Uint8Array;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  agents?: Agents | undefined;
  /** Resolve the host and refuse the connection when any of its addresses is not public (SSRF). */
  publicAddressesOnly?: boolean | undefined;
  maxResponseBytes?: number | undefined;
}

export interface Agents {
  http: http.Agent;
  https: https.Agent;
  destroy(): void;
}

/** Keep-alive agents per provider, so a burst of sends reuses connections instead of a handshake each. */
export function createAgents(): Agents {
  const agents = {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true }),
    destroy() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
  return agents;
}

class BlockedAddressError extends Error {}

/**
 * Checks every address the name resolves to before the socket connects to one of them, so the address
 * checked is the address used (a second lookup could be answered differently: DNS rebinding).
 */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const refused = addresses.find((entry) => !isPublicAddress(entry.address));
    if (refused || addresses.length === 0) {
      return callback(
        new BlockedAddressError(
          `${hostname} resolves to ${refused?.address ?? 'nothing'}, not a public address`,
        ),
        [],
      );
    }
    if (options.all) return callback(null, addresses);
    const first = addresses[0] as dns.LookupAddress;
    callback(null, first.address, first.family);
  });
};

/** One POST with a deadline; never throws: a request without an HTTP answer is a failure kind. */
export function post(options: PostOptions): Promise<HttpResult> {
  const target = typeof options.url === 'string' ? new URL(options.url) : options.url;
  const secure = target.protocol === 'https:';
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  const maxBytes = options.maxResponseBytes ?? 64 * 1024;
  const body = typeof options.body === 'string' ? Buffer.from(options.body) : options.body;

  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: HttpResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const failure = (error: unknown): HttpResult => {
      const detail = error instanceof Error ? error.message : String(error);
      if (error instanceof BlockedAddressError) return { ok: false, kind: 'blocked', detail };
      if (deadline.aborted) return { ok: false, kind: 'timeout', detail: `after ${options.timeoutMs} ms` };
      if (options.signal?.aborted) return { ok: false, kind: 'cancelled', detail };
      return { ok: false, kind: 'network', detail };
    };

    let request: http.ClientRequest;
    try {
      request = (secure ? https : http).request(
        target,
        {
          method: 'POST',
          headers: { ...options.headers, 'content-length': String(body.byteLength) },
          signal,
          agent: secure ? options.agents?.https : options.agents?.http,
          ...(options.publicAddressesOnly ? { lookup: publicOnlyLookup } : {}),
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          const answered = () =>
            finish({
              ok: true,
              answer: {
                status: response.statusCode ?? 0,
                headers: response.headers,
                body: Buffer.concat(chunks).toString('utf8'),
              },
            });
          response.on('data', (chunk: Buffer) => {
            chunks.push(chunk.subarray(0, maxBytes - size));
            size += chunk.length;
            // The status is known and the start of the body is enough; an endless body must not hold
            // the send until the deadline.
            if (size >= maxBytes) {
              answered();
              response.destroy();
            }
          });
          response.on('end', answered);
          response.on('error', (error) => finish(failure(error)));
        },
      );
    } catch (error) {
      // Node validates headers while building the request and throws (a value with a line break).
      const detail = error instanceof Error ? error.message : String(error);
      return finish({ ok: false, kind: 'invalid', detail });
    }
    // `on`, not `once`: a socket can report a second error after the first one settled the request.
    request.on('error', (error) => finish(failure(error)));
    request.end(body);
  });
}

export function headerValue(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
