import { type FormEvent, useEffect, useRef, useState } from 'react';
import { api, must, type paths } from '../api/client.ts';
import { BarChart, type ChartColumn } from '../components/charts.tsx';
import {
  Empty,
  ErrorState,
  Field,
  FilterSelect,
  Loaded,
  Loading,
  Page,
  useQuery,
} from '../components/ui.tsx';
import { replaceQuery, useLocation } from '../router.tsx';
import './activity.css';

type ActivityEvent =
  paths['/api/v1/activity/events']['get']['responses'][200]['content']['application/json'][number];
type EventsQuery = NonNullable<paths['/api/v1/activity/events']['get']['parameters']['query']>;
type Stats = paths['/api/v1/activity/stats']['get']['responses'][200]['content']['application/json'];

const POLL_MS = 2_000;
/** Events the live stream keeps on screen; older ones fall off the bottom. */
const STREAM_SIZE = 200;
const FIRST_PAGE = 50;

const RANGES = {
  hour: { label: 'Last hour, per minute', interval: 'minute', count: 60, sizeMs: 60_000 },
  day: { label: 'Last 24 hours, per hour', interval: 'hour', count: 24, sizeMs: 3_600_000 },
  month: { label: 'Last 30 days, per day', interval: 'day', count: 30, sizeMs: 86_400_000 },
} as const;
type RangeName = keyof typeof RANGES;
const isRange = (value: string): value is RangeName => value in RANGES;

/** One page of events and the cursor that asks for what comes after its newest one. */
async function fetchEvents(query: EventsQuery): Promise<{ events: ActivityEvent[]; cursor?: string }> {
  const result = await api.GET('/api/v1/activity/events', { params: { query } });
  const events = await must(Promise.resolve(result));
  const cursor = result.response.headers.get('x-newest-cursor');
  return cursor ? { events, cursor } : { events };
}

const TIME = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

function payloadText(payload: ActivityEvent['payload']): string {
  if (!payload || Object.keys(payload).length === 0) return '';
  const text = JSON.stringify(payload);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** A stable colour per event type, in the chart's palette. */
function typeTone(type: string, types: string[]): number {
  const index = types.indexOf(type);
  if (index >= 0) return index % 8;
  let hash = 0;
  for (const char of type) hash = (hash * 31 + char.charCodeAt(0)) % 8;
  return hash;
}

function TypeChip({ type, types }: { type: string; types: string[] }) {
  return (
    <span className="type-chip">
      <span className={`chart-swatch chart-series-${typeTone(type, types)}`} aria-hidden="true" />
      {type}
    </span>
  );
}

export function ActivityPage(_props: { params: Record<string, string> }) {
  const { query } = useLocation();
  const type = query.get('type') ?? '';
  const user = query.get('user') ?? '';
  const rangeParam = query.get('range') ?? 'hour';
  const range: RangeName = isRange(rangeParam) ? rangeParam : 'hour';
  const [statsTick, setStatsTick] = useState(0);

  const stats = useQuery(() => {
    const spec = RANGES[range];
    const to = new Date();
    const from = new Date(to.getTime() - spec.count * spec.sizeMs);
    return must(
      api.GET('/api/v1/activity/stats', {
        params: { query: { from: from.toISOString(), to: to.toISOString(), interval: spec.interval } },
      }),
    );
  }, [range, statsTick]);
  const types = stats.data?.eventTypes ?? [];

  return (
    <Page
      title="Activity"
      actions={
        <div className="toolbar activity-filter">
          <FilterSelect
            id="activity-type"
            label="Event type"
            value={type}
            options={[...new Set([...types, ...(type ? [type] : [])])].map((each) => ({
              value: each,
              label: each,
            }))}
            any="All types"
            onChange={(value) => replaceQuery({ type: value })}
          />
        </div>
      }
    >
      <section className="panel" aria-labelledby="chart-heading">
        <div className="panel-head">
          <h2 id="chart-heading">Events per type</h2>
          <select
            aria-label="Period"
            value={range}
            onChange={(event) =>
              replaceQuery({ range: event.target.value === 'hour' ? '' : event.target.value })
            }
          >
            {Object.entries(RANGES).map(([name, spec]) => (
              <option key={name} value={name}>
                {spec.label}
              </option>
            ))}
          </select>
        </div>
        <Loaded query={stats} what="Loading the counts">
          {(data) => <StatsChart stats={data} range={range} type={type} />}
        </Loaded>
      </section>

      <div className="activity-columns">
        <LiveStream
          type={type}
          types={types}
          onUser={(userId) => replaceQuery({ user: userId })}
          onNew={() => setStatsTick((tick) => tick + 1)}
        />
        <Timeline
          key={user}
          user={user}
          type={type}
          types={types}
          onUser={(userId) => replaceQuery({ user: userId })}
        />
      </div>
    </Page>
  );
}

function bucketLabel(start: Date, range: RangeName): string {
  if (range === 'month') return start.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  return start.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

function StatsChart({ stats, range, type }: { stats: Stats; range: RangeName; type: string }) {
  const spec = RANGES[range];
  const fromMs = new Date(stats.from).getTime();
  const seen = new Set(stats.buckets.flatMap((bucket) => Object.keys(bucket.counts)));
  const allTypes = [...stats.eventTypes, ...[...seen].filter((each) => !stats.eventTypes.includes(each))];
  const shown = type ? [type] : allTypes;
  const columns: ChartColumn[] = Array.from({ length: spec.count }, (_, index) => ({
    label: bucketLabel(new Date(fromMs + index * spec.sizeMs), range),
    values: {},
  }));
  for (const bucket of stats.buckets) {
    const index = Math.round((new Date(bucket.start).getTime() - fromMs) / spec.sizeMs);
    const column = columns[Math.min(Math.max(index, 0), columns.length - 1)];
    if (column) for (const [key, count] of Object.entries(bucket.counts)) column.values[key] = count;
  }
  const total = columns.reduce(
    (sum, column) => sum + shown.reduce((inner, key) => inner + (column.values[key] ?? 0), 0),
    0,
  );
  if (total === 0) {
    return (
      <Empty>
        No {type ? <code>{type}</code> : null} events in this period. Events appear here once they are
        processed.
      </Empty>
    );
  }
  return (
    <>
      <p className="muted chart-total">
        {total} event{total === 1 ? '' : 's'} {type ? `of type ${type} ` : ''}in this period
      </p>
      <BarChart
        title={`Activity events per type, ${spec.label.toLowerCase()}`}
        series={allTypes
          .map((key) => ({ key, label: key, tone: typeTone(key, allTypes) }))
          .filter((series) => shown.includes(series.key))}
        columns={columns}
        labelEvery={range === 'hour' ? 15 : range === 'day' ? 6 : 7}
      />
    </>
  );
}

interface StreamItem extends ActivityEvent {
  fresh: boolean;
}

/**
 * The newest events, newest on top. The first page comes newest first; after that the stream asks every
 * 2 s for what was processed after the newest event it has (the cursor the list answers with).
 */
function LiveStream({
  type,
  types,
  onUser,
  onNew,
}: {
  type: string;
  types: string[];
  onUser(userId: string): void;
  onNew(): void;
}) {
  const [items, setItems] = useState<StreamItem[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<unknown>();
  const [paused, setPaused] = useState(false);
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  const onNewRef = useRef(onNew);
  onNewRef.current = onNew;

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let first = true;
    let cursor: string | undefined;
    const filter = type ? { eventType: type } : {};
    setItems([]);
    setLoaded(false);
    setError(undefined);

    async function tick() {
      try {
        if (first) {
          const page = await fetchEvents({ ...filter, order: 'desc', limit: FIRST_PAGE });
          if (stopped) return;
          cursor = page.cursor;
          first = false;
          setItems(page.events.map((event) => ({ ...event, fresh: false })));
          setLoaded(true);
        } else if (!pausedRef.current) {
          const page = await fetchEvents({ ...filter, limit: STREAM_SIZE, ...(cursor ? { cursor } : {}) });
          if (stopped) return;
          if (page.events.length > 0) {
            cursor = page.cursor ?? cursor;
            const incoming = page.events.map((event) => ({ ...event, fresh: true })).reverse();
            setItems((previous) =>
              [...incoming, ...previous.map((item) => (item.fresh ? { ...item, fresh: false } : item))].slice(
                0,
                STREAM_SIZE,
              ),
            );
            onNewRef.current();
          }
        }
        setError(undefined);
      } catch (caught) {
        if (!stopped) setError(caught);
      }
      if (!stopped) timer = setTimeout(() => void tick(), POLL_MS);
    }
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [type]);

  return (
    <section className="panel stream" aria-labelledby="stream-heading">
      <div className="panel-head">
        <h2 id="stream-heading">Live stream</h2>
        <div className="stream-controls">
          <span className={`live-status${paused ? ' is-paused' : ''}`} role="status">
            <span className="live-dot" aria-hidden="true" />
            {paused ? 'Paused' : 'Live'}
          </span>
          <button
            type="button"
            className="secondary"
            aria-pressed={paused}
            onClick={() => setPaused(!paused)}
          >
            {paused ? 'Resume' : 'Pause'}
          </button>
        </div>
      </div>
      {error ? <ErrorState error={error} /> : null}
      {!loaded ? (
        error ? null : (
          <Loading what="Loading events" />
        )
      ) : items.length === 0 ? (
        <Empty>
          No {type ? <code>{type}</code> : null} events yet. New ones appear here as they are processed.
        </Empty>
      ) : (
        <ol className="event-list" aria-label="Latest events, newest first">
          {items.map((item) => (
            <li key={item.eventId} className={item.fresh ? 'is-new' : undefined}>
              <time dateTime={item.timestamp} title={new Date(item.timestamp).toLocaleString()}>
                {TIME.format(new Date(item.timestamp))}
              </time>
              <TypeChip type={item.eventType} types={types} />
              <button
                type="button"
                className="link-button event-user"
                onClick={() => onUser(item.userId)}
                aria-label={`Timeline of ${item.userId}`}
              >
                {item.userId}
              </button>
              {item.payload && Object.keys(item.payload).length > 0 ? (
                <code className="event-payload">{payloadText(item.payload)}</code>
              ) : null}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function Timeline({
  user,
  type,
  types,
  onUser,
}: {
  user: string;
  type: string;
  types: string[];
  onUser(userId: string): void;
}) {
  const [draft, setDraft] = useState(user);
  const timeline = useQuery(
    () =>
      user
        ? must(
            api.GET('/api/v1/activity/users/{userId}/events', {
              params: { path: { userId: user }, query: { limit: 100 } },
            }),
          )
        : Promise.resolve([]),
    [user],
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    onUser(draft.trim());
  }

  return (
    <section className="panel timeline" aria-labelledby="timeline-heading">
      <div className="panel-head">
        <h2 id="timeline-heading">{user ? `Timeline of ${user}` : 'User timeline'}</h2>
        {user ? (
          <button type="button" className="secondary" onClick={timeline.reload}>
            Refresh
          </button>
        ) : null}
      </div>
      <form className="timeline-form" onSubmit={submit}>
        <Field label="User id" id="timeline-user">
          <input
            id="timeline-user"
            value={draft}
            maxLength={256}
            onChange={(event) => setDraft(event.target.value)}
            placeholder="e.g. user-42"
            autoComplete="off"
          />
        </Field>
        <button type="submit" disabled={draft.trim() === ''}>
          Show timeline
        </button>
      </form>
      {!user ? (
        <Empty>Enter a user id, or pick a user in the live stream, to see their events.</Empty>
      ) : (
        <Loaded query={timeline} what="Loading the timeline">
          {(events) => {
            const shown = type ? events.filter((event) => event.eventType === type) : events;
            if (shown.length === 0) {
              return (
                <Empty>
                  No {type ? <code>{type}</code> : null} events for <code>{user}</code>.
                </Empty>
              );
            }
            return (
              <ol className="timeline-list" aria-label={`Events of ${user}, newest first`}>
                {shown.map((event) => (
                  <li key={event.eventId}>
                    <time dateTime={event.timestamp}>{new Date(event.timestamp).toLocaleString()}</time>
                    <TypeChip type={event.eventType} types={types} />
                    {event.payload && Object.keys(event.payload).length > 0 ? (
                      <code className="event-payload">{payloadText(event.payload)}</code>
                    ) : null}
                  </li>
                ))}
              </ol>
            );
          }}
        </Loaded>
      )}
    </section>
  );
}
