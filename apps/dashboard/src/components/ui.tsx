import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/client.ts';

export interface Query<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload(): void;
}

/** Loads `load()` when `key` changes; `reload` loads again without showing the loading state. */
export function useQuery<T>(load: () => Promise<T>, key: unknown[]): Query<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const keyText = JSON.stringify(key);

  // biome-ignore lint/correctness/useExhaustiveDependencies: the key (and a reload) decide when to load
  useEffect(() => {
    let current = true;
    setState((previous) => ({ ...previous, loading: previous.data === undefined, error: undefined }));
    loadRef.current().then(
      (data) => current && setState({ data, error: undefined, loading: false }),
      (error: unknown) => current && setState((previous) => ({ ...previous, error, loading: false })),
    );
    return () => {
      current = false;
    };
  }, [keyText, generation]);

  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { ...state, reload };
}

/** Runs a change (a save, a delete), keeping its pending state and its error for the form. */
export function useAction<A extends unknown[], R>(
  action: (...args: A) => Promise<R>,
): { run(...args: A): Promise<R | undefined>; pending: boolean; error: unknown; reset(): void } {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>();
  const run = async (...args: A) => {
    setPending(true);
    setError(undefined);
    try {
      return await action(...args);
    } catch (caught) {
      setError(caught);
      return undefined;
    } finally {
      setPending(false);
    }
  };
  return { run, pending, error, reset: () => setError(undefined) };
}

export function Page({
  title,
  actions,
  children,
}: {
  title: string;
  actions?: ReactNode;
  children: ReactNode;
}) {
  useEffect(() => {
    document.title = `${title} · Switchyard`;
  }, [title]);
  return (
    <section className="page" aria-labelledby="page-title">
      <header className="page-header">
        <h1 id="page-title">{title}</h1>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="state state-empty">{children}</div>;
}

export function messageOf(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = error.problem.errors?.map((field) => `${field.field}: ${field.reason}`).join('; ');
    return [error.problem.detail ?? error.problem.title, fields].filter(Boolean).join(' — ');
  }
  if (error instanceof TypeError) return 'The server cannot be reached. Is Switchyard running?';
  return error instanceof Error ? error.message : String(error);
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div className="state state-error" role="alert">
      <p>{messageOf(error)}</p>
      {retry ? (
        <button type="button" onClick={retry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

/** A query's three states around its content. */
export function Loaded<T>({
  query,
  what,
  children,
}: {
  query: Query<T>;
  what?: string;
  children: (data: T) => ReactNode;
}) {
  if (query.loading) return <Loading {...(what ? { what } : {})} />;
  if (query.data === undefined) return <ErrorState error={query.error} retry={query.reload} />;
  return (
    <>
      {query.error ? <ErrorState error={query.error} retry={query.reload} /> : null}
      {children(query.data)}
    </>
  );
}

const TONES: Record<string, string> = {
  sent: 'good',
  delivered: 'good',
  done: 'good',
  active: 'good',
  read: 'muted',
  accepted: 'info',
  scheduled: 'info',
  pending: 'info',
  in_progress: 'info',
  queued: 'info',
  processing: 'info',
  retrying: 'warn',
  partial: 'warn',
  skipped: 'muted',
  cancelled: 'muted',
  disabled: 'muted',
  failed: 'bad',
  revoked: 'bad',
};

export function Badge({ value, label }: { value: string; label?: string }) {
  return (
    <span className={`badge badge-${TONES[value] ?? 'muted'}`}>{label ?? value.replace(/_/g, ' ')}</span>
  );
}

/**
 * A list filter: a labelled select whose value goes to the page's query. `any` names the empty choice
 * (no filter); without it every choice is a value (a sort order).
 */
export function FilterSelect({
  id,
  label,
  labelClassName,
  value,
  options,
  any,
  onChange,
}: {
  id: string;
  label: string;
  /** `visually-hidden` where the toolbar shows no labels. */
  labelClassName?: string;
  value: string;
  options: readonly { value: string; label: string }[];
  any?: string;
  onChange(value: string): void;
}) {
  return (
    <>
      <label className={labelClassName} htmlFor={id}>
        {label}
      </label>
      <select id={id} value={value} onChange={(event) => onChange(event.target.value)}>
        {any === undefined ? null : <option value="">{any}</option>}
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </>
  );
}

/** A labelled input with the API's reason for that field under it. */
export function Field({
  label,
  error,
  hint,
  children,
  id,
}: {
  label: string;
  id: string;
  error?: string | undefined;
  hint?: string;
  children: ReactNode;
}) {
  return (
    <div className={`field${error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && !error ? <small className="hint">{hint}</small> : null}
      {error ? (
        <small className="field-error" id={`${id}-error`} role="alert">
          {error}
        </small>
      ) : null}
    </div>
  );
}

export function fieldError(error: unknown, field: string): string | undefined {
  return error instanceof ApiError ? error.fieldError(field) : undefined;
}

/** The form's error when no field claims it. */
export function FormError({ error, fields }: { error: unknown; fields: string[] }) {
  if (!error) return null;
  if (error instanceof ApiError && fields.some((field) => error.fieldError(field))) return null;
  return <ErrorState error={error} />;
}

export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return <span className="muted">—</span>;
  const date = new Date(at);
  return (
    <time dateTime={date.toISOString()} title={date.toISOString()}>
      {date.toLocaleString()}
    </time>
  );
}
