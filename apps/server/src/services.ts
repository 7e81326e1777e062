import { createActivityService } from '@switchyard/activity';
import { auditService } from '@switchyard/audit';
import { type AuthServiceOptions, createAuthService } from '@switchyard/auth';
import type { ServiceModule } from '@switchyard/contracts';
import { createDeliveryService, type DeliveryServiceOptions } from '@switchyard/delivery';
import { createGatewayService, type GatewayOptions } from '@switchyard/gateway';
import { createNotificationsService } from '@switchyard/notifications';
import { tasksService } from '@switchyard/tasks';
import { templatesService } from '@switchyard/templates';
import { usersService } from '@switchyard/users';

/** Every service this build contains, in start order: the gateway's hooks before anyone's routes. */
export const SERVICE_NAMES = [
  'gateway',
  'users',
  'auth',
  'tasks',
  'audit',
  'activity',
  'templates',
  'notifications',
  'delivery',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/**
 * Identity is part of every process that serves the API: whichever services it runs, requests are
 * authenticated against the users and auth schemas, so both are migrated and their clients built.
 */
export const IDENTITY_SERVICES: readonly ServiceName[] = ['users', 'auth'];

export interface ServiceSettings {
  activityEventTypes: string[];
  auth: AuthServiceOptions;
  gateway: GatewayOptions;
  delivery: DeliveryServiceOptions;
  liveRecheckIntervalMs: number;
}

/** The service modules, built with the settings the configuration gives them. */
export function serviceModules(settings: ServiceSettings): Record<ServiceName, ServiceModule> {
  return {
    gateway: createGatewayService(settings.gateway),
    users: usersService,
    auth: createAuthService(settings.auth),
    tasks: tasksService,
    audit: auditService,
    activity: createActivityService({ eventTypes: settings.activityEventTypes }),
    templates: templatesService,
    notifications: createNotificationsService({
      schedulerIntervalMs: 1000,
      liveRecheckIntervalMs: settings.liveRecheckIntervalMs,
    }),
    delivery: createDeliveryService(settings.delivery),
  };
}
