import type { EventOrigin } from '@switchyard/bus';
import {
  RenderedTemplateSchema,
  type ServiceDeps,
  TEMPLATE_CONTENT_MAX_LENGTH,
  TEMPLATE_LANGUAGE_MAX_LENGTH,
  TEMPLATE_NAME_MAX_LENGTH,
  TEMPLATE_SUBJECT_MAX_LENGTH,
  type Template,
  TemplateCodeSchema,
  TemplateSchema,
  TemplateSummarySchema,
  TemplateTypeSchema,
  TemplateVersionSummarySchema,
} from '@switchyard/contracts';
import { type HttpApp, HttpProblem, withTransaction } from '@switchyard/kernel';
import type { FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { TemplateCache } from './cache.ts';
import {
  checkBodies,
  checkDraft,
  decodeListCursor,
  decodeVersionCursor,
  encodeListCursor,
  encodeVersionCursor,
  invalidTemplate,
  languageOf,
  planUpdate,
  refOf,
  renderFailed,
  type TemplateDraft,
  templateExists,
  typeConflict,
  unknownTemplate,
  unknownVersion,
  valid,
} from './domain.ts';
import { appendTemplateEvents, templateEvent } from './events.ts';
import { checkTemplate, renderTemplate, templateVariables } from './render.ts';
import { createLookup, renderOrThrow } from './renderer.ts';
import {
  activate,
  activeIn,
  codeType,
  deactivate,
  findVersion,
  insertVersion,
  languagesOf,
  latestVersion,
  listTemplates,
  listVersions,
  lockCode,
} from './store.ts';

const Language = Type.String({
  minLength: 1,
  maxLength: TEMPLATE_LANGUAGE_MAX_LENGTH,
  description: 'BCP 47 language tag, e.g. en, fr-CA; default en',
});
const Name = Type.String({ minLength: 1, maxLength: TEMPLATE_NAME_MAX_LENGTH });
const Subject = Type.Union([Type.String({ maxLength: TEMPLATE_SUBJECT_MAX_LENGTH }), Type.Null()], {
  description: 'Required for email; an optional title for push and in_app; none for sms and webhook',
});
const Content = Type.String({
  minLength: 1,
  maxLength: TEMPLATE_CONTENT_MAX_LENGTH,
  description: 'Liquid source: HTML for email and in_app, text for push and sms, a JSON body for webhook',
});
const TextContent = Type.Union([Type.String({ maxLength: TEMPLATE_CONTENT_MAX_LENGTH }), Type.Null()], {
  description: 'Email only: the text/plain part; left out, it is derived from the rendered HTML',
});
const Variables = Type.Record(Type.String(), Type.Unknown(), {
  description: 'The values the template reads, e.g. {"user": {"name": "Ada"}}',
});

const CreateBody = Type.Object(
  {
    code: TemplateCodeSchema,
    name: Name,
    type: TemplateTypeSchema,
    language: Type.Optional(Language),
    subject: Type.Optional(Subject),
    content: Content,
    text_content: Type.Optional(TextContent),
  },
  { additionalProperties: false },
);
const UpdateBody = Type.Object(
  {
    name: Name,
    // Left out, the code's type; a code keeps one type in every language, so another one is a 409.
    type: Type.Optional(TemplateTypeSchema),
    subject: Type.Optional(Subject),
    content: Content,
    text_content: Type.Optional(TextContent),
    activate: Type.Optional(
      Type.Boolean({ description: 'Make the new version live (default); false writes a draft' }),
    ),
  },
  { additionalProperties: false },
);
const PreviewBody = Type.Object(
  {
    language: Type.Optional(Language),
    version: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'A stored version in exactly `language` (drafts included); default the live one',
      }),
    ),
    variables: Type.Optional(Variables),
  },
  { additionalProperties: false },
);
const DraftPreviewBody = Type.Object(
  {
    type: TemplateTypeSchema,
    subject: Type.Optional(Subject),
    content: Content,
    text_content: Type.Optional(TextContent),
    variables: Type.Optional(Variables),
  },
  { additionalProperties: false },
);
const DraftPreview = Type.Object(
  {
    type: TemplateTypeSchema,
    subject: RenderedTemplateSchema.properties.subject,
    html: RenderedTemplateSchema.properties.html,
    text: RenderedTemplateSchema.properties.text,
    variables: TemplateSchema.properties.variables,
  },
  { additionalProperties: false },
);
const CodeParams = Type.Object({ code: TemplateCodeSchema });
const VersionParams = Type.Object({ code: TemplateCodeSchema, version: Type.Integer({ minimum: 1 }) });
const LanguageQuery = Type.Object({ language: Type.Optional(Language) }, { additionalProperties: false });
const DeleteQuery = Type.Object(
  {
    language: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: TEMPLATE_LANGUAGE_MAX_LENGTH,
        description: 'Only this language; left out, every language of the code',
      }),
    ),
  },
  { additionalProperties: false },
);
const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 }));
const Cursor = Type.Optional(
  Type.String({ maxLength: 512, description: 'X-Next-Cursor of the previous page' }),
);
const ListQuery = Type.Object(
  {
    type: Type.Optional(TemplateTypeSchema),
    code: Type.Optional(TemplateCodeSchema),
    language: Type.Optional(Language),
    active: Type.Optional(
      Type.Boolean({ description: 'true: only those with a live version; false: only those without' }),
    ),
    limit: Limit,
    cursor: Cursor,
  },
  { additionalProperties: false },
);
const VersionsQuery = Type.Object(
  { language: Type.Optional(Language), limit: Limit, cursor: Cursor },
  { additionalProperties: false },
);

/**
 * Where the routes are mounted. Source C's documents name no paths for its template service (only its
 * schema), so there is no alias to keep; a documented one would be added here with `hide: true`.
 */
const PREFIXES = [{ path: '/api/v1/templates', hide: false }];

function originOf(request: FastifyRequest): EventOrigin {
  const traceparent = request.headers.traceparent;
  return {
    correlationId: request.id,
    ...(typeof traceparent === 'string' && /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/.test(traceparent)
      ? { traceparent }
      : {}),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The caller's user id, recorded on the versions they write (an API key records the admin who made it).
 * Every route acts on behalf of someone, so a request without an identity (an app built without access
 * control) is refused rather than treated as all-powerful.
 */
function callerOf(request: Pick<FastifyRequest, 'identity'>): string | null {
  const identity = request.identity;
  if (!identity) {
    throw new HttpProblem(
      401,
      'unauthenticated',
      'Unauthorized',
      'The templates API needs an authenticated caller',
    );
  }
  return UUID.test(identity.userId) ? identity.userId : null;
}

function stringEntries(query: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(query)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [key, String(value)]),
  );
}

function nextPage(
  reply: FastifyReply,
  path: string,
  query: Record<string, unknown>,
  cursor: string | undefined,
): void {
  if (cursor === undefined) return;
  const next = new URLSearchParams({ ...stringEntries(query), cursor });
  reply.header('x-next-cursor', cursor).header('link', `<${path}?${next}>; rel="next"`);
}

/** Refuses a draft whose bodies do not compile, read JavaScript internals or break a limit with any input. */
function compiles(draft: Omit<TemplateDraft, 'name'>): void {
  const errors = checkTemplate(draft);
  if (errors.length > 0) throw invalidTemplate(errors);
}

export function registerTemplateRoutes(app: HttpApp, deps: ServiceDeps, cache: TemplateCache): void {
  const lookup = createLookup(deps, cache);

  /**
   * A version about to be written, prepared outside the transaction: finding its variables parses it,
   * which for a large template takes longer than anything the transaction does under the code's lock.
   * The parse is kept under the new id, so its first render does not parse again.
   */
  function prepare(code: string, language: string, draft: TemplateDraft, author: string | null) {
    const id = deps.ids();
    const variables = templateVariables(draft, id);
    return (version: number, active: boolean): Template => {
      const at = deps.clock().toISOString();
      return {
        id,
        code,
        ...draft,
        language,
        version,
        is_active: active,
        variables,
        created_by: author,
        created_at: at,
        updated_at: at,
      };
    };
  }

  for (const { path, hide } of PREFIXES) {
    const tags = ['templates'];

    app.post(
      path,
      {
        schema: {
          hide,
          tags,
          summary: 'Create a template: version 1 of a code in a language, live at once',
          body: CreateBody,
          response: { 201: TemplateSchema },
        },
        config: { permission: 'templates:write' },
      },
      async (request, reply) => {
        const author = callerOf(request);
        const { code, language: requested, ...input } = request.body;
        const language = languageOf(requested, 'language', 'body');
        const draft = valid(checkDraft(input));
        compiles(draft);
        const template = prepare(code, language, draft, author)(1, true);
        await withTransaction(deps.db, async (tx) => {
          await lockCode(tx, code);
          if (await latestVersion(tx, code, language)) throw templateExists(code, language);
          const conflict = typeConflict(code, await codeType(tx, code), draft.type);
          if (conflict) throw conflict;
          await insertVersion(tx, template);
          await appendTemplateEvents(tx, [
            templateEvent(
              deps,
              'template.created',
              template,
              { template: refOf(template) },
              originOf(request),
            ),
          ]);
        });
        await cache.invalidate(code, [language]);
        return reply
          .code(201)
          .header('location', `${path}/${code}/versions/1?language=${language}`)
          .header('content-language', language)
          .send(template);
      },
    );

    app.get(
      path,
      {
        schema: {
          hide,
          tags,
          summary: 'List templates: each code in each language with its latest and live versions',
          querystring: ListQuery,
          response: { 200: Type.Array(TemplateSummarySchema) },
        },
        config: { permission: 'templates:read' },
      },
      async (request, reply) => {
        callerOf(request);
        const { type, code, active, cursor } = request.query;
        const limit = request.query.limit ?? 50;
        const language =
          request.query.language === undefined ? undefined : languageOf(request.query.language);
        const after = cursor ? decodeListCursor(cursor) : undefined;
        const page = await listTemplates(deps.db, {
          limit,
          ...(type ? { type } : {}),
          ...(code ? { code } : {}),
          ...(language ? { language } : {}),
          ...(active !== undefined ? { active } : {}),
          ...(after ? { after } : {}),
        });
        const last = page.at(-1);
        nextPage(
          reply,
          path,
          request.query,
          last && page.length === limit ? encodeListCursor(last) : undefined,
        );
        return page;
      },
    );

    app.get(
      `${path}/:code`,
      {
        schema: {
          hide,
          tags,
          summary:
            'Get the live version that serves a language: fr-CA is served by fr-CA, else fr, else en (Content-Language names which)',
          params: CodeParams,
          querystring: LanguageQuery,
          response: { 200: TemplateSchema },
        },
        config: { permission: 'templates:read' },
      },
      async (request, reply) => {
        callerOf(request);
        const template = await lookup.active(request.params.code, languageOf(request.query.language));
        return reply.header('content-language', template.language).send(template);
      },
    );

    app.put(
      `${path}/:code`,
      {
        schema: {
          hide,
          tags,
          summary:
            'Write a new version of a code in a language (creating the code or the language if need be); live at once unless activate is false',
          params: CodeParams,
          querystring: LanguageQuery,
          body: UpdateBody,
          response: { 200: TemplateSchema, 201: TemplateSchema },
        },
        config: { permission: 'templates:write' },
      },
      async (request, reply) => {
        const author = callerOf(request);
        const { code } = request.params;
        const language = languageOf(request.query.language);
        const { activate: goLive = true, type: requestedType, ...input } = request.body;
        // Read without the lock: only to know which rules the draft is checked by. The transaction reads
        // the type again under the lock before anything is written.
        const type = requestedType ?? (await codeType(deps.db, code));
        if (type === undefined) {
          throw new HttpProblem(400, 'validation', 'Bad Request', `Template ${code} does not exist yet`, {
            errors: [
              { field: 'type', in: 'body', reason: `is required: template ${code} does not exist yet` },
            ],
          });
        }
        const draft = valid(checkDraft({ ...input, type }));
        compiles(draft);
        const version = prepare(code, language, draft, author);
        const origin = originOf(request);
        const { template, created } = await withTransaction(deps.db, async (tx) => {
          await lockCode(tx, code);
          const conflict = typeConflict(code, await codeType(tx, code), draft.type);
          if (conflict) throw conflict;
          const latest = await latestVersion(tx, code, language);
          const plan = planUpdate(latest, draft, goLive);
          const now = deps.clock();
          if (plan.kind === 'unchanged') {
            if (!plan.activate) return { template: plan.latest, created: false };
            const [previous] = await deactivate(tx, code, language, now);
            const live = await activate(tx, plan.latest.id, now);
            await appendTemplateEvents(tx, [
              templateEvent(
                deps,
                'template.activated',
                live,
                { template: refOf(live), previous_active_version: previous?.version ?? null },
                origin,
              ),
            ]);
            return { template: live, created: false };
          }
          // The version live before this one: taken down when this one goes live, still live for a draft.
          const [previous] = plan.active
            ? await deactivate(tx, code, language, now)
            : await activeIn(tx, code, [language]);
          const written = version(plan.version, plan.active);
          await insertVersion(tx, written);
          await appendTemplateEvents(tx, [
            plan.version === 1
              ? templateEvent(deps, 'template.created', written, { template: refOf(written) }, origin)
              : templateEvent(
                  deps,
                  'template.updated',
                  written,
                  { template: refOf(written), previous_active_version: previous?.version ?? null },
                  origin,
                ),
          ]);
          return { template: written, created: true };
        });
        await cache.invalidate(code, [language]);
        reply.header('content-language', language);
        if (!created) return reply.code(200).send(template);
        return reply
          .code(201)
          .header('location', `${path}/${code}/versions/${template.version}?language=${language}`)
          .send(template);
      },
    );

    app.delete(
      `${path}/:code`,
      {
        schema: {
          hide,
          tags,
          summary:
            'Take a code down in one language (or in all): its live version is deactivated, its history kept; activate a version to bring it back',
          params: CodeParams,
          querystring: DeleteQuery,
          response: { 204: Type.Null() },
        },
        config: { permission: 'templates:write' },
      },
      async (request, reply) => {
        callerOf(request);
        const { code } = request.params;
        const language = request.query.language === undefined ? null : languageOf(request.query.language);
        const origin = originOf(request);
        const taken = await withTransaction(deps.db, async (tx) => {
          await lockCode(tx, code);
          const existing = await languagesOf(tx, code);
          if (existing.length === 0 || (language !== null && !existing.includes(language))) {
            throw unknownTemplate(code, language ?? undefined);
          }
          const deactivated = await deactivate(tx, code, language, deps.clock());
          await appendTemplateEvents(
            tx,
            deactivated.map((template) =>
              templateEvent(deps, 'template.deactivated', template, { template: refOf(template) }, origin),
            ),
          );
          return deactivated;
        });
        await cache.invalidate(
          code,
          taken.map((template) => template.language),
        );
        return reply.code(204).send(null);
      },
    );

    app.get(
      `${path}/:code/versions`,
      {
        schema: {
          hide,
          tags,
          summary:
            "A code's versions in one language (exactly; no fallback), newest first, without their bodies",
          params: CodeParams,
          querystring: VersionsQuery,
          response: { 200: Type.Array(TemplateVersionSummarySchema) },
        },
        config: { permission: 'templates:read' },
      },
      async (request, reply) => {
        callerOf(request);
        const { code } = request.params;
        const language = languageOf(request.query.language);
        const limit = request.query.limit ?? 50;
        const after = request.query.cursor ? decodeVersionCursor(request.query.cursor) : undefined;
        const page = await listVersions(deps.db, code, language, { limit, ...(after ? { after } : {}) });
        if (page.length === 0 && !after) throw unknownTemplate(code, language);
        const last = page.at(-1);
        nextPage(
          reply,
          `${path}/${code}/versions`,
          request.query,
          last && page.length === limit ? encodeVersionCursor(last) : undefined,
        );
        return reply.header('content-language', language).send(page);
      },
    );

    app.get(
      `${path}/:code/versions/:version`,
      {
        schema: {
          hide,
          tags,
          summary: 'One version of a code in one language (exactly; no fallback), with its bodies',
          params: VersionParams,
          querystring: LanguageQuery,
          response: { 200: TemplateSchema },
        },
        config: { permission: 'templates:read' },
      },
      async (request, reply) => {
        callerOf(request);
        const { code, version } = request.params;
        const language = languageOf(request.query.language);
        const template = await findVersion(deps.db, code, language, version);
        if (!template) throw unknownVersion(code, language, version);
        return reply.header('content-language', language).send(template);
      },
    );

    app.post(
      `${path}/:code/versions/:version/activate`,
      {
        schema: {
          hide,
          tags,
          summary: 'Make a version live in its language (roll forward or back); the live one is deactivated',
          params: VersionParams,
          querystring: LanguageQuery,
          response: { 200: TemplateSchema },
        },
        config: { permission: 'templates:write' },
      },
      async (request, reply) => {
        callerOf(request);
        const { code, version } = request.params;
        const language = languageOf(request.query.language);
        const origin = originOf(request);
        const live = await withTransaction(deps.db, async (tx) => {
          await lockCode(tx, code);
          const target = await findVersion(tx, code, language, version);
          if (!target) throw unknownVersion(code, language, version);
          if (target.is_active) return target;
          const now = deps.clock();
          const [previous] = await deactivate(tx, code, language, now);
          const activated = await activate(tx, target.id, now);
          await appendTemplateEvents(tx, [
            templateEvent(
              deps,
              'template.activated',
              activated,
              { template: refOf(activated), previous_active_version: previous?.version ?? null },
              origin,
            ),
          ]);
          return activated;
        });
        await cache.invalidate(code, [language]);
        return reply.header('content-language', language).send(live);
      },
    );

    app.post(
      `${path}/:code/preview`,
      {
        schema: {
          hide,
          tags,
          summary:
            'Render a template with variables, exactly as a send would: the live version serving the language, or a given version; 422 names every missing variable',
          params: CodeParams,
          body: PreviewBody,
          response: { 200: RenderedTemplateSchema },
        },
        config: { permission: 'templates:read' },
      },
      async (request, reply) => {
        callerOf(request);
        const { code } = request.params;
        const { version, variables = {} } = request.body;
        const language = languageOf(request.body.language, 'language', 'body');
        let template: Template;
        if (version === undefined) template = await lookup.active(code, language);
        else {
          const found = await findVersion(deps.db, code, language, version);
          if (!found) throw unknownVersion(code, language, version);
          template = found;
        }
        const output = renderOrThrow(template, variables);
        return reply.header('content-language', template.language).send({
          template_id: template.id,
          code: template.code,
          language: template.language,
          version: template.version,
          type: template.type,
          ...output,
        });
      },
    );

    app.post(
      `${path}/preview`,
      {
        schema: {
          hide,
          tags,
          summary:
            'Render unsaved template source with variables (an editor previewing as one types); nothing is stored',
          body: DraftPreviewBody,
          response: { 200: DraftPreview },
        },
        config: { permission: 'templates:read' },
      },
      async (request) => {
        callerOf(request);
        const { variables = {}, ...input } = request.body;
        const bodies = valid(checkBodies(input));
        compiles(bodies);
        const result = renderTemplate(bodies, variables);
        if (!result.ok) throw renderFailed(result.kind, result.errors, result.missing);
        return { type: bodies.type, ...result.value, variables: templateVariables(bodies) };
      },
    );
  }
}
