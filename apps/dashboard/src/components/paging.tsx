import { useCallback, useEffect, useRef, useState } from 'react';
import { FormError, type Query } from './ui.tsx';

/** One page of a cursor-paged list: its items and the X-Next-Cursor for the next page, if any. */
export interface PageOf<T> {
  items: T[];
  next: string | undefined;
}

/** The X-Next-Cursor header of a list answer: there is another page. */
export function nextCursorOf(response: Response): string | undefined {
  return response.headers.get('x-next-cursor') ?? undefined;
}

export interface PagedQuery<T> extends Query<T[]> {
  /** There is a next page to load. */
  hasMore: boolean;
  loadingMore: boolean;
  moreError: unknown;
  loadMore(): void;
}

interface State<T> {
  items: T[] | undefined;
  next: string | undefined;
  error: unknown;
  loading: boolean;
  loadingMore: boolean;
  moreError: unknown;
}

/**
 * A cursor-paged list: the first page whenever `key` changes, further pages appended by `loadMore`.
 * `reload` fetches the first page again (keeping the shown items until it answers) and drops the rest.
 */
export function usePaged<T>(load: (cursor: string | undefined) => Promise<PageOf<T>>, key: unknown[]) {
  const [state, setState] = useState<State<T>>({
    items: undefined,
    next: undefined,
    error: undefined,
    loading: true,
    loadingMore: false,
    moreError: undefined,
  });
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  // Bumped by every first-page load, so a late "load more" answer of an older list is dropped.
  const epoch = useRef(0);
  const keyText = JSON.stringify(key);
  const lastKey = useRef<string | undefined>(undefined);

  // biome-ignore lint/correctness/useExhaustiveDependencies: the key (and a reload) decide when to load
  useEffect(() => {
    let current = true;
    const mine = ++epoch.current;
    // A new filter starts from an empty list so stale rows never show under it; a reload keeps them.
    const fresh = lastKey.current !== keyText;
    lastKey.current = keyText;
    setState((previous) => ({
      ...previous,
      ...(fresh ? { items: undefined, next: undefined } : {}),
      loading: fresh || previous.items === undefined,
      error: undefined,
      loadingMore: false,
      moreError: undefined,
    }));
    loadRef.current(undefined).then(
      (page) =>
        current &&
        mine === epoch.current &&
        setState({
          items: page.items,
          next: page.next,
          error: undefined,
          loading: false,
          loadingMore: false,
          moreError: undefined,
        }),
      (error: unknown) => current && setState((previous) => ({ ...previous, error, loading: false })),
    );
    return () => {
      current = false;
    };
  }, [keyText, generation]);

  const reload = useCallback(() => setGeneration((value) => value + 1), []);

  const loadMore = () => {
    const cursor = state.next;
    if (!cursor || state.loadingMore) return;
    const mine = epoch.current;
    setState((previous) => ({ ...previous, loadingMore: true, moreError: undefined }));
    loadRef.current(cursor).then(
      (page) =>
        mine === epoch.current &&
        setState((previous) => ({
          ...previous,
          items: [...(previous.items ?? []), ...page.items],
          next: page.next,
          loadingMore: false,
        })),
      (moreError: unknown) =>
        mine === epoch.current && setState((previous) => ({ ...previous, moreError, loadingMore: false })),
    );
  };

  const paged: PagedQuery<T> = {
    data: state.items,
    error: state.error,
    loading: state.loading,
    reload,
    hasMore: state.next !== undefined,
    loadingMore: state.loadingMore,
    moreError: state.moreError,
    loadMore,
  };
  return paged;
}

/** How many rows show, and the button that fetches the next page (with its error, if it failed). */
export function LoadMore<T>({
  paged,
  noun,
}: {
  paged: PagedQuery<T>;
  noun: [singular: string, plural: string];
}) {
  const shown = paged.data?.length ?? 0;
  return (
    <>
      <div className="load-more">
        <span className="muted" aria-live="polite">
          {shown} {shown === 1 ? noun[0] : noun[1]} shown
        </span>
        {paged.hasMore ? (
          <button type="button" className="secondary" onClick={paged.loadMore} disabled={paged.loadingMore}>
            {paged.loadingMore ? 'Loading…' : 'Load more'}
          </button>
        ) : null}
      </div>
      <FormError error={paged.moreError} fields={[]} />
    </>
  );
}
