import { type FormEvent, useId, useState } from 'react';
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
import { signOut } from '../session.ts';
import { invalidProps, PreferencesForm, ProfileForm, RoleBadge } from './users.tsx';
import './account.css';

type Session = paths['/api/v1/auth/sessions']['get']['responses'][200]['content']['application/json'][number];
type Enrollment = paths['/api/v1/auth/mfa/totp']['post']['responses'][200]['content']['application/json'];

export function AccountPage(_props: { params: Record<string, string> }) {
  const me = useQuery(() => must(api.GET('/api/v1/auth/me')), []);

  return (
    <Page title="Account">
      <Loaded query={me} what="Loading your account">
        {(identity) =>
          identity.user ? (
            <>
              <p className="account-summary">
                <span className="account-email">{identity.user.email}</span>
                <RoleBadge role={identity.user.role} />
                {identity.mfa_enabled ? (
                  <Badge value="active" label="second factor on" />
                ) : (
                  <Badge value="pending" label="no second factor" />
                )}
              </p>
              <div className="two-columns account-columns">
                <section className="panel" aria-labelledby="account-profile-title">
                  <h2 id="account-profile-title" className="account-panel-title">
                    Profile
                  </h2>
                  <AccountProfile userId={identity.user.id} />
                </section>
                <section className="panel" aria-labelledby="account-mfa-title">
                  <h2 id="account-mfa-title" className="account-panel-title">
                    Second factor
                  </h2>
                  <SecondFactor enabled={identity.mfa_enabled} onChange={me.reload} />
                </section>
              </div>
              <Sessions />
              <section className="panel" aria-labelledby="account-preferences-title">
                <h2 id="account-preferences-title" className="account-panel-title">
                  Notification preferences
                </h2>
                <PreferencesForm userId={identity.user.id} />
              </section>
            </>
          ) : (
            <Empty>
              <p>
                This credential is an API key, not a person: it has no profile, sessions or second factor.
              </p>
            </Empty>
          )
        }
      </Loaded>
    </Page>
  );
}

function AccountProfile({ userId }: { userId: string }) {
  const user = useQuery(
    () => must(api.GET('/api/v1/users/{id}', { params: { path: { id: userId } } })),
    [userId],
  );
  return (
    <Loaded query={user} what="Loading your profile">
      {(current) => <ProfileForm key={current.id} user={current} onSaved={user.reload} />}
    </Loaded>
  );
}

/** "Firefox on Windows" from a user agent, or the raw text when it is not recognised. */
function deviceOf(userAgent: string | null): string {
  if (!userAgent) return 'Unknown device';
  const browser =
    [
      ['Edg/', 'Edge'],
      ['OPR/', 'Opera'],
      ['Firefox/', 'Firefox'],
      ['Chrome/', 'Chrome'],
      ['Safari/', 'Safari'],
    ].find(([token]) => token !== undefined && userAgent.includes(token))?.[1] ?? null;
  const system =
    [
      ['Android', 'Android'],
      ['iPhone', 'iOS'],
      ['iPad', 'iPadOS'],
      ['Windows', 'Windows'],
      ['Mac OS X', 'macOS'],
      ['CrOS', 'ChromeOS'],
      ['Linux', 'Linux'],
    ].find(([token]) => token !== undefined && userAgent.includes(token))?.[1] ?? null;
  if (!browser) return userAgent.length > 60 ? `${userAgent.slice(0, 57)}…` : userAgent;
  return system ? `${browser} on ${system}` : browser;
}

function Sessions() {
  const sessions = useQuery(() => must(api.GET('/api/v1/auth/sessions')), []);
  const revoke = useAction(async (session: Session) => {
    if (session.current) {
      await signOut();
      return;
    }
    await must(api.DELETE('/api/v1/auth/sessions/{id}', { params: { path: { id: session.id } } }));
    sessions.reload();
  });
  const everywhere = useAction(async () => {
    await must(api.DELETE('/api/v1/auth/sessions'));
    await signOut({ endedOnServer: true });
  });

  return (
    <section className="panel" aria-labelledby="account-sessions-title">
      <div className="account-panel-head">
        <h2 id="account-sessions-title" className="account-panel-title">
          Sessions
        </h2>
        <button
          type="button"
          className="danger"
          disabled={everywhere.pending}
          onClick={() => {
            if (window.confirm('Sign out on every device, this one included?')) void everywhere.run();
          }}
        >
          Sign out everywhere
        </button>
      </div>
      <FormError error={everywhere.error} fields={[]} />
      <FormError error={revoke.error} fields={[]} />
      <Loaded query={sessions} what="Loading sessions">
        {(items) =>
          items.length === 0 ? (
            <Empty>
              <p>No active sessions.</p>
            </Empty>
          ) : (
            <ul className="account-sessions" aria-label="Active sessions">
              {items.map((session) => (
                <li key={session.id} className="account-session">
                  <div className="account-session-main">
                    <strong title={session.user_agent ?? undefined}>{deviceOf(session.user_agent)}</strong>
                    {session.current ? <Badge value="active" label="this device" /> : null}
                    <div className="muted account-session-facts">
                      {session.ip ? <span>{session.ip}</span> : null}
                      <span>
                        Signed in <Time at={session.created_at} />
                      </span>
                      <span>
                        Last active <Time at={session.last_used_at} />
                      </span>
                    </div>
                  </div>
                  <button
                    type="button"
                    className="secondary"
                    disabled={revoke.pending}
                    aria-label={
                      session.current
                        ? 'Sign out of this device'
                        : `Revoke ${deviceOf(session.user_agent)} session`
                    }
                    onClick={() => void revoke.run(session)}
                  >
                    {session.current ? 'Sign out' : 'Revoke'}
                  </button>
                </li>
              ))}
            </ul>
          )
        }
      </Loaded>
    </section>
  );
}

/** The secret in groups of four, easier to type into an app by hand. */
function grouped(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

function SecondFactor({ enabled, onChange }: { enabled: boolean; onChange(): void }) {
  const id = useId();
  const [enrollment, setEnrollment] = useState<Enrollment | null>(null);
  const [code, setCode] = useState('');
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  const [copied, setCopied] = useState('');

  const start = useAction(async () => {
    setEnrollment(await must(api.POST('/api/v1/auth/mfa/totp')));
    setCode('');
  });
  const verify = useAction(async (value: string) => {
    const result = await must(api.POST('/api/v1/auth/mfa/totp/verify', { body: { code: value } }));
    setEnrollment(null);
    setRecoveryCodes(result.recovery_codes);
    onChange();
  });
  const codeError = fieldError(verify.error, 'code');

  if (recoveryCodes) {
    return (
      <div className="account-recovery">
        <p>
          <strong>Your second factor is on.</strong> Save these recovery codes somewhere safe: each signs you
          in once if you lose your authenticator. They are shown only now.
        </p>
        <ol className="account-codes" aria-label="Recovery codes">
          {recoveryCodes.map((recovery) => (
            <li key={recovery}>
              <code>{recovery}</code>
            </li>
          ))}
        </ol>
        <div className="account-actions">
          <button
            type="button"
            className="secondary"
            onClick={async () =>
              setCopied((await copyText(recoveryCodes.join('\n'))) ? 'Copied.' : 'Copy them by hand.')
            }
          >
            Copy codes
          </button>
          <button type="button" onClick={() => setRecoveryCodes(null)}>
            I have saved them
          </button>
          <span role="status" className="muted">
            {copied}
          </span>
        </div>
      </div>
    );
  }

  if (enabled) return <DisableSecondFactor onChange={onChange} />;

  if (enrollment) {
    return (
      <form
        noValidate
        onSubmit={(event: FormEvent) => {
          event.preventDefault();
          void verify.run(code.trim());
        }}
      >
        <ol className="account-steps">
          <li>
            Add Switchyard to an authenticator app: open this link on your phone, or type the key in by hand.
            <dl className="facts account-enrolment">
              <dt>Key</dt>
              <dd>
                <code data-testid="totp-secret">{grouped(enrollment.secret)}</code>
              </dd>
              <dt>Link</dt>
              <dd>
                <code className="account-uri" data-testid="totp-uri">
                  {enrollment.otpauth_uri}
                </code>
              </dd>
            </dl>
            <button
              type="button"
              className="secondary account-copy"
              onClick={async () =>
                setCopied(
                  (await copyText(enrollment.otpauth_uri)) ? 'Link copied.' : 'Copy the link by hand.',
                )
              }
            >
              Copy link
            </button>
            <span role="status" className="muted">
              {copied}
            </span>
          </li>
          <li>
            Enter the 6-digit code the app shows.
            <Field label="Code from the app" id={`${id}-code`} error={codeError}>
              <input
                id={`${id}-code`}
                inputMode="numeric"
                autoComplete="one-time-code"
                maxLength={6}
                value={code}
                onChange={(event) => setCode(event.target.value)}
                className="account-code-input"
                {...invalidProps(`${id}-code`, codeError)}
              />
            </Field>
          </li>
        </ol>
        <FormError error={verify.error} fields={['code']} />
        <div className="account-actions">
          <button type="submit" disabled={verify.pending}>
            {verify.pending ? 'Checking…' : 'Verify and turn on'}
          </button>
          <button type="button" className="secondary" onClick={() => setEnrollment(null)}>
            Cancel
          </button>
        </div>
      </form>
    );
  }

  return (
    <div>
      <p className="muted">
        Protect your account with a code from an authenticator app (such as 1Password, Aegis or Google
        Authenticator) at each sign-in.
      </p>
      <FormError error={start.error} fields={[]} />
      <button type="button" disabled={start.pending} onClick={() => void start.run()}>
        {start.pending ? 'Starting…' : 'Set up an authenticator app'}
      </button>
    </div>
  );
}

function DisableSecondFactor({ onChange }: { onChange(): void }) {
  const id = useId();
  const remaining = useQuery(() => must(api.GET('/api/v1/auth/mfa/recovery-codes')), []);
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [useRecovery, setUseRecovery] = useState(false);
  const disable = useAction(async () => {
    await must(
      api.POST('/api/v1/auth/mfa/totp/disable', {
        body: useRecovery ? { password, recovery_code: code.trim() } : { password, code: code.trim() },
      }),
    );
    onChange();
  });
  const codeField = useRecovery ? 'recovery_code' : 'code';
  const errors = {
    password: fieldError(disable.error, 'password'),
    code: fieldError(disable.error, codeField),
  };

  return (
    <div>
      <p>
        Sign-ins ask for a code from your authenticator app.{' '}
        {remaining.data ? (
          <span className="muted">{remaining.data.remaining} of 10 recovery codes left.</span>
        ) : null}
      </p>
      <form
        noValidate
        onSubmit={(event: FormEvent) => {
          event.preventDefault();
          void disable.run();
        }}
      >
        <h3 className="account-subtitle">Turn it off</h3>
        <Field label="Password" id={`${id}-password`} error={errors.password}>
          <input
            id={`${id}-password`}
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            {...invalidProps(`${id}-password`, errors.password)}
          />
        </Field>
        <Field
          label={useRecovery ? 'Recovery code' : 'Code from the app'}
          id={`${id}-code`}
          error={errors.code}
        >
          <input
            id={`${id}-code`}
            autoComplete="one-time-code"
            inputMode={useRecovery ? 'text' : 'numeric'}
            value={code}
            onChange={(event) => setCode(event.target.value)}
            {...invalidProps(`${id}-code`, errors.code)}
          />
        </Field>
        <FormError error={disable.error} fields={['password', codeField]} />
        <div className="account-actions">
          <button type="submit" className="danger" disabled={disable.pending}>
            {disable.pending ? 'Turning off…' : 'Turn off second factor'}
          </button>
          <button
            type="button"
            className="link-button"
            onClick={() => {
              setUseRecovery((value) => !value);
              setCode('');
              disable.reset();
            }}
          >
            {useRecovery ? 'Use a code from the app' : 'Use a recovery code instead'}
          </button>
        </div>
      </form>
    </div>
  );
}
