import {
  type ChannelProvider,
  classifyRequestFailure,
  classifyTwilioResponse,
  isE164,
  permanent,
} from '../domain.ts';
import { createAgents, headerValue, post } from '../http-client.ts';

export interface SmsMessage {
  /** E.164, `+4915112345678`. */
  to: string;
  body: string;
}

/** The SMS port: any HTTP SMS gateway implements it; Twilio's Messages API is the one shipped. */
export interface SmsProvider extends ChannelProvider<SmsMessage> {
  close(): void;
}

export interface TwilioSmsProviderOptions {
  accountSid: string;
  authToken: string;
  /** A sender number (E.164) or alphanumeric id; or instead a messaging service. */
  from?: string;
  messagingServiceSid?: string;
  /** Default `https://api.twilio.com`; Twilio-compatible gateways (and tests) use their own. */
  baseUrl?: string;
  /** Twilio posts delivery status changes here. */
  statusCallbackUrl?: string;
  name?: string;
  timeoutMs?: number;
  clock?: () => number;
}

/**
 * SMS through Twilio's Messages API: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded
 * `To`, `From` (or `MessagingServiceSid`) and `Body`, HTTP Basic auth with the account SID and auth token.
 * A number that is not E.164 is refused before any request. Twilio has no idempotency key for sends, so a
 * send that timed out after Twilio took it can go out twice on retry; the deadline is kept generous.
 */
export function createTwilioSmsProvider(options: TwilioSmsProviderOptions): SmsProvider {
  if (!options.accountSid || !options.authToken)
    throw new Error('Twilio needs an account SID and an auth token');
  if (!options.from && !options.messagingServiceSid) {
    throw new Error('Twilio needs a From number or a messaging service SID');
  }
  const clock = options.clock ?? Date.now;
  const url = new URL(
    `/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`,
    options.baseUrl ?? 'https://api.twilio.com',
  );
  const authorization = `Basic ${Buffer.from(`${options.accountSid}:${options.authToken}`).toString('base64')}`;
  const agents = createAgents();

  return {
    name: options.name ?? 'twilio',
    channel: 'sms',

    async send(message, context) {
      if (!isE164(message.to)) {
        return permanent('recipient', `${JSON.stringify(message.to)} is not an E.164 phone number`, {
          code: 'invalid-number',
        });
      }
      if (message.body.trim() === '') return permanent('content', 'an SMS needs a body');
      const form = new URLSearchParams({ To: message.to, Body: message.body });
      if (options.messagingServiceSid) form.set('MessagingServiceSid', options.messagingServiceSid);
      else if (options.from) form.set('From', options.from);
      if (options.statusCallbackUrl) form.set('StatusCallback', options.statusCallbackUrl);
      const result = await post({
        url,
        headers: {
          authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: form.toString(),
        timeoutMs: options.timeoutMs ?? 15_000,
        signal: context.signal,
        agents,
      });
      if (!result.ok) return classifyRequestFailure(result.kind, result.detail);
      const { status, body, headers } = result.answer;
      return classifyTwilioResponse(status, body, headerValue(headers, 'retry-after'), clock());
    },

    close() {
      agents.destroy();
    },
  };
}
