import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NAV_ITEMS } from '../../src/nav.ts';
import {
  assertNoConsoleErrors,
  type DashboardRig,
  openPage,
  signInThroughForm,
  startRig,
} from './harness.ts';

/**
 * Every page, as an admin, on a phone-sized and a desktop screen: it renders its heading without a
 * console error, nothing is wider than the screen, and the keyboard reaches the navigation with a
 * visible focus ring.
 */
describe('dashboard: a tour of every page', () => {
  let rig: DashboardRig;
  before(async () => {
    rig = await startRig('dashboard_tour');
  });
  after(async () => {
    await rig?.close();
  });

  for (const screen of [
    { name: 'phone', width: 375, height: 740 },
    { name: 'desktop', width: 1280, height: 800 },
  ]) {
    it(`renders every page on a ${screen.name} (${screen.width} px) without errors or sideways scrolling`, async () => {
      const tab = await openPage(rig, { width: screen.width, height: screen.height });
      try {
        const { page } = tab;
        await signInThroughForm(page);
        // Each page's heading is its navigation label.
        for (const { to: path, label: heading } of NAV_ITEMS) {
          await page.goto(path);
          await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor();
          // Pages settle (loading → content or empty state) before they are judged.
          await page.locator('.state-loading').first().waitFor({ state: 'detached' });
          const overflow = await page.evaluate(
            () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
          );
          assert.ok(overflow <= 0, `${path} is ${overflow} px wider than the ${screen.width} px screen`);
          await tab.screenshot(
            `tour-${screen.name}${path === '/' ? '-overview' : path.replaceAll('/', '-')}`,
          );
        }
        assertNoConsoleErrors(tab);
      } finally {
        await tab.close();
      }
    });
  }

  it('is usable from the keyboard: skip link, then the navigation, with a visible focus ring', async () => {
    const tab = await openPage(rig);
    try {
      const { page } = tab;
      await signInThroughForm(page);
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
      // Tab on through the header to the first navigation link, then follow it with Enter.
      let reached = '';
      for (let presses = 0; presses < 12 && reached !== 'Tasks'; presses += 1) {
        await page.keyboard.press('Tab');
        reached = (await page.evaluate(() => document.activeElement?.textContent)) ?? '';
      }
      assert.equal(reached, 'Tasks', 'the keyboard reaches the Tasks link');
      const outline = await page.evaluate(() => {
        const focused = document.activeElement;
        return focused ? getComputedStyle(focused).outlineStyle : 'none';
      });
      assert.notEqual(outline, 'none', 'the focused link shows a focus ring');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 1, name: 'Tasks', exact: true }).waitFor();
      assertNoConsoleErrors(tab);
    } finally {
      await tab.close();
    }
  });
});
