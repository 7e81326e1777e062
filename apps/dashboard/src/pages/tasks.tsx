import { type FormEvent, useEffect, useId, useState } from 'react';
import { api, must, type paths } from '../api/client.ts';
import { LoadMore, nextCursorOf, usePaged } from '../components/paging.tsx';
import {
  Badge,
  Empty,
  Field,
  FilterSelect,
  FormError,
  fieldError,
  Loaded,
  Page,
  Time,
  useAction,
  useQuery,
} from '../components/ui.tsx';
import { can } from '../nav.ts';
import { Link, navigate, replaceQuery, useLocation } from '../router.tsx';
import { currentUser } from '../session.ts';
import './tasks.css';

type Task = paths['/api/v1/tasks/{id}']['get']['responses'][200]['content']['application/json'];
type TaskStatus = Task['status'];
type TaskInput = paths['/api/v1/tasks']['post']['requestBody']['content']['application/json'];
type AuditEntry =
  paths['/api/v1/tasks/{id}/audit']['get']['responses'][200]['content']['application/json'][number];

const STATUSES: { value: TaskStatus; label: string }[] = [
  { value: 'pending', label: 'Pending' },
  { value: 'in_progress', label: 'In progress' },
  { value: 'completed', label: 'Completed' },
];

const SORTS: { value: string; label: string }[] = [
  { value: '-created_at', label: 'Newest first' },
  { value: 'created_at', label: 'Oldest first' },
  { value: '-updated_at', label: 'Recently updated' },
  { value: 'title', label: 'Title A–Z' },
  { value: '-title', label: 'Title Z–A' },
];

const PAGE_SIZE = 25;
const AUDIT_POLL_MS = 2000;
const TASK_FIELDS = ['title', 'description', 'status'];

function isStatus(value: string | null): value is TaskStatus {
  return STATUSES.some((status) => status.value === value);
}

function statusLabel(status: TaskStatus): string {
  return STATUSES.find((candidate) => candidate.value === status)?.label ?? status;
}

export function TaskStatusBadge({ status }: { status: TaskStatus }) {
  // `completed` reads as done (green); the others keep their own tone.
  return <Badge value={status === 'completed' ? 'done' : status} label={statusLabel(status).toLowerCase()} />;
}

export function TasksPage(_props: { params: Record<string, string> }) {
  const { query } = useLocation();
  const statusParam = query.get('status');
  const status = isStatus(statusParam) ? statusParam : undefined;
  const sortParam = query.get('sort');
  const sort =
    SORTS.some((candidate) => candidate.value === sortParam) && sortParam ? sortParam : '-created_at';
  const search = query.get('q') ?? '';
  const [searchText, setSearchText] = useState(search);
  const [creating, setCreating] = useState(false);

  // Typing filters after a short pause rather than on every key.
  useEffect(() => {
    if (searchText.trim() === search) return;
    const timer = setTimeout(() => replaceQuery({ q: searchText.trim() }), 300);
    return () => clearTimeout(timer);
  }, [searchText, search]);

  const tasks = usePaged<Task>(
    async (cursor) => {
      const result = await api.GET('/api/v1/tasks', {
        params: {
          query: {
            sort,
            limit: PAGE_SIZE,
            ...(status ? { status } : {}),
            ...(search ? { q: search } : {}),
            ...(cursor ? { cursor } : {}),
          },
        },
      });
      return { items: await must(Promise.resolve(result)), next: nextCursorOf(result.response) };
    },
    [status, sort, search],
  );
  const filtered = status !== undefined || search !== '';

  return (
    <Page
      title="Tasks"
      actions={
        creating ? null : (
          <button type="button" onClick={() => setCreating(true)}>
            New task
          </button>
        )
      }
    >
      {creating ? (
        <section className="panel" aria-labelledby="new-task-title">
          <h2 id="new-task-title" className="tasks-panel-title">
            New task
          </h2>
          <TaskForm
            submitLabel="Create task"
            onCancel={() => setCreating(false)}
            onSubmit={async (input) => {
              const task = await must(api.POST('/api/v1/tasks', { body: input }));
              navigate(`/tasks/${task.id}`);
            }}
          />
        </section>
      ) : null}

      <search className="toolbar" aria-label="Filter tasks">
        <label className="visually-hidden" htmlFor="tasks-search">
          Search tasks
        </label>
        <input
          id="tasks-search"
          type="search"
          placeholder="Search titles…"
          value={searchText}
          onChange={(event) => setSearchText(event.target.value)}
        />
        <FilterSelect
          id="tasks-status"
          label="Status"
          labelClassName="visually-hidden"
          value={status ?? ''}
          options={STATUSES}
          any="All statuses"
          onChange={(value) => replaceQuery({ status: value })}
        />
        <FilterSelect
          id="tasks-sort"
          label="Sort"
          labelClassName="visually-hidden"
          value={sort}
          options={SORTS}
          onChange={(value) => replaceQuery({ sort: value === '-created_at' ? '' : value })}
        />
      </search>

      <Loaded query={tasks} what="Loading tasks">
        {(items) =>
          items.length === 0 ? (
            <Empty>
              {filtered ? (
                <p>No task matches these filters.</p>
              ) : (
                <p>No tasks yet. Create the first one with “New task”.</p>
              )}
            </Empty>
          ) : (
            <>
              <div className="table-wrap">
                <table className="tasks-table">
                  <caption className="visually-hidden">Tasks</caption>
                  <thead>
                    <tr>
                      <th scope="col">Title</th>
                      <th scope="col">Status</th>
                      <th scope="col" className="tasks-hide-narrow">
                        Created
                      </th>
                      <th scope="col" className="tasks-hide-narrow">
                        Updated
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((task) => (
                      <tr key={task.id}>
                        <td className="tasks-title-cell">
                          <Link to={`/tasks/${task.id}`}>{task.title}</Link>
                          {task.description ? (
                            <div className="tasks-snippet muted">{task.description}</div>
                          ) : null}
                        </td>
                        <td>
                          <TaskStatusBadge status={task.status} />
                        </td>
                        <td className="tasks-hide-narrow">
                          <Time at={task.created_at} />
                        </td>
                        <td className="tasks-hide-narrow">
                          <Time at={task.updated_at} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <LoadMore paged={tasks} noun={['task', 'tasks']} />
            </>
          )
        }
      </Loaded>
    </Page>
  );
}

/** Create and edit share one form; the API's reasons show under their inputs. */
function TaskForm({
  initial,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  initial?: Task;
  submitLabel: string;
  onSubmit(input: TaskInput): Promise<void>;
  onCancel(): void;
}) {
  const id = useId();
  const [title, setTitle] = useState(initial?.title ?? '');
  const [description, setDescription] = useState(initial?.description ?? '');
  const [status, setStatus] = useState<TaskStatus>(initial?.status ?? 'pending');
  const save = useAction(onSubmit);
  const titleError = fieldError(save.error, 'title');
  const descriptionError = fieldError(save.error, 'description');
  const statusError = fieldError(save.error, 'status');

  function submit(event: FormEvent) {
    event.preventDefault();
    void save.run({ title, description: description.trim() === '' ? null : description, status });
  }

  return (
    <form onSubmit={submit} noValidate className="tasks-form">
      <Field label="Title" id={`${id}-title`} error={titleError}>
        <input
          id={`${id}-title`}
          value={title}
          onChange={(event) => setTitle(event.target.value)}
          aria-invalid={titleError ? true : undefined}
          aria-describedby={titleError ? `${id}-title-error` : undefined}
          autoComplete="off"
        />
      </Field>
      <Field label="Description" id={`${id}-description`} error={descriptionError} hint="Optional">
        <textarea
          id={`${id}-description`}
          className="tasks-description"
          value={description}
          onChange={(event) => setDescription(event.target.value)}
          aria-invalid={descriptionError ? true : undefined}
          aria-describedby={descriptionError ? `${id}-description-error` : undefined}
        />
      </Field>
      <Field label="Status" id={`${id}-status`} error={statusError}>
        <select
          id={`${id}-status`}
          value={status}
          onChange={(event) => {
            const value = event.target.value;
            if (isStatus(value)) setStatus(value);
          }}
        >
          {STATUSES.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      </Field>
      <FormError error={save.error} fields={TASK_FIELDS} />
      <div className="tasks-actions">
        <button type="submit" disabled={save.pending}>
          {save.pending ? 'Saving…' : submitLabel}
        </button>
        <button type="button" className="secondary" onClick={onCancel} disabled={save.pending}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function TaskPage({ params }: { params: Record<string, string> }) {
  const taskId = params.id ?? '';
  const task = useQuery(
    () => must(api.GET('/api/v1/tasks/{id}', { params: { path: { id: taskId } } })),
    [taskId],
  );
  const [editing, setEditing] = useState(false);
  const user = currentUser();
  const canAudit = user !== null && can(user.role, 'audit:read');
  const [historyVersion, setHistoryVersion] = useState(0);

  const remove = useAction(async () => {
    await must(api.DELETE('/api/v1/tasks/{id}', { params: { path: { id: taskId } } }));
    navigate('/tasks');
  });

  function confirmDelete(title: string) {
    if (window.confirm(`Delete the task “${title}”? This cannot be undone.`)) void remove.run();
  }

  return (
    <Page
      title={task.data?.title ?? 'Task'}
      actions={
        <Link to="/tasks" className="button secondary">
          All tasks
        </Link>
      }
    >
      <Loaded query={task} what="Loading the task">
        {(current) => (
          <>
            <section className="panel" aria-labelledby="task-details-title">
              <div className="tasks-panel-head">
                <h2 id="task-details-title" className="tasks-panel-title">
                  {editing ? 'Edit task' : 'Details'}
                </h2>
                {editing ? null : (
                  <div className="tasks-actions">
                    <button type="button" onClick={() => setEditing(true)}>
                      Edit
                    </button>
                    <button
                      type="button"
                      className="danger"
                      onClick={() => confirmDelete(current.title)}
                      disabled={remove.pending}
                    >
                      {remove.pending ? 'Deleting…' : 'Delete'}
                    </button>
                  </div>
                )}
              </div>
              {editing ? (
                <TaskForm
                  key={current.updated_at}
                  initial={current}
                  submitLabel="Save changes"
                  onCancel={() => setEditing(false)}
                  onSubmit={async (input) => {
                    await must(
                      api.PUT('/api/v1/tasks/{id}', { params: { path: { id: taskId } }, body: input }),
                    );
                    setEditing(false);
                    task.reload();
                    setHistoryVersion((value) => value + 1);
                  }}
                />
              ) : (
                <dl className="facts">
                  <dt>Status</dt>
                  <dd>
                    <TaskStatusBadge status={current.status} />
                  </dd>
                  <dt>Description</dt>
                  <dd className="tasks-description-text">
                    {current.description ?? <span className="muted">No description</span>}
                  </dd>
                  <dt>Created</dt>
                  <dd>
                    <Time at={current.created_at} />
                  </dd>
                  <dt>Updated</dt>
                  <dd>
                    <Time at={current.updated_at} />
                  </dd>
                  <dt>Id</dt>
                  <dd>
                    <code>{current.id}</code>
                  </dd>
                </dl>
              )}
              <FormError error={remove.error} fields={[]} />
            </section>
            {canAudit ? <TaskHistory taskId={taskId} version={historyVersion} /> : null}
          </>
        )}
      </Loaded>
    </Page>
  );
}

const EVENT_LABELS: Record<AuditEntry['event_type'], string> = {
  'task.created': 'Created',
  'task.updated': 'Updated',
  'task.deleted': 'Deleted',
};

const FIELD_LABELS: Record<string, string> = { title: 'Title', description: 'Description', status: 'Status' };

interface Change {
  field: string;
  from: unknown;
  to: unknown;
}

/** The `changes` of a task.updated entry: `{ field: { from, to } }`. */
function changesOf(data: AuditEntry['event_data']): Change[] {
  const changes = data.changes;
  if (!changes || typeof changes !== 'object') return [];
  return Object.entries(changes).flatMap(([field, change]: [string, unknown]) =>
    change && typeof change === 'object' && 'from' in change && 'to' in change
      ? [{ field, from: change.from, to: change.to }]
      : [],
  );
}

function shown(value: unknown): string {
  if (value === null || value === undefined || value === '') return 'empty';
  if (typeof value === 'string') return isStatus(value) ? statusLabel(value) : `“${value}”`;
  return JSON.stringify(value);
}

/**
 * The task's audit log. It is written by an event consumer a moment after each change, so it is polled
 * while the page is open, and reloaded at once after a save here.
 */
function TaskHistory({ taskId, version }: { taskId: string; version: number }) {
  const history = useQuery(
    () => must(api.GET('/api/v1/tasks/{id}/audit', { params: { path: { id: taskId } } })),
    [taskId, version],
  );
  const { reload } = history;

  useEffect(() => {
    const timer = setInterval(reload, AUDIT_POLL_MS);
    return () => clearInterval(timer);
  }, [reload]);

  return (
    <section className="panel" aria-labelledby="task-history-title">
      <div className="tasks-panel-head">
        <h2 id="task-history-title" className="tasks-panel-title">
          History
        </h2>
        <button type="button" className="secondary" onClick={reload}>
          Refresh
        </button>
      </div>
      <Loaded query={history} what="Loading the history">
        {(entries) =>
          entries.length === 0 ? (
            <Empty>
              <p>No history recorded yet. Changes appear here a moment after they are made.</p>
            </Empty>
          ) : (
            <ol className="tasks-history" aria-label="Task history">
              {entries.map((entry) => {
                const changes = changesOf(entry.event_data);
                return (
                  <li
                    key={entry.id}
                    className={`tasks-history-entry tasks-history-${entry.event_type.slice(5)}`}
                  >
                    <div className="tasks-history-head">
                      <strong>{EVENT_LABELS[entry.event_type]}</strong>
                      <Time at={entry.processed_at} />
                    </div>
                    {changes.length > 0 ? (
                      <ul className="tasks-changes">
                        {changes.map((change) => (
                          <li key={change.field}>
                            {FIELD_LABELS[change.field] ?? change.field}: {shown(change.from)} →{' '}
                            {shown(change.to)}
                          </li>
                        ))}
                      </ul>
                    ) : null}
                  </li>
                );
              })}
            </ol>
          )
        }
      </Loaded>
    </section>
  );
}
