import { type FormEvent, useRef, useState } from 'react';
import { Field } from '../components/ui.tsx';
import { signIn } from '../session.ts';

/** Email and password, then (for an account with a second factor) the authenticator code or a recovery code. */
export function SignInPage() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [step, setStep] = useState<'password' | 'mfa'>('password');
  const [useRecovery, setUseRecovery] = useState(false);
  const [code, setCode] = useState('');
  const [pending, setPending] = useState(false);
  const [failure, setFailure] = useState<{ detail: string; fields: Record<string, string> } | null>(null);
  const codeInput = useRef<HTMLInputElement>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setPending(true);
    setFailure(null);
    try {
      const secondFactor =
        step === 'mfa' ? (useRecovery ? { recovery_code: code.trim() } : { totp_code: code.trim() }) : {};
      const result = await signIn({ email, password, ...secondFactor });
      if (result.kind === 'mfa-required') {
        setStep('mfa');
        queueMicrotask(() => codeInput.current?.focus());
      } else if (result.kind === 'refused') {
        setFailure({ detail: result.detail, fields: result.fields });
      }
    } catch {
      setFailure({ detail: 'The server cannot be reached. Is Switchyard running?', fields: {} });
    } finally {
      setPending(false);
    }
  }

  return (
    <main className="auth-page" id="main">
      <form className="auth-card" onSubmit={submit} noValidate aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Sign in to Switchyard</h1>
        {step === 'password' ? (
          <>
            <Field label="Email" id="email" error={failure?.fields.email}>
              <input
                id="email"
                type="email"
                autoComplete="username"
                required
                value={email}
                onChange={(event) => setEmail(event.target.value)}
              />
            </Field>
            <Field label="Password" id="password" error={failure?.fields.password}>
              <input
                id="password"
                type="password"
                autoComplete="current-password"
                required
                value={password}
                onChange={(event) => setPassword(event.target.value)}
              />
            </Field>
          </>
        ) : (
          <>
            <p>This account has a second factor.</p>
            <Field
              label={useRecovery ? 'Recovery code' : 'Code from your authenticator app'}
              id="code"
              error={failure?.fields.totp_code ?? failure?.fields.recovery_code}
            >
              <input
                id="code"
                ref={codeInput}
                inputMode={useRecovery ? 'text' : 'numeric'}
                autoComplete="one-time-code"
                required
                value={code}
                onChange={(event) => setCode(event.target.value)}
              />
            </Field>
            <button type="button" className="link-button" onClick={() => setUseRecovery((value) => !value)}>
              {useRecovery ? 'Use the authenticator code instead' : 'Use a recovery code instead'}
            </button>
          </>
        )}
        {failure ? (
          <p className="form-error" role="alert">
            {failure.detail}
          </p>
        ) : null}
        <button type="submit" disabled={pending}>
          {pending ? 'Signing in…' : step === 'mfa' ? 'Verify' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
