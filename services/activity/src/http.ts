import { appendToOutbox, createEvent } from '@switchyard/bus';
import type { ServiceDeps } from '@switchyard/contracts';
import {
  type FieldError,
  type HttpApp,
  HttpProblem,
  problems,
  type Queryable,
  withTransaction,
} from '@switchyard/kernel';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import {
  ACTIVITY_EVENT_TYPE,
  ACTIVITY_TOPIC,
  type ActivityEvent,
  type ActivityProblem,
  bucketCount,
  checkActivityInput,
  MAX_STATS_BUCKETS,
  messageOf,
  newActivityEvent,
  STATS_INTERVALS,
  type StatsInterval,
} from './domain.ts';
import { eventStats, queryEvents } from './store.ts';

const MAX_BATCH = 1_000;
const SOURCE = '/switchyard/activity';

const EventSchema = Type.Object({
  eventId: Type.String({ format: 'uuid' }),
  userId: Type.String(),
  eventType: Type.String(),
  timestamp: Type.String({ format: 'date-time' }),
  payload: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
const ProcessedSchema = Type.Object({
  ...EventSchema.properties,
  processedAt: Type.String({ format: 'date-time' }),
});
const Accepted = Type.Object({ success: Type.Literal(true), event: EventSchema });
const Refused = Type.Object({ success: Type.Literal(false), errors: Type.Array(Type.String()) });
const SourceBody = Type.Unknown({
  description:
    '{ userId: string (1–256), eventType: one of the configured types, payload?: object (≤ 64 KB) }',
});
const ListQuery = Type.Object(
  {
    userId: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    eventType: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 1_000 })),
    cursor: Type.Optional(Type.String({ maxLength: 64 })),
    order: Type.Optional(
      Type.Union([Type.Literal('asc'), Type.Literal('desc')], {
        default: 'asc',
        description: 'asc: processing order; desc: newest first (a cursor then continues with older events)',
      }),
    ),
  },
  { additionalProperties: false },
);
/**
 * On event lists: the cursor of the newest event of the page. Passed back as `cursor` (in processing
 * order) it asks only for events processed since, which is how a live view polls.
 */
const NEWEST_CURSOR_HEADER = 'x-newest-cursor';
const StatsSchema = Type.Object({
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  interval: Type.Enum([...STATS_INTERVALS]),
  eventTypes: Type.Array(Type.String(), { description: 'The event types this installation accepts' }),
  buckets: Type.Array(
    Type.Object({
      start: Type.String({ format: 'date-time' }),
      counts: Type.Record(Type.String(), Type.Integer(), { description: 'Events per type' }),
    }),
    { description: 'Buckets with no events are left out' },
  ),
});

function decodeCursor(cursor: string | undefined): bigint | undefined {
  if (cursor === undefined) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^\d{1,19}$/.test(text)) {
    throw problems.validation([
      { field: 'cursor', in: 'query', reason: 'is not a cursor returned by this API' },
    ]);
  }
  return BigInt(text);
}

const encodeCursor = (seq: bigint) => Buffer.from(seq.toString()).toString('base64url');

function fieldErrors(found: ActivityProblem[], part: FieldError['in'], prefix = ''): FieldError[] {
  return found.map((problem) => ({ field: `${prefix}${problem.field}`, in: part, reason: problem.reason }));
}

/** Source D's answer shapes, for its own paths: `{success:false, errors:[…]}` and `{success:false, error}`. */
function sourceErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const status = error instanceof HttpProblem ? error.status : (error.statusCode ?? 500);
  if (status >= 500) {
    request.log.error({ err: error }, 'activity event not stored');
    return reply
      .code(500)
      .send({ success: false, error: 'The event could not be stored; nothing was recorded' });
  }
  const message =
    error instanceof HttpProblem
      ? (error.problem.errors ?? []).map((each) => `${each.field} ${each.reason}`)
      : error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? ['Content-Type must be application/json']
        : error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? ['Request body is too large']
          : ['Request body must be valid JSON'];
  return reply.code(status).send({ success: false, errors: message });
}

export interface ActivityRoutesOptions {
  eventTypes: readonly string[];
}

export function registerActivityRoutes(
  app: HttpApp,
  deps: ServiceDeps,
  options: ActivityRoutesOptions,
): void {
  const tags = ['activity'];

  /** Commits the events to the outbox (topic user-activity-events, key userId) before anyone is told. */
  async function publish(tx: Queryable, events: ActivityEvent[], origin: { correlationId: string }) {
    const envelopes = events.map((event) =>
      createEvent(
        { type: ACTIVITY_EVENT_TYPE, subject: event.userId, data: event, partitionKey: event.userId },
        origin,
        { clock: deps.clock, ids: () => event.eventId, source: SOURCE },
      ),
    );
    await appendToOutbox(tx, ACTIVITY_TOPIC, envelopes, (envelope) => ({
      'event-type': (envelope.data as ActivityEvent).eventType,
      'event-id': envelope.id,
    }));
  }

  async function accept(
    body: unknown,
    request: FastifyRequest,
    problemPart: FieldError['in'],
  ): Promise<ActivityEvent> {
    const checked = checkActivityInput(body, options.eventTypes);
    if ('problems' in checked) throw problems.validation(fieldErrors(checked.problems, problemPart));
    const event = newActivityEvent(checked.input, deps.ids(), deps.clock());
    await withTransaction(deps.db, (tx) => publish(tx, [event], { correlationId: request.id }));
    return event;
  }

  app.post(
    '/events/generate',
    {
      schema: {
        tags,
        summary: "Source D's ingest: 201 {success, event} / 400 {success, errors}",
        body: SourceBody,
        response: { 201: Accepted, 400: Refused },
      },
      config: { permission: 'activity:write' },
      errorHandler: sourceErrorHandler,
    },
    async (request, reply) => {
      const checked = checkActivityInput(request.body, options.eventTypes);
      if ('problems' in checked) {
        return reply.code(400).send({ success: false, errors: checked.problems.map(messageOf) });
      }
      const event = newActivityEvent(checked.input, deps.ids(), deps.clock());
      await withTransaction(deps.db, (tx) => publish(tx, [event], { correlationId: request.id }));
      return reply.code(201).send({ success: true, event });
    },
  );

  app.post(
    '/api/v1/activity/events',
    {
      schema: { tags, summary: 'Record one activity event', body: SourceBody, response: { 201: Accepted } },
      config: { permission: 'activity:write' },
    },
    async (request, reply) =>
      reply.code(201).send({ success: true, event: await accept(request.body, request, 'body') }),
  );

  app.post(
    '/api/v1/activity/events::batch',
    {
      schema: {
        tags,
        summary: `Record up to ${MAX_BATCH} events; each gets its own result, the valid ones are stored together`,
        body: Type.Object(
          { events: Type.Array(Type.Unknown(), { minItems: 1, maxItems: MAX_BATCH }) },
          { additionalProperties: false },
        ),
      },
      config: { permission: 'activity:write' },
    },
    async (request) => {
      const now = deps.clock();
      const results = request.body.events.map((body, index) => {
        const checked = checkActivityInput(body, options.eventTypes);
        return 'problems' in checked
          ? { index, success: false as const, errors: checked.problems.map(messageOf) }
          : { index, success: true as const, event: newActivityEvent(checked.input, deps.ids(), now) };
      });
      const accepted = results.flatMap((result) => (result.success ? [result.event] : []));
      if (accepted.length > 0) {
        await withTransaction(deps.db, (tx) => publish(tx, accepted, { correlationId: request.id }));
      }
      return { accepted: accepted.length, rejected: results.length - accepted.length, results };
    },
  );

  for (const path of ['/events/processed', '/api/v1/activity/events']) {
    app.get(
      path,
      {
        schema: {
          tags,
          summary: 'Processed events in processing order; the next page is in Link: rel="next"',
          querystring: ListQuery,
          response: { 200: Type.Array(ProcessedSchema) },
        },
        config: { permission: 'activity:read' },
      },
      async (request, reply) => {
        const { userId, eventType, from, to, cursor, order } = request.query;
        const limit = request.query.limit ?? 1_000;
        const afterSeq = decodeCursor(cursor);
        const page = await queryEvents(deps.db, {
          limit,
          newestFirst: order === 'desc',
          ...(userId !== undefined ? { userId } : {}),
          ...(eventType !== undefined ? { eventType } : {}),
          ...(from !== undefined ? { from: new Date(from) } : {}),
          ...(to !== undefined ? { to: new Date(to) } : {}),
          ...(afterSeq !== undefined ? { afterSeq } : {}),
        });
        if (page.nextSeq !== undefined) {
          const next = new URLSearchParams(
            Object.entries({ ...request.query, cursor: encodeCursor(page.nextSeq) }).map(
              ([key, value]): [string, string] => [key, String(value)],
            ),
          );
          reply.header('link', `<${path}?${next}>; rel="next"`);
        }
        if (page.newestSeq !== undefined) reply.header(NEWEST_CURSOR_HEADER, encodeCursor(page.newestSeq));
        return page.events;
      },
    );
  }

  app.get(
    '/api/v1/activity/users/:userId/events',
    {
      schema: {
        tags,
        summary: "A user's timeline, newest first",
        params: Type.Object({ userId: Type.String({ minLength: 1, maxLength: 256 }) }),
        querystring: Type.Object(
          {
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000, default: 100 })),
            cursor: Type.Optional(Type.String({ maxLength: 64 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(ProcessedSchema) },
      },
      config: { permission: 'activity:read' },
    },
    async (request, reply) => {
      const afterSeq = decodeCursor(request.query.cursor);
      const page = await queryEvents(deps.db, {
        userId: request.params.userId,
        newestFirst: true,
        limit: request.query.limit ?? 100,
        ...(afterSeq !== undefined ? { afterSeq } : {}),
      });
      if (page.nextSeq !== undefined) reply.header('x-next-cursor', encodeCursor(page.nextSeq));
      return page.events;
    },
  );

  app.get(
    '/api/v1/activity/stats',
    {
      schema: {
        tags,
        summary: 'Events per type per interval (default: the last 24 hours by hour)',
        querystring: Type.Object(
          {
            from: Type.Optional(Type.String({ format: 'date-time' })),
            to: Type.Optional(Type.String({ format: 'date-time' })),
            interval: Type.Optional(Type.Enum([...STATS_INTERVALS], { default: 'hour' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: StatsSchema },
      },
      config: { permission: 'activity:read' },
    },
    async (request) => {
      const to = request.query.to ? new Date(request.query.to) : deps.clock();
      const from = request.query.from ? new Date(request.query.from) : new Date(to.getTime() - 86_400_000);
      const interval = (request.query.interval ?? 'hour') as StatsInterval;
      if (from >= to)
        throw problems.validation([{ field: 'from', in: 'query', reason: 'must be before to' }]);
      if (bucketCount(from, to, interval) > MAX_STATS_BUCKETS) {
        throw problems.validation([
          {
            field: 'interval',
            in: 'query',
            reason: `gives more than ${MAX_STATS_BUCKETS} buckets for this range; widen it`,
          },
        ]);
      }
      return {
        from: from.toISOString(),
        to: to.toISOString(),
        interval,
        eventTypes: [...options.eventTypes],
        buckets: await eventStats(deps.db, from, to, interval),
      };
    },
  );
}
