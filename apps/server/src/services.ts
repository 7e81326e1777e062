import { createActivityService } from '@switchyard/activity';
import { auditService } from '@switchyard/audit';
import type { ServiceModule } from '@switchyard/contracts';
import { tasksService } from '@switchyard/tasks';

/** Every service this build contains, in start order. */
export const SERVICE_NAMES = ['tasks', 'audit', 'activity'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface ServiceSettings {
  activityEventTypes: string[];
}

/** The service modules, built with the settings the configuration gives them. */
export function serviceModules(settings: ServiceSettings): Record<ServiceName, ServiceModule> {
  return {
    tasks: tasksService,
    audit: auditService,
    activity: createActivityService({ eventTypes: settings.activityEventTypes }),
  };
}
