import Type, { type Static } from 'typebox';

export const CHANNELS = ['email', 'push', 'sms', 'in_app', 'webhook'] as const;
export type Channel = (typeof CHANNELS)[number];
export const ChannelSchema = Type.Enum(CHANNELS);

export const PRIORITIES = ['low', 'normal', 'high', 'critical'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Topic of notification work and outcomes (source A's name). */
export const NOTIFICATIONS_TOPIC = 'notifications';

/** A delivery's state: pending → sent → delivered, or failed, skipped (with a reason) or cancelled. */
export const DELIVERY_STATUSES = ['pending', 'sent', 'delivered', 'failed', 'skipped', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** What one delivery sends, rendered for its recipient; it travels in the work event. */
export const RenderedMessageSchema = Type.Object(
  {
    subject: Type.Union([Type.String(), Type.Null()]),
    text: Type.String(),
    html: Type.Union([Type.String(), Type.Null()]),
    data: Type.Record(Type.String(), Type.String()),
  },
  { additionalProperties: false },
);
export type RenderedMessage = Static<typeof RenderedMessageSchema>;

export const NotificationRequestedSchema = Type.Object({ request_id: Type.String() });

export const DeliveryRequestedSchema = Type.Object({
  delivery_id: Type.String({ format: 'uuid' }),
  request_id: Type.String(),
  channel: ChannelSchema,
  user_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  /** Email address, E.164 number, push token (or Web Push subscription JSON) or webhook URL. */
  address: Type.String({ minLength: 1 }),
  message: RenderedMessageSchema,
  category: Type.Union([Type.String(), Type.Null()]),
  priority: Type.Enum(PRIORITIES),
});
export type DeliveryRequested = Static<typeof DeliveryRequestedSchema>;

export const DELIVERY_OUTCOMES = ['sent', 'delivered', 'retrying', 'failed', 'cancelled'] as const;
export type DeliveryOutcomeKind = (typeof DELIVERY_OUTCOMES)[number];

export const DeliveryAttemptedSchema = Type.Object({
  delivery_id: Type.String({ format: 'uuid' }),
  request_id: Type.String(),
  channel: ChannelSchema,
  attempt: Type.Integer({ minimum: 1 }),
  provider: Type.String(),
  outcome: Type.Enum(DELIVERY_OUTCOMES),
  error: Type.Union([Type.String(), Type.Null()]),
  provider_message_id: Type.Union([Type.String(), Type.Null()]),
  at: Type.String({ format: 'date-time' }),
});
export type DeliveryAttempted = Static<typeof DeliveryAttemptedSchema>;

/**
 * Notification events on `notifications`: a request accepted, the work for one delivery, and what
 * happened when it was tried. Keyed by request id (requested) or delivery id (work and outcomes).
 */
export const NotificationEventCatalog = {
  'notification.requested': NotificationRequestedSchema,
  'notification.delivery.requested': DeliveryRequestedSchema,
  'notification.delivery.attempted': DeliveryAttemptedSchema,
};
export type NotificationEventType = keyof typeof NotificationEventCatalog;
