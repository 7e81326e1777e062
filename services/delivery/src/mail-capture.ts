import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import { parseMail } from './mime.ts';

/** One message as the dev inbox shows it; plain JSON-able fields. */
export interface CapturedMail {
  id: string;
  /** The SMTP envelope: who the client said it sends for and to. */
  envelope: { from: string | undefined; to: string[] };
  /** The decoded `From`, `To` and `Subject` headers. */
  from: string;
  to: string;
  subject: string;
  text: string | undefined;
  html: string | undefined;
  /** ISO 8601: the `Date` header when it is readable, else when the message arrived. */
  date: string;
  messageId: string | undefined;
  receivedAt: string;
  sizeBytes: number;
}

export interface MailCaptureOptions {
  /** 0 (default): a free port, read it back from `port`. */
  port?: number;
  /** Loopback by default: the capture accepts any sender and credentials, so it must not face a network. */
  host?: string;
  /** Messages kept; the oldest goes first. Default 200. */
  maxMessages?: number;
  /** Larger messages are refused with 552. Default 10 MiB. */
  maxMessageBytes?: number;
  /** When a message arrived; defaults to the wall clock. */
  clock?: () => number;
}

export interface MailCapture {
  readonly host: string;
  readonly port: number;
  /** `smtp://host:port`, ready for `SMTP_URL` or the SMTP provider's `smtpUrl`. */
  readonly url: string;
  /** Newest first. */
  list(): CapturedMail[];
  get(id: string): CapturedMail | undefined;
  clear(): void;
  /** Called for every message from now on (a dev inbox pushes it to the browser); returns the unsubscribe. */
  subscribe(listener: (mail: CapturedMail) => void): () => void;
  /** The next message to arrive that matches, if any `match` is given. */
  next(options?: { match?: (mail: CapturedMail) => boolean; signal?: AbortSignal }): Promise<CapturedMail>;
  close(): Promise<void>;
}

/**
 * The embedded mode's mail server: a real SMTP server (smtp-server) that keeps the last messages in
 * memory instead of relaying them, so a new install shows its mail in the dev inbox with nothing set up.
 */
export async function startMailCapture(options: MailCaptureOptions = {}): Promise<MailCapture> {
  const maxMessages = options.maxMessages ?? 200;
  const maxMessageBytes = options.maxMessageBytes ?? 10 * 1024 * 1024;
  const clock = options.clock ?? Date.now;
  const messages: CapturedMail[] = [];
  const listeners = new Set<(mail: CapturedMail) => void>();

  function keep(raw: Buffer, envelope: CapturedMail['envelope']) {
    const parsed = parseMail(raw);
    const receivedAt = new Date(clock()).toISOString();
    const headerDate = parsed.date ? Date.parse(parsed.date) : Number.NaN;
    const mail: CapturedMail = {
      id: randomUUID(),
      envelope,
      from: parsed.from,
      to: parsed.to,
      subject: parsed.subject,
      text: parsed.text,
      html: parsed.html,
      date: Number.isNaN(headerDate) ? receivedAt : new Date(headerDate).toISOString(),
      messageId: parsed.messageId,
      receivedAt,
      sizeBytes: raw.length,
    };
    messages.unshift(mail);
    messages.length = Math.min(messages.length, maxMessages);
    for (const listener of listeners) listener(mail);
  }

  const server = new SMTPServer({
    authOptional: true,
    // Plain-text AUTH on loopback: a client configured with credentials still gets through.
    allowInsecureAuth: true,
    onAuth: (auth, _session, callback) => callback(null, { user: auth.username ?? 'capture' }),
    disabledCommands: ['STARTTLS'],
    disableReverseLookup: true,
    size: maxMessageBytes,
    logger: false,
    banner: 'Switchyard mail capture',
    onData(stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (stream.sizeExceeded) {
          return callback(Object.assign(new Error('Message exceeds the size limit'), { responseCode: 552 }));
        }
        const mailFrom = session.envelope.mailFrom;
        keep(Buffer.concat(chunks), {
          from: mailFrom ? mailFrom.address : undefined,
          to: session.envelope.rcptTo.map((recipient) => recipient.address),
        });
        callback();
      });
    },
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;

  return {
    host,
    port,
    url: `smtp://${host.includes(':') ? `[${host}]` : host}:${port}`,
    list: () => [...messages],
    get: (id) => messages.find((mail) => mail.id === id),
    clear() {
      messages.length = 0;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    next({ match, signal } = {}) {
      return new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const onAbort = () => {
          listeners.delete(listener);
          reject(signal?.reason);
        };
        const listener = (mail: CapturedMail) => {
          if (match && !match(mail)) return;
          listeners.delete(listener);
          signal?.removeEventListener('abort', onAbort);
          resolve(mail);
        };
        listeners.add(listener);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    close: () => closeSmtpServer(server),
  };
}

/**
 * smtp-server waits up to 30 s for open sessions to end, and a pooled client keeps its sessions open;
 * closing them at once (as the server itself does after that wait) makes shutdown immediate.
 */
export function closeSmtpServer(server: SMTPServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    for (const connection of server.connections) {
      connection.send(421, 'Server shutting down');
      connection.close();
    }
  });
}
