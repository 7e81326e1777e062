import { auditService } from '@switchyard/audit';
import type { ServiceModule } from '@switchyard/contracts';
import { tasksService } from '@switchyard/tasks';

/** Every service this build contains, in start order. */
export const SERVICES = { tasks: tasksService, audit: auditService } satisfies Record<string, ServiceModule>;
export type ServiceName = keyof typeof SERVICES;
export const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];
