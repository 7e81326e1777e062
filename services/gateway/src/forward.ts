import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import {
  type CircuitBreaker,
  createCircuitBreaker,
  exportBreakerStates,
  type HttpApp,
  type Logger,
  type Metrics,
  problemOf,
} from '@switchyard/kernel';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  type AttemptOutcome,
  downstreamResponseHeaders,
  FORWARDED_METHODS,
  hasDotSegment,
  isUpstreamFailure,
  type ResolvedGatewayOptions,
  retryAfterSeconds,
  shouldRetry,
  type Upstream,
  upstreamRequestHeaders,
  upstreamTarget,
} from './domain.ts';
import { sendProblem } from './http.ts';

export interface ForwardDeps {
  log: Logger;
  metrics: Metrics;
  /** Milliseconds; drives the breakers, so tests can move time instead of waiting. */
  nowMs: () => number;
}

/**
 * Routes that pass requests under each upstream prefix to the instances serving it (scale-out mode).
 * Returns a function that closes the pooled upstream connections.
 */
export function registerForwardRoutes(
  app: HttpApp,
  options: ResolvedGatewayOptions,
  deps: ForwardDeps,
): () => void {
  if (options.upstreams.length === 0) return () => {};
  const agents = {
    'http:': new http.Agent({ keepAlive: true }),
    'https:': new https.Agent({ keepAlive: true }),
  };
  const breakers = createBreakers(options, deps);

  // Encapsulated so that only these routes take any body as raw bytes: the upstream gets exactly what
  // the client sent (and parses it itself), and a buffered body can be sent again on a retry. The body
  // limit still applies (413).
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    for (const upstream of options.upstreams) {
      const handler = forwarder(upstream, options.upstreamTimeoutMs, breakers, agents, deps.log);
      for (const url of [upstream.prefix, `${upstream.prefix}/*`]) {
        scope.route({
          method: FORWARDED_METHODS,
          url,
          schema: { hide: true },
          // Public at the gateway only: the request goes on with its Authorization / x-api-key header
          // and the upstream service enforces the route's real permission. The gateway still resolves
          // the identity to pick the caller's rate-limit budget.
          config: { permission: 'public' },
          handler,
        });
      }
    }
  });

  return () => {
    agents['http:'].destroy();
    agents['https:'].destroy();
  };
}

function createBreakers(options: ResolvedGatewayOptions, deps: ForwardDeps): Map<string, CircuitBreaker> {
  const breakers = new Map<string, CircuitBreaker>();
  exportBreakerStates(deps.metrics.registry, breakers);
  for (const url of new Set(options.upstreams.flatMap((upstream) => upstream.urls))) {
    breakers.set(
      url,
      createCircuitBreaker({
        ...options.breaker,
        clock: deps.nowMs,
        onStateChange: (state, previous) => {
          const level = state === 'open' ? 'warn' : 'info';
          deps.log[level]({ target: url, state, previous }, `circuit breaker for ${url} is ${state}`);
        },
      }),
    );
  }
  return breakers;
}

type Agents = Record<'http:' | 'https:', http.Agent>;

function forwarder(
  upstream: Upstream,
  timeoutMs: number,
  breakers: Map<string, CircuitBreaker>,
  agents: Agents,
  log: Logger,
) {
  const urls = upstream.urls;
  let nextStart = 0;

  function breakerOf(url: string): CircuitBreaker {
    const breaker = breakers.get(url);
    if (!breaker) throw new Error(`no circuit breaker for ${url}`);
    return breaker;
  }

  function unavailable(reply: FastifyReply) {
    const waitMs = Math.min(...urls.map((url) => breakerOf(url).retryAfterMs()));
    const seconds = retryAfterSeconds(waitMs);
    return sendProblem(
      reply,
      problemOf(
        503,
        'upstream-unavailable',
        'Service Unavailable',
        `No instance serving ${upstream.prefix} is available; retry in ${seconds} s`,
      ),
      { 'retry-after': String(seconds) },
    );
  }

  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (hasDotSegment(request.url)) {
      return sendProblem(
        reply,
        problemOf(400, 'bad-request', 'Bad Request', 'The path must not contain . or .. segments'),
      );
    }
    const method = request.method;
    const body = Buffer.isBuffer(request.body) ? request.body : undefined;
    const headers = upstreamRequestHeaders(request.headers, {
      peerAddress: request.socket.remoteAddress ?? request.ip,
      protocol: request.protocol,
      host: request.host ?? '',
      requestId: request.id,
      bodyBytes: body?.length,
    });

    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const clientGone = () => {
      if (!reply.raw.writableFinished) controller.abort();
    };
    reply.raw.once('close', clientGone);

    // Round robin: each request starts one instance further along, and retries move on from there.
    let cursor = nextStart;
    nextStart = (nextStart + 1) % urls.length;
    function nextAvailable(): string | undefined {
      for (let scanned = 0; scanned < urls.length; scanned++) {
        const url = urls[cursor % urls.length] as string;
        cursor += 1;
        if (breakerOf(url).canRequest()) return url;
      }
      return undefined;
    }

    try {
      for (let retries = 0; ; retries++) {
        const url = nextAvailable();
        if (url === undefined) return unavailable(reply);
        const breaker = breakerOf(url);
        let response: IncomingMessage | undefined;
        let outcome: AttemptOutcome;
        try {
          response = await send(
            upstreamTarget(url, request.url),
            method,
            headers,
            body,
            agents,
            controller.signal,
          );
          outcome = { kind: 'response', status: response.statusCode ?? 502 };
        } catch (error) {
          // The client left: nobody reads the answer; 499 (nginx's "client closed request") marks it in logs.
          if (controller.signal.aborted && !timedOut) return reply.code(499).send();
          outcome = timedOut ? { kind: 'timeout' } : { kind: 'connection_error' };
          log.warn({ err: error, target: url, method, timedOut }, 'upstream request failed');
        }
        if (isUpstreamFailure(outcome)) breaker.recordFailure();
        else breaker.recordSuccess();

        if (shouldRetry(method, outcome, retries)) {
          response?.resume();
          continue;
        }
        if (outcome.kind === 'timeout') {
          return sendProblem(
            reply,
            problemOf(
              504,
              'upstream-timeout',
              'Gateway Timeout',
              `No instance serving ${upstream.prefix} answered within ${timeoutMs} ms`,
            ),
          );
        }
        if (!response) return unavailable(reply);
        return passThrough(reply, method, response, timeoutMs);
      }
    } finally {
      clearTimeout(timer);
      reply.raw.off('close', clientGone);
    }
  };
}

function passThrough(reply: FastifyReply, method: string, response: IncomingMessage, idleTimeoutMs: number) {
  const status = response.statusCode ?? 502;
  const { vary, ...headers } = downstreamResponseHeaders(response.headers);
  reply.code(status).headers(headers);
  if (vary !== undefined) reply.header('vary', mergeVary(reply.getHeader('vary'), vary));
  if (method === 'HEAD' || status === 204 || status === 304) {
    response.resume();
    return reply.send();
  }
  // The header deadline is over; a body that stops flowing is cut after the same time of silence.
  response.setTimeout(idleTimeoutMs, () => response.destroy(new Error('upstream body stalled')));
  return reply.send(response);
}

function mergeVary(current: ReturnType<FastifyReply['getHeader']>, added: string | string[]): string {
  const names = [current, added]
    .flat()
    .filter((value): value is string => typeof value === 'string')
    .flatMap((value) => value.split(','))
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const seen = new Map(names.map((name) => [name.toLowerCase(), name]));
  return [...seen.values()].join(', ');
}

function send(
  target: URL,
  method: string,
  headers: Record<string, string | string[]>,
  body: Buffer | undefined,
  agents: Agents,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const secure = target.protocol === 'https:';
    const request = (secure ? https : http).request(
      target,
      { method, headers, signal, agent: agents[secure ? 'https:' : 'http:'] },
      (response) => {
        // A body cut short before anyone reads it must not become an uncaught error.
        response.on('error', () => {});
        resolve(response);
      },
    );
    // `on`, not `once`: a socket can report a second error after the first one rejected.
    request.on('error', reject);
    request.end(body);
  });
}
