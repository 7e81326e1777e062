import { Page } from '../components/ui.tsx';

export function ActivityPage(_props: { params: Record<string, string> }) {
  return <Page title="ActivityPage">{null}</Page>;
}
