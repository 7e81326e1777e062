import { Page } from '../components/ui.tsx';

export function UsersPage(_props: { params: Record<string, string> }) {
  return <Page title="UsersPage">{null}</Page>;
}

export function UserPage(_props: { params: Record<string, string> }) {
  return <Page title="UserPage">{null}</Page>;
}
