import { randomUUID } from 'node:crypto';
import nodemailer, { type NodemailerError } from 'nodemailer';
import { composeMail, mailboxAddress } from '../compose-mail.ts';
import {
  type ChannelProvider,
  classifySmtpError,
  type DeliveryOutcome,
  htmlToText,
  messageIdFor,
  permanent,
  sent,
} from '../domain.ts';

export interface EmailMessage {
  /** One recipient: a notification goes to one user, so a refusal is that user's. */
  to: string;
  subject: string;
  html?: string;
  /** Derived from `html` when absent. */
  text?: string;
  /** Overrides the provider's default sender. */
  from?: string;
  replyTo?: string;
  headers?: Record<string, string>;
}

export interface SmtpEmailProviderOptions {
  /** `smtp://user:pass@host:587`, `smtps://host:465`; the same form as the `SMTP_URL` setting. */
  smtpUrl: string;
  /** Default sender, `"Switchyard" <noreply@example.com>`; also the Message-ID's domain. */
  from: string;
  name?: string;
  /** Open connections at once; nodemailer's default is 5. */
  maxConnections?: number;
  /** Messages per connection before it is replaced. */
  maxMessagesPerConnection?: number;
  /** Waits for the TCP connection, for the greeting, and for each reply. */
  connectionTimeoutMs?: number;
  greetingTimeoutMs?: number;
  socketTimeoutMs?: number;
  /**
   * Times the pool itself re-sends a message whose connection closed under it. One covers a pooled
   * connection the server dropped while idle; anything longer is the bus runner's retry schedule.
   */
  maxRequeues?: number;
}

export interface SmtpEmailProvider extends ChannelProvider<EmailMessage> {
  /** Closes the pooled connections (shutdown). */
  close(): void;
}

/**
 * Email over SMTP through a pooled nodemailer transport: HTML and text parts, and a Message-ID derived
 * from the idempotency key so a re-send after a crash carries the same id. The message is composed here
 * (`composeMail`) and handed over as `raw` with its envelope: nodemailer's own composer cost about as
 * much CPU per mail as all the rest of sending it.
 */
export function createSmtpEmailProvider(options: SmtpEmailProviderOptions): SmtpEmailProvider {
  // Parsed once: an unusable default sender is a configuration error, better found at start-up.
  const defaultSender = mailboxAddress(options.from);
  const transport = nodemailer.createTransport({
    url: options.smtpUrl,
    pool: true,
    maxConnections: options.maxConnections ?? 5,
    maxMessages: options.maxMessagesPerConnection ?? 100,
    maxRequeues: options.maxRequeues ?? 1,
    connectionTimeout: options.connectionTimeoutMs ?? 10_000,
    greetingTimeout: options.greetingTimeoutMs ?? 10_000,
    socketTimeout: options.socketTimeoutMs ?? 30_000,
  });

  return {
    name: options.name ?? 'smtp',
    channel: 'email',

    async send(message, context): Promise<DeliveryOutcome> {
      if (!message.html && message.text === undefined) {
        return permanent('content', 'an email needs an html or a text body');
      }
      const from = message.from ?? options.from;
      const messageId = messageIdFor(context.idempotencyKey, from);
      let raw: string;
      let sender: string;
      try {
        sender = message.from === undefined ? defaultSender : mailboxAddress(message.from);
        raw = composeMail({
          from,
          to: message.to,
          subject: message.subject,
          text: message.text ?? htmlToText(message.html ?? ''),
          ...(message.html ? { html: message.html } : {}),
          ...(message.replyTo ? { replyTo: message.replyTo } : {}),
          ...(message.headers ? { headers: message.headers } : {}),
          messageId,
          date: new Date(),
          // QP output never contains `=_`, so only a 7bit part could hold the boundary.
          boundary: `=_sy_${randomUUID()}`,
        });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        return permanent('content', `message not composable: ${reason}`);
      }
      try {
        const info = await transport.sendMail({
          envelope: { from: sender, to: [message.to] },
          raw,
          // Not written (the raw message has its own); given so nodemailer does not make one up.
          messageId,
          ...(context.signal ? { signal: context.signal } : {}),
        });
        // With `raw`, nodemailer's info.messageId is not the one in the message: ours is.
        return sent(messageId, `SMTP server accepted: ${info.response}`);
      } catch (error) {
        const failure = error as NodemailerError;
        return classifySmtpError({
          message: failure.message ?? String(error),
          ...(typeof failure.code === 'string' ? { code: failure.code } : {}),
          ...(typeof failure.responseCode === 'number' ? { responseCode: failure.responseCode } : {}),
          ...(failure.command ? { command: failure.command } : {}),
          ...(failure.response ? { response: failure.response } : {}),
        });
      }
    },

    close() {
      transport.close();
    },
  };
}
