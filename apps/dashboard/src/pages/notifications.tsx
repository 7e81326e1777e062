import { Page } from '../components/ui.tsx';

export function NotificationsPage(_props: { params: Record<string, string> }) {
  return <Page title="NotificationsPage">{null}</Page>;
}

export function NotificationPage(_props: { params: Record<string, string> }) {
  return <Page title="NotificationPage">{null}</Page>;
}
