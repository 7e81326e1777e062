import { type ComponentType, useEffect, useState, useSyncExternalStore } from 'react';
import { connectInbox, useUnreadCount } from './live.ts';
import { NAV_ITEMS, visibleItems } from './nav.ts';
import { AccountPage } from './pages/account.tsx';
import { ActivityPage } from './pages/activity.tsx';
import { ApiKeysPage } from './pages/api-keys.tsx';
import { DeadLettersPage } from './pages/dead-letters.tsx';
import { InboxPage } from './pages/inbox.tsx';
import { MailPage } from './pages/mail.tsx';
import { NotificationPage, NotificationsPage } from './pages/notifications.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { SetupPage } from './pages/setup.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { TaskPage, TasksPage } from './pages/tasks.tsx';
import { TemplatePage, TemplatesPage } from './pages/templates.tsx';
import { UserPage, UsersPage } from './pages/users.tsx';
import { Link, matchPath, useLocation } from './router.tsx';
import { currentUser, type SessionUser, signOut, subscribe } from './session.ts';

type RouteComponent = ComponentType<{ params: Record<string, string> }>;

const ROUTES: { pattern: string; page: RouteComponent }[] = [
  { pattern: '/', page: OverviewPage },
  { pattern: '/tasks', page: TasksPage },
  { pattern: '/tasks/:id', page: TaskPage },
  { pattern: '/notifications', page: NotificationsPage },
  { pattern: '/notifications/:id', page: NotificationPage },
  { pattern: '/inbox', page: InboxPage },
  { pattern: '/mail', page: MailPage },
  { pattern: '/templates', page: TemplatesPage },
  { pattern: '/templates/:code', page: TemplatePage },
  { pattern: '/activity', page: ActivityPage },
  { pattern: '/dead-letters', page: DeadLettersPage },
  { pattern: '/users', page: UsersPage },
  { pattern: '/users/:id', page: UserPage },
  { pattern: '/api-keys', page: ApiKeysPage },
  { pattern: '/account', page: AccountPage },
];

function useSessionUser(): SessionUser | null {
  return useSyncExternalStore(subscribe, currentUser);
}

export function App() {
  const user = useSessionUser();
  const { path } = useLocation();
  if (path === '/setup') return <SetupPage />;
  if (!user) return <SignInPage />;
  return <Shell user={user} path={path} />;
}

function UnreadBadge() {
  const unread = useUnreadCount();
  return (
    <Link to="/inbox" className="inbox-link" aria-label={`Inbox, ${unread ?? 0} unread`}>
      <span aria-hidden="true">Inbox</span>
      <span className="unread-badge" data-testid="unread-badge" data-count={unread ?? ''} hidden={!unread}>
        {unread ?? ''}
      </span>
    </Link>
  );
}

function Shell({ user, path }: { user: SessionUser; path: string }) {
  const [menuOpen, setMenuOpen] = useState(false);
  const items = visibleItems(user.role);

  useEffect(() => connectInbox(), []);
  // A navigation closes the menu on small screens.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on each path change
  useEffect(() => setMenuOpen(false), [path]);

  const route = ROUTES.map((candidate) => ({
    ...candidate,
    params: matchPath(candidate.pattern, path),
  })).find((candidate) => candidate.params !== null);
  const section = NAV_ITEMS.find((item) => item.to !== '/' && path.startsWith(item.to)) ?? NAV_ITEMS[0];

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button
          type="button"
          className="menu-button"
          aria-expanded={menuOpen}
          aria-controls="nav"
          onClick={() => setMenuOpen((open) => !open)}
        >
          Menu
        </button>
        <Link to="/" className="brand">
          Switchyard
        </Link>
        <div className="topbar-end">
          <UnreadBadge />
          <span className="who" title={user.email}>
            {user.name} <span className="muted">({user.role})</span>
          </span>
          <button type="button" className="secondary" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <nav id="nav" className={`sidebar${menuOpen ? ' open' : ''}`} aria-label="Main">
        <ul>
          {items.map((item) => (
            <li key={item.to}>
              <Link to={item.to} aria-current={section?.to === item.to ? 'page' : undefined}>
                {item.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {route?.params ? (
          <route.page params={route.params} />
        ) : (
          <section className="page">
            <h1>Not found</h1>
            <p>
              There is no page at <code>{path}</code>. <Link to="/">Go to the overview</Link>.
            </p>
          </section>
        )}
      </main>
    </div>
  );
}
