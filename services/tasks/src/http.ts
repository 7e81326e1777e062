import {
  announceOutboxCommit,
  appendToOutbox,
  createEvent,
  type EventOrigin,
  outboxInsert,
} from '@switchyard/bus';
import {
  can,
  DESCRIPTION_MAX_LENGTH,
  type ServiceDeps,
  TASK_EVENTS_TOPIC,
  type Task,
  type TaskChanges,
  type TaskEventData,
  type TaskEventType,
  TaskSchema,
  TaskStatusSchema,
  TITLE_MAX_LENGTH,
} from '@switchyard/contracts';
import { type HttpApp, problems, type Queryable, withTransaction } from '@switchyard/kernel';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import {
  applyPatch,
  decodeCursor,
  encodeCursor,
  newTask,
  ownerScope,
  parseSort,
  visibleTo,
} from './domain.ts';
import { deleteTask, findTask, insertTaskWithEvent, listTasks, updateTask } from './store.ts';

const Title = Type.String({ minLength: 1, maxLength: TITLE_MAX_LENGTH });
const Description = Type.Union([Type.String({ maxLength: DESCRIPTION_MAX_LENGTH }), Type.Null()]);

const CreateTaskBody = Type.Object(
  { title: Title, description: Type.Optional(Description), status: Type.Optional(TaskStatusSchema) },
  { additionalProperties: false },
);
const UpdateTaskBody = Type.Object(
  {
    title: Type.Optional(Title),
    description: Type.Optional(Description),
    status: Type.Optional(TaskStatusSchema),
  },
  { additionalProperties: false, minProperties: 1 },
);
const TaskParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const ListQuery = Type.Object(
  {
    status: Type.Optional(TaskStatusSchema),
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: TITLE_MAX_LENGTH,
        description: 'Only tasks whose title contains this text (case-insensitive)',
      }),
    ),
    sort: Type.Optional(
      Type.String({
        description: 'created_at, updated_at or title; prefix with - for descending (default -created_at)',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(
      Type.String({ maxLength: 2048, description: 'X-Next-Cursor of the previous page' }),
    ),
  },
  { additionalProperties: false },
);
const TaskList = Type.Array(TaskSchema);

/** Source B's paths, kept as aliases of the canonical `/api/v1` ones. */
const PREFIXES = [
  { path: '/api/v1/tasks', hide: false },
  { path: '/api/tasks', hide: true },
];
const SOURCE = '/switchyard/tasks';

function originOf(request: FastifyRequest): EventOrigin {
  const traceparent = request.headers.traceparent;
  return {
    correlationId: request.id,
    ...(typeof traceparent === 'string' && /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/.test(traceparent)
      ? { traceparent }
      : {}),
  };
}

/** The owner a caller is limited to, or undefined when they see every task. */
function scopeOf(request: FastifyRequest): string | undefined {
  const identity = request.identity;
  return ownerScope(identity, identity !== undefined && can(identity.role, 'tasks:all'));
}

function notBlank(title: string | undefined): void {
  if (title !== undefined && title.trim() === '') {
    throw problems.validation(
      [{ field: 'title', in: 'body', reason: 'must not be blank' }],
      'The request body has invalid fields',
    );
  }
}

export function registerTaskRoutes(app: HttpApp, deps: ServiceDeps): void {
  function taskEvent(type: TaskEventType, task: Task, origin: EventOrigin, changes?: TaskChanges) {
    const data: TaskEventData = { task, ...(changes ? { changes } : {}) };
    return createEvent({ type, subject: task.id, data }, origin, { ...deps, source: SOURCE });
  }

  async function emit(
    tx: Queryable,
    type: TaskEventType,
    task: Task,
    origin: EventOrigin,
    changes?: TaskChanges,
  ) {
    await appendToOutbox(tx, TASK_EVENTS_TOPIC, [taskEvent(type, task, origin, changes)]);
  }

  for (const { path, hide } of PREFIXES) {
    const tags = ['tasks'];

    app.get(
      path,
      {
        schema: { hide, tags, summary: 'List tasks', querystring: ListQuery, response: { 200: TaskList } },
        config: { permission: 'tasks:read' },
      },
      async (request, reply) => {
        const sort = parseSort(request.query.sort);
        const after = request.query.cursor ? decodeCursor(request.query.cursor, sort) : undefined;
        const limit = request.query.limit ?? 50;
        const owner = scopeOf(request);
        const tasks = await listTasks(deps.db, {
          sort,
          limit,
          ...(owner ? { ownerId: owner } : {}),
          ...(request.query.status ? { status: request.query.status } : {}),
          ...(request.query.q ? { titleContains: request.query.q } : {}),
          ...(after ? { after } : {}),
        });
        const last = tasks.at(-1);
        if (last && tasks.length === limit) {
          const cursor = encodeCursor(sort, last);
          const next = new URLSearchParams({ ...stringEntries(request.query), cursor });
          reply.header('x-next-cursor', cursor).header('link', `<${path}?${next}>; rel="next"`);
        }
        return tasks;
      },
    );

    app.get(
      `${path}/:id`,
      {
        schema: { hide, tags, summary: 'Get a task', params: TaskParams, response: { 200: TaskSchema } },
        config: { permission: 'tasks:read' },
      },
      async (request) => {
        const task = await findTask(deps.db, request.params.id);
        if (!task || !visibleTo(task, scopeOf(request))) throw problems.notFound('task', request.params.id);
        return task;
      },
    );

    app.post(
      path,
      {
        schema: { hide, tags, summary: 'Create a task', body: CreateTaskBody, response: { 201: TaskSchema } },
        config: { permission: 'tasks:write' },
      },
      async (request, reply) => {
        notBlank(request.body.title);
        const task = newTask(request.body, deps.ids(), deps.clock(), request.identity?.userId ?? null);
        // The row and its event in one statement: atomic, and one round trip instead of four.
        const event = taskEvent('task.created', task, originOf(request));
        await insertTaskWithEvent(deps.db, task, outboxInsert(TASK_EVENTS_TOPIC, [event], 8));
        announceOutboxCommit(TASK_EVENTS_TOPIC);
        return reply.code(201).header('location', `/api/v1/tasks/${task.id}`).send(task);
      },
    );

    app.put(
      `${path}/:id`,
      {
        schema: {
          hide,
          tags,
          summary: 'Update a task (fields left out stay as they are)',
          params: TaskParams,
          body: UpdateTaskBody,
          response: { 200: TaskSchema },
        },
        config: { permission: 'tasks:write' },
      },
      async (request) => {
        notBlank(request.body.title);
        return withTransaction(deps.db, async (tx) => {
          const current = await findTask(tx, request.params.id, { forUpdate: true });
          if (!current || !visibleTo(current, scopeOf(request))) {
            throw problems.notFound('task', request.params.id);
          }
          const updated = applyPatch(current, request.body, deps.clock());
          if (!updated) return current;
          await updateTask(tx, updated.task);
          await emit(tx, 'task.updated', updated.task, originOf(request), updated.changes);
          return updated.task;
        });
      },
    );

    app.delete(
      `${path}/:id`,
      {
        schema: { hide, tags, summary: 'Delete a task', params: TaskParams, response: { 204: Type.Null() } },
        config: { permission: 'tasks:write' },
      },
      async (request, reply) => {
        await withTransaction(deps.db, async (tx) => {
          const deleted = await deleteTask(tx, request.params.id, scopeOf(request));
          if (!deleted) throw problems.notFound('task', request.params.id);
          await emit(tx, 'task.deleted', deleted, originOf(request));
        });
        return reply.code(204).send(null);
      },
    );
  }
}

function stringEntries(query: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(query)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [key, String(value)]),
  );
}
