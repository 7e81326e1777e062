import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminCall, until } from '@switchyard/server/test-helpers';
import { type SmtpSink, startSmtpSink } from '@switchyard/testing/smtp';
import {
  assertNoConsoleErrors,
  type DashboardRig,
  openPage,
  signInThroughForm,
  startRig,
} from './harness.ts';

/** Retries take 1 + 2 + 4 s before a delivery gives up. */
const DEAD_LETTER_TIMEOUT_MS = 30_000;

async function email(rig: DashboardRig, to: string): Promise<string> {
  const accepted = await adminCall<{ request_id: string }>(rig.url, 'POST', '/api/v1/notifications', {
    json: {
      recipients: [{ email: to }],
      channels: ['email'],
      content: { subject: `Invoice for ${to}`, text: 'Your invoice is attached.' },
    },
  });
  assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  return accepted.body.request_id;
}

describe('dashboard: dead letters', () => {
  let sink: SmtpSink;
  let rig: DashboardRig;
  before(async () => {
    sink = await startSmtpSink();
    rig = await startRig('dashboard_dead_letters', { SMTP_URL: sink.url });
  });
  after(async () => {
    await rig?.close();
    await sink?.close();
  });

  it('shows mail that failed for good, inspects it, replays one once the server is back and discards another', async () => {
    const tab = await openPage(rig);
    try {
      const { page } = tab;
      await sink.down();
      await signInThroughForm(page);
      await page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Dead letters' })
        .click();
      await page.getByRole('heading', { level: 1, name: 'Dead letters' }).waitFor();
      await page.getByText('No dead letters').waitFor();
      await tab.screenshot('dead-letters-empty');

      // One failing mail at a time: eight failures in a row would open the SMTP breaker.
      const replayRequest = await email(rig, 'replay-me@example.com');

      // The open page refreshes on its own; each row names its consumer group and partition key.
      const replayRow = page.getByRole('row').filter({ hasText: 'replay-me@example.com' });
      const discardRow = page.getByRole('row').filter({ hasText: 'discard-me@example.com' });
      await replayRow.waitFor({ timeout: DEAD_LETTER_TIMEOUT_MS });
      assert.match((await replayRow.textContent()) ?? '', /delivery-email/);
      await tab.screenshot('dead-letters-list');

      // Inspect: attempts, error and the payload as it arrived, pretty-printed.
      await replayRow.getByRole('button', { name: /^Inspect/ }).click();
      const dialog = page.getByRole('dialog', { name: 'Dead letter' });
      await dialog.getByTestId('dead-letter-payload').waitFor();
      assert.equal((await dialog.getByTestId('dead-letter-attempts').textContent())?.trim(), '4');
      assert.notEqual((await dialog.getByTestId('dead-letter-error').textContent())?.trim(), '');
      const payload = (await dialog.getByTestId('dead-letter-payload').textContent()) ?? '';
      assert.match(payload, /\n {2}"type": "notification\.delivery\.requested"/, 'indented JSON');
      assert.ok(payload.includes('"address": "replay-me@example.com"'), payload);
      assert.ok(payload.includes(replayRequest), 'the payload names the notification request');
      assert.match(page.url(), /\/dead-letters\?id=/, 'the inspected letter is in the address');
      await tab.screenshot('dead-letters-inspect');

      // The mail server is back: replay from the dialog; the mail arrives once and the letter leaves.
      await sink.up();
      await dialog.getByRole('button', { name: 'Replay' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await page.getByRole('status').getByText('Replayed 1 dead letter.').waitFor();
      await replayRow.waitFor({ state: 'detached' });
      await sink.messages.waitFor((message) => message.envelope.to.includes('replay-me@example.com'), {
        timeoutMs: 15_000,
      });
      await until(
        async () =>
          (await adminCall<{ status: string }>(rig.url, 'GET', `/api/v1/notifications/${replayRequest}`))
            .body,
        (view) => view.status === 'sent',
        'the replayed mail to be sent',
      );
      assert.equal(
        sink.messages.items.filter((message) => message.envelope.to.includes('replay-me@example.com')).length,
        1,
        'delivered exactly once',
      );
      await tab.screenshot('dead-letters-replayed');

      // Another mail fails for good; select it and discard it, after confirming.
      await sink.down();
      await email(rig, 'discard-me@example.com');
      await discardRow.waitFor({ timeout: DEAD_LETTER_TIMEOUT_MS });
      await sink.up();
      await discardRow.getByRole('checkbox').check();
      await page.getByText('1 selected').waitFor();
      await page.getByRole('button', { name: 'Discard selected' }).click();
      const confirm = page.getByRole('dialog', { name: 'Discard 1 dead letter?' });
      await confirm.waitFor();
      await tab.screenshot('dead-letters-confirm-discard');
      await confirm.getByRole('button', { name: 'Discard', exact: true }).click();
      await confirm.waitFor({ state: 'hidden' });
      await page.getByRole('status').getByText('Discarded 1 dead letter.').waitFor();
      await page.getByText('No dead letters').waitFor();

      // Replayed letters stay on record; the discarded one is gone.
      const remaining = await adminCall<{ partition_key: string | null; replayed_at: string | null }[]>(
        rig.url,
        'GET',
        '/api/v1/dead-letters?group=delivery-email&include_replayed=true',
      );
      assert.deepEqual(
        remaining.body.map((letter) => [letter.partition_key, letter.replayed_at !== null]),
        [['replay-me@example.com', true]],
      );
      assert.equal(
        sink.messages.items.filter((message) => message.envelope.to.includes('discard-me@example.com'))
          .length,
        0,
      );

      // With replayed letters included, the replayed one shows as such.
      await page.getByLabel('Include replayed').check();
      await page.getByRole('button', { name: 'Apply' }).click();
      await replayRow.getByText(/replayed ×1/).waitFor();
      await page.setViewportSize({ width: 375, height: 740 });
      await tab.screenshot('dead-letters-mobile');
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
