import {
  type ChannelProvider,
  classifyRequestFailure,
  classifyWebhookResponse,
  permanent,
  signWebhook,
  type TargetPolicy,
  targetUrlProblem,
  WEBHOOK_DELIVERY_HEADER,
  WEBHOOK_EVENT_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
} from '../domain.ts';
import { createAgents, headerValue, post } from '../http-client.ts';

export interface WebhookMessage {
  url: string;
  /** The endpoint's signing secret; two during a rotation (each gets its own `v1`). */
  secret: string | readonly string[];
  /** `x-switchyard-event`, e.g. `notification.created`. */
  event: string;
  /** Sent as JSON, exactly the bytes that were signed. */
  payload: unknown;
}

export interface WebhookProviderOptions extends TargetPolicy {
  name?: string;
  timeoutMs?: number;
  /** Milliseconds; the signature's timestamp and Retry-After dates. */
  clock?: () => number;
  userAgent?: string;
}

export interface WebhookProvider extends ChannelProvider<WebhookMessage> {
  close(): void;
}

/**
 * Signed HTTPS POSTs to user-configured endpoints (scheme in the README). The URL is checked before the
 * request and every address its host resolves to when connecting, so an endpoint cannot reach our own
 * network; redirects are not followed.
 */
export function createWebhookProvider(options: WebhookProviderOptions = {}): WebhookProvider {
  const clock = options.clock ?? Date.now;
  const policy: TargetPolicy = {
    allowHttp: options.allowHttp ?? false,
    allowPrivateAddresses: options.allowPrivateAddresses ?? false,
  };
  const agents = createAgents();

  return {
    name: options.name ?? 'webhook',
    channel: 'webhook',

    async send(message, context) {
      const problem = targetUrlProblem(message.url, policy);
      if (problem) return permanent('recipient', `webhook URL refused: ${problem}`, { code: 'blocked' });
      const rawBody = JSON.stringify(message.payload ?? null);
      let signature: string;
      try {
        signature = signWebhook(message.secret, Math.floor(clock() / 1000), rawBody);
      } catch (error) {
        return permanent('configuration', error instanceof Error ? error.message : String(error));
      }
      const result = await post({
        url: message.url,
        headers: {
          'content-type': 'application/json',
          'user-agent': options.userAgent ?? 'Switchyard-Webhooks/1',
          [WEBHOOK_SIGNATURE_HEADER]: signature,
          [WEBHOOK_EVENT_HEADER]: message.event,
          [WEBHOOK_DELIVERY_HEADER]: context.idempotencyKey,
        },
        body: rawBody,
        timeoutMs: options.timeoutMs ?? 10_000,
        signal: context.signal,
        agents,
        publicAddressesOnly: !policy.allowPrivateAddresses,
        maxResponseBytes: 4096,
      });
      if (!result.ok) return classifyRequestFailure(result.kind, result.detail);
      const { status, headers } = result.answer;
      return classifyWebhookResponse(
        status,
        headerValue(headers, 'retry-after'),
        clock(),
        context.idempotencyKey,
      );
    },

    close() {
      agents.destroy();
    },
  };
}
