import { Page } from '../components/ui.tsx';

export function OverviewPage(_props: { params: Record<string, string> }) {
  return <Page title="Overview">{null}</Page>;
}
