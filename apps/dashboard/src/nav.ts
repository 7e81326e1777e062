import { can } from '@switchyard/contracts/identity';

export interface NavItem {
  to: string;
  label: string;
  /** The permission the page's main call needs; the link is shown only to roles that hold it. */
  permission: string;
}

export const NAV_ITEMS: NavItem[] = [
  { to: '/', label: 'Overview', permission: 'auth:self' },
  { to: '/tasks', label: 'Tasks', permission: 'tasks:read' },
  { to: '/notifications', label: 'Notifications', permission: 'notifications:read' },
  { to: '/inbox', label: 'Inbox', permission: 'inbox:read' },
  { to: '/mail', label: 'Mail', permission: 'dev-mail:read' },
  { to: '/templates', label: 'Templates', permission: 'templates:read' },
  { to: '/activity', label: 'Activity', permission: 'activity:read' },
  { to: '/dead-letters', label: 'Dead letters', permission: 'dead-letters:read' },
  { to: '/users', label: 'Users', permission: 'users:all' },
  { to: '/api-keys', label: 'API keys', permission: 'api-keys:manage' },
  { to: '/account', label: 'Account', permission: 'auth:self' },
];

export function visibleItems(role: string): NavItem[] {
  return NAV_ITEMS.filter((item) => can(role, item.permission));
}

export { can };
