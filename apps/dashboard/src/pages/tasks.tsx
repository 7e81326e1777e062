import { Page } from '../components/ui.tsx';

export function TasksPage(_props: { params: Record<string, string> }) {
  return <Page title="TasksPage">{null}</Page>;
}

export function TaskPage(_props: { params: Record<string, string> }) {
  return <Page title="TaskPage">{null}</Page>;
}
