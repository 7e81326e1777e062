import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { totp } from '@switchyard/server/test-helpers';
import {
  assertNoConsoleErrors,
  type DashboardRig,
  forgiveOwnRefusals,
  openPage,
  signInThroughForm,
  startRig,
  TEST_ADMIN,
} from './harness.ts';

describe('dashboard: users and API keys', () => {
  let rig: DashboardRig;
  before(async () => {
    rig = await startRig('dashboard_users');
  });
  after(async () => {
    await rig?.close();
  });

  it('creates a user, makes them an operator and sets their quiet hours', async () => {
    const tab = await openPage(rig);
    try {
      const { page } = tab;
      await signInThroughForm(page);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
      await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
      await page.getByRole('table').getByRole('link', { name: 'admin' }).waitFor();

      await page.getByRole('button', { name: 'New user' }).click();
      const form = page.locator('form', { has: page.getByRole('button', { name: 'Create user' }) });
      await form.getByLabel('Name').fill('Grace Hopper');
      await form.getByLabel('Email').fill('grace@example.com');
      // A short password: the API's reason shows under the Password input.
      await form.getByLabel('Password').fill('short');
      await form.getByRole('button', { name: 'Create user' }).click();
      await form
        .locator('.field', { has: page.getByLabel('Password') })
        .getByRole('alert')
        .waitFor();
      await tab.screenshot('users-1-invalid');

      await form.getByLabel('Password').fill('correct horse battery staple 42');
      await form.getByRole('button', { name: 'Create user' }).click();
      await page.getByRole('heading', { level: 1, name: 'Grace Hopper' }).waitFor();
      const summary = page.locator('.users-summary');
      await summary.getByText('member', { exact: true }).waitFor();

      const profile = page.getByRole('region', { name: 'Profile' });
      await profile.getByLabel('Role').selectOption('operator');
      await profile.getByRole('button', { name: 'Save profile' }).click();
      await profile.getByRole('status').filter({ hasText: 'Profile saved' }).waitFor();
      await summary.getByText('operator', { exact: true }).waitFor();
      await tab.screenshot('users-2-operator');

      const preferences = page.getByRole('form', { name: 'Notification preferences' });
      await preferences.getByLabel('Hold notifications during quiet hours').check();
      await preferences.getByLabel('From').fill('22:30');
      await preferences.getByLabel('Until').fill('06:45');
      await preferences.getByLabel('Time zone').fill('Mars/Olympus_Mons');
      await preferences.getByRole('button', { name: 'Save preferences' }).click();
      const zoneError = preferences
        .locator('.field', { has: page.getByLabel('Time zone') })
        .getByRole('alert');
      await zoneError.waitFor();
      assert.match((await zoneError.textContent()) ?? '', /IANA time zone/);
      await tab.screenshot('users-3-quiet-hours-invalid');

      await preferences.getByLabel('Time zone').fill('europe/berlin');
      await preferences.getByRole('button', { name: 'Save preferences' }).click();
      await preferences.getByRole('status').filter({ hasText: 'Preferences saved' }).waitFor();
      // The API keeps the canonical zone name, and the form shows what it kept.
      assert.equal(await preferences.getByLabel('Time zone').inputValue(), 'Europe/Berlin');

      // A fresh load shows what the API stored.
      await page.reload();
      await page.getByRole('heading', { level: 1, name: 'Grace Hopper' }).waitFor();
      const reloaded = page.getByRole('form', { name: 'Notification preferences' });
      assert.equal(await reloaded.getByLabel('Hold notifications during quiet hours').isChecked(), true);
      assert.equal(await reloaded.getByLabel('From').inputValue(), '22:30');
      assert.equal(await reloaded.getByLabel('Until').inputValue(), '06:45');
      assert.equal(await reloaded.getByLabel('Time zone').inputValue(), 'Europe/Berlin');
      await page.locator('.users-summary').getByText('operator', { exact: true }).waitFor();
      await tab.screenshot('users-4-saved');

      // The list finds them by a prefix of their name, as an operator.
      await page.getByRole('link', { name: 'All users' }).click();
      await page.getByLabel('Search users').fill('gra');
      const row = page.getByRole('row', { name: /Grace Hopper/ });
      await row.waitFor();
      await row.getByText('operator').waitFor();
      await page.getByRole('table').getByRole('link', { name: 'admin' }).waitFor({ state: 'detached' });
      await tab.screenshot('users-5-list');

      forgiveOwnRefusals(tab, 400, 2);
      assertNoConsoleErrors(tab);
    } finally {
      await tab.close();
    }
  });

  it('creates an API key, shows it once, and revokes it', async () => {
    const tab = await openPage(rig);
    try {
      const { page } = tab;
      await signInThroughForm(page);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click();
      await page.getByRole('heading', { level: 1, name: 'API keys' }).waitFor();
      await page.getByText('No API keys yet').waitFor();

      await page.getByRole('button', { name: 'New API key' }).click();
      await page.getByLabel('Name').fill('CI deploys');
      await page.getByLabel('Role').selectOption('operator');
      await page.getByRole('button', { name: 'Create key' }).click();
      await page.getByRole('heading', { name: 'Key “CI deploys” created' }).waitFor();
      const key = ((await page.getByTestId('new-api-key').textContent()) ?? '').trim();
      assert.match(key, /^syk_/);
      await tab.screenshot('api-keys-1-created');

      // The key works, with the role it was given.
      const me = await fetch(`${rig.url}/api/v1/auth/me`, { headers: { 'x-api-key': key } });
      assert.equal(me.status, 200);
      assert.equal(((await me.json()) as { role: string }).role, 'operator');

      await page.getByRole('button', { name: 'Done' }).click();
      await page.getByTestId('new-api-key').waitFor({ state: 'detached' });
      const row = page.getByRole('row', { name: /CI deploys/ });
      await row.getByText('active').waitFor();

      page.once('dialog', (dialog) => {
        assert.match(dialog.message(), /Revoke the API key “CI deploys”/);
        void dialog.accept();
      });
      await row.getByRole('button', { name: 'Revoke CI deploys' }).click();
      await row.getByText('revoked').waitFor();
      assert.equal(await row.getByRole('button', { name: 'Revoke CI deploys' }).count(), 0);
      await tab.screenshot('api-keys-2-revoked');

      const refused = await fetch(`${rig.url}/api/v1/auth/me`, { headers: { 'x-api-key': key } });
      assert.equal(refused.status, 401, 'a revoked key is refused');
      assertNoConsoleErrors(tab);
    } finally {
      await tab.close();
    }
  });

  it('shows the account: sessions, and a second factor enrolled, verified and turned off', async () => {
    const tab = await openPage(rig);
    try {
      const { page } = tab;
      await signInThroughForm(page);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account' }).click();
      await page.getByRole('heading', { level: 1, name: 'Account' }).waitFor();
      await page.getByText(TEST_ADMIN.email).first().waitFor();
      const sessions = page.getByRole('list', { name: 'Active sessions' });
      await sessions.getByText('this device').waitFor();
      await page.getByRole('form', { name: 'Notification preferences' }).waitFor();
      await tab.screenshot('account-1');

      // A new name of one's own shows in the header at once, without signing in again.
      await page.getByLabel('Name', { exact: true }).fill('Ada Lovelace');
      await page.getByRole('button', { name: 'Save profile' }).click();
      await page.locator('.topbar .who', { hasText: 'Ada Lovelace' }).waitFor();

      await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
      const uri = (await page.getByTestId('totp-uri').textContent()) ?? '';
      assert.match(uri, /^otpauth:\/\/totp\//);
      const secret = new URL(uri).searchParams.get('secret') ?? '';
      assert.equal((await page.getByTestId('totp-secret').textContent())?.replace(/ /g, ''), secret);
      await page.getByLabel('Code from the app').fill(totp(secret, Date.now()));
      await tab.screenshot('account-2-enrol');
      await page.getByRole('button', { name: 'Verify and turn on' }).click();
      const codes = page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem');
      await codes.first().waitFor();
      assert.equal(await codes.count(), 10);
      const recovery = ((await codes.first().textContent()) ?? '').trim();
      await page.getByText('second factor on').waitFor();
      await tab.screenshot('account-3-recovery-codes');

      await page.getByRole('button', { name: 'I have saved them' }).click();
      await page.getByText('10 of 10 recovery codes left.').waitFor();
      await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
      await page.getByLabel('Password').fill(TEST_ADMIN.password);
      await page.getByLabel('Recovery code').fill(recovery);
      await page.getByRole('button', { name: 'Turn off second factor' }).click();
      await page.getByRole('button', { name: 'Set up an authenticator app' }).waitFor();
      await page.getByText('no second factor').waitFor();
      await tab.screenshot('account-4-off');
      assertNoConsoleErrors(tab);
    } finally {
      await tab.close();
    }
  });
});
