import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { ApiError, api, type FieldError, must, type paths } from '../api/client.ts';
import { LoadMore, nextCursorOf, type PageOf, usePaged } from '../components/paging.tsx';
import {
  Badge,
  Empty,
  ErrorState,
  Field,
  FilterSelect,
  fieldError,
  Loaded,
  messageOf,
  Page,
  Time,
  useAction,
  useQuery,
} from '../components/ui.tsx';
import { can } from '../nav.ts';
import { Link, navigate, replaceQuery, useLocation } from '../router.tsx';
import { currentUser } from '../session.ts';
import {
  missingVariables,
  parseVariables,
  RenderedPreview,
  sampleVariables,
  typeLabel,
  useDebounced,
} from './templates.tsx';
import './notifications.css';

type ListQuery = NonNullable<paths['/api/v1/notifications']['get']['parameters']['query']>;
type RequestSummary =
  paths['/api/v1/notifications']['get']['responses'][200]['content']['application/json'][number];
type RequestStatus = RequestSummary['status'];
type StatusView =
  paths['/api/v1/notifications/{request_id}']['get']['responses'][200]['content']['application/json'];
type Delivery = StatusView['deliveries'][number];
type SendBody = paths['/api/v1/notifications']['post']['requestBody']['content']['application/json'];
type Channel = SendBody['channels'][number];
type Priority = NonNullable<SendBody['priority']>;
type Recipient = SendBody['recipients'][number];

const STATUSES: { value: RequestStatus; label: string }[] = [
  { value: 'scheduled', label: 'Scheduled' },
  { value: 'pending', label: 'Pending' },
  { value: 'sent', label: 'Sent' },
  { value: 'delivered', label: 'Delivered' },
  { value: 'partially_failed', label: 'Partially failed' },
  { value: 'failed', label: 'Failed' },
  { value: 'skipped', label: 'Skipped' },
  { value: 'cancelled', label: 'Cancelled' },
];

const CHANNELS: { value: Channel; label: string }[] = [
  { value: 'email', label: 'Email' },
  { value: 'sms', label: 'SMS' },
  { value: 'push', label: 'Push' },
  { value: 'in_app', label: 'In-app' },
  { value: 'webhook', label: 'Webhook' },
];

const PRIORITIES: Priority[] = ['low', 'normal', 'high', 'critical'];
const PAGE_SIZE = 50;
const REFRESH_MS = 2000;
const PREVIEW_DEBOUNCE_MS = 300;

/** Statuses that still change on their own: the page keeps asking while a request is in one. */
const MOVING: ReadonlySet<RequestStatus> = new Set(['scheduled', 'pending']);

function isStatus(value: string | null): value is RequestStatus {
  return STATUSES.some((status) => status.value === value);
}

function channelLabel(channel: string): string {
  return CHANNELS.find((candidate) => candidate.value === channel)?.label ?? channel;
}

export function StatusBadge({ status }: { status: string }) {
  const label = STATUSES.find((candidate) => candidate.value === status)?.label.toLowerCase();
  return <Badge value={status === 'partially_failed' ? 'partial' : status} {...(label ? { label } : {})} />;
}

// ---------------------------------------------------------------------------------------------------
// Recipients: what one types, as the send API's recipients
// ---------------------------------------------------------------------------------------------------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TypedRecipient {
  text: string;
  recipient: Recipient;
}

/**
 * One recipient per line or comma: a user id, a URL (a webhook), something that looks like a phone number,
 * or else an email address. Nothing is refused here: the API says what is wrong with each, by position.
 */
export function parseRecipients(text: string): TypedRecipient[] {
  return text
    .split(/[\n,;]+/)
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      if (UUID.test(part)) return { text: part, recipient: { user_id: part.toLowerCase() } };
      if (/^https?:\/\//i.test(part)) return { text: part, recipient: { webhook_url: part } };
      if (/^\+?[\d\s().-]+$/.test(part))
        return { text: part, recipient: { phone: part.replace(/[\s().-]/g, '') } };
      return { text: part, recipient: { email: part } };
    });
}

/** The API's reasons for the recipients, each named by what was typed: `“x”: must match format "email"`. */
function recipientErrors(error: unknown, typed: TypedRecipient[]): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const reasons = (error.problem.errors ?? [])
    .filter((entry) => entry.field === 'recipients' || entry.field.startsWith('recipients.'))
    .map((entry) => {
      const index = Number(entry.field.split('.')[1]);
      const which = Number.isInteger(index) ? typed[index]?.text : undefined;
      return which === undefined ? `Recipients ${entry.reason}` : `“${which}”: ${entry.reason}`;
    });
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}

// ---------------------------------------------------------------------------------------------------
// The list
// ---------------------------------------------------------------------------------------------------

async function loadRequests(
  status: RequestStatus | undefined,
  cursor: string | undefined,
): Promise<PageOf<RequestSummary>> {
  const query: ListQuery = { limit: PAGE_SIZE, ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) };
  const result = await api.GET('/api/v1/notifications', { params: { query } });
  const items = await must(Promise.resolve(result));
  return { items, next: nextCursorOf(result.response) };
}

export function NotificationsPage(_props: { params: Record<string, string> }) {
  const { query } = useLocation();
  const statusParam = query.get('status');
  const status = isStatus(statusParam) ? statusParam : undefined;
  const composing = query.get('send') === '1';
  const role = currentUser()?.role ?? 'member';
  const maySend = can(role, 'notifications:send');
  const list = usePaged((cursor) => loadRequests(status, cursor), [status]);
  const items = list.data ?? [];

  return (
    <Page
      title="Notifications"
      actions={
        maySend && !composing ? (
          <Link to="/notifications?send=1" className="button">
            Send a notification
          </Link>
        ) : null
      }
    >
      {composing && maySend ? <SendForm /> : null}
      <div className="toolbar">
        <FilterSelect
          id="notification-status-filter"
          label="Status"
          labelClassName="nt-inline-label"
          value={status ?? ''}
          options={STATUSES}
          any="All statuses"
          onChange={(value) => replaceQuery({ status: value || undefined })}
        />
        <button type="button" className="secondary" onClick={list.reload}>
          Refresh
        </button>
      </div>
      <Loaded query={list} what="Loading notifications">
        {() =>
          items.length === 0 ? (
            <Empty>
              <p>
                {status
                  ? `No ${status.replace('_', ' ')} notifications.`
                  : 'No notifications have been sent yet.'}
              </p>
              {maySend && !composing ? (
                <p>
                  <Link to="/notifications?send=1">Send the first one</Link>.
                </p>
              ) : null}
            </Empty>
          ) : (
            <>
              <div className="table-wrap">
                <table className="nt-table" aria-label="Notifications">
                  <thead>
                    <tr>
                      <th scope="col">Notification</th>
                      <th scope="col">Status</th>
                      <th scope="col">Channels</th>
                      <th scope="col">Recipients</th>
                      <th scope="col">Created</th>
                      <th scope="col">Scheduled for</th>
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((item) => (
                      <tr key={item.request_id} data-request={item.request_id}>
                        <td>
                          <Link
                            to={`/notifications/${encodeURIComponent(item.request_id)}`}
                            className="nt-title"
                          >
                            {item.template_code ? (
                              <>
                                Template <code>{item.template_code}</code>
                              </>
                            ) : (
                              (item.subject ?? 'Inline message')
                            )}
                          </Link>
                          <div className="nt-id muted">{item.request_id}</div>
                        </td>
                        <td>
                          <StatusBadge status={item.status} />
                        </td>
                        <td>{item.channels.map(channelLabel).join(', ')}</td>
                        <td>{item.recipients}</td>
                        <td>
                          <Time at={item.created_at} />
                        </td>
                        <td>
                          <Time at={item.scheduled_at} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <LoadMore paged={list} noun={['notification', 'notifications']} />
            </>
          )
        }
      </Loaded>
    </Page>
  );
}

// ---------------------------------------------------------------------------------------------------
// The send form
// ---------------------------------------------------------------------------------------------------

type ContentMode = 'template' | 'inline';

/** The form's own fields, by the prefix of the API's field names they show errors for. */
const CLAIMED = [
  'recipients',
  'channels',
  'template_code',
  'templates',
  'variables',
  'language',
  'content',
  'scheduled_at',
  'priority',
  'category',
];

function claimed(field: string, mode: ContentMode): boolean {
  if (mode === 'inline' && (field === 'template_code' || field.startsWith('templates'))) return false;
  return CLAIMED.some((prefix) => field === prefix || field.startsWith(`${prefix}.`));
}

/** `<input type="datetime-local">`'s value an hour from now, in the browser's zone. */
function localInputValue(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function SendForm() {
  const id = useId();
  const [recipientsText, setRecipientsText] = useState('');
  const [channels, setChannels] = useState<Channel[]>(['email']);
  const [mode, setMode] = useState<ContentMode>('template');
  const [templateCode, setTemplateCode] = useState('');
  const [language, setLanguage] = useState('');
  const [variablesText, setVariablesText] = useState('{}');
  const [variablesTouched, setVariablesTouched] = useState(false);
  const [subject, setSubject] = useState('');
  const [text, setText] = useState('');
  const [priority, setPriority] = useState<Priority>('normal');
  const [category, setCategory] = useState('');
  const [later, setLater] = useState(false);
  const [scheduledAt, setScheduledAt] = useState(() => localInputValue(new Date(Date.now() + 3600_000)));
  const [clientError, setClientError] = useState<string>();
  const me = currentUser();
  const typed = parseRecipients(recipientsText);
  const parsed = parseVariables(variablesText);

  const templates = useQuery(
    () => must(api.GET('/api/v1/templates', { params: { query: { active: true, limit: 200 } } })),
    [],
  );
  const codes = [...new Map((templates.data ?? []).map((entry) => [entry.code, entry])).values()];

  const send = useAction(async (body: SendBody) => must(api.POST('/api/v1/notifications', { body })));
  const error = send.error;

  function chooseTemplate(code: string) {
    setTemplateCode(code);
    const chosen = codes.find((entry) => entry.code === code);
    // A template is written for one channel: start from that one.
    if (chosen) setChannels([chosen.type]);
    send.reset();
  }

  function toggleChannel(channel: Channel, on: boolean) {
    setChannels((current) =>
      on
        ? CHANNELS.map((c) => c.value).filter((c) => c === channel || current.includes(c))
        : current.filter((c) => c !== channel),
    );
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setClientError(undefined);
    if (mode === 'template' && !parsed.ok) {
      setClientError('Fix the variables first: they are not a JSON object.');
      return;
    }
    let scheduled: string | undefined;
    if (later) {
      const at = new Date(scheduledAt);
      if (Number.isNaN(at.getTime())) {
        setClientError('Pick a date and time to send at.');
        return;
      }
      scheduled = at.toISOString();
    }
    const body: SendBody = {
      recipients: typed.map((entry) => entry.recipient),
      channels,
      priority,
      ...(category.trim() ? { category: category.trim() } : {}),
      ...(language.trim() ? { language: language.trim() } : {}),
      ...(scheduled ? { scheduled_at: scheduled } : {}),
      ...(mode === 'template'
        ? {
            ...(templateCode ? { template_code: templateCode } : {}),
            variables: parsed.ok ? parsed.value : {},
          }
        : { content: { text, ...(subject.trim() ? { subject } : {}) } }),
    };
    const accepted = await send.run(body);
    if (accepted) navigate(`/notifications/${encodeURIComponent(accepted.request_id)}`);
  }

  const apiErrors: FieldError[] = error instanceof ApiError ? (error.problem.errors ?? []) : [];
  const unclaimed = apiErrors.filter((entry) => !claimed(entry.field, mode));
  const variablesError = parsed.ok
    ? apiErrors
        .filter((entry) => entry.field === 'variables' || entry.field.startsWith('variables.'))
        .map((entry) => `${entry.field.replace(/^variables\.?/, '') || 'variables'} ${entry.reason}`)
        .join('; ') || undefined
    : parsed.message;

  return (
    <form className="panel nt-send" onSubmit={submit} aria-labelledby={`${id}-title`} noValidate>
      <div className="nt-send-header">
        <h2 id={`${id}-title`}>Send a notification</h2>
        <Link to="/notifications" className="nt-close">
          Close
        </Link>
      </div>
      <div className="nt-send-grid">
        <div className="nt-send-main">
          <Field
            label="Recipients"
            id={`${id}-recipients`}
            error={recipientErrors(error, typed)}
            hint="One per line: a user id, an email address or a phone number in E.164 (+4915112345678)"
          >
            <textarea
              id={`${id}-recipients`}
              value={recipientsText}
              onChange={(event) => setRecipientsText(event.target.value)}
              rows={3}
              spellCheck={false}
              placeholder={'ada@example.com\n+4915112345678'}
              aria-describedby={`${id}-recipients-summary`}
            />
          </Field>
          <p className="nt-recipient-summary muted" id={`${id}-recipients-summary`}>
            {typed.length === 0
              ? 'No recipients yet.'
              : typed
                  .map((entry) =>
                    entry.recipient.user_id
                      ? 'user'
                      : entry.recipient.phone
                        ? 'phone'
                        : entry.recipient.webhook_url
                          ? 'webhook'
                          : 'email',
                  )
                  .join(', ')}
            {me ? (
              <>
                {' · '}
                <button
                  type="button"
                  className="link-button"
                  onClick={() =>
                    setRecipientsText((current) => (current.trim() ? `${current.trim()}\n${me.id}` : me.id))
                  }
                >
                  Add me
                </button>
              </>
            ) : null}
          </p>

          <fieldset className="nt-fieldset">
            <legend>Channels</legend>
            <div className="nt-channels">
              {CHANNELS.map((channel) => (
                <label key={channel.value} className="nt-check">
                  <input
                    type="checkbox"
                    name="channels"
                    value={channel.value}
                    checked={channels.includes(channel.value)}
                    onChange={(event) => toggleChannel(channel.value, event.target.checked)}
                  />
                  {channel.label}
                </label>
              ))}
            </div>
            <FieldMessage error={fieldError(error, 'channels')} />
          </fieldset>

          <fieldset className="nt-fieldset">
            <legend>Content</legend>
            <div className="nt-mode">
              <label className="nt-check">
                <input
                  type="radio"
                  name={`${id}-mode`}
                  checked={mode === 'template'}
                  onChange={() => setMode('template')}
                />
                From a template
              </label>
              <label className="nt-check">
                <input
                  type="radio"
                  name={`${id}-mode`}
                  checked={mode === 'inline'}
                  onChange={() => setMode('inline')}
                />
                Write it here
              </label>
            </div>
            {mode === 'template' ? (
              <>
                <Field
                  label="Template"
                  id={`${id}-template`}
                  error={fieldError(error, 'template_code') ?? fieldError(error, 'templates')}
                >
                  <select
                    id={`${id}-template`}
                    value={templateCode}
                    onChange={(event) => chooseTemplate(event.target.value)}
                  >
                    <option value="">
                      {templates.loading
                        ? 'Loading templates…'
                        : codes.length === 0
                          ? 'No live templates'
                          : 'Choose a template'}
                    </option>
                    {codes.map((entry) => (
                      <option key={entry.code} value={entry.code}>
                        {entry.code} — {entry.name} ({typeLabel(entry.type)})
                      </option>
                    ))}
                  </select>
                </Field>
                {templates.error ? <ErrorState error={templates.error} retry={templates.reload} /> : null}
                <Field
                  label="Variables (JSON)"
                  id={`${id}-variables`}
                  error={variablesError}
                  hint='The values the template reads, e.g. {"user": {"name": "Ada"}}'
                >
                  <textarea
                    id={`${id}-variables`}
                    className="nt-source"
                    value={variablesText}
                    onChange={(event) => {
                      setVariablesText(event.target.value);
                      setVariablesTouched(true);
                    }}
                    rows={5}
                    spellCheck={false}
                    aria-invalid={!parsed.ok}
                  />
                </Field>
              </>
            ) : (
              <>
                <Field label="Subject" id={`${id}-subject`} error={fieldError(error, 'content.subject')}>
                  <input
                    id={`${id}-subject`}
                    value={subject}
                    onChange={(event) => setSubject(event.target.value)}
                  />
                </Field>
                <Field
                  label="Message"
                  id={`${id}-text`}
                  error={fieldError(error, 'content.text') ?? fieldError(error, 'content')}
                >
                  <textarea
                    id={`${id}-text`}
                    value={text}
                    onChange={(event) => setText(event.target.value)}
                    rows={5}
                  />
                </Field>
              </>
            )}
          </fieldset>

          <details className="nt-options">
            <summary>Options: language, priority, category</summary>
            <div className="nt-options-grid">
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
                  placeholder="en"
                  spellCheck={false}
                />
              </Field>
              <Field label="Priority" id={`${id}-priority`} error={fieldError(error, 'priority')}>
                <select
                  id={`${id}-priority`}
                  value={priority}
                  onChange={(event) => {
                    const value = PRIORITIES.find((candidate) => candidate === event.target.value);
                    if (value) setPriority(value);
                  }}
                >
                  {PRIORITIES.map((value) => (
                    <option key={value} value={value}>
                      {value}
                    </option>
                  ))}
                </select>
              </Field>
              <Field
                label="Category"
                id={`${id}-category`}
                error={fieldError(error, 'category')}
                hint="e.g. billing"
              >
                <input
                  id={`${id}-category`}
                  value={category}
                  onChange={(event) => setCategory(event.target.value)}
                />
              </Field>
            </div>
          </details>

          <fieldset className="nt-fieldset">
            <legend>When</legend>
            <div className="nt-mode">
              <label className="nt-check">
                <input type="radio" name={`${id}-when`} checked={!later} onChange={() => setLater(false)} />
                Now
              </label>
              <label className="nt-check">
                <input type="radio" name={`${id}-when`} checked={later} onChange={() => setLater(true)} />
                Later
              </label>
            </div>
            {later ? (
              <Field
                label="Send at"
                id={`${id}-scheduled`}
                error={fieldError(error, 'scheduled_at')}
                hint="In your time zone"
              >
                <input
                  id={`${id}-scheduled`}
                  type="datetime-local"
                  value={scheduledAt}
                  onChange={(event) => setScheduledAt(event.target.value)}
                />
              </Field>
            ) : null}
          </fieldset>
        </div>

        <aside className="nt-send-preview" aria-label="Preview">
          {mode === 'template' ? (
            templateCode ? (
              <TemplatePreview
                code={templateCode}
                language={language.trim() || 'en'}
                variablesText={variablesText}
                variablesTouched={variablesTouched}
                onSample={setVariablesText}
              />
            ) : (
              <p className="muted">Choose a template to see it rendered with your variables.</p>
            )
          ) : (
            <div className="tpl-rendered">
              <h3 className="nt-preview-title">Preview</h3>
              {subject ? (
                <p className="tpl-rendered-subject">
                  <span className="muted">Subject </span>
                  <strong>{subject}</strong>
                </p>
              ) : null}
              <pre className="tpl-rendered-text">{text || ' '}</pre>
            </div>
          )}
        </aside>
      </div>

      {error || clientError ? (
        <div className="state state-error nt-errors" role="alert">
          <p>
            {clientError ??
              (error instanceof ApiError ? (error.problem.detail ?? error.problem.title) : messageOf(error))}
          </p>
          {unclaimed.length > 0 ? (
            <ul>
              {unclaimed.map((entry) => (
                <li key={`${entry.field}:${entry.reason}`}>
                  <code>{entry.field}</code> {entry.reason}
                </li>
              ))}
            </ul>
          ) : apiErrors.length > 0 ? (
            <p>See the reasons next to the fields above.</p>
          ) : null}
        </div>
      ) : null}
      <div className="nt-actions">
        <button type="submit" disabled={send.pending}>
          {send.pending ? 'Sending…' : later ? 'Schedule' : 'Send'}
        </button>
        <span className="muted">
          {typed.length} recipient{typed.length === 1 ? '' : 's'} ·{' '}
          {channels.map(channelLabel).join(', ') || 'no channel'}
        </span>
      </div>
    </form>
  );
}

function FieldMessage({ error }: { error: string | undefined }) {
  if (!error) return null;
  return (
    <small className="field-error" role="alert">
      {error}
    </small>
  );
}

/**
 * The chosen template rendered with the variables as they are typed (300 ms after the last change), as a
 * send would render it. Choosing a template fills the variables with samples until they are edited.
 */
function TemplatePreview({
  code,
  language,
  variablesText,
  variablesTouched,
  onSample,
}: {
  code: string;
  language: string;
  variablesText: string;
  variablesTouched: boolean;
  onSample: (text: string) => void;
}) {
  const live = useQuery(
    () => must(api.GET('/api/v1/templates/{code}', { params: { path: { code }, query: { language } } })),
    [code, language],
  );
  const template = live.data?.code === code ? live.data : undefined;
  // Samples for the variables the template reads, until someone writes their own.
  // biome-ignore lint/correctness/useExhaustiveDependencies: only a newly loaded template refills them
  useEffect(() => {
    if (template && !variablesTouched) onSample(JSON.stringify(sampleVariables(template.variables), null, 2));
  }, [template?.id]);
  const parsed = parseVariables(variablesText);
  const request = useDebounced(
    template && parsed.ok
      ? JSON.stringify({ code, language, version: template.version, variables: parsed.value })
      : '',
    PREVIEW_DEBOUNCE_MS,
  );
  const preview = useQuery(async () => {
    if (request === '') return null;
    const body = JSON.parse(request) as {
      code: string;
      language: string;
      variables: Record<string, unknown>;
    };
    return must(
      api.POST('/api/v1/templates/{code}/preview', {
        params: { path: { code: body.code } },
        body: { language: body.language, variables: body.variables },
      }),
    );
  }, [request]);
  const missing = missingVariables(preview.error);

  let content: ReactNode;
  if (live.error && !template) content = <ErrorState error={live.error} retry={live.reload} />;
  else if (!parsed.ok) content = <p className="muted">The preview waits for valid JSON variables.</p>;
  else
    content = (
      <RenderedPreview
        loading={preview.loading || !template}
        error={preview.error}
        rendered={preview.data ?? null}
        missing={missing}
        onAddMissing={
          missing.length > 0
            ? () => onSample(JSON.stringify(sampleVariables(missing, parsed.value), null, 2))
            : undefined
        }
      />
    );
  return (
    <div className="nt-template-preview">
      <h3 className="nt-preview-title">
        Preview{' '}
        {template ? (
          <span className="muted nt-preview-meta">
            {template.code} v{template.version} · {template.language} · {typeLabel(template.type)}
          </span>
        ) : null}
      </h3>
      {content}
    </div>
  );
}

// ---------------------------------------------------------------------------------------------------
// One notification
// ---------------------------------------------------------------------------------------------------

export function NotificationPage({ params }: { params: Record<string, string> }) {
  const requestId = params.id ?? '';
  const view = useQuery(
    () =>
      must(api.GET('/api/v1/notifications/{request_id}', { params: { path: { request_id: requestId } } })),
    [requestId],
  );
  const moving = view.data !== undefined && MOVING.has(view.data.status);
  const { reload } = view;
  // Every 2 s while the request can still change by itself; stops when it settles or the page goes.
  useEffect(() => {
    if (!moving) return;
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [moving, reload]);

  return (
    <Page title="Notification">
      <p className="nt-back">
        <Link to="/notifications">← All notifications</Link>
      </p>
      <Loaded query={view} what="Loading the notification">
        {(data) => <NotificationDetail view={data} moving={moving} changed={reload} />}
      </Loaded>
    </Page>
  );
}

function recipientOf(delivery: Delivery): ReactNode {
  if (delivery.user_id) {
    return (
      <>
        user <Link to={`/users/${delivery.user_id}`}>{delivery.user_id}</Link>
      </>
    );
  }
  return delivery.address ?? <span className="muted">no address</span>;
}

function NotificationDetail({
  view,
  moving,
  changed,
}: {
  view: StatusView;
  moving: boolean;
  changed: () => void;
}) {
  const role = currentUser()?.role ?? 'member';
  const cancellable = can(role, 'notifications:send') && MOVING.has(view.status);
  const recipients = [
    ...new Map(view.deliveries.map((delivery) => [delivery.recipient_index, delivery])).values(),
  ];

  return (
    <>
      <div className="panel nt-summary">
        <div className="nt-summary-head">
          <div>
            <StatusBadge status={view.status} />
            {moving ? (
              <span className="muted nt-live" role="status">
                <span className="spinner" aria-hidden="true" />
                Updating every 2 seconds
              </span>
            ) : null}
          </div>
          {cancellable ? <CancelButton view={view} cancelled={changed} /> : null}
        </div>
        <dl className="facts">
          <dt>Request</dt>
          <dd>
            <code>{view.request_id}</code>
          </dd>
          <dt>Content</dt>
          <dd>
            {view.template_code ? (
              <Link to={`/templates/${view.template_code}`}>{view.template_code}</Link>
            ) : (
              'inline'
            )}
          </dd>
          <dt>Channels</dt>
          <dd>{view.channels.map(channelLabel).join(', ')}</dd>
          <dt>Priority</dt>
          <dd>{view.priority}</dd>
          {view.category ? (
            <>
              <dt>Category</dt>
              <dd>{view.category}</dd>
            </>
          ) : null}
          <dt>Created</dt>
          <dd>
            <Time at={view.created_at} />
          </dd>
          {view.scheduled_at ? (
            <>
              <dt>Scheduled for</dt>
              <dd>
                <Time at={view.scheduled_at} />
              </dd>
            </>
          ) : null}
        </dl>
      </div>

      <h2>Recipients</h2>
      <ol className="nt-recipients">
        {recipients.map((delivery) => (
          <li key={delivery.recipient_index}>{recipientOf(delivery)}</li>
        ))}
      </ol>

      <h2>Deliveries</h2>
      {view.deliveries.length === 0 ? (
        <Empty>No deliveries.</Empty>
      ) : (
        <div className="nt-deliveries">
          {view.deliveries.map((delivery) => (
            <DeliveryCard key={delivery.id} delivery={delivery} />
          ))}
        </div>
      )}
    </>
  );
}

function DeliveryCard({ delivery }: { delivery: Delivery }) {
  const id = useId();
  return (
    <article className="panel nt-delivery" aria-labelledby={`${id}-title`} data-channel={delivery.channel}>
      <header className="nt-delivery-head">
        <h3 id={`${id}-title`}>
          {channelLabel(delivery.channel)} <span className="muted">to</span> {recipientOf(delivery)}
        </h3>
        <Badge value={delivery.status} />
      </header>
      {delivery.reason || delivery.not_before || delivery.provider ? (
        <dl className="facts nt-delivery-facts">
          {delivery.provider ? (
            <>
              <dt>Provider</dt>
              <dd>{delivery.provider}</dd>
            </>
          ) : null}
          {delivery.reason ? (
            <>
              <dt>Reason</dt>
              <dd>{delivery.reason}</dd>
            </>
          ) : null}
          {delivery.not_before ? (
            <>
              <dt>Held until</dt>
              <dd>
                <Time at={delivery.not_before} />
              </dd>
            </>
          ) : null}
        </dl>
      ) : null}
      {delivery.attempts.length === 0 ? (
        <p className="muted nt-no-attempts">
          {delivery.status === 'pending' ? 'No attempts yet.' : 'No attempts.'}
        </p>
      ) : (
        <div className="table-wrap nt-attempts">
          <table aria-label={`Attempts: ${channelLabel(delivery.channel)}`}>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Outcome</th>
                <th scope="col">Provider</th>
                <th scope="col">Error</th>
                <th scope="col">Time</th>
              </tr>
            </thead>
            <tbody>
              {delivery.attempts.map((attempt) => (
                <tr key={`${attempt.attempt}:${attempt.outcome}`}>
                  <td>{attempt.attempt}</td>
                  <td>
                    <Badge value={attempt.outcome} />
                  </td>
                  <td>{attempt.provider}</td>
                  <td className="nt-attempt-error">{attempt.error ?? <span className="muted">—</span>}</td>
                  <td>
                    <Time at={attempt.at} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </article>
  );
}

function CancelButton({ view, cancelled }: { view: StatusView; cancelled: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const confirm = useRef<HTMLButtonElement>(null);
  const cancel = useAction(async () =>
    must(
      api.DELETE('/api/v1/notifications/{request_id}', { params: { path: { request_id: view.request_id } } }),
    ),
  );
  const open = view.deliveries.filter((delivery) => delivery.status === 'pending').length;
  // The confirmation takes the focus, so a keyboard user lands on it.
  useEffect(() => {
    if (confirming) confirm.current?.focus();
  }, [confirming]);

  if (!confirming) {
    return (
      <button type="button" className="danger" onClick={() => setConfirming(true)}>
        Cancel notification
      </button>
    );
  }
  return (
    <div className="nt-confirm">
      <span>Cancel {open === 1 ? 'the delivery' : `the ${open} deliveries`} not sent yet?</span>
      <button
        ref={confirm}
        type="button"
        className="danger"
        disabled={cancel.pending}
        onClick={async () => {
          if (await cancel.run()) cancelled();
        }}
      >
        {cancel.pending ? 'Cancelling…' : 'Yes, cancel'}
      </button>
      <button type="button" className="secondary" onClick={() => setConfirming(false)}>
        Keep it
      </button>
      {cancel.error ? <ErrorState error={cancel.error} /> : null}
    </div>
  );
}
