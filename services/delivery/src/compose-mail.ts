/**
 * The RFC 5322 / MIME message of one notification email, built as a string so nodemailer only has to
 * send it (its own composer costs more CPU per mail than the SMTP exchange). Text and optional HTML as
 * multipart/alternative, UTF-8, 7bit where the content allows it and quoted-printable elsewhere. The
 * encoders are nodemailer's, so the output reads as nodemailer's did. Pure: the caller passes the
 * Message-ID, the date and the boundary.
 */
import { domainToASCII } from 'node:url';
import addressparser from 'nodemailer/lib/addressparser';
import { encodeWord, encodeWords, foldLines } from 'nodemailer/lib/mime-funcs';
import { encode as encodeQuotedPrintable, wrap as wrapQuotedPrintable } from 'nodemailer/lib/qp';

export interface ComposeMailInput {
  /** `"Display Name" <addr@host>` or a bare address; exactly one mailbox. */
  from: string;
  to: string;
  subject: string;
  text: string;
  html?: string;
  replyTo?: string;
  /**
   * Extra header fields. A name that is not an RFC 5322 field name throws; a name this function writes
   * itself (or one that would name recipients this message is not sent to) is ignored, see IGNORED.
   */
  headers?: Record<string, string>;
  /** With its angle brackets: `<id@host>`. */
  messageId: string;
  date: Date;
  /** The multipart boundary to use unless a 7bit part contains it. */
  boundary: string;
}

/** RFC 5322 §2.1.1: a line, CRLF excluded, is at most 998 octets. */
const MAX_LINE_OCTETS = 998;
/** Folded header lines aim for 76 like nodemailer's, inside the RFC's recommended 78. */
const FOLD_AT = 76;
/** Encoded words are split to stay well under RFC 2047's 75 characters each, as nodemailer does. */
const WORD_LENGTH = 52;

/**
 * Custom headers with these names are dropped: the structure, the sender and the recipients are ours,
 * and a second From or Content-Type would leave receivers to pick one. Cc/Bcc/Sender too, since the
 * envelope goes to `to` alone and such a header would claim recipients who never get the mail.
 */
const IGNORED = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'sender',
  'reply-to',
  'subject',
  'message-id',
  'date',
  'mime-version',
]);
const isIgnored = (name: string) => IGNORED.has(name.toLowerCase()) || /^content-/i.test(name);

/** RFC 5322 §3.6.8 ftext, short enough that `Name: ` leaves room on the line. */
const FIELD_NAME = /^[!-9;-~]{1,76}$/;
/** RFC 2046 §5.1.1 bchars (without the space, which may not end it anyway). */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=?]{1,70}$/;
/** Anything that could end or break a header line; HT is folding white space and stays. */
const LINE_BREAKS = /\r\n|\r|\n/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g;
/** An addr-spec without quoting, comments or literals; non-ASCII is left to SMTPUTF8. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: an address must not hold control characters
const ADDRESS = /^[^\s@<>()[\]\\,;:"\x00-\x1f\x7f]{1,64}@[^\s@<>()[\]\\,;:"\x00-\x1f\x7f]{1,253}$/;

/** A header value on one line: a line break would start a header of the caller's choosing. */
function clean(value: string): string {
  return String(value).replace(LINE_BREAKS, ' ').replace(CONTROL, '');
}

/** Base64 words for mostly non-Latin text are shorter than Q's `=XX=XX=XX` per character. */
function wordEncoding(value: string): 'Q' | 'B' {
  let nonAscii = 0;
  for (let index = 0; index < value.length; index++) if (value.charCodeAt(index) > 0x7f) nonAscii++;
  return nonAscii > value.length / 2 ? 'B' : 'Q';
}

/**
 * An unstructured value (Subject, custom headers). Once any of it needs encoding, all of it is encoded
 * words, as nodemailer does: some clients drop the space between plain text and an encoded word.
 */
function encodeText(value: string, force = false): string {
  return force
    ? encodeWord(value, wordEncoding(value), WORD_LENGTH)
    : encodeWords(value, wordEncoding(value), WORD_LENGTH, true);
}

function hasLongLine(text: string): boolean {
  for (let start = 0; ; ) {
    const end = text.indexOf('\r\n', start);
    const stop = end === -1 ? text.length : end;
    if (Buffer.byteLength(text.slice(start, stop)) > MAX_LINE_OCTETS) return true;
    if (end === -1) return false;
    start = end + 2;
  }
}

/**
 * `Name: value`, folded at white space. A run without white space cannot be folded, so when one leaves
 * a line over 998 octets the value is written again as encoded words, which can be split anywhere.
 */
function header(name: string, value: string, asEncodedWords: () => string): string {
  const folded = foldLines(`${name}: ${value}`, FOLD_AT);
  return hasLongLine(folded) ? foldLines(`${name}: ${asEncodedWords()}`, FOLD_AT) : folded;
}

interface Mailbox {
  name: string;
  address: string;
}

function parseMailboxes(value: string, field: string): Mailbox[] {
  const mailboxes = addressparser(clean(value), { flatten: true });
  if (mailboxes.length === 0) throw new Error(`${field}: no address in ${JSON.stringify(value)}`);
  return mailboxes.map(({ name, address }) => {
    if (!ADDRESS.test(address)) throw new Error(`${field}: not a usable address: ${JSON.stringify(address)}`);
    const at = address.lastIndexOf('@');
    const local = address.slice(0, at);
    const domain = address.slice(at + 1);
    // An IDN domain goes into the header as its A-label unless the local part needs SMTPUTF8 anyway.
    const idn = /[\u0080-\uffff]/.test(domain) && !/[\u0080-\uffff]/.test(local);
    const asciiDomain = idn ? domainToASCII(domain) || domain : domain;
    return { name: clean(name).trim(), address: `${local}@${asciiDomain}` };
  });
}

function oneMailbox(value: string, field: string): Mailbox {
  const mailboxes = parseMailboxes(value, field);
  if (mailboxes.length !== 1) throw new Error(`${field}: expected one address, got ${mailboxes.length}`);
  return mailboxes[0] as Mailbox;
}

/** The bare address of a field that must hold exactly one mailbox (the SMTP envelope's sender). */
export function mailboxAddress(value: string, field = 'from'): string {
  return oneMailbox(value, field).address;
}

/** A display name: plain words as they are, other ASCII quoted, anything else as encoded words. */
function formatMailbox({ name, address }: Mailbox, forceEncodedName: boolean): string {
  if (name === '') return address;
  let phrase: string;
  if (forceEncodedName || /[^\x20-\x7e]/.test(name))
    phrase = encodeWord(name, wordEncoding(name), WORD_LENGTH);
  else if (/^[\w ]*$/.test(name)) phrase = name;
  else phrase = `"${name.replace(/["\\]/g, '\\$&')}"`;
  return `${phrase} <${address}>`;
}

function addressHeader(name: string, mailboxes: Mailbox[]): string {
  const list = (forceEncodedName: boolean) =>
    mailboxes.map((mailbox) => formatMailbox(mailbox, forceEncodedName)).join(', ');
  return header(name, list(false), () => list(true));
}

function textHeader(name: string, value: string): string {
  const cleaned = clean(value);
  return header(name, encodeText(cleaned), () => encodeText(cleaned, true));
}

interface Part {
  contentType: string;
  encoding: '7bit' | 'quoted-printable';
  body: string;
}

/**
 * 7bit when every line is printable ASCII within the line limit, so most notification mail stays
 * readable on the wire; quoted-printable otherwise. No dot-stuffing: nodemailer's SMTP stream does it.
 */
function part(contentType: string, content: string): Part {
  const crlf = content.replace(LINE_BREAKS, '\r\n');
  if (/^[\t\r\n\x20-\x7e]*$/.test(crlf) && !hasLongLine(crlf))
    return { contentType, encoding: '7bit', body: crlf };
  return {
    contentType,
    encoding: 'quoted-printable',
    body: wrapQuotedPrintable(encodeQuotedPrintable(crlf), FOLD_AT),
  };
}

function partHeaders(part: Part): string[] {
  return [`Content-Type: ${part.contentType}; charset=utf-8`, `Content-Transfer-Encoding: ${part.encoding}`];
}

/** The whole message, CRLF line endings, ending with CRLF. Throws on an input it cannot write. */
export function composeMail(input: ComposeMailInput): string {
  if (Number.isNaN(input.date.getTime())) throw new Error('date: not a valid date');
  const lines = [
    addressHeader('From', [oneMailbox(input.from, 'from')]),
    addressHeader('To', parseMailboxes(input.to, 'to')),
  ];
  if (input.replyTo) lines.push(addressHeader('Reply-To', parseMailboxes(input.replyTo, 'replyTo')));
  lines.push(
    textHeader('Subject', input.subject),
    `Message-ID: ${clean(input.messageId)}`,
    `Date: ${input.date.toUTCString().replace('GMT', '+0000')}`,
    'MIME-Version: 1.0',
  );
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    // Thrown rather than dropped: a header the caller relies on vanishing silently is worse than a
    // delivery that fails with the reason.
    if (!FIELD_NAME.test(name))
      throw new Error(`headers: ${JSON.stringify(name)} is not a header field name`);
    if (!isIgnored(name)) lines.push(textHeader(name, value));
  }

  const text = part('text/plain', input.text);
  if (input.html === undefined) return [...lines, ...partHeaders(text), '', text.body, ''].join('\r\n');

  const html = part('text/html', input.html);
  // Only a 7bit part can hold the boundary: quoted-printable never writes `=_`, which the
  // provider's boundaries start with. Another suffix until neither part contains it.
  let boundary = input.boundary;
  for (let n = 1; text.body.includes(boundary) || html.body.includes(boundary); n++)
    boundary = `${input.boundary}_${n}`;
  if (!BOUNDARY.test(boundary))
    throw new Error(`boundary: ${JSON.stringify(boundary)} is not a MIME boundary`);
  return [
    ...lines,
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    ...partHeaders(text),
    '',
    text.body,
    `--${boundary}`,
    ...partHeaders(html),
    '',
    html.body,
    `--${boundary}--`,
    '',
  ].join('\r\n');
}
