import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminCall } from '@switchyard/server/test-helpers';
import { type SmtpSink, startSmtpSink } from '@switchyard/testing/smtp';
import {
  assertNoConsoleErrors,
  type DashboardRig,
  openPage,
  signInThroughForm,
  startRig,
} from './harness.ts';

describe('dashboard: captured mail (embedded mode)', () => {
  let rig: DashboardRig;
  before(async () => {
    rig = await startRig('dashboard_mail');
  });
  after(async () => {
    await rig?.close();
  });

  it('lists a sent email and shows its headers, its HTML in a sandboxed frame and its text part', async () => {
    const tab = await openPage(rig);
    try {
      const { page } = tab;
      await signInThroughForm(page);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Mail' }).click();
      await page.getByRole('heading', { level: 1, name: 'Mail' }).waitFor();
      await page.getByText('No mail captured yet').waitFor();
      await tab.screenshot('mail-empty');

      const sent = await adminCall<{ request_id: string }>(rig.url, 'POST', '/api/v1/notifications', {
        json: {
          recipients: [{ email: 'reader@example.com' }],
          channels: ['email'],
          content: {
            subject: 'Your weekly report',
            text: 'Plain text part: you finished 3 tasks this week.',
            html: '<h1>Weekly report</h1><p>You finished <strong>3 tasks</strong> this week.</p>',
          },
        },
      });
      assert.equal(sent.status, 202, JSON.stringify(sent.body));

      // The open page picks the message up on its own.
      const item = page
        .getByRole('list', { name: 'Captured mail' })
        .getByRole('link', { name: /Your weekly report/ });
      await item.waitFor();
      assert.match((await item.textContent()) ?? '', /reader@example\.com/);
      await item.click();

      const message = page.getByRole('article', { name: 'Your weekly report' });
      await message.getByRole('heading', { level: 2, name: 'Your weekly report' }).waitFor();
      assert.match((await message.locator('dl').textContent()) ?? '', /reader@example\.com/);

      const frame = page.locator('iframe.mail-html');
      assert.equal(await frame.getAttribute('sandbox'), '', 'the HTML part runs in an empty sandbox');
      const html = page.frameLocator('iframe.mail-html');
      await html.getByRole('heading', { name: 'Weekly report' }).waitFor();
      assert.equal((await html.locator('strong').textContent())?.trim(), '3 tasks');

      const text = page.getByTestId('mail-text');
      await text.getByText('Plain text part: you finished 3 tasks this week.').waitFor();
      assert.match(page.url(), /\/mail\?id=/, 'the selected message is in the address');
      await tab.screenshot('mail-message');

      // A filter that matches nothing, then one that matches.
      await page.getByLabel('Filter').fill('nobody-here');
      await page.getByText('No message matches').waitFor();
      await page.getByLabel('Filter').fill('weekly');
      await item.waitFor();

      await page.setViewportSize({ width: 375, height: 740 });
      await html.getByRole('heading', { name: 'Weekly report' }).waitFor();
      await tab.screenshot('mail-mobile');
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
});

describe('dashboard: mail with an SMTP server configured', () => {
  let sink: SmtpSink;
  let rig: DashboardRig;
  before(async () => {
    sink = await startSmtpSink();
    rig = await startRig('dashboard_mail_off', { SMTP_URL: sink.url });
  });
  after(async () => {
    await rig?.close();
    await sink?.close();
  });

  it('explains that capture is off instead of showing an error', async () => {
    const tab = await openPage(rig);
    try {
      const { page } = tab;
      await signInThroughForm(page);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Mail' }).click();
      await page.getByRole('heading', { level: 2, name: 'Mail capture is off' }).waitFor();
      assert.equal(await page.getByRole('alert').count(), 0, 'no error is shown');
      await tab.screenshot('mail-capture-off');

      // The page's one request answers 404 on purpose (the route exists only with the capture).
      const expected = 'Failed to load resource: the server responded with a status of 404 (Not Found)';
      assert.ok(tab.errors.length <= 1, tab.errors.join('\n'));
      tab.errors.splice(0, tab.errors.length, ...tab.errors.filter((error) => error !== expected));
      assertNoConsoleErrors(tab);
    } finally {
      await tab.close();
    }
  });
});
