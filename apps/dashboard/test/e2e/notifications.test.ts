import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  assertNoConsoleErrors,
  type DashboardRig,
  openPage,
  signInThroughForm,
  startRig,
  TEST_ADMIN,
} from './harness.ts';

/** What Chromium logs for a response the page asked for and got a 4xx for. */
const BAD_REQUEST_LINE = 'Failed to load resource: the server responded with a status of 400 (Bad Request)';

async function adminToken(url: string): Promise<string> {
  const response = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: TEST_ADMIN.email, password: TEST_ADMIN.password }),
  });
  assert.equal(response.status, 200);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** `<input type="datetime-local">`'s value for `date` in this machine's zone (the browser's too). */
function localInputValue(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

describe('dashboard: templates and notifications', () => {
  let rig: DashboardRig;
  before(async () => {
    rig = await startRig('dashboard_notifications');
  });
  after(async () => {
    await rig?.close();
  });

  it('writes a template in two versions, diffs and rolls back, sends with it, and cancels a scheduled one', async () => {
    const tab = await openPage(rig);
    try {
      const { page } = tab;
      const token = await adminToken(rig.url);
      await signInThroughForm(page);

      // Templates: empty, then a new one.
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Templates' }).click();
      await page.getByRole('heading', { level: 1, name: 'Templates' }).waitFor();
      await page.getByText('No templates yet.').waitFor();
      await tab.screenshot('notifications-01-templates-empty');

      await page.getByRole('link', { name: 'New template' }).click();
      const create = page.locator('form', { has: page.getByRole('heading', { name: 'New template' }) });
      await create.getByLabel('Code').fill('welcome');
      await create.getByLabel('Name').fill('Welcome');
      await create.getByLabel('Subject').fill('Welcome, {{ user.name }}');
      await create.getByLabel('HTML content').fill('<p>Hello {{ user.name }}, your code is {{ code }}.</p>');
      await tab.screenshot('notifications-02-template-create');
      await create.getByRole('button', { name: 'Create template' }).click();

      await page.getByRole('heading', { level: 1, name: 'Template welcome' }).waitFor();
      assert.match(page.url(), /\/templates\/welcome\?language=en$/);
      // The preview renders the saved version with a sample for every variable it reads.
      await page.getByTestId('preview-subject').filter({ hasText: 'Welcome, user.name' }).waitFor();
      const versions = page.getByRole('table', { name: 'Versions of welcome in en' });
      await versions.locator('tr[data-version="1"]').getByText('live').waitFor();
      await tab.screenshot('notifications-03-template-v1');

      // A second version: the preview follows the editor, the diff shows the change.
      await page
        .getByLabel('HTML content')
        .fill('<p>Hi {{ user.name }}!</p>\n<p>Your code is {{ code }}.</p>');
      await page
        .locator('.tpl-rendered-text')
        .filter({ hasText: 'Hi user.name!' })
        .waitFor({ state: 'attached' });
      await page.getByRole('button', { name: 'Save new version' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved version 2, now live.' }).waitFor();
      await versions.locator('tr[data-version="2"]').getByText('live').waitFor();
      await versions.locator('tr[data-version="1"]').getByText('inactive').waitFor();
      const diff = page.locator('.tpl-diff');
      await diff.getByRole('heading', { name: 'Compare versions' }).waitFor();
      await diff
        .locator('[data-kind="removed"]', { hasText: 'Hello {{ user.name }}, your code is {{ code }}.' })
        .waitFor();
      await diff.locator('[data-kind="added"]', { hasText: '<p>Hi {{ user.name }}!</p>' }).waitFor();
      await diff.locator('[data-kind="added"]', { hasText: '<p>Your code is {{ code }}.</p>' }).waitFor();
      assert.equal(await diff.locator('[data-kind="removed"]').count(), 1);
      assert.equal(await diff.locator('[data-kind="added"]').count(), 2);
      await tab.screenshot('notifications-04-template-diff');

      // Roll back: version 1 is live again.
      await versions.getByRole('button', { name: 'Roll back to v1' }).click();
      await page.getByRole('status').filter({ hasText: 'Version 1 is live.' }).waitFor();
      await versions.locator('tr[data-version="1"]').getByText('live').waitFor();
      await versions.locator('tr[data-version="2"]').getByRole('button', { name: 'Activate v2' }).waitFor();
      const live = await fetch(`${rig.url}/api/v1/templates/welcome`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(((await live.json()) as { version: number }).version, 1, 'the API serves version 1 again');
      await tab.screenshot('notifications-05-template-rolled-back');

      // Notifications: none yet.
      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Notifications' })
        .click();
      await page.getByRole('heading', { level: 1, name: 'Notifications' }).waitFor();
      await page.getByText('No notifications have been sent yet.').waitFor();
      await tab.screenshot('notifications-06-list-empty');

      // The send form with the template: the preview renders the variables as they are typed.
      await page.getByRole('link', { name: 'Send a notification' }).click();
      const form = page.locator('form', { has: page.getByRole('heading', { name: 'Send a notification' }) });
      await form.getByLabel('Recipients', { exact: true }).fill('not-an-address');
      await form.getByLabel('Template', { exact: true }).selectOption('welcome');
      await form.getByTestId('preview-subject').filter({ hasText: 'Welcome, user.name' }).waitFor();
      await form.getByLabel('Variables (JSON)', { exact: true }).fill('{"user": {"name": "Ada"}, "code": ');
      await form.getByText('Not valid JSON').waitFor();
      await form
        .getByLabel('Variables (JSON)', { exact: true })
        .fill('{"user": {"name": "Ada"}, "code": "4242"}');
      await form.getByTestId('preview-subject').filter({ hasText: 'Welcome, Ada' }).waitFor();
      await form
        .locator('.tpl-rendered-text')
        .filter({ hasText: 'Hello Ada, your code is 4242.' })
        .waitFor({ state: 'attached' });
      assert.ok(
        await form.getByLabel('Email', { exact: true }).isChecked(),
        'the template chose its channel',
      );

      // An invalid recipient: the API's reason, next to the recipients.
      const refused = await fetch(`${rig.url}/api/v1/notifications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          recipients: [{ email: 'not-an-address' }],
          channels: ['email'],
          template_code: 'welcome',
          variables: { user: { name: 'Ada' }, code: '4242' },
        }),
      });
      assert.equal(refused.status, 400);
      const reason = ((await refused.json()) as { errors: { field: string; reason: string }[] }).errors.find(
        (error) => error.field === 'recipients.0.email',
      )?.reason;
      assert.ok(reason, 'the API names recipients.0.email');
      await form.getByRole('button', { name: 'Send', exact: true }).click();
      const recipientError = form
        .locator('.field', { has: page.getByLabel('Recipients') })
        .locator('.field-error');
      await recipientError.filter({ hasText: `“not-an-address”: ${reason}` }).waitFor();
      await tab.screenshot('notifications-07-send-refused');

      // A good one: sent through the dev mail capture, every attempt shown.
      await form.getByLabel('Recipients', { exact: true }).fill('ada@example.com');
      await tab.screenshot('notifications-08-send-form');
      await form.getByRole('button', { name: 'Send', exact: true }).click();
      await page.waitForURL(/\/notifications\/[^/?]+$/);
      await page.getByRole('heading', { level: 1, name: 'Notification', exact: true }).waitFor();
      const requestId = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1) ?? '');
      assert.ok(requestId);
      await page.locator('.nt-summary-head .badge', { hasText: 'sent' }).waitFor();
      const attempts = page.getByRole('table', { name: 'Attempts: Email' });
      await attempts.getByRole('row').filter({ hasText: 'sent' }).waitFor();
      await page.getByRole('heading', { name: /Email to ada@example\.com/ }).waitFor();
      await page.getByText('Updating every 2 seconds').waitFor({ state: 'detached' });
      await tab.screenshot('notifications-09-sent');
      // The mail really went, from version 1 (rolled back to).
      const mail = await fetch(`${rig.url}/api/v1/dev/mail?to=ada@example.com`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const captured = JSON.stringify(await mail.json());
      assert.match(captured, /Welcome, Ada/);
      assert.match(captured, /Hello Ada, your code is 4242\./);

      // The list shows it with its badge.
      await page.getByRole('link', { name: '← All notifications' }).click();
      const row = page.locator(`tr[data-request="${requestId}"]`);
      await row.locator('.badge', { hasText: 'sent' }).waitFor();
      await row.getByRole('link', { name: 'Template welcome' }).waitFor();
      await tab.screenshot('notifications-10-list');

      // Scheduled an hour ahead with inline content, then cancelled from its page.
      await page.getByRole('link', { name: 'Send a notification' }).click();
      await form.getByLabel('Recipients', { exact: true }).fill('later@example.com');
      await form.getByLabel('Write it here', { exact: true }).check();
      await form.getByLabel('Subject', { exact: true }).fill('See you later');
      await form.getByLabel('Message', { exact: true }).fill('This one waits an hour.');
      await form.getByLabel('Later', { exact: true }).check();
      await form
        .getByLabel('Send at', { exact: true })
        .fill(localInputValue(new Date(Date.now() + 3600_000)));
      await tab.screenshot('notifications-11-schedule-form');
      await form.getByRole('button', { name: 'Schedule' }).click();
      await page.waitForURL(/\/notifications\/[^/?]+$/);
      await page.getByRole('heading', { level: 1, name: 'Notification', exact: true }).waitFor();
      await page.locator('.nt-summary-head .badge', { hasText: 'scheduled' }).waitFor();
      await page.getByText('Scheduled for').waitFor();
      await tab.screenshot('notifications-12-scheduled');
      await page.getByRole('button', { name: 'Cancel notification' }).click();
      await page.getByRole('button', { name: 'Yes, cancel' }).click();
      await page.locator('.nt-summary-head .badge', { hasText: 'cancelled' }).waitFor();
      await page.locator('.nt-delivery .badge', { hasText: 'cancelled' }).waitFor();
      await page.getByRole('button', { name: 'Cancel notification' }).waitFor({ state: 'detached' });
      await tab.screenshot('notifications-13-cancelled');

      // The list filtered by status.
      await page.getByRole('link', { name: '← All notifications' }).click();
      await page.getByLabel('Status').selectOption('cancelled');
      await page.locator('tbody tr').first().getByText('See you later').waitFor();
      // The unfiltered list (newest first) also starts with it: wait for the filtered answer to replace it.
      await page.locator('tbody tr').nth(1).waitFor({ state: 'detached' });
      assert.equal(await page.locator('tbody tr').count(), 1);
      await tab.screenshot('notifications-14-list-filtered');

      // The one deliberate bad input (the invalid recipient) is the only error the browser reports.
      const refusedAt = tab.errors.indexOf(BAD_REQUEST_LINE);
      assert.ok(refusedAt >= 0, `the refused send was logged: ${tab.errors.join('\n')}`);
      tab.errors.splice(refusedAt, 1);
      assertNoConsoleErrors(tab);
    } finally {
      await tab.close();
    }
  });

  it('fits a phone screen', async () => {
    const tab = await openPage(rig, { width: 375, height: 740 });
    try {
      const { page } = tab;
      // On a phone the navigation hides behind the menu button.
      await page.goto('/');
      await page.getByLabel('Email').fill(TEST_ADMIN.email);
      await page.getByLabel('Password').fill(TEST_ADMIN.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Menu' }).waitFor();
      await page.goto('/notifications?send=1');
      await page.getByRole('heading', { name: 'Send a notification' }).waitFor();
      await page.locator('tbody tr').first().waitFor();
      await tab.screenshot('notifications-15-phone-list');
      await page.locator('tbody tr').first().getByRole('link').click();
      await page.locator('.nt-summary-head .badge').waitFor();
      await tab.screenshot('notifications-16-phone-detail');
      await page.goto('/templates/welcome?language=en');
      await page.locator('.tpl-diff').waitFor();
      await tab.screenshot('notifications-17-phone-template');
      assertNoConsoleErrors(tab);
    } finally {
      await tab.close();
    }
  });
});
