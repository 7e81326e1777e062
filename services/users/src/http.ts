import type { EventOrigin } from '@switchyard/bus';
import {
  CATEGORY_MAX_LENGTH,
  CATEGORY_OPT_OUTS_MAX,
  EMAIL_MAX_LENGTH,
  PreferencesSchema,
  PUSH_TOKEN_MAX_LENGTH,
  RoleSchema,
  type ServiceDeps,
  USER_NAME_MAX_LENGTH,
  UserSchema,
  UserStatusSchema,
} from '@switchyard/contracts';
import {
  type HttpApp,
  HttpProblem,
  hashPassword,
  passwordPolicyViolation,
  problems,
  withTransaction,
} from '@switchyard/kernel';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { UserCache } from './cache.ts';
import {
  applyPatch,
  type Caller,
  checkPatch,
  checkPreferences,
  decodeCursor,
  emailTaken,
  encodeCursor,
  forbidden,
  lastAdmin,
  mayReach,
  newUser,
  refusedFields,
  removesActiveAdmin,
  replacePreferences,
  valid,
} from './domain.ts';
import { appendUserEvents, insertNewUser, updateEvents, userEvent } from './events.ts';
import {
  countActive,
  deleteUser,
  findUser,
  isEmailTaken,
  listUsers,
  lockAdminChanges,
  updateUser,
} from './store.ts';

const Name = Type.String({ minLength: 1, maxLength: USER_NAME_MAX_LENGTH });
const Email = Type.String({ format: 'email', maxLength: EMAIL_MAX_LENGTH });
// Loosely typed here; checkPreferences and the locale check give the reasons a person can act on.
const Locale = Type.String({
  minLength: 1,
  maxLength: 35,
  description: 'BCP 47 language tag, e.g. en or pt-BR',
});
const PushToken = Type.Union([Type.String({ minLength: 1, maxLength: PUSH_TOKEN_MAX_LENGTH }), Type.Null()]);
const QuietHoursBody = Type.Union([
  Type.Object(
    {
      start: Type.String({ maxLength: 16, description: 'HH:MM local time, inclusive' }),
      end: Type.String({
        maxLength: 16,
        description: 'HH:MM local time, exclusive; before start crosses midnight',
      }),
      time_zone: Type.String({ maxLength: 64, description: 'IANA time zone, e.g. Europe/Berlin' }),
    },
    { additionalProperties: false },
  ),
  Type.Null(),
]);
const CategoryOptOuts = Type.Array(Type.String({ maxLength: CATEGORY_MAX_LENGTH }), {
  maxItems: CATEGORY_OPT_OUTS_MAX,
});
const channelFields = {
  email: Type.Boolean(),
  push: Type.Boolean(),
  sms: Type.Boolean(),
  in_app: Type.Boolean(),
  webhook: Type.Boolean(),
  category_opt_outs: CategoryOptOuts,
  quiet_hours: QuietHoursBody,
};

const CreateUserBody = Type.Object(
  {
    name: Name,
    email: Email,
    password: Type.String({ maxLength: 4096, description: 'At least 12 characters, not a common password' }),
    role: Type.Optional(RoleSchema),
    status: Type.Optional(UserStatusSchema),
    locale: Type.Optional(Locale),
    push_token: Type.Optional(PushToken),
    preferences: Type.Optional(Type.Partial(Type.Object(channelFields, { additionalProperties: false }))),
  },
  { additionalProperties: false },
);
const UpdateUserBody = Type.Object(
  {
    name: Type.Optional(Name),
    email: Type.Optional(Email),
    locale: Type.Optional(Locale),
    push_token: Type.Optional(PushToken),
    role: Type.Optional(RoleSchema),
    status: Type.Optional(UserStatusSchema),
  },
  { additionalProperties: false, minProperties: 1 },
);
const PreferencesBody = Type.Object({ ...channelFields, locale: Locale }, { additionalProperties: false });
const UserParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const ListQuery = Type.Object(
  {
    q: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: EMAIL_MAX_LENGTH,
        description: 'Case-insensitive prefix of the name or of the email',
      }),
    ),
    role: Type.Optional(RoleSchema),
    status: Type.Optional(UserStatusSchema),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 512, description: 'X-Next-Cursor of the previous page' })),
  },
  { additionalProperties: false },
);
const UserList = Type.Array(UserSchema);

/**
 * Where the routes are mounted. Source C's documents name no paths for its user service (only its schema),
 * so there is no alias to keep; a documented one would be added here with `hide: true`.
 */
const PREFIXES = [{ path: '/api/v1/users', hide: false }];

function originOf(request: FastifyRequest): EventOrigin {
  const traceparent = request.headers.traceparent;
  return {
    correlationId: request.id,
    ...(typeof traceparent === 'string' && /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/.test(traceparent)
      ? { traceparent }
      : {}),
  };
}

/**
 * The caller. Every route here acts on behalf of someone, so a request without an identity (an app built
 * without access control) is refused rather than treated as all-powerful.
 */
function callerOf(request: Pick<FastifyRequest, 'identity'>): Caller {
  const identity = request.identity;
  if (!identity) {
    throw new HttpProblem(
      401,
      'unauthenticated',
      'Unauthorized',
      'The users API needs an authenticated caller',
    );
  }
  return { userId: identity.userId, role: identity.role };
}

/** The user id a caller may act on; anyone else's is answered exactly like a missing one. */
function reachable(request: Pick<FastifyRequest, 'identity'> & { params: { id: string } }): {
  caller: Caller;
  id: string;
} {
  const caller = callerOf(request);
  const id = request.params.id;
  if (!mayReach(caller, id)) throw problems.notFound('user', id);
  return { caller, id };
}

export function registerUserRoutes(app: HttpApp, deps: ServiceDeps, cache: UserCache): void {
  const load = async (id: string) => (await findUser(deps.db, id))?.user ?? null;
  const loadPreferences = async (id: string) => (await findUser(deps.db, id))?.preferences ?? null;

  for (const { path, hide } of PREFIXES) {
    const tags = ['users'];

    app.post(
      path,
      {
        schema: { hide, tags, summary: 'Create a user', body: CreateUserBody, response: { 201: UserSchema } },
        config: { permission: 'users:write' },
      },
      async (request, reply) => {
        callerOf(request);
        const { password, ...input } = request.body;
        const record = valid(newUser(input, deps.ids(), deps.clock()));
        const weakness = passwordPolicyViolation(password, { email: record.user.email });
        if (weakness) {
          throw problems.validation(
            [{ field: 'password', in: 'body', reason: weakness }],
            'The password is refused',
          );
        }
        await insertNewUser(deps, record, await hashPassword(password), originOf(request));
        return reply.code(201).header('location', `/api/v1/users/${record.user.id}`).send(record.user);
      },
    );

    app.get(
      path,
      {
        schema: {
          hide,
          tags,
          summary: 'List users, newest first',
          querystring: ListQuery,
          response: { 200: UserList },
        },
        config: { permission: 'users:all' },
      },
      async (request, reply) => {
        callerOf(request);
        const { q, role, status, cursor } = request.query;
        const limit = request.query.limit ?? 50;
        const after = cursor ? decodeCursor(cursor) : undefined;
        const users = (
          await listUsers(deps.db, {
            limit,
            ...(q !== undefined ? { q } : {}),
            ...(role ? { role } : {}),
            ...(status ? { status } : {}),
            ...(after ? { after } : {}),
          })
        ).map((record) => record.user);
        const last = users.at(-1);
        if (last && users.length === limit) {
          const next = encodeCursor(last);
          const query = new URLSearchParams({ ...stringEntries(request.query), cursor: next });
          reply.header('x-next-cursor', next).header('link', `<${path}?${query}>; rel="next"`);
        }
        return users;
      },
    );

    app.get(
      `${path}/:id`,
      {
        schema: { hide, tags, summary: 'Get a user', params: UserParams, response: { 200: UserSchema } },
        config: { permission: 'users:read' },
      },
      async (request) => {
        const { id } = reachable(request);
        const user = await cache.user(id, () => load(id));
        if (!user) throw problems.notFound('user', id);
        return user;
      },
    );

    app.patch(
      `${path}/:id`,
      {
        schema: {
          hide,
          tags,
          summary: 'Change a user (fields left out stay as they are)',
          params: UserParams,
          body: UpdateUserBody,
          response: { 200: UserSchema },
        },
        config: { permission: 'users:update' },
      },
      async (request) => {
        const { caller, id } = reachable(request);
        const refused = refusedFields(caller, request.body);
        if (refused.length > 0) throw forbidden(refused);
        const patch = valid(checkPatch(request.body));
        const touchesAdmins = patch.role !== undefined || patch.status !== undefined;
        const result = await withTransaction(deps.db, async (tx) => {
          if (touchesAdmins) await lockAdminChanges(tx);
          const current = await findUser(tx, id, { forUpdate: true });
          if (!current) throw problems.notFound('user', id);
          const updated = applyPatch(current, patch, deps.clock());
          if (!updated) return current.user;
          if (
            removesActiveAdmin(current.user, updated.record.user) &&
            (await countActive(tx, 'admin')) <= 1
          ) {
            throw lastAdmin(current.user, 'patch', patch);
          }
          await updateUser(tx, updated.record);
          await appendUserEvents(
            tx,
            updateEvents(
              deps,
              current,
              updated.record,
              updated.changes,
              updated.changes.locale !== undefined,
              originOf(request),
            ),
          );
          return updated.record.user;
        }).catch(rethrowEmailTaken);
        await cache.invalidate(id);
        return result;
      },
    );

    app.delete(
      `${path}/:id`,
      {
        schema: { hide, tags, summary: 'Delete a user', params: UserParams, response: { 204: Type.Null() } },
        config: { permission: 'users:write' },
      },
      async (request, reply) => {
        const { id } = reachable(request);
        await withTransaction(deps.db, async (tx) => {
          await lockAdminChanges(tx);
          const current = await findUser(tx, id, { forUpdate: true });
          if (!current) throw problems.notFound('user', id);
          if (removesActiveAdmin(current.user, null) && (await countActive(tx, 'admin')) <= 1) {
            throw lastAdmin(current.user, 'delete');
          }
          await deleteUser(tx, id);
          await appendUserEvents(tx, [
            userEvent(deps, 'user.deleted', id, { user: current.user }, originOf(request)),
          ]);
        });
        await cache.invalidate(id);
        return reply.code(204).send(null);
      },
    );

    app.get(
      `${path}/:id/preferences`,
      {
        schema: {
          hide,
          tags,
          summary: "Get a user's notification preferences",
          params: UserParams,
          response: { 200: PreferencesSchema },
        },
        config: { permission: 'preferences:read' },
      },
      async (request) => {
        const { id } = reachable(request);
        const preferences = await cache.preferences(id, () => loadPreferences(id));
        if (!preferences) throw problems.notFound('user', id);
        return preferences;
      },
    );

    app.put(
      `${path}/:id/preferences`,
      {
        schema: {
          hide,
          tags,
          summary: "Replace a user's notification preferences (every field is required)",
          params: UserParams,
          body: PreferencesBody,
          response: { 200: PreferencesSchema },
        },
        config: { permission: 'preferences:write' },
      },
      async (request) => {
        const { id } = reachable(request);
        const preferences = valid(checkPreferences(request.body));
        const result = await withTransaction(deps.db, async (tx) => {
          const current = await findUser(tx, id, { forUpdate: true });
          if (!current) throw problems.notFound('user', id);
          const replaced = replacePreferences(current, preferences, deps.clock());
          if (!replaced) return current.preferences;
          await updateUser(tx, replaced.record);
          await appendUserEvents(
            tx,
            updateEvents(deps, current, replaced.record, replaced.changes, true, originOf(request)),
          );
          return replaced.record.preferences;
        });
        await cache.invalidate(id);
        return result;
      },
    );
  }
}

function rethrowEmailTaken(error: unknown): never {
  if (isEmailTaken(error)) throw emailTaken();
  throw error;
}

function stringEntries(query: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(query)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [key, String(value)]),
  );
}
