import { Page } from '../components/ui.tsx';

export function InboxPage(_props: { params: Record<string, string> }) {
  return <Page title="InboxPage">{null}</Page>;
}
