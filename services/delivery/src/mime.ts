/**
 * Just enough MIME (RFC 2045–2047) to read back what nodemailer writes: headers with encoded words,
 * multipart/alternative and multipart/mixed, quoted-printable and base64 bodies, any charset the
 * platform's TextDecoder knows. Attachments are skipped. It is for the dev inbox, not a general parser.
 */

export interface ParsedMail {
  /** Lower-cased header name → decoded values, in order. */
  headers: Map<string, string[]>;
  subject: string;
  from: string;
  to: string;
  date: string | undefined;
  messageId: string | undefined;
  text: string | undefined;
  html: string | undefined;
}

const MAX_DEPTH = 8;

function decodeCharset(bytes: Uint8Array, charset: string | undefined): string {
  try {
    return new TextDecoder(charset || 'utf-8').decode(bytes);
  } catch {
    // An unknown label: UTF-8 decodes ASCII right and shows the rest as replacement characters.
    return new TextDecoder('utf-8').decode(bytes);
  }
}

function decodeQuotedPrintable(text: string, inHeader: boolean): Buffer {
  const unwrapped = inHeader
    ? text.replace(/_/g, ' ')
    : text.replace(/[ \t]+(?=\r?\n)/g, '').replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let index = 0; index < unwrapped.length; index++) {
    const char = unwrapped.charCodeAt(index);
    const hex = unwrapped.slice(index + 1, index + 3);
    if (char === 0x3d && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      index += 2;
    } else {
      bytes.push(char & 0xff);
    }
  }
  return Buffer.from(bytes);
}

const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;

/**
 * RFC 2047 encoded words. Adjacent words of one charset are joined before decoding, since a writer may
 * split a multi-byte character across two; the white space between encoded words is not text.
 */
export function decodeEncodedWords(value: string): string {
  let out = '';
  let last = 0;
  let pending: { charset: string; bytes: Buffer[] } | undefined;
  const flush = () => {
    if (pending) out += decodeCharset(Buffer.concat(pending.bytes), pending.charset);
    pending = undefined;
  };
  for (const match of value.matchAll(ENCODED_WORD)) {
    const between = value.slice(last, match.index);
    if (!(pending && /^\s*$/.test(between))) {
      flush();
      out += between;
    }
    // RFC 2231 lets a language follow the charset: `utf-8*en`.
    const charset = (match[1] ?? '').split('*')[0]?.toLowerCase() ?? 'utf-8';
    const encoded = match[3] ?? '';
    const bytes =
      match[2]?.toUpperCase() === 'B' ? Buffer.from(encoded, 'base64') : decodeQuotedPrintable(encoded, true);
    if (pending && pending.charset !== charset) flush();
    pending ??= { charset, bytes: [] };
    pending.bytes.push(bytes);
    last = match.index + match[0].length;
  }
  flush();
  return out + value.slice(last);
}

function parseHeaders(block: string): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  // Unfolding (RFC 5322 §2.2.3): a line break followed by white space continues the header.
  for (const line of block.replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = decodeEncodedWords(line.slice(colon + 1).trim());
    headers.set(name, [...(headers.get(name) ?? []), value]);
  }
  return headers;
}

/** `text/plain; charset="utf-8"` → value and lower-cased parameter names. */
function parseHeaderValue(header: string): { value: string; params: Record<string, string> } {
  const parts = header.match(/(?:[^;"]+|"(?:\\.|[^"\\])*")+/g) ?? [''];
  const params: Record<string, string> = {};
  for (const part of parts.slice(1)) {
    const equals = part.indexOf('=');
    if (equals === -1) continue;
    const name = part.slice(0, equals).trim().toLowerCase();
    let value = part.slice(equals + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    params[name] = value;
  }
  return { value: (parts[0] ?? '').trim().toLowerCase(), params };
}

function splitHeadAndBody(raw: Buffer): { head: string; body: Buffer } {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf === -1 && lf === -1) return { head: raw.toString('utf8'), body: Buffer.alloc(0) };
  const [at, length] = crlf !== -1 && (lf === -1 || crlf < lf) ? [crlf, 4] : [lf, 2];
  return { head: raw.subarray(0, at).toString('utf8'), body: raw.subarray(at + length) };
}

function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const delimiter = `--${boundary}`;
  const parts: Buffer[] = [];
  let current: string[] | undefined;
  // latin1 maps bytes to characters one to one, so a part's bytes survive the split unchanged.
  for (const line of body.toString('latin1').split(/\r?\n/)) {
    const trimmed = line.trimEnd();
    if (trimmed === delimiter || trimmed === `${delimiter}--`) {
      if (current) parts.push(Buffer.from(current.join('\r\n'), 'latin1'));
      current = trimmed === delimiter ? [] : undefined;
      if (trimmed !== delimiter) break;
    } else {
      current?.push(line);
    }
  }
  return parts;
}

function decodeBody(body: Buffer, transferEncoding: string): Buffer {
  switch (transferEncoding) {
    case 'base64':
      return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
    case 'quoted-printable':
      return decodeQuotedPrintable(body.toString('latin1'), false);
    default:
      return body;
  }
}

interface Bodies {
  text?: string;
  html?: string;
}

function collectBodies(raw: Buffer, found: Bodies, depth: number): Map<string, string[]> {
  const { head, body } = splitHeadAndBody(raw);
  const headers = parseHeaders(head);
  if (depth > MAX_DEPTH) return headers;
  const contentType = parseHeaderValue(headers.get('content-type')?.[0] ?? 'text/plain');
  const disposition = parseHeaderValue(headers.get('content-disposition')?.[0] ?? '').value;
  if (contentType.value.startsWith('multipart/') && contentType.params.boundary) {
    for (const part of splitMultipart(body, contentType.params.boundary))
      collectBodies(part, found, depth + 1);
    return headers;
  }
  if (disposition === 'attachment') return headers;
  const kind =
    contentType.value === 'text/html' ? 'html' : contentType.value === 'text/plain' ? 'text' : undefined;
  if (kind && found[kind] === undefined) {
    const encoding = (headers.get('content-transfer-encoding')?.[0] ?? '7bit').trim().toLowerCase();
    found[kind] = decodeCharset(decodeBody(body, encoding), contentType.params.charset).replace(
      /\r\n/g,
      '\n',
    );
  }
  return headers;
}

export function parseMail(raw: Buffer): ParsedMail {
  const found: Bodies = {};
  // SMTP DATA ends the last line with CRLF: it terminates the line, it is not body text.
  const end =
    raw.length - (raw.subarray(-2).toString('latin1') === '\r\n' ? 2 : raw.subarray(-1)[0] === 0x0a ? 1 : 0);
  const headers = collectBodies(raw.subarray(0, end), found, 0);
  const first = (name: string) => headers.get(name)?.[0];
  return {
    headers,
    subject: first('subject') ?? '',
    from: first('from') ?? '',
    to: first('to') ?? '',
    date: first('date'),
    messageId: first('message-id'),
    text: found.text,
    html: found.html,
  };
}
