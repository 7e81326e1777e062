import type { ServiceModule } from '@switchyard/contracts';
import { activitySubscription } from './consumers.ts';
import { DEFAULT_EVENT_TYPES } from './domain.ts';
import { registerActivityRoutes } from './http.ts';

export { DEFAULT_EVENT_TYPES } from './domain.ts';

/**
 * User activity events (source system D): ingest at /events/generate, topic user-activity-events keyed by
 * userId, consumer group user-activity-consumer-group, processed events at /events/processed.
 */
export function createActivityService(options: { eventTypes?: readonly string[] } = {}): ServiceModule {
  const eventTypes = options.eventTypes ?? DEFAULT_EVENT_TYPES;
  return {
    name: 'activity',
    migrations: [{ schema: 'activity', directory: new URL('../migrations/', import.meta.url) }],
    routes: (app, deps) => registerActivityRoutes(app, deps, { eventTypes }),
    subscriptions: () => [activitySubscription(eventTypes)],
  };
}
