import { Page } from '../components/ui.tsx';

export function AccountPage(_props: { params: Record<string, string> }) {
  return <Page title="AccountPage">{null}</Page>;
}
