import { announceOutboxCommit, createEvent } from '@switchyard/bus';
import { CACHE_TTL_SECONDS, cacheKeys } from '@switchyard/cache';
import {
  type Channel,
  ChannelSchema,
  NOTIFICATIONS_TOPIC,
  PRIORITIES,
  type Priority,
  type ServiceDeps,
} from '@switchyard/contracts';
import { createCoalescer, type HttpApp, HttpProblem, problems, withTransaction } from '@switchyard/kernel';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import {
  bodyHash,
  decodeRequestCursor,
  encodeRequestCursor,
  MAX_RECIPIENTS,
  planDeliveries,
  REQUEST_ID_PATTERN,
  REQUEST_STATUSES,
} from './domain.ts';
import type { LiveInbox } from './live.ts';
import { type StatusView, statusCache } from './status.ts';
import {
  cancelRequest,
  findRequest,
  findRequestByIdempotencyKey,
  insertRequests,
  listInbox,
  listRequests,
  markInbox,
  type NewRequest,
  type StoredRequest,
  unreadCount,
} from './store.ts';

const SOURCE = '/switchyard/notifications';

const RecipientSchema = Type.Object(
  {
    user_id: Type.Optional(Type.String({ format: 'uuid' })),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
    phone: Type.Optional(
      Type.String({ pattern: '^\\+[1-9]\\d{6,14}$', description: 'E.164, e.g. +4915112345678' }),
    ),
    push_token: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    webhook_url: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

const SendBody = Type.Object(
  {
    request_id: Type.Optional(
      Type.String({ pattern: REQUEST_ID_PATTERN, description: 'Yours; also an idempotency key' }),
    ),
    recipients: Type.Array(RecipientSchema, { minItems: 1, maxItems: MAX_RECIPIENTS }),
    channels: Type.Array(ChannelSchema, { minItems: 1, maxItems: 5, uniqueItems: true }),
    template_code: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'The template for every channel' }),
    ),
    templates: Type.Optional(
      Type.Partial(
        Type.Object(
          {
            email: Type.String({ minLength: 1, maxLength: 100 }),
            push: Type.String({ minLength: 1, maxLength: 100 }),
            sms: Type.String({ minLength: 1, maxLength: 100 }),
            in_app: Type.String({ minLength: 1, maxLength: 100 }),
            webhook: Type.String({ minLength: 1, maxLength: 100 }),
          },
          { additionalProperties: false },
        ),
        { description: 'A template per channel, overriding template_code for that channel' },
      ),
    ),
    content: Type.Optional(
      Type.Object(
        {
          subject: Type.Optional(Type.String({ maxLength: 998 })),
          text: Type.String({ minLength: 1, maxLength: 100_000 }),
          html: Type.Optional(Type.String({ maxLength: 500_000 })),
        },
        { additionalProperties: false },
      ),
    ),
    variables: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    language: Type.Optional(Type.String({ minLength: 2, maxLength: 35 })),
    priority: Type.Optional(Type.Enum(PRIORITIES)),
    category: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9._:-]*$', maxLength: 64 })),
    scheduled_at: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);
type SendBodyType = {
  request_id?: string;
  recipients: {
    user_id?: string;
    email?: string;
    phone?: string;
    push_token?: string;
    webhook_url?: string;
  }[];
  channels: Channel[];
  template_code?: string;
  templates?: Partial<Record<Channel, string>>;
  content?: { subject?: string; text: string; html?: string };
  variables?: Record<string, unknown>;
  language?: string;
  priority?: Priority;
  category?: string;
  scheduled_at?: string;
};

const Accepted = Type.Object({
  request_id: Type.String(),
  status: Type.String(),
  deliveries: Type.Integer(),
  scheduled_at: Type.Union([Type.String(), Type.Null()]),
});
type AcceptedType = { request_id: string; status: string; deliveries: number; scheduled_at: string | null };

const RequestStatusSchema = Type.Enum(REQUEST_STATUSES, {
  description:
    'scheduled (waits for scheduled_at), pending (deliveries under way), sent, delivered, failed, partially_failed, skipped or cancelled',
});
const Nullable = (options: { format?: string; description?: string } = {}) =>
  Type.Union([Type.String(options), Type.Null()]);

/** What both the status view and a list row say about a request first. */
const RequestHeadFields = {
  request_id: Type.String(),
  status: RequestStatusSchema,
  priority: Type.String(),
  category: Nullable(),
  channels: Type.Array(Type.String()),
  template_code: Nullable(),
};

const StatusViewSchema = Type.Object({
  ...RequestHeadFields,
  created_at: Type.String({ format: 'date-time' }),
  scheduled_at: Nullable({ format: 'date-time' }),
  deliveries: Type.Array(
    Type.Object({
      id: Type.String(),
      recipient_index: Type.Integer({ description: 'Which recipient of the request, from 0' }),
      user_id: Nullable(),
      address: Nullable({ description: 'The direct address, when no user id was given' }),
      channel: Type.String(),
      status: Type.String({
        description: 'pending, sent, delivered, failed, skipped or cancelled',
      }),
      reason: Nullable(),
      not_before: Nullable({ format: 'date-time', description: 'Held by quiet hours until' }),
      provider: Nullable(),
      attempts: Type.Array(
        Type.Object({
          attempt: Type.Integer(),
          at: Type.String({ format: 'date-time' }),
          provider: Type.String(),
          outcome: Type.String({ description: 'sent, delivered, failed, retrying or cancelled' }),
          error: Nullable(),
          provider_message_id: Nullable(),
        }),
      ),
    }),
  ),
});

const RequestSummarySchema = Type.Object({
  ...RequestHeadFields,
  subject: Nullable({ description: 'The subject of inline content' }),
  recipients: Type.Integer(),
  deliveries: Type.Integer(),
  created_by: Nullable(),
  created_at: Type.String({ format: 'date-time' }),
  scheduled_at: Nullable({ format: 'date-time' }),
});

const ListQuery = Type.Object(
  {
    status: Type.Optional(RequestStatusSchema),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 512, description: 'X-Next-Cursor of the previous page' })),
  },
  { additionalProperties: false },
);

const RequestParams = Type.Object({ request_id: Type.String({ pattern: REQUEST_ID_PATTERN }) });
const InboxParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

interface IdempotencyRecord {
  hash: string;
  response: AcceptedType;
}

function acceptedOf(request: StoredRequest, deliveries: number): AcceptedType {
  return {
    request_id: request.request_id,
    status: request.status === 'scheduled' ? 'scheduled' : 'pending',
    deliveries,
    scheduled_at: request.scheduled_at ? new Date(request.scheduled_at).toISOString() : null,
  };
}

function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers['idempotency-key'];
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(header)) {
    throw problems.validation(
      [{ field: 'idempotency-key', in: 'header', reason: 'must be 1 to 255 visible ASCII characters' }],
      'The Idempotency-Key header is invalid',
    );
  }
  return header;
}

/** The template of each channel, or undefined when the request gives none (inline content). */
function templateCodes(body: SendBodyType): Record<string, string> | undefined {
  if (body.template_code === undefined && body.templates === undefined) return undefined;
  const codes: Record<string, string> = {};
  for (const channel of body.channels) {
    const code = body.templates?.[channel] ?? body.template_code;
    if (code === undefined) {
      throw problems.validation([
        { field: `templates.${channel}`, in: 'body', reason: 'names no template for this channel' },
      ]);
    }
    codes[channel] = code;
  }
  return codes;
}

function stringEntries(query: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(query)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [key, String(value)]),
  );
}

function reused(): HttpProblem {
  return new HttpProblem(
    422,
    'idempotency-key-reused',
    'Unprocessable Content',
    'This idempotency key (or request_id) was used with a different body',
  );
}

/**
 * Stores accepted requests. Those that arrive while a write is in flight go together in the next one:
 * one statement and one commit for many requests under load, at once for a lone one. Each caller hears
 * whether its request was written (false: its id or idempotency key was taken); if a shared write
 * fails, each request is tried on its own so one bad row cannot fail its neighbours.
 */
function createAcceptWriter(deps: ServiceDeps) {
  return createCoalescer<NewRequest, boolean | Error>(
    async (items) => {
      const settle = async (given: NewRequest[]) => {
        const written = await insertRequests(deps.db, given);
        if (given.some((item) => item.event && written.has(item.request.request_id)))
          announceOutboxCommit(NOTIFICATIONS_TOPIC);
        return given.map((item) => written.has(item.request.request_id));
      };
      try {
        return await settle(items);
      } catch (error) {
        if (items.length === 1) return [error instanceof Error ? error : new Error(String(error))];
        return Promise.all(
          items.map((item) =>
            settle([item]).then(
              ([written]) => written ?? false,
              (single: unknown) => (single instanceof Error ? single : new Error(String(single))),
            ),
          ),
        );
      }
    },
    { maxItems: ACCEPT_BATCH_MAX },
  );
}

/** Requests stored in one statement at most (bulk requests carry up to 1,000 deliveries each). */
const ACCEPT_BATCH_MAX = 100;

export function registerNotificationRoutes(app: HttpApp, deps: ServiceDeps, live: LiveInbox): void {
  const statuses = statusCache(deps);
  const accept = createAcceptWriter(deps);
  const tags = ['notifications'];
  // Open streams would hold the server's close forever; end them first.
  app.addHook('preClose', async () => live.close());

  async function validateContent(body: SendBodyType): Promise<void> {
    const codes = templateCodes(body);
    if ((codes === undefined) === (body.content === undefined)) {
      throw problems.validation([
        {
          field: 'template_code',
          in: 'body',
          reason: 'give content, or a template for every channel (template_code or templates), not both',
        },
      ]);
    }
    if (codes) {
      const templates = deps.clients.templates;
      if (!templates)
        throw new Error('the notifications service needs the templates service in the same process');
      // Rendering now names missing variables at send time (422), not as a failed delivery later.
      for (const code of new Set(Object.values(codes))) {
        await templates.render({ code, language: body.language ?? 'en', variables: body.variables ?? {} });
      }
    }
  }

  async function answerExisting(
    key: { idempotencyKey?: string | undefined; requestId?: string | undefined },
    hash: string,
  ): Promise<AcceptedType> {
    const existing = key.idempotencyKey
      ? await findRequestByIdempotencyKey(deps.db, key.idempotencyKey)
      : key.requestId
        ? await findRequest(deps.db, key.requestId)
        : undefined;
    if (!existing) {
      throw problems.conflict('request_id is taken by a request sent with another idempotency key');
    }
    if (existing.body_hash !== hash) throw reused();
    const view = await statuses.get(existing.request_id);
    return acceptedOf(existing, view?.deliveries.length ?? 0);
  }

  app.post(
    '/api/v1/notifications',
    {
      schema: {
        tags,
        summary:
          'Notify recipients on channels; stored before the 202, delivered once per recipient and channel',
        body: SendBody,
        response: { 202: Accepted },
      },
      config: { permission: 'notifications:send' },
    },
    async (request, reply) => {
      const body = request.body as SendBodyType;
      const idempotencyKey = idempotencyKeyOf(request) ?? body.request_id;
      const hash = bodyHash(body);
      const cacheKey = idempotencyKey ? cacheKeys.idempotency(idempotencyKey) : undefined;
      if (cacheKey) {
        const known = await deps.cache.get<IdempotencyRecord>(cacheKey).catch(() => undefined);
        if (known) {
          if (known.hash !== hash) throw reused();
          return reply.code(202).send(known.response);
        }
      }
      await validateContent(body);

      const now = deps.clock();
      const scheduledAt = body.scheduled_at ? new Date(body.scheduled_at) : null;
      const scheduled = scheduledAt !== null && scheduledAt.getTime() > now.getTime();
      const stored: StoredRequest = {
        request_id: body.request_id ?? deps.ids(),
        idempotency_key: idempotencyKey ?? null,
        body_hash: hash,
        status: scheduled ? 'scheduled' : 'accepted',
        priority: body.priority ?? 'normal',
        category: body.category ?? null,
        template_code: body.template_code ?? null,
        templates: templateCodes(body) ?? null,
        language: body.language ?? null,
        variables: body.variables ?? {},
        content: body.content ?? null,
        channels: body.channels,
        scheduled_at: scheduledAt,
        created_by: request.identity?.userId ?? null,
        created_at: now,
      };
      const planned = planDeliveries(body.recipients, body.channels).map((delivery) => ({
        ...delivery,
        id: deps.ids(),
      }));
      const event = scheduled
        ? undefined
        : createEvent(
            {
              type: 'notification.requested',
              subject: stored.request_id,
              data: { request_id: stored.request_id },
            },
            { correlationId: request.id },
            { ...deps, source: SOURCE },
          );
      const inserted = await accept.add({ request: stored, deliveries: planned, event });
      if (inserted instanceof Error) throw inserted;
      const response = inserted
        ? acceptedOf(stored, planned.length)
        : await answerExisting({ idempotencyKey, requestId: body.request_id }, hash);
      if (cacheKey) {
        await deps.cache
          .set(cacheKey, { hash, response } satisfies IdempotencyRecord, CACHE_TTL_SECONDS.idempotency)
          .catch(() => {});
      }
      return reply
        .code(202)
        .header('location', `/api/v1/notifications/${encodeURIComponent(response.request_id)}`)
        .send(response);
    },
  );

  app.get(
    '/api/v1/notifications',
    {
      schema: {
        tags,
        summary: 'List notification requests, newest first, with their status',
        querystring: ListQuery,
        response: { 200: Type.Array(RequestSummarySchema) },
      },
      config: { permission: 'notifications:read' },
    },
    async (request, reply) => {
      const { status, cursor } = request.query;
      const limit = request.query.limit ?? 50;
      const after = cursor ? decodeRequestCursor(cursor) : undefined;
      const page = (await listRequests(deps.db, { status, after, limit })).map((row) => ({
        ...row,
        created_at: new Date(row.created_at).toISOString(),
        scheduled_at: row.scheduled_at ? new Date(row.scheduled_at).toISOString() : null,
      }));
      const last = page.at(-1);
      if (last && page.length === limit) {
        const next = encodeRequestCursor(last);
        const query = new URLSearchParams({ ...stringEntries(request.query), cursor: next });
        reply.header('x-next-cursor', next).header('link', `</api/v1/notifications?${query}>; rel="next"`);
      }
      return page;
    },
  );

  app.get(
    '/api/v1/notifications/:request_id',
    {
      schema: {
        tags,
        summary: 'Status per recipient and channel, with every attempt',
        params: RequestParams,
        response: { 200: StatusViewSchema },
      },
      config: { permission: 'notifications:read' },
    },
    async (request) => {
      const view = await statuses.get(request.params.request_id);
      if (!view) throw problems.notFound('notification request', request.params.request_id);
      return view satisfies StatusView;
    },
  );

  app.delete(
    '/api/v1/notifications/:request_id',
    {
      schema: {
        tags,
        summary: 'Cancel what has not been sent yet',
        params: RequestParams,
        response: { 200: Type.Object({ request_id: Type.String(), cancelled: Type.Integer() }) },
      },
      config: { permission: 'notifications:send' },
    },
    async (request) => {
      const requestId = request.params.request_id;
      const cancelled = await withTransaction(deps.db, async (tx) => {
        const found = await findRequest(tx, requestId, true);
        if (!found) throw problems.notFound('notification request', requestId);
        return cancelRequest(tx, requestId, deps.clock());
      });
      // Work already queued is checked against this mark by the delivery workers before they send.
      await deps.cache
        .set(cacheKeys.notificationCancelled(requestId), true, CACHE_TTL_SECONDS.notificationStatus)
        .catch(() => {});
      await statuses.invalidate([requestId]);
      return { request_id: requestId, cancelled };
    },
  );

  registerInboxRoutes(app, deps, live);
}

const InboxItemSchema = Type.Object({
  id: Type.String(),
  request_id: Type.Union([Type.String(), Type.Null()]),
  title: Type.Union([Type.String(), Type.Null()]),
  body: Type.String(),
  data: Type.Record(Type.String(), Type.String()),
  category: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  read_at: Type.Union([Type.String(), Type.Null()]),
  archived_at: Type.Union([Type.String(), Type.Null()]),
});

function userOf(request: FastifyRequest): string {
  const identity = request.identity;
  if (!identity) throw new HttpProblem(401, 'unauthenticated', 'Unauthorized', 'Sign in first');
  return identity.userId;
}

function encodeInboxCursor(item: { created_at: Date; id: string }): string {
  return Buffer.from(JSON.stringify([new Date(item.created_at).toISOString(), item.id])).toString(
    'base64url',
  );
}

function decodeInboxCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const date = new Date(createdAt);
    if (Number.isNaN(date.getTime()) || !/^[0-9a-f-]{36}$/.test(id)) throw new Error('bad cursor');
    return { createdAt: date, id };
  } catch {
    throw problems.validation([
      { field: 'cursor', in: 'query', reason: 'is not a cursor this API gave out' },
    ]);
  }
}

function registerInboxRoutes(app: HttpApp, deps: ServiceDeps, live: LiveInbox): void {
  const tags = ['inbox'];

  app.get(
    '/api/v1/inbox',
    {
      schema: {
        tags,
        summary: "The caller's in-app notifications, newest first",
        querystring: Type.Object(
          {
            unread: Type.Optional(Type.Boolean()),
            archived: Type.Optional(Type.Boolean()),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
            cursor: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(InboxItemSchema) },
      },
      config: { permission: 'inbox:read' },
    },
    async (request, reply) => {
      const limit = request.query.limit ?? 20;
      const items = await listInbox(deps.db, userOf(request), {
        unreadOnly: request.query.unread ?? false,
        archived: request.query.archived ?? false,
        limit,
        before: request.query.cursor ? decodeInboxCursor(request.query.cursor) : undefined,
      });
      const last = items.at(-1);
      if (last && items.length === limit) reply.header('x-next-cursor', encodeInboxCursor(last));
      return items.map(inboxView);
    },
  );

  app.get(
    '/api/v1/inbox/unread-count',
    {
      schema: {
        tags,
        summary: 'How many unread, unarchived items',
        response: { 200: Type.Object({ unread: Type.Integer() }) },
      },
      config: { permission: 'inbox:read' },
    },
    async (request) => ({ unread: await unreadCount(deps.db, userOf(request)) }),
  );

  for (const change of ['read', 'unread', 'archive'] as const) {
    app.post(
      `/api/v1/inbox/:id/${change}`,
      {
        schema: {
          tags,
          summary: `Mark one item ${change === 'archive' ? 'archived' : change}`,
          params: InboxParams,
          response: { 204: Type.Null() },
        },
        config: { permission: 'inbox:write' },
      },
      async (request, reply) => {
        const changed = await markInbox(deps.db, userOf(request), change, deps.clock(), request.params.id);
        if (changed === 0) throw problems.notFound('inbox item', request.params.id);
        return reply.code(204).send(null);
      },
    );
  }

  app.post(
    '/api/v1/inbox/read-all',
    {
      schema: {
        tags,
        summary: 'Mark every item read',
        response: { 200: Type.Object({ marked: Type.Integer() }) },
      },
      config: { permission: 'inbox:write' },
    },
    async (request) => ({ marked: await markInbox(deps.db, userOf(request), 'read', deps.clock()) }),
  );

  app.get(
    '/api/v1/inbox/stream',
    {
      schema: { tags, summary: 'New in-app notifications as they arrive (Server-Sent Events)' },
      config: { permission: 'inbox:read' },
    },
    async (request, reply) => {
      await live.stream(userOf(request), request, reply);
      return reply;
    },
  );
}

export function inboxView(item: {
  id: string;
  request_id: string | null;
  title: string | null;
  body: string;
  data: Record<string, string>;
  category: string | null;
  created_at: Date;
  read_at: Date | null;
  archived_at: Date | null;
}) {
  return {
    id: item.id,
    request_id: item.request_id,
    title: item.title,
    body: item.body,
    data: item.data,
    category: item.category,
    created_at: new Date(item.created_at).toISOString(),
    read_at: item.read_at ? new Date(item.read_at).toISOString() : null,
    archived_at: item.archived_at ? new Date(item.archived_at).toISOString() : null,
  };
}
