import assert from 'node:assert/strict';
import { test } from 'node:test';
import MailComposer from 'nodemailer/lib/mail-composer';
import { decodeEncodedWords, parseMail } from '../src/mime.ts';

/** The exact bytes nodemailer would put on the wire for these options. */
function compose(options: ConstructorParameters<typeof MailComposer>[0]): Promise<Buffer> {
  return new MailComposer(options).compile().build();
}

test('multipart/alternative with a UTF-8 subject and quoted-printable bodies', async () => {
  const raw = await compose({
    from: '"Zoë Ölçer" <noreply@example.com>',
    to: 'ada@example.com',
    subject: 'Grüße aus Köln — your task “Ship it” is due ✅',
    text: 'Hallo Ada,\nDie Aufgabe „Ship it“ ist fällig. Eine sehr lange Zeile, die weich umbrochen werden muss, weil quoted-printable Zeilen nicht länger als 76 Zeichen sein dürfen = Gleichheitszeichen.',
    html: '<p>Hallo <b>Ada</b>, die Aufgabe „Ship it“ ist fällig = jetzt.</p>',
    messageId: '<abc-123@example.com>',
    date: new Date('2025-06-01T12:00:00Z'),
  });
  assert.match(raw.toString('latin1'), /Subject: =\?UTF-8\?/, 'the subject is sent as encoded words');
  assert.match(raw.toString('latin1'), /quoted-printable/i);
  const mail = parseMail(raw);
  assert.equal(mail.subject, 'Grüße aus Köln — your task “Ship it” is due ✅');
  assert.equal(mail.from, 'Zoë Ölçer <noreply@example.com>');
  assert.equal(mail.to, 'ada@example.com');
  assert.equal(mail.messageId, '<abc-123@example.com>');
  assert.equal(new Date(mail.date ?? '').toISOString(), '2025-06-01T12:00:00.000Z');
  assert.equal(
    mail.text,
    'Hallo Ada,\nDie Aufgabe „Ship it“ ist fällig. Eine sehr lange Zeile, die weich umbrochen werden muss, weil quoted-printable Zeilen nicht länger als 76 Zeichen sein dürfen = Gleichheitszeichen.',
  );
  assert.equal(mail.html, '<p>Hallo <b>Ada</b>, die Aufgabe „Ship it“ ist fällig = jetzt.</p>');
});

test('base64 bodies (mostly non-Latin text), an attachment skipped, a long folded subject', async () => {
  const subject = '東京タワーの新しい通知があります。'.repeat(4);
  const raw = await compose({
    from: 'noreply@example.com',
    to: 'ada@example.com',
    subject,
    text: 'こんにちは、世界。'.repeat(20),
    html: '<p>こんにちは</p>',
    attachments: [{ filename: 'report.txt', content: 'not a body' }],
  });
  const mail = parseMail(raw);
  assert.equal(mail.subject, subject);
  assert.equal(mail.text, 'こんにちは、世界。'.repeat(20));
  assert.equal(mail.html, '<p>こんにちは</p>');
});

test('a single-part plain message and a latin1 charset', () => {
  const raw = Buffer.concat([
    Buffer.from(
      'Subject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?=\r\nContent-Type: text/plain; charset=ISO-8859-1\r\n\r\n',
    ),
    Buffer.from('Caf\xe9\r\nnoir', 'latin1'),
  ]);
  const mail = parseMail(raw);
  assert.equal(mail.subject, 'Café crème');
  assert.equal(mail.text, 'Café\nnoir');
  assert.equal(mail.html, undefined);
});

test('encoded words: adjacent words join, a character split across two survives, plain text stays', () => {
  // "é" (C3 A9) split between two B-words.
  const split = `=?UTF-8?B?${Buffer.from([0x43, 0x61, 0x66, 0xc3]).toString('base64')}?= =?UTF-8?B?${Buffer.from([0xa9]).toString('base64')}?=`;
  assert.equal(decodeEncodedWords(split), 'Café');
  assert.equal(decodeEncodedWords('Re: =?utf-8?q?Gr=C3=BC=C3=9Fe?= and more'), 'Re: Grüße and more');
  assert.equal(decodeEncodedWords('no words here'), 'no words here');
  assert.equal(decodeEncodedWords('=?x-unknown?Q?abc?='), 'abc');
});
