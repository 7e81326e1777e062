import { type FormEvent, useId, useRef, useState } from 'react';
import { api, must, type paths } from '../api/client.ts';
import {
  Badge,
  Empty,
  Field,
  FormError,
  fieldError,
  Loaded,
  Page,
  Time,
  useAction,
  useQuery,
} from '../components/ui.tsx';
import { invalidProps, RoleBadge, RoleField } from './users.tsx';
import './api-keys.css';

type ApiKey = paths['/api/v1/api-keys']['get']['responses'][200]['content']['application/json'][number];
type NewApiKey = paths['/api/v1/api-keys']['post']['requestBody']['content']['application/json'];
type CreatedApiKey = paths['/api/v1/api-keys']['post']['responses'][201]['content']['application/json'];
type Role = NewApiKey['role'];

function stateOf(key: ApiKey, nowMs: number): 'active' | 'revoked' | 'expired' {
  if (key.revoked_at) return 'revoked';
  if (key.expires_at && new Date(key.expires_at).getTime() <= nowMs) return 'expired';
  return 'active';
}

export function ApiKeysPage(_props: { params: Record<string, string> }) {
  const keys = useQuery(() => must(api.GET('/api/v1/api-keys')), []);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const revoke = useAction(async (id: string) => {
    await must(api.DELETE('/api/v1/api-keys/{id}', { params: { path: { id } } }));
    keys.reload();
  });

  function confirmRevoke(key: ApiKey) {
    if (window.confirm(`Revoke the API key “${key.name}”? Machines using it are refused at once.`)) {
      void revoke.run(key.id);
    }
  }

  const nowMs = Date.now();

  return (
    <Page
      title="API keys"
      actions={
        creating ? null : (
          <button
            type="button"
            onClick={() => {
              setCreating(true);
              setCreated(null);
            }}
          >
            New API key
          </button>
        )
      }
    >
      <p className="muted keys-intro">
        An API key lets a machine call Switchyard with the role it was created with. Send it in the{' '}
        <code>x-api-key</code> header.
      </p>
      {created ? <NewKeySecret created={created} onDone={() => setCreated(null)} /> : null}
      {creating ? (
        <section className="panel" aria-labelledby="new-key-title">
          <h2 id="new-key-title" className="keys-panel-title">
            New API key
          </h2>
          <NewKeyForm
            onCancel={() => setCreating(false)}
            onCreated={(key) => {
              setCreating(false);
              setCreated(key);
              keys.reload();
            }}
          />
        </section>
      ) : null}
      <FormError error={revoke.error} fields={[]} />
      <Loaded query={keys} what="Loading API keys">
        {(items) =>
          items.length === 0 ? (
            <Empty>
              <p>No API keys yet. Create one for each machine that calls Switchyard.</p>
            </Empty>
          ) : (
            <div className="table-wrap">
              <table className="keys-table">
                <caption className="visually-hidden">API keys</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Role</th>
                    <th scope="col">Status</th>
                    <th scope="col" className="keys-hide-narrow">
                      Created
                    </th>
                    <th scope="col" className="keys-hide-narrow">
                      Expires
                    </th>
                    <th scope="col" className="keys-hide-narrow">
                      Last used
                    </th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((key) => {
                    const state = stateOf(key, nowMs);
                    return (
                      <tr key={key.id} className={state === 'active' ? undefined : 'keys-inactive'}>
                        <th scope="row" className="keys-name">
                          {key.name}
                          <div>
                            <code className="keys-prefix">{key.prefix}…</code>
                          </div>
                        </th>
                        <td>
                          <RoleBadge role={key.role} />
                        </td>
                        <td>
                          <Badge value={state === 'expired' ? 'failed' : state} label={state} />
                        </td>
                        <td className="keys-hide-narrow">
                          <Time at={key.created_at} />
                        </td>
                        <td className="keys-hide-narrow">
                          {key.expires_at ? (
                            <Time at={key.expires_at} />
                          ) : (
                            <span className="muted">Never</span>
                          )}
                        </td>
                        <td className="keys-hide-narrow">
                          {key.last_used_at ? (
                            <Time at={key.last_used_at} />
                          ) : (
                            <span className="muted">Never</span>
                          )}
                        </td>
                        <td className="keys-actions-cell">
                          {state === 'active' ? (
                            <button
                              type="button"
                              className="secondary keys-revoke"
                              aria-label={`Revoke ${key.name}`}
                              disabled={revoke.pending}
                              onClick={() => confirmRevoke(key)}
                            >
                              Revoke
                            </button>
                          ) : key.revoked_at ? (
                            <span className="muted keys-when">
                              <Time at={key.revoked_at} />
                            </span>
                          ) : null}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )
        }
      </Loaded>
    </Page>
  );
}

function NewKeyForm({ onCancel, onCreated }: { onCancel(): void; onCreated(key: CreatedApiKey): void }) {
  const id = useId();
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [expires, setExpires] = useState('');
  const create = useAction(async (input: NewApiKey) => {
    onCreated(await must(api.POST('/api/v1/api-keys', { body: input })));
  });
  const errors = {
    name: fieldError(create.error, 'name'),
    role: fieldError(create.error, 'role'),
    expires_at: fieldError(create.error, 'expires_at'),
  };

  function submit(event: FormEvent) {
    event.preventDefault();
    // A datetime-local value is local time without a zone; the API wants an instant.
    const expiresAt = expires ? new Date(expires) : null;
    void create.run({
      name: name.trim(),
      role,
      ...(expiresAt && !Number.isNaN(expiresAt.getTime()) ? { expires_at: expiresAt.toISOString() } : {}),
    });
  }

  return (
    <form onSubmit={submit} noValidate>
      <div className="keys-form-grid">
        <Field label="Name" id={`${id}-name`} error={errors.name} hint="What uses it, e.g. “CI deploys”">
          <input
            id={`${id}-name`}
            value={name}
            autoComplete="off"
            onChange={(event) => setName(event.target.value)}
            {...invalidProps(`${id}-name`, errors.name)}
          />
        </Field>
        <RoleField id={`${id}-role`} role={role} error={errors.role} onChange={setRole} />
        <Field
          label="Expires"
          id={`${id}-expires`}
          error={errors.expires_at}
          hint="Optional; empty never expires"
        >
          <input
            id={`${id}-expires`}
            type="datetime-local"
            value={expires}
            onChange={(event) => setExpires(event.target.value)}
            {...invalidProps(`${id}-expires`, errors.expires_at)}
          />
        </Field>
      </div>
      <FormError error={create.error} fields={Object.keys(errors)} />
      <div className="keys-actions">
        <button type="submit" disabled={create.pending}>
          {create.pending ? 'Creating…' : 'Create key'}
        </button>
        <button type="button" className="secondary" onClick={onCancel} disabled={create.pending}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** The key itself, shown this once: the API keeps only its hash. */
function NewKeySecret({ created, onDone }: { created: CreatedApiKey; onDone(): void }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  const secretRef = useRef<HTMLElement>(null);

  async function copy() {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopied('yes');
    } catch {
      // No clipboard access (an insecure origin, a refused permission): select it for a manual copy.
      const element = secretRef.current;
      const selection = window.getSelection();
      if (element && selection) {
        const range = document.createRange();
        range.selectNodeContents(element);
        selection.removeAllRanges();
        selection.addRange(range);
      }
      setCopied('failed');
    }
  }

  return (
    <section className="panel keys-secret" aria-labelledby="key-secret-title">
      <h2 id="key-secret-title" className="keys-panel-title">
        Key “{created.name}” created
      </h2>
      <p>Copy it now: it is shown only this once. Switchyard keeps only a hash of it.</p>
      <div className="keys-secret-row">
        <code ref={secretRef} className="keys-secret-value" data-testid="new-api-key">
          {created.key}
        </code>
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
      </div>
      <p className="keys-copy-state" role="status">
        {copied === 'yes' ? 'Copied to the clipboard.' : null}
        {copied === 'failed'
          ? 'The clipboard is not available here: the key is selected, copy it by hand.'
          : null}
      </p>
      <button type="button" className="secondary" onClick={onDone}>
        Done
      </button>
    </section>
  );
}
