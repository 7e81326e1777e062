/**
 * A real SMTP server (smtp-server) for tests: records what it receives and can be told to fail the way
 * mail servers fail — refuse recipients (550), refuse service (421), or be down (nothing listening on
 * its port) and come back on the same port.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { createRecorder, type Recorded } from './providers.ts';

export interface SinkMessage {
  envelope: { from: string | undefined; to: string[] };
  /** Lower-cased header name → first value, encoded words decoded. */
  headers: Record<string, string>;
  subject: string;
  text: string | undefined;
  html: string | undefined;
  raw: Buffer;
}

export interface SmtpReply {
  code: number;
  message: string;
}

export interface SmtpSink {
  readonly host: string;
  readonly port: number;
  /** `smtp://127.0.0.1:<port>`. */
  readonly url: string;
  messages: Recorded<SinkMessage>;
  /** Recipients matching are refused at RCPT TO; default reply 550 5.1.1. */
  rejectRecipients(match: string | RegExp | ((address: string) => boolean), reply?: SmtpReply): void;
  /** Every new connection is refused with this greeting (421 by default) until called with `null`. */
  refuseConnections(reply?: SmtpReply | null): void;
  /** Stops listening and drops open sessions: clients get "connection refused". */
  down(): Promise<void>;
  /** Listens on the same port again. */
  up(): Promise<void>;
  /**
   * The next message to a matching recipient is read but never answered: the sender waits after DATA,
   * as if the server were slow, and the message is not recorded. `reached` resolves when it arrives, so
   * a test can kill the sender mid-send.
   */
  holdNext(match: (address: string) => boolean): { reached: Promise<void> };
  /** Forgets the messages and the failure settings. */
  reset(): void;
  close(): Promise<void>;
}

const CAPTURE_LIMIT_BYTES = 10 * 1024 * 1024;

export async function startSmtpSink(options: { host?: string } = {}): Promise<SmtpSink> {
  const host = options.host ?? '127.0.0.1';
  const messages = createRecorder<SinkMessage>('mail');
  let rejected: Array<{ test: (address: string) => boolean; reply: SmtpReply }> = [];
  let refusal: SmtpReply | null = null;
  let hold: { match: (address: string) => boolean; reached: () => void } | undefined;

  const smtpError = (reply: SmtpReply) =>
    Object.assign(new Error(reply.message), { responseCode: reply.code });

  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    onAuth: (auth, _session, callback) => callback(null, { user: auth.username ?? 'test' }),
    disabledCommands: ['STARTTLS'],
    disableReverseLookup: true,
    size: CAPTURE_LIMIT_BYTES,
    logger: false,
    onConnect(_session, callback) {
      callback(refusal ? smtpError(refusal) : null);
    },
    onRcptTo(address, _session, callback) {
      const rule = rejected.find((candidate) => candidate.test(address.address));
      callback(rule ? smtpError(rule.reply) : null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (hold && session.envelope.rcptTo.some((recipient) => hold?.match(recipient.address))) {
          hold.reached();
          hold = undefined;
          return;
        }
        const raw = Buffer.concat(chunks);
        const mailFrom = session.envelope.mailFrom;
        messages.push({
          envelope: {
            from: mailFrom ? mailFrom.address : undefined,
            to: session.envelope.rcptTo.map((recipient) => recipient.address),
          },
          ...readMessage(raw),
          raw,
        });
        callback();
      });
    },
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(port, host, () => {
        server.server.off('error', reject);
        resolve();
      });
    });
  /** Closes the listener and every open session at once (the server itself would wait 30 s). */
  const stop = () =>
    new Promise<void>((resolve) => {
      server.server.close(() => resolve());
      for (const connection of server.connections) {
        connection.send(421, 'Server shutting down');
        connection.close();
      }
    });

  await listen(0);
  const port = (server.server.address() as AddressInfo).port;
  let listening = true;

  return {
    host,
    port,
    url: `smtp://${host}:${port}`,
    messages,
    rejectRecipients(match, reply = { code: 550, message: '5.1.1 Mailbox unavailable' }) {
      const test =
        typeof match === 'string'
          ? (address: string) => address.toLowerCase() === match.toLowerCase()
          : match instanceof RegExp
            ? (address: string) => match.test(address)
            : match;
      rejected.push({ test, reply });
    },
    holdNext(match) {
      const { promise, resolve } = Promise.withResolvers<void>();
      hold = { match, reached: resolve };
      return { reached: promise };
    },
    refuseConnections(
      reply = { code: 421, message: '4.3.2 Service not available, closing transmission channel' },
    ) {
      refusal = reply;
    },
    async down() {
      if (!listening) return;
      listening = false;
      await stop();
    },
    async up() {
      if (listening) return;
      await listen(port);
      listening = true;
    },
    reset() {
      messages.clear();
      rejected = [];
      refusal = null;
    },
    async close() {
      if (!listening) return;
      listening = false;
      await stop();
    },
  };
}

// A compact reader for the single-part and multipart/alternative mail nodemailer writes; the delivery
// service has the full one for its dev inbox (packages cannot import services).

function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g, (_all, charset: string, kind: string, text: string) => {
      const bytes =
        kind.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : qpBytes(text.replace(/_/g, ' '));
      return decodeBytes(bytes, charset);
    });
}

function qpBytes(text: string): Buffer {
  return Buffer.from(
    text
      .replace(/=\r?\n/g, '')
      .replace(/=([0-9A-Fa-f]{2})/g, (_all, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
    'latin1',
  );
}

function decodeBytes(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

function headersOf(head: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    // The message was read as latin1 (bytes as characters); a header in raw UTF-8 is read back as such.
    const value = Buffer.from(line.slice(colon + 1).trim(), 'latin1').toString('utf8');
    if (colon > 0 && headers[name] === undefined) headers[name] = decodeWords(value);
  }
  return headers;
}

function split(raw: string): { headers: Record<string, string>; body: string } {
  const at = raw.search(/\r?\n\r?\n/);
  if (at === -1) return { headers: headersOf(raw), body: '' };
  const separator = /\r?\n\r?\n/.exec(raw.slice(at))?.[0].length ?? 2;
  return { headers: headersOf(raw.slice(0, at)), body: raw.slice(at + separator) };
}

function readMessage(raw: Buffer): Pick<SinkMessage, 'headers' | 'subject' | 'text' | 'html'> {
  const found: { text?: string; html?: string } = {};
  const walk = (entity: string, depth: number): Record<string, string> => {
    const { headers, body } = split(entity);
    const type = headers['content-type'] ?? 'text/plain';
    const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
    if (/^multipart\//i.test(type) && boundary && depth < 5) {
      const parts = body.split(
        new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:--)?[ \\t]*\\r?\\n?`),
      );
      for (const part of parts.slice(1, -1)) walk(part, depth + 1);
      return headers;
    }
    const kind = /^text\/html/i.test(type) ? 'html' : /^text\/plain/i.test(type) ? 'text' : undefined;
    if (!kind || found[kind] !== undefined || /^attachment/i.test(headers['content-disposition'] ?? ''))
      return headers;
    const encoding = (headers['content-transfer-encoding'] ?? '').toLowerCase();
    const bytes =
      encoding === 'base64'
        ? Buffer.from(body.replace(/\s+/g, ''), 'base64')
        : encoding === 'quoted-printable'
          ? qpBytes(body)
          : Buffer.from(body, 'latin1');
    found[kind] = decodeBytes(bytes, /charset="?([^";]+)"?/i.exec(type)?.[1]).replace(/\r\n/g, '\n');
    return headers;
  };
  // SMTP DATA ends the last line with CRLF: it terminates the line, it is not body text.
  const headers = walk(raw.toString('latin1').replace(/\r?\n$/, ''), 0);
  return { headers, subject: headers.subject ?? '', text: found.text, html: found.html };
}
