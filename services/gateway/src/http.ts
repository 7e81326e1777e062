import type { Cache } from '@switchyard/cache';
import {
  type HttpApp,
  type Logger,
  type Metrics,
  PROBLEM_CONTENT_TYPE,
  type ProblemDetails,
  problemOf,
} from '@switchyard/kernel';
import type { FastifyReply } from 'fastify';
import { Counter } from 'prom-client';
import {
  contentSecurityPolicyFor,
  corsHeaders,
  isExemptPath,
  isPreflight,
  type RateLimitScope,
  type ResolvedGatewayOptions,
  rateLimitSubject,
  rateLimitVerdict,
  securityHeaders,
} from './domain.ts';

export interface GatewayHookDeps {
  cache: Cache;
  metrics: Metrics;
  log: Logger;
}

/** Same shape as the kernel's problem answers, so clients parse one format whoever refused them. */
export function sendProblem(
  reply: FastifyReply,
  problem: ProblemDetails,
  headers: Record<string, string> = {},
): FastifyReply {
  return reply
    .code(problem.status)
    .headers(headers)
    .type(PROBLEM_CONTENT_TYPE)
    .send({ ...problem, instance: reply.request.url });
}

/**
 * Hooks on every route, registered after the kernel's identity hook and before its permission check
 * (preParsing): security headers, CORS, then rate limits. Order matters: a 429 still carries the
 * security and CORS headers (so a browser can read it), and an answered preflight spends no budget.
 */
export function installGatewayHooks(
  app: HttpApp,
  options: ResolvedGatewayOptions,
  deps: GatewayHookDeps,
): void {
  const security = securityHeaders(options.hsts);
  const preflightOptions = { maxAgeSeconds: options.corsMaxAgeSeconds };

  app.addHook('onRequest', async (request, reply) => {
    reply.headers(security);
    const origin = typeof request.headers.origin === 'string' ? request.headers.origin : undefined;
    const preflight = isPreflight(request.method, request.headers);
    const cors = corsHeaders(options.corsOrigins, origin, preflight ? preflightOptions : undefined);
    reply.headers(cors);
    // A refused preflight falls through to routing and gets no CORS headers, which is what makes the
    // browser block the real request.
    if (preflight && cors['access-control-allow-origin'] !== undefined) return reply.code(204).send();
  });

  installRateLimits(app, options, deps);

  app.addHook('onSend', async (_request, reply, payload) => {
    const contentType = reply.getHeader('content-type');
    reply.header('content-security-policy', contentSecurityPolicyFor(contentType?.toString()));
    return payload;
  });
}

function installRateLimits(app: HttpApp, options: ResolvedGatewayOptions, deps: GatewayHookDeps): void {
  const { exemptPaths, ...quotas } = options.rateLimit;
  const rejections = counterOf(deps.metrics);
  const store = storeHealth(deps.log);

  app.addHook('onRequest', async (request, reply) => {
    if (isExemptPath(request.url, exemptPaths) || request.routeOptions.config?.rateLimited === false) return;
    const subject = rateLimitSubject(request.identity, request.ip, quotas);
    let hit: { count: number; resetInMs: number };
    try {
      hit = await deps.cache.increment(subject.key, subject.quota.windowSeconds);
    } catch (error) {
      // Fail open: see README. Authentication and permissions are still enforced; only the budget is not.
      store.failed(error);
      return;
    }
    store.answered();
    const verdict = rateLimitVerdict(subject.quota, hit);
    reply.headers(verdict.headers);
    if (!verdict.limited) return;
    rejections.inc({ scope: subject.scope });
    return sendProblem(
      reply,
      problemOf(
        429,
        'rate-limited',
        'Too Many Requests',
        `At most ${subject.quota.max} requests per ${subject.quota.windowSeconds} s; retry in ${verdict.headers['retry-after']} s`,
      ),
    );
  });
}

/** Logs the start and the end of a store outage, once each, not once per request. */
function storeHealth(log: Logger) {
  let down = false;
  return {
    failed(error: unknown) {
      if (down) return;
      down = true;
      log.error(
        { err: error },
        'rate limit store failed: requests pass without rate limits until it answers',
      );
    },
    answered() {
      if (!down) return;
      down = false;
      log.warn('rate limit store answers again: rate limits apply');
    },
  };
}

function counterOf(metrics: Metrics): Counter<'scope'> {
  const name = 'rate_limit_rejections_total';
  const existing = metrics.registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<'scope'>;
  const counter = new Counter<'scope'>({
    name,
    help: 'Requests refused with 429, by whose budget ran out (anonymous, user, api_key)',
    labelNames: ['scope'],
    registers: [metrics.registry],
  });
  for (const scope of ['anonymous', 'user', 'api_key'] satisfies RateLimitScope[]) counter.inc({ scope }, 0);
  return counter;
}
