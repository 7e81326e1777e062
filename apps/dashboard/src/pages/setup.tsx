import { type FormEvent, useState } from 'react';
import { api, must } from '../api/client.ts';
import { Field, FormError, fieldError, useAction } from '../components/ui.tsx';
import { navigate } from '../router.tsx';
import { signIn } from '../session.ts';

/** The first admin, from the one-time link Switchyard prints at its first start (`/setup#token=…`). */
export function SetupPage() {
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token') ?? '';
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const create = useAction(async () => {
    await must(api.POST('/api/v1/auth/setup', { body: { token, name, email, password } }));
    await signIn({ email, password });
    navigate('/', { replace: true });
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    void create.run();
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
        <Field label="Name" id="name" error={fieldError(create.error, 'name')}>
          <input
            id="name"
            autoComplete="name"
            value={name}
            onChange={(event) => setName(event.target.value)}
          />
        </Field>
        <Field label="Email" id="email" error={fieldError(create.error, 'email')}>
          <input
            id="email"
            type="email"
            autoComplete="username"
            value={email}
            onChange={(event) => setEmail(event.target.value)}
          />
        </Field>
        <Field
          label="Password"
          id="password"
          error={fieldError(create.error, 'password')}
          hint="12 characters or more"
        >
          <input
            id="password"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </Field>
        <FormError error={create.error} fields={['name', 'email', 'password']} />
        <button type="submit" disabled={create.pending || !token}>
          {create.pending ? 'Creating…' : 'Create admin and sign in'}
        </button>
      </form>
    </main>
  );
}
