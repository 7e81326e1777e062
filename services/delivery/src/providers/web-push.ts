import webpush from 'web-push';
import {
  type ChannelProvider,
  classifyRequestFailure,
  classifyWebPushResponse,
  permanent,
  pushTopicFor,
  type TargetPolicy,
  targetUrlProblem,
} from '../domain.ts';
import { createAgents, headerValue, post } from '../http-client.ts';
import type { PushContent } from './fcm.ts';

/** A browser's `PushSubscription.toJSON()`. */
export interface WebPushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface WebPushMessage extends PushContent {
  subscription: WebPushSubscription;
  /** How long the push service keeps it for an offline browser; default from the options. */
  ttlSeconds?: number;
  urgency?: 'very-low' | 'low' | 'normal' | 'high';
}

export interface VapidDetails {
  /** `mailto:` or `https:` contact for the push service's operator (RFC 8292 §2.1). */
  subject: string;
  /** URL-safe base64, as `web-push generate-vapid-keys` prints them. */
  publicKey: string;
  privateKey: string;
}

export interface WebPushProviderOptions extends TargetPolicy {
  vapid: VapidDetails;
  name?: string;
  /** Default 24 h. */
  ttlSeconds?: number;
  timeoutMs?: number;
  clock?: () => number;
}

export interface WebPushProvider extends ChannelProvider<WebPushMessage> {
  close(): void;
}

/**
 * Web Push with VAPID. The web-push library encrypts the payload (RFC 8291, aes128gcm) and signs the
 * VAPID header (RFC 8292); the request itself goes through our client, because the endpoint is a URL a
 * browser handed us: it is held to the address policy, the deadline and the caller's cancellation.
 * The payload is `{title, body, data}` as JSON for the service worker.
 */
export function createWebPushProvider(options: WebPushProviderOptions): WebPushProvider {
  const { vapid } = options;
  if (!/^(mailto:|https:)/.test(vapid.subject))
    throw new Error('the VAPID subject must be a mailto: or https: URI');
  if (
    Buffer.from(vapid.publicKey, 'base64url').length !== 65 ||
    Buffer.from(vapid.privateKey, 'base64url').length !== 32
  ) {
    throw new Error(
      'the VAPID keys must be a P-256 key pair in URL-safe base64 (65-byte public, 32-byte private)',
    );
  }
  const clock = options.clock ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const ttlSeconds = options.ttlSeconds ?? 86_400;
  const policy: TargetPolicy = {
    allowHttp: options.allowHttp ?? false,
    allowPrivateAddresses: options.allowPrivateAddresses ?? false,
  };
  const agents = createAgents();

  return {
    name: options.name ?? 'webpush',
    channel: 'push',

    async send(message, context) {
      const problem = targetUrlProblem(message.subscription.endpoint, policy);
      if (problem) return permanent('recipient', `push endpoint refused: ${problem}`, { code: 'blocked' });
      const payload = JSON.stringify({
        title: message.title,
        body: message.body,
        ...(message.data ? { data: message.data } : {}),
      });
      let details: ReturnType<typeof webpush.generateRequestDetails>;
      try {
        details = webpush.generateRequestDetails(message.subscription, payload, {
          vapidDetails: vapid,
          TTL: message.ttlSeconds ?? ttlSeconds,
          urgency: message.urgency ?? 'normal',
          topic: pushTopicFor(context.idempotencyKey),
          contentEncoding: 'aes128gcm',
        });
      } catch (error) {
        // The VAPID keys were checked at start, so what is left is the subscription's own keys: they
        // can never be encrypted to, and the subscription is useless.
        const detail = error instanceof Error ? error.message : String(error);
        return permanent('recipient', `subscription keys unusable: ${detail}`, {
          code: 'invalid-subscription',
          tokenUnregistered: true,
        });
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(details.headers)) headers[name] = String(value);
      delete headers['Content-Length'];
      const result = await post({
        url: details.endpoint,
        headers,
        body: details.body ?? Buffer.alloc(0),
        timeoutMs,
        signal: context.signal,
        agents,
        publicAddressesOnly: !policy.allowPrivateAddresses,
      });
      if (!result.ok) return classifyRequestFailure(result.kind, result.detail);
      const { status, headers: answerHeaders } = result.answer;
      return classifyWebPushResponse(
        status,
        headerValue(answerHeaders, 'location'),
        headerValue(answerHeaders, 'retry-after'),
        clock(),
      );
    },

    close() {
      agents.destroy();
    },
  };
}
