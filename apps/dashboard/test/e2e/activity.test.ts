import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminCall, until } from '@switchyard/server/test-helpers';
import {
  assertNoConsoleErrors,
  type DashboardRig,
  openPage,
  signInThroughForm,
  startRig,
} from './harness.ts';

async function postEvent(rig: DashboardRig, userId: string, eventType: string, payload?: object) {
  const response = await adminCall(rig.url, 'POST', '/api/v1/activity/events', {
    json: { userId, eventType, ...(payload ? { payload } : {}) },
  });
  assert.equal(response.status, 201, JSON.stringify(response.body));
}

describe('dashboard: activity', () => {
  let rig: DashboardRig;
  before(async () => {
    rig = await startRig('dashboard_activity');
  });
  after(async () => {
    await rig?.close();
  });

  it('streams new events live, pauses, opens a user timeline and charts the counts per type', async () => {
    const tab = await openPage(rig);
    try {
      const { page } = tab;
      await signInThroughForm(page);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Activity' }).click();
      await page.getByRole('heading', { level: 1, name: 'Activity' }).waitFor();
      await page.getByText('No events yet.').waitFor();
      await page.getByText('No events in this period.').waitFor();
      await page.getByText('Enter a user id, or pick a user in the live stream').waitFor();
      await tab.screenshot('activity-1-empty');

      // Posted through the API while the page is open: they appear without a reload, newest on top.
      await postEvent(rig, 'alice', 'LOGIN', { ip: '10.0.0.1' });
      await postEvent(rig, 'bob', 'PRODUCT_VIEW', { sku: 'SKU-1' });
      await postEvent(rig, 'alice', 'PRODUCT_VIEW', { sku: 'SKU-2' });
      const stream = page.getByRole('list', { name: 'Latest events, newest first' });
      await stream.getByText('{"sku":"SKU-2"}').waitFor();
      await stream.getByText('{"ip":"10.0.0.1"}').waitFor();
      const items = stream.locator(':scope > li');
      assert.equal(await items.count(), 3);
      assert.match((await items.first().textContent()) ?? '', /PRODUCT_VIEW.*alice.*SKU-2/);
      assert.match((await items.last().textContent()) ?? '', /LOGIN.*alice/);

      // The chart follows: one bar per posted type in the current minute, named by type and count.
      await page.getByRole('img', { name: /^LOGIN: 1 event at / }).waitFor();
      await page.getByRole('img', { name: /^PRODUCT_VIEW: 2 events at / }).waitFor();
      assert.equal(await page.getByRole('img', { name: /^LOGOUT:/ }).count(), 0);
      await tab.screenshot('activity-2-live');

      // Paused, the stream takes nothing new; resumed, it catches up.
      await page.getByRole('button', { name: 'Pause' }).click();
      await page.getByRole('status').filter({ hasText: 'Paused' }).waitFor();
      await postEvent(rig, 'carol', 'LOGOUT');
      await until(
        () => adminCall<unknown[]>(rig.url, 'GET', '/api/v1/activity/users/carol/events'),
        (response) => response.body.length === 1,
        "carol's event processed",
      );
      assert.equal(await stream.getByRole('button', { name: 'Timeline of carol' }).count(), 0);
      await page.getByRole('button', { name: 'Resume' }).click();
      await stream.getByRole('button', { name: 'Timeline of carol' }).waitFor();
      assert.equal(await items.count(), 4);
      await page.getByRole('img', { name: /^LOGOUT: 1 event at / }).waitFor();

      // A user's timeline, from the stream and from the form.
      await stream.getByRole('button', { name: 'Timeline of alice' }).first().click();
      await page.getByRole('heading', { level: 2, name: 'Timeline of alice' }).waitFor();
      const timeline = page.getByRole('list', { name: 'Events of alice, newest first' });
      await timeline.getByText('LOGIN').waitFor();
      assert.equal(await timeline.locator(':scope > li').count(), 2);
      await tab.screenshot('activity-3-timeline');

      await page.getByLabel('User id').fill('bob');
      await page.getByLabel('User id').press('Enter');
      const bob = page.getByRole('list', { name: 'Events of bob, newest first' });
      await bob.getByText('PRODUCT_VIEW').waitFor();
      assert.equal(await bob.locator(':scope > li').count(), 1);

      // Filtering by type narrows the stream, the timeline and the chart.
      await page.getByLabel('Event type').selectOption('PRODUCT_VIEW');
      await stream.locator(':scope > li').first().waitFor();
      await page.waitForFunction(
        () => document.querySelectorAll('[aria-label="Latest events, newest first"] > li').length === 2,
      );
      assert.equal(await page.getByRole('img', { name: /^LOGIN:/ }).count(), 0);
      await page.getByRole('img', { name: /^PRODUCT_VIEW: 2 events at / }).waitFor();
      await tab.screenshot('activity-4-filtered');

      await page.setViewportSize({ width: 375, height: 800 });
      await page.getByRole('heading', { level: 1, name: 'Activity' }).waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
      assert.equal(overflow, false, 'nothing overflows the page sideways at 375 px');
      await tab.screenshot('activity-5-narrow');
      assertNoConsoleErrors(tab);
    } finally {
      await tab.close();
    }
  });
});
