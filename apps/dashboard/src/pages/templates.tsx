import { Page } from '../components/ui.tsx';

export function TemplatesPage(_props: { params: Record<string, string> }) {
  return <Page title="TemplatesPage">{null}</Page>;
}

export function TemplatePage(_props: { params: Record<string, string> }) {
  return <Page title="TemplatePage">{null}</Page>;
}
