import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import { type Authenticate, type Authorize, credentialsOf, type Identity } from './identity.ts';
import type { Logger } from './logger.ts';
import { type Metrics, metricsText } from './metrics.ts';
import {
  type FieldError,
  HttpProblem,
  PROBLEM_CONTENT_TYPE,
  type ProblemDetails,
  problemOf,
} from './problem.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The permission a caller needs for this route, or `public`. Every route must declare one: the app
     * refuses to start with a route that does not, so no endpoint is ever exposed by omission.
     */
    permission?: string;
  }
  interface FastifyRequest {
    /** Who is calling; undefined for anonymous requests (only `public` routes see those). */
    identity: Identity | undefined;
  }
}

/** How requests are identified and checked; without it, permissions are declared but not enforced. */
export interface AccessControl {
  authenticate: Authenticate;
  authorize: Authorize;
}

/** A registered route and the permission it declares. */
export interface RouteEntry {
  method: string;
  url: string;
  permission: string;
}

const routeTables = new WeakMap<object, RouteEntry[]>();

/** Every route registered on `app` so far, with its permission (the RBAC walk and the docs use it). */
export function routeTable(app: object): readonly RouteEntry[] {
  return routeTables.get(app) ?? [];
}

export type HttpApp = FastifyInstance<
  import('node:http').Server,
  IncomingMessage,
  import('node:http').ServerResponse,
  Logger,
  TypeBoxTypeProvider
>;

export interface HttpAppOptions {
  logger: Logger;
  metrics: Metrics;
  /** Largest accepted request body; larger ones get 413. */
  bodyLimitBytes: number;
  title: string;
  version: string;
  access?: AccessControl;
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const UNDOCUMENTED_PREFIXES = ['/docs'];

type AjvError = ErrorObject;
type RequestPart = FieldError['in'];

const PART_NAMES: Record<string, RequestPart> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
};

/** Turns Ajv's errors into field errors a person can act on: which field, and why. */
export function fieldErrorsFrom(errors: AjvError[], part: RequestPart): FieldError[] {
  return errors.map((error) => {
    let pointer = error.instancePath;
    let reason = error.message ?? 'is invalid';
    if (error.keyword === 'additionalProperties') {
      pointer += `/${String(error.params.additionalProperty)}`;
      reason = 'is not a known field';
    } else if (error.keyword === 'required') {
      pointer += `/${String(error.params.missingProperty)}`;
      reason = 'is required';
    } else if (error.keyword === 'enum') {
      reason = `must be one of: ${(error.params.allowedValues as unknown[]).join(', ')}`;
    }
    const field = pointer.split('/').slice(1).join('.') || '(root)';
    return { field, in: part, reason };
  });
}

function sendProblem(reply: FastifyReply, problem: ProblemDetails): FastifyReply {
  return reply
    .code(problem.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send({ ...problem, instance: reply.request.url });
}

/**
 * The HTTP app every service mounts its routes on: request ids, JSON logs, problem+json errors, metrics,
 * OpenAPI from the route schemas, and a refusal to register a route without a permission.
 */
export async function createHttpApp(options: HttpAppOptions): Promise<HttpApp> {
  // Bodies are validated strictly (a number is not a string, unknown fields are refused); query strings
  // and path parameters arrive as text, so those are coerced to the declared types.
  const bodyAjv = new Ajv({
    allErrors: true,
    coerceTypes: false,
    removeAdditional: false,
    useDefaults: true,
  });
  const paramAjv = new Ajv({
    allErrors: true,
    coerceTypes: 'array',
    removeAdditional: false,
    useDefaults: true,
  });
  addFormats.default(bodyAjv);
  addFormats.default(paramAjv);

  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimitBytes,
    // One line per request is written by the onResponse hook below, with the route and duration.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    genReqId: (request: IncomingMessage) => {
      const header = request.headers['x-request-id'];
      return typeof header === 'string' && REQUEST_ID_PATTERN.test(header) ? header : randomUUID();
    },
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as HttpApp;

  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === 'body' ? bodyAjv.compile(schema) : paramAjv.compile(schema),
  );

  // Only JSON bodies are understood; anything else (text/plain included) is answered with 415.
  app.removeContentTypeParser('text/plain');

  const routes: RouteEntry[] = [];
  routeTables.set(app, routes);
  app.addHook('onRoute', (route) => {
    if (UNDOCUMENTED_PREFIXES.some((prefix) => route.url.startsWith(prefix))) return;
    const permission = route.config?.permission;
    if (!permission) {
      throw new Error(
        `route ${String(route.method)} ${route.url} declares no permission (config.permission)`,
      );
    }
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') routes.push({ method, url: route.url, permission });
    }
  });

  app.decorateRequest('identity', undefined);
  const refusals = new WeakMap<object, ProblemDetails>();
  const access = options.access;

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    if (!access) return;
    const credentials = credentialsOf(request.headers);
    if (!credentials) return;
    try {
      request.identity = await access.authenticate(credentials);
    } catch (error) {
      if (!(error instanceof HttpProblem)) throw error;
      refusals.set(request, error.problem);
    }
  });

  // Identity is resolved in onRequest so hooks registered later (rate limits) can use it; the check
  // runs here, after those hooks and before the body is read.
  app.addHook('preParsing', async (request, reply) => {
    const permission = request.routeOptions.config?.permission;
    if (!access || permission === undefined || permission === 'public') return;
    const refusal = refusals.get(request);
    if (refusal) {
      reply.header('www-authenticate', 'Bearer error="invalid_token"');
      return sendProblem(reply, refusal);
    }
    if (!request.identity) {
      reply.header('www-authenticate', 'Bearer');
      return sendProblem(
        reply,
        problemOf(
          401,
          'unauthenticated',
          'Unauthorized',
          'Send an access token (Authorization: Bearer) or an API key (x-api-key)',
        ),
      );
    }
    if (!access.authorize(request.identity.role, permission)) {
      return sendProblem(
        reply,
        problemOf(403, 'forbidden', 'Forbidden', `The ${request.identity.role} role lacks ${permission}`),
      );
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? '(unmatched)',
      status: String(reply.statusCode),
    };
    options.metrics.httpRequestsTotal.inc(labels);
    options.metrics.httpRequestDurationSeconds.observe(labels, reply.elapsedTime / 1000);
    const level = reply.statusCode >= 500 ? 'error' : 'info';
    request.log[level](
      {
        method: request.method,
        url: request.url,
        status: reply.statusCode,
        duration_ms: Math.round(reply.elapsedTime),
      },
      'request completed',
    );
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HttpProblem) return sendProblem(reply, error.problem);
    if (error.validation) {
      const part = PART_NAMES[error.validationContext ?? 'body'] ?? 'body';
      const errors = fieldErrorsFrom(error.validation as AjvError[], part);
      return sendProblem(reply, {
        ...problemOf(400, 'validation', 'Bad Request', `The request ${part} has invalid fields`),
        errors,
      });
    }
    switch (error.code) {
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendProblem(
          reply,
          problemOf(
            415,
            'unsupported-media-type',
            'Unsupported Media Type',
            'Send the body as application/json',
          ),
        );
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendProblem(
          reply,
          problemOf(
            413,
            'payload-too-large',
            'Content Too Large',
            `The body exceeds ${options.bodyLimitBytes} bytes`,
          ),
        );
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendProblem(reply, problemOf(400, 'malformed-json', 'Bad Request', error.message));
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return sendProblem(
        reply,
        problemOf(status, 'client-error', error.name || 'Bad Request', error.message),
      );
    }
    request.log.error({ err: error }, 'request failed');
    return sendProblem(
      reply,
      problemOf(
        500,
        'internal',
        'Internal Server Error',
        `Something went wrong; quote request id ${request.id}`,
      ),
    );
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      problemOf(404, 'not-found', 'Not Found', `No route ${request.method} ${request.url.split('?')[0]}`),
    ),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: options.title, version: options.version },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get(
    '/openapi.json',
    { schema: { hide: true }, config: { permission: 'public' } },
    async () => app.swagger() as unknown as Record<string, unknown>,
  );

  return app;
}

export interface ReadinessCheck {
  name: string;
  /** Resolves true when the dependency is usable. */
  check: () => Promise<boolean>;
}

/** `/health` says the process answers; `/ready` says its dependencies do; `/metrics` is Prometheus text. */
export function registerOperationalRoutes(app: HttpApp, metrics: Metrics, checks: ReadinessCheck[]): void {
  const options = { schema: { tags: ['operations'] }, config: { permission: 'public' } };
  app.get('/health', options, async () => ({ status: 'ok' }));
  app.get('/ready', options, async (_request, reply) => {
    const results = await Promise.all(
      checks.map(async ({ name, check }) => ({ name, ok: await check().catch(() => false) })),
    );
    const ready = results.every((result) => result.ok);
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not ready',
      checks: Object.fromEntries(results.map((result) => [result.name, result.ok ? 'ok' : 'failing'])),
    });
  });
  // Metrics name routes, queues and error rates: readable by operators (Prometheus sends an API key).
  const metricsOptions = { schema: { tags: ['operations'] }, config: { permission: 'metrics:read' } };
  app.get('/metrics', metricsOptions, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metricsText(metrics)),
  );
}
