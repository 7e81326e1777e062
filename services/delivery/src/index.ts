import { type Cache, cacheKeys } from '@switchyard/cache';
import type { DeliveryRequested, ServiceDeps, ServiceModule } from '@switchyard/contracts';
import { type HttpApp, problems } from '@switchyard/kernel';
import Type from 'typebox';
import { permanent, type SendContext } from './domain.ts';
import { type MailCapture, startMailCapture } from './mail-capture.ts';
import { createSmtpEmailProvider, type EmailMessage } from './providers/email-smtp.ts';
import { createFcmProvider, type FcmMessage, type FcmServiceAccount } from './providers/fcm.ts';
import { createTwilioSmsProvider, type SmsMessage } from './providers/twilio-sms.ts';
import {
  createWebPushProvider,
  type VapidDetails,
  type WebPushMessage,
  type WebPushSubscription,
} from './providers/web-push.ts';
import { createWebhookProvider, type WebhookMessage } from './providers/webhook.ts';
import { createResilientChannel, type ResilientChannel, type RoutedOutcome } from './resilience.ts';
import { type ChannelSender, deliverySubscriptions } from './worker.ts';

export { mailboxAddress } from './compose-mail.ts';
export { type MailCapture, startMailCapture } from './mail-capture.ts';
export type { FcmServiceAccount } from './providers/fcm.ts';
export type { VapidDetails } from './providers/web-push.ts';

export interface DeliveryServiceOptions {
  /** SMTP_URL; absent: a built-in SMTP capture on loopback, shown at GET /api/v1/dev/mail. */
  smtpUrl: string | undefined;
  /** SMTP_FALLBACK_URL: used while the primary's breaker is open. */
  smtpFallbackUrl: string | undefined;
  /** SMTP_MAX_CONNECTIONS: the pool of each SMTP server (a send waits for a free connection). */
  smtpMaxConnections: number;
  mailFrom: string;
  fcm: { serviceAccount: FcmServiceAccount; baseUrl: string | undefined } | undefined;
  vapid: VapidDetails | undefined;
  twilio: { accountSid: string; authToken: string; from: string; baseUrl: string | undefined } | undefined;
  /** SWITCHYARD_WEBHOOK_SECRET: signs every webhook (HMAC-SHA256, scheme in the README). */
  webhookSecret: string;
  /** Development and tests: let webhooks and push endpoints reach http:// and private addresses. */
  allowPrivateTargets: boolean;
  /**
   * A capture the process already runs, to show at /api/v1/dev/mail instead of starting one (its owner
   * closes it): when the delivery workers run in another thread, they send to it through SMTP_URL.
   */
  mailCapture?: MailCapture;
}

const unconfigured = (what: string): RoutedOutcome => ({
  ...permanent('configuration', `no ${what} is configured`),
  provider: 'none',
});

interface Senders {
  senders: Partial<Record<'email' | 'push' | 'sms' | 'webhook', ChannelSender>>;
  capture: MailCapture | undefined;
  close(): Promise<void>;
}

async function buildSenders(options: DeliveryServiceOptions, deps: ServiceDeps): Promise<Senders> {
  const clock = () => deps.clock().getTime();
  const common = { clock, metrics: deps.metrics, log: deps.log };
  const closers: (() => void | Promise<void>)[] = [];
  const capture = options.mailCapture ?? (options.smtpUrl ? undefined : await startMailCapture({ port: 0 }));
  if (capture && capture !== options.mailCapture) {
    deps.log.info({ smtp: capture.url }, 'no SMTP_URL: mail is captured and shown at /api/v1/dev/mail');
    closers.push(() => capture.close());
  }
  const smtp = createSmtpEmailProvider({
    smtpUrl: options.smtpUrl ?? capture?.url ?? '',
    from: options.mailFrom,
    maxConnections: options.smtpMaxConnections,
  });
  closers.push(() => smtp.close());
  const smtpFallback = options.smtpFallbackUrl
    ? createSmtpEmailProvider({
        smtpUrl: options.smtpFallbackUrl,
        from: options.mailFrom,
        name: 'smtp-fallback',
        maxConnections: options.smtpMaxConnections,
      })
    : undefined;
  if (smtpFallback) closers.push(() => smtpFallback.close());
  const email: ResilientChannel<EmailMessage> = createResilientChannel({
    ...common,
    primary: smtp,
    ...(smtpFallback ? { fallback: smtpFallback } : {}),
  });

  let fcm: ResilientChannel<FcmMessage> | undefined;
  if (options.fcm) {
    const provider = createFcmProvider({
      serviceAccount: options.fcm.serviceAccount,
      ...(options.fcm.baseUrl ? { baseUrl: options.fcm.baseUrl } : {}),
    });
    closers.push(() => provider.close());
    fcm = createResilientChannel({ ...common, primary: provider });
  }
  let webPush: ResilientChannel<WebPushMessage> | undefined;
  if (options.vapid) {
    const provider = createWebPushProvider({
      vapid: options.vapid,
      allowHttp: options.allowPrivateTargets,
      allowPrivateAddresses: options.allowPrivateTargets,
    });
    closers.push(() => provider.close());
    webPush = createResilientChannel({ ...common, primary: provider });
  }
  let sms: ResilientChannel<SmsMessage> | undefined;
  if (options.twilio) {
    const provider = createTwilioSmsProvider({
      accountSid: options.twilio.accountSid,
      authToken: options.twilio.authToken,
      from: options.twilio.from,
      ...(options.twilio.baseUrl ? { baseUrl: options.twilio.baseUrl } : {}),
    });
    closers.push(() => provider.close());
    sms = createResilientChannel({ ...common, primary: provider });
  }
  const webhookProvider = createWebhookProvider({
    allowHttp: options.allowPrivateTargets,
    allowPrivateAddresses: options.allowPrivateTargets,
  });
  closers.push(() => webhookProvider.close());
  const webhook: ResilientChannel<WebhookMessage> = createResilientChannel({
    ...common,
    primary: webhookProvider,
    // One receiver that is down must not stop the others.
    breakerTarget: (provider, message) => `${provider.name}:${new URL(message.url).host}`,
  });

  const senders: Senders['senders'] = {
    email: (delivery: DeliveryRequested, context: SendContext) =>
      email.send(
        {
          to: delivery.address,
          subject: delivery.message.subject ?? '',
          text: delivery.message.text,
          ...(delivery.message.html ? { html: delivery.message.html } : {}),
        },
        context,
      ),
    push: async (delivery, context) => {
      const content = {
        title: delivery.message.subject ?? '',
        body: delivery.message.text,
        data: delivery.message.data,
      };
      const subscription = webPushSubscriptionOf(delivery.address);
      if (subscription) {
        return webPush
          ? webPush.send({ ...content, subscription }, context)
          : unconfigured('Web Push (VAPID) key');
      }
      return fcm
        ? fcm.send({ ...content, token: delivery.address }, context)
        : unconfigured('FCM service account');
    },
    sms: async (delivery, context) =>
      sms
        ? sms.send({ to: delivery.address, body: delivery.message.text }, context)
        : unconfigured('SMS provider'),
    webhook: (delivery, context) =>
      webhook.send(
        {
          url: delivery.address,
          secret: options.webhookSecret,
          event: 'notification',
          payload: {
            delivery_id: delivery.delivery_id,
            request_id: delivery.request_id,
            category: delivery.category,
            subject: delivery.message.subject,
            text: delivery.message.text,
            html: delivery.message.html,
            data: delivery.message.data,
          },
        },
        context,
      ),
  };
  return {
    senders,
    capture,
    async close() {
      for (const close of closers) await close();
    },
  };
}

/** A push address is an FCM token, or a Web Push subscription as JSON (`{"endpoint":…,"keys":…}`). */
function webPushSubscriptionOf(address: string): WebPushSubscription | undefined {
  if (!address.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(address) as Partial<WebPushSubscription>;
    return typeof parsed.endpoint === 'string' && parsed.keys ? (parsed as WebPushSubscription) : undefined;
  } catch {
    return undefined;
  }
}

function isCancelled(cache: Cache) {
  return async (requestId: string) =>
    (await cache.get<boolean>(cacheKeys.notificationCancelled(requestId)).catch(() => undefined)) === true;
}

const OptionalText = Type.Union([Type.String(), Type.Null()]);
/** One captured message (`CapturedMail`); absent parts are null. */
const CapturedMailView = Type.Object({
  id: Type.String(),
  envelope: Type.Object({ from: OptionalText, to: Type.Array(Type.String()) }),
  from: Type.String(),
  to: Type.String(),
  subject: Type.String(),
  text: OptionalText,
  html: OptionalText,
  date: Type.String({ description: 'The Date header when readable, else when the message arrived' }),
  messageId: OptionalText,
  receivedAt: Type.String(),
  sizeBytes: Type.Integer(),
});

function registerDevMailRoutes(app: HttpApp, capture: () => Promise<MailCapture | undefined>): void {
  app.get(
    '/api/v1/dev/mail',
    {
      schema: {
        tags: ['delivery'],
        summary:
          'Mail the built-in SMTP capture received (embedded mode, when SMTP_URL is not set), newest first',
        querystring: Type.Object(
          {
            to: Type.Optional(Type.String({ maxLength: 254 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(CapturedMailView) },
      },
      config: { permission: 'dev-mail:read' },
    },
    async (request) => {
      const mailbox = await capture();
      if (!mailbox) throw problems.notFound('mail capture', '(SMTP_URL is set, so mail goes to that server)');
      const to = request.query.to?.toLowerCase();
      return mailbox
        .list()
        .filter((mail) => !to || mail.envelope.to.some((recipient) => recipient.toLowerCase() === to))
        .slice(0, request.query.limit ?? 50)
        .map((mail) => ({
          ...mail,
          envelope: { from: mail.envelope.from ?? null, to: mail.envelope.to },
          text: mail.text ?? null,
          html: mail.html ?? null,
          messageId: mail.messageId ?? null,
        }));
    },
  );
}

/**
 * Email sends at once within a batch, per pooled SMTP connection. A connection takes one message at a
 * time, so more would only wait in nodemailer's queue; fewer would leave connections idle while a send
 * waits on a round trip. At 500 mails/s, 4 per connection over 64 connections drained a backlog at
 * 1,100-1,500 mails/s where 32 connections drained it at 900-1,200 (docs/BENCHMARKS.md, stop 15).
 */
const SENDS_PER_SMTP_CONNECTION = 4;

/**
 * Delivery: one worker group per channel taking `notification.delivery.requested` work, sending through
 * the channel's providers (breakers, fallback), and reporting each attempt back on `notifications`.
 */
export function createDeliveryService(options: DeliveryServiceOptions): ServiceModule {
  let built: Promise<Senders> | undefined;
  const senders = (deps: ServiceDeps) => {
    built ??= buildSenders(options, deps);
    return built;
  };

  return {
    name: 'delivery',
    migrations: [{ schema: 'delivery', directory: new URL('../migrations/', import.meta.url) }],
    routes(app, deps) {
      registerDevMailRoutes(app, async () => (await senders(deps)).capture);
    },
    subscriptions(deps) {
      const ready = senders(deps);
      const lazy =
        (channel: 'email' | 'push' | 'sms' | 'webhook'): ChannelSender =>
        async (delivery, context) => {
          const sender = (await ready).senders[channel];
          return sender ? sender(delivery, context) : unconfigured(`${channel} provider`);
        };
      return deliverySubscriptions(
        {
          deps,
          senders: { email: lazy('email'), push: lazy('push'), sms: lazy('sms'), webhook: lazy('webhook') },
          isCancelled: isCancelled(deps.cache),
          sendsAtOnce: { email: options.smtpMaxConnections * SENDS_PER_SMTP_CONNECTION },
        },
        ['email', 'push', 'sms', 'webhook'],
      );
    },
    async start(deps) {
      await senders(deps);
    },
    async close() {
      await (await built)?.close();
    },
  };
}
