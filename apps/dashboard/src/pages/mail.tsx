import { useEffect, useId, useRef, useState } from 'react';
import { ApiError, api, must, type paths } from '../api/client.ts';
import { Empty, Loaded, Loading, Page, Time, useQuery } from '../components/ui.tsx';
import { Link, useLocation } from '../router.tsx';
import './mail.css';

/** One captured message, typed from the server's OpenAPI document. */
type CapturedMail = paths['/api/v1/dev/mail']['get']['responses'][200]['content']['application/json'][number];

const REFRESH_MS = 5_000;
/** The capture keeps at most this many messages; the route's largest page. */
const LIMIT = 200;

/** Newest first, as the capture answers. */
function loadMail(): Promise<CapturedMail[]> {
  return must(api.GET('/api/v1/dev/mail', { params: { query: { limit: LIMIT } } }));
}

function captureIsOff(error: unknown): boolean {
  return error instanceof ApiError && error.problem.status === 404;
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
}

export function MailPage(_props: { params: Record<string, string> }) {
  const query = useQuery(loadMail, []);
  const { query: search } = useLocation();
  const selectedId = search.get('id') ?? undefined;
  const [filter, setFilter] = useState('');
  const off = captureIsOff(query.error);
  const { reload } = query;

  // New mail shows without a click, while the tab is in view (and the capture is on).
  useEffect(() => {
    if (off) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') reload();
    }, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [off, reload]);

  return (
    <Page
      title="Mail"
      actions={
        off ? null : (
          <button type="button" className="secondary" onClick={reload}>
            Refresh
          </button>
        )
      }
    >
      {off ? (
        <CaptureOff />
      ) : (
        <>
          <p className="mail-intro muted">
            Mail the built-in SMTP capture received. Nothing here reached a real mailbox: without{' '}
            <code>SMTP_URL</code>, Switchyard keeps outgoing mail in memory (the last {LIMIT} messages) so you
            can check it during development.
          </p>
          <Loaded query={query} what="Loading captured mail">
            {(mails) =>
              mails.length === 0 ? (
                <Empty>
                  <p className="mail-empty-title">No mail captured yet</p>
                  <p className="muted">
                    Send an email notification and it appears here within a few seconds. The list refreshes on
                    its own.
                  </p>
                </Empty>
              ) : (
                <MailBrowser
                  mails={mails}
                  selectedId={selectedId}
                  filter={filter}
                  onFilter={setFilter}
                  loading={query.loading}
                />
              )
            }
          </Loaded>
        </>
      )}
    </Page>
  );
}

function CaptureOff() {
  return (
    <div className="panel mail-off" role="note">
      <h2>Mail capture is off</h2>
      <p>
        This server sends email through the SMTP server named in <code>SMTP_URL</code>, so messages are
        delivered there and not kept here. Look for them in that server's mailbox.
      </p>
      <p className="muted">
        To capture mail while developing, start Switchyard without <code>SMTP_URL</code>: it then runs its own
        SMTP capture on loopback and shows every message on this page.
      </p>
    </div>
  );
}

function matches(mail: CapturedMail, filter: string): boolean {
  const wanted = filter.trim().toLowerCase();
  if (!wanted) return true;
  return [mail.to, mail.subject, mail.from, ...mail.envelope.to].some((field) =>
    field.toLowerCase().includes(wanted),
  );
}

function MailBrowser({
  mails,
  selectedId,
  filter,
  onFilter,
  loading,
}: {
  mails: CapturedMail[];
  selectedId: string | undefined;
  filter: string;
  onFilter: (value: string) => void;
  loading: boolean;
}) {
  const filterId = useId();
  const shown = mails.filter((mail) => matches(mail, filter));
  const selected = selectedId ? mails.find((mail) => mail.id === selectedId) : undefined;

  return (
    <div className="mail-layout">
      <div className="mail-list-pane">
        <div className="mail-filter">
          <label htmlFor={filterId}>Filter</label>
          <input
            id={filterId}
            type="search"
            placeholder="Recipient or subject"
            value={filter}
            onChange={(event) => onFilter(event.target.value)}
          />
        </div>
        <p className="mail-count muted" aria-live="polite">
          {shown.length === mails.length
            ? `${mails.length} ${mails.length === 1 ? 'message' : 'messages'}`
            : `${shown.length} of ${mails.length} messages`}
        </p>
        {shown.length === 0 ? (
          <Empty>No message matches “{filter.trim()}”.</Empty>
        ) : (
          <ul className="mail-list" aria-label="Captured mail">
            {shown.map((mail) => (
              <li key={mail.id}>
                <Link
                  to={`/mail?id=${encodeURIComponent(mail.id)}`}
                  className="mail-list-item"
                  aria-current={mail.id === selectedId ? 'true' : undefined}
                >
                  <span className="mail-list-top">
                    <span className="mail-list-to">
                      {mail.to || mail.envelope.to.join(', ') || '(no recipient)'}
                    </span>
                    <span className="mail-list-time">
                      <Time at={mail.receivedAt} />
                    </span>
                  </span>
                  <span className="mail-list-subject">{mail.subject || '(no subject)'}</span>
                </Link>
              </li>
            ))}
          </ul>
        )}
      </div>
      <div className="mail-detail-pane">
        {selected ? (
          <MailMessage mail={selected} />
        ) : selectedId ? (
          loading ? (
            <Loading what="Loading the message" />
          ) : (
            <Empty>
              <p className="mail-empty-title">This message is no longer in the capture</p>
              <p className="muted">The capture keeps the last {LIMIT} messages, in memory only.</p>
            </Empty>
          )
        ) : (
          <Empty>
            <p className="mail-empty-title">Select a message</p>
            <p className="muted">Its headers, HTML and text parts show here.</p>
          </Empty>
        )}
      </div>
    </div>
  );
}

function MailMessage({ mail }: { mail: CapturedMail }) {
  const envelopeTo = mail.envelope.to.join(', ');
  const ref = useRef<HTMLElement>(null);
  // On a phone the message sits below the list: bring it into view when one is picked.
  useEffect(() => {
    if (mail.id && window.matchMedia('(max-width: 760px)').matches)
      ref.current?.scrollIntoView({ block: 'start' });
  }, [mail.id]);
  return (
    <article ref={ref} className="panel mail-message" aria-labelledby="mail-subject">
      <h2 id="mail-subject" className="mail-subject">
        {mail.subject || '(no subject)'}
      </h2>
      <dl className="facts mail-headers">
        <dt>From</dt>
        <dd>{mail.from || mail.envelope.from || '—'}</dd>
        <dt>To</dt>
        <dd>{mail.to || '—'}</dd>
        {envelopeTo && envelopeTo !== mail.to ? (
          <>
            <dt>Envelope to</dt>
            <dd>{envelopeTo}</dd>
          </>
        ) : null}
        <dt>Date</dt>
        <dd>
          <Time at={mail.date} />
        </dd>
        <dt>Received</dt>
        <dd>
          <Time at={mail.receivedAt} />
        </dd>
        {mail.messageId ? (
          <>
            <dt>Message-ID</dt>
            <dd>
              <code>{mail.messageId}</code>
            </dd>
          </>
        ) : null}
        <dt>Size</dt>
        <dd>{formatSize(mail.sizeBytes)}</dd>
      </dl>

      <section aria-labelledby="mail-html-heading">
        <h3 id="mail-html-heading" className="mail-part-heading">
          HTML
        </h3>
        {mail.html ? (
          // An empty sandbox: the message's scripts, forms and links cannot run or reach the dashboard.
          <iframe
            className="mail-html"
            sandbox=""
            srcDoc={mail.html}
            title={`HTML part of “${mail.subject}”`}
          />
        ) : (
          <p className="muted">This message has no HTML part.</p>
        )}
      </section>

      <section aria-labelledby="mail-text-heading">
        <h3 id="mail-text-heading" className="mail-part-heading">
          Text
        </h3>
        {mail.text ? (
          <pre className="mail-text" data-testid="mail-text">
            {mail.text}
          </pre>
        ) : (
          <p className="muted">This message has no text part.</p>
        )}
      </section>
    </article>
  );
}
