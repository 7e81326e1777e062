import { Page } from '../components/ui.tsx';

export function DeadLettersPage(_props: { params: Record<string, string> }) {
  return <Page title="DeadLettersPage">{null}</Page>;
}
