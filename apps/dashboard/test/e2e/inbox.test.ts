import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, signIn, type TokenPair } from '@switchyard/server/test-helpers';
import type { Page } from 'playwright-core';
import {
  assertNoConsoleErrors,
  type DashboardRig,
  openPage,
  signInThroughForm,
  startRig,
} from './harness.ts';

/** Sends an in-app notification to the signed-in admin through the API, as another system would. */
async function notifyAdmin(rig: DashboardRig, admin: TokenPair, title: string, text: string): Promise<void> {
  const response = await fetch(`${rig.url}/api/v1/notifications`, {
    method: 'POST',
    headers: { ...bearer(admin.access_token), 'content-type': 'application/json' },
    body: JSON.stringify({
      recipients: [{ user_id: admin.user.id }],
      channels: ['in_app'],
      content: { subject: title, text },
    }),
  });
  assert.equal(response.status, 202, await response.text());
}

/** The header badge once it shows `count` (it is hidden, but still there, at 0). */
async function badgeShows(page: Page, count: number): Promise<void> {
  await page
    .locator(`[data-testid="unread-badge"][data-count="${count}"]`)
    .waitFor({ state: count === 0 ? 'attached' : 'visible' });
  const badge = page.getByTestId('unread-badge');
  assert.equal(await badge.getAttribute('data-count'), String(count));
  if (count > 0) assert.equal((await badge.textContent())?.trim(), String(count));
  else assert.equal(await badge.isVisible(), false, 'no badge when nothing is unread');
}

const MARKER = 'switchyardInboxTestMarker';

describe('dashboard: inbox', () => {
  let rig: DashboardRig;
  let admin: TokenPair;
  before(async () => {
    rig = await startRig('dashboard_inbox');
    admin = await signIn(rig.url);
  });
  after(async () => {
    await rig?.close();
  });

  it('shows new notifications live in the header badge and the inbox, marks them read one by one and all at once', async () => {
    const tab = await openPage(rig);
    try {
      const { page } = tab;
      const navigations: string[] = [];
      await signInThroughForm(page);

      // An empty inbox first.
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inbox' }).click();
      await page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();
      await page.getByText('No notifications yet').waitFor();
      await tab.screenshot('inbox-empty');

      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
      await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      // The live connection is up once the count was fetched on connect: nothing unread.
      await badgeShows(page, 0);

      // From here on, everything must arrive without a page load.
      await page.evaluate((marker) => Object.assign(window, { [marker]: true }), MARKER);
      // Fires for document loads only, not for the app's own history navigation.
      page.on('load', () => navigations.push(page.url()));
      const overviewUrl = page.url();

      await notifyAdmin(rig, admin, 'Build finished', 'The nightly build passed in 4 minutes.');
      await badgeShows(page, 1);
      assert.equal(page.url(), overviewUrl, 'still on the same page');
      assert.equal(
        await page.evaluate((marker) => marker in window, MARKER),
        true,
        'the page was not reloaded',
      );
      await tab.screenshot('inbox-badge-live');

      // The badge leads to the inbox, where the item is unread.
      await page.getByTestId('unread-badge').click();
      await page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();
      const build = page.getByRole('listitem', { name: 'Build finished' });
      await build.getByText('The nightly build passed in 4 minutes.').waitFor();
      assert.equal(await build.getAttribute('data-state'), 'unread');
      await page.getByTestId('live-status').getByText('Live').waitFor();
      await tab.screenshot('inbox-unread');

      await build.getByRole('button', { name: 'Mark read' }).click();
      await badgeShows(page, 0);
      await build.getByRole('button', { name: 'Mark unread' }).waitFor();
      assert.equal(await build.getAttribute('data-state'), 'read');
      await tab.screenshot('inbox-marked-read');

      // Unread again, then archived: it leaves the list and the count.
      await build.getByRole('button', { name: 'Mark unread' }).click();
      await badgeShows(page, 1);
      await build.getByRole('button', { name: 'Archive' }).click();
      await badgeShows(page, 0);
      await build.waitFor({ state: 'detached' });
      await page.getByText('No notifications yet').waitFor();
      await page.getByRole('button', { name: 'Archived', exact: true }).click();
      await page.getByRole('listitem', { name: 'Build finished' }).waitFor();
      await page.getByRole('button', { name: 'All', exact: true }).click();
      await page.getByText('No notifications yet').waitFor();

      // Two more arrive while the inbox is open: both show up live, then "Mark all read".
      await notifyAdmin(rig, admin, 'Task assigned', 'Review the release notes.');
      await notifyAdmin(rig, admin, 'Comment added', 'Ada replied to your comment.');
      const assigned = page.getByRole('listitem', { name: 'Task assigned' });
      const comment = page.getByRole('listitem', { name: 'Comment added' });
      await assigned.waitFor();
      await comment.waitFor();
      await badgeShows(page, 2);
      assert.equal(await assigned.getAttribute('data-state'), 'unread');
      assert.equal(await comment.getAttribute('data-state'), 'unread');
      await tab.screenshot('inbox-two-new');

      await page.getByRole('button', { name: 'Mark all read' }).click();
      await badgeShows(page, 0);
      await page
        .getByRole('status')
        .filter({ hasText: 'Marked 2 notifications read.' })
        .waitFor({ state: 'attached' });
      await assigned.getByRole('button', { name: 'Mark unread' }).waitFor();
      await comment.getByRole('button', { name: 'Mark unread' }).waitFor();
      assert.equal(await assigned.getAttribute('data-state'), 'read');
      assert.equal(await comment.getAttribute('data-state'), 'read');
      assert.equal(await page.getByRole('button', { name: 'Mark all read' }).isDisabled(), true);
      await tab.screenshot('inbox-all-read');

      assert.deepEqual(navigations, [], 'no page load happened');
      assert.equal(await page.evaluate((marker) => marker in window, MARKER), true);

      // The same page on a phone.
      await page.setViewportSize({ width: 375, height: 740 });
      await page.getByRole('button', { name: 'Mark unread: Task assigned' }).waitFor();
      await tab.screenshot('inbox-mobile');
      assert.equal(
        await page.evaluate(() => document.documentElement.scrollWidth),
        375,
        'nothing widens the page on a phone',
      );

      assertNoConsoleErrors(tab);
    } finally {
      await tab.close();
    }
  });
  it('sends an in-app notification to yourself from the send form; the badge counts it without a reload', async () => {
    const tab = await openPage(rig);
    try {
      const { page } = tab;
      await signInThroughForm(page);
      await page.evaluate((marker) => {
        (window as unknown as Record<string, boolean>)[marker] = true;
      }, MARKER);
      const before = Number((await page.getByTestId('unread-badge').getAttribute('data-count')) || '0');

      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Notifications' })
        .click();
      await page.getByRole('link', { name: 'Send a notification' }).click();
      const form = page.locator('form', { has: page.getByRole('heading', { name: 'Send a notification' }) });
      await form.getByRole('button', { name: 'Add me' }).click();
      await form.getByLabel('In-app', { exact: true }).check();
      await form.getByLabel('Write it here', { exact: true }).check();
      await form.getByLabel('Subject', { exact: true }).fill('A note to myself');
      await form.getByLabel('Message', { exact: true }).fill('Sent from the dashboard form.');
      await tab.screenshot('inbox-send-to-self-form');
      await form.getByRole('button', { name: 'Send', exact: true }).click();

      await badgeShows(page, before + 1);
      assert.equal(
        await page.evaluate((marker) => (window as unknown as Record<string, boolean>)[marker], MARKER),
        true,
        'the page was not reloaded',
      );
      await page.getByTestId('unread-badge').click();
      await page.getByText('A note to myself').waitFor();
      await tab.screenshot('inbox-send-to-self-arrived');
      assertNoConsoleErrors(tab);
    } finally {
      await tab.close();
    }
  });
});
