import Type, { type Static, type TSchema } from 'typebox';

/** What a template renders for: the five delivery channels. A code keeps one type in every language. */
export const TEMPLATE_TYPES = ['email', 'push', 'sms', 'in_app', 'webhook'] as const;
export type TemplateType = (typeof TEMPLATE_TYPES)[number];

/** A lower-case slug such as `welcome` or `billing.invoice-paid`; it names the template in every language. */
export const TEMPLATE_CODE_PATTERN = '^[a-z0-9][a-z0-9._-]{0,99}$';
export const TEMPLATE_NAME_MAX_LENGTH = 200;
export const TEMPLATE_SUBJECT_MAX_LENGTH = 1000;
/**
 * Template source, per body. Gmail clips mail over 102 KB, so a larger HTML template is a mistake already;
 * the bound also keeps every version (and its parse) small.
 */
export const TEMPLATE_CONTENT_MAX_LENGTH = 100_000;
/** BCP 47 tags are at most 35 characters in practice (RFC 5646 §4.4.1). */
export const TEMPLATE_LANGUAGE_MAX_LENGTH = 35;
/** The language every lookup falls back to last. */
export const TEMPLATE_DEFAULT_LANGUAGE = 'en';

export const TemplateTypeSchema = Type.Enum(TEMPLATE_TYPES, {
  description:
    'email: HTML content (escaped outputs), a subject and an optional text part; in_app: HTML content, optional title; push: text, optional title; sms: text; webhook: a JSON body (outputs inserted as JSON values)',
});
export const TemplateCodeSchema = Type.String({
  pattern: TEMPLATE_CODE_PATTERN,
  description: 'Lower-case letters, digits and . _ - (not first), at most 100 characters',
});
export const TemplateLanguageSchema = Type.String({
  minLength: 1,
  maxLength: TEMPLATE_LANGUAGE_MAX_LENGTH,
  description: 'BCP 47 language tag, canonical form, e.g. en, fr-CA, zh-Hant-TW',
});

/**
 * One version of a template in one language, as the API shows it (source C's columns, plus `text_content`,
 * `created_by` and the variables it reads). Versions never change after they are written; only
 * `is_active` (and with it `updated_at`) does.
 */
export const TemplateSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    code: TemplateCodeSchema,
    name: Type.String({ minLength: 1, maxLength: TEMPLATE_NAME_MAX_LENGTH }),
    type: TemplateTypeSchema,
    subject: Type.Union([Type.String({ maxLength: TEMPLATE_SUBJECT_MAX_LENGTH }), Type.Null()], {
      description: 'Email subject (required), push or in-app title (optional); sms and webhook have none',
    }),
    content: Type.String({
      minLength: 1,
      maxLength: TEMPLATE_CONTENT_MAX_LENGTH,
      description: 'The main body: HTML for email and in_app, text for push and sms, JSON for webhook',
    }),
    text_content: Type.Union([Type.String({ maxLength: TEMPLATE_CONTENT_MAX_LENGTH }), Type.Null()], {
      description: 'Email only: the text/plain part; when null it is derived from the rendered HTML',
    }),
    language: TemplateLanguageSchema,
    version: Type.Integer({ minimum: 1 }),
    is_active: Type.Boolean({ description: 'At most one version per code and language is active' }),
    variables: Type.Array(Type.String(), {
      description:
        'Every input path the template reads, e.g. user.name; those only tested in an if or given a default may be left out',
    }),
    created_by: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'Template', additionalProperties: false },
);
export type Template = Static<typeof TemplateSchema>;

/** A version in a history listing: everything but the bodies, which `GET …/versions/{version}` returns. */
export const TemplateVersionSummarySchema = Type.Object(
  {
    id: TemplateSchema.properties.id,
    code: TemplateSchema.properties.code,
    language: TemplateSchema.properties.language,
    version: TemplateSchema.properties.version,
    name: TemplateSchema.properties.name,
    type: TemplateSchema.properties.type,
    is_active: TemplateSchema.properties.is_active,
    created_by: TemplateSchema.properties.created_by,
    created_at: TemplateSchema.properties.created_at,
    updated_at: TemplateSchema.properties.updated_at,
  },
  { additionalProperties: false },
);
export type TemplateVersionSummary = Static<typeof TemplateVersionSummarySchema>;

/** One code in one language in the template listing: its latest version, and which one is live. */
export const TemplateSummarySchema = Type.Object(
  {
    code: TemplateSchema.properties.code,
    language: TemplateSchema.properties.language,
    type: TemplateSchema.properties.type,
    name: Type.String({ description: "The latest version's name" }),
    latest_version: Type.Integer({ minimum: 1 }),
    active_version: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
      description: 'null when every version is deactivated',
    }),
    created_at: Type.String({ format: 'date-time', description: 'When version 1 was written' }),
    updated_at: Type.String({ format: 'date-time', description: 'When the latest version was written' }),
  },
  { additionalProperties: false },
);
export type TemplateSummary = Static<typeof TemplateSummarySchema>;

/** A template rendered with variables, as the preview answers it. */
export const RenderedTemplateSchema = Type.Object(
  {
    template_id: TemplateSchema.properties.id,
    code: TemplateSchema.properties.code,
    language: TemplateSchema.properties.language,
    version: TemplateSchema.properties.version,
    type: TemplateSchema.properties.type,
    subject: Type.Union([Type.String(), Type.Null()], { description: 'One line: line breaks become spaces' }),
    html: Type.Union([Type.String(), Type.Null()], { description: 'email and in_app only' }),
    text: Type.String({
      description:
        'sms/push: the message; email: the text part (derived from the HTML when the template has none); in_app: the HTML as text; webhook: the JSON body',
    }),
  },
  { additionalProperties: false },
);

/** What the notification pipeline asks of the templates service. */
export interface RenderTemplateRequest {
  code: string;
  /** The recipient's BCP 47 locale; `fr-CA` is served by fr-CA, else fr, else en. Default en. */
  language?: string;
  /** The values the template reads, e.g. `{ user: { name: 'Ada' } }`. */
  variables: Record<string, unknown>;
  /** The channel being sent on; a template of another type is refused (422 naming `channel`). */
  channel?: TemplateType;
}

/** A rendered template, ready to hand to a channel. */
export interface RenderedTemplate {
  templateId: string;
  code: string;
  /** The language that served the request (after fallback), e.g. `fr` for a request in `fr-CA`. */
  language: string;
  version: number;
  type: TemplateType;
  subject: string | null;
  html: string | null;
  text: string;
}

/**
 * The templates service as the notification pipeline sees it (in one process: the module's own functions).
 * `render` throws an `HttpProblem`: 404 when no active version exists in the language or its fallbacks,
 * 422 with `errors` naming every missing variable (`variables.user.name`, and `missing_variables` listing
 * the paths), the wrong `channel`, or a render that breaks a limit; 400 for a malformed language tag.
 */
export interface TemplateRenderer {
  render(request: RenderTemplateRequest): Promise<RenderedTemplate>;
}

/**
 * Topic of template events. Ours, not a source system's (source C's template service publishes none):
 * they let every instance drop its cached copy, and the audit trail see who changed which template.
 */
export const TEMPLATE_EVENTS_TOPIC = 'template-events';
export const TEMPLATE_EVENT_TYPES = [
  'template.created',
  'template.updated',
  'template.activated',
  'template.deactivated',
] as const;
export type TemplateEventType = (typeof TEMPLATE_EVENT_TYPES)[number];

/**
 * A version as events carry it: no bodies. Bodies run to 100 KB each, more than some brokers take in one
 * message once escaped; a consumer that needs them reads the version by its number.
 */
export const TemplateRefSchema = TemplateVersionSummarySchema;
export type TemplateRef = TemplateVersionSummary;

const PreviousActive = Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
  description: 'The version live before this event, if any (still live when this one is a draft)',
});

export const TemplateCreatedDataSchema = Type.Object({ template: TemplateRefSchema });
export const TemplateUpdatedDataSchema = Type.Object({
  template: TemplateRefSchema,
  previous_active_version: PreviousActive,
});
export const TemplateActivatedDataSchema = TemplateUpdatedDataSchema;
export const TemplateDeactivatedDataSchema = Type.Object({ template: TemplateRefSchema });

export interface TemplateCreatedData {
  template: TemplateRef;
}
export interface TemplateUpdatedData {
  template: TemplateRef;
  previous_active_version: number | null;
}
export type TemplateActivatedData = TemplateUpdatedData;
export interface TemplateDeactivatedData {
  template: TemplateRef;
}
export interface TemplateEventDataOf {
  'template.created': TemplateCreatedData;
  'template.updated': TemplateUpdatedData;
  'template.activated': TemplateActivatedData;
  'template.deactivated': TemplateDeactivatedData;
}

/**
 * The template events. `subject` is `{code}:{language}` (the suffix of its cache key), the partition key
 * the code, so the versions of one code stay in order across languages.
 * - `template.created`: version 1 of a code in a language (active unless written as a draft);
 * - `template.updated`: a new version (`template.is_active` says whether it went live);
 * - `template.activated`: an existing version made live (roll forward or back);
 * - `template.deactivated`: the live version taken down, leaving none in that language.
 */
export const TemplateEventCatalog = {
  'template.created': TemplateCreatedDataSchema,
  'template.updated': TemplateUpdatedDataSchema,
  'template.activated': TemplateActivatedDataSchema,
  'template.deactivated': TemplateDeactivatedDataSchema,
} satisfies Record<TemplateEventType, TSchema>;
