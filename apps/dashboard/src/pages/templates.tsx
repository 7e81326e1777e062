import { type FormEvent, useEffect, useId, useMemo, useState } from 'react';
import { ApiError, api, must, type paths } from '../api/client.ts';
import { LoadMore, nextCursorOf, type PageOf, usePaged } from '../components/paging.tsx';
import { type DiffLine, diffLines, diffStats } from '../components/templates-diff.ts';
import {
  Badge,
  Empty,
  ErrorState,
  Field,
  FilterSelect,
  FormError,
  fieldError,
  Loaded,
  Loading,
  messageOf,
  Page,
  Time,
  useAction,
  useQuery,
} from '../components/ui.tsx';
import { can } from '../nav.ts';
import { Link, navigate, replaceQuery, useLocation } from '../router.tsx';
import { currentUser } from '../session.ts';
import './templates.css';

type TemplateSummary =
  paths['/api/v1/templates']['get']['responses'][200]['content']['application/json'][number];
type TemplateType = TemplateSummary['type'];
type Template =
  paths['/api/v1/templates/{code}/versions/{version}']['get']['responses'][200]['content']['application/json'];
type VersionSummary =
  paths['/api/v1/templates/{code}/versions']['get']['responses'][200]['content']['application/json'][number];
type CreateInput = paths['/api/v1/templates']['post']['requestBody']['content']['application/json'];
type DraftPreview =
  paths['/api/v1/templates/preview']['post']['responses'][200]['content']['application/json'];

export const TEMPLATE_TYPES: { value: TemplateType; label: string }[] = [
  { value: 'email', label: 'Email' },
  { value: 'push', label: 'Push' },
  { value: 'sms', label: 'SMS' },
  { value: 'in_app', label: 'In-app' },
  { value: 'webhook', label: 'Webhook' },
];

const PREVIEW_DEBOUNCE_MS = 300;
const PAGE_SIZE = 50;

export function typeLabel(type: string): string {
  return TEMPLATE_TYPES.find((candidate) => candidate.value === type)?.label ?? type;
}

function isTemplateType(value: string): value is TemplateType {
  return TEMPLATE_TYPES.some((candidate) => candidate.value === value);
}

/** Which bodies a type has: email a subject and a text part, push and in-app a title, the others neither. */
function partsOf(type: TemplateType): { subject: 'Subject' | 'Title' | null; textPart: boolean } {
  if (type === 'email') return { subject: 'Subject', textPart: true };
  if (type === 'push' || type === 'in_app') return { subject: 'Title', textPart: false };
  return { subject: null, textPart: false };
}

function contentLabel(type: TemplateType): string {
  if (type === 'email' || type === 'in_app') return 'HTML content';
  if (type === 'webhook') return 'JSON body';
  return 'Text';
}

type Container = Record<string, unknown> | unknown[];

function isContainer(value: unknown): value is Container {
  return typeof value === 'object' && value !== null;
}

function setPath(target: Container, parts: string[], value: string): void {
  const [head, ...rest] = parts;
  if (head === undefined) return;
  const read = (key: string): unknown => (Array.isArray(target) ? target[Number(key)] : target[key]);
  const write = (key: string, inner: unknown) => {
    if (Array.isArray(target)) target[Number(key)] = inner;
    else target[key] = inner;
  };
  if (rest.length === 0) {
    if (!isContainer(read(head))) write(head, value);
    return;
  }
  const existing = read(head);
  const child: Container = isContainer(existing) ? existing : /^\d+$/.test(rest[0] ?? '') ? [] : {};
  write(head, child);
  setPath(child, rest, value);
}

/** Sample values for the variables a template reads: `user.name` → `{"user": {"name": "user.name"}}`. */
export function sampleVariables(
  paths: string[],
  into: Record<string, unknown> = {},
): Record<string, unknown> {
  const root: Record<string, unknown> = structuredClone(into);
  for (const path of paths) setPath(root, path.split('.'), path);
  return root;
}

export type ParsedVariables = { ok: true; value: Record<string, unknown> } | { ok: false; message: string };

/** The variables editor's text as an object, or why it is not one. */
export function parseVariables(text: string): ParsedVariables {
  if (text.trim() === '') return { ok: true, value: {} };
  try {
    const value: unknown = JSON.parse(text);
    if (!isContainer(value) || Array.isArray(value)) {
      return { ok: false, message: 'Variables must be a JSON object, like {"user": {"name": "Ada"}}' };
    }
    return { ok: true, value: value as Record<string, unknown> };
  } catch (error) {
    return {
      ok: false,
      message: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

/** The variable paths a render was refused for (422 names each as `variables.…`). */
export function missingVariables(error: unknown): string[] {
  if (!(error instanceof ApiError)) return [];
  return (error.problem.errors ?? [])
    .filter((entry) => entry.field.startsWith('variables.'))
    .map((entry) => entry.field.slice('variables.'.length));
}

/** `value` once it has stopped changing for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

function templatePath(code: string, language: string): string {
  return `/templates/${encodeURIComponent(code)}?language=${encodeURIComponent(language)}`;
}

// ---------------------------------------------------------------------------------------------------
// The list
// ---------------------------------------------------------------------------------------------------

async function loadTemplates(
  type: TemplateType | undefined,
  cursor: string | undefined,
): Promise<PageOf<TemplateSummary>> {
  const result = await api.GET('/api/v1/templates', {
    params: { query: { limit: PAGE_SIZE, ...(type ? { type } : {}), ...(cursor ? { cursor } : {}) } },
  });
  const items = await must(Promise.resolve(result));
  return { items, next: nextCursorOf(result.response) };
}

export function TemplatesPage(_props: { params: Record<string, string> }) {
  const { query } = useLocation();
  const typeParam = query.get('type') ?? '';
  const type = isTemplateType(typeParam) ? typeParam : undefined;
  const creating = query.get('new') === '1';
  const role = currentUser()?.role ?? 'member';
  const mayWrite = can(role, 'templates:write');
  const list = usePaged((cursor) => loadTemplates(type, cursor), [type]);
  const items = list.data ?? [];

  return (
    <Page
      title="Templates"
      actions={
        mayWrite && !creating ? (
          <Link to="/templates?new=1" className="button">
            New template
          </Link>
        ) : null
      }
    >
      {creating && mayWrite ? <CreateTemplate /> : null}
      <div className="toolbar">
        <FilterSelect
          id="template-type-filter"
          label="Type"
          labelClassName="tpl-inline-label"
          value={type ?? ''}
          options={TEMPLATE_TYPES}
          any="All types"
          onChange={(value) => replaceQuery({ type: value })}
        />
      </div>
      <Loaded query={list} what="Loading templates">
        {() =>
          items.length === 0 ? (
            <Empty>
              <p>{type ? `No ${typeLabel(type)} templates yet.` : 'No templates yet.'}</p>
              {mayWrite ? (
                <p>
                  <Link to="/templates?new=1">Create the first one</Link> — a template is rendered with each
                  notification's variables.
                </p>
              ) : null}
            </Empty>
          ) : (
            <>
              <div className="table-wrap">
                <table className="tpl-table" aria-label="Templates">
                  <thead>
                    <tr>
                      <th scope="col">Code</th>
                      <th scope="col">Name</th>
                      <th scope="col">Type</th>
                      <th scope="col">Language</th>
                      <th scope="col">Live</th>
                      <th scope="col">Latest</th>
                      <th scope="col">Updated</th>
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((template) => (
                      <tr key={`${template.code}:${template.language}`}>
                        <td>
                          <Link to={templatePath(template.code, template.language)} className="tpl-code">
                            {template.code}
                          </Link>
                        </td>
                        <td>{template.name}</td>
                        <td>{typeLabel(template.type)}</td>
                        <td>{template.language}</td>
                        <td>
                          {template.active_version === null ? (
                            <Badge value="disabled" label="taken down" />
                          ) : (
                            <Badge value="active" label={`v${template.active_version}`} />
                          )}
                        </td>
                        <td>v{template.latest_version}</td>
                        <td>
                          <Time at={template.updated_at} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <LoadMore paged={list} noun={['template', 'templates']} />
            </>
          )
        }
      </Loaded>
    </Page>
  );
}

const CREATE_FIELDS = ['code', 'name', 'type', 'language', 'subject', 'content', 'text_content'];

function CreateTemplate() {
  const id = useId();
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const [type, setType] = useState<TemplateType>('email');
  const [language, setLanguage] = useState('en');
  const [subject, setSubject] = useState('');
  const [content, setContent] = useState('');
  const [textContent, setTextContent] = useState('');
  const parts = partsOf(type);
  const create = useAction(async (input: CreateInput) =>
    must(api.POST('/api/v1/templates', { body: input })),
  );

  async function submit(event: FormEvent) {
    event.preventDefault();
    const created = await create.run({
      code: code.trim(),
      name: name.trim(),
      type,
      language: language.trim() || 'en',
      content,
      ...(parts.subject && subject !== '' ? { subject } : {}),
      ...(parts.textPart && textContent !== '' ? { text_content: textContent } : {}),
    });
    if (created) navigate(templatePath(created.code, created.language));
  }

  const error = create.error;
  return (
    <form className="panel tpl-create" onSubmit={submit} aria-labelledby={`${id}-title`} noValidate>
      <h2 id={`${id}-title`}>New template</h2>
      <div className="tpl-create-grid">
        <Field
          label="Code"
          id={`${id}-code`}
          error={fieldError(error, 'code')}
          hint="Lower-case letters, digits and . _ - (e.g. welcome, billing.invoice-paid)"
        >
          <input
            id={`${id}-code`}
            value={code}
            onChange={(event) => setCode(event.target.value)}
            autoComplete="off"
            spellCheck={false}
            required
          />
        </Field>
        <Field label="Name" id={`${id}-name`} error={fieldError(error, 'name')}>
          <input id={`${id}-name`} value={name} onChange={(event) => setName(event.target.value)} required />
        </Field>
        <Field label="Type" id={`${id}-type`} error={fieldError(error, 'type')}>
          <select
            id={`${id}-type`}
            value={type}
            onChange={(event) => isTemplateType(event.target.value) && setType(event.target.value)}
          >
            {TEMPLATE_TYPES.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </Field>
        <Field
          label="Language"
          id={`${id}-language`}
          error={fieldError(error, 'language')}
          hint="e.g. en, fr-CA"
        >
          <input
            id={`${id}-language`}
            value={language}
            onChange={(event) => setLanguage(event.target.value)}
            autoComplete="off"
            spellCheck={false}
          />
        </Field>
      </div>
      {parts.subject ? (
        <Field label={parts.subject} id={`${id}-subject`} error={fieldError(error, 'subject')}>
          <input id={`${id}-subject`} value={subject} onChange={(event) => setSubject(event.target.value)} />
        </Field>
      ) : null}
      <Field
        label={contentLabel(type)}
        id={`${id}-content`}
        error={fieldError(error, 'content')}
        hint="Liquid: {{ user.name }}, {% if plan %}…{% endif %}"
      >
        <textarea
          id={`${id}-content`}
          value={content}
          onChange={(event) => setContent(event.target.value)}
          rows={8}
          required
        />
      </Field>
      {parts.textPart ? (
        <Field
          label="Text part (optional)"
          id={`${id}-text`}
          error={fieldError(error, 'text_content')}
          hint="Left empty, the text part is derived from the HTML"
        >
          <textarea
            id={`${id}-text`}
            value={textContent}
            onChange={(event) => setTextContent(event.target.value)}
          />
        </Field>
      ) : null}
      <FormError error={error} fields={CREATE_FIELDS} />
      <div className="tpl-actions">
        <button type="submit" disabled={create.pending}>
          {create.pending ? 'Creating…' : 'Create template'}
        </button>
        <Link to="/templates" className="button secondary">
          Cancel
        </Link>
      </div>
    </form>
  );
}

// ---------------------------------------------------------------------------------------------------
// One template
// ---------------------------------------------------------------------------------------------------

async function loadVersion(code: string, language: string, version: number): Promise<Template> {
  return must(
    api.GET('/api/v1/templates/{code}/versions/{version}', {
      params: { path: { code, version }, query: { language } },
    }),
  );
}

export function TemplatePage({ params }: { params: Record<string, string> }) {
  const code = params.code ?? '';
  const { query } = useLocation();
  const [generation, setGeneration] = useState(0);
  const summaries = useQuery(
    () => must(api.GET('/api/v1/templates', { params: { query: { code, limit: 200 } } })),
    [code, generation],
  );
  const requested = query.get('language');

  return (
    <Page title={`Template ${code}`}>
      <p className="tpl-back">
        <Link to="/templates">← All templates</Link>
      </p>
      <Loaded query={summaries} what="Loading the template">
        {(languages) => {
          const first = languages.find((entry) => entry.language === 'en') ?? languages[0];
          if (!first) {
            return (
              <Empty>
                <p>
                  There is no template <code>{code}</code>. <Link to="/templates?new=1">Create one</Link>.
                </p>
              </Empty>
            );
          }
          const language = requested ?? first.language;
          return (
            <TemplateLanguage
              key={language}
              code={code}
              language={language}
              languages={languages}
              fallback={first}
              changed={() => setGeneration((value) => value + 1)}
            />
          );
        }}
      </Loaded>
    </Page>
  );
}

function TemplateLanguage({
  code,
  language,
  languages,
  fallback,
  changed,
}: {
  code: string;
  language: string;
  languages: TemplateSummary[];
  fallback: TemplateSummary;
  changed: () => void;
}) {
  const summary = languages.find((entry) => entry.language === language);
  // Kept here: a save loads the new version, which remounts the editor, and the notice must outlive that.
  const [saveNotice, setSaveNotice] = useState<string>();
  // A language the code has no version in yet starts from another language's latest version.
  const base = summary ?? fallback;
  const role = currentUser()?.role ?? 'member';
  const mayWrite = can(role, 'templates:write');
  const latest = useQuery(
    () => loadVersion(code, base.language, base.latest_version),
    [code, base.language, base.latest_version],
  );
  const versions = useQuery(
    async (): Promise<VersionSummary[]> =>
      summary
        ? must(
            api.GET('/api/v1/templates/{code}/versions', {
              params: { path: { code }, query: { language, limit: 200 } },
            }),
          )
        : [],
    [code, language, summary?.latest_version, summary?.active_version],
  );

  return (
    <>
      <div className="panel tpl-summary">
        <dl className="facts">
          <dt>Type</dt>
          <dd>{typeLabel(base.type)}</dd>
          <dt>Language</dt>
          <dd>
            <LanguagePicker code={code} language={language} languages={languages} mayWrite={mayWrite} />
          </dd>
          <dt>Live version</dt>
          <dd>
            {!summary ? (
              <span className="muted">none yet in {language}</span>
            ) : summary.active_version === null ? (
              <Badge value="disabled" label="taken down" />
            ) : (
              <Badge value="active" label={`v${summary.active_version}`} />
            )}
          </dd>
          <dt>Latest version</dt>
          <dd>{summary ? `v${summary.latest_version}` : '—'}</dd>
          <dt>Updated</dt>
          <dd>
            <Time at={summary?.updated_at} />
          </dd>
        </dl>
      </div>
      <Loaded query={latest} what="Loading the latest version">
        {(template) => (
          <TemplateEditor
            key={`${language}:${template.id}`}
            code={code}
            language={language}
            template={template}
            isNewLanguage={!summary}
            mayWrite={mayWrite}
            notice={saveNotice}
            setNotice={setSaveNotice}
            saved={changed}
          />
        )}
      </Loaded>
      {summary ? (
        <section aria-labelledby="versions-title">
          <h2 id="versions-title">Versions</h2>
          <Loaded query={versions} what="Loading versions">
            {(list) => (
              <>
                <VersionsTable
                  code={code}
                  language={language}
                  versions={list}
                  activeVersion={summary.active_version}
                  mayWrite={mayWrite}
                  changed={changed}
                />
                <VersionDiff code={code} language={language} versions={list} />
              </>
            )}
          </Loaded>
        </section>
      ) : null}
    </>
  );
}

function LanguagePicker({
  code,
  language,
  languages,
  mayWrite,
}: {
  code: string;
  language: string;
  languages: TemplateSummary[];
  mayWrite: boolean;
}) {
  const [adding, setAdding] = useState('');
  const known = languages.map((entry) => entry.language);
  const options = known.includes(language) ? known : [...known, language];
  return (
    <div className="tpl-language">
      <select
        aria-label="Language"
        value={language}
        onChange={(event) => navigate(templatePath(code, event.target.value), { replace: true })}
      >
        {options.map((option) => (
          <option key={option} value={option}>
            {option}
            {known.includes(option) ? '' : ' (new)'}
          </option>
        ))}
      </select>
      {mayWrite ? (
        <form
          className="tpl-add-language"
          onSubmit={(event) => {
            event.preventDefault();
            const tag = adding.trim();
            if (tag) navigate(templatePath(code, tag));
            setAdding('');
          }}
        >
          <input
            aria-label="Add a language"
            placeholder="Add a language, e.g. fr"
            value={adding}
            onChange={(event) => setAdding(event.target.value)}
            size={14}
          />
          <button type="submit" className="secondary" disabled={adding.trim() === ''}>
            Add
          </button>
        </form>
      ) : null}
    </div>
  );
}

const EDIT_FIELDS = ['name', 'type', 'subject', 'content', 'text_content', 'language'];

function TemplateEditor({
  code,
  language,
  template,
  isNewLanguage,
  mayWrite,
  notice,
  setNotice,
  saved,
}: {
  code: string;
  language: string;
  template: Template;
  isNewLanguage: boolean;
  notice: string | undefined;
  setNotice: (notice: string | undefined) => void;
  mayWrite: boolean;
  saved: () => void;
}) {
  const id = useId();
  const type = template.type;
  const parts = partsOf(type);
  const [name, setName] = useState(template.name);
  const [subject, setSubject] = useState(template.subject ?? '');
  const [content, setContent] = useState(template.content);
  const [textContent, setTextContent] = useState(template.text_content ?? '');
  const [activate, setActivate] = useState(true);
  const draft = {
    type,
    content,
    ...(parts.subject ? { subject: subject === '' ? null : subject } : {}),
    ...(parts.textPart ? { text_content: textContent === '' ? null : textContent } : {}),
  };
  const changed =
    isNewLanguage ||
    name !== template.name ||
    content !== template.content ||
    subject !== (template.subject ?? '') ||
    textContent !== (template.text_content ?? '');

  const save = useAction(async () =>
    must(
      api.PUT('/api/v1/templates/{code}', {
        params: { path: { code }, query: { language } },
        body: { name: name.trim(), activate, ...draft },
      }),
    ),
  );

  async function submit(event: FormEvent) {
    event.preventDefault();
    setNotice(undefined);
    const written = await save.run();
    if (!written) return;
    setNotice(
      written.version === template.version && !isNewLanguage
        ? 'Nothing changed: the latest version already has this content.'
        : `Saved version ${written.version}${written.is_active ? ', now live' : ' as a draft'}.`,
    );
    saved();
  }

  return (
    <div className="two-columns tpl-workspace">
      <form className="panel" onSubmit={submit} aria-labelledby={`${id}-title`} noValidate>
        <h2 id={`${id}-title`} className="tpl-panel-title">
          {isNewLanguage ? `New language: ${language}` : 'Edit'}
        </h2>
        <p className="muted tpl-panel-note">
          {isNewLanguage
            ? `Starts from ${template.language} v${template.version}; saving writes version 1 in ${language}.`
            : `Editing from v${template.version}. Saving writes a new version; old versions never change.`}
        </p>
        <fieldset className="tpl-fieldset" disabled={!mayWrite}>
          <Field label="Name" id={`${id}-name`} error={fieldError(save.error, 'name')}>
            <input id={`${id}-name`} value={name} onChange={(event) => setName(event.target.value)} />
          </Field>
          {parts.subject ? (
            <Field label={parts.subject} id={`${id}-subject`} error={fieldError(save.error, 'subject')}>
              <input
                id={`${id}-subject`}
                value={subject}
                onChange={(event) => setSubject(event.target.value)}
              />
            </Field>
          ) : null}
          <Field label={contentLabel(type)} id={`${id}-content`} error={fieldError(save.error, 'content')}>
            <textarea
              id={`${id}-content`}
              className="tpl-source"
              value={content}
              onChange={(event) => setContent(event.target.value)}
              rows={10}
              spellCheck={false}
            />
          </Field>
          {parts.textPart ? (
            <Field
              label="Text part (optional)"
              id={`${id}-text`}
              error={fieldError(save.error, 'text_content')}
              hint="Left empty, the text part is derived from the HTML"
            >
              <textarea
                id={`${id}-text`}
                className="tpl-source"
                value={textContent}
                onChange={(event) => setTextContent(event.target.value)}
                rows={4}
                spellCheck={false}
              />
            </Field>
          ) : null}
          <label className="tpl-check">
            <input
              type="checkbox"
              checked={activate}
              onChange={(event) => setActivate(event.target.checked)}
            />
            Make the new version live
          </label>
        </fieldset>
        <FormError error={save.error} fields={EDIT_FIELDS} />
        {notice ? (
          <p className="tpl-notice" role="status">
            {notice}
          </p>
        ) : null}
        {mayWrite ? (
          <div className="tpl-actions">
            <button type="submit" disabled={save.pending || !changed}>
              {save.pending ? 'Saving…' : 'Save new version'}
            </button>
            {changed && !isNewLanguage ? (
              <button
                type="button"
                className="secondary"
                onClick={() => {
                  setName(template.name);
                  setSubject(template.subject ?? '');
                  setContent(template.content);
                  setTextContent(template.text_content ?? '');
                  save.reset();
                }}
              >
                Discard changes
              </button>
            ) : null}
          </div>
        ) : (
          <p className="muted">Your role can read templates but not change them.</p>
        )}
      </form>
      <DraftPreviewPanel draft={draft} sampleFrom={template.variables} />
    </div>
  );
}

type Draft = {
  type: TemplateType;
  content: string;
  subject?: string | null;
  text_content?: string | null;
};

function DraftPreviewPanel({ draft, sampleFrom }: { draft: Draft; sampleFrom: string[] }) {
  const id = useId();
  const [variablesText, setVariablesText] = useState(() =>
    JSON.stringify(sampleVariables(sampleFrom), null, 2),
  );
  const parsed = parseVariables(variablesText);
  const request = useDebounced(
    JSON.stringify({ ...draft, variables: parsed.ok ? parsed.value : null }),
    PREVIEW_DEBOUNCE_MS,
  );
  const preview = useQuery(async (): Promise<DraftPreview | null> => {
    const body = JSON.parse(request) as Draft & { variables: Record<string, unknown> | null };
    if (body.variables === null || body.content === '') return null;
    return must(api.POST('/api/v1/templates/preview', { body: { ...body, variables: body.variables } }));
  }, [request]);
  const missing = missingVariables(preview.error);

  return (
    <section className="panel tpl-preview" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="tpl-panel-title">
        Preview
      </h2>
      <Field
        label="Sample variables (JSON)"
        id={`${id}-variables`}
        error={parsed.ok ? undefined : parsed.message}
        hint="The preview renders as you type"
      >
        <textarea
          id={`${id}-variables`}
          className="tpl-source"
          value={variablesText}
          onChange={(event) => setVariablesText(event.target.value)}
          rows={6}
          spellCheck={false}
          aria-invalid={!parsed.ok}
        />
      </Field>
      <RenderedPreview
        loading={preview.loading}
        error={preview.error}
        rendered={preview.data ?? null}
        missing={missing}
        onAddMissing={
          parsed.ok && missing.length > 0
            ? () => setVariablesText(JSON.stringify(sampleVariables(missing, parsed.value), null, 2))
            : undefined
        }
      />
    </section>
  );
}

/** A rendered template: subject, HTML (in a sandboxed frame) and text, or why it could not render. */
export function RenderedPreview({
  loading,
  error,
  rendered,
  missing,
  onAddMissing,
}: {
  loading: boolean;
  error: unknown;
  rendered: { subject: string | null; html: string | null; text: string } | null;
  missing: string[];
  onAddMissing?: (() => void) | undefined;
}) {
  if (loading && !rendered) return <Loading what="Rendering" />;
  if (error) {
    return (
      <div className="state state-error tpl-preview-error" role="alert">
        <p>{missing.length > 0 ? `Missing variables: ${missing.join(', ')}` : messageOf(error)}</p>
        {onAddMissing ? (
          <button type="button" className="secondary" onClick={onAddMissing}>
            Add sample values
          </button>
        ) : null}
      </div>
    );
  }
  if (!rendered) return <p className="muted">Nothing to preview yet.</p>;
  return (
    <div className="tpl-rendered" aria-live="polite" data-testid="preview">
      {rendered.subject !== null ? (
        <p className="tpl-rendered-subject">
          <span className="muted">Subject </span>
          <strong data-testid="preview-subject">{rendered.subject}</strong>
        </p>
      ) : null}
      {rendered.html !== null ? (
        <iframe title="HTML preview" className="tpl-rendered-html" sandbox="" srcDoc={rendered.html} />
      ) : null}
      <details open={rendered.html === null}>
        <summary>Text</summary>
        <pre className="tpl-rendered-text">{rendered.text}</pre>
      </details>
    </div>
  );
}

function VersionsTable({
  code,
  language,
  versions,
  activeVersion,
  mayWrite,
  changed,
}: {
  code: string;
  language: string;
  versions: VersionSummary[];
  activeVersion: number | null;
  mayWrite: boolean;
  changed: () => void;
}) {
  const activate = useAction(async (version: number) =>
    must(
      api.POST('/api/v1/templates/{code}/versions/{version}/activate', {
        params: { path: { code, version }, query: { language } },
      }),
    ),
  );
  const [notice, setNotice] = useState<string>();

  return (
    <>
      {activate.error ? <ErrorState error={activate.error} /> : null}
      {notice ? (
        <p className="tpl-notice" role="status">
          {notice}
        </p>
      ) : null}
      <div className="table-wrap">
        <table className="tpl-table" aria-label={`Versions of ${code} in ${language}`}>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Name</th>
              <th scope="col">State</th>
              <th scope="col">Written</th>
              {mayWrite ? <th scope="col">Action</th> : null}
            </tr>
          </thead>
          <tbody>
            {versions.map((version) => {
              const label =
                activeVersion !== null && version.version < activeVersion
                  ? `Roll back to v${version.version}`
                  : `Activate v${version.version}`;
              return (
                <tr key={version.id} data-version={version.version}>
                  <td>v{version.version}</td>
                  <td>{version.name}</td>
                  <td>
                    {version.is_active ? (
                      <Badge value="active" label="live" />
                    ) : (
                      <Badge value="disabled" label="inactive" />
                    )}
                  </td>
                  <td>
                    <Time at={version.created_at} />
                  </td>
                  {mayWrite ? (
                    <td>
                      {version.is_active ? (
                        <span className="muted">—</span>
                      ) : (
                        <button
                          type="button"
                          className="secondary tpl-small"
                          disabled={activate.pending}
                          onClick={async () => {
                            setNotice(undefined);
                            const live = await activate.run(version.version);
                            if (live) {
                              setNotice(`Version ${live.version} is live.`);
                              changed();
                            }
                          }}
                        >
                          {label}
                        </button>
                      )}
                    </td>
                  ) : null}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}

interface PartDiff {
  part: string;
  lines: DiffLine[];
}

function diffTemplates(before: Template, after: Template): PartDiff[] {
  const parts: [string, string | null, string | null][] = [
    ['Name', before.name, after.name],
    ['Subject', before.subject, after.subject],
    ['Content', before.content, after.content],
    ['Text part', before.text_content, after.text_content],
  ];
  return parts
    .filter(([, a, b]) => (a ?? '') !== (b ?? ''))
    .map(([part, a, b]) => ({ part, lines: diffLines(a ?? '', b ?? '') }));
}

function VersionDiff({
  code,
  language,
  versions,
}: {
  code: string;
  language: string;
  versions: VersionSummary[];
}) {
  const id = useId();
  const numbers = versions.map((version) => version.version).sort((a, b) => a - b);
  const newest = numbers.at(-1) ?? 1;
  const [from, setFrom] = useState(numbers.at(-2) ?? newest);
  const [to, setTo] = useState(newest);
  // A new version written on this page becomes the one compared against.
  useEffect(() => {
    setTo(newest);
    setFrom((previous) => (previous >= newest ? Math.max(1, newest - 1) : previous));
  }, [newest]);
  const pair = useQuery(
    async () => Promise.all([loadVersion(code, language, from), loadVersion(code, language, to)]),
    [code, language, from, to],
  );
  const diffs = useMemo(() => (pair.data ? diffTemplates(pair.data[0], pair.data[1]) : []), [pair.data]);

  if (numbers.length < 2) {
    return <p className="muted tpl-diff-hint">Save a second version to compare versions.</p>;
  }
  return (
    <section className="panel tpl-diff" aria-labelledby={`${id}-title`}>
      <div className="tpl-diff-header">
        <h2 id={`${id}-title`} className="tpl-panel-title">
          Compare versions
        </h2>
        <div className="tpl-diff-pickers">
          <label>
            From{' '}
            <select value={from} onChange={(event) => setFrom(Number(event.target.value))}>
              {numbers.map((number) => (
                <option key={number} value={number}>
                  v{number}
                </option>
              ))}
            </select>
          </label>
          <label>
            to{' '}
            <select value={to} onChange={(event) => setTo(Number(event.target.value))}>
              {numbers.map((number) => (
                <option key={number} value={number}>
                  v{number}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
      <Loaded query={pair} what="Loading both versions">
        {() =>
          diffs.length === 0 ? (
            <p className="muted">
              v{from} and v{to} are the same.
            </p>
          ) : (
            diffs.map((diff) => {
              const stats = diffStats(diff.lines);
              return (
                <figure key={diff.part} className="tpl-diff-part">
                  <figcaption>
                    <strong>{diff.part}</strong>{' '}
                    <span className="tpl-diff-stat tpl-diff-stat-added">+{stats.added}</span>{' '}
                    <span className="tpl-diff-stat tpl-diff-stat-removed">−{stats.removed}</span>
                  </figcaption>
                  <div className="tpl-diff-lines">
                    {diff.lines.map((line, index) => (
                      <div
                        // biome-ignore lint/suspicious/noArrayIndexKey: lines have no identity beyond their place
                        key={index}
                        className={`tpl-diff-line${line.kind === 'added' ? ' diff-line-added' : line.kind === 'removed' ? ' diff-line-removed' : ''}`}
                        data-kind={line.kind}
                      >
                        <span className="tpl-diff-number" aria-hidden="true">
                          {line.oldLine ?? ''}
                        </span>
                        <span className="tpl-diff-number" aria-hidden="true">
                          {line.newLine ?? ''}
                        </span>
                        <span className="tpl-diff-sign">
                          {line.kind === 'added' ? '+' : line.kind === 'removed' ? '−' : ' '}
                        </span>
                        <code className="tpl-diff-text">{line.text}</code>
                      </div>
                    ))}
                  </div>
                </figure>
              );
            })
          )
        }
      </Loaded>
    </section>
  );
}
