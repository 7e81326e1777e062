import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, call, signIn, testClock, totp } from '@switchyard/server/test-helpers';
import {
  assertNoConsoleErrors,
  type DashboardRig,
  forgiveOwnRefusals,
  openPage,
  signInThroughForm,
  startRig,
  TEST_ADMIN,
} from './harness.ts';

const ACCESS_TOKEN_TTL_MS = 15 * 60_000;

describe('dashboard: sessions', () => {
  describe('with a second factor and a clock that moves', () => {
    let rig: DashboardRig;
    const time = testClock();
    before(async () => {
      rig = await startRig('dashboard_session', {}, { clock: time.clock });
    });
    after(async () => {
      await rig?.close();
    });

    it('refreshes an expired access token without the person noticing', async () => {
      const tab = await openPage(rig);
      try {
        const { page } = tab;
        await signInThroughForm(page);
        const before = await page.evaluate(() => localStorage.getItem('switchyard.session'));
        // The server's clock passes the access token's life; the browser's does not, so it still sends
        // the old token, is refused, and must refresh and retry.
        time.advance(ACCESS_TOKEN_TTL_MS + 60_000);
        await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account' }).click();
        await page.getByRole('heading', { level: 1, name: 'Account' }).waitFor();
        await page.getByText(TEST_ADMIN.email).first().waitFor();
        const after = await page.evaluate(() => localStorage.getItem('switchyard.session'));
        assert.notEqual(after, before, 'new tokens were stored');
        assert.ok(after, 'still signed in');
        await tab.screenshot('session-refreshed');
        // Chromium reports the refused first try; nothing else may fail.
        assert.ok(
          tab.errors.every((error) => error.includes('401')),
          tab.errors.join('\n'),
        );
      } finally {
        await tab.close();
      }
    });

    it('asks for the authenticator code after the password, and takes a recovery code instead', async () => {
      const admin = await signIn(rig.url);
      const enrolment = await call<{ secret: string }>(rig.url, 'POST', '/api/v1/auth/mfa/totp', {
        headers: bearer(admin.access_token),
      });
      assert.equal(enrolment.status, 200);
      const verified = await call<{ recovery_codes: string[] }>(
        rig.url,
        'POST',
        '/api/v1/auth/mfa/totp/verify',
        {
          headers: bearer(admin.access_token),
          json: { code: totp(enrolment.body.secret, time.clock().getTime()) },
        },
      );
      assert.equal(verified.status, 200, JSON.stringify(verified.body));
      const recoveryCode = verified.body.recovery_codes[0] ?? '';

      const tab = await openPage(rig);
      try {
        const { page } = tab;
        await page.goto('/');
        await page.getByLabel('Email').fill(TEST_ADMIN.email);
        await page.getByLabel('Password').fill(TEST_ADMIN.password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByLabel('Code from your authenticator app').fill('000000');
        await tab.screenshot('session-mfa-step');
        await page.getByRole('button', { name: 'Verify' }).click();
        await page.getByRole('alert').filter({ hasText: 'The code is wrong' }).waitFor();

        // The next step's code: the enrolment used this one already.
        await page
          .getByLabel('Code from your authenticator app')
          .fill(totp(enrolment.body.secret, time.clock().getTime() + 30_000));
        time.advance(30_000);
        await page.getByRole('button', { name: 'Verify' }).click();
        await page.getByRole('navigation', { name: 'Main' }).waitFor();
        await page.getByRole('button', { name: 'Sign out' }).click();

        await page.getByLabel('Email').fill(TEST_ADMIN.email);
        await page.getByLabel('Password').fill(TEST_ADMIN.password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
        await page.getByLabel('Recovery code').fill(recoveryCode);
        await page.getByRole('button', { name: 'Verify' }).click();
        await page.getByRole('navigation', { name: 'Main' }).waitFor();
        assert.ok(
          tab.errors.every((error) => error.includes('401')),
          tab.errors.join('\n'),
        );
      } finally {
        await tab.close();
      }
    });
  });

  describe('on a fresh install without an admin', () => {
    let rig: DashboardRig;
    let setupLink = '';
    before(async () => {
      rig = await startRig(
        'dashboard_setup',
        { SWITCHYARD_ADMIN_EMAIL: '', SWITCHYARD_ADMIN_PASSWORD: '' },
        {
          announce: (message) => {
            setupLink = message.match(/https?:\/\/\S+\/setup#token=\S+/)?.[0] ?? setupLink;
          },
        },
      );
    });
    after(async () => {
      await rig?.close();
    });

    it('creates the first admin from the setup link and signs them in', async () => {
      assert.match(setupLink, /\/setup#token=/, 'the start announced a setup link');
      const tab = await openPage(rig);
      try {
        const { page } = tab;
        await page.goto(setupLink);
        await page.getByRole('heading', { name: 'Create the first admin' }).waitFor();
        await page.getByLabel('Name').fill('Ada Admin');
        await page.getByLabel('Email').fill('ada@example.com');
        await page.getByLabel('Password').fill('short');
        await page.getByRole('button', { name: 'Create admin and sign in' }).click();
        // The API's reason for the password shows under it.
        await page.locator('#password-error').waitFor();
        await tab.screenshot('setup-refused');
        await page.getByLabel('Password').fill('a long and uncommon passphrase');
        await page.getByRole('button', { name: 'Create admin and sign in' }).click();
        await page.getByRole('navigation', { name: 'Main' }).waitFor();
        await page.getByText('Ada Admin').first().waitFor();
        await tab.screenshot('setup-done');
        // The link is spent.
        const again = await fetch(`${rig.url}/api/v1/auth/setup`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            token: new URL(setupLink).hash.replace('#token=', ''),
            name: 'Eve',
            email: 'eve@example.com',
            password: 'another long passphrase here',
          }),
        });
        assert.equal(again.status, 409);
        // The short password's 400 is the only error the browser reports.
        forgiveOwnRefusals(tab, 400, 1);
        assertNoConsoleErrors(tab);
      } finally {
        await tab.close();
      }
    });
  });
});
