import { type FormEvent, useEffect, useId, useMemo, useState } from 'react';
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
import { currentUser, updateCurrentUser } from '../session.ts';
import './users.css';

type User = paths['/api/v1/users/{id}']['get']['responses'][200]['content']['application/json'];
type Role = User['role'];
type UserStatus = User['status'];
type NewUser = paths['/api/v1/users']['post']['requestBody']['content']['application/json'];
type UserPatch = NonNullable<
  paths['/api/v1/users/{id}']['patch']['requestBody']
>['content']['application/json'];
type Preferences =
  paths['/api/v1/users/{id}/preferences']['get']['responses'][200]['content']['application/json'];
type PreferencesInput =
  paths['/api/v1/users/{id}/preferences']['put']['requestBody']['content']['application/json'];

export const ROLES: { value: Role; label: string; hint: string }[] = [
  { value: 'member', label: 'Member', hint: 'their own tasks, inbox and preferences' },
  { value: 'operator', label: 'Operator', hint: 'every task, notifications, templates, activity' },
  { value: 'admin', label: 'Admin', hint: 'everything, including users and API keys' },
];

const STATUSES: { value: UserStatus; label: string }[] = [
  { value: 'active', label: 'Active' },
  { value: 'disabled', label: 'Disabled' },
];

const PAGE_SIZE = 25;

export function isRole(value: string | null): value is Role {
  return ROLES.some((role) => role.value === value);
}

/** The role picker of the user and API key forms, with the chosen role's meaning as its hint. */
export function RoleField({
  id,
  role,
  error,
  onChange,
}: {
  id: string;
  role: Role;
  error: string | undefined;
  onChange(role: Role): void;
}) {
  return (
    <Field label="Role" id={id} error={error} hint={ROLES.find((r) => r.value === role)?.hint}>
      <select
        id={id}
        value={role}
        onChange={(event) => {
          const value = event.target.value;
          if (isRole(value)) onChange(value);
        }}
      >
        {ROLES.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </Field>
  );
}

function isStatus(value: string | null): value is UserStatus {
  return STATUSES.some((status) => status.value === value);
}

/** `aria-invalid` and `aria-describedby` for an input whose Field shows `error`. */
export function invalidProps(id: string, error: string | undefined) {
  return error ? { 'aria-invalid': true, 'aria-describedby': `${id}-error` } : {};
}

export function UsersPage(_props: { params: Record<string, string> }) {
  const { query } = useLocation();
  const search = query.get('q') ?? '';
  const roleParam = query.get('role');
  const role = isRole(roleParam) ? roleParam : undefined;
  const statusParam = query.get('status');
  const status = isStatus(statusParam) ? statusParam : undefined;
  const [searchText, setSearchText] = useState(search);
  const [creating, setCreating] = useState(false);

  useEffect(() => {
    if (searchText.trim() === search) return;
    const timer = setTimeout(() => replaceQuery({ q: searchText.trim() }), 300);
    return () => clearTimeout(timer);
  }, [searchText, search]);

  const users = usePaged<User>(
    async (cursor) => {
      const result = await api.GET('/api/v1/users', {
        params: {
          query: {
            limit: PAGE_SIZE,
            ...(search ? { q: search } : {}),
            ...(role ? { role } : {}),
            ...(status ? { status } : {}),
            ...(cursor ? { cursor } : {}),
          },
        },
      });
      return { items: await must(Promise.resolve(result)), next: nextCursorOf(result.response) };
    },
    [search, role, status],
  );
  const filtered = search !== '' || role !== undefined || status !== undefined;

  return (
    <Page
      title="Users"
      actions={
        creating ? null : (
          <button type="button" onClick={() => setCreating(true)}>
            New user
          </button>
        )
      }
    >
      {creating ? (
        <section className="panel" aria-labelledby="new-user-title">
          <h2 id="new-user-title" className="users-panel-title">
            New user
          </h2>
          <NewUserForm onCancel={() => setCreating(false)} />
        </section>
      ) : null}

      <search className="toolbar" aria-label="Filter users">
        <label className="visually-hidden" htmlFor="users-search">
          Search users
        </label>
        <input
          id="users-search"
          type="search"
          placeholder="Name or email starts with…"
          value={searchText}
          onChange={(event) => setSearchText(event.target.value)}
        />
        <FilterSelect
          id="users-role"
          label="Role"
          labelClassName="visually-hidden"
          value={role ?? ''}
          options={ROLES}
          any="All roles"
          onChange={(value) => replaceQuery({ role: value })}
        />
        <FilterSelect
          id="users-status"
          label="Status"
          labelClassName="visually-hidden"
          value={status ?? ''}
          options={STATUSES}
          any="Any status"
          onChange={(value) => replaceQuery({ status: value })}
        />
      </search>

      <Loaded query={users} what="Loading users">
        {(items) =>
          items.length === 0 ? (
            <Empty>
              <p>{filtered ? 'No user matches these filters.' : 'No users yet.'}</p>
            </Empty>
          ) : (
            <>
              <div className="table-wrap">
                <table>
                  <caption className="visually-hidden">Users</caption>
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col" className="users-hide-narrow">
                        Email
                      </th>
                      <th scope="col">Role</th>
                      <th scope="col">Status</th>
                      <th scope="col" className="users-hide-narrow">
                        Created
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((user) => (
                      <tr key={user.id}>
                        <td className="users-name-cell">
                          <Link to={`/users/${user.id}`}>{user.name}</Link>
                          <div className="muted users-show-narrow">{user.email}</div>
                        </td>
                        <td className="users-hide-narrow users-email-cell">{user.email}</td>
                        <td>
                          <RoleBadge role={user.role} />
                        </td>
                        <td>
                          <Badge value={user.status} />
                        </td>
                        <td className="users-hide-narrow">
                          <Time at={user.created_at} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <LoadMore paged={users} noun={['user', 'users']} />
            </>
          )
        }
      </Loaded>
    </Page>
  );
}

export function RoleBadge({ role }: { role: Role }) {
  return <span className={`badge users-role users-role-${role}`}>{role}</span>;
}

function NewUserForm({ onCancel }: { onCancel(): void }) {
  const id = useId();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('member');
  const create = useAction(async (input: NewUser) => {
    const user = await must(api.POST('/api/v1/users', { body: input }));
    navigate(`/users/${user.id}`);
  });
  const errors = {
    name: fieldError(create.error, 'name'),
    email: fieldError(create.error, 'email'),
    password: fieldError(create.error, 'password'),
    role: fieldError(create.error, 'role'),
  };

  function submit(event: FormEvent) {
    event.preventDefault();
    void create.run({ name, email, password, role });
  }

  return (
    <form onSubmit={submit} noValidate className="users-form">
      <div className="users-form-grid">
        <Field label="Name" id={`${id}-name`} error={errors.name}>
          <input
            id={`${id}-name`}
            value={name}
            autoComplete="off"
            onChange={(event) => setName(event.target.value)}
            {...invalidProps(`${id}-name`, errors.name)}
          />
        </Field>
        <Field label="Email" id={`${id}-email`} error={errors.email}>
          <input
            id={`${id}-email`}
            type="email"
            autoComplete="off"
            value={email}
            onChange={(event) => setEmail(event.target.value)}
            {...invalidProps(`${id}-email`, errors.email)}
          />
        </Field>
        <Field
          label="Password"
          id={`${id}-password`}
          error={errors.password}
          hint="At least 12 characters, not a common password. Share it with them safely."
        >
          <input
            id={`${id}-password`}
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            {...invalidProps(`${id}-password`, errors.password)}
          />
        </Field>
        <RoleField id={`${id}-role`} role={role} error={errors.role} onChange={setRole} />
      </div>
      <FormError error={create.error} fields={Object.keys(errors)} />
      <div className="users-actions">
        <button type="submit" disabled={create.pending}>
          {create.pending ? 'Creating…' : 'Create user'}
        </button>
        <button type="button" className="secondary" onClick={onCancel} disabled={create.pending}>
          Cancel
        </button>
      </div>
    </form>
  );
}

export function UserPage({ params }: { params: Record<string, string> }) {
  const userId = params.id ?? '';
  const user = useQuery(
    () => must(api.GET('/api/v1/users/{id}', { params: { path: { id: userId } } })),
    [userId],
  );
  const me = currentUser();
  const mayAdminister = me !== null && can(me.role, 'users:write');
  const isMe = me?.id === userId;

  const remove = useAction(async () => {
    await must(api.DELETE('/api/v1/users/{id}', { params: { path: { id: userId } } }));
    navigate('/users');
  });
  const setStatus = useAction(async (status: UserStatus) => {
    await must(api.PATCH('/api/v1/users/{id}', { params: { path: { id: userId } }, body: { status } }));
    user.reload();
  });

  return (
    <Page
      title={user.data?.name ?? 'User'}
      actions={
        <Link to="/users" className="button secondary">
          All users
        </Link>
      }
    >
      <Loaded query={user} what="Loading the user">
        {(current) => (
          <>
            <p className="users-summary">
              <span className="users-email">{current.email}</span>
              <RoleBadge role={current.role} />
              <Badge value={current.status} />
              {isMe ? <span className="badge badge-info">you</span> : null}
            </p>
            <div className="two-columns users-columns">
              <section className="panel" aria-labelledby="user-profile-title">
                <h2 id="user-profile-title" className="users-panel-title">
                  Profile
                </h2>
                <ProfileForm key={current.id} user={current} onSaved={user.reload} />
                <dl className="facts users-facts">
                  <dt>Created</dt>
                  <dd>
                    <Time at={current.created_at} />
                  </dd>
                  <dt>Updated</dt>
                  <dd>
                    <Time at={current.updated_at} />
                  </dd>
                </dl>
              </section>
              {mayAdminister ? (
                <section className="panel" aria-labelledby="user-access-title">
                  <h2 id="user-access-title" className="users-panel-title">
                    Access
                  </h2>
                  {current.status === 'active' ? (
                    <>
                      <p className="muted">Disabling keeps their data and ends their ability to sign in.</p>
                      <button
                        type="button"
                        className="secondary"
                        disabled={setStatus.pending}
                        onClick={() => {
                          if (window.confirm(`Disable ${current.name}? They will not be able to sign in.`)) {
                            void setStatus.run('disabled');
                          }
                        }}
                      >
                        Disable user
                      </button>
                    </>
                  ) : (
                    <>
                      <p className="muted">This user cannot sign in until enabled again.</p>
                      <button
                        type="button"
                        disabled={setStatus.pending}
                        onClick={() => void setStatus.run('active')}
                      >
                        Enable user
                      </button>
                    </>
                  )}
                  <FormError error={setStatus.error} fields={[]} />
                  <hr className="users-rule" />
                  <p className="muted">Deleting removes the account and its preferences for good.</p>
                  <button
                    type="button"
                    className="danger"
                    disabled={remove.pending}
                    onClick={() => {
                      if (
                        window.confirm(`Delete ${current.name} (${current.email})? This cannot be undone.`)
                      ) {
                        void remove.run();
                      }
                    }}
                  >
                    {remove.pending ? 'Deleting…' : 'Delete user'}
                  </button>
                  <FormError error={remove.error} fields={[]} />
                </section>
              ) : null}
            </div>
            <section className="panel" aria-labelledby="user-preferences-title">
              <h2 id="user-preferences-title" className="users-panel-title">
                Notification preferences
              </h2>
              <PreferencesForm userId={current.id} />
            </section>
          </>
        )}
      </Loaded>
    </Page>
  );
}

/** Name, email and role; only what changed is sent. Email and role need `users:write`. */
export function ProfileForm({ user, onSaved }: { user: User; onSaved(): void }) {
  const id = useId();
  const me = currentUser();
  const mayAdminister = me !== null && can(me.role, 'users:write');
  const [name, setName] = useState(user.name);
  const [email, setEmail] = useState(user.email);
  const [role, setRole] = useState<Role>(user.role);
  const [saved, setSaved] = useState(false);
  const save = useAction(async (patch: UserPatch) => {
    const updated = await must(
      api.PATCH('/api/v1/users/{id}', { params: { path: { id: user.id } }, body: patch }),
    );
    // Show what the API kept (the email lower-cased).
    setName(updated.name);
    setEmail(updated.email);
    setRole(updated.role);
    setSaved(true);
    if (updated.id === me?.id)
      updateCurrentUser({ name: updated.name, email: updated.email, role: updated.role });
    onSaved();
  });
  const errors = {
    name: fieldError(save.error, 'name'),
    email: fieldError(save.error, 'email'),
    role: fieldError(save.error, 'role'),
  };
  const patch: UserPatch = {
    ...(name !== user.name ? { name } : {}),
    ...(email !== user.email ? { email } : {}),
    ...(role !== user.role ? { role } : {}),
  };
  const changed = Object.keys(patch).length > 0;

  function submit(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    if (changed) void save.run(patch);
  }

  return (
    <form onSubmit={submit} noValidate>
      <Field label="Name" id={`${id}-name`} error={errors.name}>
        <input
          id={`${id}-name`}
          value={name}
          onChange={(event) => setName(event.target.value)}
          {...invalidProps(`${id}-name`, errors.name)}
        />
      </Field>
      <Field
        label="Email"
        id={`${id}-email`}
        error={errors.email}
        hint={mayAdminister ? 'The sign-in name' : ''}
      >
        <input
          id={`${id}-email`}
          type="email"
          value={email}
          readOnly={!mayAdminister}
          onChange={(event) => setEmail(event.target.value)}
          {...invalidProps(`${id}-email`, errors.email)}
        />
      </Field>
      {mayAdminister ? (
        <RoleField id={`${id}-role`} role={role} error={errors.role} onChange={setRole} />
      ) : null}
      <FormError error={save.error} fields={Object.keys(errors)} />
      <div className="users-actions">
        <button type="submit" disabled={save.pending || !changed}>
          {save.pending ? 'Saving…' : 'Save profile'}
        </button>
        {saved ? (
          <span className="users-saved" role="status">
            Profile saved
          </span>
        ) : null}
      </div>
    </form>
  );
}

const CHANNELS: { key: 'email' | 'push' | 'sms' | 'in_app' | 'webhook'; label: string }[] = [
  { key: 'in_app', label: 'In-app inbox' },
  { key: 'email', label: 'Email' },
  { key: 'push', label: 'Push' },
  { key: 'sms', label: 'SMS' },
  { key: 'webhook', label: 'Webhook' },
];

const DEFAULT_QUIET_HOURS = { start: '22:00', end: '07:00' };

function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/**
 * A user's notification preferences: channels, opted-out categories, quiet hours and language, with the
 * API's reason for any field under it. Used for anyone's (users:all) and for one's own (the account page).
 */
export function PreferencesForm({ userId }: { userId: string }) {
  const preferences = useQuery(
    () => must(api.GET('/api/v1/users/{id}/preferences', { params: { path: { id: userId } } })),
    [userId],
  );
  return (
    <Loaded query={preferences} what="Loading preferences">
      {(current) => <PreferencesEditor key={userId} userId={userId} initial={current} />}
    </Loaded>
  );
}

function PreferencesEditor({ userId, initial }: { userId: string; initial: Preferences }) {
  const id = useId();
  const [channels, setChannels] = useState({
    email: initial.email,
    push: initial.push,
    sms: initial.sms,
    in_app: initial.in_app,
    webhook: initial.webhook,
  });
  const [optOuts, setOptOuts] = useState(initial.category_opt_outs.join(', '));
  const [quiet, setQuiet] = useState(initial.quiet_hours !== null);
  const [start, setStart] = useState(initial.quiet_hours?.start ?? DEFAULT_QUIET_HOURS.start);
  const [end, setEnd] = useState(initial.quiet_hours?.end ?? DEFAULT_QUIET_HOURS.end);
  const [timeZone, setTimeZone] = useState(initial.quiet_hours?.time_zone ?? browserTimeZone());
  const [locale, setLocale] = useState(initial.locale);
  const [saved, setSaved] = useState(false);
  const zones = useMemo(() => Intl.supportedValuesOf('timeZone'), []);

  const save = useAction(async (input: PreferencesInput) => {
    const stored = await must(
      api.PUT('/api/v1/users/{id}/preferences', { params: { path: { id: userId } }, body: input }),
    );
    // Show what the API kept: zones and locales in canonical form, opt-outs sorted.
    setOptOuts(stored.category_opt_outs.join(', '));
    if (stored.quiet_hours) setTimeZone(stored.quiet_hours.time_zone);
    setLocale(stored.locale);
    setSaved(true);
  });
  const errors = {
    category_opt_outs: fieldError(save.error, 'category_opt_outs'),
    'quiet_hours.start': fieldError(save.error, 'quiet_hours.start'),
    'quiet_hours.end': fieldError(save.error, 'quiet_hours.end'),
    'quiet_hours.time_zone': fieldError(save.error, 'quiet_hours.time_zone'),
    locale: fieldError(save.error, 'locale'),
  };

  function submit(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    void save.run({
      ...channels,
      category_opt_outs: optOuts
        .split(',')
        .map((category) => category.trim())
        .filter((category) => category !== ''),
      quiet_hours: quiet ? { start, end, time_zone: timeZone.trim() } : null,
      locale: locale.trim(),
    });
  }

  return (
    <form onSubmit={submit} noValidate className="users-preferences" aria-label="Notification preferences">
      <fieldset className="users-fieldset">
        <legend>Channels</legend>
        <p className="hint users-legend-hint">Where notifications may reach this person.</p>
        <div className="users-checks">
          {CHANNELS.map((channel) => (
            <label key={channel.key} className="users-check">
              <input
                type="checkbox"
                checked={channels[channel.key]}
                onChange={(event) =>
                  setChannels((previous) => ({ ...previous, [channel.key]: event.target.checked }))
                }
              />
              {channel.label}
            </label>
          ))}
        </div>
      </fieldset>

      <fieldset className="users-fieldset">
        <legend>Quiet hours</legend>
        <label className="users-check">
          <input type="checkbox" checked={quiet} onChange={(event) => setQuiet(event.target.checked)} />
          Hold notifications during quiet hours
        </label>
        {quiet ? (
          <div className="users-quiet">
            <Field label="From" id={`${id}-start`} error={errors['quiet_hours.start']}>
              <input
                id={`${id}-start`}
                type="time"
                value={start}
                onChange={(event) => setStart(event.target.value)}
                {...invalidProps(`${id}-start`, errors['quiet_hours.start'])}
              />
            </Field>
            <Field label="Until" id={`${id}-end`} error={errors['quiet_hours.end']}>
              <input
                id={`${id}-end`}
                type="time"
                value={end}
                onChange={(event) => setEnd(event.target.value)}
                {...invalidProps(`${id}-end`, errors['quiet_hours.end'])}
              />
            </Field>
            <Field label="Time zone" id={`${id}-zone`} error={errors['quiet_hours.time_zone']}>
              <input
                id={`${id}-zone`}
                list={`${id}-zones`}
                value={timeZone}
                autoComplete="off"
                onChange={(event) => setTimeZone(event.target.value)}
                {...invalidProps(`${id}-zone`, errors['quiet_hours.time_zone'])}
              />
              <datalist id={`${id}-zones`}>
                {zones.map((zone) => (
                  <option key={zone} value={zone} />
                ))}
              </datalist>
            </Field>
          </div>
        ) : null}
      </fieldset>

      <div className="users-form-grid">
        <Field
          label="Opted-out categories"
          id={`${id}-opt-outs`}
          error={errors.category_opt_outs}
          hint="Comma-separated, e.g. marketing, digest"
        >
          <input
            id={`${id}-opt-outs`}
            value={optOuts}
            autoComplete="off"
            onChange={(event) => setOptOuts(event.target.value)}
            {...invalidProps(`${id}-opt-outs`, errors.category_opt_outs)}
          />
        </Field>
        <Field
          label="Language"
          id={`${id}-locale`}
          error={errors.locale}
          hint="A BCP 47 tag, e.g. en or pt-BR"
        >
          <input
            id={`${id}-locale`}
            value={locale}
            autoComplete="off"
            onChange={(event) => setLocale(event.target.value)}
            {...invalidProps(`${id}-locale`, errors.locale)}
          />
        </Field>
      </div>

      <FormError error={save.error} fields={Object.keys(errors)} />
      <div className="users-actions">
        <button type="submit" disabled={save.pending}>
          {save.pending ? 'Saving…' : 'Save preferences'}
        </button>
        {saved ? (
          <span className="users-saved" role="status">
            Preferences saved
          </span>
        ) : null}
      </div>
    </form>
  );
}
