import { type HttpApp, type Pool, problems, withTransaction } from '@switchyard/kernel';
import Type, { type Static } from 'typebox';
import {
  type DeadLetterFilter,
  discardDeadLetter,
  getDeadLetter,
  listDeadLetters,
  NotReplayableError,
  replayableIds,
  replayDeadLetter,
} from './dead-letters.ts';

const DeadLetterSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  consumer_group: Type.String(),
  topic: Type.String(),
  event_id: Type.Union([Type.String(), Type.Null()]),
  event_type: Type.Union([Type.String(), Type.Null()]),
  partition_key: Type.Union([Type.String(), Type.Null()]),
  payload: Type.String({ description: 'The message as it arrived' }),
  headers: Type.Record(Type.String(), Type.String()),
  reason: Type.Enum(['handler_failed', 'malformed', 'schema']),
  error: Type.String(),
  stack: Type.Union([Type.String(), Type.Null()]),
  attempts: Type.Integer(),
  first_failed_at: Type.String({ format: 'date-time' }),
  last_failed_at: Type.String({ format: 'date-time' }),
  replayed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  replay_count: Type.Integer(),
});

const FilterFields = {
  topic: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  group: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'last failure at or after' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'last failure before' })),
};
const ListQuery = Type.Object(
  {
    ...FilterFields,
    include_replayed: Type.Optional(Type.Boolean({ default: false })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);
const ReplayFilter = Type.Object(FilterFields, { additionalProperties: false, minProperties: 1 });
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

function toFilter(fields: Static<typeof ReplayFilter>, includeReplayed = false): DeadLetterFilter {
  return {
    ...(fields.topic ? { topic: fields.topic } : {}),
    ...(fields.group ? { group: fields.group } : {}),
    ...(fields.type ? { type: fields.type } : {}),
    ...(fields.from ? { from: new Date(fields.from) } : {}),
    ...(fields.to ? { to: new Date(fields.to) } : {}),
    includeReplayed,
  };
}

/** `/api/v1/dead-letters`: look at what consumers gave up on, replay it or discard it. */
export function registerDeadLetterRoutes(app: HttpApp, pool: Pool): void {
  const tags = ['dead letters'];
  app.get(
    '/api/v1/dead-letters',
    {
      schema: {
        tags,
        summary: 'List dead letters, newest failure first',
        querystring: ListQuery,
        response: { 200: Type.Array(DeadLetterSchema) },
      },
      config: { permission: 'dead-letters:read' },
    },
    async (request) =>
      listDeadLetters(
        pool,
        toFilter(request.query, request.query.include_replayed),
        request.query.limit ?? 100,
      ),
  );

  app.get(
    '/api/v1/dead-letters/:id',
    {
      schema: { tags, summary: 'One dead letter', params: IdParams, response: { 200: DeadLetterSchema } },
      config: { permission: 'dead-letters:read' },
    },
    async (request) => {
      const letter = await getDeadLetter(pool, request.params.id);
      if (!letter) throw problems.notFound('dead letter', request.params.id);
      return letter;
    },
  );

  app.post(
    '/api/v1/dead-letters/:id/replay',
    {
      schema: {
        tags,
        summary: 'Send the event again, with its original id, to the group that gave up on it',
        params: IdParams,
        response: { 200: Type.Object({ id: Type.String(), status: Type.Literal('replayed') }) },
      },
      config: { permission: 'dead-letters:write' },
    },
    async (request) => {
      try {
        const result = await withTransaction(pool, (tx) => replayDeadLetter(tx, request.params.id));
        if (result === 'missing') throw problems.notFound('dead letter', request.params.id);
        return { id: request.params.id, status: 'replayed' as const };
      } catch (error) {
        if (error instanceof NotReplayableError) throw problems.conflict(error.message);
        throw error;
      }
    },
  );

  app.post(
    '/api/v1/dead-letters/replay',
    {
      schema: {
        tags,
        summary: 'Replay every waiting dead letter that matches the filter (at least one field)',
        body: ReplayFilter,
        response: { 200: Type.Object({ replayed: Type.Integer(), ids: Type.Array(Type.String()) }) },
      },
      config: { permission: 'dead-letters:write' },
    },
    async (request) => {
      const ids = await replayableIds(pool, toFilter(request.body));
      await withTransaction(pool, async (tx) => {
        for (const id of ids) await replayDeadLetter(tx, id);
      });
      return { replayed: ids.length, ids };
    },
  );

  app.delete(
    '/api/v1/dead-letters/:id',
    {
      schema: {
        tags,
        summary: 'Discard a dead letter for good',
        params: IdParams,
        response: { 204: Type.Null() },
      },
      config: { permission: 'dead-letters:write' },
    },
    async (request, reply) => {
      if (!(await discardDeadLetter(pool, request.params.id)))
        throw problems.notFound('dead letter', request.params.id);
      return reply.code(204).send(null);
    },
  );
}
