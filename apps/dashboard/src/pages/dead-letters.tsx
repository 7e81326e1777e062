import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { api, must, type paths } from '../api/client.ts';
import {
  Badge,
  Empty,
  ErrorState,
  Loaded,
  messageOf,
  Page,
  Time,
  useAction,
  useQuery,
} from '../components/ui.tsx';
import { navigate, useLocation } from '../router.tsx';
import './dead-letters.css';

type DeadLetter =
  paths['/api/v1/dead-letters']['get']['responses'][200]['content']['application/json'][number];
type ListQuery = NonNullable<paths['/api/v1/dead-letters']['get']['parameters']['query']>;
type ReplayFilter =
  paths['/api/v1/dead-letters/replay']['post']['requestBody']['content']['application/json'];

const REFRESH_MS = 5_000;
const LIMIT = 200;

/** The filter as the URL keeps it: `from` and `to` as a datetime-local input shows them. */
interface Filters {
  group: string;
  topic: string;
  type: string;
  from: string;
  to: string;
  includeReplayed: boolean;
}

const NO_FILTERS: Filters = { group: '', topic: '', type: '', from: '', to: '', includeReplayed: false };

function filtersOf(query: URLSearchParams): Filters {
  return {
    group: query.get('group') ?? '',
    topic: query.get('topic') ?? '',
    type: query.get('type') ?? '',
    from: query.get('from') ?? '',
    to: query.get('to') ?? '',
    includeReplayed: query.get('include_replayed') === 'true',
  };
}

function hrefOf(filters: Filters, id?: string): string {
  const query = new URLSearchParams();
  for (const key of ['group', 'topic', 'type', 'from', 'to'] as const) {
    const value = filters[key].trim();
    if (value) query.set(key, value);
  }
  if (filters.includeReplayed) query.set('include_replayed', 'true');
  if (id) query.set('id', id);
  const text = query.toString();
  return text ? `/dead-letters?${text}` : '/dead-letters';
}

function isoOf(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The fields both the list and the bulk replay take. */
function replayFilterOf(filters: Filters): ReplayFilter {
  const from = isoOf(filters.from);
  const to = isoOf(filters.to);
  return {
    ...(filters.group.trim() ? { group: filters.group.trim() } : {}),
    ...(filters.topic.trim() ? { topic: filters.topic.trim() } : {}),
    ...(filters.type.trim() ? { type: filters.type.trim() } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
  };
}

function listQueryOf(filters: Filters): ListQuery {
  return {
    ...replayFilterOf(filters),
    ...(filters.includeReplayed ? { include_replayed: true } : {}),
    limit: LIMIT,
  };
}

function replayable(letter: DeadLetter): boolean {
  return letter.event_id !== null;
}

function prettyPayload(payload: string): { text: string; json: boolean } {
  try {
    return { text: JSON.stringify(JSON.parse(payload), null, 2), json: true };
  } catch {
    return { text: payload, json: false };
  }
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}

/** What a bulk change did, one call per letter: the API replays many only by filter, never by ids. */
interface BulkOutcome {
  done: number;
  failed: { id: string; reason: string }[];
}

async function eachLetter(ids: string[], change: (id: string) => Promise<unknown>): Promise<BulkOutcome> {
  const outcome: BulkOutcome = { done: 0, failed: [] };
  for (const id of ids) {
    try {
      await change(id);
      outcome.done += 1;
    } catch (error) {
      outcome.failed.push({ id, reason: messageOf(error) });
    }
  }
  return outcome;
}

const replayOne = (id: string) =>
  must(api.POST('/api/v1/dead-letters/{id}/replay', { params: { path: { id } } }));
async function discardOne(id: string): Promise<true> {
  await must(api.DELETE('/api/v1/dead-letters/{id}', { params: { path: { id } } }));
  return true;
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

function describe(outcome: BulkOutcome, verb: string): string {
  const done = `${verb} ${plural(outcome.done, 'dead letter', 'dead letters')}.`;
  if (outcome.failed.length === 0) return done;
  const reasons = outcome.failed.map((failure) => failure.reason).join('; ');
  return `${done} ${plural(outcome.failed.length, 'failed', 'failed')}: ${reasons}`;
}

type Pending =
  | { kind: 'discard-selected'; ids: string[] }
  | { kind: 'replay-matching' }
  | { kind: 'discard-one'; id: string };

export function DeadLettersPage(_props: { params: Record<string, string> }) {
  const { query: search } = useLocation();
  const filters = filtersOf(search);
  const inspecting = search.get('id') ?? undefined;
  const list = useQuery(
    () => must(api.GET('/api/v1/dead-letters', { params: { query: listQueryOf(filters) } })),
    [filters],
  );
  const { reload } = list;
  const [checkedAt, setCheckedAt] = useState<Date>();
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [notice, setNotice] = useState<{ text: string; tone: 'good' | 'bad' }>();
  const [confirming, setConfirming] = useState<Pending>();

  useEffect(() => {
    if (list.data) setCheckedAt(new Date());
  }, [list.data]);

  // What fails lands here a few seconds later: keep the list current while the tab is in view.
  useEffect(() => {
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') reload();
    }, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [reload]);

  // A selection holds only letters still listed.
  useEffect(() => {
    const listed = new Set((list.data ?? []).map((letter) => letter.id));
    setSelected((current) => {
      const kept = [...current].filter((id) => listed.has(id));
      return kept.length === current.size ? current : new Set(kept);
    });
  }, [list.data]);

  const bulk = useAction(async (kind: 'replay' | 'discard', ids: string[]) => {
    const outcome = await eachLetter(ids, kind === 'replay' ? replayOne : discardOne);
    return { kind, outcome };
  });
  const matching = useAction(() =>
    must(api.POST('/api/v1/dead-letters/replay', { body: replayFilterOf(filters) })),
  );

  function finish(text: string, tone: 'good' | 'bad') {
    setNotice({ text, tone });
    setSelected(new Set());
    reload();
  }

  async function runBulk(kind: 'replay' | 'discard', ids: string[]) {
    const result = await bulk.run(kind, ids);
    setConfirming(undefined);
    if (!result) return;
    const { outcome } = result;
    finish(
      describe(outcome, kind === 'replay' ? 'Replayed' : 'Discarded'),
      outcome.failed.length ? 'bad' : 'good',
    );
  }

  async function runReplayMatching() {
    const result = await matching.run();
    setConfirming(undefined);
    if (!result) return;
    finish(`Replayed ${plural(result.replayed, 'dead letter', 'dead letters')} matching the filter.`, 'good');
  }

  const filtered = Object.keys(replayFilterOf(filters)).length > 0;
  const selectedIds = [...selected];

  return (
    <Page
      title="Dead letters"
      actions={
        <>
          {checkedAt ? (
            <span className="dl-checked muted">
              Updated <time dateTime={checkedAt.toISOString()}>{checkedAt.toLocaleTimeString()}</time>
            </span>
          ) : null}
          <button type="button" className="secondary" onClick={reload}>
            Refresh
          </button>
        </>
      }
    >
      <p className="dl-intro muted">
        Events a consumer group gave up on after its retries. Inspect why, then replay them to the group that
        failed (once the cause is fixed) or discard them.
      </p>
      <FilterForm key={hrefOf(filters)} filters={filters} />

      <div className="dl-notice" role="status" aria-live="polite">
        {notice ? <p className={`dl-notice-${notice.tone}`}>{notice.text}</p> : null}
      </div>
      {bulk.error ? <ErrorState error={bulk.error} /> : null}
      {matching.error ? <ErrorState error={matching.error} /> : null}

      {selected.size > 0 ? (
        <fieldset className="toolbar dl-bulk">
          <legend className="dl-sr">Selected dead letters</legend>
          <span className="dl-selected-count">{selected.size} selected</span>
          <button type="button" disabled={bulk.pending} onClick={() => void runBulk('replay', selectedIds)}>
            {bulk.pending ? 'Working…' : 'Replay selected'}
          </button>
          <button
            type="button"
            className="danger"
            disabled={bulk.pending}
            onClick={() => setConfirming({ kind: 'discard-selected', ids: selectedIds })}
          >
            Discard selected…
          </button>
          <button
            type="button"
            className="secondary"
            disabled={bulk.pending}
            onClick={() => setSelected(new Set())}
          >
            Clear selection
          </button>
        </fieldset>
      ) : (list.data?.length ?? 0) > 0 || filtered ? (
        <div className="toolbar dl-bulk">
          <span className="muted dl-small">Select dead letters to replay or discard several at once.</span>
          {filtered ? (
            <button
              type="button"
              className="secondary"
              disabled={matching.pending}
              onClick={() => setConfirming({ kind: 'replay-matching' })}
            >
              Replay all matching…
            </button>
          ) : null}
        </div>
      ) : null}

      <Loaded query={list} what="Loading dead letters">
        {(letters) =>
          letters.length === 0 ? (
            <Empty>
              <p className="dl-empty-title">
                {filtered ? 'No dead letter matches this filter' : 'No dead letters'}
              </p>
              <p className="muted">
                {filtered
                  ? 'Change or clear the filter to see others.'
                  : 'Every consumer handled what it was sent. Failures that exhaust their retries show up here.'}
              </p>
            </Empty>
          ) : (
            <LetterTable
              letters={letters}
              selected={selected}
              onSelect={setSelected}
              onInspect={(id) => navigate(hrefOf(filters, id))}
              limited={letters.length >= LIMIT}
            />
          )
        }
      </Loaded>

      {inspecting ? (
        <InspectDialog
          id={inspecting}
          onClose={() => navigate(hrefOf(filters), { replace: true })}
          onDone={(text) => {
            navigate(hrefOf(filters), { replace: true });
            finish(text, 'good');
          }}
        />
      ) : null}

      {confirming?.kind === 'discard-selected' ? (
        <ConfirmDialog
          title={`Discard ${plural(confirming.ids.length, 'dead letter', 'dead letters')}?`}
          confirmLabel="Discard"
          pending={bulk.pending}
          onConfirm={() => void runBulk('discard', confirming.ids)}
          onCancel={() => setConfirming(undefined)}
        >
          <p>
            {confirming.ids.length === 1
              ? 'The event is deleted for good and will not be delivered. Replay it instead if the cause has been fixed.'
              : 'The events are deleted for good and will not be delivered. Replay them instead if the cause has been fixed.'}
          </p>
        </ConfirmDialog>
      ) : null}
      {confirming?.kind === 'replay-matching' ? (
        <ConfirmDialog
          title="Replay every dead letter matching the filter?"
          confirmLabel="Replay all matching"
          tone="primary"
          pending={matching.pending}
          onConfirm={() => void runReplayMatching()}
          onCancel={() => setConfirming(undefined)}
        >
          <p>
            Each waiting dead letter that matches the filter (including any beyond the {LIMIT} shown) is sent
            again to the consumer group that gave up on it.
          </p>
        </ConfirmDialog>
      ) : null}
    </Page>
  );
}

function FilterForm({ filters }: { filters: Filters }) {
  const [draft, setDraft] = useState(filters);
  const ids = useId();
  const field = (key: 'group' | 'topic' | 'type', label: string, placeholder: string) => (
    <div className="dl-field">
      <label htmlFor={`${ids}-${key}`}>{label}</label>
      <input
        id={`${ids}-${key}`}
        value={draft[key]}
        placeholder={placeholder}
        onChange={(event) => setDraft({ ...draft, [key]: event.target.value })}
      />
    </div>
  );
  const time = (key: 'from' | 'to', label: string) => (
    <div className="dl-field">
      <label htmlFor={`${ids}-${key}`}>{label}</label>
      <input
        id={`${ids}-${key}`}
        type="datetime-local"
        value={draft[key]}
        onChange={(event) => setDraft({ ...draft, [key]: event.target.value })}
      />
    </div>
  );

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    navigate(hrefOf(draft));
  }

  return (
    <form className="panel dl-filters" onSubmit={onSubmit} aria-label="Filter dead letters">
      {field('group', 'Consumer group', 'e.g. delivery-email')}
      {field('topic', 'Topic', 'e.g. notifications')}
      {field('type', 'Event type', 'e.g. notification.delivery.requested')}
      {time('from', 'Last failure from')}
      {time('to', 'Last failure before')}
      <div className="dl-filter-end">
        <label className="dl-check">
          <input
            type="checkbox"
            checked={draft.includeReplayed}
            onChange={(event) => setDraft({ ...draft, includeReplayed: event.target.checked })}
          />
          Include replayed
        </label>
        <div className="dl-filter-buttons">
          <button type="submit">Apply</button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setDraft(NO_FILTERS);
              navigate(hrefOf(NO_FILTERS));
            }}
          >
            Clear
          </button>
        </div>
      </div>
    </form>
  );
}

function LetterTable({
  letters,
  selected,
  onSelect,
  onInspect,
  limited,
}: {
  letters: DeadLetter[];
  selected: ReadonlySet<string>;
  onSelect: (next: ReadonlySet<string>) => void;
  onInspect: (id: string) => void;
  limited: boolean;
}) {
  const all = useRef<HTMLInputElement>(null);
  const every = letters.length > 0 && letters.every((letter) => selected.has(letter.id));
  const some = letters.some((letter) => selected.has(letter.id));
  useEffect(() => {
    if (all.current) all.current.indeterminate = some && !every;
  }, [some, every]);

  function toggle(id: string, on: boolean) {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    onSelect(next);
  }

  return (
    <>
      <div className="table-wrap dl-table-wrap">
        <table className="dl-table">
          <caption className="dl-sr">Dead letters, newest failure first</caption>
          <thead>
            <tr>
              <th scope="col" className="dl-col-check">
                <input
                  ref={all}
                  type="checkbox"
                  aria-label="Select all dead letters"
                  checked={every}
                  onChange={(event) =>
                    onSelect(event.target.checked ? new Set(letters.map((letter) => letter.id)) : new Set())
                  }
                />
              </th>
              <th scope="col">Last failure</th>
              <th scope="col">Consumer group and key</th>
              <th scope="col">Topic and type</th>
              <th scope="col">Error</th>
              <th scope="col" className="dl-num">
                Attempts
              </th>
              <th scope="col">
                <span className="dl-sr">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {letters.map((letter) => {
              const label = `${letter.event_type ?? letter.topic} for ${letter.consumer_group}`;
              return (
                <tr key={letter.id} className={selected.has(letter.id) ? 'dl-row-selected' : undefined}>
                  <td className="dl-col-check">
                    <input
                      type="checkbox"
                      aria-label={`Select ${label}`}
                      checked={selected.has(letter.id)}
                      onChange={(event) => toggle(letter.id, event.target.checked)}
                    />
                  </td>
                  <td className="dl-nowrap">
                    <Time at={letter.last_failed_at} />
                  </td>
                  <td className="dl-group-cell">
                    <code>{letter.consumer_group}</code>
                    {letter.partition_key ? (
                      <div className="muted dl-small dl-key" title="Partition key">
                        {letter.partition_key}
                      </div>
                    ) : null}
                  </td>
                  <td>
                    <div>{letter.topic}</div>
                    <div className="muted dl-small">{letter.event_type ?? 'unreadable event'}</div>
                  </td>
                  <td className="dl-error-cell">
                    <span className="dl-error-text" title={letter.error}>
                      {firstLine(letter.error)}
                    </span>
                    <div className="dl-tags">
                      <ReasonBadge reason={letter.reason} />
                      {letter.replayed_at ? (
                        <Badge value="replayed" label={`replayed ×${letter.replay_count}`} />
                      ) : null}
                    </div>
                  </td>
                  <td className="dl-num">{letter.attempts}</td>
                  <td>
                    <button
                      type="button"
                      className="secondary dl-inspect-button"
                      aria-label={`Inspect ${label}`}
                      onClick={() => onInspect(letter.id)}
                    >
                      Inspect
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {limited ? (
        <p className="muted dl-small">Showing the newest {LIMIT}. Narrow the filter to see older ones.</p>
      ) : null}
    </>
  );
}

const REASONS: Record<DeadLetter['reason'], { label: string; tone: string }> = {
  handler_failed: { label: 'handler failed', tone: 'failed' },
  malformed: { label: 'malformed', tone: 'retrying' },
  schema: { label: 'schema mismatch', tone: 'retrying' },
};

function ReasonBadge({ reason }: { reason: DeadLetter['reason'] }) {
  return <Badge value={REASONS[reason].tone} label={REASONS[reason].label} />;
}

function InspectDialog({
  id,
  onClose,
  onDone,
}: {
  id: string;
  onClose: () => void;
  onDone: (notice: string) => void;
}) {
  const letter = useQuery(
    () => must(api.GET('/api/v1/dead-letters/{id}', { params: { path: { id } } })),
    [id],
  );
  const [confirmDiscard, setConfirmDiscard] = useState(false);
  const replay = useAction(() => replayOne(id));
  const discard = useAction(() => discardOne(id));

  async function onReplay() {
    if ((await replay.run()) !== undefined) onDone('Replayed 1 dead letter.');
  }

  async function onDiscard() {
    const discarded = await discard.run();
    setConfirmDiscard(false);
    if (discarded) onDone('Discarded 1 dead letter.');
  }

  return (
    <Modal title="Dead letter" className="dl-inspect" onClose={onClose}>
      <Loaded query={letter} what="Loading the dead letter">
        {(data) => (
          <LetterDetail letter={data}>
            {replay.error ? <ErrorState error={replay.error} /> : null}
            {discard.error ? <ErrorState error={discard.error} /> : null}
            <div className="dl-dialog-actions">
              <button type="button" className="secondary" onClick={onClose}>
                Close
              </button>
              <button
                type="button"
                className="danger"
                disabled={discard.pending || replay.pending}
                onClick={() => setConfirmDiscard(true)}
              >
                Discard…
              </button>
              <button
                type="button"
                disabled={!replayable(data) || replay.pending || discard.pending}
                title={replayable(data) ? undefined : 'A malformed message holds no event to send again'}
                onClick={() => void onReplay()}
              >
                {replay.pending ? 'Replaying…' : data.replayed_at ? 'Replay again' : 'Replay'}
              </button>
            </div>
          </LetterDetail>
        )}
      </Loaded>
      {confirmDiscard ? (
        <ConfirmDialog
          title="Discard this dead letter?"
          confirmLabel="Discard"
          pending={discard.pending}
          onConfirm={() => void onDiscard()}
          onCancel={() => setConfirmDiscard(false)}
        >
          <p>The event is deleted for good and will not be delivered.</p>
        </ConfirmDialog>
      ) : null}
    </Modal>
  );
}

function LetterDetail({ letter, children }: { letter: DeadLetter; children: ReactNode }) {
  const payload = prettyPayload(letter.payload);
  const headers = Object.entries(letter.headers);
  return (
    <div className="dl-detail">
      <div className="dl-detail-tags">
        <ReasonBadge reason={letter.reason} />
        {letter.replayed_at ? <Badge value="replayed" label={`replayed ×${letter.replay_count}`} /> : null}
      </div>
      <dl className="facts dl-facts">
        <dt>Consumer group</dt>
        <dd>
          <code>{letter.consumer_group}</code>
        </dd>
        <dt>Topic</dt>
        <dd>
          <code>{letter.topic}</code>
        </dd>
        <dt>Event type</dt>
        <dd>{letter.event_type ?? <span className="muted">unreadable</span>}</dd>
        <dt>Event id</dt>
        <dd>{letter.event_id ? <code>{letter.event_id}</code> : <span className="muted">none</span>}</dd>
        <dt>Partition key</dt>
        <dd>
          {letter.partition_key ? <code>{letter.partition_key}</code> : <span className="muted">none</span>}
        </dd>
        <dt>Attempts</dt>
        <dd data-testid="dead-letter-attempts">{letter.attempts}</dd>
        <dt>First failure</dt>
        <dd>
          <Time at={letter.first_failed_at} />
        </dd>
        <dt>Last failure</dt>
        <dd>
          <Time at={letter.last_failed_at} />
        </dd>
        <dt>Replayed</dt>
        <dd>
          {letter.replayed_at ? (
            <>
              <Time at={letter.replayed_at} /> ({plural(letter.replay_count, 'time', 'times')})
            </>
          ) : (
            <span className="muted">never</span>
          )}
        </dd>
        <dt>Id</dt>
        <dd>
          <code>{letter.id}</code>
        </dd>
      </dl>

      <h3 className="dl-section">Error</h3>
      <pre className="dl-error" data-testid="dead-letter-error">
        {letter.error}
      </pre>
      {letter.stack ? (
        <details className="dl-stack">
          <summary>Stack trace</summary>
          <pre>{letter.stack}</pre>
        </details>
      ) : null}

      <h3 className="dl-section">Payload{payload.json ? ' (JSON)' : ''}</h3>
      <pre className="dl-payload" data-testid="dead-letter-payload">
        {payload.text}
      </pre>

      {headers.length ? (
        <>
          <h3 className="dl-section">Headers</h3>
          <dl className="facts dl-headers">
            {headers.map(([name, value]) => (
              <div key={name} className="dl-header-row">
                <dt>
                  <code>{name}</code>
                </dt>
                <dd>
                  <code>{value}</code>
                </dd>
              </div>
            ))}
          </dl>
        </>
      ) : null}
      {children}
    </div>
  );
}

/** A native modal dialog: focus moves in and is kept there, Escape closes it, the page behind is inert. */
function Modal({
  title,
  className,
  onClose,
  children,
}: {
  title: string;
  className?: string;
  onClose: () => void;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const closeRef = useRef(onClose);
  closeRef.current = onClose;
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className={`dl-dialog${className ? ` ${className}` : ''}`}
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        closeRef.current();
      }}
    >
      <h2 id={titleId} className="dl-dialog-title">
        {title}
      </h2>
      {children}
    </dialog>
  );
}

function ConfirmDialog({
  title,
  confirmLabel,
  tone = 'danger',
  pending,
  onConfirm,
  onCancel,
  children,
}: {
  title: string;
  confirmLabel: string;
  tone?: 'danger' | 'primary';
  pending: boolean;
  onConfirm: () => void;
  onCancel: () => void;
  children: ReactNode;
}) {
  return (
    <Modal title={title} className="dl-confirm" onClose={onCancel}>
      {children}
      <div className="dl-dialog-actions">
        <button type="button" className="secondary" onClick={onCancel} disabled={pending}>
          Cancel
        </button>
        <button
          type="button"
          className={tone === 'danger' ? 'danger' : undefined}
          onClick={onConfirm}
          disabled={pending}
        >
          {pending ? 'Working…' : confirmLabel}
        </button>
      </div>
    </Modal>
  );
}
