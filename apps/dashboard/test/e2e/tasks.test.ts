import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  assertNoConsoleErrors,
  type DashboardRig,
  forgiveOwnRefusals,
  openPage,
  signInThroughForm,
  startRig,
  TEST_ADMIN,
} from './harness.ts';

describe('dashboard: tasks', () => {
  let rig: DashboardRig;
  before(async () => {
    rig = await startRig('dashboard_tasks');
  });
  after(async () => {
    await rig?.close();
  });

  it('creates a task (after an invalid try), edits it, shows its history, and deletes it', async () => {
    const tab = await openPage(rig);
    try {
      const { page } = tab;
      await signInThroughForm(page);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tasks' }).click();
      await page.getByRole('heading', { level: 1, name: 'Tasks' }).waitFor();
      await page.getByText('No tasks yet').waitFor();
      await tab.screenshot('tasks-1-empty');

      // An empty title: the API refuses it and its reason shows under the Title input.
      await page.getByRole('button', { name: 'New task' }).click();
      await page.getByRole('button', { name: 'Create task' }).click();
      const titleField = page.locator('.field', { has: page.getByLabel('Title') });
      const titleError = titleField.getByRole('alert');
      await titleError.waitFor();
      assert.match((await titleError.textContent()) ?? '', /must NOT have fewer than 1 character/);
      assert.equal(await page.getByLabel('Title').getAttribute('aria-invalid'), 'true');
      await tab.screenshot('tasks-2-invalid');

      await page.getByLabel('Title').fill('Ship the dashboard');
      await page.getByLabel('Description').fill('Tasks, users and API keys pages.');
      await page.getByRole('button', { name: 'Create task' }).click();
      await page.getByRole('heading', { level: 1, name: 'Ship the dashboard' }).waitFor();
      await page.getByText('Tasks, users and API keys pages.').waitFor();
      await tab.screenshot('tasks-3-created');

      await page.getByRole('button', { name: 'Edit' }).click();
      await page.getByLabel('Title').fill('Ship the dashboard today');
      await page.getByLabel('Status').selectOption('in_progress');
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByRole('heading', { level: 1, name: 'Ship the dashboard today' }).waitFor();
      await page.locator('dl.facts').getByText('in progress').waitFor();
      await tab.screenshot('tasks-4-edited');

      // The audit consumer writes the history a moment later; the page polls for it.
      const history = page.getByRole('list', { name: 'Task history' });
      await history.getByText('Created', { exact: true }).waitFor();
      await history.getByText('Updated', { exact: true }).waitFor();
      await history.getByText('Title: “Ship the dashboard” → “Ship the dashboard today”').waitFor();
      await history.getByText('Status: Pending → In progress').waitFor();
      assert.equal(await history.locator(':scope > li').count(), 2);
      await tab.screenshot('tasks-5-history');

      page.once('dialog', (dialog) => {
        assert.match(dialog.message(), /Delete the task “Ship the dashboard today”/);
        void dialog.accept();
      });
      await page.getByRole('button', { name: 'Delete' }).click();
      await page.getByRole('heading', { level: 1, name: 'Tasks' }).waitFor();
      // The list comes from the API again: the task is gone.
      await page.getByText('No tasks yet').waitFor();
      assert.equal(await page.getByRole('link', { name: 'Ship the dashboard today' }).count(), 0);
      await tab.screenshot('tasks-6-deleted');

      forgiveOwnRefusals(tab, 400, 1);
      assertNoConsoleErrors(tab);
    } finally {
      await tab.close();
    }
  });

  it('at 375 px wide: the menu opens the nav, the list searches, and nothing scrolls sideways', async () => {
    const tab = await openPage(rig, { width: 375, height: 800 });
    try {
      const { page } = tab;
      // signInThroughForm waits for the sidebar, which a narrow screen folds away behind the menu button.
      await page.goto('/');
      await page.getByLabel('Email').fill(TEST_ADMIN.email);
      await page.getByLabel('Password').fill(TEST_ADMIN.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Menu' }).waitFor();
      const nav = page.getByRole('navigation', { name: 'Main' });
      const tasksLink = nav.getByRole('link', { name: 'Tasks' });
      assert.equal(await tasksLink.isVisible(), false, 'the nav is folded away on a narrow screen');
      const menu = page.getByRole('button', { name: 'Menu' });
      await menu.click();
      assert.equal(await menu.getAttribute('aria-expanded'), 'true');
      await tasksLink.waitFor({ state: 'visible' });
      await tab.screenshot('tasks-mobile-1-menu');
      await tasksLink.click();
      await page.getByRole('heading', { level: 1, name: 'Tasks' }).waitFor();
      await tasksLink.waitFor({ state: 'hidden' });

      for (const title of ['Water the plants', 'Renew the domain name before it lapses next month']) {
        await page.getByRole('button', { name: 'New task' }).click();
        await page.getByLabel('Title').fill(title);
        await page.getByRole('button', { name: 'Create task' }).click();
        await page.getByRole('heading', { level: 1, name: title }).waitFor();
        await page.getByRole('link', { name: 'All tasks' }).click();
        await page.getByRole('link', { name: title }).waitFor();
      }

      await page.getByLabel('Search tasks').fill('domain');
      await page.getByRole('link', { name: 'Water the plants' }).waitFor({ state: 'detached' });
      await page.getByRole('link', { name: /Renew the domain name/ }).waitFor();
      assert.match(page.url(), /[?&]q=domain/);
      await tab.screenshot('tasks-mobile-2-list');

      const widths = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        client: document.documentElement.clientWidth,
      }));
      assert.ok(widths.scroll <= 375, `the page is ${widths.scroll}px wide at 375px`);

      await page.getByRole('link', { name: /Renew the domain name/ }).click();
      await page.getByRole('list', { name: 'Task history' }).getByText('Created', { exact: true }).waitFor();
      const taskWidth = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(taskWidth <= 375, `the task page is ${taskWidth}px wide at 375px`);
      await tab.screenshot('tasks-mobile-3-task');
      assertNoConsoleErrors(tab);
    } finally {
      await tab.close();
    }
  });
});
