/** The cache keys and lifetimes of DESIGN.md ("Caches and keys"); build keys here, never by hand. */

export const CACHE_TTL_SECONDS = {
  user: 5 * 60,
  userPreferences: 60 * 60,
  template: 60 * 60,
  notificationStatus: 24 * 60 * 60,
  idempotency: 60 * 60,
  rateLimit: 15 * 60,
} as const;

export const cacheKeys = {
  user: (userId: string) => `user:${userId}`,
  userPreferences: (userId: string) => `user:preferences:${userId}`,
  template: (code: string, language: string) => `template:${code}:${language}`,
  notificationStatus: (requestId: string) => `notification:status:${requestId}`,
  /** Set when a request is cancelled; the delivery workers check it before sending queued work. */
  notificationCancelled: (requestId: string) => `notification:cancelled:${requestId}`,
  idempotency: (requestId: string) => `idempotency:${requestId}`,
  /** `subject` is the client IP, or whatever else a limit is kept per. */
  rateLimit: (subject: string) => `rate_limit:${subject}`,
} as const;
