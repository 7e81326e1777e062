import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DashboardRig, openPage, signInThroughForm, startRig, TEST_ADMIN } from './harness.ts';

describe('dashboard: signing in and out', () => {
  let rig: DashboardRig;
  before(async () => {
    rig = await startRig('dashboard_sign_in');
  });
  after(async () => {
    await rig?.close();
  });

  it('serves the app at / with a document CSP, and index.html for a deep link', async () => {
    const root = await fetch(`${rig.url}/`, { headers: { accept: 'text/html' } });
    assert.equal(root.status, 200);
    assert.match(root.headers.get('content-type') ?? '', /text\/html/);
    assert.match(root.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const deep = await fetch(`${rig.url}/tasks/123`, { headers: { accept: 'text/html' } });
    assert.equal(deep.status, 200);
    assert.equal(await deep.text(), await root.text());
    const unknownApi = await fetch(`${rig.url}/api/v1/nothing-here`, { headers: { accept: 'text/html' } });
    assert.equal(unknownApi.status, 404, 'an unknown API path is a 404 problem, not the app');
    assert.match(unknownApi.headers.get('content-type') ?? '', /problem\+json/);
    const missingAsset = await fetch(`${rig.url}/assets/nothing.js`);
    assert.equal(missingAsset.status, 404);
  });

  it('refuses a wrong password in the form, signs in, keeps the session over a reload, and signs out', async () => {
    const tab = await openPage(rig);
    try {
      const { page } = tab;
      await page.goto('/');
      await page.getByLabel('Email').fill(TEST_ADMIN.email);
      await page.getByLabel('Password').fill('not the password at all');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'The email or password is wrong' }).waitFor();
      await tab.screenshot('sign-in-refused');

      await signInThroughForm(page);
      await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      await page.reload();
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
      await tab.screenshot('signed-in');

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      // The tokens are gone: a reload stays signed out.
      await page.reload();
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      // The failed sign-in's 401 is the only error the browser reports.
      assert.ok(
        tab.errors.every((error) => error.includes('401')),
        tab.errors.join('\n'),
      );
    } finally {
      await tab.close();
    }
  });
});
