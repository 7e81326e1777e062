import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ComposeMailInput, composeMail, mailboxAddress } from '../src/compose-mail.ts';
import { parseMail } from '../src/mime.ts';

const BASE: ComposeMailInput = {
  from: '"Switchyard" <noreply@switchyard.test>',
  to: 'ada@example.com',
  subject: 'Your task is due',
  text: 'Hello Ada,\nyour task is due.',
  messageId: '<0197a1b2-0000-7000-8000-0000000000a1@switchyard.test>',
  date: new Date('2026-11-23T03:45:01Z'),
  boundary: '=_sy_test-boundary',
};

/**
 * Composes and checks what every message must satisfy: CRLF line endings only, no line over 998
 * octets (RFC 5322 §2.1.1), a header block ended by an empty line.
 */
function compose(input: Partial<ComposeMailInput>): { raw: string; head: string[] } {
  const raw = composeMail({ ...BASE, ...input });
  assert.doesNotMatch(raw, /(?<!\r)\n/, 'no bare LF');
  assert.doesNotMatch(raw, /\r(?!\n)/, 'no bare CR');
  assert.ok(raw.endsWith('\r\n'));
  for (const line of raw.split('\r\n')) {
    assert.ok(Buffer.byteLength(line) <= 998, `a line of ${Buffer.byteLength(line)} octets`);
  }
  const end = raw.indexOf('\r\n\r\n');
  assert.ok(end > 0, 'a header block');
  return { raw, head: raw.slice(0, end).split('\r\n') };
}

const parse = (raw: string) => parseMail(Buffer.from(raw, 'utf8'));
/** Header names as written, in order (continuation lines skipped). */
const names = (head: string[]) =>
  head.filter((line) => !/^[ \t]/.test(line)).map((line) => line.split(':')[0]);

describe('composeMail', () => {
  test('an ASCII text and HTML mail: 7bit multipart/alternative with the headers in order', () => {
    const { raw, head } = compose({ html: '<p>Hello <b>Ada</b></p>' });
    assert.deepEqual(head, [
      'From: Switchyard <noreply@switchyard.test>',
      'To: ada@example.com',
      'Subject: Your task is due',
      'Message-ID: <0197a1b2-0000-7000-8000-0000000000a1@switchyard.test>',
      'Date: Mon, 23 Nov 2026 03:45:01 +0000',
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="=_sy_test-boundary"',
    ]);
    assert.equal(raw.match(/Content-Transfer-Encoding: 7bit/g)?.length, 2);
    assert.match(raw, /\r\n--=_sy_test-boundary--\r\n$/);
    const mail = parse(raw);
    assert.equal(mail.from, 'Switchyard <noreply@switchyard.test>');
    assert.equal(mail.to, 'ada@example.com');
    assert.equal(mail.subject, 'Your task is due');
    assert.equal(mail.messageId, BASE.messageId);
    assert.equal(new Date(mail.date ?? '').toISOString(), '2026-11-23T03:45:01.000Z');
    assert.equal(mail.text, 'Hello Ada,\nyour task is due.');
    assert.equal(mail.html, '<p>Hello <b>Ada</b></p>');
  });

  test('text only: a single text/plain part, no multipart', () => {
    const { raw, head } = compose({});
    assert.equal(head.at(-2), 'Content-Type: text/plain; charset=utf-8');
    assert.equal(head.at(-1), 'Content-Transfer-Encoding: 7bit');
    assert.doesNotMatch(raw, /multipart|boundary/);
    const mail = parse(raw);
    assert.equal(mail.text, 'Hello Ada,\nyour task is due.');
    assert.equal(mail.html, undefined);
  });

  test('non-ASCII subject, display name and bodies go out as ASCII and read back the same', () => {
    const subject = 'Grüße aus Köln 🎉 — 東京タワーの新しい通知があります';
    const text = 'Grüße, Ada! 🎉\n東京タワーの新しい通知があります。\nTrailing space here \nend';
    const html = '<p>Grüße 🎉 <b>東京</b></p>';
    const { raw, head } = compose({ from: 'Zoë Ölçer <noreply@switchyard.test>', subject, text, html });
    assert.match(raw, /^[\x20-\x7e\r\n\t]*$/, 'only ASCII on the wire');
    assert.equal(raw.match(/Content-Transfer-Encoding: quoted-printable/g)?.length, 2);
    assert.match(head[0] ?? '', /^From: =\?UTF-8\?[QB]\?.*\?= <noreply@switchyard\.test>$/);
    for (const line of head) assert.ok(line.length <= 78, `folded: ${line}`);
    const mail = parse(raw);
    assert.equal(mail.from, 'Zoë Ölçer <noreply@switchyard.test>');
    assert.equal(mail.subject, subject);
    assert.equal(mail.text, text);
    assert.equal(mail.html, html);
  });

  test('an ASCII display name is kept, quoted when it needs quoting', () => {
    const { head } = compose({
      from: '"Ops, Team \\"B\\"" <ops@switchyard.test>',
      replyTo: 'Support <help@x.test>',
    });
    assert.equal(head[0], 'From: "Ops, Team \\"B\\"" <ops@switchyard.test>');
    assert.equal(head[2], 'Reply-To: Support <help@x.test>');
    assert.equal(mailboxAddress('"Ops, Team \\"B\\"" <ops@switchyard.test>'), 'ops@switchyard.test');
  });

  test('a line of 2,000 characters is quoted-printable, soft-wrapped, and comes back whole', () => {
    const long = 'abcdefghij'.repeat(200);
    const { raw } = compose({ text: `before\n${long}\nafter` });
    assert.match(raw, /Content-Transfer-Encoding: quoted-printable/);
    assert.equal(parse(raw).text, `before\n${long}\nafter`);
  });

  test('a 2,000-character subject without spaces is still within the line limit', () => {
    const subject = 'x'.repeat(2000);
    const { raw } = compose({ subject });
    assert.equal(parse(raw).subject, subject);
  });

  test('lines starting with a dot are written as they are: dot-stuffing is the SMTP layer’s', () => {
    const text = '.hidden\n..two dots\n.\nend';
    const { raw } = compose({ text });
    assert.match(raw, /\r\n\r\n\.hidden\r\n\.\.two dots\r\n\.\r\nend\r\n$/);
    assert.equal(parse(raw).text, text);
  });

  test('bare LF and bare CR become CRLF', () => {
    const { raw } = compose({ text: 'one\ntwo\rthree\r\nfour', html: '<p>a</p>\n<p>b</p>\r<p>c</p>' });
    assert.match(raw, /\r\n\r\none\r\ntwo\r\nthree\r\nfour\r\n/);
    const mail = parse(raw);
    assert.equal(mail.text, 'one\ntwo\nthree\nfour');
    assert.equal(mail.html, '<p>a</p>\n<p>b</p>\n<p>c</p>');
  });

  test('a line break in a subject, a header value or a display name adds no header', () => {
    const { raw, head } = compose({
      from: '"Evil\r\nBcc: from@evil.test" <noreply@switchyard.test>',
      subject: 'Hi\r\nBcc: x@y.test',
      headers: { 'X-Note': 'ok\r\nBcc: z@y.test\nCc: w@y.test' },
    });
    assert.deepEqual(names(head), [
      'From',
      'To',
      'Subject',
      'Message-ID',
      'Date',
      'MIME-Version',
      'X-Note',
      'Content-Type',
      'Content-Transfer-Encoding',
    ]);
    assert.doesNotMatch(raw, /^(Bcc|Cc):/im);
    const mail = parse(raw);
    assert.equal(mail.subject, 'Hi Bcc: x@y.test');
    assert.equal(mail.headers.get('x-note')?.[0], 'ok Bcc: z@y.test Cc: w@y.test');
    assert.equal(mail.headers.has('bcc'), false);
    assert.equal(mail.headers.has('cc'), false);
  });

  test('a custom header name that is not an RFC 5322 field name throws', () => {
    for (const name of ['X Bad', 'X-Bad:', 'X-Ünicode', '', 'X-A\r\nBcc']) {
      assert.throws(
        () => composeMail({ ...BASE, headers: { [name]: 'v' } }),
        /is not a header field name/,
        name,
      );
    }
  });

  test('custom headers cannot override the ones composeMail writes; others go out encoded', () => {
    const { raw, head } = compose({
      html: '<p>x</p>',
      headers: {
        Subject: 'overridden',
        from: 'evil@evil.test',
        'Content-Type': 'text/html',
        'content-transfer-encoding': 'base64',
        'MIME-Version': '2.0',
        'Message-ID': '<other@evil.test>',
        Date: 'yesterday',
        Bcc: 'hidden@evil.test',
        'X-Campaign': 'März',
        'List-Unsubscribe': '<https://app.example/u/1>',
      },
    });
    assert.deepEqual(names(head), [
      'From',
      'To',
      'Subject',
      'Message-ID',
      'Date',
      'MIME-Version',
      'X-Campaign',
      'List-Unsubscribe',
      'Content-Type',
    ]);
    assert.doesNotMatch(raw, /overridden|evil\.test|base64|2\.0|yesterday/);
    assert.ok(head.includes('List-Unsubscribe: <https://app.example/u/1>'));
    const mail = parse(raw);
    assert.equal(mail.subject, 'Your task is due');
    assert.equal(mail.headers.get('x-campaign')?.[0], 'März');
    assert.equal(mail.html, '<p>x</p>');
  });

  test('a boundary that a 7bit part contains is replaced by one that no part contains', () => {
    const text = `a forged part:\n--${BASE.boundary}\nContent-Type: text/html\n\n<p>forged</p>\n--${BASE.boundary}--`;
    const { raw, head } = compose({ text, html: '<p>real</p>' });
    const boundary = /boundary="([^"]+)"/.exec(head.at(-1) ?? '')?.[1] ?? '';
    assert.notEqual(boundary, BASE.boundary);
    assert.ok(boundary.startsWith(BASE.boundary));
    assert.ok(!text.includes(boundary));
    const mail = parse(raw);
    assert.equal(mail.text, text);
    assert.equal(mail.html, '<p>real</p>');
  });

  test('an unusable address throws', () => {
    assert.throws(
      () => composeMail({ ...BASE, to: 'not an address' }),
      /to: no address|to: not a usable address/,
    );
    assert.throws(() => composeMail({ ...BASE, from: 'a@x.test, b@x.test' }), /from/);
    assert.throws(() => mailboxAddress('a@x.test, b@x.test'), /expected one address/);
    assert.throws(() => composeMail({ ...BASE, date: new Date(Number.NaN) }), /date/);
  });
});
