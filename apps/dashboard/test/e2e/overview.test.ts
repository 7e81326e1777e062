import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminCall, userWithRole } from '@switchyard/server/test-helpers';
import {
  assertNoConsoleErrors,
  type DashboardRig,
  openPage,
  signInThroughForm,
  startRig,
} from './harness.ts';

interface OverviewBody {
  consumer_groups: { group: string }[];
}

describe('dashboard: overview', () => {
  let rig: DashboardRig;
  before(async () => {
    rig = await startRig('dashboard_overview');
  });
  after(async () => {
    await rig?.close();
  });

  it('shows healthy dependencies and the consumer groups, and the throughput rises without a reload', async () => {
    const tab = await openPage(rig);
    try {
      const { page } = tab;
      await signInThroughForm(page);
      await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();

      const dependencies = page.getByRole('list', { name: 'Dependencies' });
      for (const name of ['database', 'migrations', 'cache', 'bus']) {
        await dependencies.getByTestId(`dependency-${name}`).getByText('healthy', { exact: true }).waitFor();
      }
      await page.getByText('All systems are healthy.').waitFor();
      await page.getByTestId('service-audit').getByText('healthy', { exact: true }).waitFor();

      const expected = await adminCall<OverviewBody>(rig.url, 'GET', '/api/v1/system/overview');
      assert.equal(expected.status, 200);
      assert.ok(expected.body.consumer_groups.length > 0, 'the server runs consumer groups');
      const groups = page.getByRole('table');
      for (const { group } of expected.body.consumer_groups) {
        await groups.getByRole('row', { name: new RegExp(`^${group} `) }).waitFor();
      }
      await tab.screenshot('overview-1-healthy');

      const figure = page.getByTestId('published-last-hour');
      const published = Number(await figure.textContent());
      assert.ok(Number.isInteger(published), 'the figure is a number');
      const tasks = 4;
      for (let index = 0; index < tasks; index += 1) {
        const created = await adminCall(rig.url, 'POST', '/api/v1/tasks', {
          json: { title: `Overview task ${index}` },
        });
        assert.equal(created.status, 201);
      }
      // The page refreshes itself every 5 s: no reload here.
      await page.waitForFunction(
        (target) =>
          Number(document.querySelector('[data-testid="published-last-hour"]')?.textContent) >= target,
        published + tasks,
      );
      await page.waitForFunction(
        () => Number(document.querySelector('[data-testid="handled-last-hour"]')?.textContent) > 0,
      );
      await page
        .getByRole('img', { name: /^Published: \d+ events? at / })
        .first()
        .waitFor();
      await page
        .getByRole('img', { name: /^Handled: \d+ events? at / })
        .first()
        .waitFor();
      await tab.screenshot('overview-2-throughput');

      await page.setViewportSize({ width: 375, height: 800 });
      await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
      assert.equal(overflow, false, 'nothing overflows the page sideways at 375 px');
      await tab.screenshot('overview-3-narrow');
      assertNoConsoleErrors(tab);
    } finally {
      await tab.close();
    }
  });

  it('shows a member their shortcuts, without system figures or errors', async () => {
    const member = await userWithRole(rig.url, 'member');
    const tab = await openPage(rig);
    try {
      const { page } = tab;
      await signInThroughForm(page, { email: member.user.email, password: member.password });
      await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      const main = page.getByRole('main');
      await main.getByRole('link', { name: /Inbox/ }).waitFor();
      await main.getByRole('link', { name: /Tasks/ }).waitFor();
      assert.equal(await page.getByRole('list', { name: 'Dependencies' }).count(), 0);
      await main.getByRole('link', { name: /Tasks/ }).focus();
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 1, name: 'Tasks' }).waitFor();
      await page.goBack();
      await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      await tab.screenshot('overview-4-member');
      assertNoConsoleErrors(tab);
    } finally {
      await tab.close();
    }
  });
});
