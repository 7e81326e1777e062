import { useEffect, useState, useSyncExternalStore } from 'react';
import { api, must, type paths } from '../api/client.ts';
import { BarChart } from '../components/charts.tsx';
import { Badge, Empty, Loaded, Page, Time, useQuery } from '../components/ui.tsx';
import { useUnreadCount } from '../live.ts';
import { can } from '../nav.ts';
import { Link } from '../router.tsx';
import { currentUser, subscribe } from '../session.ts';
import './overview.css';

type Overview = paths['/api/v1/system/overview']['get']['responses'][200]['content']['application/json'];
type ConsumerGroup = Overview['consumer_groups'][number];

const REFRESH_MS = 5_000;

export function OverviewPage(_props: { params: Record<string, string> }) {
  const user = useSyncExternalStore(subscribe, currentUser);
  if (user && can(user.role, 'metrics:read')) return <SystemOverview />;
  return <MemberOverview name={user?.name ?? ''} />;
}

/** What a member sees: their own places, no system figures (they may not read them). */
function MemberOverview({ name }: { name: string }) {
  const unread = useUnreadCount();
  return (
    <Page title="Overview">
      <p className="muted">Welcome back{name ? `, ${name}` : ''}. Where would you like to go?</p>
      <ul className="shortcuts">
        <li>
          <Link to="/inbox" className="shortcut">
            <span className="shortcut-title">Inbox</span>
            <span className="shortcut-text">
              {unread === undefined
                ? 'Your notifications'
                : unread === 0
                  ? 'You are all caught up'
                  : `${unread} unread notification${unread === 1 ? '' : 's'}`}
            </span>
          </Link>
        </li>
        <li>
          <Link to="/tasks" className="shortcut">
            <span className="shortcut-title">Tasks</span>
            <span className="shortcut-text">Create and follow your tasks</span>
          </Link>
        </li>
        <li>
          <Link to="/account" className="shortcut">
            <span className="shortcut-title">Account</span>
            <span className="shortcut-text">Password, two-step sign-in and sessions</span>
          </Link>
        </li>
      </ul>
    </Page>
  );
}

function useEverySecond(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

function SystemOverview() {
  const query = useQuery(() => must(api.GET('/api/v1/system/overview')), []);
  const { reload } = query;
  useEffect(() => {
    const timer = setInterval(reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [reload]);

  return (
    <Page
      title="Overview"
      actions={
        query.data ? (
          <>
            <span className="muted refreshed" aria-live="off">
              <span className="pulse" aria-hidden="true" /> Updated{' '}
              <RelativeTime at={query.data.generated_at} /> · every 5 s
            </span>
            <button type="button" className="secondary" onClick={reload}>
              Refresh
            </button>
          </>
        ) : null
      }
    >
      <Loaded query={query} what="Loading the overview">
        {(overview) => <OverviewBody overview={overview} />}
      </Loaded>
    </Page>
  );
}

function RelativeTime({ at }: { at: string }) {
  const now = useEverySecond();
  const seconds = Math.max(0, Math.round((now - new Date(at).getTime()) / 1000));
  return (
    <time dateTime={at} title={new Date(at).toLocaleString()}>
      {seconds < 2 ? 'just now' : `${seconds} s ago`}
    </time>
  );
}

export function formatUptime(totalSeconds: number): string {
  const days = Math.floor(totalSeconds / 86_400);
  const hours = Math.floor((totalSeconds % 86_400) / 3_600);
  const minutes = Math.floor((totalSeconds % 3_600) / 60);
  const seconds = totalSeconds % 60;
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${minutes} min`;
  if (minutes > 0) return `${minutes} min ${seconds} s`;
  return `${seconds} s`;
}

function StatusBadge({ status }: { status: 'ok' | 'failing' | 'degraded' }) {
  if (status === 'ok') return <Badge value="active" label="healthy" />;
  if (status === 'degraded') return <Badge value="retrying" label="degraded" />;
  return <Badge value="failed" label="failing" />;
}

const MINUTE_FORMAT = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

function OverviewBody({ overview }: { overview: Overview }) {
  const failing = overview.dependencies.filter((dependency) => dependency.status !== 'ok');
  const degraded = overview.services.filter((service) => service.status !== 'ok');
  const { throughput } = overview;
  const lastMinute = throughput.minutes.at(-1);
  return (
    <div className="overview">
      <p className={`overview-summary ${failing.length + degraded.length === 0 ? 'is-good' : 'is-bad'}`}>
        {failing.length + degraded.length === 0
          ? 'All systems are healthy.'
          : [
              failing.length > 0 ? `${failing.map((each) => each.name).join(', ')} failing` : '',
              degraded.length > 0 ? `${degraded.map((each) => each.name).join(', ')} degraded` : '',
            ]
              .filter(Boolean)
              .join('; ')}
      </p>

      <div className="overview-top">
        <section className="panel process" aria-labelledby="process-heading">
          <h2 id="process-heading">This process</h2>
          <dl className="facts">
            <dt>Version</dt>
            <dd>{overview.version}</dd>
            <dt>Mode</dt>
            <dd>{overview.mode}</dd>
            <dt>Bus</dt>
            <dd>{overview.bus}</dd>
            <dt>Uptime</dt>
            <dd data-testid="uptime">{formatUptime(overview.uptime_seconds)}</dd>
            <dt>Started</dt>
            <dd>
              <Time at={overview.started_at} />
            </dd>
          </dl>
        </section>

        <section className="panel dependencies" aria-labelledby="dependencies-heading">
          <h2 id="dependencies-heading">Dependencies</h2>
          <ul className="health-list" aria-label="Dependencies">
            {overview.dependencies.map((dependency) => (
              <li key={dependency.name} data-testid={`dependency-${dependency.name}`}>
                <span className="health-name">{dependency.name}</span>
                <span className="muted health-detail">
                  {dependency.detail} · {dependency.latency_ms} ms
                </span>
                <StatusBadge status={dependency.status} />
              </li>
            ))}
          </ul>
        </section>

        <section className="panel services" aria-labelledby="services-heading">
          <h2 id="services-heading">Services</h2>
          {overview.services.length === 0 ? (
            <Empty>No services run in this process.</Empty>
          ) : (
            <ul className="health-list" aria-label="Services">
              {overview.services.map((service) => (
                <li key={service.name} data-testid={`service-${service.name}`}>
                  <span className="health-name">{service.name}</span>
                  <span className="muted health-detail">
                    {service.groups.length === 0
                      ? 'API only'
                      : `${service.groups.length} consumer group${service.groups.length === 1 ? '' : 's'}`}
                  </span>
                  <StatusBadge status={service.status} />
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>

      <section className="panel" aria-labelledby="throughput-heading">
        <div className="section-head">
          <h2 id="throughput-heading">Throughput, last hour</h2>
          <dl className="figures">
            <div>
              <dt>Published</dt>
              <dd data-testid="published-last-hour">{throughput.published_last_hour}</dd>
            </div>
            <div>
              <dt>Handled</dt>
              <dd data-testid="handled-last-hour">{throughput.handled_last_hour}</dd>
            </div>
            <div>
              <dt>This minute</dt>
              <dd>{lastMinute ? `${lastMinute.published} / ${lastMinute.handled}` : '—'}</dd>
            </div>
          </dl>
        </div>
        {throughput.published_last_hour + throughput.handled_last_hour === 0 ? (
          <Empty>No events went through in the last hour.</Empty>
        ) : (
          <BarChart
            title="Events published and handled per minute, last 60 minutes"
            layout="grouped"
            series={[
              { key: 'published', label: 'Published' },
              { key: 'handled', label: 'Handled' },
            ]}
            columns={throughput.minutes.map((minute) => ({
              label: MINUTE_FORMAT.format(new Date(minute.start)),
              values: { published: minute.published, handled: minute.handled },
            }))}
            labelEvery={15}
          />
        )}
        <p className="hint">
          Published counts every event written by the installation; handled counts what this process's
          consumers handled.
        </p>
      </section>

      <section className="panel" aria-labelledby="groups-heading">
        <h2 id="groups-heading">Consumer groups</h2>
        <ConsumerGroups groups={overview.consumer_groups} />
      </section>
    </div>
  );
}

function waitingText(group: ConsumerGroup): string {
  if (group.waiting === null) return 'unknown';
  return group.capped ? `${group.waiting}+` : String(group.waiting);
}

function ConsumerGroups({ groups }: { groups: ConsumerGroup[] }) {
  if (groups.length === 0) return <Empty>No consumer groups run in this process.</Empty>;
  return (
    <div className="table-wrap">
      <table className="groups-table">
        <thead>
          <tr>
            <th scope="col">Group</th>
            <th scope="col" className="service">
              Service
            </th>
            <th scope="col" className="topics">
              Topics
            </th>
            <th scope="col" className="numeric">
              Waiting
            </th>
            <th scope="col" className="numeric">
              Dead letters
            </th>
          </tr>
        </thead>
        <tbody>
          {groups.map((group) => (
            <tr key={group.group} data-testid={`group-${group.group}`}>
              <th scope="row">
                <code>{group.group}</code>
              </th>
              <td className="service">{group.service ?? <span className="muted">—</span>}</td>
              <td className="topics">{group.topics.join(', ')}</td>
              <td className="numeric">
                <span className={`lag lag-${lagTone(group)}`}>{waitingText(group)}</span>
                {group.reason ? <small className="lag-reason muted">{group.reason}</small> : null}
              </td>
              <td className="numeric">
                {group.dead_letters > 0 ? (
                  <Link to={`/dead-letters?group=${encodeURIComponent(group.group)}`}>
                    {group.dead_letters}
                  </Link>
                ) : (
                  0
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function lagTone(group: ConsumerGroup): 'none' | 'some' | 'high' | 'unknown' {
  if (group.waiting === null) return 'unknown';
  if (group.waiting === 0) return 'none';
  return group.waiting >= 1_000 ? 'high' : 'some';
}
