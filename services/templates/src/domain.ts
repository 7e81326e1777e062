import {
  TEMPLATE_CODE_PATTERN,
  TEMPLATE_DEFAULT_LANGUAGE,
  TEMPLATE_LANGUAGE_MAX_LENGTH,
  type Template,
  type TemplateRef,
  type TemplateType,
} from '@switchyard/contracts';
import {
  decodePageCursor,
  encodePageCursor,
  type FieldError,
  HttpProblem,
  problems,
} from '@switchyard/kernel';

export type Checked<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export function valid<T>(checked: Checked<T>): T {
  if (!checked.ok) throw problems.validation(checked.errors, 'The request has invalid fields');
  return checked.value;
}

const languages = new Intl.DisplayNames('en', { type: 'language', fallback: 'none' });

export const LANGUAGE_REASON = 'must be a BCP 47 language tag such as en, fr-CA or pt-BR';

/**
 * The canonical BCP 47 tag (`fr-ca` → `fr-CA`), or undefined when it is not one (`fr_CA`) or names a
 * language ICU does not know (`english` and `zz` are well-formed, but no language). The same rule as a
 * user's locale, so a user's locale always names a language a template can be written in.
 */
export function canonicalLanguage(tag: string): string | undefined {
  try {
    const [canonical] = Intl.getCanonicalLocales(tag);
    if (!canonical || canonical.length > TEMPLATE_LANGUAGE_MAX_LENGTH) return undefined;
    return languages.of(new Intl.Locale(canonical).language) === undefined ? undefined : canonical;
  } catch {
    return undefined;
  }
}

/**
 * The languages that may serve a request in `language` (canonical), most specific first: the tag, then
 * the tag with its last subtag dropped, and so on (RFC 4647 lookup: a singleton such as `-u` goes with
 * the subtag after it), then the default language. `fr-CA` → fr-CA, fr, en; `zh-Hant-TW` → zh-Hant-TW,
 * zh-Hant, zh, en. The chain ends at the default rather than at whatever language a code happens to have:
 * a French reader gets English or a clear 404, never German because German was written first.
 */
export function languageFallbacks(language: string): string[] {
  const chain: string[] = [];
  const subtags = language.split('-');
  while (subtags.length > 0) {
    chain.push(subtags.join('-'));
    subtags.pop();
    if ((subtags.at(-1)?.length ?? 0) === 1) subtags.pop();
  }
  if (!chain.includes(TEMPLATE_DEFAULT_LANGUAGE)) chain.push(TEMPLATE_DEFAULT_LANGUAGE);
  return chain;
}

/** Reads a language from a query or body: absent means the default; malformed is a 400 naming `field`. */
export function languageOf(
  value: string | undefined,
  field = 'language',
  part: FieldError['in'] = 'query',
): string {
  if (value === undefined) return TEMPLATE_DEFAULT_LANGUAGE;
  const language = canonicalLanguage(value);
  if (!language) {
    throw problems.validation([{ field, in: part, reason: LANGUAGE_REASON }], 'The language is not valid');
  }
  return language;
}

const CODE = new RegExp(TEMPLATE_CODE_PATTERN);

/** A version's editable fields, as written: what a create or an update gives. */
export interface TemplateDraft {
  name: string;
  type: TemplateType;
  subject: string | null;
  content: string;
  text_content: string | null;
}

/** The bodies as a request sends them: subject and text part may be left out. */
export interface BodiesInput {
  type: TemplateType;
  subject?: string | null;
  content: string;
  text_content?: string | null;
}

/** A draft as a request sends it. */
export interface DraftInput extends BodiesInput {
  name: string;
}

const SUBJECT_RULES: Record<TemplateType, 'required' | 'optional' | 'none'> = {
  email: 'required',
  push: 'optional',
  in_app: 'optional',
  sms: 'none',
  webhook: 'none',
};

/**
 * Checks bodies against the rules of their type: an email needs a subject and may have a text part; push
 * and in-app messages may have a title; SMS and webhooks have neither. Bodies are kept exactly as written
 * (whitespace is part of a text message).
 */
export function checkBodies(input: BodiesInput): Checked<Omit<TemplateDraft, 'name'>> {
  const errors: FieldError[] = [];
  const fail = (field: string, reason: string) => errors.push({ field, in: 'body', reason });
  if (input.content.trim() === '') fail('content', 'must not be blank');

  const subject = input.subject ?? null;
  const rule = SUBJECT_RULES[input.type];
  if (rule === 'none' && subject !== null) {
    fail('subject', `${input.type} messages have no subject; leave it out`);
  } else if (rule === 'required' && (subject === null || subject.trim() === '')) {
    fail('subject', 'is required for email templates');
  } else if (subject !== null && subject.trim() === '') {
    fail('subject', 'must not be blank; leave it out for no title');
  }

  const text = input.text_content ?? null;
  if (text !== null && input.type !== 'email') {
    fail('text_content', 'only email templates have a text part');
  } else if (text !== null && text.trim() === '') {
    fail('text_content', 'must not be blank; leave it out to derive the text from the HTML');
  }

  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { type: input.type, subject, content: input.content, text_content: text } };
}

/** Checks a whole draft: its bodies, and a name that is not blank once trimmed. */
export function checkDraft(input: DraftInput): Checked<TemplateDraft> {
  const name = input.name.trim();
  const bodies = checkBodies(input);
  const errors = [
    ...(name === '' ? [{ field: 'name', in: 'body' as const, reason: 'must not be blank' }] : []),
    ...(bodies.ok ? [] : bodies.errors),
  ];
  if (!bodies.ok || errors.length > 0) return { ok: false, errors };
  return { ok: true, value: { name, ...bodies.value } };
}

/** Whether a draft says exactly what a stored version says (then a PUT writes no new version). */
export function sameAs(draft: TemplateDraft, version: TemplateDraft): boolean {
  return (
    draft.name === version.name &&
    draft.type === version.type &&
    draft.subject === version.subject &&
    draft.content === version.content &&
    draft.text_content === version.text_content
  );
}

/** What an update (PUT) of a code in a language does, given its latest version. */
export type UpdatePlan =
  | { kind: 'new-version'; version: number; active: boolean }
  /** The draft repeats the latest version: nothing is written, but it goes live if asked to. */
  | { kind: 'unchanged'; latest: Template; activate: boolean };

/**
 * A PUT that repeats the latest version writes nothing (a retried request, or an "apply all templates"
 * job, must not grow the history); with `activate` it makes that version live if it is a draft.
 */
export function planUpdate(latest: Template | null, draft: TemplateDraft, activate: boolean): UpdatePlan {
  if (!latest) return { kind: 'new-version', version: 1, active: activate };
  if (sameAs(draft, latest)) return { kind: 'unchanged', latest, activate: activate && !latest.is_active };
  return { kind: 'new-version', version: latest.version + 1, active: activate };
}

/**
 * The type a code keeps: all its languages render for one channel, or a French fallback could hand an
 * SMS to an email send. Undefined when the draft may have `requested`; otherwise the conflict.
 */
export function typeConflict(code: string, existing: TemplateType | undefined, requested: TemplateType) {
  if (existing === undefined || existing === requested) return undefined;
  return new HttpProblem(
    409,
    'type-conflict',
    'Conflict',
    `Template ${code} has type ${existing} in its other languages`,
    {
      errors: [
        {
          field: 'type',
          in: 'body',
          reason: `must be ${existing}, the type of ${code} in its other languages`,
        },
      ],
    },
  );
}

export function templateExists(code: string, language: string): HttpProblem {
  return new HttpProblem(
    409,
    'conflict',
    'Conflict',
    `Template ${code} already exists in ${language}; PUT /api/v1/templates/${code}?language=${language} writes a new version`,
    { errors: [{ field: 'code', in: 'body', reason: `already exists in language ${language}` }] },
  );
}

/** No active version in any language of the chain; says which were tried and which exist. */
export function noActiveVersion(code: string, tried: string[], available: string[]): HttpProblem {
  const exists =
    available.length === 0 ? `there is no template ${code}` : `it is active in ${available.join(', ')}`;
  return new HttpProblem(
    404,
    'not-found',
    'Not Found',
    `Template ${code} has no active version in ${tried.join(', ')}; ${exists}`,
    { tried_languages: tried, available_languages: available },
  );
}

export function unknownTemplate(code: string, language?: string): HttpProblem {
  return new HttpProblem(
    404,
    'not-found',
    'Not Found',
    language === undefined
      ? `Template ${code} does not exist`
      : `Template ${code} does not exist in ${language}`,
  );
}

export function unknownVersion(code: string, language: string, version: number): HttpProblem {
  return new HttpProblem(
    404,
    'not-found',
    'Not Found',
    `Template ${code} has no version ${version} in ${language}`,
  );
}

/** Names the channel a template cannot serve (the send API asks for one type, the template is another). */
export function wrongChannel(template: Pick<Template, 'code' | 'type'>, channel: TemplateType): HttpProblem {
  return new HttpProblem(
    422,
    'wrong-channel',
    'Unprocessable Content',
    `Template ${template.code} renders ${template.type} messages, not ${channel}`,
    {
      errors: [
        { field: 'channel', in: 'body', reason: `must be ${template.type} for template ${template.code}` },
      ],
    },
  );
}

/** A template that does not compile, reaches for JavaScript internals, or breaks a limit. */
export function invalidTemplate(errors: FieldError[]): HttpProblem {
  return new HttpProblem(422, 'invalid-template', 'Unprocessable Content', 'The template cannot be used', {
    errors,
  });
}

/** A render that failed with the variables given: missing ones are named, each as `variables.<path>`. */
export function renderFailed(
  kind: 'missing' | 'invalid',
  errors: FieldError[],
  missing: string[],
): HttpProblem {
  return kind === 'missing'
    ? new HttpProblem(
        422,
        'missing-variables',
        'Unprocessable Content',
        `The template reads variables that were not given: ${missing.join(', ')}`,
        { errors, missing_variables: missing },
      )
    : new HttpProblem(
        422,
        'render-failed',
        'Unprocessable Content',
        'The template cannot be rendered with these variables',
        { errors, missing_variables: missing },
      );
}

/** A version as events carry it: no bodies, no variables. */
export function refOf(template: Template): TemplateRef {
  return {
    id: template.id,
    code: template.code,
    language: template.language,
    version: template.version,
    name: template.name,
    type: template.type,
    is_active: template.is_active,
    created_by: template.created_by,
    created_at: template.created_at,
    updated_at: template.updated_at,
  };
}

/** Position after the last item of a listing page: the (code, language) it showed last. */
export interface ListCursor {
  code: string;
  language: string;
}

/** Position after the last version of a history page (newest first). */
export interface VersionCursor {
  version: number;
}

export function encodeListCursor(cursor: ListCursor): string {
  return encodePageCursor({ code: cursor.code, language: cursor.language });
}

export function decodeListCursor(text: string): ListCursor {
  return decodePageCursor(text, ({ code, language }) =>
    typeof code === 'string' &&
    CODE.test(code) &&
    typeof language === 'string' &&
    canonicalLanguage(language) === language
      ? { code, language }
      : undefined,
  );
}

export function encodeVersionCursor(cursor: VersionCursor): string {
  return encodePageCursor({ version: cursor.version });
}

export function decodeVersionCursor(text: string): VersionCursor {
  return decodePageCursor(text, ({ version }) =>
    typeof version === 'number' && Number.isInteger(version) && version >= 1 ? { version } : undefined,
  );
}
