import { type FormEvent, useState } from 'react';
import { Field } from '../components/ui.tsx';
import { navigate } from '../router.tsx';
import { signIn } from '../session.ts';

/** The first admin, from the one-time link Switchyard prints at its first start (`/setup#token=…`). */
export function SetupPage() {
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token') ?? '';
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [pending, setPending] = useState(false);
  const [failure, setFailure] = useState<{ detail: string; fields: Record<string, string> } | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setPending(true);
    setFailure(null);
    try {
      const response = await fetch('/api/v1/auth/setup', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token, name, email, password }),
      });
      if (response.status === 201) {
        await signIn({ email, password });
        navigate('/', { replace: true });
        return;
      }
      const problem = (await response.json().catch(() => ({}))) as {
        detail?: string;
        title?: string;
        errors?: { field: string; reason: string }[];
      };
      setFailure({
        detail: problem.detail ?? problem.title ?? `Setup failed (${response.status})`,
        fields: Object.fromEntries((problem.errors ?? []).map((error) => [error.field, error.reason])),
      });
    } catch {
      setFailure({ detail: 'The server cannot be reached. Is Switchyard running?', fields: {} });
    } finally {
      setPending(false);
    }
  }

  return (
    <main className="auth-page" id="main">
      <form className="auth-card" onSubmit={submit} noValidate aria-labelledby="setup-title">
        <h1 id="setup-title">Create the first admin</h1>
        {token ? null : (
          <p className="form-error" role="alert">
            This page needs the link Switchyard printed at its first start (it ends in <code>#token=…</code>).
          </p>
        )}
        <Field label="Name" id="name" error={failure?.fields.name}>
          <input
            id="name"
            autoComplete="name"
            value={name}
            onChange={(event) => setName(event.target.value)}
          />
        </Field>
        <Field label="Email" id="email" error={failure?.fields.email}>
          <input
            id="email"
            type="email"
            autoComplete="username"
            value={email}
            onChange={(event) => setEmail(event.target.value)}
          />
        </Field>
        <Field label="Password" id="password" error={failure?.fields.password} hint="12 characters or more">
          <input
            id="password"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </Field>
        {failure ? (
          <p className="form-error" role="alert">
            {failure.detail}
          </p>
        ) : null}
        <button type="submit" disabled={pending || !token}>
          {pending ? 'Creating…' : 'Create admin and sign in'}
        </button>
      </form>
    </main>
  );
}
