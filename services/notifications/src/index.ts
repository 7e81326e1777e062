import type { ServiceDeps, ServiceModule } from '@switchyard/contracts';
import { notificationSubscriptions } from './consumers.ts';
import { registerNotificationRoutes } from './http.ts';
import { createLiveInbox, type LiveInbox } from './live.ts';
import { startScheduler } from './scheduler.ts';
import { attachInboxSockets } from './socket.ts';

export interface NotificationsServiceOptions {
  /** How often scheduled requests and quiet-hours holds are looked at. */
  schedulerIntervalMs: number;
  /** How often an open live connection's (SSE or Socket.IO) credentials are checked again. */
  liveRecheckIntervalMs: number;
}

/**
 * Notifications: the send API (stored before the 202, idempotent), status per recipient and channel,
 * cancellation, dispatch by preferences and quiet hours, and the in-app inbox with live updates.
 */
export function createNotificationsService(options: NotificationsServiceOptions): ServiceModule {
  const lives = new WeakMap<object, LiveInbox>();
  const liveFor = (deps: ServiceDeps) => {
    let live = lives.get(deps.cache);
    if (!live) {
      live = createLiveInbox({ cache: deps.cache, metrics: deps.metrics, log: deps.log });
      lives.set(deps.cache, live);
    }
    return live;
  };
  const stops: (() => Promise<void>)[] = [];

  return {
    name: 'notifications',
    migrations: [{ schema: 'notifications', directory: new URL('../migrations/', import.meta.url) }],
    routes: (app, deps) => registerNotificationRoutes(app, deps, liveFor(deps)),
    subscriptions: (deps) => notificationSubscriptions(deps, liveFor(deps)),
    async start(deps, context) {
      const scheduler = startScheduler(deps, options.schedulerIntervalMs);
      const live = liveFor(deps);
      live.recheck(context.authenticate, options.liveRecheckIntervalMs);
      const sockets = attachInboxSockets({
        server: context.server,
        authenticate: context.authenticate,
        live,
        log: deps.log,
      });
      stops.push(scheduler.stop, sockets.close, async () => live.close());
    },
    async close() {
      for (const stop of stops.splice(0)) await stop();
    },
  };
}
