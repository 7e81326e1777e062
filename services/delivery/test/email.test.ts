import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startSmtpSink } from '@switchyard/testing/smtp';
import { htmlToText } from '../src/domain.ts';
import { startMailCapture } from '../src/mail-capture.ts';
import { parseMail } from '../src/mime.ts';
import { createSmtpEmailProvider } from '../src/providers/email-smtp.ts';

const FROM = '"Switchyard" <noreply@switchyard.test>';

describe('SMTP provider against the built-in mail capture', () => {
  let capture: Awaited<ReturnType<typeof startMailCapture>>;
  let provider: ReturnType<typeof createSmtpEmailProvider>;

  before(async () => {
    capture = await startMailCapture({ port: 0, host: '127.0.0.1', maxMessages: 3 });
    provider = createSmtpEmailProvider({ smtpUrl: capture.url, from: FROM });
  });
  after(async () => {
    provider.close();
    await capture.close();
  });

  test('sends HTML with a derived text part and a Message-ID from the idempotency key', async () => {
    const key = '0197a1b2-0000-7000-8000-0000000000a1';
    const arrived = capture.next({ match: (mail) => mail.envelope.to.includes('ada@example.com') });
    const outcome = await provider.send(
      {
        to: 'ada@example.com',
        subject: 'Ihre Aufgabe „Ship it“ ist fällig ✅',
        html: '<h1>Hallo Ada</h1><p>Die Aufgabe <b>Ship it</b> ist fällig.<br><a href="https://app.example/t/1">Öffnen</a></p>',
      },
      { idempotencyKey: key },
    );
    assert.equal(outcome.status, 'sent');
    assert.equal(outcome.status === 'sent' && outcome.providerMessageId, `<${key}@switchyard.test>`);
    const mail = await arrived;
    assert.deepEqual(mail.envelope, { from: 'noreply@switchyard.test', to: ['ada@example.com'] });
    assert.equal(mail.from, 'Switchyard <noreply@switchyard.test>');
    assert.equal(mail.to, 'ada@example.com');
    assert.equal(mail.subject, 'Ihre Aufgabe „Ship it“ ist fällig ✅');
    assert.equal(mail.messageId, `<${key}@switchyard.test>`);
    assert.equal(
      mail.html,
      '<h1>Hallo Ada</h1><p>Die Aufgabe <b>Ship it</b> ist fällig.<br><a href="https://app.example/t/1">Öffnen</a></p>',
    );
    assert.equal(mail.text, 'Hallo Ada\n\nDie Aufgabe Ship it ist fällig.\nÖffnen (https://app.example/t/1)');
    assert.ok(!Number.isNaN(Date.parse(mail.date)));
  });

  test('a re-send of the same delivery carries the same Message-ID', async () => {
    const key = 'retry-me-0001';
    const message = { to: 'bob@example.com', subject: 'Again', text: 'same delivery' };
    const first = await provider.send(message, { idempotencyKey: key });
    const second = await provider.send(message, { idempotencyKey: key });
    assert.equal(first.status, 'sent');
    assert.equal(second.status, 'sent');
    const sentToBob = capture.list().filter((mail) => mail.to === 'bob@example.com');
    assert.equal(sentToBob.length, 2);
    assert.equal(sentToBob[0]?.messageId, sentToBob[1]?.messageId);
    assert.equal(sentToBob[0]?.html, undefined, 'text only: no HTML part');
    assert.equal(sentToBob[0]?.text, 'same delivery');
  });

  test('keeps only the last maxMessages, newest first', async () => {
    capture.clear();
    for (const n of [1, 2, 3, 4]) {
      const outcome = await provider.send(
        { to: 'c@example.com', subject: `n${n}`, text: 'x' },
        { idempotencyKey: `k-${n}` },
      );
      assert.equal(outcome.status, 'sent');
    }
    assert.deepEqual(
      capture.list().map((mail) => mail.subject),
      ['n4', 'n3', 'n2'],
    );
    const newest = capture.list()[0];
    assert.equal(newest && capture.get(newest.id)?.subject, 'n4');
  });

  test('a message without any body is refused before SMTP', async () => {
    const outcome = await provider.send(
      { to: 'a@example.com', subject: 'empty' },
      { idempotencyKey: 'k-empty' },
    );
    assert.equal(outcome.status, 'permanent');
  });

  test('next() can be cancelled', async () => {
    const controller = new AbortController();
    const waiting = capture.next({ signal: controller.signal });
    controller.abort(new Error('gave up'));
    await assert.rejects(waiting, /gave up/);
  });
});

describe('SMTP provider failure paths against the test sink', () => {
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;
  let provider: ReturnType<typeof createSmtpEmailProvider>;

  before(async () => {
    sink = await startSmtpSink();
    provider = createSmtpEmailProvider({
      smtpUrl: sink.url,
      from: 'noreply@switchyard.test',
      connectionTimeoutMs: 2_000,
      greetingTimeoutMs: 2_000,
    });
  });
  after(async () => {
    provider.close();
    await sink.close();
  });

  test('550 on RCPT TO is a permanent recipient failure', async () => {
    sink.reset();
    sink.rejectRecipients('gone@example.com');
    const outcome = await provider.send(
      { to: 'gone@example.com', subject: 's', text: 't' },
      { idempotencyKey: 'k-550' },
    );
    assert.equal(outcome.status, 'permanent');
    assert.equal(outcome.status === 'permanent' && outcome.cause, 'recipient');
    assert.equal(outcome.status === 'permanent' && outcome.code, '550');
    assert.match(outcome.reason, /Mailbox unavailable/);
    assert.equal(sink.messages.items.length, 0);
  });

  test('452 on RCPT TO is transient', async () => {
    sink.reset();
    sink.rejectRecipients(/@full\.example$/, { code: 452, message: '4.2.2 Mailbox full' });
    const outcome = await provider.send(
      { to: 'x@full.example', subject: 's', text: 't' },
      { idempotencyKey: 'k-452' },
    );
    assert.equal(outcome.status, 'transient');
    assert.equal(outcome.status === 'transient' && outcome.code, '452');
  });

  test('a 421 greeting is transient', async () => {
    sink.reset();
    provider.close();
    provider = createSmtpEmailProvider({ smtpUrl: sink.url, from: 'noreply@switchyard.test' });
    sink.refuseConnections();
    const outcome = await provider.send(
      { to: 'a@example.com', subject: 's', text: 't' },
      { idempotencyKey: 'k-421' },
    );
    assert.equal(outcome.status, 'transient');
    assert.match(outcome.reason, /421|Service not available/);
    sink.refuseConnections(null);
  });

  test('a server that is down is transient; when it is back, mail goes through', async () => {
    sink.reset();
    await sink.down();
    const down = await provider.send(
      { to: 'a@example.com', subject: 'down', text: 't' },
      { idempotencyKey: 'k-down' },
    );
    assert.equal(down.status, 'transient');
    assert.match(down.reason, /ECONNREFUSED|connect/i);

    await sink.up();
    const back = await provider.send(
      { to: 'a@example.com', subject: 'back', text: 'hello' },
      { idempotencyKey: 'k-back' },
    );
    assert.equal(back.status, 'sent');
    const mail = await sink.messages.waitFor((message) => message.subject === 'back');
    assert.equal(mail.text, 'hello');
    assert.deepEqual(mail.envelope.to, ['a@example.com']);
  });

  test('an aborted send is transient', async () => {
    const outcome = await provider.send(
      { to: 'a@example.com', subject: 's', text: 't' },
      { idempotencyKey: 'k-abort', signal: AbortSignal.abort() },
    );
    assert.equal(outcome.status, 'transient');
    assert.equal(outcome.status === 'transient' && outcome.code, 'EABORT');
  });
});

describe('SMTP provider: the composed message as a real SMTP server receives it', () => {
  let sink: Awaited<ReturnType<typeof startSmtpSink>>;
  let provider: ReturnType<typeof createSmtpEmailProvider>;

  before(async () => {
    sink = await startSmtpSink();
    provider = createSmtpEmailProvider({ smtpUrl: sink.url, from: FROM });
  });
  after(async () => {
    provider.close();
    await sink.close();
  });

  test('non-ASCII headers, an HTML body with dot lines and a long line, a sender override', async () => {
    const long = 'Lorem ipsum dolor sit amet. '.repeat(80);
    const html = `<p>Grüße, Zoë! 🎉 東京</p>\n.\n.hidden line\n..two\n<p>${long}</p>`;
    const key = '0197a1b2-0000-7000-8000-0000000000b2';
    const outcome = await provider.send(
      {
        to: 'zoe@example.com',
        from: 'Zoë vom Team <team@switchyard.test>',
        replyTo: '"Support, Team" <help@switchyard.test>',
        subject: 'Grüße aus Köln 🎉 — 東京タワー',
        html,
        headers: { 'X-Campaign': 'März', Subject: 'not this one' },
      },
      { idempotencyKey: key },
    );
    assert.equal(outcome.status, 'sent');
    assert.equal(outcome.status === 'sent' && outcome.providerMessageId, `<${key}@switchyard.test>`);
    const received = await sink.messages.waitFor((message) =>
      message.envelope.to.includes('zoe@example.com'),
    );
    assert.deepEqual(received.envelope, { from: 'team@switchyard.test', to: ['zoe@example.com'] });
    const mail = parseMail(received.raw);
    assert.equal(mail.subject, 'Grüße aus Köln 🎉 — 東京タワー');
    assert.equal(mail.from, 'Zoë vom Team <team@switchyard.test>');
    assert.equal(mail.to, 'zoe@example.com');
    assert.equal(mail.headers.get('reply-to')?.[0], '"Support, Team" <help@switchyard.test>');
    assert.deepEqual(mail.headers.get('subject'), ['Grüße aus Köln 🎉 — 東京タワー']);
    assert.equal(mail.headers.get('x-campaign')?.[0], 'März');
    assert.equal(mail.messageId, `<${key}@switchyard.test>`);
    assert.equal(mail.html, html, 'dot-stuffed on the way, unstuffed by the server');
    assert.equal(mail.text, htmlToText(html), 'the text part derived from the HTML');
    assert.match(mail.text ?? '', /\n\.\n\.hidden line\n\.\.two\n/);
    for (const line of received.raw.toString('latin1').split('\r\n')) assert.ok(line.length <= 998);
  });

  test('an unusable default sender is refused when the provider is created', () => {
    assert.throws(
      () => createSmtpEmailProvider({ smtpUrl: sink.url, from: 'Switchyard' }),
      /from: not a usable address/,
    );
  });

  test('a message that cannot be composed is a permanent content failure, nothing is sent', async () => {
    sink.reset();
    const outcome = await provider.send(
      { to: 'a@example.com', subject: 's', text: 't', headers: { 'Bad Name': 'x' } },
      { idempotencyKey: 'k-bad-header' },
    );
    assert.equal(outcome.status, 'permanent');
    assert.equal(outcome.status === 'permanent' && outcome.cause, 'content');
    assert.match(outcome.reason, /not a header field name/);
    assert.equal(sink.messages.items.length, 0);
  });
});
