import { useCallback, useEffect, useRef, useState } from 'react';
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
import { refreshUnread, useInboxArrivals, useLiveConnected, useUnreadCount } from '../live.ts';
import './inbox.css';

type InboxEntry = paths['/api/v1/inbox']['get']['responses'][200]['content']['application/json'][number];

type View = 'all' | 'unread' | 'archived';

const VIEWS: { value: View; label: string }[] = [
  { value: 'all', label: 'All' },
  { value: 'unread', label: 'Unread' },
  { value: 'archived', label: 'Archived' },
];

const PAGE_SIZE = 20;
/** The API's largest page. */
const MAX_PAGE = 100;

interface InboxPageData {
  items: InboxEntry[];
  /** There are older items to load. */
  more: boolean;
}

/** The newest `wanted` items of a view, following the API's `x-next-cursor` across pages. */
async function loadInbox(view: View, wanted: number): Promise<InboxPageData> {
  const items: InboxEntry[] = [];
  let cursor: string | undefined;
  do {
    const result = await api.GET('/api/v1/inbox', {
      params: {
        query: {
          limit: Math.min(MAX_PAGE, wanted - items.length),
          ...(view === 'unread' ? { unread: true } : {}),
          ...(view === 'archived' ? { archived: true } : {}),
          ...(cursor ? { cursor } : {}),
        },
      },
    });
    items.push(...(await must(Promise.resolve(result))));
    cursor = result.response.headers.get('x-next-cursor') ?? undefined;
  } while (cursor && items.length < wanted);
  return { items, more: cursor !== undefined };
}

const EMPTY_TEXT: Record<View, { title: string; detail: string }> = {
  all: {
    title: 'No notifications yet',
    detail: 'In-app notifications sent to you appear here the moment they arrive.',
  },
  unread: { title: 'You are all caught up', detail: 'Nothing unread. New notifications appear here live.' },
  archived: { title: 'Nothing archived', detail: 'Notifications you archive are kept here.' },
};

export function InboxPage(_props: { params: Record<string, string> }) {
  const [view, setView] = useState<View>('all');
  const unread = useUnreadCount();
  const [notice, setNotice] = useState('');
  const markAll = useAction(async () => {
    const result = await must(api.POST('/api/v1/inbox/read-all'));
    await refreshUnread();
    return result.marked;
  });
  // Bumped to make the open list load again after a change made outside it.
  const [changes, setChanges] = useState(0);

  async function onMarkAll() {
    const marked = await markAll.run();
    if (marked === undefined) return;
    setNotice(marked === 1 ? 'Marked 1 notification read.' : `Marked ${marked} notifications read.`);
    setChanges((value) => value + 1);
  }

  return (
    <Page
      title="Inbox"
      actions={
        <button type="button" onClick={() => void onMarkAll()} disabled={markAll.pending || !unread}>
          {markAll.pending ? 'Marking…' : 'Mark all read'}
        </button>
      }
    >
      <div className="toolbar inbox-toolbar">
        <fieldset className="inbox-views">
          <legend className="inbox-sr">Show</legend>
          {VIEWS.map((option) => (
            <button
              key={option.value}
              type="button"
              aria-pressed={view === option.value}
              onClick={() => setView(option.value)}
            >
              {option.label}
              {option.value === 'unread' && unread ? (
                <span className="inbox-view-count">{unread}</span>
              ) : null}
            </button>
          ))}
        </fieldset>
        <LiveStatus />
      </div>
      <p className="inbox-sr" role="status" aria-live="polite">
        {notice}
      </p>
      {markAll.error ? <ErrorState error={markAll.error} /> : null}
      <InboxList key={view} view={view} changes={changes} onNotice={setNotice} />
    </Page>
  );
}

function LiveStatus() {
  const connected = useLiveConnected();
  return (
    <span className={`inbox-live${connected ? ' inbox-live-on' : ''}`} data-testid="live-status">
      <span className="inbox-live-dot" aria-hidden="true" />
      {connected ? 'Live' : 'Offline: new items appear when the connection is back'}
    </span>
  );
}

function InboxList({
  view,
  changes,
  onNotice,
}: {
  view: View;
  changes: number;
  onNotice: (text: string) => void;
}) {
  const [wanted, setWanted] = useState(PAGE_SIZE);
  const query = useQuery(() => loadInbox(view, wanted), [view, wanted]);
  const { reload } = query;

  const onArrival = useCallback(() => reload(), [reload]);
  useInboxArrivals(onArrival);

  // Items that came while the connection was down: load again when it is back.
  const connected = useLiveConnected();
  const wasConnected = useRef(connected);
  useEffect(() => {
    if (connected && !wasConnected.current) reload();
    wasConnected.current = connected;
  }, [connected, reload]);

  const firstChange = useRef(changes);
  useEffect(() => {
    if (changes !== firstChange.current) reload();
  }, [changes, reload]);

  return (
    <Loaded query={query} what="Loading your inbox">
      {(data) =>
        data.items.length === 0 ? (
          <Empty>
            <p className="inbox-empty-title">{EMPTY_TEXT[view].title}</p>
            <p className="muted">{EMPTY_TEXT[view].detail}</p>
          </Empty>
        ) : (
          <>
            <ul className="inbox-list" aria-label="Notifications">
              {data.items.map((item) => (
                <InboxRow key={item.id} item={item} view={view} onChanged={reload} onNotice={onNotice} />
              ))}
            </ul>
            {data.more ? (
              <div className="inbox-more">
                <button
                  type="button"
                  className="secondary"
                  onClick={() => setWanted((value) => value + PAGE_SIZE)}
                >
                  Load older notifications
                </button>
              </div>
            ) : null}
          </>
        )
      }
    </Loaded>
  );
}

type Change = 'read' | 'unread' | 'archive';

const DONE: Record<Change, string> = {
  read: 'Marked read.',
  unread: 'Marked unread.',
  archive: 'Archived.',
};

function InboxRow({
  item,
  view,
  onChanged,
  onNotice,
}: {
  item: InboxEntry;
  view: View;
  onChanged: () => void;
  onNotice: (text: string) => void;
}) {
  const isUnread = item.read_at === null;
  const title = item.title ?? 'Notification';
  const titleId = `inbox-title-${item.id}`;
  const change = useAction(async (kind: Change) => {
    const params = { params: { path: { id: item.id } } };
    if (kind === 'read') await must(api.POST('/api/v1/inbox/{id}/read', params));
    else if (kind === 'unread') await must(api.POST('/api/v1/inbox/{id}/unread', params));
    else await must(api.POST('/api/v1/inbox/{id}/archive', params));
    await refreshUnread();
    return kind;
  });

  async function run(kind: Change) {
    const done = await change.run(kind);
    if (done === undefined) return;
    onNotice(`${title}: ${DONE[done]}`);
    onChanged();
  }

  return (
    <li
      className={`inbox-item${isUnread ? ' is-unread' : ''}`}
      aria-labelledby={titleId}
      data-state={isUnread ? 'unread' : 'read'}
    >
      <span className="inbox-dot" aria-hidden="true" />
      <div className="inbox-main">
        <div className="inbox-heading">
          <h2 className="inbox-title" id={titleId}>
            {title}
          </h2>
          {isUnread ? <span className="badge badge-info">Unread</span> : null}
          {item.category ? <Badge value={item.category} /> : null}
        </div>
        <p className="inbox-body">{item.body}</p>
        <p className="inbox-meta muted">
          <Time at={item.created_at} />
          {item.archived_at ? (
            <>
              {' · archived '}
              <Time at={item.archived_at} />
            </>
          ) : null}
        </p>
        {change.error ? (
          <p className="inbox-error" role="alert">
            {messageOf(change.error)}
          </p>
        ) : null}
      </div>
      <div className="inbox-actions">
        {isUnread ? (
          <button
            type="button"
            className="secondary"
            disabled={change.pending}
            aria-label={`Mark read: ${title}`}
            onClick={() => void run('read')}
          >
            Mark read
          </button>
        ) : (
          <button
            type="button"
            className="secondary"
            disabled={change.pending}
            aria-label={`Mark unread: ${title}`}
            onClick={() => void run('unread')}
          >
            Mark unread
          </button>
        )}
        {view !== 'archived' ? (
          <button
            type="button"
            className="secondary"
            disabled={change.pending}
            aria-label={`Archive: ${title}`}
            onClick={() => void run('archive')}
          >
            Archive
          </button>
        ) : null}
      </div>
    </li>
  );
}
