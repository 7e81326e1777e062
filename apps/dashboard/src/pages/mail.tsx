import { Page } from '../components/ui.tsx';

export function MailPage(_props: { params: Record<string, string> }) {
  return <Page title="MailPage">{null}</Page>;
}
