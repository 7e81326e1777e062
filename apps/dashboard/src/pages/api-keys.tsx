import { Page } from '../components/ui.tsx';

export function ApiKeysPage(_props: { params: Record<string, string> }) {
  return <Page title="ApiKeysPage">{null}</Page>;
}
